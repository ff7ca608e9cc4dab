"""How long the parser takes on the files that once made it slow, at the 1 MiB limit.

``python bench/parser_worst_case_times.py [--runs 5]`` parses each of tests/parser_worst_cases.py's
files at the limit ``--runs`` times in this process and records the CPU time of the parsing
thread (median and spread), against a bare decode and split into lines of the same bytes in
the same run (the reading every parse needs), as a ratio. The tests check the same files by
counting work, not timing it (tests/test_parser_properties.py); this is where their time is
seen. Saved to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from benchlib import run_main, short_commit, write_results  # noqa: E402
from parser_worst_cases import WORST_CASES  # noqa: E402

from feedsvc.articles.parser import MAX_ARTICLE_BYTES, parse_article  # noqa: E402
from feedsvc.errors import ContentError  # noqa: E402
from feedsvc.settings import DEFAULT_DISCLAIMER  # noqa: E402

ZONE = ZoneInfo("Europe/Amsterdam")


def parse(data: bytes) -> None:
    with contextlib.suppress(ContentError):
        parse_article(data, "2025/worst.txt", zone=ZONE, disclaimer=DEFAULT_DISCLAIMER)


def read_and_split(data: bytes) -> None:
    data.decode("utf-8", "replace").splitlines()


def cpu_seconds(work: Callable[[bytes], None], data: bytes) -> float:
    started = time.thread_time()
    work(data)
    return time.thread_time() - started


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cases: dict[str, object] = {}
    for name, make in WORST_CASES.items():
        data = make(MAX_ARTICLE_BYTES)
        parsed: list[float] = []
        bare: list[float] = []
        for _ in range(args.runs):  # alternating, so a busy moment hits both
            parsed.append(cpu_seconds(parse, data))
            bare.append(cpu_seconds(read_and_split, data))
        ratios = [p / max(b, 1e-6) for p, b in zip(parsed, bare, strict=True)]
        cases[name] = {
            "bytes": len(data),
            "parse_cpu_s": spread(parsed),
            "read_split_cpu_s": spread(bare),
            "ratio": spread(ratios),
        }
        print(
            f"{name:24} parse {statistics.median(parsed) * 1000:8.1f} ms CPU"
            f"  {statistics.median(ratios):7.1f}x read+split",
            flush=True,
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = REPO / "bench" / "results" / f"parser-worst-cases-{short_commit()}-{stamp}.json"
    write_results(path, {"commit": short_commit(), "runs": args.runs, "cases": cases})
    return 0


if __name__ == "__main__":
    run_main(main)

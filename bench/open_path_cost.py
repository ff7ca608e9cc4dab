"""What the kernel's part of nginx serving a file costs through the export's symbolic link
(``public -> generations/N``), against a plain folder: the system calls nginx makes for every
request of a static file (open, fstat, close), timed in CPU time.

``python bench/open_path_cost.py [--rounds 7] [--opens 200000]`` makes, in one temporary folder,
the export's layout (``export/public -> generations/1``, then ``feeds/all.rss``) and a plain copy
(``plain/feeds/all.rss``), and opens, stats and closes each path ``--opens`` times per round,
alternating, the order reversed every other round. Python's own cost per call is the same for
both paths; the difference is the path walk. Prints medians and saves the runs to
bench/results/ as JSON. Instruction counts (valgrind) cannot see this: it is the kernel's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import run_main, short_commit, write_results

REPO = Path(__file__).resolve().parent.parent


def cpu_ns_per_open(path: str, opens: int) -> float:
    """CPU time (user and system) per open, fstat and close of ``path``, as nginx does them."""
    flags = os.O_RDONLY | os.O_NONBLOCK
    start = time.process_time_ns()
    for _ in range(opens):
        fd = os.open(path, flags)
        os.fstat(fd)
        os.close(fd)
    return (time.process_time_ns() - start) / opens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--opens", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="open-path-") as tmp_name:
        tmp = Path(tmp_name)
        generation = tmp / "export" / "generations" / "1" / "feeds"
        generation.mkdir(parents=True)
        (generation / "all.rss").write_bytes(b"x" * 4096)
        (tmp / "export" / "public").symlink_to("generations/1")
        (tmp / "plain" / "feeds").mkdir(parents=True)
        (tmp / "plain" / "feeds" / "all.rss").write_bytes(b"x" * 4096)
        paths = {
            "export_link": str(tmp / "export" / "public" / "feeds" / "all.rss"),
            "export_resolved": str(generation / "all.rss"),
            "plain": str(tmp / "plain" / "feeds" / "all.rss"),
        }
        runs: dict[str, list[float]] = {name: [] for name in paths}
        for path in paths.values():  # warm-up: the dentries cached
            cpu_ns_per_open(path, 1000)
        for round_ in range(args.rounds):
            order = list(paths) if round_ % 2 == 0 else list(reversed(paths))
            for name in order:
                runs[name].append(cpu_ns_per_open(paths[name], args.opens))
            print(
                f"round {round_ + 1}: "
                + ", ".join(f"{name} {runs[name][-1]:.0f} ns" for name in paths),
                flush=True,
            )
    extra = {
        name: [v - p for v, p in zip(values, runs["plain"], strict=True)]
        for name, values in runs.items()
        if name != "plain"
    }
    over_plain = {name: statistics.median(v) for name, v in extra.items()}
    summary = {
        "median_ns": {name: statistics.median(values) for name, values in runs.items()},
        "over_plain_ns_median": over_plain,
        "over_plain_ns_range": {name: [min(v), max(v)] for name, v in extra.items()},
    }
    for name, value in over_plain.items():
        print(f"{name}: {value:+.0f} ns per open over plain (median)")
    commit = short_commit()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"open-path-cost-{commit}-{stamp}.json"
    write_results(
        out,
        {
            "commit": commit,
            "rounds": args.rounds,
            "opens_per_round": args.opens,
            "load": os.getloadavg(),
            "cpu_ns_per_open": runs,
            "summary": summary,
        },
    )
    return 0


if __name__ == "__main__":
    run_main(main)

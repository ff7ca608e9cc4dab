"""Profile the parser over a corpus: where parsing spends its time, and how often dateutil runs.

Prints a summary and saves it (JSON) under ``bench/results/``; it is not a test. Reads every
article file of the full-variety corpus (``bench/corpus.py``) into memory first, then runs
``parse_article`` over all of them once under cProfile, so the figures are about parsing, not
reading. With ``--load``, profiles a whole load instead: the app built over the corpus as
``wsgi.py`` builds it (every file read and parsed, the catalog built) and its first
``/feeds/all.rss`` answered, as ``bench/load_bench.py`` times it (with an empty state
folder). cProfile adds its own cost to every call, so its times are for comparing functions
with one another; the call counts are exact.

Usage::

    .venv/bin/python bench/profile_parser.py [-n 10000] [--top 25] [--load] [--json FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]
import corpus  # noqa: E402
from benchlib import first_feed  # noqa: E402

# Functions whose call counts say how the header is read, whichever version of the parser runs.
WATCHED = (
    "parse_article",
    "parse_dutch_datetime",
    "is_date_line",
    "read_title",
    "_classify",
    "parse_common",  # the header read by one match
    "_parse",  # dateutil's parser: a date it had to read
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--load", action="store_true", help="profile a whole load (see above)")
    args = parser.parse_args()

    from feedsvc.articles.parser import parse_article  # noqa: PLC0415
    from feedsvc.settings import DEFAULT_DISCLAIMER, Settings  # noqa: PLC0415

    folder = Path(tempfile.gettempdir()) / f"feedsvc-corpus-{args.n}-v{corpus.FORMAT_VERSION}"
    paths = corpus.generate(folder, args.n, 1)
    files = [(path.relative_to(folder).as_posix(), path.read_bytes()) for path in paths]
    zone = Settings(content_dir=folder).timezone

    def parse_all() -> None:
        for relpath, data in files:
            parse_article(data, relpath, zone=zone, disclaimer=DEFAULT_DISCLAIMER)

    def load_all() -> None:
        first_feed(folder)

    profile = cProfile.Profile()
    if args.load:
        import feedsvc.web.routes  # noqa: F401, PLC0415 - imported before, as load_bench does

        # A first start, as load_bench times it: a state folder of its own, empty.
        with tempfile.TemporaryDirectory(prefix="feedsvc-profile-state-") as state:
            os.environ["XDG_STATE_HOME"] = state
            profile.runcall(load_all)
    else:
        profile.runcall(parse_all)
    stats = pstats.Stats(profile)
    rows: list[dict[str, Any]] = []
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, line, function), (_, calls, tottime, cumtime, _) in entries:
        rows.append(
            {
                "function": f"{Path(filename).name}:{line}({function})",
                "name": function,
                "calls": calls,
                "tottime_s": round(tottime, 4),
                "cumtime_s": round(cumtime, 4),
            }
        )
    rows.sort(key=lambda row: -row["cumtime_s"])
    watched = {
        name: {
            "calls": sum(r["calls"] for r in rows if r["name"] == name),
            "cumtime_s": round(sum(r["cumtime_s"] for r in rows if r["name"] == name), 4),
        }
        for name in WATCHED
    }
    total = max(row["cumtime_s"] for row in rows if row["name"] in ("parse_all", "load_all"))
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    results = {
        "benchmark": "profile_parser",
        "commit": os.environ.get("BENCH_COMMIT", commit),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "articles": len(files),
        "profiled": "a whole load (--load)" if args.load else "parse_article",
        "profiled_total_s": total,
        "watched": watched,
        "top": rows[: args.top],
    }
    what = "loaded (a whole load)" if args.load else "parsed"
    print(f"{len(files)} files {what} under cProfile in {total:.2f} s")
    for name, figures in watched.items():
        print(f"  {name:>22}: {figures['calls']:>7} calls, {figures['cumtime_s']:.3f} s")
    for row in rows[: args.top]:
        print(
            f"  {row['cumtime_s']:8.3f} {row['tottime_s']:8.3f} {row['calls']:>8} {row['function']}"
        )
    out = args.json or (
        REPO
        / "bench"
        / "results"
        / f"profile-{'load' if args.load else 'parser'}-{args.n}-{results['commit'][:10]}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"raw results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

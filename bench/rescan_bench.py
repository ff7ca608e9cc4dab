"""What the watcher's periodic rescan costs, per top folder and whole, against a bare walk.

``python bench/rescan_bench.py [-n 100000] [--runs 3]`` loads a corpus of ``-n`` articles
(bench/corpus.py, kept under /tmp) as the service does, then times the rescans the watcher
makes when no event came (``ContentWatcher``: one folder below the root each turn, the whole
content folder every ``FULL_RESCAN_ROUNDS`` rounds), each through ``Runtime.refresh`` as the
watcher calls it, with nothing changed on disk. The baseline, measured alternately in the same
process, is the least a rescan must do: list the same folders and ``stat`` every file
(``os.scandir`` and ``DirEntry.stat``). It prints medians with their range and the ratio
rescan/walk, and saves the runs to bench/results/ as JSON. An edit saved while a rescan runs
waits for it when the watching thread makes it, which is why its time matters. Also timed:
the walk the watcher now makes instead, in a thread of its own (``ContentStore.stale``: which
files changed, without the lock), which an edit does not wait for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import corpus
from benchlib import REPO, run_main, short_commit, write_results

from feedsvc import create_app
from feedsvc.articles.watcher import rescan_parts, rescan_scope
from feedsvc.runtime import Runtime

T = TypeVar("T")


def bare_walk(folder: str) -> int:
    """List ``folder`` and below, ``stat`` every file; the number of files."""
    count = 0
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    entry.stat(follow_symlinks=False)
                    count += 1
    return count


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """What ``work()`` returns, and its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / f"feedsvc-corpus-{args.n}-v{corpus.FORMAT_VERSION}"
    if len(corpus.generate(folder, args.n)) != args.n:  # made once, then reused
        raise SystemExit(f"{folder} does not hold {args.n} articles")
    root = str(folder)
    app = create_app({"CONTENT_DIR": root, "WATCH": False, "LOG_LEVEL": "WARNING"})
    runtime: Runtime = app.extensions["feedsvc"]
    parts = rescan_parts(root)
    turns = {"folder": 0, "whole": len(parts) * 10}  # FULL_RESCAN_ROUNDS rounds of folders
    scopes = {"folder": rescan_scope(parts, turns["folder"]), "whole": None}
    walked = {"folder": parts[0], "whole": root}
    if not parts or scopes["whole"] is not None or rescan_scope(parts, turns["whole"]) is not None:
        raise SystemExit("expected a corpus with top folders and a whole rescan at that turn")
    runtime.refresh(None)  # warm: the page cache and the store as after a first rescan
    results: dict[str, dict[str, list[float]]] = {}
    for kind in ("folder", "whole"):
        runs = results[kind] = {
            "rescan_s": [],
            "rescan_cpu_s": [],
            "stale_s": [],
            "stale_cpu_s": [],
            "walk_s": [],
            "walk_cpu_s": [],
        }
        scope, top = scopes[kind], walked[kind]
        for run in range(args.runs):
            changed, wall, cpu = timed(lambda: runtime.refresh(scope))  # noqa: B023
            if changed:
                raise SystemExit(f"a rescan with nothing changed changed {len(changed)} feeds")
            runs["rescan_s"].append(wall)
            runs["rescan_cpu_s"].append(cpu)
            stale, wall, cpu = timed(lambda: runtime.content.store.stale(scope))  # noqa: B023
            if stale != frozenset():
                raise SystemExit(f"stale names {stale!r} with nothing changed")
            runs["stale_s"].append(wall)
            runs["stale_cpu_s"].append(cpu)
            _, wall, cpu = timed(lambda: bare_walk(top))  # noqa: B023
            runs["walk_s"].append(wall)
            runs["walk_cpu_s"].append(cpu)
            print(
                f"{kind} run {run + 1}: rescan {runs['rescan_s'][-1]:.3f} s "
                f"({runs['rescan_cpu_s'][-1]:.3f} s CPU), stale {runs['stale_s'][-1]:.3f} s, "
                f"bare walk {wall:.3f} s ({cpu:.3f} s CPU)"
            )
    files = {kind: bare_walk(path) for kind, path in walked.items()}
    report: dict[str, object] = {
        "benchmark": "rescan",
        "commit": short_commit(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "articles": args.n,
        "corpus": root,
        "top_folders": len(parts),
        "load_average": os.getloadavg(),
        "kinds": {},
    }
    print()
    for kind, runs in results.items():
        ratios = [r / w for r, w in zip(runs["rescan_s"], runs["walk_s"], strict=True)]
        stale_ratios = [r / w for r, w in zip(runs["stale_s"], runs["walk_s"], strict=True)]
        report["kinds"][kind] = {  # type: ignore[index]
            "files": files[kind],
            "runs": runs,
            **{name: summary(values) for name, values in runs.items()},
            "rescan_over_walk": summary(ratios),
            "stale_over_walk": summary(stale_ratios),
        }
        rescan, walk = summary(runs["rescan_s"]), summary(runs["walk_s"])
        walked_stale = summary(runs["stale_s"])
        print(
            f"{kind} ({files[kind]:,} files): rescan {rescan['median']:.3f} s "
            f"[{rescan['min']:.3f}-{rescan['max']:.3f}], stale {walked_stale['median']:.3f} s "
            f"[{walked_stale['min']:.3f}-{walked_stale['max']:.3f}], "
            f"bare walk {walk['median']:.3f} s; "
            f"rescan/walk {statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}], "
            f"stale/walk {statistics.median(stale_ratios):.2f}x"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"rescan-{args.n}-{report['commit']}-{stamp}.json"
    write_results(out, report)
    return 0


if __name__ == "__main__":
    run_main(main)

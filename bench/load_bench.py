"""Load benchmark: time to ready-to-serve against a bare read + split of the same files.

Prints figures and saves raw results; it is not a test. For each size (10,000 and 100,000
articles of the full-variety corpus, ``bench/corpus.py``), fresh processes alternate, ``--runs``
times each:

- **baseline**: read every article file (walking the folder as the store does), decode it and
  split it into lines and paragraphs; the least any loader does;
- **ready**: build the app as ``wsgi.py`` does (``create_app``: every file read and parsed, the
  catalog built, the publication made) and answer the first ``/feeds/all.rss``, whose first page
  is rendered on that request. Imports are timed apart: they do not grow with the content. A
  first start: the child's state folder is new and empty (see :func:`run_child`).

Each run pair gives a ratio (ready / baseline), of wall-clock time (the target's measure) and of
CPU time (which other work on a shared machine disturbs less); the median and the range of the
ratios, and of the times, are printed and saved, with the load average before each run. A
first load of many files shares them out with a forked child (``feedsvc/articles/store.py``,
``_Sharing``): the CPU time of ready is the process's and its children's, both also saved
apart, and the child's peak RSS is saved beside the process's. With
``--compare REV`` (such as ``main``), each run also times ready to serve with the committed tree
of REV (extracted under /tmp), right after this checkout's, so both ratios come from the same
runs. Peak memory is ``ru_maxrss`` of each child process. Corpora are generated once under
/tmp (``feedsvc-corpus-N-v<format version>``) and reused, and the page cache is warmed before
each child (:func:`benchlib.warm_page_cache`), so every child reads from memory.

Target (issue 13): ready ≤ 2.5x the baseline at 10,000 and at 100,000 articles; peak memory
≤ 600 MB at 100,000.

Usage::

    .venv/bin/python bench/load_bench.py [--sizes 10000,100000] [--runs 3] [--compare REV]
                                         [--json FILE]

The default run takes about two minutes on 2 cores; results go to
``bench/results/load-<date>-<commit>.json`` unless ``--json`` names another file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]
import corpus  # noqa: E402
from benchlib import (  # noqa: E402
    BenchError,
    child_result,
    extract_revision,
    first_feed,
    run_main,
    short_commit,
    warm_page_cache,
    write_results,
)

SEED = 1
TARGET_RATIO = 2.5
TARGET_RSS_MB = 600.0
RESULTS = REPO / "bench" / "results"


# -- the child processes: one measurement each ------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_baseline(folder: Path) -> dict[str, float]:
    """Read every article file, decode it, split it into lines and paragraphs."""
    started = time.perf_counter()
    cpu = time.process_time()
    files = lines = paragraphs = 0
    for directory, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".txt"):
                with open(os.path.join(directory, name), "rb") as handle:
                    text = handle.read().decode("utf-8-sig", errors="replace")
                files += 1
                lines += len(text.splitlines())
                paragraphs += len(text.split("\n\n"))
    seconds = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_s": cpu_s,
        "rss_mb": peak_rss_mb(),
        "files": files,
        "lines": lines,
    }


def child_ready(folder: Path) -> dict[str, float]:
    """Build the app as wsgi.py does and answer the first request for the all-feed."""
    app, timings = first_feed(folder)
    health = app.test_client().get("/healthz").get_json()
    return {
        **timings,
        "rss_mb": peak_rss_mb(),
        "articles": health["articles"],
        "rejected": len(health["rejected"]),
    }


def run_child(kind: str, folder: Path, tree: Path | None = None) -> dict[str, Any]:
    """One measurement in a fresh process; ``tree``: with the feedsvc of that extracted tree.

    Each starts as a first start: with a state folder of its own, empty (``XDG_STATE_HOME``,
    under which the service keeps it by default, set for the child whichever tree it runs).
    Otherwise what every earlier program run over the same corpus recorded there (an export of
    10,000 articles records some 80,000 pages) would be read at start, and timed.
    """
    script = __file__ if tree is None else str(tree / "bench" / "load_bench.py")
    before = os.environ.get("XDG_STATE_HOME")
    with tempfile.TemporaryDirectory(prefix="feedsvc-load-state-") as state:
        os.environ["XDG_STATE_HOME"] = state
        try:
            return child_result(script, kind, folder)
        finally:
            if before is None:
                del os.environ["XDG_STATE_HOME"]
            else:
                os.environ["XDG_STATE_HOME"] = before


# -- the measurement ----------------------------------------------------------------------------


def corpus_folder(size: int) -> Path:
    folder = Path(tempfile.gettempdir()) / f"feedsvc-corpus-{size}-v{corpus.FORMAT_VERSION}"
    paths = corpus.generate(folder, size, SEED)
    if len(paths) != size:
        raise BenchError(f"{folder} holds {len(paths)} articles, not {size}")
    return folder


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(size: int, runs: int, compare: Path | None = None) -> dict[str, Any]:
    folder = corpus_folder(size)
    pairs = []
    for number in range(1, runs + 1):
        # Alternating, so that other work on the machine falls on both alike.
        load_average = " ".join(f"{x:.1f}" for x in os.getloadavg())
        warm_page_cache(folder)
        base = run_child("baseline", folder)
        warm_page_cache(folder)
        ready = run_child("ready", folder)
        if ready["articles"] != size or ready["rejected"]:
            raise BenchError(f"{size} files gave {ready['articles']} articles: {ready}")
        ratio = ready["seconds"] / base["seconds"]
        cpu_ratio = ready["cpu_s"] / base["cpu_s"]
        pair: dict[str, Any] = {
            "load_average": load_average,
            "baseline": base,
            "ready": ready,
            "ratio": ratio,
            "cpu_ratio": cpu_ratio,
        }
        print(
            f"  {size:>7} articles, run {number}: ready {ready['seconds']:6.2f} s "
            f"(build {ready['build_s']:.2f}, first request {ready['first_request_s']:.2f}; "
            f"CPU {ready['cpu_s']:.2f} s, of it children "
            f"{ready.get('children_cpu_s', 0.0):.2f} s), "
            f"baseline {base['seconds']:.2f} s -> {ratio:.2f}x (CPU time {cpu_ratio:.2f}x); "
            f"peak RSS {ready['rss_mb']:.0f} MB (children {ready.get('children_rss_mb', 0):.0f}) "
            f"(baseline {base['rss_mb']:.0f} MB); load average {load_average}",
            flush=True,
        )
        if compare is not None:
            warm_page_cache(folder)
            other = run_child("ready", folder, compare)
            pair["compared"] = other
            pair["compared_ratio"] = other["seconds"] / base["seconds"]
            pair["compared_cpu_ratio"] = other["cpu_s"] / base["cpu_s"]
            print(
                f"  {size:>7} articles, run {number}, compared revision: ready "
                f"{other['seconds']:6.2f} s -> {pair['compared_ratio']:.2f}x "
                f"(CPU time {pair['compared_cpu_ratio']:.2f}x); peak RSS {other['rss_mb']:.0f} MB",
                flush=True,
            )
        pairs.append(pair)
    compared = (
        {
            "compared_ratio": spread([p["compared_ratio"] for p in pairs]),
            "compared_cpu_ratio": spread([p["compared_cpu_ratio"] for p in pairs]),
            "compared_ready_s": spread([p["compared"]["seconds"] for p in pairs]),
            "compared_rss_mb": spread([p["compared"]["rss_mb"] for p in pairs]),
        }
        if compare is not None
        else {}
    )
    return {
        **compared,
        "articles": size,
        "corpus": str(folder),
        "runs": pairs,
        "ratio": spread([p["ratio"] for p in pairs]),
        "cpu_ratio": spread([p["cpu_ratio"] for p in pairs]),
        "ready_s": spread([p["ready"]["seconds"] for p in pairs]),
        "baseline_s": spread([p["baseline"]["seconds"] for p in pairs]),
        "rss_mb": spread([p["ready"]["rss_mb"] for p in pairs]),
    }


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "feedsvc"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return done.stdout.strip() + ("+uncommitted changes in feedsvc/" if dirty else "")


def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        kind, folder = sys.argv[2], Path(sys.argv[3])
        result = child_baseline(folder) if kind == "baseline" else child_ready(folder)
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--compare", metavar="REV", help="also time this revision (see above)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "benchmark": "load",
        "commit": git_commit(),
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "targets": {"ratio": TARGET_RATIO, "rss_mb_at_100000": TARGET_RSS_MB},
        "sizes": [],
    }
    print(f"== ready to serve vs bare read + split ({args.runs} alternating runs per size)")
    with tempfile.TemporaryDirectory(prefix="feedsvc-load-compare-") as scratch:
        tree = None
        if args.compare:
            tree = Path(scratch) / "tree"
            extract_revision(args.compare, tree)
            results["compared"] = {"revision": args.compare, "commit": short_commit(args.compare)}
        rows = [measure(int(size), args.runs, tree) for size in args.sizes.split(",")]
    results["sizes"] = rows
    results["machine"]["load_average_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        "\n| articles | ready (median, range) | baseline | ratio (median, range) "
        "| CPU-time ratio | peak RSS |"
    )
    print("| ---: | --- | --- | --- | --- | --- |")
    for row in rows:
        ratio, ready, base, rss = (row[k] for k in ("ratio", "ready_s", "baseline_s", "rss_mb"))
        ok = ratio["median"] <= TARGET_RATIO
        print(
            f"| {row['articles']:,} | {ready['median']:.2f} s "
            f"[{ready['min']:.2f}–{ready['max']:.2f}]"
            f" | {base['median']:.2f} s | {ratio['median']:.2f}x "
            f"[{ratio['min']:.2f}–{ratio['max']:.2f}] {'met' if ok else 'NOT MET'} | "
            f"{row['cpu_ratio']['median']:.2f}x [{row['cpu_ratio']['min']:.2f}–"
            f"{row['cpu_ratio']['max']:.2f}] | "
            f"{rss['max']:.0f} MB |"
        )
        if args.compare:
            cr, ccpu = row["compared_ratio"], row["compared_cpu_ratio"]
            print(
                f"| {row['articles']:,} ({args.compare}) | "
                f"{row['compared_ready_s']['median']:.2f} s | | {cr['median']:.2f}x "
                f"[{cr['min']:.2f}–{cr['max']:.2f}] | {ccpu['median']:.2f}x "
                f"[{ccpu['min']:.2f}–{ccpu['max']:.2f}] | {row['compared_rss_mb']['max']:.0f} MB |"
            )
    out = args.json or RESULTS / f"load-{started:%Y%m%d-%H%M}-{str(results['commit'])[:10]}.json"
    write_results(out, results)
    return 0


if __name__ == "__main__":
    run_main(main)

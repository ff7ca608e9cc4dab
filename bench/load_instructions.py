"""Load benchmark in instructions: what loading costs per article, counted by callgrind.

Prints figures and saves raw results; it is not a test. On a machine shared with other work,
CPU times of the same load vary by a third between runs (see ``bench/load_bench.py``); the
instructions a process executes do not. Each child of ``bench/load_bench.py`` (``ready``: the
app built and the first ``/feeds/all.rss`` answered, imports included; ``baseline``: the bare
read + split) runs under ``valgrind --tool=callgrind`` over the full-variety corpus of
``--size`` articles and over a corpus of one article; the difference, divided by the
articles between them, is the cost of one more article, without what every start costs
(imports, the first request). With ``--compare REV`` the ready child of REV's committed tree
runs too.

callgrind counts user-space instructions only: the system calls that open and read each file
(much of the baseline's time) are not in them, nor is waiting for memory. The ratio here is
therefore not the target's ratio; it compares code, run against run, exactly.

Usage::

    .venv/bin/python bench/load_instructions.py [--size 2000] [--compare main] [--json FILE]

About two minutes per child on 2 cores (six children with --compare, two at a time).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]
import corpus  # noqa: E402
from benchlib import (  # noqa: E402
    BenchError,
    extract_revision,
    run_main,
    short_commit,
    write_results,
)

SEED = 1
RESULTS = REPO / "bench" / "results"
_COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(tree: Path, kind: str, folder: Path) -> int:
    """The instructions of ``tree``'s ``load_bench.py --child kind folder`` under callgrind,
    with an empty state folder of its own (a first start, as load_bench runs it)."""
    with tempfile.TemporaryDirectory(prefix="feedsvc-instr-") as scratch:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={scratch}/callgrind.out.%p",
                # A forked child starts with its parent's counts: counted from its fork on.
                "--zero-before=PyOS_AfterFork_Child",
                sys.executable,
                str(tree / "bench" / "load_bench.py"),
                "--child",
                kind,
                str(folder),
            ],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
            env={**os.environ, "XDG_STATE_HOME": scratch},
        )
    # A first load of many files forks a child that reads part of them (valgrind follows a
    # fork): each process reports its own count (the child's from the fork on), and the load
    # costs their sum.
    found = _COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise BenchError(f"callgrind of {kind} in {tree} failed:\n{done.stderr[-3000:]}")
    return sum(int(count) for count in found)


def compile_tree(tree: Path) -> None:
    """Import ``tree``'s app once, so that its modules are compiled before anything is counted
    (a child that compiles them would count that too, and the other size not)."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path[:0] = ['.', 'bench']; import benchlib, feedsvc.web.routes",
        ],
        cwd=tree,
        check=True,
    )


def corpus_folder(size: int) -> Path:
    folder = Path(tempfile.gettempdir()) / f"feedsvc-corpus-{size}-v{corpus.FORMAT_VERSION}"
    paths = corpus.generate(folder, size, SEED)
    if len(paths) != size:
        raise BenchError(f"{folder} holds {len(paths)} articles, not {size}")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--compare", metavar="REV", help="also count this revision's load")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise BenchError("valgrind is not installed (Debian package valgrind)")
    started = datetime.now(UTC)
    commit = short_commit("HEAD")
    big, small = corpus_folder(args.size), corpus_folder(1)
    with tempfile.TemporaryDirectory(prefix="feedsvc-instr-compare-") as scratch:
        trees = {"this": REPO}
        if args.compare:
            trees[args.compare] = Path(scratch) / "tree"
            extract_revision(args.compare, trees[args.compare])
        for tree in trees.values():
            compile_tree(tree)
        jobs = [("baseline", "baseline", REPO)] + [(name, "ready", t) for name, t in trees.items()]
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = {
                (name, folder): pool.submit(instructions, tree, kind, folder)
                for name, kind, tree in jobs
                for folder in (big, small)
            }
            done = {key: future.result() for key, future in counts.items()}
    per_article = {
        name: (done[(name, big)] - done[(name, small)]) / (args.size - 1) for name, _, _ in jobs
    }
    base = per_article["baseline"]
    rows: dict[str, Any] = {
        name: {
            "instructions": done[(name, big)],
            "instructions_one_article": done[(name, small)],
            "per_article": round(value),
            "ratio_to_baseline": None if name == "baseline" else round(value / base, 3),
        }
        for name, value in per_article.items()
    }
    if args.compare:
        rows["this"]["ratio_to_compared"] = round(
            per_article["this"] / per_article[args.compare], 3
        )
    results = {
        "benchmark": "load_instructions",
        "commit": commit,
        "compared": {"revision": args.compare, "commit": short_commit(args.compare)}
        if args.compare
        else None,
        "date": started.isoformat(timespec="seconds"),
        "articles": args.size,
        "measure": "callgrind Ir (user space), per article: (N articles - 1 article) / (N - 1)",
        "children": rows,
    }
    for name, row in rows.items():
        ratio = row["ratio_to_baseline"]
        shown = "" if ratio is None else f", {ratio:.2f}x the baseline's"
        print(f"  {name:>10}: {row['per_article']:>9,} instructions per article{shown}")
    if args.compare:
        print(f"  this / {args.compare}: {rows['this']['ratio_to_compared']:.3f}")
    out = args.json or RESULTS / f"load-instructions-{args.size}-{commit}.json"
    write_results(out, results)
    return 0


if __name__ == "__main__":
    run_main(main)

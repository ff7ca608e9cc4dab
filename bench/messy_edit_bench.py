"""An edit's reload in a folder with a problem of a name somewhere, against the same folder
without one, in this tree and a baseline.

``python bench/messy_edit_bench.py [-n 100000] [--edits 10] [--rounds 3] [--baseline REV]``
makes a hard-link copy of a corpus of ``-n`` articles (bench/corpus.py, made once under the
temporary folder and reused), loads it in one process per tree, and times ``Runtime.refresh``
of one edited file (saved by rename, named as the watcher names it) over ``--edits`` edits,
in rounds that alternate between the folder as it is ("clean") and the folder with one
symbolic link to an article file in it ("messy", a problem the store reports and keeps). Real
folders have such a link or a badly named file somewhere; before the store kept those
problems across reloads of single files, each edit then rescanned the whole folder.

Prints, per tree, the median reload of each kind and messy/clean; saves the runs to
bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from benchlib import REPO, extract_revision, run_driver, run_main, short_commit, write_results

# Run in the tree under test (PYTHONPATH), so both trees run the same driver.
DRIVER = r"""
import json, os, sys, time
from pathlib import Path
from feedsvc import create_app

content, edits, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
app = create_app({"CONTENT_DIR": str(content), "WATCH": False, "LOG_LEVEL": "WARNING"})
runtime = app.extensions["feedsvc"]
years = sorted(p for p in content.iterdir() if p.is_dir() and not p.name.startswith("."))
files = sorted(str(path) for path in years[-1].glob("*.txt"))  # edited
link = years[0] / "zz-koppeling.txt"  # the problem, in another folder
times = {"clean": [], "messy": []}
problems = {}
turn = 0
for round_ in range(rounds):
    for kind in ("clean", "messy"):
        if kind == "messy":
            link.symlink_to(files[0])
        runtime.refresh(None)  # the folder as it now is, its problems found
        problems[kind] = len(runtime.catalog.problems)
        for _ in range(edits):
            path = files[1 + turn % (len(files) - 1)]
            turn += 1
            text = Path(path).read_text("utf-8").replace("\n\n", f"\n\nBewerkt {turn}.\n\n", 1)
            temporary = f"{path}.tmp"
            Path(temporary).write_text(text, "utf-8")
            os.replace(temporary, path)  # a new file: the corpus it was linked from keeps its own
            started = time.perf_counter()
            runtime.refresh([path])
            times[kind].append(time.perf_counter() - started)
        if kind == "messy":
            link.unlink()
print(json.dumps({"times": times, "problems": problems}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default="HEAD~1", help="git revision to compare with")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / f"feedsvc-corpus-{args.n}-v{corpus.FORMAT_VERSION}"
    if len(corpus.generate(folder, args.n)) != args.n:  # made once, then reused
        raise SystemExit(f"{folder} does not hold {args.n} articles")
    base_commit = short_commit(args.baseline)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="messy-edit-") as tmp:
        baseline = Path(tmp) / "baseline"
        extract_revision(args.baseline, baseline)
        for name, tree in (("baseline", baseline), ("branch", REPO)):
            content = Path(tmp) / f"content-{name}"
            # Hard links: the edits replace files by rename, so the corpus keeps its own.
            subprocess.run(["cp", "-al", str(folder), str(content)], check=True)
            run = run_driver(tree, DRIVER, str(content), str(args.edits), str(args.rounds))
            times = run["times"]
            medians = {kind: statistics.median(values) for kind, values in times.items()}
            results[name] = {
                "times_s": times,
                "problems": run["problems"],
                "median_s": medians,
                "spread_s": {kind: [min(v), max(v)] for kind, v in times.items()},
                "messy_over_clean": medians["messy"] / medians["clean"],
            }
            print(
                f"{name}: clean median {medians['clean']:.4f} s, messy median "
                f"{medians['messy']:.4f} s [{min(times['messy']):.4f}-{max(times['messy']):.4f}]"
                f": {medians['messy'] / medians['clean']:.2f}x"
            )
    commit = short_commit()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    write_results(
        REPO / "bench" / "results" / f"messy-edit-{args.n}-{commit}-{stamp}.json",
        {
            "benchmark": "messy-edit",
            "commit": commit,
            "baseline": base_commit,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "articles": args.n,
            "edits_per_round": args.edits,
            "rounds": args.rounds,
            "machine": platform.processor() or platform.machine(),
            "load_average": os.getloadavg(),
            "trees": results,
        },
    )
    return 0


if __name__ == "__main__":
    run_main(main)

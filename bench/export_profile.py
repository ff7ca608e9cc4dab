"""Where a first export's CPU time goes, per kind of page, in this tree and a baseline.

``python bench/export_profile.py [-n 2000] [--baseline main] [--runs 2] [--corpus DIR]``
exports a corpus of ``-n`` articles (bench/corpus.py) in one process (no pool, so that each
page's rendering is timed where it runs) with this tree and the baseline's (``git archive``),
alternating, and records the CPU time (``process_time``) each route's pages took to render
(the requests, the rendering, the compressed siblings), the files and bytes they made, and the
whole export's CPU time. Saved to bench/results/ as JSON; CPU time, since the machine is
shared and wall time says more about the other sessions than about the export.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import corpus_and_trees, run_driver, run_main, short_commit, write_results

REPO = Path(__file__).resolve().parent.parent

# Run in the tree under test (PYTHONPATH), so both trees run the same driver.
DRIVER = r"""
import json, sys, time
from collections import defaultdict
from pathlib import Path
import feedsvc.deploy.export as export
from feedsvc import create_app

content, out = Path(sys.argv[1]), Path(sys.argv[2])
app = create_app({"CONTENT_DIR": str(content), "WATCH": False, "LOG_LEVEL": "WARNING"})
export.POOL_MIN_PAGES = 10**9  # every page in this process
exporter = export.SiteExporter(app, out)
kinds = defaultdict(lambda: {"pages": 0, "cpu_s": 0.0, "files": 0, "bytes": 0})
render = exporter._render
def timed(page):
    started = time.process_time()
    rendered = render(page)
    kind = kinds[rendered.endpoint]
    kind["cpu_s"] += time.process_time() - started
    kind["pages"] += 1
    kind["files"] += len(rendered.files)
    kind["bytes"] += sum(map(len, rendered.files.values()))
    return rendered
exporter._render = timed
started = time.process_time()
report = exporter.export()
print(json.dumps({"export_cpu_s": time.process_time() - started, "pages": report.pages,
                  "files": report.written, "kinds": kinds}))
"""


def run_once(tree: Path, content: Path, out: Path) -> dict[str, object]:
    shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()[0]
    try:
        result: dict[str, object] = run_driver(tree, DRIVER, str(content), str(out))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    result["load_1m_before"] = load
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--corpus", type=Path, help="where the corpus is written and kept")
    args = parser.parse_args()
    commit, base_commit = short_commit(), short_commit(args.baseline)
    with tempfile.TemporaryDirectory(prefix="export-profile-") as tmp_name:
        tmp = Path(tmp_name)
        content, trees = corpus_and_trees(tmp, args.corpus, args.n, base_commit)
        runs: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
        for number in range(args.runs):
            for name, tree in trees.items():
                result = run_once(tree, content, tmp / "out")
                runs[name].append(result)
                print(f"run {number + 1} {name}: {result['export_cpu_s']:.1f} s CPU", flush=True)
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, results in runs.items():
        for endpoint in results[0]["kinds"]:  # type: ignore[attr-defined]
            per = [r["kinds"][endpoint] for r in results]  # type: ignore[index]
            table.setdefault(endpoint, {})[name] = {
                "pages": per[0]["pages"],
                "files_per_page": per[0]["files"] / per[0]["pages"],
                "kb_per_page": per[0]["bytes"] / per[0]["pages"] / 1000,
                "cpu_ms_per_page": statistics.median(k["cpu_s"] * 1000 / k["pages"] for k in per),
            }
    for endpoint, sides in sorted(table.items(), key=lambda item: -item[1]["branch"]["pages"]):
        shown = ", ".join(
            f"{name} {side['cpu_ms_per_page']:.2f} ms ({side['files_per_page']:.0f} files)"
            for name, side in sides.items()
        )
        print(f"{endpoint:28} {sides['branch']['pages']:6.0f} pages: {shown}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"export-profile-{args.n}-{commit}-{stamp}.json"
    write_results(
        out,
        {
            "commit": commit,
            "baseline": base_commit,
            "articles": args.n,
            "runs": runs,
            "per_route_median": table,
        },
    )
    return 0


if __name__ == "__main__":
    run_main(main)

"""Instructions a renderer spends on feed pages, in this tree and a baseline: a load-proof count.

``python bench/feed_pages_instructions.py [-n 2000] [--pages 240] [--baseline main] [--corpus DIR]``
loads a corpus of ``-n`` articles (bench/corpus.py) and, in one process set up as the export's
renderers are (``_start_renderer``), renders the first ``--pages`` feed pages in the order the
export deals them (each with its compressed siblings), under valgrind's cachegrind
(instructions only, no cache simulation); and once more loading the same corpus and rendering
none. The difference is what those pages cost, counted in instructions, which other processes on
the machine do not change (CPU time on this shared machine varied by a fifth from run to run).
For this tree and the baseline's (``git archive``); saved to bench/results/ as JSON.

Instructions are not time: libdeflate and brotli do more per instruction (SIMD) than Python's
interpreter does; bench/feed_pages_bench.py measures CPU time.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    BenchError,
    corpus_and_trees,
    find_tool,
    run_main,
    short_commit,
    write_results,
)

REPO = Path(__file__).resolve().parent.parent

# Run in the tree under test (PYTHONPATH), so both trees run the same driver.
DRIVER = r"""
import sys
from pathlib import Path
import feedsvc.deploy.export as export
from feedsvc import create_app
from feedsvc.deploy.sitemap import endpoint_of, site_pages

content, out, wanted = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
# Loaded in this process alone: cachegrind counts only it, and a first load shares its files
# with a forked child only while the machine has a core free, so the loading counted would
# change with the load. A baseline without sharing takes the attribute and ignores it.
import feedsvc.articles.store as store
store.SHARE_AFTER = sys.maxsize
app = create_app({"CONTENT_DIR": str(content), "WATCH": False, "LOG_LEVEL": "WARNING"})
exporter = export.SiteExporter(app, out)
pages = [
    page for page in site_pages(app)
    if page.status == 200 and endpoint_of(app, page.path) == export.FEED_ENDPOINT
]
pages = exporter._render_order(pages)[0]
dealer = export._Dealer(len(pages), list(range(len(pages))), 2, export._POOL_CHUNK)
export._WORK = (exporter, pages, dealer)
export._start_renderer([])
rendered = 0
while rendered < wanted and (indexes := dealer.take(export._SLOT)):
    for index in indexes[: wanted - rendered]:
        exporter._render(pages[index])
        rendered += 1
print(rendered)
"""
_REFS = re.compile(r"I\s+refs:\s+([0-9,]+)")


def instructions(tree: Path, content: Path, out: Path, pages: int) -> tuple[int, int]:
    """(instructions, pages rendered) of one run of the driver in ``tree`` under cachegrind."""
    valgrind = find_tool("valgrind", "valgrind")
    done = subprocess.run(
        [
            valgrind,
            "--tool=cachegrind",
            "--cache-sim=no",
            f"--cachegrind-out-file={out}.cachegrind",
            sys.executable,
            "-c",
            DRIVER,
            str(content),
            str(out),
            str(pages),
        ],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise BenchError(f"the driver in {tree} failed:\n{done.stderr[-3000:]}")
    return int(found.group(1).replace(",", "")), int(done.stdout.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=240)
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--corpus", type=Path, help="where the corpus is written and kept")
    args = parser.parse_args()
    commit, base_commit = short_commit(), short_commit(args.baseline)
    results: dict[str, dict[str, int | float]] = {}
    with tempfile.TemporaryDirectory(prefix="feed-instructions-") as tmp_name:
        tmp = Path(tmp_name)
        content, trees = corpus_and_trees(tmp, args.corpus, args.n, base_commit)
        for name, tree in trees.items():
            loading, _ = instructions(tree, content, tmp / f"{name}-none", 0)
            total, rendered = instructions(tree, content, tmp / f"{name}-pages", args.pages)
            results[name] = {
                "pages": rendered,
                "loading_instructions": loading,
                "instructions": total,
                "page_instructions": (total - loading) / rendered,
            }
            print(
                f"{name}: {rendered} feed pages, {(total - loading) / rendered / 1e6:.1f} M "
                f"instructions a page (loading {loading / 1e9:.2f} G)",
                flush=True,
            )
    ratio = results["branch"]["page_instructions"] / results["baseline"]["page_instructions"]
    print(f"branch/baseline instructions a feed page: {ratio:.3f}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"feed-instructions-{args.n}-{commit}-{stamp}.json"
    write_results(
        out,
        {
            "commit": commit,
            "baseline": base_commit,
            "articles": args.n,
            "results": results,
            "ratio": ratio,
        },
    )
    return 0


if __name__ == "__main__":
    run_main(main)

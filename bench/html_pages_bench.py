"""CPU time per page of the export's pages that are not feeds (articles, listings, embeds, ...).

``python bench/html_pages_bench.py [-n 2000] [--runs 5] [--baseline main] [--corpus DIR]``
renders every page of a corpus of ``-n`` articles (bench/corpus.py) that is not a feed page,
once, as an export's renderer does (``SiteExporter._render``: the requests, the siblings; bodies
kept as a renderer keeps them, ``Body.keep_parsed``), in a fresh process per run, alternating
(ABBA) this tree and the baseline's (``git archive``). Records the CPU time
(``process_time``) of each route's pages; the machine is shared, so CPU time, medians and
their spread, and the ratio of the medians. Feed pages are left out: their rendering is
measured by bench/feed_pages_bench.py. Saved to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import corpus_and_trees, run_driver, run_main, short_commit, write_results

REPO = Path(__file__).resolve().parent.parent

# Run in the tree under test (PYTHONPATH), so both trees run the same driver.
DRIVER = r"""
import gc, json, sys, time
from collections import defaultdict
from pathlib import Path
import feedsvc.deploy.export as export
from feedsvc import create_app
from feedsvc.articles.model import Body
from feedsvc.deploy.sitemap import endpoint_of, site_pages

content, out = Path(sys.argv[1]), Path(sys.argv[2])
app = create_app({"CONTENT_DIR": str(content), "WATCH": False, "LOG_LEVEL": "WARNING"})
Body.keep_parsed(export.RENDERER_KEPT_ARTICLES)
exporter = export.SiteExporter(app, out)
pages = [
    p for p in site_pages(app) if p.status != 200 or endpoint_of(app, p.path) != "feedsvc.feed"
]
kinds = defaultdict(lambda: {"pages": 0, "cpu_s": 0.0})
gc.collect()
started = time.process_time()
for page in pages:
    before = time.process_time()
    rendered = exporter._render(page)
    kind = kinds[rendered.endpoint]
    kind["cpu_s"] += time.process_time() - before
    kind["pages"] += 1
print(json.dumps({"cpu_s": time.process_time() - started, "pages": len(pages), "kinds": kinds}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--corpus", type=Path, help="where the corpus is written and kept")
    args = parser.parse_args()
    commit, base_commit = short_commit(), short_commit(args.baseline)
    with tempfile.TemporaryDirectory(prefix="html-pages-") as tmp_name:
        tmp = Path(tmp_name)
        content, trees = corpus_and_trees(tmp, args.corpus, args.n, base_commit)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        order = list(trees.items())
        for number in range(args.runs):
            # ABBA: neither tree always runs right after the other.
            for name, tree in order if number % 2 == 0 else order[::-1]:
                load = os.getloadavg()[0]
                result = run_driver(tree, DRIVER, str(content), str(tmp / "out"))
                result["load_1m_before"] = load
                runs[name].append(result)
                print(f"run {number + 1} {name}: {result['cpu_s']:.2f} s CPU", flush=True)
    summary: dict[str, Any] = {}
    for name, results in runs.items():
        totals = [r["cpu_s"] for r in results]
        routes = {
            endpoint: statistics.median(
                r["kinds"][endpoint]["cpu_s"] * 1000 / r["kinds"][endpoint]["pages"]
                for r in results
            )
            for endpoint in results[0]["kinds"]
        }
        summary[name] = {
            "cpu_s_median": statistics.median(totals),
            "cpu_s_min": min(totals),
            "cpu_s_max": max(totals),
            "cpu_ms_per_page_median": routes,
            "pages": {e: k["pages"] for e, k in results[0]["kinds"].items()},
        }
    branch, base = summary["branch"], summary["baseline"]
    ratios = {"all": branch["cpu_s_median"] / base["cpu_s_median"]}
    for endpoint, per_page in branch["cpu_ms_per_page_median"].items():
        before = base["cpu_ms_per_page_median"].get(endpoint)
        if before:
            ratios[endpoint] = per_page / before
    print(
        f"\nall non-feed pages: branch {branch['cpu_s_median']:.2f} s "
        f"[{branch['cpu_s_min']:.2f}-{branch['cpu_s_max']:.2f}], baseline "
        f"{base['cpu_s_median']:.2f} s [{base['cpu_s_min']:.2f}-{base['cpu_s_max']:.2f}]: "
        f"{ratios['all']:.2f}x"
    )
    for endpoint, count in sorted(branch["pages"].items(), key=lambda item: -item[1]):
        print(
            f"{endpoint:28} {count:6} pages: branch "
            f"{branch['cpu_ms_per_page_median'][endpoint]:.3f} ms, baseline "
            f"{base['cpu_ms_per_page_median'].get(endpoint, float('nan')):.3f} ms "
            f"({ratios.get(endpoint, float('nan')):.2f}x)"
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    write_results(
        REPO / "bench" / "results" / f"html-pages-{args.n}-{commit}-{stamp}.json",
        {
            "commit": commit,
            "baseline": base_commit,
            "articles": args.n,
            "runs": runs,
            "summary": summary,
            "ratios_of_medians": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    run_main(main)

"""How often the export's renderers find an entry's bytes kept (feeds/writers/splice.py).

``python bench/splice_cache.py [-n N] [--budgets-mb 16,64,1024] [--baseline REV] [--corpus DIR]``
exports a corpus of ``-n`` articles (bench/corpus.py) with this tree (and, alternating, the
``--baseline`` revision's, ``git archive``), as a first export does (a pool of forked
renderers), once per budget of the RSS and Atom entry caches, and records per renderer
process the cache's hits, misses, evictions and the bytes it held at the end, with the export's
CPU time and peak RSS (largest process). The page order is the export's (SiteExporter's
_render_order), so the hit rate says how well that order keeps an article's appearances
together. Saved to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import extract_revision, run_driver, run_main, short_commit, write_results
from corpus import generate

REPO = Path(__file__).resolve().parent.parent

DRIVER = r"""
import json, os, resource, sys, time
from pathlib import Path
import feedsvc.deploy.export as export
from feedsvc import create_app
from feedsvc.feeds.writers import atom, rss
from feedsvc.feeds.writers.splice import EntryBytes

content, out, stats_dir = map(Path, sys.argv[1:4])
budget = int(sys.argv[4])
app = create_app({"CONTENT_DIR": str(content), "WATCH": False, "LOG_LEVEL": "WARNING"})
rss.ITEMS = EntryBytes(budget)
atom.ENTRIES = EntryBytes(budget)
export.RENDERER_ENTRY_BYTES = budget  # what a renderer may keep (EntryBytes.keep_at_most)
inner = export._render_in_worker
def counted(*args):
    done = inner(*args)
    caches = {"rss": rss.ITEMS.stats, "atom": atom.ENTRIES.stats}
    text = json.dumps({name: vars(stats) for name, stats in caches.items()})
    (stats_dir / f"{os.getpid()}.json").write_text(text)
    return done
counted.__qualname__ = counted.__name__ = "_render_in_worker"
counted.__module__ = inner.__module__
export._render_in_worker = counted
def cpu():
    both = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, both))
before = cpu()
started = time.perf_counter()
report = export.SiteExporter(app, out).export()
who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
peak = max(resource.getrusage(w).ru_maxrss for w in who)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu_s": cpu() - before,
                  "pages": report.pages, "peak_rss_mb": peak / 1024}))
"""


def run_once(tree: Path, content: Path, tmp: Path, budget: int) -> dict[str, object]:
    out, stats_dir = tmp / "out", tmp / "stats"
    for folder in (out, stats_dir):
        shutil.rmtree(folder, ignore_errors=True)
    stats_dir.mkdir()
    load = os.getloadavg()[0]
    try:
        result: dict[str, object] = run_driver(
            tree, DRIVER, str(content), str(out), str(stats_dir), str(budget)
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    workers = [json.loads(path.read_text()) for path in sorted(stats_dir.glob("*.json"))]
    result["renderers"] = workers
    totals = {}
    for name in ("rss", "atom"):
        hits = sum(w[name]["hits"] for w in workers)
        misses = sum(w[name]["misses"] for w in workers)
        totals[name] = {
            "hits": hits,
            "misses": misses,
            "hit_rate": hits / (hits + misses) if hits + misses else 0.0,
            "evicted": sum(w[name]["evicted"] for w in workers),
            "held_mb_per_renderer": max(w[name]["held_bytes"] for w in workers) / 1e6,
        }
    result["totals"] = totals
    result["budget_mb"] = budget / 2**20
    result["load_1m_before"] = load
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10000)
    parser.add_argument("--budgets-mb", default="16,64,1024")
    parser.add_argument("--baseline", help="git revision to compare with, run alternately")
    parser.add_argument("--corpus", type=Path, help="where the corpus is written and kept")
    args = parser.parse_args()
    budgets = [int(float(mb) * 2**20) for mb in args.budgets_mb.split(",")]
    runs = []
    baseline = short_commit(args.baseline) if args.baseline else None
    with tempfile.TemporaryDirectory(prefix="splice-cache-") as tmp_name:
        tmp = Path(tmp_name)
        content = args.corpus or tmp / "content"
        generate(content, args.n)
        trees = {"branch": REPO}
        if baseline is not None:
            trees = {"baseline": tmp / "baseline", "branch": REPO}
            extract_revision(baseline, trees["baseline"])
        for budget, (name, tree) in ((b, t) for b in budgets for t in trees.items()):
            result = run_once(tree, content, tmp, budget)
            result["tree"] = name
            runs.append(result)
            shown = ", ".join(
                f"{name} hit rate {t['hit_rate']:.3f} (evicted {t['evicted']},"
                f" held {t['held_mb_per_renderer']:.0f} MB)"
                for name, t in result["totals"].items()  # type: ignore[attr-defined]
            )
            print(
                f"{name}: budget {budget / 2**20:.0f} MB: {result['cpu_s']:.1f} s CPU, "
                f"peak RSS {result['peak_rss_mb']:.0f} MB; {shown}",
                flush=True,
            )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = REPO / "bench" / "results" / f"splice-cache-{args.n}-{short_commit()}-{stamp}.json"
    document = {"articles": args.n, "commit": short_commit(), "baseline": baseline, "runs": runs}
    write_results(path, document)
    return 0


if __name__ == "__main__":
    run_main(main)

"""What a first export's feed pages cost its renderers, in this tree and a baseline.

``python bench/feed_pages_bench.py [-n 10000] [--runs 3] [--baseline main] [--corpus DIR]``
loads a corpus of ``-n`` articles (bench/corpus.py) and renders every page of the feeds route
(RSS, Atom and JSON Feed pages with their compressed siblings) as a first export's pool does:
the pages in the order the export gives them out, in chunks of the export's size dealt as the
export deals them (its ``_Dealer``; where it has none, handed in turn) to two forked processes
set up as the export sets up its renderers (the caches they keep, bounded as there). It records
the CPU time of the two (``wait4``), the entry caches' hit rates and the entries they wrote
(RSS, Atom, and JSON Feed where a tree keeps its items), the entries' bodies and browser-view
items made anew (counts that do not depend on the machine's load), the written memory of each
and digests of every file made (the same in both trees if they write the same bytes): of all of
them, of all but the ``.gz`` siblings, and of every file's content (the siblings decompressed),
for this tree and the baseline's (``git archive``), alternating. CPU time, since the machine is
shared. Saved to bench/results/ as JSON.

Only the feed pages: the export's other pages, its writing and its pool's replacing are in
bench/export_bench.py.
"""

from __future__ import annotations

import argparse
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
import gzip, hashlib, json, os, sys, time
import brotli
from pathlib import Path
import feedsvc.deploy.export as export
from feedsvc import create_app
from feedsvc.deploy.sitemap import endpoint_of, site_pages
from feedsvc.feeds import builder
from feedsvc.feeds.writers import atom, browserview, jsonfeed, rss

# Work counted, whatever the machine's load: bodies written as HTML (an article's entries made
# anew) and browser-view list items made anew.
made = {"entry_bodies": 0, "view_items": 0}
def counting(module, name, what):
    inner = getattr(module, name)
    def counted(*args):
        made[what] += 1
        return inner(*args)
    setattr(module, name, counted)
counting(builder, "body_html", "entry_bodies")
counting(browserview, "_new_item", "view_items")

# Siblings read back: the same content whatever compressed it.
DECODE = {".gz": gzip.decompress, ".br": brotli.decompress}
content, out = Path(sys.argv[1]), Path(sys.argv[2])
app = create_app({"CONTENT_DIR": str(content), "WATCH": False, "LOG_LEVEL": "WARNING"})
exporter = export.SiteExporter(app, out)
pages = [
    page for page in site_pages(app)
    if page.status == 200 and endpoint_of(app, page.path) == export.FEED_ENDPOINT
]
order = getattr(exporter, "_render_order", None)  # the export's order, where it has one
if order is not None:
    pages = order(pages)
    if isinstance(pages, tuple):  # with the indexes of the feed pages in it
        pages = pages[0]
chunk = export._POOL_CHUNK
# The export's dealing, where it has one (each renderer its own range of dates, then the rest);
# else chunks in turn.
dealer = None
if hasattr(export, "_Dealer"):
    dealer = export._Dealer(len(pages), list(range(len(pages))), 2, chunk)
def chunks(worker):
    if dealer is None:
        for start in range(worker * chunk, len(pages), 2 * chunk):
            yield pages[start : start + chunk]
        return
    while indexes := dealer.take(export._SLOT):
        yield [pages[index] for index in indexes]
workers = []
for worker in range(2):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        export._WORK = (exporter, pages) if dealer is None else (exporter, pages, dealer)
        export._start_renderer([])  # the renderer's bounds, as the export sets them
        size = 0
        digests = []
        for chunk_pages in chunks(worker):
            for page in chunk_pages:
                for relpath, data in exporter._render(page).files.items():
                    size += len(data)
                    decoded = DECODE[relpath[-3:]](data) if relpath[-3:] in DECODE else data
                    digests.append((relpath, hashlib.sha256(data).hexdigest(),
                                    hashlib.sha256(decoded).hexdigest()))
        stats = {"rss": vars(rss.ITEMS.stats), "atom": vars(atom.ENTRIES.stats)}
        if hasattr(jsonfeed, "ITEMS"):  # JSON Feed items kept, where a tree keeps them
            stats["json"] = vars(jsonfeed.ITEMS.stats)
        answer = {"bytes": size, "written_mb": export._written_mb(), "caches": stats,
                  "digests": digests, "made": made}
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    workers.append((pid, read))
cpu = 0.0
answers = []
for pid, read in workers:
    data = b""
    while chunk_read := os.read(read, 1 << 16):
        data += chunk_read
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"renderer {pid} failed: status {status}")
    cpu += usage.ru_utime + usage.ru_stime
    answers.append(json.loads(data))
kept = [f for f in ("rss", "atom", "json") if f in answers[0]["caches"]]
hits = {f: sum(a["caches"][f]["hits"] for a in answers) for f in kept}
misses = {f: sum(a["caches"][f]["misses"] for a in answers) for f in kept}
files = sorted(tuple(d) for a in answers for d in a["digests"])
def digest(listed):
    return hashlib.sha256(json.dumps(listed).encode()).hexdigest()
print(json.dumps({
    "pages": len(pages), "cpu_s": cpu, "cpu_ms_per_page": cpu * 1000 / len(pages),
    "bytes": sum(a["bytes"] for a in answers), "files": len(files),
    # Of every file's path and bytes: equal in two trees that write the same files.
    "files_sha256": digest([(path, raw) for path, raw, _ in files]),
    # ... of every file but the .gz siblings (gzip written by another compressor gives other
    # bytes of the same content), and of every file's content (siblings decompressed).
    "files_sha256_but_gz": digest([(p, raw) for p, raw, _ in files if not p.endswith(".gz")]),
    "content_sha256": digest([(path, decoded) for path, _, decoded in files]),
    "hit_rate": {f: hits[f] / max(1, hits[f] + misses[f]) for f in hits},
    "entries_written": misses,
    "made": {what: sum(a["made"][what] for a in answers) for what in made},
    "written_mb": [a["written_mb"] for a in answers], "load_1m_before": os.getloadavg()[0],
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--corpus", type=Path, help="where the corpus is written and kept")
    args = parser.parse_args()
    commit, base_commit = short_commit(), short_commit(args.baseline)
    with tempfile.TemporaryDirectory(prefix="feed-pages-") as tmp_name:
        tmp = Path(tmp_name)
        content, trees = corpus_and_trees(tmp, args.corpus, args.n, base_commit)
        runs: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
        for number in range(args.runs):
            for name, tree in trees.items():
                result = run_driver(tree, DRIVER, str(content), str(tmp / "out"))
                runs[name].append(result)
                print(
                    f"run {number + 1} {name}: {result['pages']} feed pages, "
                    f"{result['cpu_s']:.1f} s CPU ({result['cpu_ms_per_page']:.2f} ms a page), "
                    f"hit rate {result['hit_rate']}, written {result['written_mb']} MB, "
                    f"entries written {result['entries_written']}, made {result['made']}",
                    flush=True,
                )
    medians = {
        name: statistics.median(float(r["cpu_s"]) for r in results)  # type: ignore[arg-type]
        for name, results in runs.items()
    }
    same = {}
    for key in ("files_sha256", "files_sha256_but_gz", "content_sha256"):
        # A baseline older than a key has none of it: not the same.
        found = {str(r.get(key)) for results in runs.values() for r in results}
        same[key] = len(found) == 1 and "None" not in found
        print(f"{key}: {'the same in both trees' if same[key] else f'differ: {sorted(found)}'}")
    ratios = [
        float(b["cpu_s"]) / float(a["cpu_s"])  # type: ignore[arg-type]
        for a, b in zip(runs["baseline"], runs["branch"], strict=True)
    ]
    print(
        f"CPU median: branch {medians['branch']:.1f} s, baseline {medians['baseline']:.1f} s; "
        f"branch/baseline per run {', '.join(f'{r:.2f}' for r in ratios)}"
    )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"feed-pages-{args.n}-{commit}-{stamp}.json"
    document = {
        "commit": commit,
        "baseline": base_commit,
        "articles": args.n,
        "runs": runs,
        "cpu_s_median": medians,
        "ratio_per_run": ratios,
        "same_files": same["files_sha256"],
        "same_files_but_gz": same["files_sha256_but_gz"],
        "same_content": same["content_sha256"],
    }
    write_results(out, document)
    return 0


if __name__ == "__main__":
    run_main(main)

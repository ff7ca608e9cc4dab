"""How many RSS entries the export's renderers must write, by dealing, page order and budget.

``python bench/feed_entry_reuse.py [-n 10000] [--corpus DIR]`` loads a corpus of ``-n`` articles
(bench/corpus.py) in this tree, measures what each article's RSS entry costs a renderer's entry
cache (``feeds/writers/splice.py``: the entry's bytes as written, plus the texts of the entry
kept as its key) by writing every page of the all-articles feed, and then replays the RSS feed
pages through least-recently-used caches of that cost, as the export's renderers meet them:
dealt by the export's :class:`_Dealer` in chunks, taken in turn, to one renderer or two; in the
export's order (``SiteExporter._render_order``) or as the site lists them; with the renderers'
budget (``RENDERER_ENTRY_BYTES``) and multiples of it. It records, per case, the entries the
renderers write (a miss each) against the articles (each written once at best). Counts, not
times: the machine's load does not change them. Atom entries cost about the same and are met
on the same pages. Saved to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import run_driver, run_main, short_commit, write_results
from corpus import generate

REPO = Path(__file__).resolve().parent.parent

# Run in this tree (PYTHONPATH), in a process of its own.
DRIVER = r"""
import json, sys
from collections import OrderedDict
from pathlib import Path
import feedsvc.deploy.export as export
from feedsvc import create_app
from feedsvc.deploy.sitemap import endpoint_of, site_pages
from feedsvc.feeds import builder
from feedsvc.feeds.urls import feed_path
from feedsvc.feeds.writers import rss
from feedsvc.feeds.writers.splice import EntryBytes

content, out = Path(sys.argv[1]), Path(sys.argv[2])
app = create_app({"CONTENT_DIR": str(content), "WATCH": False, "LOG_LEVEL": "WARNING"})
service = app.extensions["feedsvc"]
catalog, settings = service.publication.catalog, service.settings
size = settings.page_size
exporter = export.SiteExporter(app, out)
listed = [
    page for page in site_pages(app)
    if page.status == 200 and endpoint_of(app, page.path) == export.FEED_ENDPOINT
]
articles = {}  # RSS page path -> its articles' ids
for feed in catalog.feeds.values():
    for number in range(1, feed.page_count(size) + 1):
        ids = [article.id for article in feed.page(number, size).articles]
        articles[feed_path(feed, "rss", number)] = ids

# What each article's RSS entry costs a cache, from the all-articles feed (every article is on it).
rss.ITEMS = EntryBytes(1 << 40)
cost = {}
for number in range(1, catalog.all_feed.page_count(size) + 1):
    page = catalog.all_feed.page(number, size)
    document = builder.build_document(page, "rss", settings)
    rss.render_rss(document)
    for article, entry in zip(page.articles, document.entries, strict=True):
        data = rss.ITEMS.get(entry)
        texts = len(entry.content_html) + len(entry.summary) + len(entry.title)
        cost[article.id] = len(data) + texts

def dealt(pages, ranges):
    # Each renderer's RSS pages, in the order it renders them: the export's dealer, chunks taken
    # in turn (renderers of equal speed).
    dealer = export._Dealer(len(pages), list(range(len(pages))), ranges, export._POOL_CHUNK)
    seen = [[] for _ in range(ranges)]
    while True:
        took = False
        for slot in range(ranges):
            for index in dealer.take(slot):
                took = True
                if pages[index].path in articles:
                    seen[slot].append(pages[index].path)
        if not took:
            return seen

def written(sequences, budget):
    count = 0
    for paths in sequences:
        kept, held = OrderedDict(), 0
        for path in paths:
            for article in articles[path]:
                if article in kept:
                    kept.move_to_end(article)
                    continue
                count += 1
                kept[article] = cost[article]
                held += cost[article]
                while held > budget:
                    held -= kept.popitem(last=False)[1]
    return count

orders = {"export": exporter._render_order(listed)[0], "listed": listed}
cases = []
for order, pages in orders.items():
    for ranges in (1, 2):
        sequences = dealt(pages, ranges)
        for times in (1, 2, 4, 8):
            budget = export.RENDERER_ENTRY_BYTES * times
            cases.append({"order": order, "renderers": ranges, "budget_mb": budget / 2**20,
                          "entries_written": written(sequences, budget)})
costs = sorted(cost.values())
print(json.dumps({
    "articles": len(cost), "rss_pages": len(articles),
    "entries_on_pages": sum(map(len, articles.values())),
    "entry_cost_median": costs[len(costs) // 2], "entry_cost_mean": sum(costs) / len(costs),
    "renderer_entry_bytes": export.RENDERER_ENTRY_BYTES, "cases": cases,
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--corpus", type=Path, help="where the corpus is written and kept")
    args = parser.parse_args()
    commit = short_commit()
    with tempfile.TemporaryDirectory(prefix="feed-entry-reuse-") as tmp_name:
        tmp = Path(tmp_name)
        content = args.corpus or tmp / "content"
        generate(content, args.n)
        result = run_driver(REPO, DRIVER, str(content), str(tmp / "out"))
    print(
        f"{result['articles']} articles on {result['rss_pages']} RSS pages "
        f"({result['entries_on_pages']} entries); an entry costs a cache "
        f"{result['entry_cost_mean'] / 1024:.1f} KB on average"
    )
    for case in result["cases"]:
        print(
            f"order {case['order']:6}, {case['renderers']} renderer(s), "
            f"{case['budget_mb']:5.0f} MB: {case['entries_written']} entries written "
            f"({case['entries_written'] / result['articles']:.2f} per article)"
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"feed-entry-reuse-{args.n}-{commit}-{stamp}.json"
    write_results(out, {"commit": commit, **result})
    return 0


if __name__ == "__main__":
    run_main(main)

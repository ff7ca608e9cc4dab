"""What the browser view costs the RSS and Atom feeds: bytes on the wire and rendering time.

Prints figures; it is not a test. Every RSS and Atom feed carries its page for people (one XHTML
div, ``feedsvc/feeds/writers/browserview.py``) in every representation, so feed readers download
it too. This measures, over the first page of every feed of a synthetic corpus (``corpus.py``),
against the baseline of the same documents written without the view, in the same run:

1. **Size**: the bytes of all those pages as served, plain, gzip and brotli
   (``feedsvc.feeds.compression``, the codings and levels the service uses). Deterministic.
2. **Rendering**: the time to write all those pages (build the documents, write, compress as a
   publication does), with and without the view, in alternating rounds; median and spread.

Usage::

    .venv/bin/python bench/browser_view.py [-n 2000] [--rounds 5] [--json FILE]

The corpus is generated once under /tmp and reused. Takes about a minute at 2,000 articles.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate

from feedsvc.articles.store import ContentStore
from feedsvc.feeds.builder import build_document
from feedsvc.feeds.compression import encode_all
from feedsvc.feeds.document import FeedDocument
from feedsvc.feeds.live import LiveCatalog
from feedsvc.feeds.writers import FORMATS
from feedsvc.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "browser-view.json"
EXTENSIONS = ("rss", "atom")


def documents(settings: Settings) -> list[FeedDocument]:
    live = LiveCatalog(ContentStore(settings), settings.site_title)
    live.reload()
    catalog = live.catalog
    return [
        build_document(feed.page(1, settings.page_size), extension, settings)
        for feed in catalog.feeds.values()
        for extension in EXTENSIONS
    ]


def sizes(docs: list[FeedDocument]) -> dict[str, int]:
    total: dict[str, int] = {}
    for doc in docs:
        for coding, data in encode_all(FORMATS[doc.extension].render(doc)).items():
            total[coding] = total.get(coding, 0) + len(data)
    return total


def render_all(docs: list[FeedDocument]) -> float:
    start = time.perf_counter()
    for doc in docs:
        encode_all(FORMATS[doc.extension].render(doc))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="articles in the corpus")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    folder = Path("/tmp/feedsvc-corpus") / f"n{args.n}-s1"
    generate(folder, args.n, 1)
    settings = Settings.from_mapping({"CONTENT_DIR": str(folder), "SITE_URL": "https://x.nl"})
    with_view = documents(settings)
    without = [replace(doc, browser_view=None) for doc in with_view]
    size_with, size_without = sizes(with_view), sizes(without)
    times: dict[str, list[float]] = {"with": [], "without": []}
    for round_ in range(args.rounds):  # alternating, so drift hits both alike
        times["without"].append(render_all(without))
        times["with"].append(render_all(with_view))
        if sys.stderr.isatty():
            print(f"\rround {round_ + 1}/{args.rounds}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    result: dict[str, Any] = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "articles": args.n,
        "pages": len(with_view),
        "bytes": {
            coding: {
                "with_view": size_with[coding],
                "without_view": size_without[coding],
                "ratio": round(size_with[coding] / size_without[coding], 3),
            }
            for coding in size_with
        },
        "render_seconds": {
            name: {
                "median": round(statistics.median(values), 4),
                "min": round(min(values), 4),
                "max": round(max(values), 4),
                "runs": [round(v, 4) for v in values],
            }
            for name, values in times.items()
        },
    }
    result["render_ratio"] = round(
        statistics.median(times["with"]) / statistics.median(times["without"]), 3
    )
    print(f"{result['pages']} first pages (RSS and Atom) of {args.n} articles")
    for coding, figures in result["bytes"].items():
        print(
            f"  {coding:8} {figures['without_view']:>10,} -> {figures['with_view']:>10,} bytes"
            f"  ({figures['ratio']:.3f}x)"
        )
    spread = {
        name: f"{v['median']:.3f} s ({v['min']:.3f}-{v['max']:.3f})"
        for name, v in result["render_seconds"].items()
    }
    print(f"  rendering: {spread['without']} -> {spread['with']}  ({result['render_ratio']}x)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

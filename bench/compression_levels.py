"""Size against CPU time per compression level, for gzip and brotli, per kind of exported page.

``python bench/compression_levels.py EXPORT_PUBLIC [--sample 200] [--passes 3]`` reads the
uncompressed pages of an export, sorts them into kinds (a feed's first page, a later feed page,
an article page, any other HTML page), compresses a sample of each kind at each level (CPU
time, the best of ``--passes``, since the machine is shared) and writes the figures to
bench/results/ as JSON, with what they mean for precompressed siblings: what making both
siblings of a page costs at the levels the export uses, against what nginx spends compressing
it on the fly (gzip level 1) for one request, so how many compressed requests a page must get
between two renderings before its siblings pay for themselves.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import brotli
import deflate
from benchlib import short_commit

REPO = Path(__file__).resolve().parent.parent
# "gzip" is Python's zlib, "libdeflate" the same format written by libdeflate (the service's).
LEVELS = {"gzip": (1, 4, 5, 6, 9), "libdeflate": (1, 4, 5, 6), "br": (1, 4, 5, 6, 9, 11)}
# br 11 costs about a second per feed page: measured on a smaller sample.
SLOW = {("br", 9): 4, ("br", 11): 2}
SUFFIXES = (".rss", ".atom", ".json", ".html", ".xml", ".opml")
# Levels of both siblings weighed against each other, per page: the service's levels for first
# pages and for later feed pages (feedsvc.feeds.compression) among them.
SIBLING_LEVELS = {
    "gzip 6 + br 6": (("gzip", 6), ("br", 6)),
    "gzip 5 + br 6": (("gzip", 5), ("br", 6)),
    "gzip 4 + br 4": (("gzip", 4), ("br", 4)),
    "gzip 1 + br 1": (("gzip", 1), ("br", 1)),
    "libdeflate 5 + br 6": (("libdeflate", 5), ("br", 6)),
    "libdeflate 1 + br 1": (("libdeflate", 1), ("br", 1)),
    # The export's own siblings of pages the service sends uncompressed (embed pages, widgets,
    # static files) before they moved to libdeflate, and candidates for HTML pages.
    "gzip 4 + br 5": (("gzip", 4), ("br", 5)),
    "libdeflate 4 + br 5": (("libdeflate", 4), ("br", 5)),
    "libdeflate 5 + br 5": (("libdeflate", 5), ("br", 5)),
    "libdeflate 5 + br 4": (("libdeflate", 5), ("br", 4)),
    "libdeflate 4 + br 4": (("libdeflate", 4), ("br", 4)),
}
ON_THE_FLY = ("gzip", 1)  # nginx's gzip_comp_level default
_DEEP_FEED = re.compile(r"\.page[0-9]+\.[a-z]+$")
_LATER_LISTING = re.compile(r"/pagina-(?!1\.html$)[0-9]+\.html$")


def kind_of(relpath: str) -> str | None:
    if relpath.startswith("feeds/"):
        return "feed, later page" if _DEEP_FEED.search(relpath) else "feed, first page"
    if not relpath.endswith(".html"):
        return None
    if relpath.startswith("artikelen/"):
        return "article page"
    if relpath.startswith("insluiten/"):
        return "webmasters' page"
    if relpath.startswith("embed/"):
        return "widget"
    if _LATER_LISTING.search(relpath):
        return "listing, later page"
    return "other HTML page"  # listings' first pages, the front page, error pages


def compress(coding: str, level: int, body: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(body, compresslevel=level, mtime=0)
    if coding == "libdeflate":
        return bytes(deflate.gzip_compress(body, level))
    compressed: bytes = brotli.compress(body, quality=level)
    return compressed


def compressed_size(coding: str, level: int, bodies: list[bytes]) -> int:
    return sum(len(compress(coding, level, body)) for body in bodies)


def cpu_per_page(run: Callable[[], int], pages: int, passes: int) -> tuple[float, int]:
    """(best CPU milliseconds per page over ``passes``, total bytes)."""
    best, size = float("inf"), 0
    for _ in range(passes):
        started = time.process_time()
        size = run()
        best = min(best, time.process_time() - started)
    return best * 1000 / pages, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("public", type=Path)
    parser.add_argument("--sample", type=int, default=200, help="pages per kind")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    kinds: dict[str, list[Path]] = {}
    for path in sorted(args.public.rglob("*")):
        relpath = path.relative_to(args.public).as_posix()
        kind = kind_of(relpath) if path.suffix in SUFFIXES and path.is_file() else None
        if kind is not None:
            kinds.setdefault(kind, []).append(path)
    results = []
    for kind, files in sorted(kinds.items()):
        sample = random.Random(1).sample(files, min(args.sample, len(files)))
        bodies = [p.read_bytes() for p in sample]
        raw = sum(map(len, bodies))
        rows: list[dict[str, str | int | float]] = []
        cpu_ms: dict[tuple[str, int], float] = {}
        size_ratio: dict[tuple[str, int], float] = {}
        for coding, levels in LEVELS.items():
            for level in levels:
                subset = bodies[: max(1, len(bodies) // SLOW.get((coding, level), 1))]
                ms, size = cpu_per_page(
                    functools.partial(compressed_size, coding, level, subset),
                    len(subset),
                    args.passes,
                )
                cpu_ms[coding, level] = ms
                ratio = size / sum(map(len, subset))
                size_ratio[coding, level] = round(ratio, 4)
                rows.append({"coding": coding, "level": level, "ratio": round(ratio, 4), "ms": ms})
                print(
                    f"{kind:17} {coding:4} {level:2}: {ratio:.3f} of raw, {ms:.3f} ms CPU per page"
                )
        on_the_fly_ms = cpu_ms[ON_THE_FLY]
        by_levels = {
            name: {
                "siblings_ms": sum(cpu_ms[level] for level in levels),
                "requests_to_pay_back": sum(cpu_ms[level] for level in levels) / on_the_fly_ms,
                "ratios": [size_ratio[level] for level in levels],
            }
            for name, levels in SIBLING_LEVELS.items()
        }
        siblings_ms = sum(cpu_ms[level] for level in SIBLING_LEVELS["gzip 6 + br 6"])
        figures = {
            "kind": kind,
            "pages_in_export": len(files),
            "sample": len(bodies),
            "mean_bytes": raw / len(bodies),
            "rows": rows,
            "siblings_ms": siblings_ms,
            "on_the_fly_ms": on_the_fly_ms,
            "requests_to_pay_back": siblings_ms / on_the_fly_ms,
            "siblings_ms_whole_export": siblings_ms * len(files),
            "by_sibling_levels": by_levels,
        }
        results.append(figures)
        print(
            f"{kind:17} {len(files)} pages of {raw / len(bodies) / 1000:.1f} KB: both siblings "
            f"{siblings_ms:.2f} ms a page ({siblings_ms * len(files) / 1000:.1f} s for all), "
            f"gzip 1 on the fly {on_the_fly_ms:.3f} ms a request: siblings pay back after "
            f"{siblings_ms / on_the_fly_ms:.0f} compressed requests per rendering"
        )
        for name, row in by_levels.items():
            print(
                f"{'':17} {name}: {row['siblings_ms']:.2f} ms a page, pays back after "
                f"{row['requests_to_pay_back']:.1f} requests; sizes {row['ratios']} of raw"
            )
    commit = short_commit()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = REPO / "bench" / "results" / f"compression-levels-{commit}-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "commit": commit,
                "export": str(args.public),
                "passes": args.passes,
                "load_before": os.getloadavg(),
                "cpu": "process_time, best of passes",
                "kinds": results,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

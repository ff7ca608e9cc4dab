"""Size against time per compression level, for gzip and brotli, on the pages of an export.

``python bench/compression_levels.py EXPORT_PUBLIC [--sample 300]`` reads the uncompressed
pages of an export (feeds, HTML pages), compresses a sample of them at each level and writes
the totals (bytes, seconds, ratio to the uncompressed size) to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

import brotli
from benchlib import short_commit

REPO = Path(__file__).resolve().parent.parent
LEVELS = {"gzip": (1, 4, 6, 9), "br": (1, 4, 5, 6, 9, 11)}
SUFFIXES = (".rss", ".atom", ".json", ".html", ".xml", ".opml")


def compress(coding: str, level: int, body: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(body, compresslevel=level, mtime=0)
    return brotli.compress(body, quality=level)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("public", type=Path)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    files = sorted(p for p in args.public.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    sample = random.Random(1).sample(files, min(args.sample, len(files)))
    bodies = [p.read_bytes() for p in sample]
    raw = sum(map(len, bodies))
    rows = []
    for coding, levels in LEVELS.items():
        for level in levels:
            started = time.perf_counter()
            size = sum(len(compress(coding, level, body)) for body in bodies)
            seconds = time.perf_counter() - started
            rows.append(
                {
                    "coding": coding,
                    "level": level,
                    "bytes": size,
                    "ratio": round(size / raw, 4),
                    "ms_per_page": round(seconds * 1000 / len(bodies), 3),
                }
            )
            print(
                f"{coding:4} {level:2}: {size / raw:.3f} of {raw} bytes, "
                f"{seconds * 1000 / len(bodies):.2f} ms per page"
            )
    small = sum(1 for body in bodies if len(body) < 1024)
    commit = short_commit()
    out = REPO / "bench" / "results" / f"compression-levels-{commit}.json"
    out.write_text(
        json.dumps(
            {
                "commit": commit,
                "pages": len(bodies),
                "raw_bytes": raw,
                "pages_under_1k": small,
                "rows": rows,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

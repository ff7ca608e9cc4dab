"""Content codings for rendered bytes, computed once per rendering, never per request."""

from __future__ import annotations

import gzip

import brotli

IDENTITY = "identity"
GZIP = "gzip"
BROTLI = "br"
# Server preference when a client accepts several equally: smallest first.
PREFERENCE = (BROTLI, GZIP, IDENTITY)

# Measured on a 228 KB feed: brotli quality 6 took 1.3 ms (18.7 KB), quality 9 took 12 ms
# (18.6 KB) and 11 took 68 ms (17.4 KB). 6 keeps a reload of hundreds of feeds fast.
BROTLI_QUALITY = 6
# gzip 5 rather than 6: on exported first pages of feeds (bench/results/
# compression-levels-e53288f-20261130T084023Z.json) 0.86 against 1.18 ms a page of 83 KB, for
# 16.5% against 16.0% of the bytes; once the feed writers got cheaper, compression was most of
# a feed page's CPU time. Brotli 5 would save less (1.07 against 1.16 ms) for 3% more bytes.
GZIP_LEVEL = 5
# A feed's later pages (?page=N): read rarely (a reader catching up, an archive crawl), yet
# rendered again whenever a new article shifts the pages of its feed. On exported feed pages
# (bench/compression_levels.py, docs/performance.md) gzip 4 + brotli 4 took half the CPU time
# of 6 + 6 (2.4 against 4.6 ms a page of 160 KB) for 11% and 14% more bytes.
LATER_PAGE_GZIP_LEVEL = 4
LATER_PAGE_BROTLI_QUALITY = 4


def encode_all(body: bytes, *, later_page: bool = False) -> dict[str, bytes]:
    """The body in every coding feedsvc serves, deterministic byte for byte; a feed's
    ``later_page`` at the cheaper levels.

    ``mtime=0`` keeps the gzip header free of the clock, so every worker and every export
    produces the same compressed bytes (and so the same ETag) for the same feed.
    """
    return {coding: encode(body, coding, later_page=later_page) for coding in PREFERENCE[::-1]}


def encode(body: bytes, coding: str, *, later_page: bool = False) -> bytes:
    """The body in one coding, as :func:`encode_all` makes it."""
    if coding == GZIP:
        level = LATER_PAGE_GZIP_LEVEL if later_page else GZIP_LEVEL
        return gzip.compress(body, compresslevel=level, mtime=0)
    if coding == BROTLI:
        quality = LATER_PAGE_BROTLI_QUALITY if later_page else BROTLI_QUALITY
        compressed: bytes = brotli.compress(body, quality=quality)
        return compressed
    if coding == IDENTITY:
        return body
    raise ValueError(f"no content coding {coding!r}")

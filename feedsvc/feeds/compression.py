"""Content codings for rendered bytes, computed once per rendering, never per request."""

from __future__ import annotations

import brotli
import deflate

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
# rendered again whenever a new article shifts the pages of its feed, and most of a first
# export's feed pages (644 of 1,056 per format at 10,000 articles). On exported later pages of
# 157 KB (bench/results/compression-levels-722e12c-20261130T113820Z.json) gzip 1 + brotli 1
# took 1.31 ms a page against 2.65 ms for 4 + 4, for 23% (gzip) and 11% (brotli) more bytes:
# their siblings pay for themselves after 1.5 compressed requests per rendering rather than 3,
# one request compressed on the fly by nginx (gzip 1) costing 0.86 ms. docs/performance.md.
LATER_PAGE_GZIP_LEVEL = 1
LATER_PAGE_BROTLI_QUALITY = 1
# gzip is written by libdeflate (the ``deflate`` package) rather than zlib: it compresses a
# whole body held in memory, which is all feedsvc compresses, in about half zlib's time at the
# same level and into fewer bytes. On exported feed pages
# (bench/results/compression-levels-268ed47-20261130T212217Z.json): first pages at level 5
# 0.52 against 0.89 ms, 16.4% against 16.8% of the bytes; later pages at level 1 0.43 against
# 0.86 ms, 18.8% against 21.1% (zlib was most of a later page's siblings' time: 0.86 of 1.23 ms).


def encode_all(body: bytes, *, later_page: bool = False) -> dict[str, bytes]:
    """The body in every coding feedsvc serves, deterministic byte for byte; a feed's
    ``later_page`` at the cheaper levels.

    The gzip header holds no clock (libdeflate writes a modification time of 0), so every
    worker and every export produces the same compressed bytes for the same feed.
    """
    return {coding: encode(body, coding, later_page=later_page) for coding in PREFERENCE[::-1]}


def encode(body: bytes, coding: str, *, later_page: bool = False) -> bytes:
    """The body in one coding, as :func:`encode_all` makes it."""
    if coding == GZIP:
        return compress(body, GZIP, LATER_PAGE_GZIP_LEVEL if later_page else GZIP_LEVEL)
    if coding == BROTLI:
        return compress(body, BROTLI, LATER_PAGE_BROTLI_QUALITY if later_page else BROTLI_QUALITY)
    if coding == IDENTITY:
        return body
    raise ValueError(f"no content coding {coding!r}")


def compress(body: bytes, coding: str, level: int) -> bytes:
    """The body in ``coding`` (gzip or br) at ``level`` (brotli's quality), deterministic byte
    for byte: libdeflate's gzip header holds no clock (a modification time of 0)."""
    if coding == GZIP:
        return bytes(deflate.gzip_compress(body, level))  # a bytearray: bodies are immutable
    if coding == BROTLI:
        compressed: bytes = brotli.compress(body, quality=level)
        return compressed
    raise ValueError(f"no compressed content coding {coding!r}")

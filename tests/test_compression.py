"""Content codings (feedsvc.feeds.compression), read back by Python's own gzip and brotli's
decoder: every coding holds the body, and a gzip body carries no clock, so every worker and
every export make the same bytes (and nginx's siblings match what the service sends)."""

from __future__ import annotations

import gzip
import struct

import brotli
import pytest

from feedsvc.feeds.compression import BROTLI, GZIP, IDENTITY, encode, encode_all

BODY = (
    "<?xml version='1.0' encoding='UTF-8'?>\n<rss><channel>"
    + "".join(f"<item><title>Bericht {n} — één</title></item>\n" for n in range(2000))
    + "</channel></rss>\n"
).encode()


@pytest.mark.parametrize("later_page", [False, True])
def test_every_coding_holds_the_body(later_page: bool) -> None:
    codings = encode_all(BODY, later_page=later_page)
    assert codings.keys() == {IDENTITY, GZIP, BROTLI}
    assert codings[IDENTITY] == BODY
    assert gzip.decompress(codings[GZIP]) == BODY
    assert brotli.decompress(codings[BROTLI]) == BODY
    assert len(codings[GZIP]) < len(BODY) // 4
    assert len(codings[BROTLI]) < len(BODY) // 4


@pytest.mark.parametrize("later_page", [False, True])
def test_a_gzip_body_has_no_modification_time(later_page: bool) -> None:
    data = encode(BODY, GZIP, later_page=later_page)
    magic, method, _flags, mtime = struct.unpack("<HBBI", data[:8])
    assert (magic, method) == (0x8B1F, 8)  # gzip, deflate (RFC 1952)
    assert mtime == 0


def test_an_unknown_coding_is_refused() -> None:
    with pytest.raises(ValueError, match="zstd"):
        encode(BODY, "zstd")

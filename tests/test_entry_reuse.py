"""Entries made once and reused across pages (feeds/document.py IdentityCache, the builder's and
writers' caches): the bytes of a page do not depend on what was rendered before it."""

from __future__ import annotations

import json
from dataclasses import replace

import feedparser
import pytest
from test_writers import document

from feedsvc.feeds.document import IdentityCache
from feedsvc.feeds.writers import FORMATS


class Thing:
    """Equal to every other Thing: the cache must tell them apart by identity."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Thing)

    def __hash__(self) -> int:
        return 0


def test_identity_cache_finds_the_same_object_only() -> None:
    cache: IdentityCache[Thing, str] = IdentityCache(10)
    one, other = Thing(), Thing()
    assert cache.made(one, lambda _: "one") == "one"
    assert cache.made(one, lambda _: "again") == "one"
    assert cache.get(other) is None  # equal, not the same
    assert cache.made(other, lambda _: "other") == "other"


def test_identity_cache_drops_the_oldest_beyond_its_size() -> None:
    cache: IdentityCache[Thing, int] = IdentityCache(2)
    things = [Thing() for _ in range(3)]
    for number, thing in enumerate(things):
        cache.put(thing, number)
    assert cache.get(things[0]) is None
    assert (cache.get(things[1]), cache.get(things[2])) == (1, 2)


@pytest.mark.parametrize("extension", ["rss", "atom", "json"])
def test_a_page_reads_the_same_whatever_was_rendered_before(extension: str) -> None:
    fmt = FORMATS[extension]
    page = document(extension, fmt.media_type)
    first = fmt.render(page)
    # The same entries on another page of another feed, in the other order.
    other = replace(
        page,
        title="Andere feed",
        self_url=page.id + "?page=3",
        entries=page.entries[::-1],
    )
    other_bytes = fmt.render(other)
    assert fmt.render(page) == first
    assert _read(other_bytes) == ("Andere feed", [e.link for e in page.entries[::-1]])
    assert _read(first) == (page.title, [e.link for e in page.entries])


def _read(data: bytes) -> tuple[str, list[str]]:
    """The feed's title and its entries' links, read by feedparser (JSON by the json module:
    feedparser reads no JSON Feed)."""
    if data.startswith(b"{"):
        feed = json.loads(data)
        return feed["title"], [item["url"] for item in feed["items"]]
    parsed = feedparser.parse(data)
    return parsed.feed.title, [entry.link for entry in parsed.entries]

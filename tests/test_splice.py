"""RSS and Atom pages with each entry's bytes written once and spliced in (feeds/writers/splice.py)
are the bytes feedgen writes for the whole page, whatever the cache holds; feedparser reads them."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from bench_modules import load
from conftest import BUNDLED_CONTENT
from flask import Flask
from test_writers import document

from feedsvc.feeds import builder
from feedsvc.feeds.catalog import FeedPage
from feedsvc.feeds.document import FeedDocument
from feedsvc.feeds.writers import atom, rss
from feedsvc.feeds.writers.splice import EntryBytes, EntryShape, SpliceError, Written, splice

REPO = Path(__file__).resolve().parent.parent
Render = Callable[[FeedDocument], bytes]
# (extension, spliced, plain, the module whose cache the spliced writer uses, its cache's name)
WRITERS = [
    ("rss", rss.render_rss, rss.render_rss_plain, rss, "ITEMS"),
    ("atom", atom.render_atom, atom.render_atom_plain, atom, "ENTRIES"),
]


def pages_of(app: Flask) -> Iterator[FeedPage]:
    service = app.extensions["feedsvc"]
    size = service.settings.page_size
    for feed in service.publication.catalog.feeds.values():
        for number in range(1, feed.page_count(size) + 1):
            yield feed.page(number, size)


def compare_every_page(app: Flask, extension: str, spliced: Render, plain: Render) -> int:
    """Every page of every feed of ``app`` written both ways, first pages last and then again
    first (so pages find some, all or none of their entries kept); the pages compared."""
    settings = app.extensions["feedsvc"].settings
    pages = list(pages_of(app))
    compared = 0
    for page in [*pages[::-1], *pages]:
        doc = builder.build_document(page, extension, settings)
        expected = plain(doc)
        assert spliced(doc) == expected, f"{page.feed.path} page {page.number}"
        parsed = feedparser.parse(expected)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert [entry.link for entry in parsed.entries] == [e.link for e in doc.entries]
        compared += 1
    return compared


@pytest.fixture(params=WRITERS, ids=[w[0] for w in WRITERS])
def writer(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, Render, Render, EntryBytes]:
    extension, spliced, plain, module, name = request.param
    cache = EntryBytes(getattr(module, name).budget_bytes)
    monkeypatch.setattr(module, name, cache)  # an empty cache of the writer's own budget
    return extension, spliced, plain, cache


@pytest.mark.parametrize("page_size", [50, 3])
def test_every_feed_of_the_fixtures_is_spliced_to_the_same_bytes(
    writer: tuple[str, Render, Render, EntryBytes],
    make_app: Callable[..., Flask],
    page_size: int,
) -> None:
    extension, spliced, plain, cache = writer
    app = make_app(BUNDLED_CONTENT, PAGE_SIZE=page_size)
    assert compare_every_page(app, extension, spliced, plain) >= 2 * 33  # 33 feeds, twice
    assert cache.stats.hits > cache.stats.misses > 0


def test_many_pages_of_a_generated_corpus(
    writer: tuple[str, Render, Render, EntryBytes],
    make_app: Callable[..., Flask],
    tmp_path: Path,
) -> None:
    extension, spliced, plain, cache = writer
    content = tmp_path / "corpus"
    load("corpus").generate(content, 400)
    app = make_app(content, PAGE_SIZE=7)
    assert compare_every_page(app, extension, spliced, plain) > 200
    assert cache.stats.evicted == 0


def test_a_cache_too_small_for_a_page_still_gives_the_same_bytes(
    writer: tuple[str, Render, Render, EntryBytes],
    make_app: Callable[..., Flask],
) -> None:
    extension, spliced, plain, cache = writer
    cache.budget_bytes = 40_000  # a few entries: pages find some kept, most not
    app = make_app(BUNDLED_CONTENT, PAGE_SIZE=50)
    compare_every_page(app, extension, spliced, plain)
    assert cache.stats.evicted > 0
    assert 0 < cache.stats.held_bytes <= cache.budget_bytes


def test_equal_dates_with_other_offsets_are_not_taken_for_each_other(
    writer: tuple[str, Render, Render, EntryBytes],
) -> None:
    extension, spliced, plain, _ = writer
    page = document(extension, "application/xml")
    first = page.entries[0]
    shifted = replace(
        first,
        published=first.published.astimezone(UTC),
        updated=first.updated.astimezone(timezone(timedelta(hours=5))),
    )
    assert shifted == first  # equal as values, written otherwise
    assert spliced(page) == plain(page)
    moved = replace(page, entries=(shifted, *page.entries[1:]))
    assert spliced(moved) == plain(moved) != plain(page)


def test_an_unexpected_shape_is_an_error_not_a_wrong_page() -> None:
    shape = EntryShape(tag=b"item", indent=b"  ", closing=b"</list>\n")
    entries = document("rss", "application/rss+xml").entries
    cache = EntryBytes(10**6)

    def one_item_only(_: object) -> bytes:
        return b"<list>\n  <item>a</item>\n</list>\n"

    with pytest.raises(SpliceError):
        splice(entries, one_item_only, cache, shape)
    with pytest.raises(SpliceError):
        splice(entries, lambda _: b"<list/>\n", cache, shape)
    assert cache.stats.held_entries == 0


def test_the_budget_bounds_what_is_kept() -> None:
    entries = document("rss", "application/rss+xml").entries
    cache = EntryBytes(2 * len(entries[0].content_html) + 200)
    cache.put(entries[0], Written(b"x" * 100))
    cache.put(entries[1], Written(b"y" * 100))
    assert cache.stats.held_bytes <= cache.budget_bytes
    assert cache.get(entries[1]) == Written(b"y" * 100)
    assert cache.get(entries[0]) is None  # the older one went
    cache.put(
        entries[0], Written(b"z" * (cache.budget_bytes + 1))
    )  # larger than the budget: not kept
    assert cache.get(entries[0]) is None


def test_a_process_wide_limit_bounds_every_cache_below_its_own_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(EntryBytes, "_limit_bytes", None)
    entries = document("rss", "application/rss+xml").entries
    cache = EntryBytes(10**6)
    one = len(entries[0].content_html) + len(entries[0].summary) + len(entries[0].title) + 100
    EntryBytes.keep_at_most(one + 10)  # room for one entry, as an export's renderer sets it
    cache.put(entries[0], Written(b"x" * 100))
    cache.put(entries[1], Written(b"y" * 100))
    assert cache.get(entries[0]) is None
    assert cache.get(entries[1]) == Written(b"y" * 100)
    assert cache.stats.held_entries == 1


def test_the_dates_of_an_entry_are_part_of_its_key() -> None:
    entry = document("rss", "application/rss+xml").entries[0]
    cache = EntryBytes(10**6)
    cache.put(entry, Written(b"<item>x</item>\n"))
    later = replace(entry, updated=datetime(2030, 1, 1, tzinfo=UTC))
    assert cache.get(later) is None
    assert cache.get(replace(entry)) == Written(b"<item>x</item>\n")  # equal, not the same object


def test_an_entry_unpickled_in_another_process_hashes_as_one_made_there(tmp_path: Path) -> None:
    """An entry's hash is computed as it is made, and a string's hash differs from process to
    process: one unpickled elsewhere is made again there, so a cache there finds it."""
    entry = document("rss", "application/rss+xml").entries[1]
    (tmp_path / "entry.pickle").write_bytes(pickle.dumps(entry))
    check = (
        "import dataclasses, pickle, sys; "
        "e = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "made = dataclasses.replace(e); "
        "print(hash(e) == hash(made), e.offsets == made.offsets)"
    )
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", check, str(tmp_path / "entry.pickle")],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.split() == ["True", "True"]


def test_a_pages_view_items_are_spliced_whatever_the_view_says_or_whether_there_is_one(
    writer: tuple[str, Render, Render, EntryBytes],
) -> None:
    """The browser view's list items are kept with the entries: by the label they show a source
    with, and apart from the entries of pages without a view."""
    extension, spliced, plain, cache = writer
    page = document(extension, "application/xml")
    assert page.browser_view is not None
    relabelled = replace(page, browser_view=replace(page.browser_view, source_label="Herkomst"))
    bare = replace(page, browser_view=None)
    for version in (page, relabelled, bare, page, bare, relabelled):
        assert spliced(version) == plain(version)
    assert b"Herkomst: " in plain(relabelled)
    assert cache.stats.hits == 3 * len(page.entries)
    assert cache.stats.held_entries == 3 * len(page.entries)

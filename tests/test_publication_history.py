"""The history of dates a publication keeps is the site's: the publication built after an edit
shares it with the one before rather than copying it (at 100,000 articles, copying it was most
of an edit's reload), so a date the one before still gives out, to a request that began before
the edit, is known after it: the same bytes keep that date, other bytes are dated later. And
bytes are dated by their change, never by the moment a process first renders them, even where
an article is dated in the future: a late rendering would take the second of the next edit."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from test_catalog_update import ARTICLES, TITLE

from feedsvc.feeds import publication as publication_module
from feedsvc.feeds.catalog import Catalog, build_catalog, update_catalog
from feedsvc.feeds.publication import Publication, RenderedFeed, _dated
from feedsvc.feeds.state import Recorded
from feedsvc.settings import Settings

SETTINGS = Settings(page_size=2, watch_content=False)


def edited(before: Catalog) -> Catalog:
    """``before`` with its newest article's title changed: the first pages change, the later
    pages of the all-feed show the same articles as before."""
    newest = before.articles[0]
    after = update_catalog(before, [newest], [replace(newest, title=newest.title + " (2)")])
    assert after is not None
    return after


def test_a_date_the_publication_before_gives_after_the_edit_is_kept_after_it() -> None:
    before = build_catalog(TITLE, ARTICLES)
    old, _ = Publication.build(before, SETTINGS)
    edit_seen = datetime.now(UTC) - timedelta(seconds=5)
    new, _ = Publication.build(edited(before), SETTINGS, old, edit_seen)

    # A request that began before the edit renders a later page of the all-feed now.
    given = old.feed("all", "rss", 3)

    assert new.recorded()[("all", "rss", 3)].etag == given.etag
    again = new.feed("all", "rss", 3)
    assert again.body == given.body  # the edit did not touch page 3
    assert again.last_modified == given.last_modified  # so it keeps the date it was given


def test_other_bytes_after_a_date_the_publication_before_gave_are_dated_later() -> None:
    before = build_catalog(TITLE, ARTICLES)
    old, _ = Publication.build(before, SETTINGS)
    # The edit seen before the newest article's date, so that date alone would date both
    # renderings alike: only the shared history tells the new one it was given out already.
    seen = before.articles[0].updated - timedelta(days=1)
    new, _ = Publication.build(edited(before), SETTINGS, old, seen)

    first_then = old.feed("all", "atom", 1)  # rendered by the old one after the edit was seen
    first_now = new.feed("all", "atom", 1)

    assert first_now.body != first_then.body
    assert first_now.last_modified > first_then.last_modified


def test_a_feed_with_an_article_dated_ahead_is_dated_by_its_changes() -> None:
    # An article dated next month: the first pages' newest date is in the future, so only
    # the changes can date their versions, each by its own change, whenever it is rendered.
    now = datetime.now(UTC)
    newest = ARTICLES[0]
    ahead = replace(newest, updated=now + timedelta(days=30), published=now + timedelta(days=30))
    rest = [article for article in ARTICLES if article.id != newest.id]
    start = build_catalog(TITLE, [ahead, *rest])
    assert start.articles[0].id == newest.id
    first, _ = Publication.build(start, SETTINGS)
    one_edit = edited(start)
    first_change = now - timedelta(seconds=20)
    second, _ = Publication.build(one_edit, SETTINGS, first, first_change)
    second_change = now - timedelta(seconds=10)
    third, _ = Publication.build(edited(one_edit), SETTINGS, second, second_change)

    # A request that began on the publication of the first edit renders its page only now.
    late = second.feed("all", "rss", 1)
    latest = third.feed("all", "rss", 1)

    assert late.body != latest.body
    assert late.last_modified == first_change.replace(microsecond=0)
    assert latest.last_modified == second_change.replace(microsecond=0)
    assert latest.http_last_modified == format_datetime(second_change, usegmt=True)


NOW = datetime(2026, 12, 1, 8, 0, 30, 500000, tzinfo=UTC)
NEXT_MONTH = datetime(2027, 1, 1, tzinfo=UTC)
CHANGE = datetime(2026, 12, 1, 8, 0, 10, 250000, tzinfo=UTC)
MADE = datetime(2026, 12, 1, 8, 0, 5, 750000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("newest", "changed_at", "made_at", "expected"),
    [
        # An article of yesterday: its date, or the change after it.
        (NOW - timedelta(days=1), None, MADE, datetime(2026, 11, 30, 8, 0, 30, tzinfo=UTC)),
        (NOW - timedelta(days=1), CHANGE, MADE, datetime(2026, 12, 1, 8, 0, 10, tzinfo=UTC)),
        # An article dated next month: the change, else the publication, else the clock.
        (NEXT_MONTH, CHANGE, MADE, datetime(2026, 12, 1, 8, 0, 10, tzinfo=UTC)),
        (NEXT_MONTH, None, MADE, datetime(2026, 12, 1, 8, 0, 5, tzinfo=UTC)),
        (NEXT_MONTH, None, None, datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC)),
    ],
)
def test_new_bytes_are_dated_by_their_articles_and_changes_never_ahead(
    newest: datetime, changed_at: datetime | None, made_at: datetime | None, expected: datetime
) -> None:
    assert _dated(newest, None, changed_at, NOW, made_at=made_at) == expected
    # After a version dated later, a second after it (the one case that may be ahead).
    before = Recorded('"x"', NOW)
    assert _dated(newest, before, changed_at, NOW, made_at=made_at) == NOW.replace(
        microsecond=0
    ) + timedelta(seconds=1)


def test_bytes_an_edit_replaced_rendered_after_the_new_ones_are_dated_before_them() -> None:
    """A request that began before the edit renders the page once the new publication gave
    out its bytes: dated after those, its date, as If-Modified-Since, would have the newer
    publication answer 304 with the new bytes until the next change."""
    before = build_catalog(TITLE, ARTICLES)
    old, _ = Publication.build(before, SETTINGS)
    new, _ = Publication.build(edited(before), SETTINGS, old, datetime.now(UTC))

    newer = new.feed("all", "atom", 1)
    older = old.feed("all", "atom", 1)

    assert older.body != newer.body
    assert older.last_modified < newer.last_modified
    assert new.recorded()[("all", "atom", 1)] == Recorded(newer.etag, newer.last_modified)
    assert new.feed("all", "atom", 1).last_modified == newer.last_modified


def test_two_publications_rendering_a_page_at_once_date_their_bytes_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both render before either dates (each read the same record): the older bytes are
    dated before the newer, whichever is dated first."""
    recorded = {("all", "atom", 1): Recorded('"x"', datetime.now(UTC) - timedelta(minutes=1))}
    before = build_catalog(TITLE, ARTICLES)
    old, _ = Publication.build(before, SETTINGS, recorded=recorded)
    new, _ = Publication.build(edited(before), SETTINGS, old, datetime.now(UTC))
    both_rendered = threading.Barrier(2)
    variants = publication_module._variants

    def rendered_by_both(*args: Any, **kwargs: Any) -> Any:
        both_rendered.wait(60)
        return variants(*args, **kwargs)

    monkeypatch.setattr(publication_module, "_variants", rendered_by_both)
    got: dict[str, RenderedFeed] = {}
    threads = [
        threading.Thread(target=lambda p=p, n=n: got.__setitem__(n, p.feed("all", "atom", 1)))
        for n, p in (("older", old), ("newer", new))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert got["older"].body != got["newer"].body
    assert got["older"].last_modified < got["newer"].last_modified

"""The history of dates a publication keeps is the site's: the publication built after an edit
shares it with the one before rather than copying it (at 100,000 articles, copying it was most
of an edit's reload), so a date the one before still gives out, to a request that began before
the edit, is known after it: the same bytes keep that date, other bytes are dated later."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from test_catalog_update import ARTICLES, TITLE

from feedsvc.feeds.catalog import Catalog, build_catalog, update_catalog
from feedsvc.feeds.publication import Publication
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

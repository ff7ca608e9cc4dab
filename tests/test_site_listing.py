"""An edit's listing of the site (:meth:`SiteListing.changes`) names every page the edit
changed, and every page that went, as a listing of the whole site afterwards tells it."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from test_catalog_update import ARTICLES, TITLE
from test_export_incremental import (
    ARTICLE,
    add,
    delete_newest,
    edit,
    new_source,
    remove_added,
    write_later,
)

from feedsvc.deploy.sitemap import SiteListing, _list_feed, _pages_changed
from feedsvc.feeds.catalog import build_catalog, update_catalog
from feedsvc.runtime import Runtime
from feedsvc.web import crawlers

_MISSING = object()


def move(folder: Path) -> None:
    """The edited article dated a year earlier: it moves to another place in its feeds, and
    every article between its old and new place moves up one."""
    path = folder / ARTICLE
    write_later(path, path.read_text("utf-8").replace("14-03-2025 09:30", "14-03-2024 09:30", 1))


STEPS: list[Callable[[Path], None]] = [
    lambda folder: edit(folder, "een"),
    move,
    add,
    delete_newest,
    new_source,
    lambda folder: edit(folder, "twee"),
    remove_added,
]


def whole_site(app: Flask) -> dict[str, Hashable]:
    """Every page of the site and its key, as a new listing makes them."""
    return {page.path: page.key for page in SiteListing(app).pages()}


def rename_category(folder: Path) -> None:
    """Every article of a category written another way: the catalog is built anew."""
    for path in folder.rglob("*.txt"):
        text = path.read_text("utf-8")
        if "\n\nNieuws" in text:
            write_later(path, text.replace("\n\nNieuws", "\n\nNIEUWS", 1))


def test_an_edits_listing_names_every_page_it_changed_and_every_page_that_went(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask]
) -> None:
    content = copy_of_bundled_content
    app = make_app(content, PAGE_SIZE=5, SITEMAP_LIMIT=20)
    runtime: Runtime = app.extensions["feedsvc"]
    listing = SiteListing(app)
    first = listing.changes()
    assert first.complete
    before = {page.path: page.key for page in first.pages}
    assert before == whole_site(app)
    for number, step in enumerate(STEPS):
        step(content)
        runtime.refresh()
        changes = listing.changes()
        now = whole_site(app)
        assert not changes.complete, number
        assert changes.count == len(now), number
        assert set(changes.gone) == before.keys() - now.keys(), number
        listed = {page.path: page.key for page in changes.pages}
        assert len(listed) == len(changes.pages), f"{number}: a page listed twice"
        for path, key in now.items():
            if before.get(path, _MISSING) != key:
                assert listed.get(path, _MISSING) == key, f"{number}: {path} not listed"
        if number in (0, 5):
            # An edit of an article's text lists what it can have changed, not the site
            # (adding or removing one changes the counts every category page shows).
            assert len(changes.pages) < len(now) / 2, number
            # Of the feeds' pages, only those it changed: not every page of each feed that
            # holds the article (at 100,000 articles, thousands of the all-feed's).
            unchanged = [
                page.path
                for page in changes.pages
                if page.path.startswith("/feeds/")
                and page.status == 200  # not the example of a bad request
                and before.get(page.path, _MISSING) == now[page.path]
            ]
            assert unchanged == [], number
        before = now


def test_the_sitemaps_after_each_edit_are_those_a_new_process_builds(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask]
) -> None:
    """The sitemaps reuse the entries of the articles and feeds an edit left alone."""
    content = copy_of_bundled_content
    app = make_app(content, PAGE_SIZE=5, SITEMAP_LIMIT=20)
    runtime: Runtime = app.extensions["feedsvc"]
    crawlers.built_sitemaps(app)
    for number, step in enumerate(STEPS):
        step(content)
        runtime.refresh()
        built = crawlers.built_sitemaps(app)
        fresh = crawlers.built_sitemaps(make_app(content, PAGE_SIZE=5, SITEMAP_LIMIT=20))
        assert (built.index, built.parts) == (fresh.index, fresh.parts), number


def test_after_a_full_build_of_the_catalog_every_page_is_listed(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask]
) -> None:
    content = copy_of_bundled_content
    app = make_app(content, PAGE_SIZE=5)
    runtime: Runtime = app.extensions["feedsvc"]
    listing = SiteListing(app)
    listing.changes()
    rename_category(content)
    runtime.refresh()
    changes = listing.changes()
    assert changes.complete
    assert {page.path: page.key for page in changes.pages} == whole_site(app)
    edit(content, "daarna")  # and the edit after it is listed by what it changed again
    runtime.refresh()
    after = listing.changes()
    assert not after.complete
    assert after.count == len(whole_site(app))


@pytest.mark.parametrize("hours", [0, -1, -24 * 300])
def test_a_feed_listed_again_after_an_edit_is_the_feed_listed_anew(hours: int) -> None:
    """Listing a feed again after an edit looks only at the pages where the edited articles
    are when they kept their places, and at every page when one moved: either way its pages
    and keys are those of a listing made anew."""
    before = build_catalog(TITLE, ARTICLES)
    article = before.articles[len(before.articles) // 2]
    when = article.published + timedelta(hours=hours)
    moved = replace(
        article, published=when, updated=max(when, article.updated), title=article.title + "!"
    )
    after = update_catalog(before, [article], [moved])
    assert after is not None
    size, structure = 3, "same"
    places = _pages_changed(
        before.all_feed, after.all_feed, size, (before, after, frozenset({article.id}))
    )
    place = before.articles.index(article)
    if after.articles.index(moved) == place:
        assert places == {place // size + 1}
    else:
        assert places is None  # the articles between its old place and its new one moved
    assert (after.articles.index(moved) == place) == (hours > -24 * 300)
    listed = _list_feed(before.all_feed, size, structure)
    again = _list_feed(after.all_feed, size, structure, listed, places)
    anew = _list_feed(after.all_feed, size, structure)
    for pages, fresh in ((again.later, anew.later), (again.first, anew.first)):
        assert [(p.path, p.key) for p in pages] == [(p.path, p.key) for p in fresh]
    assert [(p.path, p.key) for p in again.html] == [(p.path, p.key) for p in anew.html]


def test_an_edit_that_keeps_every_address_and_date_keeps_every_sitemap(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask]
) -> None:
    """The edited article is another object with the same address and date: the part that
    lists it is the one before, not built again (the export's key for it is unchanged)."""
    content = copy_of_bundled_content
    app = make_app(content, PAGE_SIZE=5, SITEMAP_LIMIT=20)
    runtime: Runtime = app.extensions["feedsvc"]
    before = crawlers.built_sitemaps(app)
    edited = runtime.catalog.by_id[ARTICLE.removesuffix(".txt")]
    edit(content, "een")
    runtime.refresh()
    now = runtime.catalog.by_id[ARTICLE.removesuffix(".txt")]
    assert now is not edited
    assert (now.id, now.updated) == (edited.id, edited.updated)
    after = crawlers.built_sitemaps(app)
    assert len(after.parts) == len(before.parts) > 1
    assert all(part is old for part, old in zip(after.parts, before.parts, strict=True))

"""HTML pages are dated by the rule of the feeds ("Validators" in the README), across restarts.

As in ``test_restart.py``: feedsvc runs over a content folder, stops, the content changes while
it is down, and it starts again over the same content and state folder. A client that keeps
only ``Last-Modified`` and sends ``If-Modified-Since`` is never told 304 for changed bytes; pages
whose bytes did not change keep their date.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUNDLED_CONTENT, ArticleWriter
from flask import Flask
from test_restart import (
    CHANGES_WHILE_DOWN,
    delete_one,
    edit_body,
    five_articles,
    new_category_with_an_old_date,
    nothing,
    stop,
)
from werkzeug.http import parse_date

from feedsvc.deploy.sitemap import endpoint_of, site_pages
from feedsvc.feeds.state import FILE_NAME
from feedsvc.feeds.urls import is_html_page
from feedsvc.runtime import Runtime

# The routes whose pages are dated by publication.page_last_modified: rendered once per
# catalog (feedsvc.web.pagecache), and the widgets and webmasters' pages (on each request).
DATED_PAGES = {
    "feedsvc.index",
    "feedsvc.article",
    "feedsvc.category_page",
    "feedsvc.source_page",
    "feedsvc.all_articles",
    "embed.widget",
    "feedsvc.embed_page",
}
PARK_PAGE = "/artikelen/park.html"
UNTOUCHED_PAGE = "/artikelen/derby.html"  # Sport, Sportclub: shares no listing with the park


def html_pages(app: Flask) -> list[str]:
    """The dated pages of the site as the sitemap lists them (an independent listing)."""
    return [
        page.path
        for page in site_pages(app)
        if page.status == 200 and endpoint_of(app, page.path) in DATED_PAGES
    ]


def get(app: Flask, path: str, since: str | None = None) -> tuple[int, bytes, str, str]:
    """Status, body, ETag and Last-Modified (the client's own date, after a 304)."""
    headers = {"Accept-Encoding": "identity"}
    if since is not None:
        headers["If-Modified-Since"] = since
    response = app.test_client().get(path, headers=headers)
    last_modified = response.headers.get("Last-Modified", since or "")
    return response.status_code, response.data, response.headers.get("ETag", ""), last_modified


def test_every_page_has_a_last_modified_and_answers_if_modified_since(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    five_articles(write_article)
    app = make_app(PAGE_SIZE=2)
    pages = html_pages(app)
    assert {PARK_PAGE, "/", "/berichten/pagina-3.html"} <= set(pages)
    for path in pages:
        status, _, _, last_modified = get(app, path)
        assert status == 200
        assert parse_date(last_modified) is not None, path
        assert get(app, path, since=last_modified)[0] == 304, path
    # First seen, a page is dated by the newest article it shows.
    assert get(app, PARK_PAGE)[3] == "Wed, 12 Mar 2025 09:00:00 GMT"  # 10:00 in Amsterdam
    assert get(app, UNTOUCHED_PAGE)[3] == "Sun, 09 Mar 2025 19:00:00 GMT"


@pytest.mark.parametrize("change", CHANGES_WHILE_DOWN, ids=lambda f: f.__name__)
def test_if_modified_since_never_hides_a_page_changed_while_down(
    content_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    change: Callable[[Path, ArticleWriter], None],
) -> None:
    five_articles(write_article)
    first = make_app(PAGE_SIZE=2)
    before = {path: get(first, path) for path in html_pages(first)}
    stop(first)
    change(content_dir, write_article)
    for _ in range(2):  # and again: once dated, a version keeps its date
        second = make_app(PAGE_SIZE=2)
        changed: set[str] = set()
        for path, (_, old_body, old_etag, old_date) in before.items():
            status, body, etag, last_modified = get(second, path, since=old_date)
            if status == 404:
                assert change is delete_one, path
                continue
            if etag == old_etag:
                assert status == 304, path
                assert last_modified == old_date, path
            else:
                changed.add(path)
                assert status == 200, f"{path}: 304 for changed bytes"
                assert body != old_body, path
                assert parse_date(last_modified) > parse_date(old_date), path
        if change is nothing:
            assert not changed
        else:
            assert UNTOUCHED_PAGE not in changed
        if change in (delete_one, new_category_with_an_old_date):
            assert "/" in changed  # the front page shows every category with its count
        if change is edit_body:
            assert {PARK_PAGE, "/categorie/nieuws/informatief.html"} <= changed
        stop(second)


def test_an_edit_while_running_dates_the_page_after_the_one_clients_have(
    write_article: ArticleWriter, make_app: Callable[..., Flask], content_dir: Path
) -> None:
    five_articles(write_article)
    app = make_app(PAGE_SIZE=2)
    _, old_body, _, old_date = get(app, PARK_PAGE)
    edit_body(content_dir, write_article)
    runtime: Runtime = app.extensions["feedsvc"]
    runtime.refresh()
    status, body, _, last_modified = get(app, PARK_PAGE, since=old_date)
    assert (status, body != old_body) == (200, True)
    assert parse_date(last_modified) > parse_date(old_date)


def test_pages_that_are_gone_are_kept_apart(
    content_dir: Path, state_dir: Path, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    """Gone pages leave what the last run published (and the start's pings), but their dates
    stay, bounded, for a page that comes back (tests/test_state_dates.py)."""
    five_articles(write_article)
    app = make_app(PAGE_SIZE=2)
    for path in html_pages(app):
        get(app, path)
    stop(app)

    def recorded_pages(part: str) -> set[str]:
        rows = json.loads((state_dir / FILE_NAME).read_text("utf-8"))[part]
        return {path for path, ext, *_ in rows if ext == "html"}

    assert "/artikelen/weg.html" in recorded_pages("published")
    delete_one(content_dir, write_article)
    again = make_app(PAGE_SIZE=2)
    assert get(again, PARK_PAGE)[0] == 200
    stop(again)
    published, gone = recorded_pages("published"), recorded_pages("gone")
    assert "/artikelen/weg.html" not in published
    assert "/berichten/pagina-3.html" not in published  # four articles: two pages
    assert {"/artikelen/weg.html", "/berichten/pagina-3.html"} <= gone
    assert PARK_PAGE in published


def test_is_html_page_knows_every_dated_page_of_the_site_and_nothing_else(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(BUNDLED_CONTENT, PAGE_SIZE=5)
    runtime: Runtime = app.extensions["feedsvc"]
    catalog, size = runtime.catalog, runtime.settings.page_size
    pages = html_pages(app)
    assert len(pages) > 50
    for path in pages:
        assert is_html_page(catalog, path, size), path
    others = [
        page.path
        for page in site_pages(app)
        if endpoint_of(app, page.path) not in DATED_PAGES or page.status != 200
    ]
    others += [
        "/artikelen/bestaat-niet.html",
        "/all.html",
        "/berichten/pagina-0.html",
        "/berichten/pagina-01.html",
        "/berichten/pagina-9999.html",
        "/categorie/nieuws/pagina-1.html",  # page 1 is /categorie/nieuws.html
        "/categorie/nieuws/pagina-9999.html",
        "/categorie/bestaat-niet.html",
        "/categorie/nieuws",
        "/embed/bestaat-niet.html",
        "/embed/all.html/x.html",
        "/insluiten/bestaat-niet.html",
        "/insluiten/all.html?aantal=3",
    ]
    for path in others:
        assert not is_html_page(catalog, path, size), path

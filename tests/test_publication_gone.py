"""A reload looks only at the records an edit can have made gone, and dates stay honest.

:meth:`Publication.build` no longer asks of every record ever rendered whether it is still
there (at 100,000 articles that was most of an edit's reload); it looks at the pages of feeds
that lost pages and of articles removed. These tests walk the site as a client would, across
edits that remove and bring back articles, feeds and later pages, and check what a client sees:
a page with other bytes than before is dated after every date it had, and the same bytes keep
their date while the page stays; and the records of pages that are gone stay bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ArticleWriter
from flask import Flask
from test_restart import five_articles
from werkzeug.http import parse_date

from feedsvc.deploy.sitemap import site_pages
from feedsvc.feeds import publication as publication_module
from feedsvc.runtime import Runtime

# The site's pages after each step, with PAGE_SIZE=2: removing articles shortens the
# listings and feeds, and removing the only article of a category or source removes its feed.
STEPS: list[tuple[str, Callable[[Path, ArticleWriter], None]]] = []


def step(function: Callable[[Path, ArticleWriter], None]) -> Callable[[Path, ArticleWriter], None]:
    STEPS.append((function.__name__, function))
    return function


@step
def remove_an_article(content: Path, write_article: ArticleWriter) -> None:
    (content / "weg.txt").unlink()  # one listing page and feed page fewer


@step
def edit_one(content: Path, write_article: ArticleWriter) -> None:
    write_article(
        "park.txt",
        category="Nieuws -> Informatief",
        published="12-03-2025 10:00",
        body=("Het park gaat toch pas zondag open.",),
    )


@step
def remove_a_feed(content: Path, write_article: ArticleWriter) -> None:
    (content / "derby.txt").unlink()  # the only article of Sport and of Sportclub


@step
def bring_them_back(content: Path, write_article: ArticleWriter) -> None:
    write_article("weg.txt", title="Weg weer open", published="10-03-2025 08:00")
    write_article(
        "derby.txt",
        title="Derby verloren",
        category="Sport",
        source="Sportclub",
        published="09-03-2025 20:00",
    )


@step
def remove_two(content: Path, write_article: ArticleWriter) -> None:
    (content / "markt.txt").unlink()
    (content / "oud.txt").unlink()


@step
def bring_back_one(content: Path, write_article: ArticleWriter) -> None:
    write_article("oud.txt", title="Oud bericht", published="01-02-2025 12:00")


def look(app: Flask, path: str, since: str | None) -> tuple[int, str, str]:
    """Status, ETag and Last-Modified of ``path``, asked with ``If-Modified-Since``."""
    headers = {"Accept-Encoding": "identity"}
    if since is not None:
        headers["If-Modified-Since"] = since
    response = app.test_client().get(path, headers=headers)
    response.close()  # a static file's answer holds it open
    return (
        response.status_code,
        response.headers.get("ETag", ""),
        response.headers.get("Last-Modified", ""),
    )


@pytest.mark.parametrize("gone_limit", [10_000, 2])
def test_pages_that_go_and_come_back_are_dated_after_every_version_before(
    content_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    gone_limit: int,
) -> None:
    monkeypatch.setattr(publication_module, "GONE_LIMIT", gone_limit)
    five_articles(write_article)
    app = make_app(PAGE_SIZE=2)
    runtime: Runtime = app.extensions["feedsvc"]
    # Every version each path had: its ETag and date, as a client saw them.
    versions: dict[str, list[tuple[str, str]]] = {}
    present: set[str] = set()  # the pages of the walk before

    def walk() -> None:
        listed = {page.path for page in site_pages(app) if page.status == 200}
        for page in site_pages(app):
            if page.status != 200:
                continue
            before = versions.get(page.path, [])
            since = before[-1][1] if before else None
            status, etag, date = look(app, page.path, since)
            if not etag:
                continue  # not a dated page (a static file)
            if status == 304:
                assert before[-1][0] == etag, f"{page.path}: 304 for other bytes"
                continue
            assert status == 200, page.path
            if page.path in present and before[-1][0] == etag:
                assert date == before[-1][1], f"{page.path}: the same bytes dated anew"
            for old_etag, old_date in before:
                if old_etag != etag:
                    assert parse_date(date) > parse_date(old_date), page.path
            versions.setdefault(page.path, []).append((etag, date))
        present.clear()
        present.update(listed)

    walk()
    for name, change in STEPS:
        change(content_dir, write_article)
        runtime.refresh()
        walk()
        publication = runtime.publication
        gone = [key for key in publication.recorded() if not publication.is_alive(key)]
        assert len(gone) <= gone_limit, name

"""Widgets, the webmasters' pages, sitemaps, robots.txt and the embed scripts are dated like the
pages and feeds ("Validators" in the README): a Last-Modified that answers If-Modified-Since,
later for changed bytes, the same for the same bytes, across reloads and restarts.

Asked of a running server (werkzeug's, on loopback) with a real HTTP client (requests), and the
dates read with the standard library's parser, not feedsvc's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests
from conftest import ArticleWriter, LiveServer
from flask import Flask
from test_restart import five_articles, stop

from feedsvc.runtime import Runtime

PATHS = [
    "/embed/all.html",
    "/embed/categorie/nieuws.html?aantal=8&stijl=compact",
    "/embed/categorie/sport.html",
    "/insluiten/categorie/nieuws.html",
    "/sitemap.xml",
    "/sitemaps/1.xml",
    "/robots.txt",
    "/embed.js",
    "/embed-hoogte.js",
]
# What the change below touches: a new article, with an old date, in Nieuws.
CHANGED = {"/embed/categorie/nieuws.html?aantal=8&stijl=compact", "/sitemaps/1.xml"}


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    servers: list[LiveServer] = []

    def start(app: Flask) -> str:
        servers.append(LiveServer.start(app))
        return servers[-1].url

    yield start
    for server in servers:
        server.stop()


def fetch(base: str, path: str, since: str | None = None) -> requests.Response:
    headers = {"If-Modified-Since": since} if since else {}
    return requests.get(base + path, headers=headers, timeout=30)


def test_every_site_file_answers_if_modified_since(
    write_article: ArticleWriter, make_app: Callable[..., Flask], serve: Callable[[Flask], str]
) -> None:
    five_articles(write_article)
    base = serve(make_app())
    for path in PATHS:
        first = fetch(base, path)
        assert first.status_code == 200, path
        last_modified = first.headers.get("Last-Modified")
        assert last_modified is not None, f"{path}: no Last-Modified"
        assert parsedate_to_datetime(last_modified).tzinfo is not None, path
        again = fetch(base, path, since=last_modified)
        assert again.status_code == 304, path
        assert again.content == b""
        older = fetch(base, path, since="Sat, 01 Jan 2000 00:00:00 GMT")
        assert older.status_code == 200, path


def test_changed_bytes_get_a_later_date_and_the_same_bytes_keep_theirs(
    content_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    serve: Callable[[Flask], str],
) -> None:
    five_articles(write_article)
    app = make_app()
    base = serve(app)
    before = {path: fetch(base, path) for path in PATHS}
    write_article("archief.txt", title="Uit het archief", category="Nieuws", published="01-01-2001")
    runtime: Runtime = app.extensions["feedsvc"]
    assert runtime.refresh()
    for restarted in (False, True):
        changed = set()
        for path, old in before.items():
            since = old.headers["Last-Modified"]
            new = fetch(base, path, since=since)
            if new.status_code == 304:
                assert fetch(base, path).content == old.content, f"{path}: 304 for new bytes"
                continue
            changed.add(path)
            assert new.status_code == 200, path
            assert new.content != old.content, path
            # The change added no newer article: still dated after what clients have.
            assert parsedate_to_datetime(new.headers["Last-Modified"]) > parsedate_to_datetime(
                since
            ), path
        assert changed == CHANGED
        if not restarted:  # the same again from a new process over the same state folder
            stop(app)
            app = make_app()
            base = serve(app)


def test_error_pages_have_no_validators_and_never_become_304(
    write_article: ArticleWriter, make_app: Callable[..., Flask], serve: Callable[[Flask], str]
) -> None:
    """An error is no representation of the resource: preconditions apply only to a 2xx
    (RFC 9110, section 13.2.1), and nginx leaves Last-Modified off error pages too."""
    five_articles(write_article)
    base = serve(make_app())
    for path in ("/bestaat-niet", "/feeds/bestaat-niet.rss", "/embed/bestaat-niet.html"):
        response = requests.get(
            base + path,
            headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT", "If-None-Match": "*"},
            timeout=30,
        )
        assert response.status_code == 404, path
        assert "Last-Modified" not in response.headers, path
        assert "ETag" not in response.headers, path

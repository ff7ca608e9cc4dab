"""Validators and pushes across a restart: what the service knows of change survives it.

Each test runs feedsvc over a content folder, stops it (``Runtime.close``, as at shutdown),
changes the content while it is down, and starts it again over the same content and state
folder. A client that keeps only ``Last-Modified`` and sends ``If-Modified-Since`` must never be
told 304 for bytes that changed, and bytes that did not change keep their date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SITE_URL, ArticleWriter
from flask import Flask
from pytest_httpserver import HTTPServer
from websub_hub import wait_until
from werkzeug.http import parse_date

from feedsvc.runtime import Runtime

RESOURCES = [
    "/feeds/all.rss",
    "/feeds/all.atom",
    "/feeds/all.json",
    "/feeds/all.atom?page=2",
    "/feeds/categorie/nieuws/informatief.atom",
    "/feeds/categorie/sport.json",
    "/feeds/bron/gemeente-amstelveen.rss",
    "/feeds.opml",
]


@dataclass(frozen=True)
class Seen:
    body: bytes
    etag: str
    last_modified: str


def fetch(app: Flask, url: str, since: str | None = None) -> tuple[int, Seen]:
    headers = {"Accept-Encoding": "identity"}
    if since is not None:
        headers["If-Modified-Since"] = since
    response = app.test_client().get(url, headers=headers)
    # Werkzeug leaves Last-Modified out of a 304; the client keeps the date it has.
    last_modified = response.headers.get("Last-Modified", since or "")
    seen = Seen(response.data, response.headers["ETag"], last_modified)
    return response.status_code, seen


def stop(app: Flask) -> None:
    runtime: Runtime = app.extensions["feedsvc"]
    runtime.close()


def five_articles(write_article: ArticleWriter) -> None:
    write_article("park.txt", category="Nieuws -> Informatief", published="12-03-2025 10:00")
    write_article("markt.txt", title="Markt verhuist", published="11-03-2025 09:00")
    write_article("weg.txt", title="Weg dicht", published="10-03-2025 08:00")
    write_article(
        "derby.txt",
        title="Derby gewonnen",
        category="Sport",
        source="Sportclub",
        published="09-03-2025 20:00",
    )
    write_article("oud.txt", title="Oud bericht", published="01-02-2025 12:00")


def edit_body(content_dir: Path, write_article: ArticleWriter) -> None:
    write_article(
        "park.txt",
        category="Nieuws -> Informatief",
        published="12-03-2025 10:00",
        body=("Het park gaat toch pas zondag open.",),
    )


def delete_one(content_dir: Path, write_article: ArticleWriter) -> None:
    (content_dir / "weg.txt").unlink()


def new_category_with_an_old_date(content_dir: Path, write_article: ArticleWriter) -> None:
    write_article(
        "archief.txt", title="Uit het archief", category="Archief", published="01-01-2001"
    )


def nothing(content_dir: Path, write_article: ArticleWriter) -> None:
    pass


# What may happen to the content while feedsvc is down (test_page_dates.py uses them too).
CHANGES_WHILE_DOWN = [edit_body, delete_one, new_category_with_an_old_date, nothing]


@pytest.mark.parametrize("change", CHANGES_WHILE_DOWN, ids=lambda f: f.__name__)
def test_if_modified_since_never_hides_a_change_made_while_down(
    content_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    change: Callable[[Path, ArticleWriter], None],
) -> None:
    five_articles(write_article)
    first = make_app(PAGE_SIZE=2)
    before = {url: fetch(first, url) for url in RESOURCES}
    assert {status for status, _ in before.values()} == {200}
    stop(first)
    change(content_dir, write_article)
    for _ in range(2):  # and again: once dated, a version keeps its date
        second = make_app(PAGE_SIZE=2)
        changed = 0
        for url, (_, old) in before.items():
            status, new = fetch(second, url, since=old.last_modified)
            if new.etag == old.etag:
                assert status == 304, url
                assert new.last_modified == old.last_modified, url
            else:
                changed += 1
                assert status == 200, f"{url}: 304 for changed bytes"
                assert new.body != old.body
                assert parse_date(new.last_modified) > parse_date(old.last_modified), url
        assert (changed == 0) == (change is nothing)
        stop(second)


def test_the_opml_list_follows_its_bytes_not_article_dates(
    content_dir: Path, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    five_articles(write_article)
    app = make_app()
    _, old = fetch(app, "/feeds.opml")
    new_category_with_an_old_date(content_dir, write_article)
    runtime: Runtime = app.extensions["feedsvc"]
    assert runtime.refresh()
    status, new = fetch(app, "/feeds.opml", since=old.last_modified)
    assert status == 200
    assert b"Archief" in new.body
    assert parse_date(new.last_modified) > parse_date(old.last_modified)


def test_the_state_file_is_replaced_whole(
    state_dir: Path, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    five_articles(write_article)
    app = make_app()
    fetch(app, "/feeds/all.atom")
    stop(app)
    assert sorted(p.name for p in state_dir.iterdir()) == [".lock", "published.json"]


def test_a_state_file_that_is_not_ours_is_ignored_with_a_warning(
    state_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
) -> None:
    five_articles(write_article)
    state_dir.mkdir()
    (state_dir / "published.json").write_text("{kapot", encoding="utf-8")
    app = make_app()
    assert fetch(app, "/feeds/all.atom")[0] == 200
    assert any("published.json" in r.getMessage() for r in caplog.records)
    stop(app)  # and then replaced by a good one
    assert fetch(make_app(), "/feeds/all.atom")[1].etag


# -- pushes after a restart ------------------------------------------------------------------------


def test_changes_made_while_down_are_pinged_at_start_gone_feeds_included(
    httpserver: HTTPServer,
    content_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
) -> None:
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=202)
    hub = httpserver.url_for("/hub")
    five_articles(write_article)
    first = make_app(WEBSUB_HUB=hub)
    first_runtime: Runtime = first.extensions["feedsvc"]
    assert first_runtime.announce_changes_since_last_run() == []  # a first start: nothing known
    stop(first)
    assert httpserver.log == []
    (content_dir / "derby.txt").unlink()  # the last article of Sport and of Sportclub
    second = make_app(WEBSUB_HUB=hub)
    runtime: Runtime = second.extensions["feedsvc"]
    runtime.start_watching()  # as at a worker's start: no request is made
    assert runtime.notifier is not None

    def pinged() -> set[str]:
        return {request.form["hub.topic"] for request, _ in httpserver.log}

    expected = {
        f"{SITE_URL}/feeds/{path}.{ext}"
        for path in ("all", "categorie/sport", "bron/sportclub")
        for ext in ("rss", "atom", "json")
    }
    wait_until(lambda: pinged() == expected and runtime.notifier.join(0.1), what=f"{pinged()}")
    stop(second)
    third = make_app(WEBSUB_HUB=hub)
    third_runtime: Runtime = third.extensions["feedsvc"]
    assert third_runtime.announce_changes_since_last_run() == []  # nothing changed since
    stop(third)

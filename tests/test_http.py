"""Aggregator-facing HTTP: validators, conditional requests, caching headers, compression,
live reload with the last good version kept, /healthz, and WebSub pings to a real hub."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import pytest
from conftest import BUNDLED_CONTENT, SITE_URL, ArticleWriter, free_port
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from websub_hub import wait_until
from werkzeug.http import http_date, parse_date
from werkzeug.wrappers import Response

from feedsvc.runtime import Runtime

FEED = "/feeds/all.atom"


def service_of(app: Flask) -> Runtime:
    service: Runtime = app.extensions["feedsvc"]
    return service


# -- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/feeds/all.rss", "/feeds/categorie/nieuws.atom", "/feeds/bron/navo.json"]
)
def test_feed_responses_carry_validators_and_cache_headers(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Vary"] == "Accept, Accept-Encoding"  # browsers get another type
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" not in response.headers  # no hub configured


def test_last_modified_is_the_newest_article_date(client: FlaskClient, bundled_app: Flask) -> None:
    newest = max(a.updated for a in service_of(bundled_app).catalog.articles)
    response = client.get("/feeds/all.rss")
    assert parse_date(response.headers["Last-Modified"]) == newest.astimezone(UTC)


def test_last_modified_is_never_in_the_future(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("toekomst.txt", published="01-01-2099")
    before = datetime.now(UTC).replace(microsecond=0)
    response = make_app().test_client().get(FEED)
    assert before <= parse_date(response.headers["Last-Modified"]) <= datetime.now(UTC)


def test_etag_is_stable_and_different_per_feed(client: FlaskClient) -> None:
    first = client.get("/feeds/all.rss").headers["ETag"]
    assert client.get("/feeds/all.rss").headers["ETag"] == first
    assert client.get("/feeds/all.atom").headers["ETag"] != first


def test_cache_max_age_is_configurable(make_app: Callable[..., Flask]) -> None:
    client = make_app(BUNDLED_CONTENT, CACHE_MAX_AGE=60).test_client()
    assert client.get(FEED).headers["Cache-Control"] == "public, max-age=60"


def test_websub_discovery_headers_when_a_hub_is_configured(make_app: Callable[..., Flask]) -> None:
    client = make_app(
        BUNDLED_CONTENT, WEBSUB_HUB="https://hub.example.org/", PAGE_SIZE=5
    ).test_client()
    response = client.get("/feeds/categorie/nieuws.rss?page=2", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Link"] == (
        '<https://hub.example.org>; rel="hub", '
        f'<{SITE_URL}/feeds/categorie/nieuws.rss?page=2>; rel="self"'
    )
    body = gzip.decompress(response.data)
    assert b'rel="hub" href="https://hub.example.org"' in body
    document = json.loads(client.get("/feeds/all.json").data)
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org"}]


# -- conditional requests -------------------------------------------------------------------------


def test_if_none_match_gives_304_without_a_body(client: FlaskClient) -> None:
    first = client.get(FEED)
    again = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert again.headers["Vary"] == "Accept, Accept-Encoding"
    # RFC 9110 15.4.5: with an ETag present, other representation metadata is left out.
    assert "Content-Encoding" not in again.headers


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ('"nope", {etag}, "other"', 304),
        ("*", 304),
        ("W/{etag}", 304),  # If-None-Match uses the weak comparison
        ('"nope"', 200),
        ("", 200),
        ("garbage without quotes", 200),
    ],
)
def test_if_none_match_lists_star_and_weak(client: FlaskClient, header: str, status: int) -> None:
    etag = client.get(FEED).headers["ETag"]
    response = client.get(FEED, headers={"If-None-Match": header.format(etag=etag)})
    assert response.status_code == status


def test_if_modified_since(client: FlaskClient) -> None:
    last_modified = client.get(FEED).headers["Last-Modified"]
    assert client.get(FEED, headers={"If-Modified-Since": last_modified}).status_code == 304
    later = http_date(parse_date(last_modified) + timedelta(days=1))  # type: ignore[operator]
    assert client.get(FEED, headers={"If-Modified-Since": later}).status_code == 304
    earlier = http_date(parse_date(last_modified) - timedelta(seconds=1))  # type: ignore[operator]
    assert client.get(FEED, headers={"If-Modified-Since": earlier}).status_code == 200


@pytest.mark.parametrize("value", ["yesterday", "", "Mon, 99 Foo 2024 99:99:99 GMT", "0", "\x00"])
def test_malformed_if_modified_since_is_ignored(client: FlaskClient, value: str) -> None:
    assert client.get(FEED, headers={"If-Modified-Since": value}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: FlaskClient) -> None:
    first = client.get(FEED)
    response = client.get(
        FEED,
        headers={
            "If-None-Match": '"something-else"',
            "If-Modified-Since": first.headers["Last-Modified"],
        },
    )
    assert response.status_code == 200


def test_if_match_is_a_precondition(client: FlaskClient) -> None:
    """RFC 9110 section 13.1.1: a strong match serves the page, anything else is 412."""
    etag = client.get(FEED).headers["ETag"]
    assert client.get(FEED, headers={"If-Match": etag}).status_code == 200
    failed = client.get(FEED, headers={"If-Match": '"something-else"'})
    assert failed.status_code == 412
    assert failed.content_type == "text/html; charset=utf-8"  # the error page, not the feed


def test_head_supports_conditionals(client: FlaskClient) -> None:
    etag = client.get(FEED).headers["ETag"]
    assert client.head(FEED, headers={"If-None-Match": etag}).status_code == 304
    head = client.head(FEED)
    assert head.status_code == 200
    assert head.data == b""


def test_opml_is_conditional_too(client: FlaskClient) -> None:
    etag = client.get("/feeds.opml").headers["ETag"]
    assert client.get("/feeds.opml", headers={"If-None-Match": etag}).status_code == 304


# -- compression ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("*", "br"),
        ("identity", None),
        ("deflate", None),
        ("gzip;q=0", None),
        ("", None),
        ("%%garbage;;q=x", None),
    ],
)
def test_content_coding_negotiation(client: FlaskClient, accept: str, coding: str | None) -> None:
    identity = client.get(FEED, headers={"Accept-Encoding": "identity"})
    response = client.get(FEED, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == coding
    decode = {"gzip": gzip.decompress, "br": brotli.decompress, None: lambda b: b}[coding]
    assert decode(response.data) == identity.data
    if coding:
        assert response.headers["ETag"] != identity.headers["ETag"]
        assert int(response.headers["Content-Length"]) == len(response.data) < len(identity.data)


def test_each_coding_revalidates_with_its_own_etag(client: FlaskClient) -> None:
    gz = client.get(FEED, headers={"Accept-Encoding": "gzip"})
    again = client.get(
        FEED, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.headers["ETag"] == gz.headers["ETag"]
    plain = client.get(
        FEED, headers={"Accept-Encoding": "identity", "If-None-Match": gz.headers["ETag"]}
    )
    assert plain.status_code == 200


# -- reload ---------------------------------------------------------------------------------------


@pytest.fixture
def live(write_article: ArticleWriter, make_app: Callable[..., Flask]) -> tuple[Flask, FlaskClient]:
    write_article("a.txt", title="Eerste bericht", published="01-03-2025")
    write_article("b.txt", title="Tweede bericht", published="02-03-2025")
    app = make_app()
    return app, app.test_client()


def titles(client: FlaskClient, url: str = "/feeds/all.json") -> list[str]:
    return [item["title"] for item in json.loads(client.get(url).data)["items"]]


def touch_later(path: Path) -> None:
    """Make sure a rewritten file's mtime differs even on a coarse-grained file system."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_reload_follows_add_edit_break_and_delete(
    live: tuple[Flask, FlaskClient], write_article: ArticleWriter, content_dir: Path
) -> None:
    app, client = live
    service = service_of(app)
    assert titles(client) == ["Tweede bericht", "Eerste bericht"]

    write_article("c.txt", title="Derde bericht", published="03-03-2025")
    service.refresh()
    assert titles(client) == ["Derde bericht", "Tweede bericht", "Eerste bericht"]

    touch_later(write_article("a.txt", title="Eerste bericht, aangepast", published="01-03-2025"))
    service.refresh()
    assert titles(client)[-1] == "Eerste bericht, aangepast"

    touch_later(write_article("a.txt", data="Half opgeslagen\n"))
    service.refresh()
    assert titles(client)[-1] == "Eerste bericht, aangepast"  # last good version kept
    health = json.loads(client.get("/healthz").data)
    assert [r["path"] for r in health["rejected"]] == ["a.txt"]
    assert "last good version" in health["rejected"][0]["message"]

    (content_dir / "b.txt").unlink()
    service.refresh()
    assert titles(client) == ["Derde bericht", "Eerste bericht, aangepast"]


def test_a_change_gives_new_validators_and_later_last_modified(
    live: tuple[Flask, FlaskClient], content_dir: Path
) -> None:
    app, client = live
    before = client.get(FEED)
    (content_dir / "b.txt").unlink()  # removes the newest article: no newer date anywhere
    assert service_of(app).refresh()
    after = client.get(FEED)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert parse_date(after.headers["Last-Modified"]) > parse_date(before.headers["Last-Modified"])  # type: ignore[operator]
    stale = client.get(FEED, headers={"If-Modified-Since": before.headers["Last-Modified"]})
    assert stale.status_code == 200


def test_unchanged_feeds_keep_their_bytes_and_validators(
    live: tuple[Flask, FlaskClient], write_article: ArticleWriter
) -> None:
    app, client = live
    source_feed = "/feeds/bron/gemeente-amstelveen.atom"
    before = client.get(source_feed)
    write_article("other.txt", source="Politie", category="Sport", published="05-03-2025")
    changed = service_of(app).refresh()
    assert f"{SITE_URL}/feeds/bron/politie.atom" in changed
    assert f"{SITE_URL}{source_feed}" not in changed
    after = client.get(source_feed)
    assert after.data == before.data
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.headers["Last-Modified"] == before.headers["Last-Modified"]


def test_refresh_without_changes_changes_nothing(live: tuple[Flask, FlaskClient]) -> None:
    app, _ = live
    publication = service_of(app).publication
    assert service_of(app).refresh() == []
    assert service_of(app).publication is publication


def test_healthz(live: tuple[Flask, FlaskClient]) -> None:
    _, client = live
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    health = json.loads(response.data)
    assert health["status"] == "ok"
    assert health["articles"] == 2
    assert health["rejected"] == []
    datetime.fromisoformat(health["content_loaded_at"])


def test_watcher_picks_up_changes(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("a.txt", title="Eerste bericht")
    app = make_app(WATCH=True)
    client = app.test_client()
    service_of(app).start_watching()  # as gunicorn's post_worker_init hook does
    try:
        assert titles(client) == ["Eerste bericht"]
        assert service_of(app).watcher is not None
        assert service_of(app).watcher.wait_established(timeout=30)
        write_article("nieuw.txt", title="Nieuw bericht", published="01-01-2026")
        wait_until(lambda: "Nieuw bericht" in titles(client), what="the new article served")
        assert titles(client) == ["Nieuw bericht", "Eerste bericht"]
    finally:
        watcher = service_of(app).watcher
        assert watcher is not None
        watcher.stop()


# -- WebSub ---------------------------------------------------------------------------------------


def test_hub_is_pinged_for_exactly_the_changed_feeds(
    httpserver: HTTPServer, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("a.txt", source="Gemeente Amstelveen", category="Nieuws")
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=204)
    app = make_app(WEBSUB_HUB=httpserver.url_for("/hub"))
    write_article("b.txt", source="Politie", category="Sport", published="05-03-2025")
    service = service_of(app)
    changed = service.refresh()
    assert service.notifier is not None
    assert service.notifier.join(timeout=30)
    pinged = sorted(request.form["hub.url"] for request, _ in httpserver.log)
    assert pinged == sorted(changed)
    assert {request.form["hub.mode"] for request, _ in httpserver.log} == {"publish"}
    assert all(
        request.form["hub.topic"] == request.form["hub.url"] for request, _ in httpserver.log
    )
    expected = {
        f"{SITE_URL}/feeds/{path}.{ext}"
        for path in ("all", "categorie/sport", "bron/politie")
        for ext in ("rss", "atom", "json")
    }
    assert set(pinged) == expected


def test_a_hub_that_is_down_is_retried_and_never_blocks(
    write_article: ArticleWriter, make_app: Callable[..., Flask], unused_port: int
) -> None:
    write_article("a.txt")
    app = make_app(WEBSUB_HUB=f"http://127.0.0.1:{unused_port}/hub")
    service = service_of(app)
    assert service.notifier is not None
    service.notifier.first_backoff = 0.01
    write_article("b.txt", published="05-03-2025")
    assert service.refresh()
    assert app.test_client().get(FEED).status_code == 200
    assert service.notifier.join(timeout=60)


def test_a_slow_hub_times_out_and_is_retried(
    httpserver: HTTPServer, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    calls: list[float] = []

    def slow_then_fine(request: object) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(0.5)  # longer than the notifier's timeout
        return Response("", status=202)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(slow_then_fine)
    write_article("a.txt")
    app = make_app(WEBSUB_HUB=httpserver.url_for("/hub"))
    service = service_of(app)
    assert service.notifier is not None
    service.notifier.timeout = 0.2
    service.notifier.first_backoff = 0.01
    write_article("b.txt", published="05-03-2025")
    changed = service.refresh()
    assert service.notifier.join(timeout=60)
    # The hub serves one request at a time, so a retry may queue behind the slow one and time
    # out as well; what matters is that pings were retried and every URL was delivered.
    assert len(calls) > len(changed)
    assert {request.form["hub.url"] for request, _ in httpserver.log} == set(changed)


@pytest.fixture
def unused_port() -> int:
    return free_port()

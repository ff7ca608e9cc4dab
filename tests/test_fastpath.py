"""The fast path (feedsvc.web.fastpath) answers exactly as the Flask routes behind it do.

Both are called with the same request: the middleware the app runs (``app.wsgi_app``) and
Flask's own WSGI app behind it (``FastPath.flask_app``, the routes). Their answers must have the
same status, body and headers, all of them in any order, ``Date`` aside (the fast path leaves it
to the server). Each request the fast path is meant to answer is checked to be answered by it
(not handed on), and each it must leave to Flask to be handed on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import BUNDLED_CONTENT, ArticleWriter
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from feedsvc.feeds.urls import OPML_DIRECTORY_PATH, OPML_PATH, feed_path
from feedsvc.feeds.writers import FORMATS
from feedsvc.web.app import runtime
from feedsvc.web.fastpath import FastPath

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
READER = "application/rss+xml, application/atom+xml, application/feed+json, */*;q=0.1"
ACCEPTS: tuple[str | None, ...] = (BROWSER, READER, "text/*", None)
ENCODINGS: tuple[str | None, ...] = (
    None,
    "gzip, deflate, br, zstd",
    "gzip",
    "br",
    "identity",
    "*",
    "gzip;q=0, br;q=0",
    "br;q=0, gzip;q=0.5",
    "*;q=0",
)
Answer = tuple[str, list[tuple[str, str]], bytes]


def environ(
    path: str, headers: dict[str, str] | None = None, method: str = "GET", **extra: Any
) -> dict[str, Any]:
    url, _, query = path.partition("?")
    return EnvironBuilder(
        path=url, query_string=query, method=method, headers=headers or {}, **extra
    ).get_environ()


def call(app: Callable[..., Any], env: dict[str, Any]) -> Answer:
    """Status, headers without Date, and body, as a server would send them."""
    app_iter, status, headers = run_wsgi_app(app, dict(env), buffered=True)
    body = b"".join(app_iter)
    kept = sorted((k, v) for k, v in headers.to_wsgi_list() if k.lower() != "date")
    return status, kept, body


def fast_path(app: Flask) -> FastPath:
    middleware = app.wsgi_app
    assert isinstance(middleware, FastPath)
    return middleware


def same_answer(app: Flask, path: str, headers: dict[str, str], method: str = "GET") -> Answer:
    """Both paths' answer to the request, checked equal and answered by the fast path."""
    middleware = fast_path(app)
    env = environ(path, headers, method)
    assert middleware.answer(dict(env)) is not None, f"{method} {path} {headers} went to Flask"
    ours, flask = call(middleware, env), call(middleware.flask_app, env)
    assert ours == flask, f"{method} {path} {headers}"
    return ours


def header(answer: Answer, name: str) -> str:
    return next(v for k, v in answer[1] if k.lower() == name.lower())


def conditionals(plain: Answer) -> Iterator[dict[str, str]]:
    """Conditional headers around the validators of ``plain`` (a 200)."""
    etag = header(plain, "ETag")
    modified = parsedate_to_datetime(header(plain, "Last-Modified"))
    before = format_datetime(modified - timedelta(days=1), usegmt=True)
    after = format_datetime(modified + timedelta(days=1), usegmt=True)
    yield {"If-None-Match": etag}
    yield {"If-None-Match": "W/" + etag}
    yield {"If-None-Match": f'"something-else", {etag}'}
    yield {"If-None-Match": "*"}
    yield {"If-None-Match": '"something-else"'}
    yield {"If-None-Match": etag.strip('"')}  # unquoted: no tag at all
    yield {"If-Modified-Since": header(plain, "Last-Modified")}
    yield {"If-Modified-Since": before}
    yield {"If-Modified-Since": after}
    yield {"If-Modified-Since": "gisteren"}
    yield {"If-None-Match": '"something-else"', "If-Modified-Since": after}  # ETag decides
    yield {"If-None-Match": etag, "If-Modified-Since": before}
    yield {"If-Unmodified-Since": before}  # ignored by the route


@pytest.fixture(params=[None, "https://hub.example.net/"], ids=["no-hub", "hub"])
def app(request: pytest.FixtureRequest, make_app: Callable[..., Flask]) -> Flask:
    """The bundled content in pages of 4 articles, so feeds have second and later pages."""
    config: dict[str, Any] = {"PAGE_SIZE": 4}
    if request.param:
        config["WEBSUB_HUB"] = request.param
    return make_app(BUNDLED_CONTENT, **config)


def every_resource(app: Flask) -> list[str]:
    catalog = runtime(app).catalog
    size = runtime(app).settings.page_size
    paths = [OPML_PATH, OPML_DIRECTORY_PATH]
    for feed in catalog.feeds.values():
        for extension in FORMATS:
            paths += [feed_path(feed, extension, n) for n in (1, 2) if n <= feed.page_count(size)]
    return paths


def test_every_variant_of_every_feed_and_list(app: Flask) -> None:
    paths = every_resource(app)
    assert any("?page=2" in path for path in paths)
    statuses = set()
    for path in paths:
        for accept in (BROWSER, None):
            for encoding in ("gzip, deflate, br, zstd", "gzip", None):
                headers = {"Accept": accept} if accept else {}
                if encoding:
                    headers["Accept-Encoding"] = encoding
                plain = same_answer(app, path, headers)
                statuses.add(plain[0])
                etag = header(plain, "ETag")
                statuses.add(same_answer(app, path, {**headers, "If-None-Match": etag})[0])
                same_answer(app, path, headers, method="HEAD")
    assert statuses == {"200 OK", "304 NOT MODIFIED"}


@pytest.mark.parametrize(
    "path",
    ["/feeds/all.rss", "/feeds/all.atom?page=2", "/feeds/all.json", OPML_PATH, OPML_DIRECTORY_PATH],
)
def test_request_table(app: Flask, path: str) -> None:
    """Every Accept and Accept-Encoding, each with every conditional request, GET and HEAD."""
    seen: dict[str, set[str]] = {"status": set(), "type": set(), "coding": set()}
    for accept in ACCEPTS:
        for encoding in ENCODINGS:
            headers: dict[str, str] = {}
            if accept is not None:
                headers["Accept"] = accept
            if encoding is not None:
                headers["Accept-Encoding"] = encoding
            plain = same_answer(app, path, headers)
            assert plain[0] == "200 OK"
            assert header(plain, "Content-Length") == str(len(plain[2]))
            seen["type"].add(header(plain, "Content-Type"))
            seen["coding"].add(dict(plain[1]).get("Content-Encoding", "identity"))
            head = same_answer(app, path, headers, method="HEAD")
            assert head[2] == b""
            assert head[1] == plain[1]
            for condition in conditionals(plain):
                for method in ("GET", "HEAD"):
                    answer = same_answer(app, path, {**headers, **condition}, method=method)
                    seen["status"].add(answer[0])
    # The table reaches every outcome: both representations of a feed, every coding, 304s.
    assert seen["status"] == {"200 OK", "304 NOT MODIFIED"}
    assert seen["coding"] == {"identity", "gzip", "br"}
    assert len(seen["type"]) == (1 if path.endswith(".opml") else 2)


@pytest.mark.parametrize(
    ("path", "headers", "method"),
    [
        ("/feeds/all.rss?page=1", {}, "GET"),  # a redirect to the canonical URL
        ("/feeds/all.rss?page=%32", {}, "GET"),
        ("/feeds/all.rss?x=1", {}, "GET"),
        ("/feeds/all.rss?page=2&page=3", {}, "GET"),  # a 400
        ("/feeds/all.rss?page=0", {}, "GET"),
        ("/feeds/all.rss?page=999", {}, "GET"),  # no such page: 404
        ("/feeds/all.rss?page=02", {}, "GET"),
        ("/feeds/onbekend.rss", {}, "GET"),
        ("/feeds/all.xml", {}, "GET"),
        ("/feeds/all", {}, "GET"),
        ("/feeds//all.rss", {}, "GET"),
        ("/feeds/all.rss/", {}, "GET"),
        ("/feeds.opml?x=1", {}, "GET"),
        ("/feeds/all.rss", {"If-Match": '"something-else"'}, "GET"),  # 412
        ("/feeds/all.rss", {"If-Match": "*"}, "GET"),
        ("/feeds/all.rss", {"Range": "bytes=0-99"}, "GET"),
        ("/feeds/all.rss", {"If-Range": '"x"', "Range": "bytes=0-99"}, "GET"),
        ("/feeds/all.rss", {"Connection": "Upgrade", "Upgrade": "websocket"}, "GET"),
        ("/feeds/all.rss", {}, "POST"),  # 405
        ("/feeds/all.rss", {}, "OPTIONS"),
        ("/", {}, "GET"),
        ("/static/feed.css", {}, "GET"),
    ],
)
def test_what_only_flask_decides_goes_to_flask(
    app: Flask, path: str, headers: dict[str, str], method: str
) -> None:
    middleware = fast_path(app)
    env = environ(path, headers, method)
    assert middleware.answer(dict(env)) is None
    assert call(middleware, env) == call(middleware.flask_app, env)


def test_a_host_flask_cannot_route_goes_to_flask(app: Flask) -> None:
    """Werkzeug cannot IDNA-encode ``a..b``: Flask's URL adapter refuses the request, so the
    fast path must not answer it (what Flask then answers is its business)."""
    middleware = fast_path(app)
    assert middleware.answer(environ("/feeds/all.rss", {"Host": "a..b"})) is None
    assert middleware.answer(environ("/feeds/all.rss", {"Host": "nieuws.example.nl"}))


def test_untrusted_hosts_go_to_flask(make_app: Callable[..., Flask]) -> None:
    app = make_app(BUNDLED_CONTENT, TRUSTED_HOSTS=["nieuws.example.nl"])
    middleware = fast_path(app)
    trusted = environ("/feeds/all.rss", {"Host": "nieuws.example.nl"})
    untrusted = environ("/feeds/all.rss", {"Host": "elders.example.com"})
    assert middleware.answer(dict(trusted)) is not None
    assert middleware.answer(dict(untrusted)) is None


def test_a_reload_is_served_at_once(
    make_app: Callable[..., Flask], write_article: ArticleWriter, content_dir: Path
) -> None:
    write_article("2025/eerste.txt", title="Eerste bericht", published="01-03-2025")
    app = make_app(content_dir)
    before = same_answer(app, "/feeds/all.rss", {"Accept-Encoding": "gzip"})
    write_article("2025/tweede.txt", title="Tweede bericht", published="02-03-2025")
    runtime(app).refresh()
    after = same_answer(app, "/feeds/all.rss", {"Accept-Encoding": "gzip"})
    assert header(after, "ETag") != header(before, "ETag")
    assert after[2] != before[2]
    # What a client has from before is no longer current.
    stale = {"Accept-Encoding": "gzip", "If-None-Match": header(before, "ETag")}
    assert same_answer(app, "/feeds/all.rss", stale)[0] == "200 OK"
    plain = same_answer(app, "/feeds/all.rss", {})
    assert b"Tweede bericht" in plain[2]


def test_responses_are_made_once_per_rendering(app: Flask) -> None:
    middleware = fast_path(app)
    rendered = runtime(app).publication.feed("all", "rss")
    assert middleware.answer(environ("/feeds/all.rss")) is not None
    made = rendered.derived[next(iter(rendered.derived))]
    assert middleware.answer(environ("/feeds/all.rss", {"Accept": BROWSER})) is not None
    assert rendered.derived[next(iter(rendered.derived))] is made
    # The body is the rendering's own bytes, not a copy per variant.
    assert made.reader["identity"].body is rendered.variants["identity"].body


def test_a_variant_is_made_when_first_asked_for(app: Flask) -> None:
    middleware = fast_path(app)
    rendered = runtime(app).publication.feed("all", "rss")
    assert middleware.answer(environ("/feeds/all.rss", {"Accept-Encoding": "gzip"})) is not None
    made = rendered.derived[next(iter(rendered.derived))]
    assert dict(made.reader).keys() == {"gzip"}
    assert made.browser is not None
    assert not dict(made.browser)
    found = middleware.answer(environ("/feeds/all.rss", {"Accept": BROWSER}))
    assert found is not None
    assert found[2] == rendered.variants["identity"].body
    assert dict(made.browser).keys() == {"identity"}
    assert dict(made.reader).keys() == {"gzip"}
    # A coding the rendering does not have is no answer, made or not.
    with pytest.raises(KeyError):
        made.reader["compress"]

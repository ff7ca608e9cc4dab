"""The bad-input catalogue (docs/bad-input.md), one or more tests per row.

Each test is marked with the rows it covers (``@covers("row-id")``); the last test checks that
every row of the table in docs/bad-input.md is covered and that no test names a row the table
lacks. What the Flask test client cannot send (raw request lines, huge headers, bytes that are
not URL-encoded) is sent to a real gunicorn on loopback.

Every case must get a clear 4xx (or a clear content error) and leave the service serving: no
5xx, ever, and the feeds still valid afterwards.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import lxml.html
import pytest
from bench_modules import load
from conftest import BUNDLED_CONTENT, REPO, SITE_URL, article_text, environment_without_settings
from feedcheck import assert_valid_atom, assert_valid_json_feed, assert_valid_rss
from file_access import watch_file_access
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websub_hub import wait_until
from werkzeug.test import TestResponse

from feedsvc import create_app
from feedsvc.articles import store as store_module
from feedsvc.articles.parser import parse_article
from feedsvc.articles.store import _FILE_FLAGS, _Found, _read_article_file
from feedsvc.errors import ConfigError
from feedsvc.feeds.writers import FORMATS
from feedsvc.runtime import Runtime

CATALOGUE = REPO / "docs" / "bad-input.md"
FEED = "/feeds/all.rss"
COVERED: set[str] = set()
F = TypeVar("F", bound=Callable[..., Any])


def covers(*rows: str) -> Callable[[F], F]:
    """Mark a test as covering rows of the catalogue table."""
    COVERED.update(rows)

    def mark(test: F) -> F:
        return test

    return mark


def service_of(app: Flask) -> Runtime:
    service: Runtime = app.extensions["feedsvc"]
    return service


def assert_still_serving(client: FlaskClient) -> None:
    """The feeds are there and valid, in every format."""
    for extension in FORMATS:
        response = client.get(f"/feeds/all.{extension}")
        assert response.status_code == 200
        validate(response.data, extension, SITE_URL + f"/feeds/all.{extension}")


def validate(data: bytes, extension: str, url: str) -> Any:
    validators: dict[str, Callable[[bytes, str], Any]] = {
        "rss": assert_valid_rss,
        "atom": assert_valid_atom,
        "json": assert_valid_json_feed,
    }
    return validators[extension](data, url)


def health(client: FlaskClient) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(client.get("/healthz").data)
    return data


def assert_clear_4xx(response: TestResponse, status: int) -> None:
    assert response.status_code == status, response.data[:300]
    if response.content_type.startswith("text/html"):
        assert str(status).encode() in response.data  # the error page says what happened


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    """One app over the bundled content for the whole module: these tests only read."""
    config = {"TESTING": True, "CONTENT_DIR": str(BUNDLED_CONTENT), "SITE_URL": SITE_URL}
    return create_app({**config, "WATCH": False}).test_client()


# -- paths and URLs -------------------------------------------------------------------------------


@covers("dotdot")
@pytest.mark.parametrize(
    "url",
    [
        "/feeds/../../etc/passwd.rss",
        "/feeds/categorie/../../../wsgi.py",
        "/static/../../wsgi.py",
        "/static/../feedsvc/web.py",
        "/artikelen/../content/2024/000_3a5bf95db61d80b1.txt",
        "/artikelen/../../etc/passwd.html",
        "/categorie/../../etc/passwd.html",
        "/embed/../../etc/passwd.html",
    ],
)
def test_dot_dot_segments_are_404(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert_clear_4xx(response, 404)
    assert b"root:" not in response.data
    assert b"import" not in response.data


@covers("dotdot-encoded")
@pytest.mark.parametrize(
    "url",
    [
        "/feeds/%2e%2e/%2e%2e/etc/passwd.rss",
        "/feeds/%2E%2E%2F%2E%2E%2Fwsgi.rss",
        "/static/%2e%2e/%2e%2e/wsgi.py",
        "/static/..%2f..%2fwsgi.py",
        "/static/%252e%252e/%252e%252e/wsgi.py",
        "/artikelen/%2e%2e/%2e%2e/wsgi.html",
        "/bron/..%2F..%2Fetc%2Fpasswd.html",
    ],
)
def test_encoded_dot_dot_segments_are_404(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert_clear_4xx(response, 404)
    assert b"create_app" not in response.data


@covers("encoded-slash")
def test_an_encoded_slash_is_a_slash(client: FlaskClient) -> None:
    """WSGI servers decode %2F before routing: the same feed, never a way out of a route."""
    plain = client.get("/feeds/categorie/nieuws.rss")
    encoded = client.get("/feeds/categorie%2fnieuws.rss")
    assert encoded.status_code == 200
    assert encoded.data == plain.data
    assert_clear_4xx(client.get("/static/..%2f..%2fwsgi.py"), 404)
    assert_clear_4xx(client.get("/feeds/categorie%2f..%2f..%2fall.rss"), 404)


@covers("absolute-path")
@pytest.mark.parametrize(
    "url",
    [
        "//etc/passwd",
        "/feeds//etc/passwd.rss",
        "/feeds//all.rss",
        "/static//etc/passwd",
        "/artikelen//etc/passwd.html",
        "/artikelen//2024/000_3a5bf95db61d80b1.html",
        "/categorie//nieuws.html",
    ],
)
def test_absolute_paths_inside_paths_are_404_without_a_redirect(
    client: FlaskClient, url: str
) -> None:
    """No redirect to a merged path: Werkzeug would build its Location from the Host header."""
    response = client.get(url, headers={"Host": "evil.example"})
    assert_clear_4xx(response, 404)
    assert "Location" not in response.headers


@covers("nul")
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/feeds/%00.rss", 404),
        ("/feeds/all.rss%00.rss", 404),
        ("/feeds/all%00.rss", 404),
        ("/artikelen/%00.html", 404),
        ("/categorie/nieuws%00.html", 404),
        ("/static/style.css%00", 404),
        ("/%00", 404),
        ("/feeds/all.rss?page=%00", 400),
        ("/feeds/all.rss?page=2%00", 400),
    ],
)
def test_nul_bytes_are_4xx(client: FlaskClient, url: str, status: int) -> None:
    assert_clear_4xx(client.get(url), status)


@covers("long-url")
def test_very_long_paths_and_query_strings(client: FlaskClient) -> None:
    assert_clear_4xx(client.get("/" + "a" * 100_000), 404)
    assert_clear_4xx(client.get("/feeds/" + "x/" * 30_000 + "all.rss"), 404)
    # Unknown parameters are ignored, however many.
    response = client.get(FEED + "?" + "x=1&" * 25_000)
    assert response.status_code == 200
    assert_clear_4xx(client.get(FEED + "?page=2&" + "page=3&" * 10_000), 400)


@covers("non-ascii-path")
@pytest.mark.parametrize(
    "url",
    [
        "/feeds/caf%C3%A9.rss",
        "/feeds/categorie/%E2%80%AE%E2%80%AB.atom",
        "/artikelen/%C4%B3s.html",
        "/bron/%F0%9F%8E%89.html",
        "/categorie/%EF%BF%BE.html",
    ],
)
def test_non_ascii_paths_that_name_nothing_are_404(client: FlaskClient, url: str) -> None:
    assert_clear_4xx(client.get(url), 404)


@covers("bad-percent")
@pytest.mark.parametrize(
    "url",
    [
        "/feeds/%zz.rss",
        "/feeds/%.rss",
        "/feeds/%C3.rss",
        "/feeds/%ff%fe.rss",
        "/artikelen/%C0%AE%C0%AE/wsgi.html",  # overlong UTF-8 for ".."
        "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/wsgi.py",
    ],
)
def test_invalid_percent_encoding_is_404(client: FlaskClient, url: str) -> None:
    assert_clear_4xx(client.get(url), 404)


@covers("crlf-injection")
@pytest.mark.parametrize(
    "url",
    [
        "/feeds/all.rss%0d%0aSet-Cookie:%20x=1",
        "/feeds/categorie/nieuws.atom?page=1%0d%0aLocation:%20https://evil.example",
        "/%0d%0aLocation:%20https://evil.example",
    ],
)
def test_line_breaks_in_urls_never_make_headers(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert 400 <= response.status_code < 500
    assert "Set-Cookie" not in response.headers
    assert "evil.example" not in response.headers.get("Location", "")


@covers("page-number")
@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=1.5",
        "page=",
        "page=1e3",
        "page=" + "1" + "0" * 100,  # 10**100
        "page=%EF%BC%92",  # a full-width 2
        "page=+2",
        "page=%202",
        "page=0x2",
        "page=2&page=2",
    ],
)
def test_bad_page_numbers_are_400(client: FlaskClient, query: str) -> None:
    response = client.get(f"/feeds/all.json?{query}")
    assert_clear_4xx(response, 400)
    assert "page" in response.get_data(as_text=True)


@covers("page-number")
def test_page_numbers_out_of_range_and_the_first_page(client: FlaskClient) -> None:
    assert_clear_4xx(client.get("/feeds/all.json?page=2"), 404)  # 35 articles, 50 a page
    assert_clear_4xx(client.get("/feeds/all.json?page=999999999"), 404)
    first = client.get("/feeds/all.json?page=1", headers={"Host": "evil.example"})
    assert first.status_code == 301
    assert first.headers["Location"] == "/feeds/all.json"


@covers("unknown-extension")
@pytest.mark.parametrize(
    "url",
    [
        "/feeds/all.xml",
        "/feeds/all",
        "/feeds/all.RSS",
        "/feeds/all.rss.bak",
        "/feeds/all.rss~",
        "/feeds/all.",
        "/feeds/.rss",
        "/feeds.opml.bak",
        "/artikelen/2024/000_3a5bf95db61d80b1.txt",
        "/artikelen/2024/000_3a5bf95db61d80b1",
        "/categorie/nieuws",
        "/categorie/nieuws.htm",
        "/bron/navo.json",
    ],
)
def test_unknown_extensions_are_404(client: FlaskClient, url: str) -> None:
    assert_clear_4xx(client.get(url), 404)


@covers("unknown-method")
@pytest.mark.parametrize(
    "method", ["TRACE", "PROPFIND", "PROPPATCH", "MKCOL", "CONNECT", "PUT", "DELETE", "POST", "FOO"]
)
@pytest.mark.parametrize("url", [FEED, "/", "/feeds.opml", "/healthz", "/artikelen/x.html"])
def test_other_methods_are_405_with_allow(client: FlaskClient, method: str, url: str) -> None:
    response = client.open(url, method=method)
    assert_clear_4xx(response, 405)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert b"TRACE" not in response.data  # nothing of the request is reflected


@covers("unknown-method")
def test_options_says_what_is_allowed(client: FlaskClient) -> None:
    response = client.open(FEED, method="OPTIONS")
    assert response.status_code == 200
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.data == b""


# What a fresh process answers to a 405 and to OPTIONS, with the Allow header of each.
ALLOW_PROBE = """
from feedsvc import create_app
client = create_app({"WATCH": False}).test_client()
print(client.post("/feeds/all.rss").headers["Allow"])
print(client.open("/feeds/all.rss", method="OPTIONS").headers["Allow"])
"""


@covers("unknown-method")
def test_every_process_sends_the_same_allow_header(tmp_path: Path) -> None:
    """Werkzeug collects the methods in a set, whose order follows the process's hash seed:
    gunicorn's workers (and the export's nginx) must not each send another order."""
    answers = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        env = environment_without_settings(
            PYTHONHASHSEED=seed, FEEDSVC_STATE_DIR=str(tmp_path / seed)
        )
        done = subprocess.run(
            [sys.executable, "-c", ALLOW_PROBE],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        answers.add(done.stdout)
    assert answers == {"GET, HEAD, OPTIONS\nGET, HEAD, OPTIONS\n"}


# -- request headers ------------------------------------------------------------------------------


@covers("if-modified-since")
@pytest.mark.parametrize(
    "value",
    [
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 +9999",
        "Sun, 06 Nov 1994 08:49:37 -0000",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "2024-10-28T00:00:00Z",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "-1",
        "\x7f",
        "x" * 10_000,
    ],
)
def test_old_or_malformed_if_modified_since_gives_the_feed(client: FlaskClient, value: str) -> None:
    response = client.get(FEED, headers={"If-Modified-Since": value})
    assert response.status_code == 200
    assert response.data


@covers("if-modified-since")
def test_a_far_future_if_modified_since_is_a_valid_date(client: FlaskClient) -> None:
    response = client.get(FEED, headers={"If-Modified-Since": "Fri, 31 Dec 9999 23:59:59 GMT"})
    assert response.status_code == 304  # a date, and the feed has not changed since


@covers("if-none-match")
@pytest.mark.parametrize(
    "value",
    ['"unterminated', "W/", 'W/"', ",,,,", '""', '"a" "b"', "\x7f", " " * 1000],
)
def test_malformed_if_none_match_gives_the_feed(client: FlaskClient, value: str) -> None:
    response = client.get(FEED, headers={"If-None-Match": value})
    assert response.status_code == 200
    assert response.data


@covers("if-none-match")
def test_a_long_if_none_match_list_is_searched(client: FlaskClient) -> None:
    etag = client.get(FEED).headers["ETag"]
    many = ", ".join(f'"{n:032x}"' for n in range(1000))
    assert client.get(FEED, headers={"If-None-Match": many}).status_code == 200
    assert client.get(FEED, headers={"If-None-Match": many + ", " + etag}).status_code == 304


@covers("accept-encoding")
@pytest.mark.parametrize(
    ("value", "coding"),
    [
        ("gzip;q=nan", None),
        ("br;q=inf, gzip;q=-inf", None),
        ("gzip;q=1e999", None),
        ("gzip;q=-1", None),
        ("x-gzip, compress, zstd", None),
        ("identity;q=0", None),
        ("*;q=0", None),
        (";;;,,,", None),
        ("gzip;" + "a=b;" * 2000, None),  # parameters Accept-Encoding does not have
        ("br, " * 2000 + "gzip", "br"),
    ],
)
def test_malformed_accept_encoding_gives_a_coding_the_client_can_read(
    client: FlaskClient, value: str, coding: str | None
) -> None:
    identity = client.get(FEED, headers={"Accept-Encoding": "identity"})
    response = client.get(FEED, headers={"Accept-Encoding": value})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == coding
    if coding is None:
        assert response.data == identity.data


@covers("range")
@pytest.mark.parametrize(
    "headers",
    [
        {"Range": "bytes=0-10"},
        {"Range": "bytes=-1"},
        {"Range": "bytes=0-0,5-5,10-10"},
        {"Range": "bytes=9-0"},
        {"Range": "bytes=99999999999999999999-"},
        {"Range": "garbage"},
        {"Range": "bytes=0-10", "If-Range": '"whatever"'},
        {"Range": "bytes=0-10", "If-Range": "Mon, 01 Jan 2024 00:00:00 GMT"},
    ],
)
def test_range_requests_for_feeds_get_the_whole_feed(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    """Feeds are small and revalidated by ETag: Range is ignored (RFC 9110 14.2 allows it)."""
    whole = client.get(FEED)
    response = client.get(FEED, headers=headers)
    assert response.status_code == 200
    assert "Content-Range" not in response.headers
    assert response.data == whole.data


@covers("range")
def test_range_requests_for_static_files_are_served_or_416(client: FlaskClient) -> None:
    with client.get("/static/style.css", headers={"Range": "bytes=0-9"}) as response:
        assert response.status_code == 206
        assert len(response.data) == 10
    with client.get("/static/style.css", headers={"Range": "bytes=99999999-"}) as response:
        assert_clear_4xx(response, 416)


@covers("hostile-host")
@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
        {"Forwarded": "host=evil.example;proto=http"},
        {"X-Original-URL": "/evil", "X-Rewrite-URL": "/evil"},
    ],
)
@pytest.mark.parametrize("url", [FEED, "/feeds/all.atom", "/feeds/all.json", "/feeds.opml", "/"])
def test_links_never_come_from_the_request(
    client: FlaskClient, headers: dict[str, str], url: str
) -> None:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert b"evil" not in response.data
    assert all("evil" not in value for value in response.headers.values())


# Any header value a client can put on the wire (no line breaks): never a 5xx.
HEADER_VALUES = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF) | st.sampled_from(["\t", '"', ",", ";"]),
    max_size=60,
)
HEADER_NAMES = st.sampled_from(
    [
        "If-None-Match",
        "If-Modified-Since",
        "If-Match",
        "If-Unmodified-Since",
        "If-Range",
        "Range",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Host",
        "Cookie",
        "Authorization",
        "Content-Type",
        "Content-Length",
        "Origin",
        "X-Forwarded-For",
    ]
)
ROUTES = [
    "/",
    FEED,
    "/feeds/all.atom",
    "/feeds/categorie/nieuws.json?page=2",
    "/feeds.opml",
    "/healthz",
    "/artikelen/2024/000_3a5bf95db61d80b1.html",
    "/categorie/nieuws.html",
    "/bron/navo.html",
    "/embed/all.html",
    "/embed.js",
    "/static/style.css",
]
FUZZ = settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@covers("header-fuzz")
@FUZZ
@given(
    st.sampled_from(ROUTES),
    st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=5),
    st.sampled_from(["GET", "HEAD", "GET", "OPTIONS"]),
)
def test_any_header_values_never_give_a_5xx(
    client: FlaskClient, url: str, headers: dict[str, str], method: str
) -> None:
    with client.open(url, method=method, headers=headers) as response:
        assert response.status_code < 500, response.data[:300]


PATH_PREFIXES = st.sampled_from(
    [
        "/",
        "/feeds/",
        "/feeds/categorie/",
        "/feeds/bron/",
        "/artikelen/",
        "/artikelen/2024/",
        "/categorie/",
        "/bron/",
        "/static/",
        "/embed/",
        "/embed/categorie/",
        "/feeds.opml",
        "/healthz",
    ]
)
PATH_SUFFIXES = st.sampled_from(["", ".rss", ".atom", ".json", ".html", ".opml", ".txt", "/"])
QUERY_KEYS = st.sampled_from(["page", "aantal", "stijl", "samenvatting", "datum", "bron", "x"])


@covers("path-fuzz")
@FUZZ
@given(
    PATH_PREFIXES,
    st.binary(max_size=30),
    PATH_SUFFIXES,
    st.lists(st.tuples(QUERY_KEYS, st.binary(max_size=12)), max_size=4),
)
def test_any_path_and_query_never_give_a_5xx(
    client: FlaskClient, prefix: str, raw: bytes, suffix: str, query: list[tuple[str, bytes]]
) -> None:
    url = prefix + quote(raw, safe="/.%") + suffix
    if query:
        url += "?" + "&".join(f"{key}={quote(value)}" for key, value in query)
    with client.get(url) as response:
        assert response.status_code < 500, (url, response.data[:300])


# -- over a real gunicorn: what the test client cannot send ---------------------------------------


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    soak = load("soak")
    folder = tmp_path_factory.mktemp("gunicorn")
    shutil.copytree(BUNDLED_CONTENT, folder / "content")
    with soak.GunicornServer(folder / "content", 2, folder / "gunicorn.log") as server:
        yield server
    log = server.log()
    assert "Traceback" not in log
    assert "Error handling request" not in log


def raw_exchange(server: Any, data: bytes) -> tuple[int, bytes]:
    """Send ``data`` as it is and read the whole answer; the status code and the bytes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    assert match, response[:200]
    return int(match[1]), response


HEAD = b"Host: nieuws.example.nl\r\nConnection: close\r\n"
RAW_CASES: dict[str, tuple[str, bytes, int]] = {
    # id: (catalogue row, request, status)
    "raw-dotdot": ("dotdot", b"GET /../../etc/passwd HTTP/1.1\r\n" + HEAD + b"\r\n", 404),
    "raw-static-dotdot": (
        "dotdot",
        b"GET /static/../../../etc/passwd HTTP/1.1\r\n" + HEAD + b"\r\n",
        404,
    ),
    "raw-double-slash": ("absolute-path", b"GET //etc/passwd HTTP/1.1\r\n" + HEAD + b"\r\n", 404),
    "absolute-form": (
        "absolute-path",
        b"GET http://evil.example/feeds/all.rss HTTP/1.1\r\n" + HEAD + b"\r\n",
        200,
    ),
    "asterisk-form": ("absolute-path", b"GET * HTTP/1.1\r\n" + HEAD + b"\r\n", 400),
    "raw-nul": ("nul", b"GET /feeds/\x00.rss HTTP/1.1\r\n" + HEAD + b"\r\n", 400),
    "raw-utf8": (
        "non-ascii-path",
        "GET /feeds/café.rss HTTP/1.1\r\n".encode() + HEAD + b"\r\n",
        400,
    ),
    "raw-latin1": ("non-ascii-path", b"GET /feeds/caf\xe9.rss HTTP/1.1\r\n" + HEAD + b"\r\n", 400),
    "raw-bad-percent": ("bad-percent", b"GET /feeds/%zz%.rss HTTP/1.1\r\n" + HEAD + b"\r\n", 404),
    "long-request-line": (
        "long-url",
        b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + HEAD + b"\r\n",
        414,
    ),
    "long-query": (
        "long-url",
        b"GET /feeds/all.rss?" + b"x=1&" * 2000 + b" HTTP/1.1\r\n" + HEAD + b"\r\n",
        414,
    ),
    "huge-header": (
        "huge-headers",
        b"GET /feeds/all.rss HTTP/1.1\r\n" + HEAD + b"X-Big: " + b"a" * 10_000 + b"\r\n\r\n",
        431,
    ),
    "many-headers": (
        "huge-headers",
        b"GET /feeds/all.rss HTTP/1.1\r\n"
        + HEAD
        + b"".join(b"X-H%d: 1\r\n" % n for n in range(150))
        + b"\r\n",
        431,
    ),
    "raw-crlf": (
        "crlf-injection",
        b"GET /feeds/all.rss%0d%0aSet-Cookie:%20x=1 HTTP/1.1\r\n" + HEAD + b"\r\n",
        404,
    ),
    "trace": ("unknown-method", b"TRACE /feeds/all.rss HTTP/1.1\r\n" + HEAD + b"\r\n", 405),
    "propfind": ("unknown-method", b"PROPFIND / HTTP/1.1\r\n" + HEAD + b"\r\n", 405),
    "lower-case-method": (
        "unknown-method",
        b"get /feeds/all.rss HTTP/1.1\r\n" + HEAD + b"\r\n",
        400,
    ),
    "garbage-method": ("unknown-method", b"G@T /feeds/all.rss HTTP/1.1\r\n" + HEAD + b"\r\n", 400),
    "long-method": (
        "unknown-method",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n" + HEAD + b"\r\n",
        400,
    ),
    "http-0.9": ("unknown-method", b"GET /feeds/all.rss\r\n\r\n", 400),
    "bad-version": ("unknown-method", b"GET /feeds/all.rss HTTP/9.9\r\n" + HEAD + b"\r\n", 400),
    "tls-hello": ("unknown-method", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    "unknown-transfer-coding": (
        "unknown-method",
        b"GET /feeds/all.rss HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: bogus\r\n\r\n",
        501,
    ),
    "smuggling-cl-te": (
        "unknown-method",
        b"POST /feeds/all.rss HTTP/1.1\r\n"
        + HEAD
        + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "folded-header": (
        "huge-headers",
        b"GET /feeds/all.rss HTTP/1.1\r\n" + HEAD + b"X-A: a\r\n b\r\n\r\n",
        400,
    ),
    "raw-range": (
        "range",
        b"GET /feeds/all.rss HTTP/1.1\r\n" + HEAD + b"Range: bytes=0-10\r\n\r\n",
        200,
    ),
}


@covers(*{row for row, _, _ in RAW_CASES.values()})
@pytest.mark.parametrize("case", RAW_CASES)
def test_raw_requests_to_gunicorn(gunicorn: Any, case: str) -> None:
    _, request, expected = RAW_CASES[case]
    status, response = raw_exchange(gunicorn, request)
    assert status == expected, response[:300]
    assert b"Set-Cookie" not in response
    assert b"evil.example" not in response
    # And the service goes on: a well-formed request right after is answered.
    status, response = raw_exchange(gunicorn, b"GET /feeds/all.rss HTTP/1.1\r\n" + HEAD + b"\r\n")
    assert status == 200
    assert response.rstrip().endswith(b"</rss>")


# -- the content folder ---------------------------------------------------------------------------


@pytest.fixture
def app_over_copy(copy_of_bundled_content: Path, make_app: Callable[..., Flask]) -> Flask:
    return make_app(copy_of_bundled_content)


@covers("symlink-file", "symlink-folder")
def test_symbolic_links_are_not_followed(
    tmp_path: Path, copy_of_bundled_content: Path, make_app: Callable[..., Flask]
) -> None:
    outside = tmp_path / "buiten"
    outside.mkdir()
    secret = outside / "geheim.txt"
    secret.write_text(article_text(title="Geheim bericht"), encoding="utf-8")
    (copy_of_bundled_content / "link.txt").symlink_to(secret)
    (copy_of_bundled_content / "passwd.txt").symlink_to("/etc/passwd")
    (copy_of_bundled_content / "gelinkt").symlink_to(outside, target_is_directory=True)
    app = make_app(copy_of_bundled_content)
    client = app.test_client()
    for extension in FORMATS:
        assert b"Geheim" not in client.get(f"/feeds/all.{extension}").data
    assert b"root:" not in client.get(FEED).data
    assert len(service_of(app).catalog.articles) == 35
    problems = {p.path: p.message for p in service_of(app).catalog.problems}
    assert "symbolic links are not followed" in problems["link.txt"]
    assert "symbolic links are not followed" in problems["passwd.txt"]
    assert health(client)["status"] == "ok"  # a warning, not a fault of the service


@covers("symlink-race")
def test_a_file_swapped_for_a_link_after_the_scan_is_refused(tmp_path: Path) -> None:
    """The store opens what it scanned with O_NOFOLLOW and checks the open file again."""
    outside = tmp_path / "geheim.txt"
    outside.write_text(article_text(title="Geheim"), encoding="utf-8")
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "a.txt").write_text(article_text(), encoding="utf-8")
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        found = _Found("a.txt", "a.txt", dir_fd, os.stat(folder / "a.txt"), None)
        assert b"Gemeente" in _read_article_file(found)[0]  # as scanned: read
        (folder / "a.txt").unlink()
        (folder / "a.txt").symlink_to(outside)  # swapped between the scan and the read
        with pytest.raises(Exception, match="symbolic links are not followed"):
            _read_article_file(found)
        (folder / "a.txt").unlink()
        os.mkfifo(folder / "a.txt")  # or for a FIFO, whose open would wait for a writer
        outcome: list[BaseException] = []

        def read() -> None:
            try:
                _read_article_file(found)
            except Exception as error:
                outcome.append(error)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=30)  # generous: a correct open returns at once, a wrong one never
        if reader.is_alive():  # free the thread: a writer end lets the blocked open return
            os.close(os.open(folder / "a.txt", os.O_WRONLY | os.O_NONBLOCK))
            pytest.fail("opening a FIFO waited for a writer")
        assert "not a regular file" in str(outcome[0])
    finally:
        os.close(dir_fd)
    assert _FILE_FLAGS & os.O_NOFOLLOW
    assert _FILE_FLAGS & os.O_NONBLOCK


@covers("symlink-race")
def test_a_folder_swapped_for_a_link_during_the_walk_is_not_entered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., Flask]
) -> None:
    """Folders are opened relative to their parent with O_NOFOLLOW, never by path."""
    outside = tmp_path / "buiten"
    outside.mkdir()
    (outside / "geheim.txt").write_text(article_text(title="Geheim"), encoding="utf-8")
    folder = tmp_path / "content"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text(article_text(title="Echt"), encoding="utf-8")
    app = make_app(folder)
    real_open = os.open

    def swap_then_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if path == "sub" and flags & os.O_DIRECTORY:  # just after the listing named it
            shutil.rmtree(folder / "sub")
            (folder / "sub").symlink_to(outside, target_is_directory=True)
        return real_open(path, flags, *args, **kwargs)

    (folder / "sub" / "a.txt").write_text(article_text(title="Echt, bijgewerkt"), "utf-8")
    os.utime(folder / "sub" / "a.txt", (1, 1))
    monkeypatch.setattr(os, "open", swap_then_open)
    service_of(app).refresh()
    monkeypatch.undo()
    # Now a linked folder: not entered, so its articles leave, as at any later reload.
    assert [a.title for a in service_of(app).catalog.articles] == []
    service_of(app).refresh()
    assert [a.title for a in service_of(app).catalog.articles] == []


@covers("fifo")
def test_a_fifo_named_like_an_article_is_refused_without_blocking(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask]
) -> None:
    os.mkfifo(copy_of_bundled_content / "pijp.txt")
    # Opening a FIFO for reading would wait for a writer forever: loading must return at all.
    apps: list[Flask] = []
    loading = threading.Thread(target=lambda: apps.append(make_app(copy_of_bundled_content)))
    loading.start()
    loading.join(timeout=120)
    assert not loading.is_alive(), "loading blocked on the FIFO"
    app = apps[0]
    problems = {p.path: p.message for p in service_of(app).catalog.problems}
    assert problems["pijp.txt"] == "not a regular file"
    assert_still_serving(app.test_client())


@covers("folder-vanishes")
def test_a_vanished_content_folder_keeps_the_last_good_state(
    copy_of_bundled_content: Path,
    app_over_copy: Flask,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = app_over_copy.test_client()
    before = {ext: client.get(f"/feeds/all.{ext}") for ext in FORMATS}
    shutil.move(copy_of_bundled_content, tmp_path / "elders")
    with caplog.at_level(logging.ERROR, logger="feedsvc.articles.store"):
        assert service_of(app_over_copy).refresh() == []  # no feed changed
    for extension, response in before.items():
        after = client.get(f"/feeds/all.{extension}")
        assert after.data == response.data
        assert after.headers["ETag"] == response.headers["ETag"]
    status = health(client)
    assert status["status"] == "degraded"
    assert status["articles"] == 35
    assert status["unreadable"] == [
        {
            "path": ".",
            "message": "cannot read the content folder (No such file or directory); "
            "the feeds keep the 35 article(s) last read from it",
        }
    ]
    assert str(tmp_path) not in json.dumps(status)  # no server paths in a public endpoint
    assert "cannot read the content folder" in caplog.text
    shutil.move(tmp_path / "elders", copy_of_bundled_content)
    service_of(app_over_copy).refresh()
    assert health(client)["status"] == "ok"
    assert health(client)["unreadable"] == []


@covers("folder-vanishes")
def test_the_watcher_follows_a_content_folder_that_is_replaced(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """Deleted, then back with other content: seen within seconds, not at the next rescan."""
    app = make_app(copy_of_bundled_content, WATCH=True)
    client = app.test_client()
    watcher = service_of(app).watcher
    assert watcher is not None
    watcher.missing_poll_seconds = 0.1
    service_of(app).start_watching()  # as gunicorn's post_worker_init hook does
    try:
        assert health(client)["articles"] == 35
        assert watcher.wait_established(timeout=30)
        shutil.move(copy_of_bundled_content, tmp_path / "weg")
        wait_until(lambda: health(client)["status"] == "degraded", what="degraded")
        assert_still_serving(client)
        copy_of_bundled_content.mkdir()
        (copy_of_bundled_content / "nieuw.txt").write_text(
            article_text(title="Terug van weggeweest"), encoding="utf-8"
        )
        wait_until(lambda: health(client)["status"] == "ok", what="ok again")
        wait_until(lambda: health(client)["articles"] == 1, what="the new content")
        assert b"Terug van weggeweest" in client.get(FEED).data
    finally:
        watcher.stop()


@covers("folder-unreadable")
@pytest.mark.parametrize("error", [errno.EACCES, errno.EIO])
def test_an_unreadable_content_folder_keeps_the_last_good_state(
    app_over_copy: Flask, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    """Root cannot be denied access, so the error is what the kernel would give anyone else."""
    client = app_over_copy.test_client()
    before = client.get(FEED).data

    def denied(*args: object) -> object:
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(os, "scandir", denied)
    service_of(app_over_copy).refresh()
    monkeypatch.undo()
    assert client.get(FEED).data == before
    status = health(client)
    assert status["status"] == "degraded"
    assert status["articles"] == 35
    assert os.strerror(error) in status["unreadable"][0]["message"]


@covers("folder-unreadable")
def test_an_unreadable_sub_folder_keeps_its_articles(
    app_over_copy: Flask, monkeypatch: pytest.MonkeyPatch, copy_of_bundled_content: Path
) -> None:
    client = app_over_copy.test_client()
    in_2024 = len(list((copy_of_bundled_content / "2024").glob("*.txt")))
    assert in_2024 > 0
    real_open = os.open

    def deny_2024(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if path == "2024" and flags & os.O_DIRECTORY:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny_2024)
    service_of(app_over_copy).refresh()
    monkeypatch.undo()
    status = health(client)
    assert status["articles"] == 35
    assert status["unreadable"] == [
        {
            "path": "2024",
            "message": "cannot read the folder 2024 (Permission denied); "
            f"the feeds keep the {in_2024} article(s) last read from it",
        }
    ]
    service_of(app_over_copy).refresh()  # readable again
    assert health(client)["status"] == "ok"


@covers("huge-file")
def test_a_one_gigabyte_file_is_rejected_without_being_read(
    copy_of_bundled_content: Path, app_over_copy: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = copy_of_bundled_content / "2025" / "groot.txt"
    huge.parent.mkdir(exist_ok=True)
    with huge.open("wb") as handle:
        handle.truncate(1024**3)  # sparse: no disk, but 1 GiB to anyone who reads it
    access = watch_file_access(monkeypatch)
    tracemalloc.start()
    try:
        service_of(app_over_copy).refresh()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        monkeypatch.undo()
    # A new file is opened to be looked at (the fstat of the open file is its one stat), and
    # refused from its size before any byte of it is read.
    assert "groot.txt" in access.opened
    assert "groot.txt" not in access.read
    assert peak < 20 * 1024 * 1024
    client = app_over_copy.test_client()
    rejected = health(client)["rejected"]
    assert {
        "path": "2025/groot.txt",
        "line": 0,
        "message": "the file is larger than 1 MiB (1,073,741,824 bytes)",
    } in rejected
    assert_still_serving(client)


@covers("many-files")
def test_ten_thousand_files_at_once_while_serving(
    copy_of_bundled_content: Path, app_over_copy: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app_over_copy.test_client()
    folder = copy_of_bundled_content / "stapel"
    folder.mkdir()
    for number in range(10_000):
        text = article_text(
            title=f"Bericht {number}",
            category=f"Stapel -> Groep {number % 25}",
            source=f"Bron {number % 40}",
            published=f"{1 + number % 28}-{1 + number % 12}-{2000 + number % 25}",
        )
        (folder / f"{number:05d}.txt").write_text(text, encoding="utf-8")
    # Halfway through the files the reload waits until the feed has been answered, so the
    # answers below are known to come while it runs, however fast or slow the machine is.
    answered_during_reload = threading.Event()
    parsed = 0

    def parse_and_wait_halfway(*args: Any, **kwargs: Any) -> Any:
        nonlocal parsed
        parsed += 1
        if parsed == 5_000:
            assert answered_during_reload.wait(60), "no answer while the reload ran"
        return parse_article(*args, **kwargs)

    monkeypatch.setattr(store_module, "parse_article", parse_and_wait_halfway)
    done = threading.Event()

    def reload() -> None:
        try:
            service_of(app_over_copy).refresh()
        finally:
            done.set()  # a failed reload ends the loop below too, rather than hanging it

    thread = threading.Thread(target=reload)
    thread.start()
    while not done.is_set():  # the previous state is served while the new one loads
        response = client.get(FEED)
        assert response.status_code == 200
        assert health(client)["articles"] in (35, 10_035)  # a whole state, never half of one
        if parsed >= 5_000:
            answered_during_reload.set()
        # Requests arrive, they do not spin: a thread that never waits keeps taking the GIL
        # back from the reload at every file it opens, which takes it ten times as long.
        done.wait(0.01)
    thread.join()
    assert answered_during_reload.is_set()
    assert health(client)["articles"] == 10_035
    assert health(client)["rejected"] == []
    assert client.get("/feeds/categorie/stapel/groep-7.json?page=2").status_code == 200
    assert_still_serving(client)


@covers("bad-file-names")
@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (b"tab\there.txt", "'tab\\there.txt'"),
        (b"new\nline.txt", "'new\\nline.txt'"),
        (b"c1\xc2\x85control.txt", "'c1\\x85control.txt'"),
        (b"non\xef\xbf\xbecharacter.txt", "'non\\ufffecharacter.txt'"),
        (b"latin1-\xe9.txt", "latin1-\ufffd.txt"),
    ],
)
def test_file_names_that_cannot_be_ids_are_reported(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], name: bytes, shown: str
) -> None:
    with open(os.path.join(os.fsencode(copy_of_bundled_content), name), "wb") as handle:
        handle.write(article_text(title="Slecht genoemd").encode())
    app = make_app(copy_of_bundled_content)
    client = app.test_client()
    assert len(service_of(app).catalog.articles) == 35
    problems = {p.path: p.message for p in service_of(app).catalog.problems}
    assert shown in problems
    assert_still_serving(client)


@covers("hostile-file-content")
def test_hostile_file_contents_are_content_errors_and_the_rest_serves(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask]
) -> None:
    nasty = {
        "binair.txt": bytes(range(256)) * 10,
        "nul.txt": b"Titel\nNieuws\n1-2-2025\n\n\x00\n",
        "utf16-surrogaat.txt": b"\xff\xfe" + "Titel\n\ud800\n".encode("utf-16-le", "surrogatepass"),
        "lange-regel.txt": b"2025." * 200_000,
        "leeg.txt": b"",
        "onmogelijk.txt": article_text(published="31-02-2024").encode(),
        "besturing.txt": article_text(title="Bel\x07 en\x1b esc\x85 nel").encode(),
    }
    for name, data in nasty.items():
        (copy_of_bundled_content / name).write_bytes(data)
    app = make_app(copy_of_bundled_content, HEALTHZ="full")  # every problem, not the first 5
    client = app.test_client()
    rejected = {item["path"] for item in health(client)["rejected"]}
    assert rejected == set(nasty) - {"besturing.txt"}
    titles = {a.title for a in service_of(app).catalog.articles}
    assert "Bel en esc nel" in titles  # control characters dropped, with a warning
    assert_still_serving(client)


# -- configuration --------------------------------------------------------------------------------


@covers("bad-configuration")
@pytest.mark.parametrize(
    ("config", "variable"),
    [
        # A Link header carries ASCII only: this URL made every feed a 500 once a hub was set.
        (
            {"SITE_URL": "https://nieuws.łódź.nl", "WEBSUB_HUB": "https://hub.example.org/"},
            "SITE_URL",
        ),
        ({"SITE_URL": "https://nieuws.example.nl/a b"}, "SITE_URL"),
        ({"SITE_URL": 'https://nieuws.example.nl/"><script>'}, "SITE_URL"),
        ({"WEBSUB_HUB": "https://hüb.example.org/"}, "WEBSUB_HUB"),
        ({"SITE_TITLE": "Amstelveen\udcff"}, "SITE_TITLE"),  # an environment value not UTF-8
        ({"SITE_TITLE": "Amstelveen\ufffe"}, "SITE_TITLE"),
        ({"SITE_DESCRIPTION": "Nieuws\x9f"}, "SITE_DESCRIPTION"),
    ],
)
def test_configuration_that_feeds_cannot_carry_stops_start_up(
    make_app: Callable[..., Flask], config: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError, match=f"FEEDSVC_{variable}"):
        make_app(BUNDLED_CONTENT, **config)


@covers("bad-configuration")
def test_an_ascii_site_url_with_a_hub_serves_every_feed(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        BUNDLED_CONTENT,
        SITE_URL="https://nieuws.xn--mstelveen-u2a.nl",
        WEBSUB_HUB="https://hub.example.org/",
    )
    response = app.test_client().get(FEED)
    assert response.status_code == 200
    assert response.headers["Link"].isascii()


# -- the catalogue and the tests agree ------------------------------------------------------------


def catalogue_rows() -> list[str]:
    rows = []
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([a-z0-9-]+)`\s*\|", line)
        if match:
            rows.append(match[1])
    return rows


def test_every_row_of_the_catalogue_is_tested_and_every_test_has_a_row() -> None:
    rows = catalogue_rows()
    assert len(rows) == len(set(rows)), "a row id appears twice in docs/bad-input.md"
    assert set(rows) == COVERED


# -- a Host header Werkzeug refuses ------------------------------------------------------------


@pytest.mark.parametrize("host", ["a..b", "x" * 300])
@pytest.mark.parametrize(
    "path", ["/", "/nope", "/feeds/all.rss", "/feeds.opml", "/categorie/nieuws.html"]
)
def test_a_host_werkzeug_refuses_is_a_dutch_400_page(
    client: FlaskClient, host: str, path: str
) -> None:
    """Links are built from the configured site URL, so the error page renders without the
    request's host: a 400, never a 500 from building a link."""
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    assert response.content_type == "text/html; charset=utf-8"
    headings = lxml.html.document_fromstring(response.get_data()).findall(".//h1")
    assert ["begrijpen we niet" in heading.text_content() for heading in headings] == [True]
    assert host not in response.get_data(as_text=True)

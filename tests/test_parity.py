"""The static export on nginx answers as the service does: a table of requests, both sides.

For every row, nginx (Debian package ``nginx``) serving the export and the Flask service give
the same status, body bytes and key headers, except for the differences listed in
:data:`DOCUMENTED`, each explained in README.md ("Differences between the service and the
export"); a listed difference that no longer differs fails too, so the list stays true.
ETag values are made differently on each side (nginx: mtime and size; the service: a digest),
so only whether there is one is compared.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import brotli
import pytest
from conftest import bundled_small_pages_app
from flask import Flask
from nginxlib import Nginx, run_nginx_over_export

from feedsvc.deploy.export import BROWSER_ACCEPT
from feedsvc.deploy.sitemap import endpoint_of, site_pages
from feedsvc.web.routes import STATIC_VERSIONS

KEY_HEADERS = (
    "content-type",
    "content-encoding",
    "last-modified",
    "link",
    "vary",
    "cache-control",
    "access-control-allow-origin",
    "allow",
)
# nginx gives every file validators (from its mtime and size) and, where a page has compressed
# siblings, Vary: Accept-Encoding, also where the service renders the page afresh and sends
# neither: README.md, "Differences between the service and the export".
NGINX_ADDS = {"last-modified", "vary"}
DECODE: dict[str, Callable[[bytes], bytes]] = {"gzip": gzip.decompress, "br": brotli.decompress}
READER_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json;q=0.9, */*;q=0.1"
ARTICLE = "/artikelen/2024/000_3a5bf95db61d80b1.html"


@dataclass(frozen=True)
class Row:
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"

    def __str__(self) -> str:
        shown = ",".join(f"{k}={v}" for k, v in self.headers.items())
        return f"{self.method} {self.path} {shown}".strip()


ROUTES = [
    "/",
    "/feeds/all.rss",
    "/feeds/all.atom?page=2",
    "/feeds/categorie/nieuws.json",
    "/feeds/bron/navo.rss",
    "/feeds.opml",
    ARTICLE,
    "/categorie/nieuws.html",
    "/bron/navo.html",
    "/embed/all.html",
    "/embed/categorie/nieuws.html",
    "/embed.js",
    "/embed-hoogte.js",
    "/insluiten/categorie/nieuws.html",
    "/sitemap.xml",
    "/sitemaps/1.xml",
    "/robots.txt",
    "/static/style.css",
    "/static/favicon.png",
    "/bestaat-niet",
    "/feeds/bestaat-niet.rss",
]
ACCEPTS = [
    "text/*",
    "text/html;q=0.9, application/rss+xml;q=0.5",
    "text/html;level=1",
    # Media types are case-insensitive: a feed's own location tests for them caselessly.
    "TEXT/HTML",
    BROWSER_ACCEPT,
    READER_ACCEPT,
    "*/*",
    "text/html, */*",
    "application/xml",
    "application/json",
]
ENCODINGS = ["*", "gzip", "br", "identity", "gzip;q=0, br;q=0", "br;q=0.5, gzip"]
PAGES = ["?page=2", "?page=%32", "?page=0", "?page=x", "?page=1", "?page=2&page=3", "?page=999"]

ROWS = [Row(path) for path in ROUTES]
ROWS += [Row(path, method="HEAD") for path in ROUTES]
ROWS += [
    Row(p, method=m) for p in ("/feeds/all.rss", "/", "/bestaat-niet") for m in ("OPTIONS", "POST")
]
ROWS += [Row(p, {"Accept": a}) for p in ("/feeds/all.rss", "/feeds/all.json", "/") for a in ACCEPTS]
ROWS += [Row("/feeds/all.rss", {"Accept": ""})]
ROWS += [
    Row(p, {"Accept-Encoding": e})
    for p in ("/feeds/all.atom", "/", "/static/style.css")
    for e in ENCODINGS
]
ROWS += [Row("/feeds/all.rss" + q) for q in PAGES]
# Other spellings of a feed's URL than its own: nginx's careful location, not the plain one.
ROWS += [Row(p) for p in ("/feeds/%61ll.rss", "/feeds/all%2Erss?page=2", "/feeds/all.rss?")]
ROWS += [Row(p, method="HEAD") for p in ("/feeds/%61ll.rss", "/feeds/all.rss?page=2")]
# The folders of feed URLs are prefix locations of their own in nginx; OPTIONS of a feed is a
# 405 of nginx's file handler, answered by a named location.
ROWS += [Row(p) for p in ("/feeds/", "/feeds/categorie/", "/feeds/categorie/nieuws.html")]
ROWS += [Row("/feeds/categorie/nieuws.json", method=m) for m in ("OPTIONS", "HEAD", "DELETE")]
ROWS += [Row(p, {"Range": "bytes=0-10"}) for p in ("/feeds/all.rss", "/static/style.css", "/")]
ROWS += [
    Row("/feeds/all.rss", {"Range": "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 1800, 2))})
]

# Row -> why the export answers differently (README.md says the same).
DOCUMENTED = {
    "GET /feeds/all.rss Accept=text/html;q=0.9, application/rss+xml;q=0.5": "q-value comparison",
    "GET /feeds/all.json Accept=text/html;q=0.9, application/rss+xml;q=0.5": "q-value comparison",
    "GET /feeds/all.atom Accept-Encoding=*": "nginx serves identity to *",
    "GET /feeds/all.atom Accept-Encoding=br;q=0.5, gzip": "brotli_static ignores q-values",
    "GET / Accept-Encoding=*": "nginx serves identity to *",
    "GET / Accept-Encoding=br;q=0.5, gzip": "brotli_static ignores q-values",
    "GET /feeds/all.rss?page=1": "nginx's own 301 page",
    "GET /feeds/all.rss?page=999": "one 404 page",
    "GET /feeds/all.rss?page=%32": "percent-encoded page numbers",
    "POST /feeds/all.rss": "405 page",
    "POST /": "405 page",
    "DELETE /feeds/categorie/nieuws.json": "405 page",
    "GET /feeds/categorie/": "one 404 page",
    "GET /feeds/categorie/nieuws.html": "one 404 page",
    "GET /static/style.css Range=bytes=0-10": "no ranges",
    "GET /feeds/bestaat-niet.rss": "one 404 page",
    "GET /feeds/all.rss Accept=text/*": "no ETag for browsers",
    "GET /feeds/all.json Accept=text/*": "no ETag for browsers",
    "GET /feeds/all.rss Accept=TEXT/HTML": "no ETag for browsers",
    "GET /feeds/all.json Accept=TEXT/HTML": "no ETag for browsers",
    f"GET /feeds/all.rss Accept={BROWSER_ACCEPT}": "no ETag for browsers",
    f"GET /feeds/all.json Accept={BROWSER_ACCEPT}": "no ETag for browsers",
}


@pytest.fixture(scope="module")
def app() -> Flask:
    return bundled_small_pages_app()


@pytest.fixture(scope="module")
def nginx(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    yield from run_nginx_over_export(app, tmp_path_factory.mktemp("parity"))


def service_answer(app: Flask, row: Row) -> tuple[int, dict[str, str], bytes]:
    response = app.test_client().open(row.path, method=row.method, headers=row.headers)
    body = response.get_data()
    response.close()
    return response.status_code, {k.lower(): v for k, v in response.headers.items()}, body


def differences(app: Flask, nginx: Nginx, row: Row) -> list[str]:
    status, headers, body = service_answer(app, row)
    n_status, n_headers, n_body = nginx.get(row.path, row.headers, method=row.method)
    found = []
    coding = n_headers.get("content-encoding")
    if coding in DECODE and "content-encoding" not in headers:
        # nginx sends the compressed sibling of a page the service sends as it is.
        n_body = DECODE[coding](n_body) if n_body else n_body
        n_headers = {k: v for k, v in n_headers.items() if k != "content-encoding"}
    if status != n_status:
        found.append(f"status {status} != {n_status}")
    if body != n_body:
        found.append(f"body {len(body)} != {len(n_body)} bytes")
    for name in KEY_HEADERS:
        mine, theirs = headers.get(name), n_headers.get(name)
        if mine is None and name in NGINX_ADDS:
            continue
        if mine != theirs:
            found.append(f"{name}: {mine!r} != {theirs!r}")
    if "etag" in headers and "etag" not in n_headers:
        found.append(f"etag {headers['etag']!r} != None")
    return found


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_the_export_answers_as_the_service(app: Flask, nginx: Nginx, row: Row) -> None:
    found = differences(app, nginx, row)
    if str(row) in DOCUMENTED:
        assert found, f"{row}: no longer differs; remove it from DOCUMENTED and README.md"
        if DOCUMENTED[str(row)] == "no ETag for browsers":  # but the browser's type and bytes
            assert all(f.startswith("etag ") for f in found), f"{row}: {found}"
    else:
        assert not found, f"{row}: {found}"


def test_conditional_requests_with_each_sides_validators(app: Flask, nginx: Nginx) -> None:
    paths = ["/feeds/all.rss", "/feeds/all.json?page=2", "/", ARTICLE, "/static/style.css"]
    # Dated like the pages (tests/test_site_file_dates.py): the export's mtime is their date.
    paths += ["/embed/all.html", "/insluiten/all.html", "/sitemap.xml", "/embed.js", "/robots.txt"]
    for path in paths:
        for accept in ("", BROWSER_ACCEPT):
            headers = {"Accept": accept} if accept else {}
            status, service, _ = service_answer(app, Row(path, headers))
            n_status, from_nginx, _ = nginx.get(path, headers)
            assert status == n_status == 200
            assert "last-modified" in service, path
            for name, side in (("etag", "If-None-Match"), ("last-modified", "If-Modified-Since")):
                if name in service:
                    again = Row(path, {**headers, side: service[name]})
                    assert service_answer(app, again)[0] == 304, (path, side)
                if name in from_nginx:
                    assert nginx.get(path, {**headers, side: from_nginx[name]})[0] == 304, (
                        path,
                        side,
                    )


def test_one_page_of_every_route_answers_as_the_service(app: Flask, nginx: Nginx) -> None:
    """Beyond the table: the first page of each route the site lists, GET and HEAD."""
    first: dict[str, str] = {}
    for page in site_pages(app):
        endpoint = endpoint_of(app, page.path) if page.status == 200 else f"error {page.status}"
        first.setdefault(endpoint or page.path, page.path)
    assert len(first) > 10
    for path in first.values():
        for method in ("GET", "HEAD"):
            row = Row(path, method=method)
            assert str(row) in DOCUMENTED or not differences(app, nginx, row), row


def test_an_article_is_compressed_by_nginx_from_its_only_file(app: Flask, nginx: Nginx) -> None:
    """Article pages have no compressed siblings (docs/performance.md): nginx gzips the page
    when asked, and the reader gets the service's bytes, labelled as the service labels them."""
    _, service, body = service_answer(app, Row(ARTICLE))
    for accept_encoding, coding in (("gzip", "gzip"), ("gzip, br", "gzip"), ("br", None)):
        status, headers, sent = nginx.get(ARTICLE, {"Accept-Encoding": accept_encoding})
        assert status == 200
        assert headers.get("content-encoding") == coding, accept_encoding
        assert (gzip.decompress(sent) if coding else sent) == body
        assert headers["content-type"] == service["content-type"]
        assert "Accept-Encoding" in headers["vary"]


def test_versioned_static_files_are_cached_as_the_service_caches_them(
    app: Flask, nginx: Nginx
) -> None:
    """``/static/NAME?v=<its hash>`` is cached for a year (immutable), by nginx as by the
    service; another version, or none, is not; on the 304 too."""
    versions = app.extensions[STATIC_VERSIONS]
    assert "style.css" in versions
    for name, version in versions.items():
        for query in (f"?v={version}", f"?x=1&v={version}", "?v=0", "", f"?v={version}0"):
            row = Row(f"/static/{name}{query}")
            assert not differences(app, nginx, row), (row, differences(app, nginx, row))
            # Revalidated, each with its own ETag.
            own = service_answer(app, row)[1]["etag"]
            status, service, _ = service_answer(app, Row(row.path, {"If-None-Match": own}))
            own = nginx.get(row.path)[1]["etag"]
            n_status, from_nginx, _ = nginx.get(row.path, {"If-None-Match": own})
            assert status == n_status == 304, row
            assert from_nginx["cache-control"] == service["cache-control"], row
        cached = nginx.get(f"/static/{name}?v={version}")[1]["cache-control"]
        assert cached == "public, max-age=31536000, immutable", name

"""What the export asks the app, and the links pages carry wherever the app is mounted.

The export makes each request's environ from one built by Werkzeug per set of headers
(``request_environ``): it must be the environ Werkzeug's ``EnvironBuilder`` makes for that
path. Templates build each distinct link once (``routes.link_for``), and the webmasters' page
its choice of feeds once per catalog: a page served under another mount point (``SCRIPT_NAME``,
behind a proxy) must still link under its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from conftest import page_of
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

from feedsvc.deploy.export import BROWSER_ACCEPT, SiteExporter, request_environ
from feedsvc.deploy.sitemap import SiteListing, endpoint_of
from feedsvc.web import routes

PATHS = (
    "/",
    "/feeds/all.rss",
    "/feeds/categorie/nieuws.atom?page=2",
    "/artikelen/2024/caf%C3%A9-open.html",
    "/artikelen/2024/café open.html",
    "/static/style.css?v=0123456789ab",
    "/insluiten/bron/rtl%20nieuws.html",
)
HEADERS = (
    {},
    {"Accept-Encoding": "identity"},
    {"Accept-Encoding": "br"},
    {"Accept": BROWSER_ACCEPT},
)


@pytest.mark.parametrize("headers", HEADERS, ids=lambda h: ",".join(h) or "none")
@pytest.mark.parametrize("path", PATHS)
def test_the_exports_environ_is_werkzeugs(path: str, headers: dict[str, str]) -> None:
    expected = EnvironBuilder(path, headers=list(headers.items())).get_environ()
    made = request_environ(path, headers)
    assert made.pop("wsgi.input").read() == expected.pop("wsgi.input").read() == b""
    assert made == expected


def test_each_request_gets_its_own_environ() -> None:
    first = request_environ("/a.html", {})
    second = request_environ("/b.html", {})
    first["HTTP_X_SEEN"] = "1"
    assert "HTTP_X_SEEN" not in second
    assert first["wsgi.input"] is not second["wsgi.input"]
    assert second["PATH_INFO"] == "/b.html"


def assert_site_links_under(page: lxml.html.HtmlElement, mount: str) -> None:
    """The links every page carries (the stylesheet, the script, the icon, the front page, the
    listing of all articles, the OPML file) are linked under ``mount``."""
    stylesheet = page.xpath("//link[@rel='stylesheet']/@href")
    assert len(stylesheet) == 1
    assert stylesheet[0].startswith(f"{mount}/static/style.css?v=")
    assert page.xpath("//script[not(@type)]/@src")[0].startswith(f"{mount}/static/site.js?v=")
    assert page.xpath("//link[@rel='icon']/@href")[0].startswith(f"{mount}/static/favicon.png")
    assert page.xpath("//a[@class='brand']/@href") == [f"{mount}/"]
    header = page.xpath("//header[@class='site']//nav/a/@href")
    assert header[0] == f"{mount}/berichten/pagina-1.html"
    assert page.xpath("//footer//a[@download]/@href") == [f"{mount}/feeds.opml"]


@pytest.mark.parametrize("order", [("", "/onder"), ("/onder", "")])
def test_links_follow_the_mount_point_of_each_request(
    client: FlaskClient, order: tuple[str, str]
) -> None:
    # The webmasters' page is rendered on every request: the same page, mounted two ways.
    for mount in order:
        page = page_of(client, "/insluiten/all.html", mount)
        assert_site_links_under(page, mount)
        options = page.xpath("//select[@id='kies-feed']/option")
        assert len(options) > 2
        assert all(o.get("value").startswith(f"{mount}/insluiten/") for o in options)
        assert [o.get("value") for o in options if o.get("selected") is not None] == [
            f"{mount}/insluiten/all.html"
        ]


@pytest.mark.parametrize("order", [("", "/onder"), ("/onder", "")])
@pytest.mark.parametrize("path", ["/", "/berichten/pagina-1.html"])
def test_a_cached_page_follows_the_mount_point_of_each_request(
    client: FlaskClient, order: tuple[str, str], path: str
) -> None:
    # Pages rendered once per catalog are kept per mount point: the same page, mounted two ways.
    for mount in order:
        assert_site_links_under(page_of(client, path, mount), mount)


def test_a_link_with_a_value_given_several_times_is_built(bundled_app: Flask) -> None:
    # A list cannot be a key of the templates' link cache; the link is built all the same.
    with bundled_app.test_request_context("/", base_url="http://localhost/onder"):
        link = routes.link_for("feedsvc.index", tag=["a", "b"], page=2)
        again = routes.link_for("feedsvc.index", tag=["a", "b"], page=2)
    parts = urlsplit(link)
    assert parts.path == "/onder/"
    assert parse_qs(parts.query) == {"tag": ["a", "b"], "page": ["2"]}
    assert again == link


def test_the_choice_of_feeds_selects_the_page_shown(client: FlaskClient) -> None:
    everything = page_of(client, "/insluiten/all.html")
    values = everything.xpath("//select[@id='kies-feed']/option/@value")
    for value in (values[1], values[-1], values[0]):
        page = page_of(client, value)
        options = page.xpath("//select[@id='kies-feed']/option")
        # Every feed once, in the same order, and only the page's own selected.
        assert [o.get("value") for o in options] == values
        assert [o.get("value") for o in options if o.get("selected") is not None] == [value]
        assert (
            options[values.index(value)].text == page.xpath("//p[@class='breadcrumbs']/a")[0].text
        )


def undated(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers with the value of ``Date`` (Werkzeug's clock at the response) left out."""
    return [(name, "<now>" if name == "Date" else value) for name, value in headers]


def wsgi_answer(app: Flask, path: str, headers: dict[str, str]) -> tuple[str, list[Any], bytes]:
    """What a server gets from the app for the request: status, header list, body."""
    body, status, answered = run_wsgi_app(app, request_environ(path, headers), buffered=True)
    try:
        return status, undated(list(answered.to_wsgi_list())), b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()


def routes_first_pages(app: Flask) -> list[str]:
    """The first page the site lists of each route, and of each error status."""
    first: dict[str, str] = {}
    for page in SiteListing(app).changes().pages:
        endpoint = endpoint_of(app, page.path) if page.status == 200 else str(page.status)
        first.setdefault(endpoint or page.path, page.path)
    return list(first.values())


@pytest.mark.parametrize(
    "headers",
    [{"Accept-Encoding": "identity"}, {"Accept-Encoding": "br"}, {"Accept": BROWSER_ACCEPT}],
    ids=lambda h: ",".join(f"{k}={v[:8]}" for k, v in h.items()),
)
def test_the_exports_answers_are_what_a_server_gets(
    bundled_app: Flask, tmp_path: Path, headers: dict[str, str]
) -> None:
    """The export's answers (``_answer``): status, every header in its order
    and the body are what a server gets for the same request, for a page of every route,
    the error pages, a static file and a feed the fast path answers."""
    exporter = SiteExporter(bundled_app, tmp_path)
    paths = routes_first_pages(bundled_app)
    assert len(paths) > 10
    paths += ["/static/style.css", "/feeds/all.rss", "/geen-pagina", "/feeds/all.rss?page=x"]
    for path in paths:
        # Twice: a cached page is rendered by the first request, answered from the cache after.
        for _ in range(2):
            expected = wsgi_answer(bundled_app, path, headers)
            answer = exporter._answer(request_environ(path, headers))
            got = (answer.status, undated(answer.headers.to_wsgi_list()), answer.get_data())
            assert got == expected, path


def test_each_page_is_exported_under_its_routes_endpoint(
    bundled_app: Flask, tmp_path: Path
) -> None:
    """A cached page tells the export the endpoint that answered it (pagecache.SERVED_PAGE);
    every page, cached or not, is filed under the endpoint its path matches."""
    exporter = SiteExporter(bundled_app, tmp_path)
    pages = {page.path: page for page in SiteListing(bundled_app).changes().pages}
    endpoints = set()
    for path in routes_first_pages(bundled_app):
        page = pages[path]
        expected = endpoint_of(bundled_app, path) if page.status == 200 else f"error {page.status}"
        assert exporter._render(page).endpoint == expected, path
        endpoints.add(expected)
    assert {"feedsvc.article", "feedsvc.category_page", "feedsvc.embed_page"} <= endpoints

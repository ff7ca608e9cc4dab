"""HTTP behaviour through the Flask test client: every route, content type, 404, 400 and 405."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import lxml.html
import pytest
from conftest import BUNDLED_CONTENT, SITE_URL, ArticleWriter
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc import create_app
from feedsvc.deploy.sitemap import site_pages
from feedsvc.errors import ConfigError
from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.urls import article_path, feed_page_path, feed_path
from feedsvc.feeds.writers import FORMATS


class LinkCollector(HTMLParser):
    """The <link> and <a> elements of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.anchors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link":
            self.links.append(dict(attrs))
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.anchors.append(href)


def parse_page(data: bytes) -> LinkCollector:
    collector = LinkCollector()
    collector.feed(data.decode("utf-8"))
    return collector


def catalog_of(app: Flask) -> Catalog:
    catalog: Catalog = app.extensions["feedsvc"].catalog
    return catalog


def alternates(page: LinkCollector) -> dict[str | None, str | None]:
    """The first feed of each type a page offers: its own (others may follow)."""
    found: dict[str | None, str | None] = {}
    for link in page.links:
        if link.get("rel") == "alternate" and link.get("type") != "application/json+oembed":
            found.setdefault(link.get("type"), link.get("href"))
    return found


# -- feeds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extension", "content_type"),
    [
        ("rss", "application/rss+xml; charset=utf-8"),
        ("atom", "application/atom+xml; charset=utf-8"),
        ("json", "application/feed+json; charset=utf-8"),
    ],
)
def test_feeds_have_their_content_type(
    client: FlaskClient, extension: str, content_type: str
) -> None:
    response = client.get(f"/feeds/all.{extension}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type


def test_every_feed_url_answers(client: FlaskClient, bundled_app: Flask) -> None:
    for feed in catalog_of(bundled_app).feeds.values():
        for extension in FORMATS:
            assert client.get(feed_path(feed, extension)).status_code == 200


def test_head_answers_like_get_without_a_body(client: FlaskClient) -> None:
    get = client.get("/feeds/all.atom")
    head = client.head("/feeds/all.atom")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == str(len(get.data))
    assert head.headers["ETag"] == get.headers["ETag"]


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/all.xml",
        "/feeds/all",
        "/feeds/nope.rss",
        "/feeds/categorie/bestaat-niet.atom",
        "/feeds/bron/bestaat-niet.json",
        "/feeds/categorie/nieuws/../../all.rss",
        "/feeds/%2e%2e/%2e%2e/etc/passwd.rss",
        "/feeds/all.rss?page=999",
        "/artikelen/bestaat-niet.html",
        "/artikelen/2024/000_3a5bf95db61d80b1",
        "/artikelen/../content/2024/000_3a5bf95db61d80b1.txt",
        "/categorie/bestaat-niet.html",
        "/categorie/nieuws",
        "/bron/bestaat-niet.html",
        "/nergens",
    ],
)
def test_unknown_things_are_404(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.content_type == "text/html; charset=utf-8"
    assert b"404" in response.data


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=1.5",
        "page=",
        "page=" + "9" * 100,
        "page=2&page=3",
        "page=%00",
    ],
)
def test_bad_page_numbers_are_400(client: FlaskClient, query: str) -> None:
    response = client.get(f"/feeds/all.rss?{query}")
    assert response.status_code == 400
    assert "page" in response.get_data(as_text=True)


def test_page_one_redirects_to_the_canonical_url(client: FlaskClient) -> None:
    response = client.get("/feeds/categorie/nieuws.atom?page=1")
    assert response.status_code == 301
    assert response.headers["Location"] == "/feeds/categorie/nieuws.atom"


def test_later_pages_are_served(make_app: Callable[..., Flask]) -> None:
    client = make_app(BUNDLED_CONTENT, PAGE_SIZE=10).test_client()
    assert client.get("/feeds/all.json?page=2").status_code == 200
    assert client.get("/feeds/all.json?page=4").status_code == 200
    assert client.get("/feeds/all.json?page=5").status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(client: FlaskClient, method: str) -> None:
    response = client.open("/feeds/all.rss", method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_site_url_comes_from_configuration_not_the_host_header(client: FlaskClient) -> None:
    response = client.get("/feeds/all.atom", headers={"Host": "evil.example.com"})
    assert b"evil.example.com" not in response.data
    assert SITE_URL.encode() in response.data


# -- pages ----------------------------------------------------------------------------------------


def test_index_lists_every_feed_with_autodiscovery(client: FlaskClient, bundled_app: Flask) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = parse_page(response.data)
    assert alternates(page) == {
        fmt.media_type: SITE_URL + f"/feeds/all.{fmt.extension}" for fmt in FORMATS.values()
    }
    catalog = catalog_of(bundled_app)
    for feed in list(catalog.feeds.values())[1:]:
        # Names lead to the feed's page, where people subscribe; the feed is copied from here.
        assert feed_page_path(feed) in page.anchors
    for extension in FORMATS:
        if extension != "rss":  # the RSS address is shown to copy, the others are linked
            assert feed_path(catalog.all_feed, extension) in page.anchors
    assert "/feeds.opml" in page.anchors


def test_every_link_on_the_index_resolves(client: FlaskClient) -> None:
    for href in parse_page(client.get("/").data).anchors:
        if not href.startswith(("/", "#")):
            continue  # a feed reader's site or app (one-click subscribing): not ours to fetch
        target = href.split("#")[0] or "/"
        assert client.get(target).status_code == 200, href


def test_every_permalink_resolves_to_an_article_page(
    client: FlaskClient, bundled_app: Flask
) -> None:
    for article in catalog_of(bundled_app).articles:
        response = client.get(article_path(article.id))
        assert response.status_code == 200, article.id
        page = lxml.html.fromstring(response.data)
        assert page.findtext(".//h1") == article.title
        meta = page.find_class("meta")[0].text_content()
        assert article.published.strftime("%Y") in meta
        if article.source:
            assert article.source.name in meta
        breadcrumbs = [a.text for a in page.find_class("breadcrumbs")[0].iter("a")]
        assert breadcrumbs == list(article.category.names)
        paragraphs = [p.text_content() for p in page.find_class("body")[0].iter("p")]
        assert paragraphs == list(article.paragraphs)


def test_article_page_discovers_its_category_feeds(client: FlaskClient, bundled_app: Flask) -> None:
    article = next(a for a in catalog_of(bundled_app).articles if a.category.depth >= 2)
    page = parse_page(client.get(article_path(article.id)).data)
    slug = article.category.slug_path
    assert alternates(page)["application/atom+xml"] == SITE_URL + f"/feeds/categorie/{slug}.atom"


def test_category_and_source_pages(client: FlaskClient, bundled_app: Flask) -> None:
    catalog = catalog_of(bundled_app)
    for feed in list(catalog.feeds.values())[1:]:
        response = client.get(feed_page_path(feed))
        assert response.status_code == 200
        page = parse_page(response.data)
        assert alternates(page)["application/rss+xml"] == SITE_URL + feed_path(feed, "rss")
        for article in feed.articles[:50]:
            assert article_path(article.id) in page.anchors


def test_html_pages_carry_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_hostile_titles_are_escaped_on_pages(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article(
        "x.txt", title="<script>alert(1)</script>", body=("<img src=x onerror=alert(1)>",)
    )
    client = make_app().test_client()
    for url in ("/", "/artikelen/x.html", "/categorie/nieuws.html"):
        text = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in text
        assert "<img src=x" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_article_with_a_non_ascii_path(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("café/één bericht.txt")
    client = make_app().test_client()
    url = article_path("café/één bericht")
    assert url == "/artikelen/caf%C3%A9/%C3%A9%C3%A9n%20bericht.html"
    assert client.get(url).status_code == 200


# -- OPML -----------------------------------------------------------------------------------------


def test_opml_directory_lists_every_feed_in_folders(
    client: FlaskClient, bundled_app: Flask
) -> None:
    response = client.get("/feeds-alle.opml")
    assert response.status_code == 200
    assert response.content_type == "text/x-opml; charset=utf-8"
    root = etree.fromstring(response.data)
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.findtext("head/title")
    assert root.findtext("head/dateCreated")
    outlines = root.findall(".//outline[@type='rss']")
    catalog = catalog_of(bundled_app)
    assert {o.get("xmlUrl") for o in outlines} == {
        SITE_URL + feed_path(feed, "rss") for feed in catalog.feeds.values()
    }
    for outline in outlines:
        assert outline.get("text")
        assert outline.get("htmlUrl", "").startswith(SITE_URL)
    nested = root.find(
        ".//outline[@text='Categorieën']/outline[@text='Nieuws']/outline[@text='Gemeente']"
        "/outline[@text='Verkeer'][@type='rss']"
    )
    assert nested is not None
    assert root.find(".//outline[@text='Bronnen']/outline[@text='NAVO']") is not None


# -- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"SITE_URL": "nieuws.example.nl"}, "FEEDSVC_SITE_URL"),
        ({"SITE_URL": "ftp://nieuws.example.nl"}, "FEEDSVC_SITE_URL"),
        ({"TIMEZONE": "Europe/Amstelveen"}, "FEEDSVC_TIMEZONE"),
        ({"PAGE_SIZE": 0}, "FEEDSVC_PAGE_SIZE"),
        ({"PAGE_SIZE": "veel"}, "FEEDSVC_PAGE_SIZE"),
        ({"CONTENT_DIR": "/bestaat/niet"}, "FEEDSVC_CONTENT_DIR"),
        ({"SITE_TITLE": "   "}, "FEEDSVC_SITE_TITLE"),
        ({"CACHE_MAX_AGE": -1}, "FEEDSVC_CACHE_MAX_AGE"),
    ],
)
def test_invalid_configuration_stops_start_up_with_a_clear_message(
    config: dict[str, object], fragment: str, content_dir: Path
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        create_app({"CONTENT_DIR": str(content_dir), **config})


def test_configuration_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, write_article: ArticleWriter, content_dir: Path
) -> None:
    write_article("a.txt")
    monkeypatch.setenv("FEEDSVC_CONTENT_DIR", str(content_dir))
    monkeypatch.setenv("FEEDSVC_SITE_URL", "https://amstelveen.example/")
    monkeypatch.setenv("FEEDSVC_SITE_TITLE", "Amstelveen Test")
    monkeypatch.setenv("FEEDSVC_PAGE_SIZE", "7")
    app = create_app()
    settings = app.extensions["feedsvc"].settings
    assert settings.site_url == "https://amstelveen.example"
    assert settings.page_size == 7
    data = app.test_client().get("/feeds/all.rss").data
    assert b"<title>Amstelveen Test</title>" in data
    assert b"https://amstelveen.example/feeds/all.rss" in data


def test_configured_disclaimer_is_stripped(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("a.txt", body=("Tekst.",), disclaimer="Eigen disclaimer van de site.")
    article = catalog_of(make_app(DISCLAIMER="Eigen disclaimer van de site.")).articles[0]
    assert article.paragraphs == ("Tekst.",)


def test_head_works_on_every_page_of_the_site(bundled_app: Flask) -> None:
    """HEAD answers like GET everywhere, with the same status and headers and no body."""
    client = bundled_app.test_client()
    pages = site_pages(bundled_app)
    assert len(pages) > 100
    for page in pages:
        get = client.get(page.path)
        head = client.head(page.path)
        assert head.status_code == get.status_code == page.status, page.path
        assert head.data == b"", page.path
        for header in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Vary"):
            assert head.headers.get(header) == get.headers.get(header), (page.path, header)
        get.close()  # static files are streamed from an open file
        head.close()

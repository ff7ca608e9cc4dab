"""Every feed, in every format and on every page, validated and read back.

Each document is checked against the schemas in tests/schemas (RELAX NG for Atom and RSS, JSON
Schema for JSON Feed), against the rules the W3C Feed Validation Service applies beyond them,
and read back with feedparser, whose fields must match the articles the feed was built from.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from conftest import BUNDLED_CONTENT, SITE_URL, ArticleWriter
from feedcheck import assert_valid_atom, assert_valid_json_feed, assert_valid_rss
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from lxml import html as lxml_html

from feedsvc.articles.model import Article
from feedsvc.feeds.builder import body_html
from feedsvc.feeds.catalog import Catalog, Feed
from feedsvc.feeds.urls import article_path, feed_path
from feedsvc.feeds.writers import FORMATS

ATOM = "{http://www.w3.org/2005/Atom}"
VALIDATORS: dict[str, Callable[[bytes, str], Any]] = {
    "rss": assert_valid_rss,
    "atom": assert_valid_atom,
    "json": assert_valid_json_feed,
}

HOSTILE_TITLES = [
    "Tom & Jerry <b>vet</b> \"quotes\" 'single' ]]> einde",
    "<script>alert('xss')</script> in de titel",
    "Emoji 🎉🇳🇱 en RTL: مرحبا بكم · ברוכים הבאים",
    "&amp; is geen entiteit &lt;hier&gt;",
    "Lange titel " + "woord " * 60,
]


def catalog_of(app: Flask) -> Catalog:
    catalog: Catalog = app.extensions["feedsvc"].catalog
    return catalog


def feed_urls(app: Flask) -> Iterator[tuple[Feed, str, int, str]]:
    catalog = catalog_of(app)
    page_size = app.extensions["feedsvc"].settings.page_size
    for feed in catalog.feeds.values():
        for extension in FORMATS:
            for page in range(1, feed.page_count(page_size) + 1):
                yield feed, extension, page, feed_path(feed, extension, page)


def fetch_valid(client: FlaskClient, url: str, extension: str) -> tuple[bytes, Any]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.content_type == FORMATS[extension].content_type
    parsed = VALIDATORS[extension](response.data, SITE_URL + url)
    return response.data, parsed


def read_back(data: bytes) -> Any:
    """feedparser's reading of an RSS or Atom document, which must not be "bozo"."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def displayed(detail: Any) -> str:
    """The text a reader shows for a feedparser text construct: HTML is rendered to its text."""
    if detail.type in ("text/html", "application/xhtml+xml"):
        return str(lxml_html.fragment_fromstring(detail.value, create_parent="div").text_content())
    return str(detail.value)


def to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def check_entries(data: bytes, articles: tuple[Article, ...], extension: str) -> None:
    """Each entry, as an independent reader sees it, equals the article it came from.

    feedparser 6 reads RSS and Atom but not JSON Feed, so JSON documents (already checked
    against the JSON Feed schema) are read with the json module.
    """
    if extension == "json":
        check_json_items(json.loads(data)["items"], articles)
        return
    entries = read_back(data).entries
    assert len(entries) == len(articles)
    for entry, article in zip(entries, articles, strict=True):
        permalink = SITE_URL + article_path(article.id)
        # Atom writes text that reads as HTML as type="html", escaped: rendered, it is the text.
        title = displayed(entry.title_detail) if extension == "atom" else entry.title
        assert title == article.title
        assert entry.link == permalink
        assert entry.id == permalink
        assert datetime(*entry.published_parsed[:6]) == to_utc(article.published)
        assert datetime(*entry.updated_parsed[:6]) == to_utc(article.updated)
        # RSS descriptions are HTML, so the plain-text summary is escaped once more in them.
        summary = html.unescape(entry.summary) if extension == "rss" else entry.summary_detail
        assert (summary if extension == "rss" else displayed(summary)) == article.summary
        assert entry.content[0].value == body_html(article)
        # What readers show of the category: the term (feedparser, sfeed), and Atom's label.
        terms = [tag.term for tag in entry.tags]
        assert terms == [article.category.label if extension == "atom" else article.category.path]
        if extension == "atom":
            assert [tag.label for tag in entry.tags] == [article.category.label]
        if article.source is not None:
            assert entry.author == article.source.name
            source = entry.source
            title = displayed(source.title_detail) if extension == "atom" else source.title
            assert title == article.source.name
        else:
            assert "source" not in entry


def check_json_items(items: list[dict[str, Any]], articles: tuple[Article, ...]) -> None:
    assert len(items) == len(articles)
    for item, article in zip(items, articles, strict=True):
        permalink = SITE_URL + article_path(article.id)
        assert (item["id"], item["url"], item["title"]) == (permalink, permalink, article.title)
        assert datetime.fromisoformat(item["date_published"]) == article.published
        assert datetime.fromisoformat(item["date_modified"]) == article.updated
        assert item["summary"] == article.summary
        assert item["content_html"] == body_html(article)
        assert item["tags"] == list(article.category.names)
        assert item["_categorie"]["path"] == article.category.path
        if article.source is not None:
            assert item["authors"] == [{"name": article.source.name}]
            assert item["_bron"]["name"] == article.source.name
        else:
            assert "_bron" not in item


# -- the bundled content, every feed, every format, every page ------------------------------------


@pytest.fixture(params=[50, 4], ids=["page-size-50", "page-size-4"])
def paged_app(request: pytest.FixtureRequest, make_app: Callable[..., Flask]) -> Flask:
    return make_app(BUNDLED_CONTENT, PAGE_SIZE=request.param)


def test_every_feed_of_the_bundled_content_is_valid_and_reads_back(paged_app: Flask) -> None:
    client = paged_app.test_client()
    page_size = paged_app.extensions["feedsvc"].settings.page_size
    urls = list(feed_urls(paged_app))
    assert len(urls) > 3 * 20  # all-feed, 16 categories, 16 sources, three formats each
    for feed, extension, page, url in urls:
        data, _ = fetch_valid(client, url, extension)
        check_entries(data, feed.page(page, page_size).articles, extension)


def test_paging_links_walk_every_article_once_in_order(make_app: Callable[..., Flask]) -> None:
    app = make_app(BUNDLED_CONTENT, PAGE_SIZE=4)
    client = app.test_client()
    feed = catalog_of(app).all_feed
    for extension in ("rss", "atom"):
        seen: list[str] = []
        url: str | None = feed_path(feed, extension)
        pages = 0
        while url:
            data, root = fetch_valid(client, url.removeprefix(SITE_URL), extension)
            links = {
                link.get("rel"): link.get("href")
                for link in root.iter(f"{ATOM}link")
                if link.getparent().tag in ("channel", f"{ATOM}feed")
            }
            assert links["self"] == SITE_URL + url.removeprefix(SITE_URL)
            assert links["first"] == SITE_URL + feed_path(feed, extension)
            assert links["last"] == SITE_URL + feed_path(feed, extension, feed.page_count(4))
            pages += 1
            assert ("previous" in links) == (pages > 1)
            seen += [entry.id for entry in read_back(data).entries]
            url = links.get("next")
        assert pages == feed.page_count(4) > 1
        assert seen == [SITE_URL + article_path(a.id) for a in feed.articles]


def test_json_feed_pages_chain_with_next_url(make_app: Callable[..., Flask]) -> None:
    app = make_app(BUNDLED_CONTENT, PAGE_SIZE=4)
    client = app.test_client()
    feed = catalog_of(app).all_feed
    url: str | None = SITE_URL + feed_path(feed, "json")
    ids: list[str] = []
    while url:
        _, document = fetch_valid(client, url.removeprefix(SITE_URL), "json")
        ids += [item["id"] for item in document["items"]]
        url = document.get("next_url")
    assert ids == [SITE_URL + article_path(a.id) for a in feed.articles]


def test_category_feeds_hold_their_descendants(bundled_app: Flask) -> None:
    catalog = catalog_of(bundled_app)
    nieuws = catalog.feeds["categorie/nieuws"]
    assert {a.category.names[0] for a in nieuws.articles} == {"Nieuws"}
    assert any(len(a.category.names) == 3 for a in nieuws.articles)
    expected = [a for a in catalog.articles if a.category.names[0] == "Nieuws"]
    assert list(nieuws.articles) == expected


def test_feeds_are_newest_first_with_a_deterministic_tie_break(bundled_app: Flask) -> None:
    articles = catalog_of(bundled_app).all_feed.articles
    keys = [(-a.published.timestamp(), a.id) for a in articles]
    assert keys == sorted(keys)
    dates = [a.published for a in articles]
    assert len(dates) != len(set(dates))  # the bundled content has a tie to break


def test_same_content_gives_byte_identical_feeds(make_app: Callable[..., Flask]) -> None:
    first, second = make_app(BUNDLED_CONTENT), make_app(BUNDLED_CONTENT)
    for _, _, _, url in feed_urls(first):
        assert first.test_client().get(url).data == second.test_client().get(url).data


# -- element-level rules --------------------------------------------------------------------------


def test_rss_item_carries_every_field(client: FlaskClient, bundled_app: Flask) -> None:
    root = etree.fromstring(client.get("/feeds/all.rss").data)
    article = next(a for a in catalog_of(bundled_app).articles if a.source is not None)
    item = next(
        i for i in root.iter("item") if i.findtext("link") == SITE_URL + article_path(article.id)
    )
    names = [child.tag for child in item]
    assert names.index("description") < names.index(
        "{http://purl.org/rss/1.0/modules/content/}encoded"
    )
    category = item.find("category")
    assert category is not None
    assert category.text == "/".join(article.category.names)
    assert category.get("domain") == SITE_URL + "/categorie/"
    source = item.find("source")
    assert source is not None
    assert source.text == article.source.name
    assert source.get("url") == SITE_URL + f"/feeds/bron/{article.source.slug}.rss"  # type: ignore[union-attr]
    guid = item.find("guid")
    assert guid is not None
    assert guid.get("isPermaLink") == "true"
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == article.source.name  # type: ignore[union-attr]


def test_atom_entry_carries_category_and_source(client: FlaskClient, bundled_app: Flask) -> None:
    root = etree.fromstring(client.get("/feeds/all.atom").data)
    article = next(a for a in catalog_of(bundled_app).articles if a.source is not None)
    assert article.source is not None
    entry = next(
        e
        for e in root.iter(f"{ATOM}entry")
        if e.findtext(f"{ATOM}id") == SITE_URL + article_path(article.id)
    )
    category = entry.find(f"{ATOM}category")
    assert category is not None
    assert category.attrib == {
        "term": article.category.label,
        "scheme": SITE_URL + "/categorie/",
        "label": article.category.label,
    }
    source = entry.find(f"{ATOM}source")
    assert source is not None
    assert source.findtext(f"{ATOM}title") == article.source.name
    assert source.findtext(f"{ATOM}id") == SITE_URL + f"/feeds/bron/{article.source.slug}.atom"


def test_feed_dates_come_from_the_content_not_the_clock(
    client: FlaskClient, bundled_app: Flask
) -> None:
    newest = max(a.updated for a in catalog_of(bundled_app).articles)
    atom = etree.fromstring(client.get("/feeds/all.atom").data)
    assert atom.findtext(f"{ATOM}updated") == newest.isoformat()
    rss = etree.fromstring(client.get("/feeds/all.rss").data)
    assert rss.findtext("channel/lastBuildDate") == format_datetime(newest)


def test_dates_are_local_time_across_daylight_saving(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("winter.txt", published="15-01-2025")
    write_article("zomer.txt", published="15-07-2025 09:30")
    root = etree.fromstring(make_app().test_client().get("/feeds/all.atom").data)
    published = [e.findtext(f"{ATOM}published") for e in root.iter(f"{ATOM}entry")]
    assert published == ["2025-07-15T09:30:00+02:00", "2025-01-15T00:00:00+01:00"]
    rss = etree.fromstring(make_app().test_client().get("/feeds/all.rss").data)
    assert [i.findtext("pubDate") for i in rss.iter("item")] == [
        "Tue, 15 Jul 2025 09:30:00 +0200",
        "Wed, 15 Jan 2025 00:00:00 +0100",
    ]


def test_configured_time_zone_is_used(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("a.txt", published="15-01-2025 12:00")
    root = etree.fromstring(
        make_app(TIMEZONE="America/New_York").test_client().get("/feeds/all.atom").data
    )
    assert root.findtext(f"{ATOM}entry/{ATOM}published") == "2025-01-15T12:00:00-05:00"


# -- hostile text ---------------------------------------------------------------------------------


@pytest.fixture
def hostile_app(write_article: ArticleWriter, make_app: Callable[..., Flask]) -> Flask:
    for number, title in enumerate(HOSTILE_TITLES):
        write_article(
            f"vijandig/{number}.txt",
            title=title,
            category='Test & <Proef> -> "Sub" ]]> -> Derde 🎉',
            source="Bron <b>& Co</b>" if number % 2 else None,
            published=f"{number + 1}-02-2025",
            body=(
                f"{title} in de tekst.",
                "<p onclick=\"alert(1)\">HTML-achtig</p> <a href='javascript:alert(1)'>link</a>",
                "Regel één\nRegel twee ]]> & meer",
            ),
        )
    write_article("control.txt", title="Beller\x07 en\x1b tab\there", published="1-03-2025")
    return make_app()


def test_hostile_text_comes_back_exactly_in_every_format(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    catalog = catalog_of(hostile_app)
    assert len(catalog.articles) == len(HOSTILE_TITLES) + 1
    for feed, extension, page, url in feed_urls(hostile_app):
        data, _ = fetch_valid(client, url, extension)
        check_entries(data, feed.page(page, 50).articles, extension)


def test_control_characters_are_dropped(hostile_app: Flask) -> None:
    titles = {a.title for a in catalog_of(hostile_app).articles}
    assert "Beller en tab\there" in titles


def test_hostile_json_feed_round_trips(hostile_app: Flask) -> None:
    document = json.loads(hostile_app.test_client().get("/feeds/all.json").data)
    assert {item["title"] for item in document["items"]} >= set(HOSTILE_TITLES[:4])


# -- an empty site --------------------------------------------------------------------------------


def test_an_empty_content_folder_still_serves_valid_feeds(
    content_dir: Path, make_app: Callable[..., Flask]
) -> None:
    client = make_app(content_dir).test_client()
    for extension in FORMATS:
        url = f"/feeds/all.{extension}"
        _, parsed = fetch_valid(client, url, extension)
        entries = (
            parsed["items"]
            if extension == "json"
            else parsed.findall(".//item") + parsed.findall(f".//{ATOM}entry")
        )
        assert entries == []


def test_rss_writes_markup_characters_as_hex_references(hostile_app: Flask) -> None:
    """The RSS Best Practices Profile's advice, which the W3C validator warns about."""
    data = hostile_app.test_client().get("/feeds/all.rss").data
    assert b"&#x3C;script&#x3E;" in data
    for named in (b"&amp;", b"&lt;", b"&gt;"):
        assert named not in data

"""The two OPML lists as a feed reader imports them (listparser, which feed readers build on).

The default list subscribes to every article exactly once; the directory lists every feed. In
both, folders are plain outlines and no feed outline holds another, so every feed lands in a
named folder and none is dropped.
"""

from __future__ import annotations

from collections import Counter

import listparser
import pytest
from conftest import SITE_URL
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.feeds.catalog import Catalog, FeedKind
from feedsvc.feeds.document import Outline
from feedsvc.feeds.urls import feed_path


def catalog_of(app: Flask) -> Catalog:
    catalog: Catalog = app.extensions["feedsvc"].catalog
    return catalog


def imported(client: FlaskClient, url: str) -> listparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type == "text/x-opml; charset=utf-8"
    result = listparser.parse(response.data)
    assert not result.bozo, result.get("bozo_exception")
    return result


def check_folders_are_plain(data: bytes) -> None:
    """Read independently of listparser: a feed outline never has children."""
    root = etree.fromstring(data)
    for outline in root.iter("outline"):
        if outline.get("xmlUrl") is not None:
            assert len(outline) == 0, outline.get("text")
            assert outline.get("type") == "rss"
        else:
            assert set(outline.attrib) == {"text"}


def test_the_default_list_subscribes_to_every_article_once(
    client: FlaskClient, bundled_app: Flask
) -> None:
    result = imported(client, "/feeds.opml")
    check_folders_are_plain(client.get("/feeds.opml").data)
    catalog = catalog_of(bundled_app)
    by_url = {SITE_URL + feed_path(feed, "rss"): feed for feed in catalog.feeds.values()}
    feeds = [by_url[entry.url] for entry in result.feeds]
    assert all(f.kind is FeedKind.CATEGORY and f.category and f.category.depth == 1 for f in feeds)
    # Every article is in exactly one of the listed feeds.
    seen = Counter(article.id for feed in feeds for article in feed.articles)
    assert set(seen) == set(catalog.by_id)
    assert set(seen.values()) == {1}
    for entry in result.feeds:
        assert entry.title
        assert entry.categories, entry.url
        assert all(entry.categories[0]), entry.url


def test_the_directory_lists_every_feed_in_a_named_folder(
    client: FlaskClient, bundled_app: Flask
) -> None:
    result = imported(client, "/feeds-alle.opml")
    check_folders_are_plain(client.get("/feeds-alle.opml").data)
    catalog = catalog_of(bundled_app)
    urls = [entry.url for entry in result.feeds]
    assert sorted(urls) == sorted(SITE_URL + feed_path(f, "rss") for f in catalog.feeds.values())
    categories = {entry.url: entry.categories for entry in result.feeds}
    for entry in result.feeds:
        assert entry.title
        assert entry.categories, entry.url
        assert all(entry.categories[0]), entry.url
    verkeer = SITE_URL + "/feeds/categorie/nieuws/gemeente/verkeer.rss"
    assert categories[verkeer] == [["Categorieën", "Nieuws", "Gemeente"]]
    # A category with sub-categories is a folder holding its own feed beside theirs.
    gemeente = SITE_URL + "/feeds/categorie/nieuws/gemeente.rss"
    assert categories[gemeente] == [["Categorieën", "Nieuws", "Gemeente"]]
    navo = SITE_URL + "/feeds/bron/navo.rss"
    assert categories[navo] == [["Bronnen"]]


def test_the_index_links_both_lists(client: FlaskClient) -> None:
    page = etree.fromstring(client.get("/").data, etree.HTMLParser())
    hrefs = {a.get("href") for a in page.iter("a")}
    assert {"/feeds.opml", "/feeds-alle.opml"} <= hrefs


def test_an_outline_is_a_feed_or_a_folder_never_both() -> None:
    feed = Outline("a", xml_url="https://example.org/a.rss")
    with pytest.raises(ValueError, match="a feed and a folder"):
        Outline("b", xml_url="https://example.org/b.rss", children=(feed,))

"""OPML 2.0 subscription list of every feed: the all-feed, categories nested, sources grouped."""

from __future__ import annotations

from lxml import etree

from feedsvc.feeds.catalog import Catalog, CategoryNode, Feed, newest_update
from feedsvc.feeds.urls import feed_page_path, feed_path
from feedsvc.feeds.writers import RSS
from feedsvc.feeds.writers.common import rfc822
from feedsvc.settings import Settings

OPML_SPEC = "http://opml.org/spec2.opml"
CONTENT_TYPE = "text/x-opml; charset=utf-8"


def render_opml(catalog: Catalog, settings: Settings) -> bytes:
    """The OPML document; every outline's ``xmlUrl`` is the absolute RSS URL of a feed."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    _text(head, "title", f"Feeds van {settings.site_title}")
    # The content's own date, not the time of the request, so the bytes are reproducible.
    updated = rfc822(newest_update(catalog.articles))
    _text(head, "dateCreated", updated)
    _text(head, "dateModified", updated)
    _text(head, "ownerName", settings.site_title)
    _text(head, "docs", OPML_SPEC)
    _text(head, "ownerId", settings.url("/"))
    body = etree.SubElement(root, "body")
    _feed_outline(body, catalog.all_feed, "Alle berichten", settings)
    categories = etree.SubElement(body, "outline", text="Categorieën")
    for node in catalog.category_tree:
        _category_outline(categories, node, settings)
    sources = etree.SubElement(body, "outline", text="Bronnen")
    for feed in catalog.source_feeds:
        _feed_outline(sources, feed, feed.name, settings)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def _category_outline(parent: etree._Element, node: CategoryNode, settings: Settings) -> None:
    assert node.feed.category is not None
    outline = _feed_outline(parent, node.feed, node.feed.category.name, settings)
    for child in node.children:
        _category_outline(outline, child, settings)


def _feed_outline(
    parent: etree._Element, feed: Feed, text: str, settings: Settings
) -> etree._Element:
    return etree.SubElement(
        parent,
        "outline",
        type="rss",
        text=text,
        title=feed.title,
        xmlUrl=settings.url(feed_path(feed, RSS.extension)),
        htmlUrl=settings.url(feed_page_path(feed)),
        language="nl",
        version="RSS2",
    )


def _text(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, tag).text = text

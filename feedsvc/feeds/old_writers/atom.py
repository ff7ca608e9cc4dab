"""Atom 1.0 (RFC 4287), with RFC 5005 paging links and WebSub hub links.

Written with lxml, like RSS, so both XML formats share one way of building documents and neither
depends on feedgen's process-wide locale switching.
"""

from __future__ import annotations

from lxml import etree

from feedsvc.feeds.catalog import FeedPage
from feedsvc.feeds.old_writers.common import (
    FAVICON_PATH,
    GENERATOR_NAME,
    GENERATOR_VERSION,
    FeedFormat,
    PageLinks,
    body_html,
    category_scheme,
    permalink,
    rfc3339,
    with_stylesheet,
)
from feedsvc.feeds.urls import feed_path, source_feed_path
from feedsvc.settings import Settings

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_A = f"{{{ATOM_NS}}}"


def render_atom(page: FeedPage, settings: Settings) -> bytes:
    """One feed page as an Atom 1.0 document (UTF-8 bytes)."""
    links = PageLinks.of(page, ATOM.extension, settings)
    feed = page.feed
    root = etree.Element(_A + "feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]  # lxml-stubs omit None
    root.set(XML_LANG, "nl")
    # The id names the feed, not the page: every page of a feed is part of the same logical feed.
    _text(root, "id", settings.url(feed_path(feed, ATOM.extension)))
    _text(root, "title", feed.title).set("type", "text")
    _text(root, "subtitle", feed.description).set("type", "text")
    _text(root, "updated", rfc3339(page.updated))
    author = etree.SubElement(root, _A + "author")
    _text(author, "name", settings.site_title)
    _text(author, "uri", settings.url("/"))
    _link(root, "self", links.self, ATOM.media_type)
    _link(root, "alternate", links.alternate, "text/html")
    for rel, href in links.paging():
        _link(root, rel, href, ATOM.media_type)
    if links.hub:
        _link(root, "hub", links.hub)
    generator = _text(root, "generator", GENERATOR_NAME)
    generator.set("version", GENERATOR_VERSION)
    _text(root, "icon", settings.url(FAVICON_PATH))
    _text(root, "rights", f"© {settings.site_title}").set("type", "text")
    scheme = category_scheme(settings)
    for article in page.articles:
        entry = etree.SubElement(root, _A + "entry")
        link = permalink(article, settings)
        _text(entry, "id", link)
        _text(entry, "title", article.title).set("type", "text")
        _link(entry, "alternate", link, "text/html")
        _text(entry, "published", rfc3339(article.published))
        _text(entry, "updated", rfc3339(article.updated))
        if article.source is not None:
            _text(etree.SubElement(entry, _A + "author"), "name", article.source.name)
        etree.SubElement(
            entry,
            _A + "category",
            term=article.category.slug_path,
            scheme=scheme,
            label=article.category.label,
        )
        _text(entry, "summary", article.summary).set("type", "text")
        _text(entry, "content", body_html(article)).set("type", "html")
        if article.source is not None:
            source_url = settings.url(source_feed_path(article.source, ATOM.extension))
            source = etree.SubElement(entry, _A + "source")
            _text(source, "id", source_url)
            _text(source, "title", article.source.name).set("type", "text")
            _link(source, "self", source_url, ATOM.media_type)
    document = with_stylesheet(root, settings)
    data: bytes = etree.tostring(
        document, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return data


def _text(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, _A + name)
    element.text = text
    return element


def _link(parent: etree._Element, rel: str, href: str, media_type: str | None = None) -> None:
    link = etree.SubElement(parent, _A + "link", rel=rel, href=href)
    if media_type:
        link.set("type", media_type)


ATOM = FeedFormat(
    name="Atom 1.0",
    extension="atom",
    media_type="application/atom+xml",
    content_type="application/atom+xml; charset=utf-8",
    browser_content_type="application/xml; charset=utf-8",
    render=render_atom,
)

"""RSS 2.0 (rssboard.org specification, following the RSS Best Practices Profile).

Written with lxml rather than feedgen: feedgen 1.0's RSS writer drops every ``atom:link`` but
``rel="self"`` (so RFC 5005 paging and WebSub hub links cannot be expressed), drops ``<author>``
without an e-mail address, and formats dates under a process-wide ``locale.setlocale`` that is
unsafe in a threaded server.
"""

from __future__ import annotations

import html

from lxml import etree

from feedsvc.feeds.catalog import FeedPage
from feedsvc.feeds.old_writers.common import (
    FAVICON_PATH,
    FAVICON_SIZE,
    GENERATOR_NAME,
    GENERATOR_VERSION,
    FeedFormat,
    PageLinks,
    body_html,
    category_scheme,
    permalink,
    rfc822,
    with_stylesheet,
)
from feedsvc.feeds.urls import source_feed_path
from feedsvc.settings import Settings

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
_NSMAP = {"atom": ATOM_NS, "content": CONTENT_NS, "dc": DC_NS}
_RSS_DOCS = "https://www.rssboard.org/rss-specification"


def render_rss(page: FeedPage, settings: Settings) -> bytes:
    """One feed page as an RSS 2.0 document (UTF-8 bytes)."""
    links = PageLinks.of(page, RSS.extension, settings)
    feed = page.feed
    rss = etree.Element("rss", version="2.0", nsmap=_NSMAP)
    channel = etree.SubElement(rss, "channel")
    _text(channel, "title", feed.title)
    _text(channel, "link", links.alternate)
    _text(channel, "description", feed.description)
    _atom_link(channel, "self", links.self, RSS.media_type)
    for rel, href in links.paging():
        _atom_link(channel, rel, href, RSS.media_type)
    if links.hub:
        _atom_link(channel, "hub", links.hub)
    _text(channel, "language", "nl")
    _text(channel, "copyright", f"© {settings.site_title}")
    _text(channel, "lastBuildDate", rfc822(page.updated))
    _text(channel, "generator", f"{GENERATOR_NAME} {GENERATOR_VERSION}")
    _text(channel, "docs", _RSS_DOCS)
    _text(channel, "ttl", str(max(1, settings.cache_max_age // 60)))
    image = etree.SubElement(channel, "image")
    _text(image, "url", settings.url(FAVICON_PATH))
    _text(image, "title", feed.title)  # validators expect the channel's own title here
    _text(image, "link", links.alternate)
    _text(image, "width", str(FAVICON_SIZE))
    _text(image, "height", str(FAVICON_SIZE))
    scheme = category_scheme(settings)
    for article in page.articles:
        item = etree.SubElement(channel, "item")
        link = permalink(article, settings)
        _text(item, "title", article.title)
        _text(item, "link", link)
        # description is HTML in RSS; escaping once more keeps the summary plain text.
        _text(item, "description", html.escape(article.summary, quote=False))
        _text(item, f"{{{CONTENT_NS}}}encoded", body_html(article))
        if article.source is not None:
            _text(item, f"{{{DC_NS}}}creator", article.source.name)
        _text(item, "category", article.category.path).set("domain", scheme)
        _text(item, "guid", link).set("isPermaLink", "true")
        _text(item, "pubDate", rfc822(article.published))
        if article.source is not None:
            url = settings.url(source_feed_path(article.source, RSS.extension))
            _text(item, "source", article.source.name).set("url", url)
    document = with_stylesheet(rss, settings)
    data: bytes = etree.tostring(
        document, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return _hex_escapes(data)


def _hex_escapes(data: bytes) -> bytes:
    """Write ``&``, ``<`` and ``>`` as hexadecimal character references.

    The RSS Best Practices Profile asks for these in plain text, because aggregators disagree on
    whether ``&lt;`` in a title is text or markup; ``&#x3C;`` is read as text by all of them.
    lxml writes those characters only as ``&amp;``/``&lt;``/``&gt;``, and nothing else in its
    output contains those sequences, so replacing them leaves the parsed document unchanged.
    """
    return data.replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;").replace(b"&gt;", b"&#x3E;")


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _atom_link(parent: etree._Element, rel: str, href: str, media_type: str | None = None) -> None:
    link = etree.SubElement(parent, f"{{{ATOM_NS}}}link", rel=rel, href=href)
    if media_type:
        link.set("type", media_type)


RSS = FeedFormat(
    name="RSS 2.0",
    extension="rss",
    media_type="application/rss+xml",
    content_type="application/rss+xml; charset=utf-8",
    browser_content_type="application/xml; charset=utf-8",
    render=render_rss,
)

"""Atom 1.0 (RFC 4287) with RFC 5005 paging and WebSub hub links, written by feedgen from a
:class:`~feedsvc.feeds.document.FeedDocument`.

feedgen's core writes the feed and its entries; its extension API adds what the core lacks or
writes otherwise (see :class:`_FeedExtension` and :class:`_EntryExtension`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html.entities import name2codepoint

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc.feeds.document import DocumentEntry, FeedDocument
from feedsvc.feeds.writers.browserview import add_browser_view
from feedsvc.feeds.writers.common import (
    ENTRY_BYTES_BUDGET,
    FeedFormat,
    add_stylesheet,
    rfc3339,
    writable,
)
from feedsvc.feeds.writers.splice import EntryBytes, EntryShape, ViewShape, splice

XHTML_NS = "http://www.w3.org/1999/xhtml"
# Text that an HTML reader could take for markup: a tag, or "&" and a word the W3C validator takes
# for an entity (an HTML entity name or a numeric reference, with or without ";", or any name
# with ";"). The W3C Feed Validation Service warns about such text although it is only text (an
# editor who writes "&amp;" means those five characters): in a type="text" construct, "should
# not contain HTML unless declared in the type attribute"; in a type="xhtml" div holding text
# only, "claims to be inline, but may contain html". So such text is written as type="xhtml"
# with the text in a span inside the div, which is neither. Readers show it as exactly those
# characters, and so does a browser showing the feed with its stylesheet (type="html", escaped,
# would show it the escaped markup: CSS shows element text as it is). Text that only has "&"
# before a word that is no entity ("H&BC") stays plain text: newsboat drops such an "&" from an
# xhtml title.
_TAG_LIKE = re.compile(r"<[A-Za-z/!?]")
_ENTITY_LIKE = re.compile(r"&(#?\w+)(;?)")
MEDIA_TYPE = "application/atom+xml"
# An entry is on several pages (its feeds): its bytes are written once and spliced into every
# page it is on (see feedsvc.feeds.writers.splice).
ENTRIES = EntryBytes(ENTRY_BYTES_BUDGET)
# Entries are children of the feed element, which closes after the last one.
_SHAPE = EntryShape(tag=b"entry", indent=b"  ", closing=b"</feed>\n")
# The browser view's list of entries (feed > div > ol), spliced as the entries are.
_VIEW = ViewShape(indent=b"    ")


def _reads_as_html(text: str) -> bool:
    if _TAG_LIKE.search(text):
        return True
    return any(
        semicolon or name in name2codepoint or name == "apos" or not name.isalpha()
        for name, semicolon in _ENTITY_LIKE.findall(text)
    )


def _set_text(element: etree._Element | None, text: str) -> None:
    """Make a title, subtitle, summary or rights written by feedgen show exactly ``text``."""
    assert element is not None
    if not _reads_as_html(text):
        element.text = text
        return
    element.text = ""  # so the pretty printer adds no white space, which would be text here
    element.set("type", "xhtml")
    div = etree.SubElement(element, f"{{{XHTML_NS}}}div", nsmap={None: XHTML_NS})  # type: ignore[dict-item]  # lxml-stubs omit None
    etree.SubElement(div, f"{{{XHTML_NS}}}span").text = text


class _FeedExtension:
    """The stylesheet instruction, the type of title, subtitle and rights (see
    :func:`_set_text`), which feedgen's feed-level setters cannot set, and the browser view
    (feedgen calls this before it adds the entries, so the view precedes them)."""

    document: FeedDocument
    listed: Sequence[DocumentEntry]  # the entries written, which the browser view lists

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        # feedgen writes Atom elements without a namespace and declares it with an xmlns
        # attribute on the root, so they are found and added by local name.
        _set_text(feed.find("title"), self.document.title)
        _set_text(feed.find("subtitle"), self.document.description)
        _set_text(feed.find("rights"), self.document.rights)
        add_stylesheet(feed, self.document.stylesheet_url)
        add_browser_view(feed, self.document, self.listed)
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        return rss


class _EntryExtension:
    """Title and summary types (see :func:`_set_text`), the entry link's rel and type (feedgen
    1.0 drops every attribute of an entry link but href), and ``atom:source`` as RFC 4287 4.2.11
    asks (id, title, self link and updated; feedgen's has a title and a link only)."""

    entry: DocumentEntry
    media_type: str

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, element: etree._Element) -> etree._Element:
        _set_text(element.find("title"), self.entry.title)
        _set_text(element.find("summary"), self.entry.summary)
        link = element.find("link")
        assert link is not None
        link.set("rel", "alternate")
        link.set("type", "text/html")
        source = self.entry.source
        if source is not None:
            wrapper = etree.SubElement(element, "source")
            etree.SubElement(wrapper, "id").text = source.feed_url
            title = etree.SubElement(wrapper, "title")
            _set_text(title, source.name)
            etree.SubElement(
                wrapper, "link", rel="self", type=self.media_type, href=source.feed_url
            )
            etree.SubElement(wrapper, "updated").text = rfc3339(source.updated)
        return element

    def extend_rss(self, item: etree._Element) -> etree._Element:
        return item


def render_atom(document: FeedDocument) -> bytes:
    """``document`` as an Atom 1.0 document (UTF-8 bytes), each entry written once (splice)."""
    view = document.browser_view
    return splice(
        document.entries,
        lambda entries: _write(document, entries),
        ENTRIES,
        _SHAPE,
        view=None if view is None else _VIEW,
        view_label=None if view is None else view.source_label,
    )


def render_atom_plain(document: FeedDocument) -> bytes:
    """The same bytes as :func:`render_atom`, with feedgen writing every entry of the page."""
    return _write(document, document.entries)


def _write(document: FeedDocument, entries: Sequence[DocumentEntry]) -> bytes:
    """``document`` with only ``entries`` as its entries (the browser view shows them all)."""
    fg = FeedGenerator()
    fg.register_extension("feedsvc", _FeedExtension, _EntryExtension, atom=True, rss=False)
    fg.feedsvc.document = document
    fg.feedsvc.listed = entries
    # The id names the feed, not the page: every page of a feed is part of the same logical feed.
    fg.id(document.id)
    fg.title(document.title)
    fg.subtitle(document.description)
    fg.updated(writable(document.updated))  # every date set: feedgen's default is now()
    fg.author(name=document.author_name, uri=document.author_url)
    fg.link(href=document.self_url, rel="self", type=document.media_type)
    fg.link(href=document.alternate_url, rel="alternate", type="text/html")
    for rel, href in document.paging():
        fg.link(href=href, rel=rel, type=document.media_type)
    if document.hub_url:
        fg.link(href=document.hub_url, rel="hub")
    fg.generator(document.generator_name, version=document.generator_version)
    fg.icon(document.favicon_url)
    fg.rights(document.rights)
    fg.language(document.language)
    for entry in entries:  # appended: feedgen prepends by default
        fg.add_entry(_entry(entry), order="append")
    data: bytes = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def _entry(entry: DocumentEntry) -> FeedEntry:
    fe = FeedEntry()
    # The extension render_atom gives its feed (add_entry would add it).
    fe.register_extension("feedsvc", _EntryExtension, atom=True, rss=False)
    fe.feedsvc.entry = entry
    # An Atom document's entries link to Atom feeds (see DocumentSource.feed_url).
    fe.feedsvc.media_type = MEDIA_TYPE
    fe.id(entry.id)
    fe.title(entry.title)
    fe.updated(writable(entry.updated))
    fe.published(writable(entry.published))
    fe.link(href=entry.link, rel="alternate", type="text/html")
    if entry.source is not None:
        fe.author(name=entry.source.name)
    category = entry.category
    fe.category(term=category.display, scheme=category.scheme, label=category.label)
    fe.summary(entry.summary, type="text")
    fe.content(entry.content_html, type="html")
    return fe


ATOM = FeedFormat(
    name="Atom 1.0",
    extension="atom",
    media_type=MEDIA_TYPE,
    content_type="application/atom+xml; charset=utf-8",
    browser_content_type="application/xml; charset=utf-8",
    render=render_atom,
)

"""RSS 2.0 (rssboard.org specification, following the RSS Best Practices Profile), written by
feedgen from a :class:`~feedsvc.feeds.document.FeedDocument`.

feedgen's core RSS writer covers the channel and items; its extension API adds what the core
lacks (see :class:`_ChannelExtension` and :class:`_ItemExtension`), and its bundled ``dc``
extension writes ``dc:creator``, since RSS ``<author>`` needs an e-mail address sources lack.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc.feeds.document import DocumentEntry, FeedDocument
from feedsvc.feeds.writers.browserview import add_browser_view
from feedsvc.feeds.writers.common import (
    ENTRY_BYTES_BUDGET,
    FeedFormat,
    add_stylesheet,
    rfc822,
    rfc3339,
)
from feedsvc.feeds.writers.splice import EntryBytes, EntryShape, ViewShape, splice

ATOM_NS = "http://www.w3.org/2005/Atom"
# An entry is on several pages (its feeds): its item's bytes are written once and spliced into
# every page it is on (see feedsvc.feeds.writers.splice).
ITEMS = EntryBytes(ENTRY_BYTES_BUDGET)
# Items are children of rss > channel; the channel and the document close after the last one.
_SHAPE = EntryShape(tag=b"item", indent=b"    ", closing=b"  </channel>\n</rss>\n")
# The browser view's list of entries (rss > channel > div > ol), spliced as the entries are.
_VIEW = ViewShape(indent=b"      ")


class _ChannelExtension:
    """RFC 5005 paging and WebSub hub links, ``lastBuildDate``, the stylesheet instruction and
    the browser view (feedgen calls this before it adds the items, so the view precedes them).

    feedgen's RSS writer keeps only the ``rel="self"`` ``atom:link``, and it formats dates by
    switching the process-wide locale (``locale.setlocale`` in ``feedgen.util.formatRFC2822``),
    which other threads of a server see; so every RSS date is written here, with
    :func:`email.utils.format_datetime`, and feedgen is never given one.
    """

    document: FeedDocument
    listed: Sequence[DocumentEntry]  # the entries written, which the browser view lists

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss.find("channel")
        assert channel is not None
        for rel, href in self.document.paging():
            _atom_link(channel, rel, href, self.document.media_type)
        if self.document.hub_url:
            _atom_link(channel, "hub", self.document.hub_url)
        etree.SubElement(channel, "lastBuildDate").text = rfc822(self.document.updated)
        add_stylesheet(rss, self.document.stylesheet_url)
        add_browser_view(channel, self.document, self.listed)
        return rss

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        return feed


class _ItemExtension:
    """``pubDate`` (see :class:`_ChannelExtension` for why here) and the item's update date as
    ``atom:updated``, which RSS lacks and feedparser, among others, reads as the entry's
    updated date."""

    entry: DocumentEntry

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, item: etree._Element) -> etree._Element:
        etree.SubElement(item, "pubDate").text = rfc822(self.entry.published)
        etree.SubElement(item, f"{{{ATOM_NS}}}updated").text = rfc3339(self.entry.updated)
        return item

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        return entry


def render_rss(document: FeedDocument) -> bytes:
    """``document`` as an RSS 2.0 document (UTF-8 bytes), each item written once (splice)."""
    view = document.browser_view
    return splice(
        document.entries,
        lambda entries: _write(document, entries),
        ITEMS,
        _SHAPE,
        view=None if view is None else _VIEW,
        view_label=None if view is None else view.source_label,
    )


def render_rss_plain(document: FeedDocument) -> bytes:
    """The same bytes as :func:`render_rss`, with feedgen writing every item of the page."""
    return _write(document, document.entries)


def _write(document: FeedDocument, entries: Sequence[DocumentEntry]) -> bytes:
    """``document`` with only ``entries`` as its items (the browser view shows them all)."""
    fg = FeedGenerator()
    # What load_extension("dc") registers, by class: feedgen's load_extension first tries to
    # import a module feedgen.ext.dc_entry that does not exist, a failed search of the file
    # system for every feed and every item written.
    fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    fg.register_extension("feedsvc", _ChannelExtension, _ItemExtension, atom=False, rss=True)
    fg.feedsvc.document = document
    fg.feedsvc.listed = entries
    # feedgen sets lastBuildDate to now() and writes it with its locale switching; the extension
    # writes it instead. feedgen has no way to unset it but its (name-mangled) attribute.
    fg._FeedGenerator__rss_lastBuildDate = None
    fg.title(document.title)
    fg.description(document.description)
    fg.link(href=document.self_url, rel="self", type=document.media_type)
    # feedgen's RSS <link> is the href of the last link given: the alternate one, so it is last.
    fg.link(href=document.alternate_url, rel="alternate", type="text/html")
    fg.language(document.language)
    fg.copyright(document.rights)
    fg.generator(f"{document.generator_name} {document.generator_version}")
    fg.docs(document.docs_url)
    fg.ttl(document.ttl_minutes)
    fg.image(
        url=document.favicon_url,
        title=document.title,  # validators expect the channel's own title here
        link=document.alternate_url,
        width=str(document.favicon_size),
        height=str(document.favicon_size),
    )
    for entry in entries:  # appended: feedgen prepends by default
        fg.add_entry(_item(entry), order="append")
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return _hex_escapes(data)


def _item(entry: DocumentEntry) -> FeedEntry:
    fe = FeedEntry()
    # The extensions render_rss gives its feed, in its order (add_entry would add them).
    fe.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    fe.register_extension("feedsvc", _ItemExtension, atom=False, rss=True)
    fe.feedsvc.entry = entry
    fe.title(entry.title)
    fe.link(href=entry.link)
    # description is HTML in RSS; escaping once more keeps the summary plain text.
    fe.description(html.escape(entry.summary, quote=False))
    fe.content(entry.content_html)
    # guid() rather than id(): id() marks the guid isPermaLink="false", and it is one.
    fe.guid(entry.id, permalink=True)
    fe.category(term=entry.category.path, scheme=entry.category.scheme)
    if entry.source is not None:
        fe.dc.dc_creator(entry.source.name)
        fe.source(url=entry.source.feed_url, title=entry.source.name)
    return fe


def _hex_escapes(data: bytes) -> bytes:
    """Write ``&``, ``<`` and ``>`` as hexadecimal character references.

    The RSS Best Practices Profile asks for these in plain text, because aggregators disagree on
    whether ``&lt;`` in a title is text or markup; ``&#x3C;`` is read as text by all of them.
    lxml (which feedgen writes with) writes those characters only as ``&amp;``/``&lt;``/``&gt;``,
    and nothing else in its output contains those sequences, so replacing them leaves the parsed
    document unchanged.
    """
    return data.replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;").replace(b"&gt;", b"&#x3E;")


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

"""The browser view of an RSS or Atom feed: one XHTML ``div`` that the feed carries for people.

Browsers dropped XSLT, and CSS alone cannot make a link of a URL, turn a date into Dutch or show
an RSS summary (escaped HTML) as the text it is. But a browser renders elements in the XHTML
namespace as HTML wherever they stand in an XML document: ``<a href>`` is a working link,
``<meta name="viewport">`` gives a phone a layout as wide as its screen. So the feed carries
its page for people as one ``div`` in that namespace, and ``feed.css`` shows that and hides the
rest.

Where: directly in the RSS ``channel`` or the Atom ``feed``, the one place the W3C Feed
Validation Service accepts XHTML outside text constructs (its ``do_xhtml_div`` in both; an
XHTML element anywhere else is "Misplaced XHTML content", an unknown namespace is "Unknown
namespace"), after the feed's own metadata and before its items, so that a reader looking for
the first ``title`` still finds the feed's. Every reader takes no notice of an extension element
it does not know (RSS 2.0, "Extending RSS"; RFC 4287 section 6.3); feedparser files it under
``feed["xhtml_div"]`` and leaves entries as they were. It is written into every representation,
so browsers and readers get the same bytes.

Every text and URL comes from the document's :class:`~feedsvc.feeds.document.BrowserView` and
entries; nothing here is worded or computed but the markup.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import ClassVar

from lxml import etree

from feedsvc.feeds.document import BrowserView, DocumentEntry, FeedDocument, Link
from feedsvc.feeds.writers.common import rfc3339

XHTML_NS = "http://www.w3.org/1999/xhtml"
# Gives a phone a layout as wide as its screen: without it, it lays an XML document out 980 px
# wide and shrinks it to fit (to ~40% on a 390 px screen). Chromium honours it in XML documents.
VIEWPORT = "width=device-width, initial-scale=1"
# Entries' list items kept (see _Items): a few MB.
VIEW_ITEMS = 8192


class _Items:
    """Each entry's list item, made once and copied (lxml copies in C; making it took most of
    the view's time), least recently used out beyond a count.

    Keyed by what the item shows, not by the entry object: the item is the same in RSS and
    Atom, whose entries differ (their source's feed URL), and the same for an equal entry the
    builder made again once it no longer kept the first (as an export's renderers, which keep
    few, do all the time). The key holds no body, only the short texts the item shows.
    """

    # At most this many in every such cache of the process (keep_at_most), whatever its size.
    _limit: ClassVar[int | None] = None

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[object, ...], etree._Element] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def keep_at_most(cls, limit: int) -> None:
        """From now on, at most ``limit`` items in this process: for a process that must not
        hold what the cache would (an export's forked renderer)."""
        cls._limit = limit

    def made(self, entry: DocumentEntry, view: BrowserView) -> etree._Element:
        source = entry.source.name if entry.source is not None else None
        published = entry.published
        # Equal datetimes can differ in their offset, which the item writes.
        key = (
            view.source_label,
            entry.title,
            entry.link,
            entry.published_text,
            published,
            published.utcoffset(),
            source,
            entry.summary,
        )
        with self._lock:
            item = self._kept.get(key)
            if item is not None:
                self._kept.move_to_end(key)
                return item
        item = _new_item(entry, view)
        limit = self.size if self._limit is None else min(self.size, self._limit)
        with self._lock:
            self._kept[key] = item
            while len(self._kept) > limit:
                self._kept.popitem(last=False)
        return item


_items = _Items(VIEW_ITEMS)


def keep_items_at_most(limit: int) -> None:
    """From now on, at most ``limit`` entries' list items kept in this process."""
    _Items.keep_at_most(limit)


def add_browser_view(
    parent: etree._Element,
    document: FeedDocument,
    entries: Sequence[DocumentEntry] | None = None,
) -> None:
    """Append the browser view of ``document`` to ``parent`` (an RSS channel, an Atom feed),
    if the document has one, listing ``entries`` (by default the document's): the writers
    list only the entries they write and splice in the kept bytes of the others' items (see
    :mod:`feedsvc.feeds.writers.splice`)."""
    view = document.browser_view
    if view is None:
        return
    root = etree.SubElement(parent, _h("div"), nsmap={None: XHTML_NS})  # type: ignore[dict-item]  # lxml-stubs omit None
    root.set("class", "feedsvc-browser")
    root.set("lang", document.language)
    _element(root, "meta", name="viewport", content=VIEWPORT)
    # The tab's title: a document's title is its first title element in the XHTML namespace.
    _element(root, "title", document.title)
    _header(root, document, view)
    listed = _element(root, "ol", class_="entries")
    for entry in document.entries if entries is None else entries:
        _entry(listed, entry, view)
    if view.newer is not None or view.older is not None:
        nav = _element(root, "nav", class_="pages")
        if view.newer is not None:
            _link(nav, view.newer, rel="prev")
        if view.older is not None:
            _link(nav, view.older, rel="next")


def _header(root: etree._Element, document: FeedDocument, view: BrowserView) -> None:
    header = _element(root, "header")
    _link(_element(header, "p", "", class_="home"), view.home)
    notice = _element(header, "section", class_="notice")
    what = _element(notice, "p", "")
    _element(what, "strong", view.notice).tail = " " + view.explanation
    _link(_element(notice, "p", ""), view.subscribe, class_="subscribe")
    _element(_element(notice, "p", view.copy_hint + " ", class_="address"), "code", view.address)
    _element(header, "h1", document.title)
    _element(header, "p", document.description, class_="description")


def _entry(entries: etree._Element, entry: DocumentEntry, view: BrowserView) -> None:
    # lxml copies the whole subtree; deepcopy adds a memo.
    entries.append(copy.copy(_items.made(entry, view)))


def _new_item(entry: DocumentEntry, view: BrowserView) -> etree._Element:
    item = etree.Element(_h("li"), nsmap={None: XHTML_NS})  # type: ignore[dict-item]  # lxml-stubs omit None
    _link(_element(item, "h2", ""), Link(entry.title, entry.link))
    meta = _element(item, "p", "", class_="meta")
    _element(meta, "time", entry.published_text, datetime=rfc3339(entry.published))
    if entry.source is not None:
        _element(meta, "span", f"{view.source_label}: {entry.source.name}", class_="source")
    if entry.summary:
        _element(item, "p", entry.summary, class_="summary")
    return item


def _h(local: str) -> str:
    return f"{{{XHTML_NS}}}{local}"


def _element(
    parent: etree._Element, local: str, text: str | None = None, **attributes: str
) -> etree._Element:
    """An XHTML element; give ``text=""`` rather than None to one that holds phrasing content,
    so that the pretty printer adds no white space inside it (it would be text there)."""
    element = etree.SubElement(parent, _h(local))
    for name, value in attributes.items():
        element.set(name.rstrip("_"), value)  # class_ -> class
    if text is not None:
        element.text = text
    return element


def _link(parent: etree._Element, link: Link, **attributes: str) -> etree._Element:
    return _element(parent, "a", link.text, href=link.href, **attributes)

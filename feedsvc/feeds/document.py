"""What goes in a feed, fully resolved: the values every writer gets and nothing more.

A :class:`FeedDocument` is one feed page in one format with every title, absolute URL, date and
text already decided, the way Django's ``feedgenerator`` gets its feeds: the writers in
``feedsvc/feeds/writers/`` turn one into bytes and know nothing of settings, URL layout, the
catalog or the package. :mod:`feedsvc.feeds.builder` makes these values from the catalog and the
settings. This module imports only the standard library, so a writer that imports it cannot reach
anything else through it.

One document per (page, format): a page's own links (self, paging, a source's feed) point to the
same format, so the RSS and Atom documents of a page differ in those URLs only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class DocumentCategory:
    """An entry's category, in every spelling a format or a reader needs."""

    names: tuple[str, ...]  # ("Nieuws", "Informatief"), outermost first
    path: str  # "Nieuws/Informatief": RSS 2.0's slash-separated hierarchy
    label: str  # "Nieuws -> Informatief", as editors write it
    scheme: str  # absolute URL naming the category vocabulary
    # What readers should show people for this category. feedparser, sfeed and most readers show
    # an Atom category's term, so the term carries this rather than an identifier only machines
    # read (the scheme and the label already identify the category).
    display: str


@dataclass(frozen=True, slots=True)
class DocumentSource:
    """Where an entry's text comes from: an organisation with a feed of its own on this site."""

    name: str
    feed_url: str  # that source's feed (first page) in the document's format
    # The source feed's updated date as of this entry: the entry's own update, which the
    # source feed carried at least from then on. Not the source feed's newest article, which
    # would make every page's bytes depend on articles that are not on it.
    updated: datetime


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    """One article as a feed entry."""

    id: str  # the permalink; ids never change when a title does
    link: str  # the article's HTML page (the same URL as the id)
    title: str  # plain text
    summary: str  # plain text
    content_html: str  # the body as HTML paragraphs
    published: datetime
    updated: datetime
    published_text: str  # the publication date as people read it: "24 november 2026"
    category: DocumentCategory
    source: DocumentSource | None
    # The offsets of its dates, which equal datetimes can differ in (12:00+01:00 == 11:00+00:00)
    # and which are written with them, and its hash: computed once, as the entry is made. An
    # entry's bytes are looked up by its value on every page it is on, in each format
    # (feedsvc.feeds.writers.splice), and hashing its fields and nested values again each time
    # was most of a look-up.
    offsets: tuple[timedelta | None, ...] = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        dates = [self.published, self.updated]
        if self.source is not None:
            dates.append(self.source.updated)
        object.__setattr__(self, "offsets", tuple(value.utcoffset() for value in dates))
        object.__setattr__(self, "_hash", hash(self._fields()))

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.id,
            self.link,
            self.title,
            self.summary,
            self.content_html,
            self.published,
            self.updated,
            self.published_text,
            self.category,
            self.source,
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        # Made again where it is unpickled: a string's hash differs from process to process.
        return (DocumentEntry, self._fields())


@dataclass(frozen=True, slots=True)
class Link:
    """A link as a person sees it: its text and where it goes."""

    text: str
    href: str


@dataclass(frozen=True, slots=True)
class BrowserView:
    """What a person reads who opens the RSS or Atom feed in a browser, every text decided.

    The writers put it in the feed as one XHTML element, which browsers render as HTML (so the
    links work) and feed readers ignore; see :mod:`feedsvc.feeds.writers.browserview`.
    """

    home: Link  # back to the site
    notice: str  # what this page is: "Dit is een nieuwsfeed"
    explanation: str  # what a feed is good for
    subscribe: Link  # the feed's HTML page, with its one-click subscribe buttons
    copy_hint: str  # introduces ``address``
    address: str  # the feed's URL to copy into a reader: its first page
    source_label: str  # before an entry's source: "Bron"
    newer: Link | None  # the previous page of the feed, if any
    older: Link | None  # the next page, if any


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One page of one feed in one format, ready to be written."""

    extension: str  # "rss", "atom", "json": the format this document's links point to
    media_type: str  # of this format, for link type attributes
    id: str  # the feed's own URL: its first page, the same on every page
    title: str  # plain text
    description: str  # plain text
    language: str  # "nl"
    rights: str  # plain text
    author_name: str  # the publisher (the site)
    author_url: str
    self_url: str  # this page
    alternate_url: str  # the feed's HTML page
    first_url: str | None  # RFC 5005 paging; all four None when the feed has one page
    previous_url: str | None
    next_url: str | None
    last_url: str | None
    hub_url: str | None  # WebSub hub, when one is configured
    generator_name: str
    generator_version: str
    icon_url: str  # square, large (JSON Feed's icon)
    favicon_url: str  # small: Atom icon, RSS image, JSON Feed favicon
    favicon_size: int  # pixels, width and height
    stylesheet_url: str  # CSS for people who open an XML feed in a browser
    docs_url: str  # where the format and its extensions are explained (RSS docs)
    extensions_about_url: str  # where feedsvc's own JSON Feed extensions are explained
    updated: datetime  # the newest update on this page
    ttl_minutes: int  # how long readers may cache the feed
    entries: tuple[DocumentEntry, ...]
    # For people who open the feed in a browser (RSS and Atom); None writes none.
    browser_view: BrowserView | None = None

    def paging(self) -> tuple[tuple[str, str], ...]:
        """(rel, href) of the RFC 5005 links present, in a fixed order."""
        pairs = (
            ("first", self.first_url),
            ("previous", self.previous_url),
            ("next", self.next_url),
            ("last", self.last_url),
        )
        return tuple((rel, href) for rel, href in pairs if href is not None)


@dataclass(frozen=True, slots=True)
class Outline:
    """An OPML outline: a folder (``xml_url`` None, ``children`` set) or one feed (no children).

    Feed outlines never hold other outlines: readers such as sfeed and listparser treat an
    outline with children as a folder and drop or misfile a feed that is also one.
    """

    text: str
    title: str | None = None
    xml_url: str | None = None  # the feed's RSS URL
    html_url: str | None = None
    children: tuple[Outline, ...] = ()

    def __post_init__(self) -> None:
        if self.xml_url is not None and self.children:
            raise ValueError(f"outline {self.text!r} is a feed and a folder at once")


@dataclass(frozen=True, slots=True)
class OpmlDocument:
    """An OPML 2.0 subscription list."""

    title: str
    created: datetime  # from the content, not the clock, so the bytes are reproducible
    owner_name: str
    owner_url: str
    docs_url: str
    language: str
    outlines: tuple[Outline, ...]


class IdentityCache(Generic[_K, _V]):
    """What was made from an object, found again by that very object, for at most ``size`` of them.

    An article is on a page of several feeds (all, each level of its category, its source), in
    three formats, so what a feed entry is made of is made once and reused. Keyed on identity,
    not equality: the objects are immutable, an equal one is rarely the same one, and hashing an
    article hashes its whole body. The cache holds the object itself, so its id is not reused
    while it is kept; bounded (oldest first out), so a reload's articles replace the last ones.
    """

    # At most this many in every cache of the process (keep_at_most), whatever its own size.
    _limit: ClassVar[int | None] = None

    def __init__(self, size: int) -> None:
        self._size = size
        self._own_limit: int | None = None  # keep_here_at_most
        self._made: dict[int, tuple[_K, _V]] = {}
        self._lock = threading.Lock()

    @classmethod
    def keep_at_most(cls, limit: int) -> None:
        """From now on, every cache of this process keeps at most ``limit`` objects: for a
        process that must not hold what its caches would (an export's forked renderer)."""
        cls._limit = limit

    def keep_here_at_most(self, limit: int) -> None:
        """From now on, this cache keeps at most ``limit`` objects, whatever
        :meth:`keep_at_most` says for every cache: for the one cache such a process keeps
        more of (or less)."""
        self._own_limit = limit

    def get(self, key: _K) -> _V | None:
        found = self._made.get(id(key))
        return found[1] if found is not None and found[0] is key else None

    def put(self, key: _K, value: _V) -> None:
        with self._lock:
            self._made[id(key)] = (key, value)
            limit = self._limit if self._own_limit is None else self._own_limit
            size = self._size if limit is None else min(self._size, limit)
            while len(self._made) > size:
                del self._made[next(iter(self._made))]

    def made(self, key: _K, make: Callable[[_K], _V]) -> _V:
        """What ``make`` made of ``key``, made now if it is not kept."""
        value = self.get(key)
        if value is None:
            value = make(key)
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._made.clear()

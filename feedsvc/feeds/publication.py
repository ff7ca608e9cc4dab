"""The rendered side of one catalog: feed bytes per (feed, format, page), with their compressed
forms, strong ETags and Last-Modified dates. Knows nothing of HTTP.

A :class:`Publication` pairs one immutable catalog with its rendered feeds, so the bytes it hands
out, and the validators that go with them, always belong to the same snapshot of content.

Pages are rendered on first use, not when the publication is built: at 100,000 articles a site
has hundreds of feeds and tens of thousands of pages, and rendering (and compressing) even only
every first page took seconds per reload. Building is cheap instead: it compares each feed's
first page with the previous publication's (what WebSub pings are about), carries over every
rendered page whose content did not change, and keeps the validators of every page rendered so
far, so a page that is rendered again after a change gets a later Last-Modified than the one
clients have. First pages (what aggregators poll) stay in memory; deeper pages are kept in a
bounded cache, so a crawler walking every page cannot make a worker hold the whole site.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from feedsvc.feeds.builder import build_document, build_opml
from feedsvc.feeds.catalog import Catalog, FeedPage
from feedsvc.feeds.compression import IDENTITY, encode_all
from feedsvc.feeds.state import GONE_LIMIT, Recorded, StateKey, bound_gone
from feedsvc.feeds.urls import (
    OPML_DIRECTORY_PATH,
    OPML_PATH,
    article_path,
    feed_path,
    feed_path_of,
    is_html_page,
    listing_path,
)
from feedsvc.feeds.writers import FORMATS
from feedsvc.feeds.writers.opml import CONTENT_TYPE as OPML_CONTENT_TYPE
from feedsvc.feeds.writers.opml import render_opml
from feedsvc.settings import Settings

_ONE_SECOND = timedelta(seconds=1)
# A date given out is never more than this ahead of the clock: it waits, a skewed clock does not.
_MAX_WAIT_SECONDS = 1.0
# Deeper pages kept rendered per process; about 100-200 KB each in all three codings.
DEEP_PAGE_CACHE_SIZE = 256
# ... and in a forked renderer of the export (journaling), which asks for each page once, in
# its codings one after the other: keeping more would only grow it.
JOURNAL_PAGE_CACHE_SIZE = 4


@dataclass(frozen=True, slots=True)
class Variant:
    """The feed's bytes in one content coding, with the strong ETags of exactly these bytes."""

    body: bytes
    etag: str  # quoted, e.g. "3f2a…-gzip"
    # The same bytes labelled for a browser (another content type): another representation,
    # so another strong ETag, made here once rather than on every request.
    browser_etag: str  # "3f2a…-gzip-browser"


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """One feed page in one format, in every content coding, ready to send."""

    path: str  # site path of this page, e.g. /feeds/all.rss?page=2
    content_type: str
    variants: Mapping[str, Variant] = field(repr=False)
    last_modified: datetime
    content_key: tuple[Any, ...] = field(repr=False, compare=False)
    # Last-Modified as an HTTP-date, formatted once here rather than on every request.
    http_last_modified: str = field(init=False, repr=False, compare=False)
    # What a server derives from these bytes, made once per rendering and dropped with it:
    # feedsvc.web.fastpath keeps each variant's complete HTTP responses here.
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        http_date = format_datetime(self.last_modified.astimezone(UTC), usegmt=True)
        object.__setattr__(self, "http_last_modified", http_date)

    @property
    def body(self) -> bytes:
        return self.variants[IDENTITY].body

    @property
    def etag(self) -> str:
        return self.variants[IDENTITY].etag


# What a page looked like when it was last rendered: enough to date the next version. Seeded
# at start from what the state file (feeds/state.py) recorded, so dates survive restarts.
_Seen = Recorded


class UnknownFeedError(LookupError):
    """No feed at that path, in that format, or with that page."""


_Key = StateKey  # (feed path, extension, page number)
_OPML_KEYS: dict[bool, _Key] = {False: ("", "opml", 0), True: ("", "opml-directory", 0)}
# The key of an HTML page (rendered by the web layer, dated here): (its site path, "html", 0).
# Widgets and the webmasters' pages are HTML pages too (a widget's path with its options).
HTML_PAGE = "html"
# The key of a file of the site that is always there (sitemaps, robots.txt, the embed scripts).
SITE_FILE = "site"


# Told of every date given out, as it is given (the runtime's state journal).
Sink = Callable[[StateKey, Recorded], None]


class Publication:
    """Feeds of one catalog, rendered on first use and kept until the catalog is replaced."""

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        changed_at: datetime | None = None,
        sink: Sink | None = None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        # When the change that made this publication was seen (None: as loaded at start-up).
        self.changed_at = changed_at
        # When it was made: the newest its bytes can be where no change dates them (see _dated).
        self.made_at = datetime.now(UTC)
        self._sink = sink
        # Every date given to a resource this publication has no record of is no later.
        self.floor: datetime | None = None
        self._first: dict[_Key, RenderedFeed] = {}  # first pages and the OPML, never evicted
        self._deep: OrderedDict[_Key, RenderedFeed] = OrderedDict()  # least recently used first
        self._seen: dict[_Key, _Seen] = {}
        # Keys recorded since start_journal(), for a forked renderer to hand back (see adopt).
        self._journal: list[_Key] | None = None
        self._first_keys: dict[str, tuple[Any, ...]] = {}  # feed path -> its first page's key
        # First pages whose content changed since they were last rendered here, with when.
        self._pending: dict[_Key, datetime] = {}
        # Records in _seen of resources found gone since they were last all looked at (see
        # _carry_over), the ones the state file bounds anyway.
        self._gone_count = 0
        self._lock = threading.Lock()
        # Its place among the publications that share its history (see _carry_over): each is
        # one after the publication it was built from.
        self.serial = 0

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        settings: Settings,
        previous: Publication | None = None,
        changed_at: datetime | None = None,
        *,
        recorded: Mapping[_Key, Recorded] | None = None,
        floor: datetime | None = None,
        sink: Sink | None = None,
    ) -> tuple[Publication, list[str]]:
        """A publication of ``catalog`` that reuses ``previous`` wherever content is unchanged.

        Returns the publication and the absolute URLs of the first pages whose content changed
        (or that are new), which is what a WebSub hub needs to hear about. ``changed_at`` is
        when the change was seen; a page whose bytes changed gets a Last-Modified no earlier,
        so ``If-Modified-Since`` never hides a change that added no newer article date.
        ``recorded`` (at start, without ``previous``) is what the last run published: bytes
        that are the same keep their date, changed ones are dated later; resources that are
        gone are kept (bounded) so that one coming back is dated later too, and ``floor`` is
        what the bound dropped. ``sink`` (or else ``previous``'s) hears of every date given.
        """
        publication = cls(
            catalog,
            settings,
            changed_at,
            sink if sink is not None or previous is None else previous._sink,
        )
        publication.floor = floor
        size = settings.page_size
        changed: list[str] = []
        old_keys = previous._first_keys if previous is not None else {}
        # A feed that is the same object as in the catalog before (the catalog keeps those an
        # edit does not touch) has the same first page: its key is not made again.
        old_feeds = (
            previous.catalog.feeds
            if previous is not None and previous.settings.page_size == size
            else {}
        )
        for path, feed in catalog.feeds.items():
            if old_feeds.get(path) is feed:
                publication._first_keys[path] = old_keys[path]
                continue
            key = content_key(feed.page(1, size))
            publication._first_keys[feed.path] = key
            if old_keys.get(feed.path) != key:
                changed.extend(settings.url(feed_path(feed, ext)) for ext in FORMATS)
                if previous is not None and changed_at is not None:
                    for ext in FORMATS:
                        publication._pending[(feed.path, ext, 1)] = changed_at
        if previous is not None:
            # A feed that is gone (its last article removed) changed too: subscribers hear so.
            for path in previous._first_keys.keys() - publication._first_keys.keys():
                changed.extend(settings.url(feed_path_of(path, ext)) for ext in FORMATS)
            publication._carry_over(previous)
        elif recorded:
            publication._seen.update(recorded)  # gone ones too: the state file bounds them
        return publication, changed

    def is_alive(self, key: _Key) -> bool:
        """Whether this publication has the resource (a feed page, or the OPML list)."""
        if key[1] == HTML_PAGE:
            return is_html_page(self.catalog, key[0], self.settings.page_size)
        if key[1] == SITE_FILE:
            return True
        return key in _OPML_KEYS.values() or self._page(key) is not None

    def start_journal(self) -> None:
        """Note every resource recorded from now on in this process, for :meth:`take_journal`.

        For forked renderers (the export's pool): what they record would stay in the child, and
        the parent, which keeps the dates and saves the state, would date those resources
        again; they hand it back instead.
        """
        with self._lock:
            if self._journal is None:
                self._journal = []

    def take_journal(self) -> dict[_Key, Recorded]:
        """What was recorded since the journal started or was last taken."""
        with self._lock:
            keys, self._journal = self._journal or [], []
            return {key: self._seen[key] for key in keys if key in self._seen}

    def adopt(self, records: Mapping[_Key, Recorded]) -> None:
        """Take in what a forked renderer recorded (its :meth:`take_journal`)."""
        with self._lock:
            self._seen.update(records)

    def _record(self, key: _Key, seen: _Seen) -> None:
        """Remember ``key``'s bytes and date; the caller holds the lock, and calls
        :meth:`_given` once it has let go of it."""
        self._seen[key] = seen
        if self._journal is not None:
            self._journal.append(key)

    def _given(self, key: _Key, seen: _Seen, new: bool) -> None:
        """After the lock: tell the sink of a new date, and hold it back until it is due.

        A date strictly later than the previous one may be up to a second ahead of the clock
        (two versions within one second); an origin server must not send a Last-Modified
        later than its Date (RFC 9110, section 8.8.2.1), so this waits until it is not.
        """
        if not new:
            return
        if self._sink is not None:
            self._sink(key, seen)
        ahead = (seen.last_modified - datetime.now(UTC)).total_seconds()
        if 0 < ahead <= _MAX_WAIT_SECONDS:
            time.sleep(ahead)

    def recorded(self) -> dict[_Key, Recorded]:
        """Every resource rendered so far, with its ETag and date: what the state file keeps."""
        with self._lock:
            return dict(self._seen)

    def _carry_over(self, previous: Publication) -> None:
        """Keep what ``previous`` rendered and still holds, and the history of every page.

        The history (every date given, with the bytes it was given to) is the site's, not one
        publication's: it is the same dict as ``previous``'s, guarded by the same lock, not a
        copy (at 100,000 articles, copying it, and having the collector look through the
        copy, was most of an edit's reload). So a date ``previous`` still gives out while
        requests finish on it is known here too, as the state journal knows it.

        Records of resources that are gone stay with the others, so one that comes back is
        dated after what it had; only what the change can have made gone is looked at (the
        pages of feeds that lost pages, the pages of articles removed), not every resource
        ever rendered, which at 100,000 articles took most of an edit's reload. Once more
        than :data:`GONE_LIMIT` of them are gone, or a feed is, every record is looked at:
        the gone ones are bounded and what the bound drops raises the floor.
        """
        self._lock = previous._lock
        with self._lock:
            self.serial = previous.serial + 1
            first = list(previous._first.items())
            deep = list(previous._deep.items())
            self._seen = previous._seen
            pending = dict(previous._pending)
            self.floor = previous.floor
            gone_count = previous._gone_count
        for key, when in pending.items():
            if key not in self._pending and self._page(key) is not None:
                self._pending[key] = when
        newly_gone = self._newly_gone(previous.catalog, previous.settings.page_size)
        if newly_gone is not None and gone_count + newly_gone <= GONE_LIMIT:
            self._gone_count = gone_count + newly_gone
        else:
            with self._lock:  # previous may still be recording into the same history
                self._bound_gone()
        for key, rendered in first:
            if key[1] in FORMATS and self._first_keys.get(key[0]) == rendered.content_key:
                self._first[key] = rendered
        for key, rendered in deep:
            page = self._page(key)
            if page is not None and content_key(page) == rendered.content_key:
                self._deep[key] = rendered

    def _newly_gone(self, before: Catalog, page_size: int) -> int | None:
        """How many of the recorded resources that ``before`` had this catalog has not; None
        when that cannot be told without looking at every record (a feed is gone: its widgets
        are recorded with whatever options were asked for)."""
        catalog = self.catalog
        if catalog is before:
            return 0
        size = self.settings.page_size
        if page_size != size:
            return None
        candidates: list[_Key] = []
        for path, feed in before.feeds.items():
            now = catalog.feeds.get(path)
            if now is feed:
                continue
            if now is None:
                return None
            for number in range(now.page_count(size) + 1, feed.page_count(size) + 1):
                candidates.extend((path, ext, number) for ext in FORMATS)
                candidates.append((listing_path(feed, number), HTML_PAGE, 0))
        removed = catalog.removed_since(before)  # not every id, after an edit
        candidates.extend((article_path(i), HTML_PAGE, 0) for i in removed)
        seen = self._seen
        return sum(1 for key in candidates if key in seen and not self.is_alive(key))

    def _bound_gone(self) -> None:
        """Look at every record: at most :data:`GONE_LIMIT` of those gone are kept. The
        caller holds the lock (or the history is this publication's alone)."""
        gone = {key: before for key, before in self._seen.items() if not self.is_alive(key)}
        kept, self.floor = bound_gone(gone, self.floor, GONE_LIMIT)
        for key in gone.keys() - kept.keys():
            del self._seen[key]
        self._gone_count = len(kept)

    def feed(self, feed_path: str, extension: str, page: int = 1) -> RenderedFeed:
        """The rendered page; raises :class:`UnknownFeedError` if feed, format or page is not."""
        key = (feed_path, extension, page)
        rendered = self._first.get(key) if page == 1 else None
        if rendered is None:
            with self._lock:
                rendered = self._deep.get(key)
                if rendered is not None:
                    self._deep.move_to_end(key)
        return rendered if rendered is not None else self._render(key)

    def opml(self, directory: bool = False) -> RenderedFeed:
        """An OPML list, rendered on first use: the subscription list (every article once), or
        with ``directory`` the list of every feed."""
        key = _OPML_KEYS[directory]
        rendered = self._first.get(key)
        if rendered is None:
            body = render_opml(build_opml(self.catalog, self.settings, directory=directory))
            variants = _variants(body)
            with self._lock:
                rendered = self._first.get(key)
                if rendered is not None:
                    return rendered  # another thread's, meanwhile
                # Its bytes follow the list of feeds, not article dates: a new feed whose
                # articles are old still changes it, so it is dated after the last version.
                last_modified, new = self._date(
                    key, variants[IDENTITY].etag, self.catalog.all_feed.updated, self.changed_at
                )
                rendered = self._first[key] = RenderedFeed(
                    path=OPML_DIRECTORY_PATH if directory else OPML_PATH,
                    content_type=OPML_CONTENT_TYPE,
                    variants=variants,
                    last_modified=last_modified,
                    content_key=(),
                )
            self._given(key, _Seen(rendered.etag, last_modified), new)
        return rendered

    def page_last_modified(
        self, path: str, etag: str, newest: datetime, kind: str = HTML_PAGE
    ) -> datetime:
        """The Last-Modified of the HTML page at ``path`` whose bytes have ``etag``, by the
        rule of the feeds, and recorded with them (so it survives restarts).

        ``newest`` is the newest article date the page shows: its date when first seen. A
        page also shows the rest of the site (names, counts), so which pages a change touched
        is not known here: one rendered for the first time since a change is dated no earlier
        than the change, as deeper feed pages are. ``kind`` is :data:`SITE_FILE` for the
        files of the site that are not pages of its content.
        """
        key = (path, kind, 0)
        with self._lock:
            last_modified, new = self._date(key, etag, newest, self.changed_at)
        self._given(key, _Seen(etag, last_modified), new)
        return last_modified

    def _page(self, key: _Key) -> FeedPage | None:
        feed_path_, extension, number = key
        feed = self.catalog.feeds.get(feed_path_)
        if feed is None or extension not in FORMATS:
            return None
        if not 1 <= number <= feed.page_count(self.settings.page_size):
            return None
        return feed.page(number, self.settings.page_size)

    def _render(self, key: _Key) -> RenderedFeed:
        page = self._page(key)
        if page is None:
            raise UnknownFeedError(f"no feed page {key[0]}.{key[1]} page {key[2]}")
        page_key = content_key(page)
        fmt = FORMATS[key[1]]
        body = fmt.render(build_document(page, key[1], self.settings))
        variants = _variants(body, later_page=key[2] > 1)
        with self._lock:
            # A forked renderer of the export (journaling) asks for each page once, in its
            # codings one after the other: it keeps first pages in the bounded cache too, rather
            # than every first page it renders until the export ends.
            cache = self._first if key[2] == 1 and self._journal is None else self._deep
            rendered = cache.get(key)
            if rendered is not None:  # another thread's, meanwhile
                if cache is self._deep:
                    self._deep.move_to_end(key)
                return rendered
            changed_at = self._pending.pop(key, None) or self._change_time(key)
            last_modified, new = self._date(key, variants[IDENTITY].etag, page.updated, changed_at)
            rendered = cache[key] = RenderedFeed(
                path=feed_path(page.feed, key[1], key[2]),
                content_type=fmt.content_type,
                variants=variants,
                last_modified=last_modified,
                content_key=page_key,
            )
            if cache is self._deep:
                limit = DEEP_PAGE_CACHE_SIZE if self._journal is None else JOURNAL_PAGE_CACHE_SIZE
                while len(self._deep) > limit:
                    self._deep.popitem(last=False)
        self._given(key, _Seen(rendered.etag, last_modified), new)
        return rendered

    def _date(
        self, key: _Key, etag: str, newest: datetime, changed_at: datetime | None
    ) -> tuple[datetime, bool]:
        """The date of the bytes ``etag`` of ``key`` (see :func:`_dated`), and whether it was
        recorded now (then :meth:`_given` is told, once the lock is let go of). The caller holds
        the lock: the record read and the one written are one step, so two threads rendering
        a page at once never both date their bytes after the same record.

        The same bytes as recorded keep their date. Bytes rendered by a publication an edit has
        replaced (a request that began on it, finishing) after a newer publication recorded
        other bytes are older than those: they are dated a second before them and not
        recorded. Dated after them, as new bytes are, If-Modified-Since with their date would
        hide the newer bytes from the client that got them, until the next change.
        """
        seen = self._seen.get(key)
        if seen is not None and seen.etag == etag:
            return seen.last_modified, False
        if seen is not None and seen.serial > self.serial:
            return seen.last_modified - _ONE_SECOND, False
        now = datetime.now(UTC)
        last_modified = _dated(newest, seen, changed_at, now, self.floor, made_at=self.made_at)
        self._record(key, _Seen(etag, last_modified, self.serial))
        return last_modified, True

    def _change_time(self, key: _Key) -> datetime | None:
        """For a deeper page this process has not rendered before: the last change, if any.

        Whether its content changed is not known (only first pages are compared when a
        publication is built), so it is dated no earlier than the change, as if it had; a
        first page that did not change keeps the date of its newest article.
        """
        return self.changed_at if key[2] > 1 else None


def content_key(page: FeedPage) -> tuple[Any, ...]:
    """Everything a page's bytes depend on besides the settings, compared cheaply.

    Articles are immutable and the store reuses the objects of unchanged files, so comparing
    the tuples is mostly identity checks.
    """
    feed = page.feed
    return (feed.title, feed.description, page.number, page.count, page.articles)


def _variants(body: bytes, *, later_page: bool = False) -> dict[str, Variant]:
    digest = hashlib.sha256(body).hexdigest()[:32]
    variants = {}
    for coding, data in encode_all(body, later_page=later_page).items():
        tag = digest if coding == IDENTITY else f"{digest}-{coding}"
        variants[coding] = Variant(data, f'"{tag}"', f'"{tag}-browser"')
    return variants


def _dated(
    newest: datetime,
    seen: _Seen | None,
    changed_at: datetime | None,
    now: datetime,
    floor: datetime | None = None,
    *,
    made_at: datetime | None = None,
) -> datetime:
    """The date of new bytes: their newest article date; after a change, also no earlier than
    the change; and in whole seconds, as HTTP dates are, strictly after the previous version's
    (or, with none recorded, after ``floor``), so If-Modified-Since with that date never hides
    them. Not in the future, unless two versions come within one second: then the second is
    dated a second later, and :meth:`Publication._given` waits for that second to come.

    An article dated in the future (a date mistyped, or an article put up ahead of its day)
    leaves bytes as new as the change that made them, or else as their publication
    (``made_at``), not as new as the moment they are first rendered: a version a process
    renders late (a request on the publication before the next edit) would otherwise take the
    second of that edit, and the edit's own version would wait for the next (up to a second,
    at every edit of such a feed).
    """
    value = newest
    if changed_at is not None:
        value = max(value, changed_at)
    if value > now:
        made = changed_at if changed_at is not None else made_at
        value = min(made, now) if made is not None else now
    value = value.replace(microsecond=0)
    after = seen.last_modified if seen is not None else floor
    if after is not None:
        value = max(value, after.replace(microsecond=0) + _ONE_SECOND)
    return value

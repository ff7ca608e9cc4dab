"""The rendered side of one catalog: feed bytes per (feed, format, page), with their compressed
forms, strong ETags and Last-Modified dates, rendered once per content change.

A :class:`Publication` pairs one immutable catalog with its rendered feeds, so the bytes it hands
out, and the validators that go with them, always belong to the same snapshot of content. The
first page of every feed (what aggregators poll) is rendered when the publication is built;
deeper pages on first use. Building from a previous publication reuses every page whose content
did not change. Knows nothing of HTTP.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsvc.catalog import Catalog, FeedPage, newest_update
from feedsvc.compression import IDENTITY, encode_all
from feedsvc.formats import FORMATS
from feedsvc.opml import CONTENT_TYPE as OPML_CONTENT_TYPE
from feedsvc.opml import render_opml
from feedsvc.settings import Settings
from feedsvc.urls import OPML_PATH, feed_path

_ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Variant:
    """The feed's bytes in one content coding, with the strong ETag of exactly these bytes."""

    body: bytes
    etag: str  # quoted, e.g. "3f2a…-gzip"


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """One feed page in one format, in every content coding, ready to send."""

    path: str  # site path of this page, e.g. /feeds/all.rss?page=2
    content_type: str
    variants: Mapping[str, Variant] = field(repr=False)
    last_modified: datetime
    content_key: tuple[Any, ...] = field(repr=False, compare=False)

    @property
    def body(self) -> bytes:
        return self.variants[IDENTITY].body

    @property
    def etag(self) -> str:
        return self.variants[IDENTITY].etag


class UnknownFeedError(LookupError):
    """No feed at that path, in that format, or with that page."""


_Key = tuple[str, str, int]  # (feed path, extension, page number)


class Publication:
    """Feeds of one catalog, rendered once and kept until the catalog is replaced."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings
        self._rendered: dict[_Key, RenderedFeed] = {}
        self._lock = threading.Lock()

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        settings: Settings,
        previous: Publication | None = None,
        changed_at: datetime | None = None,
    ) -> tuple[Publication, list[str]]:
        """Render every feed's first page, reusing ``previous`` wherever content is unchanged.

        Returns the publication and the absolute URLs of the first pages whose bytes changed
        (or that are new), which is what a WebSub hub needs to hear about. ``changed_at`` is
        when the change was seen; a page whose bytes changed gets a Last-Modified no earlier,
        so ``If-Modified-Since`` never hides a change that added no newer article date.
        """
        publication = cls(catalog, settings)
        now = datetime.now(UTC)
        changed: list[str] = []
        old = previous._rendered if previous is not None else {}
        for feed in catalog.feeds.values():
            for extension in FORMATS:
                key = (feed.path, extension, 1)
                rendered = publication._render(key, old.get(key), changed_at, now)
                if key not in old or old[key].etag != rendered.etag:
                    changed.append(settings.url(rendered.path))
        for key, before in old.items():  # deeper pages, rendered on demand earlier
            page = publication._page(key) if key[2] > 1 and key[1] in FORMATS else None
            if page is not None and _content_key(page) == before.content_key:
                publication._rendered[key] = before
        return publication, changed

    def feed(self, feed_path: str, extension: str, page: int = 1) -> RenderedFeed:
        """The rendered page; raises :class:`UnknownFeedError` if feed, format or page is not."""
        key = (feed_path, extension, page)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._render(key, None, None, datetime.now(UTC))
        return rendered

    def opml(self) -> RenderedFeed:
        """The OPML list of every feed, rendered on first use."""
        key = ("", "opml", 0)
        rendered = self._rendered.get(key)
        if rendered is None:
            body = render_opml(self.catalog, self.settings)
            rendered = RenderedFeed(
                path=OPML_PATH,
                content_type=OPML_CONTENT_TYPE,
                variants=_variants(body),
                last_modified=min(newest_update(self.catalog.articles), datetime.now(UTC)).replace(
                    microsecond=0
                ),
                content_key=(),
            )
            with self._lock:
                rendered = self._rendered.setdefault(key, rendered)
        return rendered

    def _page(self, key: _Key) -> FeedPage | None:
        feed_path_, extension, number = key
        feed = self.catalog.feeds.get(feed_path_)
        if feed is None or extension not in FORMATS:
            return None
        if not 1 <= number <= feed.page_count(self.settings.page_size):
            return None
        return feed.page(number, self.settings.page_size)

    def _render(
        self,
        key: _Key,
        before: RenderedFeed | None,
        changed_at: datetime | None,
        now: datetime,
    ) -> RenderedFeed:
        page = self._page(key)
        if page is None:
            raise UnknownFeedError(f"no feed page {key[0]}.{key[1]} page {key[2]}")
        content_key = _content_key(page)
        if before is not None and before.content_key == content_key:
            rendered = before
        else:
            fmt = FORMATS[key[1]]
            body = fmt.render(page, self.settings)
            last_modified = _last_modified(page, before, changed_at, now)
            if before is not None and before.body == body:
                last_modified = before.last_modified
            rendered = RenderedFeed(
                path=feed_path(page.feed, key[1], key[2]),
                content_type=fmt.content_type,
                variants=_variants(body),
                last_modified=last_modified,
                content_key=content_key,
            )
        with self._lock:
            return self._rendered.setdefault(key, rendered)


def _content_key(page: FeedPage) -> tuple[Any, ...]:
    """Everything a page's bytes depend on besides the settings, compared cheaply.

    Articles are immutable and the store reuses the objects of unchanged files, so comparing
    the tuples is mostly identity checks.
    """
    feed = page.feed
    return (feed.title, feed.description, page.number, page.count, page.articles)


def _variants(body: bytes) -> dict[str, Variant]:
    digest = hashlib.sha256(body).hexdigest()[:32]
    return {
        coding: Variant(data, f'"{digest}"' if coding == IDENTITY else f'"{digest}-{coding}"')
        for coding, data in encode_all(body).items()
    }


def _last_modified(
    page: FeedPage, before: RenderedFeed | None, changed_at: datetime | None, now: datetime
) -> datetime:
    """The newest article date; after a change, also later than before and than the change.

    Never in the future, and whole seconds, as HTTP dates are.
    """
    value = page.updated
    if before is not None:
        value = max(value, before.last_modified + _ONE_SECOND)
        if changed_at is not None:
            value = max(value, changed_at)
    return min(value, now).replace(microsecond=0)

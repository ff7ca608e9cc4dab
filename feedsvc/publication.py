"""The rendered side of one catalog: feed bytes per (feed, format, page), rendered once.

A :class:`Publication` pairs one immutable catalog with the settings used to render it, so the
bytes it hands out always belong to the same snapshot of content. Knows nothing of HTTP.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from feedsvc.catalog import Catalog, Feed
from feedsvc.formats import FORMATS, FeedFormat
from feedsvc.settings import Settings


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """One feed page in one format, ready to send."""

    body: bytes
    content_type: str
    etag: str  # strong validator, derived from the bytes
    last_modified: datetime


class UnknownFeedError(LookupError):
    """No feed at that path, in that format, or with that page."""


class Publication:
    """Feeds of one catalog, rendered on first use and kept until the catalog is replaced."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings
        self._rendered: dict[tuple[str, str, int], RenderedFeed] = {}
        self._lock = threading.Lock()

    def feed(self, feed_path: str, extension: str, page: int = 1) -> RenderedFeed:
        """The rendered page; raises :class:`UnknownFeedError` if feed, format or page is not."""
        key = (feed_path, extension, page)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._render(*key)
            with self._lock:
                rendered = self._rendered.setdefault(key, rendered)
        return rendered

    def page_count(self, feed: Feed) -> int:
        return feed.page_count(self.settings.page_size)

    def _render(self, feed_path: str, extension: str, page_number: int) -> RenderedFeed:
        fmt: FeedFormat | None = FORMATS.get(extension)
        feed = self.catalog.feeds.get(feed_path)
        if fmt is None or feed is None:
            raise UnknownFeedError(f"no feed {feed_path}.{extension}")
        if not 1 <= page_number <= self.page_count(feed):
            raise UnknownFeedError(f"feed {feed_path}.{extension} has no page {page_number}")
        page = feed.page(page_number, self.settings.page_size)
        body = fmt.render(page, self.settings)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return RenderedFeed(body, fmt.content_type, etag, page.updated)

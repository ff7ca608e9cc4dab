"""Feed formats: the only place feed XML and JSON is written. Each format declares its content type
beside its writer; :data:`FORMATS` maps a URL extension to the format."""

from __future__ import annotations

from feedsvc.feeds.writers.atom import ATOM
from feedsvc.feeds.writers.common import FeedFormat
from feedsvc.feeds.writers.jsonfeed import JSON_FEED
from feedsvc.feeds.writers.rss import RSS

FORMATS: dict[str, FeedFormat] = {fmt.extension: fmt for fmt in (RSS, ATOM, JSON_FEED)}

__all__ = ["ATOM", "FORMATS", "JSON_FEED", "RSS", "FeedFormat"]

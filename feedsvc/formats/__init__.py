"""Feed formats: the only place feed XML and JSON is written. Each format declares its content type
beside its writer; :data:`FORMATS` maps a URL extension to the format."""

from __future__ import annotations

from feedsvc.formats.atom import ATOM
from feedsvc.formats.common import FeedFormat
from feedsvc.formats.jsonfeed import JSON_FEED
from feedsvc.formats.rss import RSS

FORMATS: dict[str, FeedFormat] = {fmt.extension: fmt for fmt in (RSS, ATOM, JSON_FEED)}

__all__ = ["ATOM", "FORMATS", "JSON_FEED", "RSS", "FeedFormat"]

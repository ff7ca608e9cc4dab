"""What the writers share: the format description and the date notations. Writers get a
:class:`~feedsvc.feeds.document.FeedDocument` with everything resolved and import nothing of
settings, URL layout, the catalog or the package root."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree

from feedsvc.feeds.document import FeedDocument

# The bytes of RSS items and of Atom entries kept for splicing (feedsvc.feeds.writers.splice),
# per format and per process, with the texts of the entries they are kept for.
ENTRY_BYTES_BUDGET = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """A feed format: its URL extension, its media types, and the function that writes it."""

    name: str
    extension: str
    media_type: str  # for type attributes of links: "application/rss+xml"
    content_type: str  # for the HTTP response, with charset
    # The same bytes labelled so a browser shows them instead of offering a download or, as
    # Chromium does with application/rss+xml, showing them as plain text without the stylesheet.
    browser_content_type: str
    render: Callable[[FeedDocument], bytes]


def add_stylesheet(root: etree._Element, href: str) -> None:
    """Put an ``xml-stylesheet`` instruction for the CSS at ``href`` before ``root``.

    Feed readers ignore the instruction; a browser that gets the feed as XML renders the
    elements with the CSS, so a person sees the title, an explanation and the items. A
    processing instruction outside the root element leaves the feed itself unchanged.
    """
    # Pseudo-attribute values take the same references as attribute values do.
    quoted = html.escape(href, quote=True)
    root.addprevious(
        etree.ProcessingInstruction("xml-stylesheet", f'type="text/css" href="{quoted}"')
    )


def rfc3339(value: datetime) -> str:
    """``2024-10-28T00:00:00+01:00``; refuses naive datetimes, which have no place in a feed."""
    return writable(value).isoformat(timespec="seconds")


def rfc822(value: datetime) -> str:
    """``Mon, 28 Oct 2024 00:00:00 +0100`` for RSS and OPML; refuses naive datetimes too.

    The standard library formats English names whatever the locale, unlike ``strftime``, which
    is why feedgen's own RSS date formatting switches the process-wide locale to do it.
    """
    return format_datetime(writable(value))


def writable(value: datetime) -> datetime:
    """``value`` in whole seconds, in UTC if its zone's offset has seconds, which neither date
    format can write.

    Zones had such offsets before standard time: Amsterdam was +00:19:32 until 1937, so an
    article dated 1-1-1930 would otherwise get "+00:19:32" (or "+001932"), which no reader
    accepts.
    """
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"naive datetime {value!r} in a feed")
    if offset.seconds % 60 or offset.microseconds:
        value = value.astimezone(UTC)
    return value.replace(microsecond=0)

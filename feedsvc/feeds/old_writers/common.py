"""What every feed format shares: the page's links, the article body as HTML, dates."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree

from feedsvc import __version__ as _version
from feedsvc.articles.model import Article
from feedsvc.feeds.catalog import FeedPage
from feedsvc.feeds.urls import CATEGORY_SCHEME_PATH, article_path, feed_page_path, feed_path
from feedsvc.settings import Settings

GENERATOR_NAME = "feedsvc"
GENERATOR_VERSION = _version
ICON_PATH = "/static/icon.png"  # 512x512, for JSON Feed's icon
FAVICON_PATH = "/static/favicon.png"  # 64x64: Atom icon, RSS image, JSON Feed favicon
FAVICON_SIZE = 64
# CSS that makes RSS and Atom readable when opened in a browser (no XSLT: browsers dropped it).
FEED_STYLESHEET_PATH = "/static/feed.css"


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
    render: Callable[[FeedPage, Settings], bytes]


@dataclass(frozen=True, slots=True)
class PageLinks:
    """Absolute URLs of one feed page in one format, with its RFC 5005 neighbours."""

    self: str
    alternate: str
    first: str | None
    last: str | None
    previous: str | None
    next: str | None
    hub: str | None

    @classmethod
    def of(cls, page: FeedPage, extension: str, settings: Settings) -> PageLinks:
        def url(number: int) -> str:
            return settings.url(feed_path(page.feed, extension, number))

        paged = page.count > 1
        return cls(
            self=url(page.number),
            alternate=settings.url(feed_page_path(page.feed)),
            first=url(1) if paged else None,
            last=url(page.count) if paged else None,
            previous=url(page.number - 1) if page.number > 1 else None,
            next=url(page.number + 1) if page.number < page.count else None,
            hub=settings.websub_hub,
        )

    def paging(self) -> list[tuple[str, str]]:
        """(rel, href) for the paging links present, in a fixed order."""
        pairs = [
            ("first", self.first),
            ("previous", self.previous),
            ("next", self.next),
            ("last", self.last),
        ]
        return [(rel, href) for rel, href in pairs if href is not None]


def with_stylesheet(root: etree._Element, settings: Settings) -> etree._ElementTree:
    """The document of ``root`` with an ``xml-stylesheet`` instruction for the feed CSS before it.

    Feed readers ignore the instruction; a browser that gets the feed as XML renders the
    elements with the CSS, so a person sees the title, an explanation and the items. A
    processing instruction outside the root element leaves the feed itself unchanged.
    """
    # Pseudo-attribute values take the same references as attribute values do.
    href = html.escape(settings.url(FEED_STYLESHEET_PATH), quote=True)
    root.addprevious(
        etree.ProcessingInstruction("xml-stylesheet", f'type="text/css" href="{href}"')
    )
    return root.getroottree()


def body_html(article: Article) -> str:
    """The article body as HTML paragraphs; line breaks inside a paragraph become ``<br />``."""
    return "\n".join(
        "<p>" + "<br />\n".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in article.paragraphs
    )


def permalink(article: Article, settings: Settings) -> str:
    return settings.url(article_path(article.id))


def category_scheme(settings: Settings) -> str:
    return settings.url(CATEGORY_SCHEME_PATH)


def rfc3339(value: datetime) -> str:
    """``2024-10-28T00:00:00+01:00``; refuses naive datetimes, which have no place in a feed."""
    return _writable(value).isoformat(timespec="seconds")


def rfc822(value: datetime) -> str:
    """``Mon, 28 Oct 2024 00:00:00 +0100`` for RSS and OPML; refuses naive datetimes too."""
    return format_datetime(_writable(value))


def _writable(value: datetime) -> datetime:
    """``value``, in UTC if its zone's offset has seconds, which neither date format can write.

    Zones had such offsets before standard time: Amsterdam was +00:19:32 until 1937, so an
    article dated 1-1-1930 would otherwise get "+00:19:32" (or "+001932"), which no reader
    accepts.
    """
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"naive datetime {value!r} in a feed")
    return value.astimezone(UTC) if offset.seconds % 60 or offset.microseconds else value

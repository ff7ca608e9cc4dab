"""JSON Feed 1.1 (jsonfeed.org/version/1.1), with ``next_url`` paging and WebSub ``hubs``."""

from __future__ import annotations

import json
from typing import Any

from feedsvc.articles.model import Article
from feedsvc.feeds.catalog import FeedPage
from feedsvc.feeds.old_writers.common import (
    FAVICON_PATH,
    ICON_PATH,
    FeedFormat,
    PageLinks,
    body_html,
    permalink,
    rfc3339,
)
from feedsvc.feeds.urls import source_feed_path
from feedsvc.settings import Settings

VERSION_URL = "https://jsonfeed.org/version/1.1"
# Where the "_bron" and "_categorie" extensions are explained, as JSON Feed asks of extensions.
EXTENSIONS_ABOUT_PATH = "/#json-feed"


def render_json_feed(page: FeedPage, settings: Settings) -> bytes:
    """One feed page as a JSON Feed 1.1 document (UTF-8 bytes)."""
    links = PageLinks.of(page, JSON_FEED.extension, settings)
    feed = page.feed
    document: dict[str, Any] = {
        "version": VERSION_URL,
        "title": feed.title,
        "home_page_url": links.alternate,
        "feed_url": links.self,
        "description": feed.description,
        "icon": settings.url(ICON_PATH),
        "favicon": settings.url(FAVICON_PATH),
        "language": "nl",
        "authors": [{"name": settings.site_title, "url": settings.url("/")}],
    }
    if links.next:
        document["next_url"] = links.next
    if links.hub:
        document["hubs"] = [{"type": "WebSub", "url": links.hub}]
    document["items"] = [_item(article, settings) for article in page.articles]
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _item(article: Article, settings: Settings) -> dict[str, Any]:
    link = permalink(article, settings)
    item: dict[str, Any] = {
        "id": link,
        "url": link,
        "title": article.title,
        "summary": article.summary,
        "content_html": body_html(article),
        "date_published": rfc3339(article.published),
        "date_modified": rfc3339(article.updated),
        "tags": list(article.category.names),
    }
    if article.source is not None:
        item["authors"] = [{"name": article.source.name}]
        # JSON Feed has no source element; this extension carries what RSS <source> does.
        item["_bron"] = {
            "about": settings.url(EXTENSIONS_ABOUT_PATH),
            "name": article.source.name,
            "feed_url": settings.url(source_feed_path(article.source, JSON_FEED.extension)),
        }
    item["_categorie"] = {
        "about": settings.url(EXTENSIONS_ABOUT_PATH),
        "path": article.category.path,
        "label": article.category.label,
    }
    return item


JSON_FEED = FeedFormat(
    name="JSON Feed 1.1",
    extension="json",
    media_type="application/feed+json",
    content_type="application/feed+json; charset=utf-8",
    browser_content_type="application/json; charset=utf-8",
    render=render_json_feed,
)

"""Every URL the site serves, listed in one place, next to the routes in ``web`` and ``embed``.

The static export writes exactly these pages, and the tests walk them. Each page comes with a
*key*: a value that compares equal as long as the page's bytes cannot have changed, so that
``export --watch`` re-renders only what a content change touched. Keys are built from the
immutable catalog (whose article objects are reused for unchanged files), so comparing them is
mostly identity checks. A key must cover everything the page shows: a template that starts to
show more of the catalog needs its key widened here (``tests/test_export.py`` compares an
updated export with a fresh one after each kind of change).

:func:`uncovered_endpoints` names the routes that no listed URL reaches: a new route must be
added here (or to :data:`NOT_EXPORTED`, with the reason), or the export would silently lack it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import weakref
from collections.abc import Hashable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from feedsvc.feeds.catalog import Catalog, Feed, newest_update
from feedsvc.feeds.publication import content_key
from feedsvc.feeds.urls import (
    EMBED_SCRIPT_PATH,
    OPML_DIRECTORY_PATH,
    OPML_PATH,
    article_path,
    embed_page_path,
    embed_path,
    feed_path_of,
    listing_path,
)
from feedsvc.feeds.writers import FORMATS
from feedsvc.runtime import Runtime
from feedsvc.web import crawlers, embed

if TYPE_CHECKING:
    from flask import Flask

# Routes whose answers describe the running process or the request, never written to files.
NOT_EXPORTED = {
    "feedsvc.healthz": "reports the state of the running process",
    "feedsvc.oembed": "answers a query (?url=…), which a file cannot",
}
INDEX_LATEST = 50
# A URL that no route serves, and one that the feed route refuses: they give the error pages.
NOT_FOUND_EXAMPLE = "/404.html"
BAD_REQUEST_EXAMPLE = "/feeds/all.rss?page=0"


class SitePage(NamedTuple):
    """One URL of the site: the path (and query) it is linked as, and what it answers."""

    path: str  # "/feeds/all.rss?page=2", percent-encoded as the site links it
    key: Hashable  # equal while the page's bytes cannot have changed
    status: int = 200


def site_pages(app: Flask) -> list[SitePage]:
    """Every page of the site as the app serves it now: feeds (every format, every page),
    HTML pages, the OPML, widgets, static files, and the 404 and 400 pages.

    Listed leaves first: articles, files and later feed pages before the pages that link to
    them, so that a reader of an export being written finds what a new link points to.
    """
    service: Runtime = app.extensions["feedsvc"]
    catalog = service.publication.catalog
    size = service.settings.page_size
    structure = _structure(catalog)
    # An article page shows the article and its category and source, all part of the article.
    pages = _article_pages(service, catalog)
    pages += _static_pages(app)
    pages.append(SitePage(EMBED_SCRIPT_PATH, "embed.js"))  # built once at start-up
    pages.append(SitePage(embed.RESIZE_SCRIPT_PATH, "hoogte.js"))
    pages.append(SitePage("/favicon.ico", "favicon.ico"))  # a static file, by another name
    pages.append(SitePage(NOT_FOUND_EXAMPLE, "error", 404))
    pages.append(SitePage(BAD_REQUEST_EXAMPLE, "error", 400))
    first_pages: list[SitePage] = []
    html_pages: list[SitePage] = []
    listed = _listed_feeds(service)
    for path, feed in catalog.feeds.items():
        # A feed that is the same object as at the last listing (the catalog keeps those a
        # change does not touch) has the same pages: an edit lists only what it touched.
        known = listed.get(path)
        if known is None or known.feed is not feed or known.structure != structure:
            known = listed[path] = _list_feed(feed, size, structure)
        pages += known.later
        first_pages += known.first
        html_pages += known.html
    for path in listed.keys() - catalog.feeds.keys():
        del listed[path]
    pages += first_pages
    pages += html_pages
    # The OPML lists name feeds, dated by the newest article; the index shows the
    # structure and the latest articles (ten: INDEX_LATEST is a margin above that).
    pages.append(SitePage(OPML_PATH, (structure, newest_update(catalog.articles))))
    pages.append(SitePage(OPML_DIRECTORY_PATH, (structure, newest_update(catalog.articles))))
    pages.append(SitePage("/", (structure, catalog.articles[:INDEX_LATEST])))
    # The sitemaps list every page with its date: every article and the structure.
    # The sitemaps list every page with its date. Each file's key is its bytes, the same
    # object while what it lists is unchanged (crawlers reuses the parts an edit leaves), so
    # an edit re-exports the one part that lists what it changed.
    sitemaps = crawlers.built_sitemaps(app)
    for number, part in enumerate(sitemaps.parts, 1):
        pages.append(SitePage(crawlers.part_path(number), part))
    pages.append(SitePage(crawlers.SITEMAP_PATH, sitemaps.index))
    pages.append(SitePage(crawlers.ROBOTS_PATH, "robots"))
    return pages


class _FeedPages(NamedTuple):
    """The pages of one feed, as listed for one version of it."""

    feed: Feed
    structure: str
    later: list[SitePage]  # its later pages, last first
    first: list[SitePage]  # its first page in every format
    html: list[SitePage]  # its listing pages, widget and webmasters' page


# Per service (and so per content and page size): feed path -> its pages as last listed.
_LISTED: weakref.WeakKeyDictionary[Runtime, dict[str, _FeedPages]] = weakref.WeakKeyDictionary()


_ARTICLES: weakref.WeakKeyDictionary[Runtime, dict[str, SitePage]] = weakref.WeakKeyDictionary()


def _listed_feeds(service: Runtime) -> dict[str, _FeedPages]:
    listed = _LISTED.get(service)
    if listed is None:
        listed = _LISTED[service] = {}
    return listed


def _article_pages(service: Runtime, catalog: Catalog) -> list[SitePage]:
    """The article pages, the pages of articles that are the same objects as at the last
    listing reused: at 100,000 articles, making 100,000 new pages costs seconds (most of it
    the collector, woken by as many new objects), reusing them milliseconds."""
    known = _ARTICLES.get(service, {})
    listed: dict[str, SitePage] = {}
    for article in catalog.articles:
        page = known.get(article.id)
        if page is None or page.key is not article:
            page = SitePage(_article_path(article.id), article)
        listed[article.id] = page
    _ARTICLES[service] = listed
    return list(listed.values())


def _list_feed(feed: Feed, size: int, structure: str) -> _FeedPages:
    later: list[SitePage] = []
    first: list[SitePage] = []
    html: list[SitePage] = []
    count = feed.page_count(size)
    for number in range(count, 0, -1):
        key = content_key(feed.page(number, size))
        paths = _feed_paths(feed.path, number)
        (first if number == 1 else later).extend(SitePage(p, key) for p in paths)
    # Category and source pages show the feed's neighbours and their counts too; every
    # page of a listing shows the number of pages.
    for number in range(1, count + 1):
        start = (number - 1) * size
        key = (structure, feed.articles[start : start + size])
        html.append(SitePage(listing_path(feed, number), key))
    widget_key = (feed.title, feed.articles[: embed.DEFAULT_COUNT])
    html.append(SitePage(embed_path(feed), widget_key))
    # The webmasters' page: this feed's code, and every feed by name to choose from.
    html.append(SitePage(embed_page_path(feed), (structure, feed.title)))
    return _FeedPages(feed, structure, later, first, html)


@functools.lru_cache(maxsize=1 << 18)
def _article_path(article_id: str) -> str:
    # Cached: the export lists every article again after each change.
    return article_path(article_id)


@functools.lru_cache(maxsize=1 << 16)
def _feed_paths(path: str, number: int) -> tuple[str, ...]:
    return tuple(feed_path_of(path, ext, number) for ext in FORMATS)


def _structure(catalog: Catalog) -> str:
    """A digest of every feed's name and size: what the category and source pages show of
    the rest of the site (breadcrumbs, sub-categories, counts)."""
    digest = hashlib.sha256()
    for feed in catalog.feeds.values():
        digest.update(f"{feed.path}\0{feed.name}\0{feed.title}\0{len(feed.articles)}\n".encode())
    return digest.hexdigest()


def _static_pages(app: Flask) -> Iterator[SitePage]:
    """Every file the static route serves, keyed by its size and modification time."""
    folder = app.static_folder
    url_path = app.static_url_path
    if folder is None or url_path is None:
        return
    root = Path(folder)
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory, name)
            info = path.stat()
            relpath = path.relative_to(root).as_posix()
            yield SitePage(f"{url_path}/{relpath}", ("static", info.st_size, info.st_mtime_ns))


def endpoint_of(app: Flask, path: str) -> str | None:
    """The endpoint that answers ``path`` (a site path, query allowed), or None if none does."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path.partition("?")[0], method="GET")
    except RequestRedirect:
        return None
    except HTTPException:
        return None
    return str(endpoint)


def uncovered_endpoints(app: Flask, pages: Iterable[SitePage]) -> set[str]:
    """Endpoints of the app that none of ``pages`` reaches and that are not :data:`NOT_EXPORTED`.

    Some are uncovered only because the content has nothing for them (no article has a
    source, so no source page exists); the tests check the bundled content, which has all.
    """
    reached = {endpoint_of(app, page.path) for page in pages if page.status == 200}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    return endpoints - reached - NOT_EXPORTED.keys()

"""What search engines read: ``/robots.txt`` and the sitemap of every page meant for people.

The sitemap lists the front page, the "Alle berichten" pages, every page of every category and
source, and every article (feeds and widgets are not pages to show in search results).
``/sitemap.xml`` is always a sitemap index, of ``/sitemaps/N.xml`` files of at most
:data:`SITEMAP_PART_URLS` URLs each (the protocol allows up to 50,000): so the site has the same
routes at every size, and the export never meets a route without pages. Built once per catalog,
reusing the files whose URLs and dates are those of the catalog before: an edit rebuilds the
file (of at most :data:`SITEMAP_PART_URLS` URLs) that lists what it changed, not every file of
the site.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from flask import Blueprint, Flask, Response, current_app
from lxml import etree
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from feedsvc.articles.model import Article
from feedsvc.feeds.catalog import Catalog, Feed, newest_update
from feedsvc.feeds.publication import SITE_FILE
from feedsvc.feeds.urls import article_path, listing_path
from feedsvc.runtime import Runtime
from feedsvc.settings import Settings
from feedsvc.web import snapshot
from feedsvc.web.pagecache import send_dated

bp = Blueprint("crawlers", __name__)

# URLs per sitemap file. The sitemaps.org protocol allows up to 50,000; an edit rebuilds and
# re-exports every file that lists what it changed, so smaller files make an edit's share of
# the sitemaps smaller (docs/performance.md), for a longer index.
SITEMAP_PART_URLS = 5_000
SITEMAP_PATH = "/sitemap.xml"
SITEMAPS_PREFIX = "/sitemaps/"
ROBOTS_PATH = "/robots.txt"
_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# The sitemap namespace as the default one; lxml takes None for that, its type stubs do not.
_NSMAP = cast("dict[str, str]", {None: _NS})


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    path: str
    lastmod: datetime | None


# A URL of the sitemap: a page's entry, or an article, listed as its page with its date. An
# article is its own entry: an entry, its path and its key of each of 100,000 articles held
# 24 MB in every process that built the sitemaps (bench/export_tracemalloc.py).
Listed = SitemapEntry | Article


@dataclass(frozen=True, slots=True)
class Sitemaps:
    """``index`` is what /sitemap.xml serves; ``parts`` the files it points to (at least one),
    each compressed (:func:`part_bytes`): a service keeps them all, 17 MB as they are served
    at 100,000 articles, where a crawler reads one now and then."""

    index: bytes
    parts: tuple[bytes, ...]
    # What each part lists; entries are reused from the sitemaps before when unchanged, so
    # comparing a part's entries with the ones before is mostly identity checks.
    listed: tuple[tuple[Listed, ...], ...] = ()
    # Each feed's listing pages' entries, with the feed they were made for.
    feed_entries: dict[str, tuple[Feed, list[SitemapEntry]]] | None = None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def sitemap_limit(app: Flask) -> int:
    """URLs per sitemap file; ``SITEMAP_LIMIT`` in the Flask config sets it (for tests)."""
    return int(app.config.get("SITEMAP_LIMIT", SITEMAP_PART_URLS))


def built_sitemaps(app: Flask) -> Sitemaps:
    """The sitemaps of the service's current catalog."""
    service: Runtime = app.extensions["feedsvc"]
    return _built(app, service.catalog, service.settings)


def part_path(number: int) -> str:
    return f"{SITEMAPS_PREFIX}{number}.xml"


def part_bytes(part: bytes) -> bytes:
    """A part of :attr:`Sitemaps.parts` as it is served."""
    return zlib.decompress(part)


def entries(catalog: Catalog, page_size: int) -> Iterator[SitemapEntry]:
    """Every page for people, newest content first."""
    yield from _page_entries(catalog, page_size)
    yield from map(_entry_of, catalog.articles)


def _entry_of(listed: Listed) -> SitemapEntry:
    """The page and date a listed URL stands for."""
    if isinstance(listed, Article):
        return SitemapEntry(article_path(listed.id), listed.updated)
    return listed


def _same_urls(before: Sequence[Listed], now: Sequence[Listed]) -> bool:
    """Whether two parts list the same URLs with the same dates: mostly the same objects; an
    edited article that kept its id and date is another object, and another body."""
    if len(before) != len(now):
        return False
    if before == now:  # in C, object by object: an article is compared only if edited
        return True
    return all(
        old is new or _entry_of(old) == _entry_of(new) for old, new in zip(before, now, strict=True)
    )


def _page_entries(
    catalog: Catalog,
    page_size: int,
    before: Mapping[str, tuple[Feed, list[SitemapEntry]]] | None = None,
    known: dict[str, tuple[Feed, list[SitemapEntry]]] | None = None,
) -> Iterator[SitemapEntry]:
    """The front page and every page of every feed's listing. The entries of a feed that is
    the same object as in ``before`` are reused; every feed's are put in ``known``."""
    yield SitemapEntry("/", catalog.all_feed.updated if catalog.articles else None)
    before = before or {}
    for path, feed in catalog.feeds.items():
        kept = before.get(path)
        if kept is None or kept[0] is not feed:
            kept = (feed, _feed_entries(feed, page_size, kept))
        if known is not None:
            known[path] = kept
        yield from kept[1]


def _feed_entries(
    feed: Feed, page_size: int, before: tuple[Feed, list[SitemapEntry]] | None = None
) -> list[SitemapEntry]:
    """The entries of ``feed``'s listing pages. A page that holds the same articles as the
    same page of the feed ``before`` (of the same path) has the same entry: an edit makes the
    all-feed anew, but changes one or a few of its thousands of pages, and finding a page's
    date looks at each of its articles."""
    old_articles: tuple[Article, ...] = ()
    old_entries: list[SitemapEntry] = []
    if before is not None:
        old_articles, old_entries = before[0].articles, before[1]
    articles = feed.articles
    entries: list[SitemapEntry] = []
    for number in range(1, feed.page_count(page_size) + 1):
        start = (number - 1) * page_size
        page = articles[start : start + page_size]
        # Compared by identity first, article by article: the same objects, mostly.
        if number <= len(old_entries) and old_articles[start : start + page_size] == page:
            entries.append(old_entries[number - 1])
        else:
            lastmod = newest_update(page) if page else None
            entries.append(SitemapEntry(listing_path(feed, number), lastmod))
    return entries


def build_sitemaps(
    found: Sequence[Listed],
    settings: Settings,
    limit: int,
    previous: Sitemaps | None = None,
) -> Sitemaps:
    """An index over urlsets of at most ``limit`` URLs each; a part that lists what the same
    part of ``previous`` listed is that part's bytes, not built again."""
    count = max(1, math.ceil(len(found) / limit))
    listed = tuple(tuple(found[n * limit : (n + 1) * limit]) for n in range(count))
    before = previous.listed if previous is not None else ()
    parts = tuple(
        previous.parts[n]
        if previous is not None and n < len(before) and _same_urls(before[n], urls)
        else _urlset(urls, settings)
        for n, urls in enumerate(listed)
    )
    index = etree.Element(f"{{{_NS}}}sitemapindex", nsmap=_NSMAP)
    for number in range(1, count + 1):
        sitemap = etree.SubElement(index, f"{{{_NS}}}sitemap")
        etree.SubElement(sitemap, f"{{{_NS}}}loc").text = settings.url(part_path(number))
    index_bytes = _serialize(index)
    if previous is not None and previous.index == index_bytes:
        index_bytes = previous.index  # the same object: the export's key for it is unchanged
    return Sitemaps(index_bytes, parts, listed)


def _urlset(found: Sequence[Listed], settings: Settings) -> bytes:
    """The part listing ``found``, compressed (see :class:`Sitemaps`); zlib's fastest level
    (1.6 ms for a part of 5,000 URLs, against 5 ms to serialize it) makes it a tenth."""
    urlset = etree.Element(f"{{{_NS}}}urlset", nsmap=_NSMAP)
    for entry in map(_entry_of, found):
        url = etree.SubElement(urlset, f"{{{_NS}}}url")
        etree.SubElement(url, f"{{{_NS}}}loc").text = settings.url(entry.path)
        if entry.lastmod is not None:
            etree.SubElement(url, f"{{{_NS}}}lastmod").text = entry.lastmod.isoformat()
    return zlib.compress(_serialize(urlset), 1)


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


_cache_lock = threading.Lock()


def _built(app: Flask, catalog: Catalog, settings: Settings) -> Sitemaps:
    """The sitemaps of ``catalog``, built on first use and kept until the catalog changes."""
    with _cache_lock:
        cached = app.extensions.get("feedsvc.web.crawlers")
        if cached is not None and cached[0] is catalog:
            sitemaps: Sitemaps = cached[1]
            return sitemaps
    previous: Sitemaps | None = cached[1] if cached is not None else None
    feed_entries: dict[str, tuple[Feed, list[SitemapEntry]]] = {}
    before_feeds = previous.feed_entries if previous is not None else None
    found: list[Listed] = list(
        _page_entries(catalog, settings.page_size, before_feeds, feed_entries)
    )
    found += catalog.articles
    sitemaps = build_sitemaps(found, settings, sitemap_limit(app), previous)
    sitemaps = Sitemaps(sitemaps.index, sitemaps.parts, sitemaps.listed, feed_entries)
    with _cache_lock:
        app.extensions["feedsvc.web.crawlers"] = (catalog, sitemaps)
    return sitemaps


def _service() -> Runtime:
    service: Runtime = current_app.extensions["feedsvc"]
    return service


@bp.get(ROBOTS_PATH)
def robots() -> BaseResponse:
    settings = _service().settings
    text = f"User-agent: *\nAllow: /\n\nSitemap: {settings.url(SITEMAP_PATH)}\n"
    return _send(text.encode("utf-8"), "text/plain; charset=utf-8")


@bp.get(SITEMAP_PATH)
def sitemap() -> BaseResponse:
    service = _service()
    return _send(_built(current_app, snapshot.catalog(), service.settings).index, "application/xml")


@bp.get(SITEMAPS_PREFIX + "<name>")
def sitemap_part(name: str) -> BaseResponse:
    service = _service()
    parts = _built(current_app, snapshot.catalog(), service.settings).parts
    stem, _, extension = name.partition(".")
    if extension != "xml" or not stem.isascii() or not stem.isdigit() or stem.startswith("0"):
        raise NotFound()
    if not 1 <= int(stem) <= len(parts):
        raise NotFound()
    return _send(part_bytes(parts[int(stem) - 1]), "application/xml")


def _send(body: bytes, content_type: str) -> BaseResponse:
    """Dated by the rule of the pages; first seen, by the newest article of the site."""
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = f"public, max-age={_service().settings.cache_max_age}"
    return send_dated(response, snapshot.catalog().all_feed.updated, kind=SITE_FILE)

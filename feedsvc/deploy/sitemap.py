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

import bisect
import functools
import hashlib
import os
import weakref
from collections.abc import Collection, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from feedsvc.articles.model import SORT_KEY, Article
from feedsvc.feeds.catalog import Catalog, Feed
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
    from werkzeug.routing import MapAdapter

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
    listing = _LISTINGS.get(service)
    if listing is None:
        listing = _LISTINGS[service] = SiteListing(app)
    return listing.pages()


@dataclass(slots=True)
class SiteChanges:
    """What :meth:`SiteListing.changes` found: every page, or those that may have changed."""

    count: int  # the pages the site has
    pages: list[SitePage]  # every page if complete, else those whose key may have changed
    gone: list[str]  # paths listed before and no longer (empty when complete)
    complete: bool


class _FeedPages(NamedTuple):
    """The pages of one feed, as listed for one version of it."""

    feed: Feed
    structure: str
    later: list[SitePage]  # its later pages, last first
    first: list[SitePage]  # its first page in every format
    html: list[SitePage]  # its listing pages, widget and webmasters' page

    def paths(self) -> set[str]:
        return {page.path for pages in (self.later, self.first, self.html) for page in pages}

    def size(self) -> int:
        return len(self.later) + len(self.first) + len(self.html)


class SiteListing:
    """The pages of the site, as last listed, and how to bring them up to date.

    :meth:`pages` lists every page; :meth:`changes` lists the pages that an edit since the last
    listing can have changed (the edited articles' pages, the pages of feeds that are not the
    same objects as before, the pages that show the whole site), from the catalog's record of
    which articles changed (:meth:`LiveCatalog.changed_ids`): at 100,000 articles, listing
    the site's 140,000 pages took longer than exporting what an edit changed. What it keeps is
    reused by identity: an article's page and a feed's pages are the same objects while the
    article and the feed are.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.service: Runtime = app.extensions["feedsvc"]
        self._catalog: Catalog | None = None  # what was listed last; None: list everything
        self._articles: dict[str, SitePage] = {}  # article id -> its page
        self._feeds: dict[str, _FeedPages] = {}  # feed path -> its pages
        self._static: list[SitePage] = []
        self._site: list[SitePage] = []  # pages of the whole site: OPML, index, sitemaps
        self._count = 0

    @property
    def static_pages(self) -> tuple[SitePage, ...]:
        """The static files as last listed, each keyed by its size and modification time."""
        return tuple(self._static)

    def reset(self) -> None:
        """Forget what was listed: the next :meth:`changes` lists every page."""
        self._catalog = None

    def pages(self) -> list[SitePage]:
        """Every page of the site now (see :func:`site_pages`)."""
        catalog = self.service.publication.catalog
        size = self.service.settings.page_size
        structure = _structure(catalog)
        # An article page shows the article and its category and source, all part of the
        # article. Pages of articles that are the same objects as at the last listing are
        # reused: at 100,000 articles, making 100,000 new pages costs seconds (most of it the
        # collector, woken by as many new objects), reusing them milliseconds.
        known = self._articles
        self._articles = {}
        for article in catalog.articles:
            page = known.get(article.id)
            if page is None or page.key is not article:
                page = _article_page(article, page)
            self._articles[article.id] = page
        pages = list(self._articles.values())
        self._static = list(_static_pages(self.app))
        pages += self._static
        pages += _FIXED_PAGES
        later: list[SitePage] = []
        first: list[SitePage] = []
        html: list[SitePage] = []
        for path, feed in catalog.feeds.items():
            # A feed that is the same object as at the last listing (the catalog keeps those a
            # change does not touch) has the same pages.
            listed = self._feeds.get(path)
            if listed is None or listed.feed is not feed or listed.structure != structure:
                listed = self._feeds[path] = _list_feed(feed, size, structure, listed)
            later += listed.later
            first += listed.first
            html += listed.html
        for path in self._feeds.keys() - catalog.feeds.keys():
            del self._feeds[path]
        pages += later
        pages += first
        pages += html
        self._site = self._site_pages(catalog, structure)
        pages += self._site
        self._catalog, self._count = catalog, len(pages)
        return pages

    def changes(self) -> SiteChanges:
        """The pages that may have changed since the last listing (of this object), and the
        paths that are gone; every page, if which articles changed is not known."""
        catalog = self.service.publication.catalog
        before = self._catalog
        ids = None if before is None else self.service.content.changed_ids(before, catalog)
        if ids is None:
            pages = self.pages()
            return SiteChanges(len(pages), pages, [], complete=True)
        structure = _structure(catalog)
        changes = SiteChanges(self._count, [], [], complete=False)
        count = self._articles_changed(catalog, ids, changes)
        static = list(_static_pages(self.app))
        changes.gone.extend(_gone(self._static, static))
        count += len(static) - len(self._static)
        changes.pages.extend(static)
        changes.pages.extend(_FIXED_PAGES)
        assert before is not None  # the ids are known: an edit since ``before`` was listed
        count += self._feeds_changed(catalog, structure, changes, (before, ids))
        site = self._site_pages(catalog, structure)
        changes.gone.extend(_gone(self._site, site))
        count += len(site) - len(self._site)
        changes.pages.extend(site)
        self._static, self._site = static, site
        self._catalog, self._count = catalog, self._count + count
        changes.count = self._count
        return changes

    def _articles_changed(self, catalog: Catalog, ids: frozenset[str], into: SiteChanges) -> int:
        """The pages of the articles ``ids`` into ``into``; how many more pages there are."""
        count = 0
        for article_id in sorted(ids):
            old = self._articles.pop(article_id, None)
            article = catalog.by_id.get(article_id)
            count += (article is not None) - (old is not None)
            if article is None:
                if old is not None:
                    into.gone.append(old.path)
                continue
            page = old if old is not None and old.key is article else None
            page = page or _article_page(article, old)
            self._articles[article_id] = page
            into.pages.append(page)
        return count

    def _feeds_changed(
        self,
        catalog: Catalog,
        structure: str,
        into: SiteChanges,
        edit: tuple[Catalog, frozenset[str]],
    ) -> int:
        """The pages of every feed that is not the same object as before (all of them if the
        structure changed) into ``into``, leaves first; how many more pages there are.
        ``edit`` is the catalog listed before and the ids of the articles changed since."""
        size = self.service.settings.page_size
        count = 0
        later: list[SitePage] = []
        first: list[SitePage] = []
        html: list[SitePage] = []
        for path, feed in catalog.feeds.items():
            listed = self._feeds.get(path)
            if listed is not None and listed.feed is feed and listed.structure == structure:
                continue
            places = None
            if listed is not None:
                places = _pages_changed(listed.feed, feed, size, (edit[0], catalog, edit[1]))
            new = self._feeds[path] = _list_feed(feed, size, structure, listed, places)
            count += new.size()
            if listed is not None:
                count -= listed.size()
                if listed.size() != new.size():  # as many pages: the same paths
                    into.gone.extend(listed.paths() - new.paths())
                else:
                    # Only the pages that are not the ones listed before (_list_feed keeps
                    # those that show the same articles): an edit of one article changes
                    # one page of the all-feed's thousands, and the export compares the key
                    # of every page listed.
                    later += _not_in(new.later, listed.later)
                    first += _not_in(new.first, listed.first)
                    html += _not_in(new.html, listed.html)
                    continue
            later += new.later
            first += new.first
            html += new.html
        for path in self._feeds.keys() - catalog.feeds.keys():
            listed = self._feeds.pop(path)
            count -= listed.size()
            into.gone.extend(listed.paths())
        into.pages.extend(later)
        into.pages.extend(first)
        into.pages.extend(html)
        return count

    def _site_pages(self, catalog: Catalog, structure: str) -> list[SitePage]:
        """The pages that show the whole site, listed last."""
        newest = catalog.all_feed.updated  # the newest article of the site, found once
        # The OPML lists name feeds, dated by the newest article; the index shows the
        # structure and the latest articles (ten: INDEX_LATEST is a margin above that).
        pages = [
            SitePage(OPML_PATH, (structure, newest)),
            SitePage(OPML_DIRECTORY_PATH, (structure, newest)),
            SitePage("/", (structure, catalog.articles[:INDEX_LATEST])),
        ]
        # The sitemaps list every page with its date. Each file's key is its bytes, the same
        # object while what it lists is unchanged (crawlers reuses the parts an edit leaves),
        # so an edit re-exports the one part that lists what it changed.
        sitemaps = crawlers.built_sitemaps(self.app)
        for number, part in enumerate(sitemaps.parts, 1):
            pages.append(SitePage(crawlers.part_path(number), part))
        pages.append(SitePage(crawlers.SITEMAP_PATH, sitemaps.index))
        pages.append(SitePage(crawlers.ROBOTS_PATH, "robots"))
        return pages


# Files of the site that are always there, listed after the static files.
_FIXED_PAGES = (
    SitePage(EMBED_SCRIPT_PATH, "embed.js"),  # built once at start-up
    SitePage(embed.RESIZE_SCRIPT_PATH, "hoogte.js"),
    SitePage("/favicon.ico", "favicon.ico"),  # a static file, by another name
    SitePage(NOT_FOUND_EXAMPLE, "error", 404),
    SitePage(BAD_REQUEST_EXAMPLE, "error", 400),
)

# Per service (and so per content and page size): the listing site_pages keeps.
_LISTINGS: weakref.WeakKeyDictionary[Runtime, SiteListing] = weakref.WeakKeyDictionary()


def _not_in(now: list[SitePage], before: list[SitePage]) -> list[SitePage]:
    """The pages of ``now`` that are not the same objects as in ``before``, place by place."""
    return [page for page, old in zip(now, before, strict=True) if page is not old]


def _gone(before: list[SitePage], now: list[SitePage]) -> list[str]:
    paths = {page.path for page in now}
    return [page.path for page in before if page.path not in paths]


def _list_feed(
    feed: Feed,
    size: int,
    structure: str,
    before: _FeedPages | None = None,
    places: Collection[int] | None = None,
) -> _FeedPages:
    """The pages of ``feed``. Of a page that shows the same articles (the same objects) as it
    did in ``before``, with the same title, structure and number of pages, the pages are the
    ones before: an edit of one article lists the all-feed again (2,000 pages at 100,000
    articles) but makes new pages, with new keys to compare, only where it is. ``places``,
    if known, are the numbers of the only pages that can show other articles than before
    (see :func:`_pages_changed`): the others are not looked at."""
    count = feed.page_count(size)
    width = len(FORMATS)
    same = (
        before is not None
        and before.structure == structure
        and before.feed.title == feed.title
        and before.feed.description == feed.description
        and before.feed.page_count(size) == count
    )
    later: list[SitePage] = []
    first: list[SitePage] = []
    # Category and source pages show the feed's neighbours and their counts too; every
    # page of a listing shows the number of pages.
    html: list[SitePage] = [_NO_PAGE] * count
    if same and before is not None and places is not None:
        later, first, html = list(before.later), list(before.first), before.html[:count]
        numbers: Iterable[int] = sorted(places, reverse=True)
    else:
        numbers = range(count, 0, -1)
    for number in numbers:
        start = (number - 1) * size
        articles = feed.articles[start : start + size]
        index = (count - number) * width
        if same and before is not None and before.html[number - 1].key == (structure, articles):
            feed_pages = before.first if number == 1 else before.later[index : index + width]
            html[number - 1] = before.html[number - 1]
        else:
            key = content_key(feed.page(number, size))
            feed_pages = [SitePage(p, key) for p in _feed_paths(feed.path, number)]
            html[number - 1] = SitePage(listing_path(feed, number), (structure, articles))
        if places is not None and same:
            if number == 1:
                first = list(feed_pages)
            else:
                later[index : index + width] = feed_pages
        else:
            (first if number == 1 else later).extend(feed_pages)
    widget_key = (feed.title, feed.articles[: embed.DEFAULT_COUNT])
    html.append(SitePage(embed_path(feed), widget_key))
    # The webmasters' page: this feed's code, and every feed by name to choose from.
    html.append(SitePage(embed_page_path(feed), (structure, feed.title)))
    return _FeedPages(feed, structure, later, first, html)


_NO_PAGE = SitePage("", None)


def _pages_changed(
    before: Feed, feed: Feed, size: int, edit: tuple[Catalog, Catalog, frozenset[str]]
) -> set[int] | None:
    """The numbers of the pages of ``feed`` (``before`` as of the catalog ``listed``) that can
    show other articles than before, when the articles ``ids`` changed between ``listed``
    and ``catalog`` (``edit``); None when every page may (an article came, went or moved: the
    ones after it moved up or down a place).

    When each changed article is at the same place in the feed as before (an edit that kept
    its date), the other places hold the same objects: only the pages of those places can
    have changed, not the thousands of the all-feed's."""
    listed, catalog, ids = edit
    if len(before.articles) != len(feed.articles):
        return None
    numbers: set[int] = set()
    for article_id in ids:
        place = _place(before.articles, listed.by_id.get(article_id))
        if place != _place(feed.articles, catalog.by_id.get(article_id)):
            return None
        if place is not None:
            numbers.add(place // size + 1)
    return numbers


def _place(articles: tuple[Article, ...], article: Article | None) -> int | None:
    """Where ``article`` is in ``articles`` (newest first), or None if it is not there."""
    if article is None:
        return None
    index = bisect.bisect_left(articles, article.sort_key, key=SORT_KEY)
    return index if index < len(articles) and articles[index] is article else None


def _article_page(article: Article, before: SitePage | None) -> SitePage:
    """The page of ``article``; its path is the one of its page ``before``, if any (the same
    id): the export lists every article again after each change, and a cache of the paths
    held a second record of each (7 MB at 100,000 articles, bench/export_tracemalloc.py)."""
    return SitePage(before.path if before is not None else article_path(article.id), article)


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
    return _endpoint(app.url_map.bind("localhost"), path)


def _endpoint(adapter: MapAdapter, path: str) -> str | None:
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
    One page of each kind (:func:`_kind`) is matched first: when those reach every endpoint, as
    they do for any content with all kinds of pages, the others need not be (a route match
    each: 15,000 at 10,000 articles, before any page is rendered); otherwise every page is.
    """
    adapter = app.url_map.bind("localhost")
    wanted = {rule.endpoint for rule in app.url_map.iter_rules()} - NOT_EXPORTED.keys()
    served = [page.path for page in pages if page.status == 200]
    samples = {_kind(path): path for path in reversed(served)}  # the first of each kind
    reached = {_endpoint(adapter, path) for path in samples.values()}
    if wanted - reached:
        reached.update(_endpoint(adapter, path) for path in served)
    return wanted - reached


def _kind(path: str) -> tuple[str, str, bool]:
    """What pages answered by the same route share: the first folder (a file at the top is a
    kind of its own: there are a few), the extension, whether there is a query."""
    where, question, _ = path.partition("?")
    top = where.split("/", 2)[1] if where.count("/") > 1 else where
    return top, os.path.splitext(where)[1], bool(question)

"""HTML pages rendered once per catalog, like the feeds: the bytes in every content coding, with
their ETags and Last-Modified, kept until the content changes, and served with conditional GET
by Werkzeug.

Dates follow the rule of the feeds ("Validators" in the README): the publication dates each
page when it is rendered and records it with the feeds' dates, so the runtime's usual saves
keep it in the state file and it survives restarts.

Pages that are rendered on every request (widgets, the webmasters' pages, sitemaps, the embed
scripts) are dated by the same rule with :func:`send_dated`.

Pages only change when the catalog does (a new catalog object), so the cache is keyed by the
catalog and the path. It holds at most :data:`LIMIT` pages, least recently used out first, so a
site of many thousands of articles does not keep them all in memory.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, ParamSpec
from urllib.parse import quote

from flask import Flask, Response, current_app, request
from werkzeug.wrappers import Response as BaseResponse

from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.compression import IDENTITY, PREFERENCE, encode
from feedsvc.feeds.publication import HTML_PAGE, Publication
from feedsvc.web import snapshot

LIMIT = 2048
PAGE_CACHE = "feedsvc.web.pagecache"  # the app's cache, in app.extensions
# A list a request's environ may carry (the export's do) to be told the cached page it was
# answered from, and the route's endpoint: the export takes the page's other codings from it
# (RenderedPage.body, what a request in that coding is sent) rather than asking again through
# Flask for each, and the endpoint rather than matching the path again. A list, as the app
# gets a copy of the environ it was given (werkzeug.test.run_wsgi_app).
SERVED_PAGE = "feedsvc.pagecache.served"
# Browsers ask again each time and mostly get a 304: a page is never older than the content.
CACHE_CONTROL = "public, no-cache"
P = ParamSpec("P")


class PageBody(NamedTuple):
    """What a view of a cached page returns."""

    html: str
    newest: datetime  # the newest article date the page shows: its date when first seen
    # A listing's page after its first (``pagina-2.html``...): compressed at the levels of a
    # feed's later pages (feedsvc.feeds.compression, ``later_page``), for the same reasons:
    # read rarely, yet rendered again whenever a new article shifts the pages of its feed, and
    # most of the listings' pages (of 104 later pages of 32.8 KB at 2,000 articles, both
    # siblings cost 0.19 ms a page at libdeflate 1 + brotli 1 against 0.67 ms at 5 + 6, for
    # 0.229 and 0.236 of the raw bytes against 0.210 and 0.195:
    # bench/results/compression-levels-da4cd04-20261201T001506Z.json).
    later_page: bool = False


@dataclass(frozen=True, slots=True)
class RenderedPage:
    # coding -> bytes, each coding compressed when first asked for: most pages of a large
    # site (an article) are asked for in one coding, or only exported as they are
    # (docs/performance.md, "Which pages get compressed siblings").
    variants: dict[str, bytes]
    etags: dict[str, str]  # coding -> strong ETag, without quotes
    last_modified: datetime
    later_page: bool = False  # PageBody.later_page

    def body(self, coding: str) -> bytes:
        data = self.variants.get(coding)
        if data is None:
            # Two threads may both compress it: the bytes are the same (deterministic), and
            # setdefault keeps one.
            coded = encode(self.variants[IDENTITY], coding, later_page=self.later_page)
            data = self.variants.setdefault(coding, coded)
        return data


class ServedPage(NamedTuple):
    """What a request's :data:`SERVED_PAGE` list is told."""

    page: RenderedPage
    endpoint: str


class PageCache:
    """The rendered pages of the newest catalog seen."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._pages: OrderedDict[str, RenderedPage] = OrderedDict()

    def keep_at_most(self, limit: int) -> None:
        """From now on keep at most ``limit`` pages (an export's forked renderer asks for each
        page once, in its codings one after the other)."""
        with self._lock:
            self._limit = limit
            while len(self._pages) > limit:
                self._pages.popitem(last=False)

    def get(
        self, publication: Publication, key: str, render: Callable[[], PageBody]
    ) -> RenderedPage:
        catalog = publication.catalog
        with self._lock:
            if catalog is self._catalog and key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        html, newest, later_page = render()  # outside the lock: other pages need not wait
        body = html.encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:32]
        variants = {IDENTITY: body}
        etags = {coding: f"{digest}-{coding}" for coding in PREFERENCE}
        last_modified = publication.page_last_modified(key, etags[IDENTITY], newest)
        page = RenderedPage(variants, etags, last_modified, later_page)
        with self._lock:
            if catalog is not self._catalog:
                self._catalog, self._pages = catalog, OrderedDict()
            self._pages[key] = page
            while len(self._pages) > self._limit:
                self._pages.popitem(last=False)
        return page


def init_app(app: Flask) -> None:
    app.extensions[PAGE_CACHE] = PageCache()


def cached_page(view: Callable[P, PageBody]) -> Callable[P, BaseResponse]:
    """Serve ``view``'s page from the cache: rendered on first request after a change, then
    sent in the client's preferred coding, or 304 when the client has it."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> BaseResponse:
        cache: PageCache = current_app.extensions[PAGE_CACHE]
        # As the site links it (percent-encoded, under the mount point it is served at: its
        # links carry that too): the page's key in the state file as well.
        path = _linked_path()
        page = cache.get(snapshot.publication(), path, lambda: view(*args, **kwargs))
        served = request.environ.get(SERVED_PAGE)
        if served is not None:
            served.append(ServedPage(page, str(request.endpoint)))
        coding = request.accept_encodings.best_match(PREFERENCE, default=IDENTITY) or IDENTITY
        response = Response(page.body(coding), content_type="text/html; charset=utf-8")
        if coding != IDENTITY:
            response.headers["Content-Encoding"] = coding
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.set_etag(page.etags[coding])
        response.last_modified = page.last_modified
        return response.make_conditional(request)

    return wrapper


def _linked_path() -> str:
    return quote(request.script_root + request.path)


def send_dated(
    response: BaseResponse, newest: datetime, *, key: str | None = None, kind: str = HTML_PAGE
) -> BaseResponse:
    """``response`` (its whole body) with a strong ETag and a Last-Modified by the rule of the
    pages, recorded with theirs under ``key`` (default: the request's path), or 304 when the
    client has it (Werkzeug: If-None-Match, else If-Modified-Since).

    ``newest`` dates it when first seen; ``kind`` is ``SITE_FILE`` for files that are not
    pages of the content (see :meth:`Publication.page_last_modified`).
    """
    response.add_etag()
    etag, _ = response.get_etag()
    assert etag is not None  # add_etag just set it
    path = key if key is not None else _linked_path()
    response.last_modified = snapshot.publication().page_last_modified(path, etag, newest, kind)
    return response.make_conditional(request)

"""HTML pages rendered once per catalog, like the feeds: the bytes in every content coding, with
their ETags, kept until the content changes, and served with conditional GET by Werkzeug.

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
from typing import ParamSpec

from flask import Flask, Response, current_app, request
from werkzeug.wrappers import Response as BaseResponse

from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.compression import IDENTITY, PREFERENCE, encode_all
from feedsvc.web import snapshot

LIMIT = 2048
# Browsers ask again each time and mostly get a 304: a page is never older than the content.
CACHE_CONTROL = "public, no-cache"
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class RenderedPage:
    variants: dict[str, bytes]  # coding -> bytes
    etags: dict[str, str]  # coding -> strong ETag, without quotes


class PageCache:
    """The rendered pages of the newest catalog seen."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._pages: OrderedDict[str, RenderedPage] = OrderedDict()

    def get(self, catalog: Catalog, key: str, render: Callable[[], str]) -> RenderedPage:
        with self._lock:
            if catalog is self._catalog and key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        body = render().encode("utf-8")  # outside the lock: other pages need not wait
        digest = hashlib.sha256(body).hexdigest()[:32]
        variants = encode_all(body)
        page = RenderedPage(variants, {coding: f"{digest}-{coding}" for coding in variants})
        with self._lock:
            if catalog is not self._catalog:
                self._catalog, self._pages = catalog, OrderedDict()
            self._pages[key] = page
            while len(self._pages) > self._limit:
                self._pages.popitem(last=False)
        return page


def init_app(app: Flask) -> None:
    app.extensions["feedsvc.web.pagecache"] = PageCache()


def cached_page(view: Callable[P, str]) -> Callable[P, BaseResponse]:
    """Serve ``view``'s page from the cache: rendered on first request after a change, then
    sent in the client's preferred coding, or 304 when the client has it."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> BaseResponse:
        cache: PageCache = current_app.extensions["feedsvc.web.pagecache"]
        page = cache.get(snapshot.catalog(), request.path, lambda: view(*args, **kwargs))
        coding = request.accept_encodings.best_match(PREFERENCE, default=IDENTITY) or IDENTITY
        response = Response(page.variants[coding], content_type="text/html; charset=utf-8")
        if coding != IDENTITY:
            response.headers["Content-Encoding"] = coding
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.set_etag(page.etags[coding])
        return response.make_conditional(request)

    return wrapper

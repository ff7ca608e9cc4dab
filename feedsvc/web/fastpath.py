"""Feeds and OPML lists answered ahead of Flask, from responses made once per rendering.

As WhiteNoise serves static files: every variant of a rendered feed (each content coding, and
for feeds both representations: the feed's own type for readers, the browser's) gets its status,
complete header list and body made once, on its first request, by the route's own
:func:`routes.feed_response`, the app's security headers and Werkzeug's header rules, and kept on
the rendering (:attr:`RenderedFeed.derived`), so it goes when the rendering does. A request then
costs a look-up of its path, cached parses of its Accept, Accept-Encoding and conditional
headers, and a list copy; Flask's routing, request context, response object and after-request
hooks are not run at all, which is most of what a feed request cost (docs/performance.md).

The answers are exactly the route's (tests/test_fastpath.py compares both, header for header,
for every variant), except that no ``Date`` is added: the server sends one on every response
(gunicorn and Werkzeug's server both do; after Werkzeug's own, gunicorn sent two). Whatever the
fast path cannot decide exactly as Flask would goes to Flask: other paths and methods, any query
string but none or ``page=N`` (N ≥ 2, as the route writes it), ``If-Match``, ``If-Range``,
``Range``, ``Upgrade``, a host Flask's URL adapter refuses, an unknown feed or page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Response
from werkzeug.datastructures import ETags, MIMEAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import (
    parse_accept_header,
    parse_date,
    parse_etags,
    remove_entity_headers,
    unquote_etag,
)

from feedsvc.feeds.compression import IDENTITY, PREFERENCE
from feedsvc.feeds.publication import Publication, RenderedFeed, UnknownFeedError
from feedsvc.feeds.urls import FEEDS_PREFIX, OPML_DIRECTORY_PATH, OPML_PATH
from feedsvc.feeds.writers import FORMATS
from feedsvc.runtime import Runtime
from feedsvc.settings import Settings
from feedsvc.web import routes

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]
Headers = list[tuple[str, str]]

_DERIVED_KEY = __name__  # where a rendering keeps its responders
_PAGE_QUERY = "page="
# Each header is parsed once per distinct value: clients send few distinct values (one per
# browser or reader release, and the validators they were given), and parsing them was most of
# what the fast path would cost. Best of 7 on this machine: Werkzeug's parse and negotiation of
# a browser's Accept took 27 µs, of its Accept-Encoding 5.8 µs, an If-Modified-Since 2.5 µs and
# an If-None-Match 1.0 µs, against 0.05 µs for a hit in these caches; a whole fast-path answer
# takes about 2 µs (bench/request_cost.py). Bounded, since the values come from clients: at most
# this many each (at gunicorn's 8 KB limit per header line, at most 4 MB per cache).
HEADER_CACHE_SIZE = 512
# Hosts are checked once per distinct Host header, server name, port and scheme.
HOST_CACHE_SIZE = 256
# Headers Werkzeug rewrites against the request's URL when it sends a response.
_URL_HEADERS = frozenset({"location", "content-location"})


@dataclass(frozen=True, slots=True)
class Answer:
    """One variant, as the route answers it: complete, or 304 Not Modified."""

    status: str
    headers: Headers
    body: bytes
    not_modified_status: str
    not_modified_headers: Headers
    etag: str  # unquoted: what If-None-Match is compared with
    last_modified: datetime | None  # what If-Modified-Since is compared with


@dataclass(frozen=True, slots=True)
class Responders:
    """Every variant of one rendered feed or OPML list."""

    content_type: str  # the document's own type, which a browser's Accept is compared with
    reader: Mapping[str, Answer]  # content coding -> answer
    browser: Mapping[str, Answer] | None  # for clients that prefer HTML; None: one for all


class FastPath:
    """WSGI middleware before Flask's routing (``app.wsgi_app``): feed and OPML requests that
    it can answer exactly as the routes would, from :class:`Responders`; the rest to Flask."""

    def __init__(self, app: Flask, runtime: Runtime) -> None:
        self.flask_app: WSGIApp = app.wsgi_app  # Flask's own, for everything else
        self._app = app
        self._runtime = runtime
        # With host or subdomain matching, which route a path reaches depends on the host.
        self._enabled = not app.url_map.host_matching and not app.subdomain_matching
        self._host_accepted = functools.lru_cache(maxsize=HOST_CACHE_SIZE)(self._accepts_host)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        found = self.answer(environ)
        if found is None:
            return self.flask_app(environ, start_response)
        status, headers, body = found
        # A copy: the server, or middleware around this one, may add to the list it is given.
        start_response(status, list(headers))
        return (body,) if body else ()

    def answer(self, environ: WSGIEnvironment) -> tuple[str, Headers, bytes] | None:
        """Status, headers and body as the route would send them, or None to ask Flask."""
        answers = self.answers(environ)
        if answers is None:
            return None
        answer = answers[_coding(environ.get("HTTP_ACCEPT_ENCODING"))]
        if _not_modified(
            answer, environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_IF_MODIFIED_SINCE")
        ):
            return answer.not_modified_status, answer.not_modified_headers, b""
        body = answer.body if environ.get("REQUEST_METHOD") == "GET" else b""
        return answer.status, answer.headers, body

    def answers(self, environ: WSGIEnvironment) -> Mapping[str, Answer] | None:
        """The request's answer in every content coding, by coding, before its Accept-Encoding
        and conditional headers are looked at (:meth:`answer` picks one of them by those), or
        None to ask Flask. For the static export, which writes a page's every coding (its
        file and compressed siblings) from one look-up rather than a request for each."""
        method = environ.get("REQUEST_METHOD")
        if (
            method not in ("GET", "HEAD")
            or not self._enabled
            or "HTTP_IF_MATCH" in environ
            or "HTTP_IF_RANGE" in environ
            or "HTTP_RANGE" in environ
            or "HTTP_UPGRADE" in environ  # a WebSocket request does not reach the route
        ):
            return None
        publication = self._runtime.publication  # once: a reload may swap it at any moment
        found = self._responders(
            publication, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        )
        if found is None or not self._host_accepted(
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ.get("wsgi.url_scheme", "http"),
        ):
            return None
        browser = found.browser
        if browser is not None and _prefers_html(environ.get("HTTP_ACCEPT"), found.content_type):
            return browser
        return found.reader

    def _responders(self, publication: Publication, path: str, query: str) -> Responders | None:
        """The responders of the feed page or OPML list at ``path``, made on first use."""
        if path.startswith(FEEDS_PREFIX):
            # As routes.feed reads the name; names the route's URL rule would not give it
            # (a leading slash) and non-ASCII paths (which WSGI hands over undecoded) go to Flask.
            name = path[len(FEEDS_PREFIX) :]
            stem, dot, extension = name.rpartition(".")
            fmt = FORMATS.get(extension)
            page = _page(query)
            if not dot or fmt is None or page is None or name[:1] == "/" or not name.isascii():
                return None
            try:
                rendered = publication.feed(stem, extension, page)
            except UnknownFeedError:
                return None  # Flask's not-found page, with its suggestions
            browser_type = fmt.browser_content_type
            return self._prepared(rendered, feed=True, browser_content_type=browser_type)
        if query or path not in (OPML_PATH, OPML_DIRECTORY_PATH):
            return None
        return self._prepared(publication.opml(directory=path == OPML_DIRECTORY_PATH), feed=False)

    def _prepared(
        self, rendered: RenderedFeed, *, feed: bool, browser_content_type: str | None = None
    ) -> Responders:
        responders: Responders | None = rendered.derived.get(_DERIVED_KEY)
        if responders is None:
            made = build_responders(rendered, self._runtime.settings, feed, browser_content_type)
            # Two threads may make them at once; both make the same, and one is kept.
            responders = rendered.derived.setdefault(_DERIVED_KEY, made)
        return responders

    def _accepts_host(
        self, host: str | None, server_name: str | None, server_port: str | None, scheme: str
    ) -> bool:
        """Whether Flask's URL adapter takes a request with these values, as every request is
        checked before its routing: a Host it cannot encode (``a..b``) is a 400, and so is an
        untrusted one when ``TRUSTED_HOSTS`` is set."""
        environ = {"REQUEST_METHOD": "GET", "wsgi.url_scheme": scheme, "PATH_INFO": "/"}
        for key, value in (("HTTP_HOST", host), ("SERVER_NAME", server_name)):
            if value is not None:
                environ[key] = value
        if server_port is not None:
            environ["SERVER_PORT"] = server_port
        try:
            self._app.create_url_adapter(self._app.request_class(environ))
        except HTTPException:
            return False
        return True


def build_responders(
    rendered: RenderedFeed, settings: Settings, feed: bool, browser_content_type: str | None
) -> Responders:
    """Every variant's answers, each made on first use by the route's own
    :func:`routes.feed_response` (see :class:`_Answers`)."""

    def answers(for_browser: bool) -> _Answers:
        def routed(coding: str) -> Answer:
            return _answer(
                routes.feed_response(
                    rendered,
                    settings,
                    coding,
                    feed=feed,
                    browser_content_type=browser_content_type,
                    for_browser=for_browser,
                )
            )

        # The variants of one representation differ only in their body and the headers that
        # describe it (ETag, Content-Encoding, Content-Length): the route's answer in one
        # compressed coding is made once through Werkzeug, and the others are made from its
        # header list with those values replaced (or Content-Encoding dropped, for identity),
        # which keeps Werkzeug's order and rules. tests/test_fastpath.py compares every variant
        # with the route's.
        coded = [coding for coding in rendered.variants if coding != IDENTITY]
        template: list[Answer] = []

        def make(coding: str) -> Answer:
            if not coded:
                return routed(coding)
            if not template:
                template.append(routed(coded[0]))
            variant = rendered.variants[coding]
            etag = variant.browser_etag if for_browser else variant.etag
            return _rewritten(template[0], coding, variant.body, etag)

        return _Answers(rendered.variants.keys(), make)

    browser = answers(True) if browser_content_type is not None else None
    return Responders(rendered.content_type, answers(False), browser)


class _Answers(dict[str, Answer]):
    """A rendering's answers by content coding, each made the first time it is asked for.

    A rendering has six variants (three codings, for readers and for browsers), and a page is
    mostly asked for in few of them: the export asks for a reader's three, a deep page is read
    by a reader or two before a new article renders it again. Making all six at its first
    request was a tenth of a feed page's time in a first export. A dict, so that an answer
    made is found by the dict's own look-up; only a missing one costs a call. Two threads may
    make the same answer at once: both make the same, and one is kept.
    """

    __slots__ = ("_codings", "_make")

    def __init__(self, codings: Iterable[str], make: Callable[[str], Answer]) -> None:
        super().__init__()
        self._codings = frozenset(codings)
        self._make = make

    def __missing__(self, coding: str) -> Answer:
        if coding not in self._codings:
            raise KeyError(coding)
        return self.setdefault(coding, self._make(coding))


def _answer(response: Response) -> Answer:
    """The response as Flask sends it: with the app's security headers (its after-request
    hook), and the headers Werkzeug sends with a 200 and with a 304 (no entity headers)."""
    routes._security_headers(response)  # the app's after-request hook, run once here
    no_environ: WSGIEnvironment = {}  # only a Location header would need the request's URL
    headers = response.get_wsgi_headers(no_environ).to_wsgi_list()
    status = response.status
    body = response.get_data()  # the rendering's own bytes object, not a copy
    etag, _ = unquote_etag(response.headers["ETag"])
    last_modified = parse_date(response.headers["Last-Modified"])
    response.status_code = 304
    if any(name.lower() in _URL_HEADERS for name, _ in headers):
        not_modified = response.get_wsgi_headers(no_environ).to_wsgi_list()
    else:
        # What get_wsgi_headers does for a 304 without URL headers to rewrite (a feed's): the
        # 200's headers less the entity headers (Content-Length among them), by Werkzeug's own
        # rule, without copying and reading the response's headers a second time.
        not_modified = list(headers)
        remove_entity_headers(not_modified)
    return Answer(
        status=status,
        headers=headers,
        body=body,
        not_modified_status=response.status,
        not_modified_headers=not_modified,
        etag=etag,
        # Werkzeug drops microseconds from the resource's date before comparing.
        last_modified=last_modified.replace(microsecond=0) if last_modified else None,
    )


def _rewritten(template: Answer, coding: str, body: bytes, etag: str) -> Answer:
    """``template``, a compressed variant's answer, as the route answers in ``coding`` with
    ``body`` and the quoted ``etag``: the same headers in the same order, but for the three
    that describe the body."""
    if template.body is body:
        return template

    def rewrite(headers: Headers) -> Headers:
        out: Headers = []
        for name, value in headers:
            lowered = name.lower()
            if lowered == "content-encoding":
                if coding != IDENTITY:  # the route sends none for identity
                    out.append((name, coding))
            elif lowered == "etag":
                out.append((name, etag))
            elif lowered == "content-length":
                out.append((name, str(len(body))))
            else:
                out.append((name, value))
        return out

    return Answer(
        status=template.status,
        headers=rewrite(template.headers),
        body=body,
        not_modified_status=template.not_modified_status,
        not_modified_headers=rewrite(template.not_modified_headers),
        etag=unquote_etag(etag)[0],
        last_modified=template.last_modified,
    )


def _page(query: str) -> int | None:
    """The page of a feed URL's query string when it is one the route serves as it stands:
    none (page 1) or ``page=N`` as the route writes it, N ≥ 2 (``page=1`` is a redirect)."""
    if not query:
        return 1
    if not query.startswith(_PAGE_QUERY):
        return None
    number = query[len(_PAGE_QUERY) :]
    # The route's own grammar for page numbers.
    if routes._PAGE_NUMBER.fullmatch(number) is None or number == "1":
        return None
    return int(number)


@functools.lru_cache(maxsize=HEADER_CACHE_SIZE)
def _coding(accept_encoding: str | None) -> str:
    """The content coding routes._send picks for this Accept-Encoding."""
    accepted = parse_accept_header(accept_encoding)
    return accepted.best_match(PREFERENCE, default=IDENTITY) or IDENTITY


@functools.lru_cache(maxsize=HEADER_CACHE_SIZE)
def _prefers_html(accept: str | None, content_type: str) -> bool:
    return routes.prefers_html(parse_accept_header(accept, MIMEAccept), content_type)


@functools.lru_cache(maxsize=HEADER_CACHE_SIZE)
def _etags(if_none_match: str) -> ETags:
    return parse_etags(if_none_match)


@functools.lru_cache(maxsize=HEADER_CACHE_SIZE)
def _date(if_modified_since: str) -> datetime | None:
    return parse_date(if_modified_since)


def _not_modified(answer: Answer, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """Werkzeug's decision (``werkzeug.sansio.http.is_resource_modified``, as
    ``Response.make_conditional`` calls it) for a response with a strong ETag and a date and a
    request without If-Match, If-Range or Range: If-None-Match, when it names any tag, decides
    with the weak comparison; otherwise If-Modified-Since does."""
    unmodified = False
    if if_modified_since:
        since = _date(if_modified_since)
        if since and answer.last_modified and answer.last_modified <= since:
            unmodified = True
    if if_none_match:
        etags = _etags(if_none_match)
        if etags:
            unmodified = etags.contains_weak(answer.etag)
    return unmodified

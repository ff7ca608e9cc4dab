"""The nginx configurations feedsvc generates, rendered from Jinja templates in ``templates/``.

``feedsvc.conf.j2`` serves a static export with the same answers as the service, from files.
It is generated from what the app was seen to answer while exporting (:class:`RouteProfile`:
headers, content types and ``Vary`` per route), so that a header added to a route in ``web``
reaches the static site at the next export without anyone editing a template. What nginx adds
is its own: ETag and Last-Modified (from each file's size and mtime, which the export sets to
the feed's Last-Modified), and the choice between the ``.br``, ``.gz`` and plain file of each
page (``brotli_static``, ``gzip_static``).

No answer carries anything taken from the request: every feed URL has an exact location that
names its canonical URL (for ``Link: rel="self"``) and its redirect target (``?page=1``)
literally; the page number of ``?page=N`` is the only variable part, and the map that reads it
admits 1 to 9 digits only. A browser (a client that ranks text/html above the feed's own type)
gets the same bytes labelled so that it shows them, through an internal location with other
``types``.

A feed's own location is the hot path: a reader's GET or HEAD of its URL exactly as written
(``$request_uri``: no query, no other spelling, no dot segment) is its file, with headers and
type as literals, after two tests (the URL, and whether Accept names text/html or text/*,
which every browser's does and a reader's seldom); docs/performance.md measured what each
costs. OPTIONS costs it no
test: nginx's file handler answers 405, which ``error_page`` hands to a named location that
answers OPTIONS as the service does. Everything else goes, with the feed's URLs and file
name set in variables, to the internal careful location of its type (one for all feeds of a
type: each feed's `if` blocks and locations cost nginx memory), which does the rest: dot
segments, page numbers, browsers. Every other location that
serves files tests the request for dot segments itself. The folders of the feeds' URLs are
prefix locations (returning 404, as ``location /`` does) only to split nginx's tree of
locations, so that finding a feed's location compares names within its folder. A versioned static
file (``?v=<hash>``, :class:`VersionedFile`) has an exact location of its own whose
version-dependent headers (a year's immutable caching) come from a map of ``$arg_v``.

``proxy.conf.j2`` is a reverse proxy in front of gunicorn (see :func:`render_proxy_config`).

The templates quote every value with the ``q`` filter, which refuses what nginx would read as a
variable or the end of a string; names of the variables they define start with ``feedsvc_``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

# Prefix of the internal location of feeds for browsers; no route of the app starts with "_".
_BROWSER_PREFIX = "/_feedsvc/browser"
_OPTIONS_PATH = "/_feedsvc/options"
_FIRST_PAGE_PATH = "/_feedsvc/first-page"
# The careful location of each feed type ("/_feedsvc/feed/rss"): a query, a browser, OPTIONS,
# an unusual spelling. Their folder is a prefix location of its own (see feed_folders).
_CAREFUL_PREFIX = "/_feedsvc/feed"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
# When a browser gets a feed labelled so that it shows it: the Accept header asks for text/html
# (or text/*) at q=1 without parameters, names no feed type nor application/*, and does not
# accept */* at q=1 (a tie goes to the feed). The service compares q-values (text/html strictly
# above the feed's type), which a regular expression cannot do in general; this agrees with it
# for browsers, readers and the cases in tests/test_parity.py, and README.md lists where not.
# Lazy quantifiers: whether it matches is all that counts, and a reader's Accept usually names
# its feed type first, which a lazy scan finds at once and a greedy one only after backtracking
# from the end (docs/performance.md counted it for a reader's Accept).
_BROWSER_ACCEPT = (
    r"^(?!.*?(?:{media_types}|application/\*))"
    r"(?!(?:.*?,)?\s*\*/\*\s*(?:;\s*q=1(?:\.0*)?\s*)?(?:,|$))"
    r"(?:.*?,)?\s*text/(?:html|\*)\s*(?:;\s*q=1(?:\.0*)?\s*)?(?:,|$)"
)
# What every Accept that expression matches contains. A feed's own location (the hot path) asks
# only this, with `if`, and hands what it matches to the feed's careful location, which asks the
# whole expression through the map. The map lower-cases a copy of the whole header before it
# looks it up (nginx's map does so for every key), which cost a reader's Accept more than
# everything else the location does (docs/performance.md); a caseless expression in `if` reads
# the header as it is, and a reader's Accept seldom names text/html.
_BROWSER_HINT = r"text/(?:html|\*)"
_UNSAFE_VALUE = re.compile(r'[$"\\\x00-\x1f\x7f]')
_UNSAFE_IN_REGEX = re.compile(r'["\x00-\x1f\x7f]|\\$')
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")
_BARE_VALUE = re.compile(r"[A-Za-z0-9._:+/\[\]*-]+")
_TEMPLATES = Path(__file__).with_name("templates")
# A version (a file's hash) as a key of an nginx map: a literal, not one of map's own words.
_VERSION = re.compile(r"[A-Za-z0-9_-]+")
_MAP_WORDS = frozenset({"default", "hostnames", "include", "volatile"})


class NginxConfigError(ValueError):
    """Something the app answers that this configuration cannot express."""


@dataclass(frozen=True, slots=True)
class RouteProfile:
    """What one route of the app answers, as far as nginx has to repeat it."""

    endpoint: str
    rule: str  # werkzeug's rule, "/artikelen/<path:name>"
    headers: Mapping[str, str]  # fixed headers: Cache-Control, Content-Security-Policy, ...
    vary: str | None
    types: Mapping[str, str]  # file extension -> Content-Type, "html" -> "text/html; charset=utf-8"
    browser_types: Mapping[str, str] = field(default_factory=dict)  # feeds, for browsers
    # Headers only some file types get: extension -> headers ("rss" -> Content-Security-Policy)
    type_headers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # No .gz/.br siblings: nginx compresses the route's pages itself (gzip, when asked).
    compressed_on_the_fly: bool = False


@dataclass(frozen=True, slots=True)
class FeedLocation:
    """One feed URL (first page; later pages are ``?page=N`` of it)."""

    path: str  # decoded, as nginx matches it: "/feeds/categorie/café.rss"
    url: str  # canonical and absolute, percent-encoded: "https://…/feeds/categorie/caf%C3%A9.rss"
    redirect: str  # what ?page=1 redirects to, percent-encoded: "/feeds/categorie/caf%C3%A9.rss"


@dataclass(frozen=True, slots=True)
class VersionedFile:
    """A file the app answers with other headers when asked for it with its version
    (``/static/style.css?v=<hash>``: cached for a year, immutable)."""

    path: str  # "/static/style.css"
    version: str  # the value of ``v`` in the query
    headers: Mapping[str, str]  # the headers that differ from its route's: Cache-Control


@dataclass(frozen=True, slots=True)
class NginxSite:
    """Everything the server block is generated from."""

    root: Path  # the exported tree as the server will see it (the export's symbolic link)
    listen: str  # "80", "127.0.0.1:8080"
    server_name: str
    brotli: bool  # brotli_static: needs Debian's libnginx-mod-http-brotli-static
    routes: tuple[RouteProfile, ...]
    error_profile: RouteProfile  # what the 404 and 400 pages carry
    feed_endpoint: str  # the route that pages with ?page=N
    feed_prefix: str  # "/feeds/"
    feed_extensions: tuple[str, ...]  # ("rss", "atom", "json")
    error_pages: Mapping[int, str]  # 404 -> "/404.html"
    websub_hub: str | None = None
    site_url: str = ""
    index_file: str = "/index.html"
    feeds: tuple[FeedLocation, ...] = ()
    versioned: tuple[VersionedFile, ...] = ()


def render_server_config(site: NginxSite) -> str:
    """The text of the export's configuration file: ``map`` blocks and the ``server`` block."""
    return _Model(site).render()


@dataclass(frozen=True, slots=True)
class _Header:
    name: str
    value: str = ""  # a literal, quoted by the template
    variable: str = ""  # or a variable of a map this configuration defines


@dataclass(frozen=True, slots=True)
class _Directives:
    """What a location says about the answer: types, charset, headers."""

    types: tuple[tuple[str, str], ...]  # (media type, extension)
    charset_types: tuple[str, ...]
    headers: tuple[_Header, ...]
    gzip_vary_off: bool
    gzip_on: bool
    always: bool
    link_hub: str | None  # the WebSub hub, for a Link header naming it and the feed itself


@dataclass(frozen=True, slots=True)
class _TypeMap:
    source: str  # "$uri" or "$feedsvc_ext"
    variable: str
    entries: tuple[tuple[str, str], ...]  # (map key, as written; header value)


@dataclass(frozen=True, slots=True)
class _RouteLocation:
    match: str
    index_file: str | None  # for "/"; else the URI's own file
    route: _Directives


@dataclass(frozen=True, slots=True)
class _VersionMap:
    """A header of a versioned file: ``versioned`` when ``$arg_v`` is its version, else the
    route's own value."""

    variable: str
    version: str
    versioned: str
    default: str


class _Model:
    """The template's view of an :class:`NginxSite`."""

    def __init__(self, site: NginxSite) -> None:
        self.site = site
        self.feed = next((r for r in site.routes if r.endpoint == site.feed_endpoint), None)
        # Headers that depend on the file type within a location: one map per set of values.
        self.type_maps: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        self.version_maps: list[_VersionMap] = []

    def render(self) -> str:
        site, feed = self.site, self.feed
        browser_accept: list[str] = []
        browser_route = None
        feed_routes: dict[str, _Directives] = {}
        if feed is not None:
            # Each feed's location knows its file type: its headers are written out there, so
            # that a request for a feed evaluates no map for them.
            feed_routes = {
                ext: self.directives(feed, feed=True, only_type=ext) for ext in feed.types
            }
            if feed.browser_types:
                media_types = "|".join(
                    sorted(
                        re.escape(feed.types[ext].partition(";")[0].strip())
                        for ext in feed.browser_types
                        if ext in feed.types
                    )
                )
                browser_accept.append("~*" + _BROWSER_ACCEPT.format(media_types=media_types))
                browser = RouteProfile(
                    feed.endpoint,
                    feed.rule,
                    feed.headers,
                    feed.vary,
                    feed.browser_types,
                    type_headers=feed.type_headers,
                )
                browser_route = self.directives(browser, feed=True)
        routes = [self.route_location(r) for r in site.routes if r is not feed]
        # A versioned file's own exact location, before its route's: its route's directives
        # but the headers that depend on the version, which come from a map of $arg_v.
        routes[:0] = [self.versioned_location(file) for file in site.versioned]
        extensions = "|".join(re.escape(ext) for ext in site.feed_extensions)
        context = {
            "listen": site.listen,
            "server_name": site.server_name,
            "root": str(site.root),
            "brotli": site.brotli,
            "error_pages": sorted(site.error_pages.items()),
            "error_page_paths": sorted(set(site.error_pages.values())),
            "error_route": self.directives(site.error_profile, always=True),
            "options_route": self.directives(_options_profile(site.error_profile), always=True),
            "feeds": [self.feed_context(location) for location in site.feeds],
            "feed_folders": self.feed_folders(routes),
            "feed_routes": feed_routes,
            "feed_pattern": f"^{re.escape(site.feed_prefix)}.*\\.({extensions})$",
            "browser_accept": browser_accept,
            "browser_hint": _BROWSER_HINT,
            "browser_prefix": _BROWSER_PREFIX,
            "options_path": _OPTIONS_PATH,
            "first_page_path": _FIRST_PAGE_PATH,
            "careful_prefix": _CAREFUL_PREFIX,
            # The careful location of each type some feed has.
            "feed_extensions": sorted(
                {location.path.rpartition(".")[2] for location in site.feeds}
            ),
            "browser_route": browser_route,
            "routes": routes,
            "version_maps": self.version_maps,
            # Last: the directives above name the maps they need.
            "type_maps": [
                _TypeMap(source, variable, self.map_entries(source, values))
                for (source, values), variable in self.type_maps.items()
            ],
        }
        return _environment().get_template("feedsvc.conf.j2").render(context)

    def feed_context(self, location: FeedLocation) -> dict[str, str]:
        stem, dot, extension = location.path.rpartition(".")
        if not dot or extension not in self.site.feed_extensions:
            raise NginxConfigError(f"{location.path!r} is not a feed URL")
        return {
            "location": location.path,
            "url": location.url,
            "redirect": location.redirect,
            "extension": extension,
            "file_stem": stem,
        }

    def feed_folders(self, routes: list[_RouteLocation]) -> list[str]:
        """The folders of the feeds' URLs (``/feeds/``, ``/feeds/categorie/``, ...) and of the
        careful locations, each to be a prefix location of its own; but a folder some route's
        location already names, and ``/``."""
        if not self.site.feeds:
            return []
        folders = {_CAREFUL_PREFIX + "/"}
        for feed in self.site.feeds:
            parts = feed.path.split("/")[1:-1]
            folders.update("/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1))
        taken = {location.match for location in routes}
        return sorted(f for f in folders if _quoted(f) not in taken)

    def route_location(self, route: RouteProfile) -> _RouteLocation:
        static, _, rest = route.rule.partition("<")
        directives = self.directives(route)
        if not rest:  # no variable part: one URL
            if static == "/":
                return _RouteLocation("= /", self.site.index_file, directives)
            return _RouteLocation(f"= {_quoted(static)}", None, directives)
        if not static.endswith("/"):
            raise NginxConfigError(
                f"route {route.rule!r} ({route.endpoint}): its variable part must follow a '/'"
            )
        # A plain prefix location: the regular expressions (siblings, "//") still apply.
        return _RouteLocation(_quoted(static), None, directives)

    def versioned_location(self, file: VersionedFile) -> _RouteLocation:
        route = next(
            (
                r
                for r in self.site.routes
                if "<" in r.rule and file.path.startswith(r.rule.partition("<")[0])
            ),
            None,
        )
        if route is None or route.endpoint == self.site.feed_endpoint:
            raise NginxConfigError(f"versioned file {file.path!r}: no route serves it")
        if not _VERSION.fullmatch(file.version) or file.version in _MAP_WORDS:
            raise NginxConfigError(f"{file.path}: version {file.version!r} cannot be a map key")
        directives = self.directives(route)
        own = {header.name.lower(): header for header in directives.headers}
        headers = dict(own)
        for name, value in file.headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise NginxConfigError(f"header name {name!r} cannot be written for nginx")
            variable = f"$feedsvc_versioned_{len(self.version_maps) + 1}"
            default = own[name.lower()] if name.lower() in own else _Header(name)
            if default.variable:
                raise NginxConfigError(f"{file.path}: {name} depends on the file type too")
            self.version_maps.append(_VersionMap(variable, file.version, value, default.value))
            headers[name.lower()] = _Header(name, variable=variable)
        return _RouteLocation(
            f"= {_quoted(file.path)}",
            None,
            _Directives(
                types=directives.types,
                charset_types=directives.charset_types,
                headers=tuple(headers[name] for name in sorted(headers)),
                gzip_vary_off=directives.gzip_vary_off,
                gzip_on=directives.gzip_on,
                always=directives.always,
                link_hub=directives.link_hub,
            ),
        )

    def directives(
        self,
        route: RouteProfile,
        *,
        always: bool = False,
        feed: bool = False,
        only_type: str | None = None,
    ) -> _Directives:
        """The directives of a location of ``route``; with ``only_type`` (an extension), of a
        location that serves only files of that type (its type-dependent headers are then
        literals)."""
        types = []
        charset_types = set()
        for extension, content_type in sorted(route.types.items()):
            media_type, _, parameters = content_type.partition(";")
            charset = parameters.strip().lower()
            if charset == "charset=utf-8":
                charset_types.add(media_type.strip())
            elif charset:
                raise NginxConfigError(
                    f"{route.endpoint}: .{extension} files are {content_type!r}; only UTF-8 "
                    "text can be labelled with its charset"
                )
            types.append((media_type.strip(), extension))
        headers = {name: _Header(name, value=value) for name, value in route.headers.items()}
        gzip_vary_off = route.vary is not None and route.vary != "Accept-Encoding"
        if gzip_vary_off:  # gzip_vary would add a second Vary; send the service's whole value
            headers["Vary"] = _Header("Vary", value=route.vary or "")
        for name in sorted({name for values in route.type_headers.values() for name in values}):
            values = {ext: h[name] for ext, h in route.type_headers.items() if name in h}
            if only_type is not None:
                if only_type in values:
                    headers[name] = _Header(name, value=values[only_type])
                continue
            source = "$feedsvc_ext" if feed else "$uri"
            headers[name] = _Header(name, variable=self.type_map(values, source))
        for name in headers:
            if not _HEADER_NAME.fullmatch(name):
                raise NginxConfigError(f"header name {name!r} cannot be written for nginx")
        return _Directives(
            types=tuple(types),
            charset_types=tuple(sorted(charset_types)),
            headers=tuple(headers[name] for name in sorted(headers)),
            gzip_vary_off=gzip_vary_off,
            gzip_on=route.compressed_on_the_fly,
            always=always,
            link_hub=self.site.websub_hub if feed else None,
        )

    def type_map(self, values: Mapping[str, str], source: str) -> str:
        """A variable that is ``values[ext]`` for a URI ending in ``.ext`` (``source`` is
        ``$uri``, or a variable holding the extension), else empty (an empty value makes
        add_header send nothing)."""
        key = (source, tuple(sorted(values.items())))
        if key not in self.type_maps:
            self.type_maps[key] = f"$feedsvc_type_header_{len(self.type_maps) + 1}"
        return self.type_maps[key]

    @staticmethod
    def map_entries(
        source: str, values: tuple[tuple[str, str], ...]
    ) -> tuple[tuple[str, str], ...]:
        if source == "$uri":
            return tuple(
                (_quoted("~" + re.escape("." + ext) + "$", regex=True), value)
                for ext, value in values
            )
        return tuple((_bare(ext), value) for ext, value in values)  # a lookup, no expression


def _options_profile(error: RouteProfile) -> RouteProfile:
    """What the service's automatic OPTIONS answer carries: an error page's headers but CORS,
    which Flask's answer leaves out."""
    headers = {k: v for k, v in error.headers.items() if k.lower() != "access-control-allow-origin"}
    return RouteProfile(error.endpoint, error.rule, headers, error.vary, error.types)


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=False,  # nginx syntax, not HTML: values go through the filters below
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["q"] = _quoted
    environment.filters["inside_quotes"] = _inside_quotes
    environment.filters["bare"] = _bare
    return environment


def _quoted(text: str, *, regex: bool = False) -> str:
    """``text`` as a double-quoted nginx string; refuses what would need escaping (or, outside
    a regular expression, would be read as a variable)."""
    unsafe = _UNSAFE_IN_REGEX if regex else _UNSAFE_VALUE
    if unsafe.search(str(text)):
        raise NginxConfigError(f"{text!r} cannot be written for nginx")
    return f'"{text}"'


def _inside_quotes(text: str) -> str:
    """``text`` checked as :func:`_quoted` checks it, for a template's own quoted string."""
    return _quoted(text)[1:-1]


def _bare(text: str) -> str:
    if not _BARE_VALUE.fullmatch(str(text)):
        raise NginxConfigError(f"{text!r} cannot be written for nginx as a bare word")
    return str(text)


@dataclass(frozen=True, slots=True)
class ProxySite:
    """nginx as a buffering reverse proxy in front of gunicorn."""

    listen: str  # "80", "127.0.0.1:8080"
    server_name: str
    upstream: str  # where gunicorn listens: "unix:/run/feedsvc/gunicorn.sock", "127.0.0.1:8000"
    read_timeout: int = 30  # gunicorn's own worker timeout: nginx waits no longer


def render_proxy_config(site: ProxySite) -> str:
    """The text of the reverse proxy's configuration file: one ``upstream`` and one ``server``."""
    if not _UPSTREAM.fullmatch(site.upstream):
        raise NginxConfigError(
            f"upstream {site.upstream!r}: expected unix:/PATH or a loopback HOST:PORT"
        )
    return (
        _environment()
        .get_template("proxy.conf.j2")
        .render(
            listen=site.listen,
            server_name=site.server_name,
            upstream=site.upstream,
            read_timeout=int(site.read_timeout),
        )
    )


# gunicorn behind the proxy listens on loopback or a unix socket, never on a public address.
_UPSTREAM = re.compile(r"unix:/[A-Za-z0-9._/-]+|(?:127\.0\.0\.1|\[::1\]|localhost):[0-9]{1,5}")

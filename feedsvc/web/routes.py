"""HTTP: routes, headers and status codes. Everything else is asked of the store and publication.

Turns "not found" into 404 and bad parameters into 400; nothing a client sends reaches a 500.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    get_template_attribute,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.globals import request_ctx
from markupsafe import Markup
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    MethodNotAllowed,
    NotFound,
    PreconditionFailed,
)
from werkzeug.exceptions import NotImplemented as NotImplementedHTTP
from werkzeug.wrappers import Response as BaseResponse

from feedsvc.articles.dates import format_dutch_date
from feedsvc.articles.model import Article
from feedsvc.feeds.builder import body_html
from feedsvc.feeds.catalog import Catalog, CategoryNode, Feed, FeedKind, PageOutOfRangeError
from feedsvc.feeds.compression import IDENTITY, PREFERENCE
from feedsvc.feeds.publication import RenderedFeed, UnknownFeedError
from feedsvc.feeds.urls import (
    ALL_ARTICLES_PREFIX,
    EMBED_PAGE_PREFIX,
    LISTING_PAGE_PREFIX,
    article_path,
    embed_page_path,
    embed_path,
    feed_page_path,
    feed_path,
    listing_path,
)
from feedsvc.feeds.writers import FORMATS
from feedsvc.runtime import Runtime
from feedsvc.settings import Settings
from feedsvc.web import crawlers, embed, errorpages, pagecache, snapshot
from feedsvc.web.pagecache import PageBody, cached_page

bp = Blueprint("feedsvc", __name__)

_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_LISTING_PAGE = re.compile(rf"(?P<path>.*)/{LISTING_PAGE_PREFIX}(?P<number>[1-9][0-9]{{0,8}})")
_HTML_SECURITY_HEADERS = {
    # Scripts and styles only from files of this site (no inline code, so nothing injected
    # runs); frames only of this site's own widgets, for the embed preview. connect-src 'self':
    # the script widget's preview reads the JSON Feed, and Lighthouse reads /robots.txt from
    # within the page (GoogleChrome/lighthouse#4386); only this site's own scripts run here.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Feeds and OPML are XML documents, which a browser renders (feed.css) when it opens one: no
# script may run in them, whatever they say. Their writers never turn text into elements (see
# tests/test_render_properties.py), so this is defence in depth.
_XML_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
)


def init_app(app: Flask, service: Runtime) -> None:
    """Wire the routes, error pages and template helpers into ``app``."""
    settings = service.settings
    app.extensions["feedsvc"] = service
    # Werkzeug answers "/feeds//all.rss" with a redirect to an absolute URL built from the
    # request's Host header, which a shared cache could keep and hand to others: one URL per
    # resource, and no URL ever taken from the request, so such paths are simply not found.
    app.url_map.merge_slashes = False
    app.register_blueprint(bp)
    embed.init_app(app)
    crawlers.init_app(app)
    pagecache.init_app(app)
    _static_versions(app)
    app.register_error_handler(HTTPException, _error_page)
    app.after_request(_security_headers)
    app.jinja_env.globals.update(
        feed_formats=FORMATS,
        feed_path=feed_path,
        feed_page_path=feed_page_path,
        listing_path=listing_path,
        embed_page_path=embed_page_path,
        article_path=article_path,
        embed_path=embed_path,
        site_url=settings.url,
        site_title=settings.site_title,
        site_description=settings.site_description,
        error_title=errorpages.title,
        error_message=errorpages.message,
    )
    app.jinja_env.globals.update(
        reader_links=reader_links,
        canonical_url=_canonical_url,
        feed_discovery=_feed_discovery,
        category_part=_category_part,
        site_links=site_links,
        static_url=static_url,
    )
    app.jinja_env.globals["url_for"] = link_for
    app.context_processor(lambda: {"site_feed": snapshot.catalog().all_feed})
    app.jinja_env.filters["dutch_date"] = format_dutch_date
    app.jinja_env.filters["body_html"] = body_html
    app.jinja_env.filters["arrows"] = _arrows


# Distinct links the templates build (a handful per page kind, one per feed for the webmasters'
# page): bounded, since a few take values from the content.
LINK_CACHE_SIZE = 4096


def link_for(endpoint: str, **values: Any) -> str:
    """``url_for`` for the templates, each distinct link built once: every page links the same
    few pages and files (the front page, the stylesheet, ...), and Werkzeug's build of a URL
    cost more than the rest of an article page's header (bench/export_profile.py).

    A relative link depends only on the app's rules, the endpoint, the values and the URL
    adapter's script name (host and subdomain matching are off); the key holds the app's URL
    map and what the adapter was bound to anyway.
    Anything else (no request, ``_external``, ``_anchor``, a blueprint-relative endpoint, a
    value that cannot be a cache key) is left to ``url_for`` itself.
    """
    bound = _bound_adapter()
    if bound is None or endpoint[:1] == "." or any(name[:1] == "_" for name in values):
        return url_for(endpoint, **values)
    try:
        return _built_link(bound, endpoint, tuple(values.items()))
    except TypeError:
        # An unhashable value (a list, for a query parameter given several times) cannot be a
        # cache key; url_for builds it as usual (and raises its own error if it cannot).
        return url_for(endpoint, **values)


def _bound_adapter() -> tuple[object, ...] | None:
    """What the request's URL adapter was bound to (with the app's URL map), or None outside
    a request: the links built from it are the same for every request with the same."""
    adapter = request_ctx.url_adapter if has_request_context() else None
    if adapter is None:
        return None
    return (
        adapter.map,
        adapter.script_name,
        adapter.server_name,
        adapter.subdomain,
        adapter.url_scheme,
    )


@functools.lru_cache(maxsize=LINK_CACHE_SIZE)
def _built_link(
    bound: tuple[object, ...], endpoint: str, values: tuple[tuple[str, Any], ...]
) -> str:
    return url_for(endpoint, **dict(values))


class SiteLinks(NamedTuple):
    """The links in every page's head, header and footer (base.html)."""

    home: str
    all_articles: str
    opml: str
    stylesheet: str
    script: str
    favicon: str
    icon_url: str  # absolute, for link previews (og:image)


def site_links() -> SiteLinks:
    """The links of base.html, made once per URL adapter's binding rather than one by one on
    every page (seven look-ups through the template and ``link_for`` each time)."""
    bound = _bound_adapter()
    if bound is None:
        return _site_links()
    return _kept_site_links(bound)


@functools.lru_cache(maxsize=64)
def _kept_site_links(bound: tuple[object, ...]) -> SiteLinks:
    return _site_links()


def _site_links() -> SiteLinks:
    return SiteLinks(
        home=link_for("feedsvc.index"),
        all_articles=link_for("feedsvc.all_articles", name="pagina-1.html"),
        opml=link_for("feedsvc.opml"),
        stylesheet=static_url("style.css"),
        script=static_url("site.js"),
        favicon=static_url("favicon.png"),
        icon_url=_service().settings.url(static_url("icon.png")),
    )


def static_url(filename: str) -> str:
    """``/static/style.css?v=<hash of the file>``: a request with the current hash may be
    cached for a year."""
    versions: dict[str, str] = current_app.extensions[STATIC_VERSIONS]
    return link_for("static", filename=filename, v=versions[filename])


class ReaderLink(NamedTuple):
    name: str
    url: str


def reader_links(feed_url: str) -> tuple[ReaderLink, ...]:
    """One-click subscribe links for popular feed readers: two web readers' "add feed" URLs,
    and the ``feed:`` scheme that apps such as NetNewsWire register for."""
    quoted = quote(feed_url, safe="")
    return (
        ReaderLink("Feedly", f"https://feedly.com/i/subscription/feed%2F{quoted}"),
        ReaderLink("Inoreader", f"https://www.inoreader.com/?add_feed={quoted}"),
        ReaderLink("NetNewsWire en andere apps", "feed:" + feed_url),
    )


def _canonical_url() -> str:
    """The absolute URL of the page being rendered: its one URL, from the settings."""
    return _service().settings.url(quote(request.path))


def _arrows(label: str) -> str:
    """``Nieuws -> Informatief`` as people read it: ``Nieuws › Informatief``."""
    return label.replace(" -> ", " › ")


# A year: static URLs carry their file's hash (?v=…), so a changed file has a new URL.
STATIC_MAX_AGE = 365 * 24 * 3600
# Where the app keeps each static file's version (file name -> hash), for the export too.
STATIC_VERSIONS = "feedsvc.web.static_versions"


def _static_versions(app: Flask) -> None:
    """``static_url("style.css")`` is ``/static/style.css?v=<hash of the file>``; a request
    with the current hash may be cached for a year."""
    folder = Path(app.static_folder or "")
    versions = {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    app.extensions[STATIC_VERSIONS] = versions

    @app.after_request
    def _long_cache_for_versioned(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename")
            if filename is not None and request.args.get("v") == versions.get(filename):
                response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
        return response


@bp.get("/favicon.ico")
def favicon() -> BaseResponse:
    """For browsers and tools that ask for it by name, whatever the page's icon link says."""
    response = send_from_directory(current_app.static_folder or "", "favicon.ico")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _service() -> Runtime:
    return snapshot.runtime()


@bp.get("/")
@cached_page
def index() -> PageBody:
    catalog = snapshot.catalog()
    html = render_template(
        "index.html",
        catalog=catalog,
        feed=catalog.all_feed,
        latest=catalog.articles[:10],
    )
    return PageBody(html, catalog.all_feed.updated)


@bp.get("/feeds/<path:name>")
def feed(name: str) -> BaseResponse:
    stem, dot, extension = name.rpartition(".")
    if not dot or extension not in FORMATS:
        raise FeedNotFound(
            stem or name, "Dit feedformaat kennen we niet: kies .rss, .atom of .json."
        )
    page = _page_number()
    service = _service()
    publication = snapshot.publication()
    if page == 1 and "page" in request.args:
        # One URL per page: the first page's canonical URL has no page parameter.
        feed_ = publication.catalog.feeds.get(stem)
        if feed_ is None:
            raise FeedNotFound(stem)
        return redirect(feed_path(feed_, extension), code=301)
    try:
        rendered = publication.feed(stem, extension, page)
    except UnknownFeedError:
        if stem in publication.catalog.feeds:
            raise NotFound("Zo veel pagina's heeft deze feed niet.") from None
        raise FeedNotFound(stem) from None
    browser_type = FORMATS[extension].browser_content_type
    return _send(rendered, service.settings, feed=True, browser_content_type=browser_type)


@bp.get("/oembed")
def oembed() -> BaseResponse:
    """oEmbed (https://oembed.com) for category and source pages and the front page: the
    iframe widget of that page's feed, for CMSs that embed by URL."""
    service = _service()
    settings = service.settings
    url = request.args.get("url", "")
    if request.args.get("format", "json") != "json":
        raise NotImplementedHTTP("Alleen format=json wordt ondersteund.")
    site = urlsplit(settings.site_url)
    target = urlsplit(url)
    if (target.scheme, target.netloc) != (site.scheme, site.netloc):
        raise NotFound("Dit adres hoort niet bij deze site.")
    path = unquote(target.path[len(site.path) :] if site.path else target.path)
    catalog = snapshot.catalog()
    if path in ("", "/"):
        shown: Feed | None = catalog.all_feed
    elif path.endswith(".html"):
        shown = catalog.feeds.get(path.strip("/")[: -len(".html")])
    else:
        shown = None
    if shown is None:
        raise NotFound("Van deze pagina is geen widget.")
    options = embed.WidgetOptions.defaults()
    maxheight = request.args.get("maxheight", "")
    if maxheight.isascii() and maxheight.isdigit():
        # As many items as fit, at least one.
        base, item = embed.row_heights(options)
        count = max(1, min(options.count, (int(maxheight) - base) // item))
        options = embed.WidgetOptions.defaults(count=count)
    width = 600
    maxwidth = request.args.get("maxwidth", "")
    if maxwidth.isascii() and maxwidth.isdigit():
        width = max(300, min(width, int(maxwidth)))
    code = embed.embed_code(shown, options)
    response = jsonify(
        {
            "version": "1.0",
            "type": "rich",
            "title": shown.title,
            "provider_name": settings.site_title,
            "provider_url": settings.url("/"),
            "html": code.iframe,
            "width": width,
            "height": options.height,
            "cache_age": settings.cache_max_age,
        }
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={settings.cache_max_age}"
    return response


@bp.get("/feeds.opml")
def opml() -> BaseResponse:
    service = _service()
    return _send(snapshot.publication().opml(), service.settings, feed=False)


@bp.get("/feeds-alle.opml")
def opml_directory() -> BaseResponse:
    service = _service()
    return _send(snapshot.publication().opml(directory=True), service.settings, feed=False)


@bp.get("/healthz")
def healthz() -> BaseResponse:
    service = _service()
    if service.settings.healthz == "off":
        raise NotFound("/healthz is off (FEEDSVC_HEALTHZ)")
    response = jsonify(service.health(full=service.settings.healthz == "full"))
    response.headers["Cache-Control"] = "no-store"
    return response


def _send(
    rendered: RenderedFeed,
    settings: Settings,
    *,
    feed: bool,
    browser_content_type: str | None = None,
) -> BaseResponse:
    """The rendered bytes in the coding the client prefers, or 304 if it has them already.

    With ``browser_content_type``, a client that prefers HTML to the document's own type (a
    browser following a link; feed readers ask for feeds or anything) gets the same bytes
    labelled so that it displays them (see :func:`feed_response`).
    """
    coding = request.accept_encodings.best_match(PREFERENCE, default=IDENTITY) or IDENTITY
    for_browser = browser_content_type is not None and prefers_html(
        request.accept_mimetypes, rendered.content_type
    )
    response = feed_response(
        rendered,
        settings,
        coding,
        feed=feed,
        browser_content_type=browser_content_type,
        for_browser=for_browser,
    )
    # Werkzeug decides from the ETag and Last-Modified just set: If-None-Match (weak comparison)
    # over If-Modified-Since (RFC 9110 section 13.2.2), and a 304 goes without the body and the
    # entity headers. A failed If-Match is a 412, which Werkzeug would send with the feed's body.
    response.make_conditional(request)
    if response.status_code == 412:
        raise PreconditionFailed("If-Match noemt deze versie niet")
    return response


def feed_response(
    rendered: RenderedFeed,
    settings: Settings,
    coding: str,
    *,
    feed: bool,
    browser_content_type: str | None = None,
    for_browser: bool = False,
) -> Response:
    """The full answer of one variant, before conditional requests: what :func:`_send` sends
    and what :mod:`feedsvc.web.fastpath` precomputes.

    The browser's representation (``for_browser``, with ``browser_content_type``) has ETags of
    its own, and ``Vary: Accept`` keeps caches from handing one client's representation to the
    other.
    """
    variant = rendered.variants[coding]
    etag, content_type, vary = variant.etag, rendered.content_type, "Accept-Encoding"
    if browser_content_type is not None:
        vary = "Accept, Accept-Encoding"
        if for_browser:
            etag, content_type = variant.browser_etag, browser_content_type
    headers = {
        "ETag": etag,
        "Last-Modified": rendered.http_last_modified,
        "Cache-Control": f"public, max-age={settings.cache_max_age}",
        "Vary": vary,
    }
    if feed:
        headers["Access-Control-Allow-Origin"] = "*"
        if settings.websub_hub:
            self_url = settings.url(rendered.path)
            headers["Link"] = f'<{settings.websub_hub}>; rel="hub", <{self_url}>; rel="self"'
    if coding != IDENTITY:
        headers["Content-Encoding"] = coding
    return Response(variant.body, headers=headers, content_type=content_type)


def prefers_html(accept: MIMEAccept, content_type: str) -> bool:
    """Whether the client ranks HTML strictly above ``content_type``: a browser, not a reader.

    Browsers navigate with ``Accept: text/html,…,*/*;q=0.8``; readers send the feed types,
    ``*/*`` or nothing, and a tie goes to the feed's own type.
    """
    media_type = content_type.partition(";")[0].strip()
    return accept.quality("text/html") > accept.quality(media_type)


@bp.get("/artikelen/<path:name>")
@cached_page
def article(name: str) -> PageBody:
    article_id = _strip_html_suffix(name)
    catalog = snapshot.catalog()
    found = catalog.by_id.get(article_id)
    if found is None:
        raise NotFound("Dit bericht bestaat niet (meer), of het adres is niet helemaal goed.")
    lineage = _lineage(catalog, catalog.feeds[f"categorie/{found.category.slug_path}"])
    source_feed = catalog.feeds.get(f"bron/{found.source.slug}") if found.source else None
    html = render_template(
        "article.html",
        article=found,
        lineage=lineage,
        source_feed=source_feed,
        structured_data=_news_article(found, lineage),
    )
    return PageBody(html, found.updated)


def _news_article(found: Article, lineage: list[Feed]) -> dict[str, object]:
    """schema.org NewsArticle data for search engines (JSON-LD: data, never run as script)."""
    settings = _service().settings
    publisher = {
        "@type": "Organization",
        "name": settings.site_title,
        "url": settings.url("/"),
        "logo": {"@type": "ImageObject", "url": settings.url("/static/icon.png")},
    }
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": found.title,
        "description": found.summary,
        "datePublished": found.published.isoformat(),
        "dateModified": found.updated.isoformat(),
        "inLanguage": "nl-NL",
        "mainEntityOfPage": settings.url(article_path(found.id)),
        "articleSection": [feed.category.name for feed in lineage if feed.category],
        "image": [settings.url("/static/icon.png")],
        "publisher": publisher,
        "author": (
            {"@type": "Organization", "name": found.source.name} if found.source else publisher
        ),
    }
    return data


@bp.get("/categorie/<path:name>")
@cached_page
def category_page(name: str) -> PageBody:
    return _feed_page(FeedKind.CATEGORY, name)


@bp.get("/bron/<path:name>")
@cached_page
def source_page(name: str) -> PageBody:
    return _feed_page(FeedKind.SOURCE, name)


@bp.get(ALL_ARTICLES_PREFIX + "<name>")
@cached_page
def all_articles(name: str) -> PageBody:
    match = _LISTING_PAGE.fullmatch("/" + _strip_html_suffix(name))
    if match is None:
        raise NotFound()
    return _listing(snapshot.catalog().all_feed, int(match["number"]))


@bp.get(EMBED_PAGE_PREFIX + "<path:name>")
def embed_page(name: str) -> BaseResponse:
    """ "Op je eigen site": the widgets of one feed for webmasters, to configure and copy."""
    path = _strip_html_suffix(name)
    catalog = snapshot.catalog()
    shown = catalog.feeds.get(path)
    if shown is None:
        raise FeedNotFound(path, "Deze categorie of bron bestaat niet (meer).")
    heights = {
        style: embed.row_heights(embed.WidgetOptions.defaults(style))
        for style in (embed.FULL, embed.COMPACT)
    }
    body = render_template(
        "insluiten.html",
        feed=shown,
        heading=_embed_heading(shown),
        feed_options=_embed_options(catalog, shown),
        code=embed.embed_code(shown),
        heights=heights,
        max_count=embed.MAX_COUNT,
    )
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = pagecache.CACHE_CONTROL
    # The previews are the offered code itself, with its one style attribute (allowed by hash).
    response.headers["Content-Security-Policy"] = _HTML_SECURITY_HEADERS[
        "Content-Security-Policy"
    ].replace(
        "style-src 'self';",
        f"style-src 'self' 'unsafe-hashes' {embed.IFRAME_STYLE_HASH};",
    )
    return pagecache.send_dated(response, catalog.all_feed.updated)


class _DiscoveryKept(NamedTuple):
    """The parts of article and listing pages that depend on one feed only (autodiscovery
    links, the breadcrumbs and the follow links of a category) of one catalog, by macro and
    the id of their feed (the feed kept with them, so an id is not reused while it is a key)."""

    catalog: Catalog
    parts: dict[tuple[str, int], tuple[Feed, Markup]]


# The last catalog's parts. Every article page renders discovery_links for its category, its
# source and the site, and the breadcrumbs and follow links of its category: feeds that many
# articles share, so one part per feed, rendered once. One tuple, replaced whole, so threads
# need no lock (two may render the same part: equal).
_discovery_kept: _DiscoveryKept | None = None


def _kept_parts() -> _DiscoveryKept:
    global _discovery_kept  # noqa: PLW0603 - see above
    catalog = snapshot.catalog()
    kept = _discovery_kept
    if kept is None or kept.catalog is not catalog:
        kept = _discovery_kept = _DiscoveryKept(catalog, {})
    return kept


def _feed_discovery(feed: Feed, also: list[Feed]) -> Markup:
    """``discovery_links(feed, also)`` of ``_macros.html``, from its parts (``own_feed_links``,
    ``other_feed_link``), each rendered once per feed: for article pages, and for the pages of
    a listing, which offer the same feeds page after page.

    The links are absolute, from the settings (``site_url``), so they depend on the feed and
    the catalog's app only, not on the request.
    """
    kept = _kept_parts()
    parts = [_discovery_part(kept, "own_feed_links", feed)]
    parts += [
        _discovery_part(kept, "other_feed_link", other) for other in also if other is not feed
    ]
    return Markup("").join(parts)


def _category_part(macro: str, feed: Feed) -> Markup:
    """``macro(feed, lineage)`` of ``_macros.html``, rendered once per feed and catalog: for
    parts of an article page that depend only on its category's feed (``lineage``: the feeds
    of the categories from the top down to ``feed``'s, made here from ``feed``, so that what is
    kept is all the part was made of). Their links are site paths or absolute URLs from the
    settings, not the request's."""
    kept = _kept_parts()
    found = kept.parts.get((macro, id(feed)))
    if found is not None:
        return found[1]
    return _discovery_part(kept, macro, feed, _lineage(kept.catalog, feed))


def _lineage(catalog: Catalog, feed: Feed) -> list[Feed]:
    """The feeds of the categories from the top down to ``feed``'s (none if not a category's)."""
    if feed.category is None:
        return []
    return [catalog.feeds[f"categorie/{c.slug_path}"] for c in feed.category.lineage()]


def _discovery_part(kept: _DiscoveryKept, macro: str, feed: Feed, *args: object) -> Markup:
    """``macro(feed, *args)``, kept by macro and feed: ``args`` must be made from ``feed``."""
    found = kept.parts.get((macro, id(feed)))
    if found is not None:
        return found[1]
    html: Markup = get_template_attribute("_macros.html", macro)(feed, *args)
    kept.parts[(macro, id(feed))] = (feed, html)
    return html


def _embed_heading(shown: Feed) -> str:
    return "Alle berichten" if shown.kind is FeedKind.ALL else _arrows(shown.name)


class _EmbedChoices(NamedTuple):
    """The options of the webmasters' page's choice of feeds, none of them selected."""

    catalog: Catalog
    script_root: str
    positions: dict[str, int]  # feed path -> its option
    options: tuple[Markup, ...]


# The last catalog's options, by the links' script name. Every webmasters' page offers every
# feed (412 at 10,000 articles), and an export renders one page per feed: made per page, the
# options were most of the page's cost (bench/export_profile.py). One tuple, replaced whole, so
# threads need no lock.
_embed_choices_kept: _EmbedChoices | None = None


def _embed_options(catalog: Catalog, shown: Feed) -> Markup:
    """The options of every feed of ``catalog``, ``shown``'s selected (``_macros.html``), as
    one piece: put together here rather than one by one by the template (412 at 10,000
    articles, each escaped again as it was output)."""
    global _embed_choices_kept  # noqa: PLW0603 - see above
    option = get_template_attribute("_macros.html", "feed_option")
    kept = _embed_choices_kept
    script_root = request.script_root
    if kept is None or kept.catalog is not catalog or kept.script_root != script_root:
        links = [
            (link_for("feedsvc.embed_page", name=other.path + ".html"), _embed_heading(other))
            for other in catalog.feeds.values()
        ]
        kept = _embed_choices_kept = _EmbedChoices(
            catalog,
            script_root,
            {path: position for position, path in enumerate(catalog.feeds)},
            tuple(option(url, label, False) for url, label in links),
        )
    position = kept.positions[shown.path]
    url = link_for("feedsvc.embed_page", name=shown.path + ".html")
    selected = option(url, _embed_heading(shown), True)
    # Markup, each of them: joined as the strings they are (Markup.join escapes each again).
    options = (*kept.options[:position], selected, *kept.options[position + 1 :])
    return Markup("".join(options))


def _feed_page(kind: FeedKind, name: str) -> PageBody:
    path = f"{kind.value}/{_strip_html_suffix(name)}"
    catalog = snapshot.catalog()
    shown, number = catalog.feeds.get(path), 1
    match = _LISTING_PAGE.fullmatch(path) if shown is None else None
    if match is not None and int(match["number"]) >= 2:
        # "categorie/nieuws/pagina-2": the older articles of categorie/nieuws
        shown, number = catalog.feeds.get(match["path"]), int(match["number"])
    if shown is None:
        raise FeedNotFound(path, "Deze categorie of bron bestaat niet (meer).")
    lineage: list[Feed] = []
    children: tuple[CategoryNode, ...] = ()
    if shown.category is not None:
        lineage = _lineage(catalog, shown)
        children = _subcategories(catalog.category_tree, shown)
    return _listing(shown, number, lineage=lineage, children=children)


def _listing(
    shown: Feed,
    number: int,
    *,
    lineage: list[Feed] | None = None,
    children: tuple[CategoryNode, ...] = (),
) -> PageBody:
    """Page ``number`` of a feed's articles, with links to newer and older pages."""
    try:
        page = shown.page(number, _service().settings.page_size)
    except PageOutOfRangeError:
        raise NotFound("Zo ver terug gaan de berichten hier niet.") from None
    html = render_template(
        "feed.html",
        feed=shown,
        page=page,
        articles=page.articles,
        lineage=lineage or [],
        children=children,
    )
    return PageBody(html, page.updated, later_page=number > 1)


def _subcategories(nodes: tuple[CategoryNode, ...], feed: Feed) -> tuple[CategoryNode, ...]:
    for node in nodes:
        if node.feed is feed:
            return node.children
        found = _subcategories(node.children, feed)
        if found:
            return found
    return ()


def _strip_html_suffix(name: str) -> str:
    if not name.endswith(".html"):
        raise NotFound()
    return name[: -len(".html")]


class FeedNotFound(NotFound):
    """A feed (or its page) that does not exist; the error page offers the nearest ones."""

    def __init__(self, wanted: str, description: str = "We hebben geen feed op dit adres.") -> None:
        super().__init__(description)
        self.suggestions = nearest_feeds(wanted)


def nearest_feeds(wanted: str, limit: int = 5) -> list[Feed]:
    """The feeds whose path (``categorie/nieuws/verkeer``) looks most like ``wanted``."""
    feeds = snapshot.catalog().feeds
    by_path = {path: feed for path, feed in feeds.items() if path}
    close = difflib.get_close_matches(wanted.strip("/").lower(), by_path, n=limit, cutoff=0.5)
    if not close:  # "verkeer" alone still finds "categorie/nieuws/gemeente/verkeer"
        last = wanted.rstrip("/").rpartition("/")[2].lower()
        tails = {path.rpartition("/")[2]: path for path in by_path}
        close = [tails[t] for t in difflib.get_close_matches(last, tails, n=limit, cutoff=0.6)]
    return [by_path[path] for path in close]


def _page_number() -> int:
    values = request.args.getlist("page")
    if not values:
        return 1
    if len(values) > 1 or not _PAGE_NUMBER.fullmatch(values[0]):
        raise BadRequest("page moet één positief geheel getal zijn, zoals ?page=2")
    return int(values[0])


def _error_page(error: HTTPException) -> BaseResponse:
    if request_ctx.url_adapter is None:
        # Werkzeug refused the request's Host (a 400), so Flask has no URL adapter and url_for
        # in the page would fail: bind one to the configured site URL, where links come from.
        site = urlsplit(_service().settings.site_url)
        request_ctx.url_adapter = current_app.url_map.bind(
            site.netloc, script_name=site.path or "/", url_scheme=site.scheme
        )
    response = error.get_response()  # keeps headers such as Allow on a 405
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = allow_header(error.valid_methods)
    response.set_data(
        render_template(
            "error.html",
            code=error.code,
            title=errorpages.title(error.code),
            message=errorpages.message(error),
            suggestions=getattr(error, "suggestions", ()),
        )
    )
    response.content_type = "text/html; charset=utf-8"
    # Scripts on other sites (embed.js) read feeds: they must see a feed's 404 as a 404, not
    # as a CORS failure. Every error page gets it, since the static export serves one 404 page
    # for every path; an error page is public and holds nothing worth keeping from scripts.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# Allow names the methods in this order, not in the order Werkzeug collected them (a set's,
# which changes with each process's hash seed): every worker, and the export's nginx, send the
# same header.
_METHOD_ORDER = {
    method: place
    for place, method in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
}


def allow_header(methods: Iterable[str]) -> str:
    """The value of ``Allow`` for ``methods``, in :data:`_METHOD_ORDER` (others after, by name)."""
    last = len(_METHOD_ORDER)
    return ", ".join(sorted(set(methods), key=lambda m: (_METHOD_ORDER.get(m, last), m)))


def _security_headers(response: Response) -> Response:
    headers = response.headers
    wanted = _security_headers_for(headers.get("Content-Type", ""))
    # The names present, lowered once: Headers.setdefault scans and lowers every header for
    # each it sets (twice), and every response passes through here.
    present = {name.lower() for name, _ in headers.items()}
    for header, value in wanted:
        if header.lower() not in present:
            headers.add(header, value)
    return response


@functools.lru_cache(maxsize=64)
def _security_headers_for(content_type: str) -> tuple[tuple[str, str], ...]:
    """The headers a response of ``content_type`` gets; decided once per content type, since
    every response, feeds included, passes through here."""
    mimetype = content_type.partition(";")[0].strip().lower()
    headers = [("X-Content-Type-Options", "nosniff")]
    if mimetype == "text/html":
        headers += _HTML_SECURITY_HEADERS.items()
    elif mimetype.endswith(("/xml", "+xml", "x-opml")):
        headers.append(("Content-Security-Policy", _XML_CONTENT_SECURITY_POLICY))
    return tuple(headers)

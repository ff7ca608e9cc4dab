"""HTTP: routes, headers and status codes. Everything else is asked of the store and publication.

Turns "not found" into 404 and bad parameters into 400; nothing a client sends reaches a 500.
"""

from __future__ import annotations

import functools
import re

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, PreconditionFailed
from werkzeug.wrappers import Response as BaseResponse

from feedsvc.articles.dates import format_dutch_date
from feedsvc.feeds.builder import body_html
from feedsvc.feeds.catalog import Catalog, CategoryNode, Feed, FeedKind
from feedsvc.feeds.compression import IDENTITY, PREFERENCE
from feedsvc.feeds.publication import RenderedFeed, UnknownFeedError
from feedsvc.feeds.urls import article_path, embed_path, feed_page_path, feed_path
from feedsvc.feeds.writers import FORMATS
from feedsvc.runtime import Runtime
from feedsvc.settings import Settings
from feedsvc.web import embed

bp = Blueprint("feedsvc", __name__)

_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_HTML_SECURITY_HEADERS = {
    # Scripts and styles only from files of this site (no inline code, so nothing injected
    # runs); frames only of this site's own widgets, for the embed preview.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
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
    app.register_error_handler(HTTPException, _error_page)
    app.after_request(_security_headers)
    app.jinja_env.globals.update(
        feed_formats=FORMATS,
        feed_path=feed_path,
        feed_page_path=feed_page_path,
        article_path=article_path,
        embed_path=embed_path,
        site_url=settings.url,
        site_title=settings.site_title,
        site_description=settings.site_description,
    )
    app.jinja_env.filters["dutch_date"] = format_dutch_date
    app.jinja_env.filters["body_html"] = body_html
    app.jinja_env.filters["arrows"] = _arrows


def _arrows(label: str) -> str:
    """``Nieuws -> Informatief`` as people read it: ``Nieuws › Informatief``."""
    return label.replace(" -> ", " › ")


def _service() -> Runtime:
    service: Runtime = current_app.extensions["feedsvc"]
    return service


@bp.get("/")
def index() -> str:
    catalog = _service().catalog
    return render_template(
        "index.html",
        catalog=catalog,
        feed=catalog.all_feed,
        latest=catalog.articles[:10],
    )


@bp.get("/feeds/<path:name>")
def feed(name: str) -> BaseResponse:
    stem, dot, extension = name.rpartition(".")
    if not dot or extension not in FORMATS:
        raise NotFound(f"Onbekend feedformaat; kies .rss, .atom of .json ({name!r})")
    page = _page_number()
    service = _service()
    publication = service.publication  # read once: one consistent snapshot per request
    if page == 1 and "page" in request.args:
        # One URL per page: the first page's canonical URL has no page parameter.
        feed_ = publication.catalog.feeds.get(stem)
        if feed_ is None:
            raise NotFound(f"Geen feed {stem!r}")
        return redirect(feed_path(feed_, extension), code=301)
    try:
        rendered = publication.feed(stem, extension, page)
    except UnknownFeedError as error:
        raise NotFound(str(error)) from None
    browser_type = FORMATS[extension].browser_content_type
    return _send(rendered, service.settings, feed=True, browser_content_type=browser_type)


@bp.get("/feeds.opml")
def opml() -> BaseResponse:
    service = _service()
    return _send(service.publication.opml(), service.settings, feed=False)


@bp.get("/feeds-alle.opml")
def opml_directory() -> BaseResponse:
    service = _service()
    return _send(service.publication.opml(directory=True), service.settings, feed=False)


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
    labelled so that it displays them. That representation has ETags of its own, and
    ``Vary: Accept`` keeps caches from handing one client's representation to the other.
    """
    coding = request.accept_encodings.best_match(PREFERENCE, default=IDENTITY) or IDENTITY
    variant = rendered.variants[coding]
    etag, content_type, vary = variant.etag, rendered.content_type, "Accept-Encoding"
    if browser_content_type is not None:
        vary = "Accept, Accept-Encoding"
        if _prefers_html(content_type):
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
    response = Response(variant.body, headers=headers, content_type=content_type)
    # Werkzeug decides from the ETag and Last-Modified just set: If-None-Match (weak comparison)
    # over If-Modified-Since (RFC 9110 section 13.2.2), and a 304 goes without the body and the
    # entity headers. A failed If-Match is a 412, which Werkzeug would send with the feed's body.
    response.make_conditional(request)
    if response.status_code == 412:
        raise PreconditionFailed("If-Match noemt deze versie niet")
    return response


def _prefers_html(content_type: str) -> bool:
    """Whether the client ranks HTML strictly above ``content_type``: a browser, not a reader.

    Browsers navigate with ``Accept: text/html,…,*/*;q=0.8``; readers send the feed types,
    ``*/*`` or nothing, and a tie goes to the feed's own type.
    """
    accept = request.accept_mimetypes
    media_type = content_type.partition(";")[0].strip()
    return accept.quality("text/html") > accept.quality(media_type)


@bp.get("/artikelen/<path:name>")
def article(name: str) -> str:
    article_id = _strip_html_suffix(name)
    catalog = _service().catalog  # read once: a reload mid-request must not mix two catalogs
    found = catalog.by_id.get(article_id)
    if found is None:
        raise NotFound(f"Geen artikel {article_id!r}")
    lineage = [catalog.feeds[f"categorie/{c.slug_path}"] for c in found.category.lineage()]
    source_feed = catalog.feeds.get(f"bron/{found.source.slug}") if found.source else None
    return render_template("article.html", article=found, lineage=lineage, source_feed=source_feed)


@bp.get("/categorie/<path:name>")
def category_page(name: str) -> str:
    return _feed_page(FeedKind.CATEGORY, name)


@bp.get("/bron/<path:name>")
def source_page(name: str) -> str:
    return _feed_page(FeedKind.SOURCE, name)


def _feed_page(kind: FeedKind, name: str) -> str:
    service = _service()
    catalog = service.catalog  # read once: a reload mid-request must not mix two catalogs
    shown = _feed_or_404(catalog, f"{kind.value}/{_strip_html_suffix(name)}")
    size = service.settings.page_size
    lineage: list[Feed] = []
    children: tuple[CategoryNode, ...] = ()
    if shown.category is not None:
        lineage = [catalog.feeds[f"categorie/{c.slug_path}"] for c in shown.category.lineage()]
        children = _subcategories(catalog.category_tree, shown)
    return render_template(
        "feed.html",
        feed=shown,
        articles=shown.articles[:size],
        lineage=lineage,
        children=children,
    )


def _subcategories(nodes: tuple[CategoryNode, ...], feed: Feed) -> tuple[CategoryNode, ...]:
    for node in nodes:
        if node.feed is feed:
            return node.children
        found = _subcategories(node.children, feed)
        if found:
            return found
    return ()


def _feed_or_404(catalog: Catalog, path: str) -> Feed:
    found = catalog.feeds.get(path)
    if found is None:
        raise NotFound(f"Geen feed {path!r}")
    return found


def _strip_html_suffix(name: str) -> str:
    if not name.endswith(".html"):
        raise NotFound(f"Geen pagina {name!r}")
    return name[: -len(".html")]


def _page_number() -> int:
    values = request.args.getlist("page")
    if not values:
        return 1
    if len(values) > 1 or not _PAGE_NUMBER.fullmatch(values[0]):
        raise BadRequest("page moet één positief geheel getal zijn, zoals ?page=2")
    return int(values[0])


def _error_page(error: HTTPException) -> BaseResponse:
    response = error.get_response()  # keeps headers such as Allow on a 405
    response.set_data(
        render_template("error.html", code=error.code, name=error.name, message=error.description)
    )
    response.content_type = "text/html; charset=utf-8"
    return response


def _security_headers(response: Response) -> Response:
    for header, value in _security_headers_for(response.headers.get("Content-Type", "")):
        response.headers.setdefault(header, value)
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

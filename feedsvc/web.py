"""HTTP: routes, headers and status codes. Everything else is asked of the store and publication.

Turns "not found" into 404 and bad parameters into 400; nothing a client sends reaches a 500.
"""

from __future__ import annotations

import re
from datetime import datetime

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
from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.http import http_date
from werkzeug.wrappers import Response as BaseResponse

from feedsvc.catalog import Feed, FeedKind
from feedsvc.compression import IDENTITY, PREFERENCE
from feedsvc.dutchdates import format_dutch_date
from feedsvc.formats import FORMATS
from feedsvc.formats.common import body_html
from feedsvc.publication import RenderedFeed, UnknownFeedError
from feedsvc.service import FeedService
from feedsvc.settings import Settings
from feedsvc.urls import article_path, feed_page_path, feed_path

bp = Blueprint("feedsvc", __name__)

_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_HTML_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def init_app(app: Flask, service: FeedService) -> None:
    """Wire the routes, error pages and template helpers into ``app``."""
    settings = service.settings
    app.extensions["feedsvc"] = service
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _error_page)
    app.after_request(_security_headers)
    if settings.watch_content:
        # Started on the first request of each process: threads do not survive gunicorn's fork.
        app.before_request(service.ensure_watching)
    app.jinja_env.globals.update(
        feed_formats=FORMATS,
        feed_path=feed_path,
        feed_page_path=feed_page_path,
        article_path=article_path,
        site_url=settings.url,
        site_title=settings.site_title,
    )
    app.jinja_env.filters["dutch_date"] = format_dutch_date
    app.jinja_env.filters["body_html"] = body_html


def _service() -> FeedService:
    service: FeedService = current_app.extensions["feedsvc"]
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
    return _send(rendered, service.settings, feed=True)


@bp.get("/feeds.opml")
def opml() -> BaseResponse:
    service = _service()
    return _send(service.publication.opml(), service.settings, feed=False)


@bp.get("/healthz")
def healthz() -> BaseResponse:
    response = jsonify(_service().health())
    response.headers["Cache-Control"] = "no-store"
    return response


def _send(rendered: RenderedFeed, settings: Settings, *, feed: bool) -> BaseResponse:
    """The rendered bytes in the coding the client prefers, or 304 if it has them already."""
    coding = request.accept_encodings.best_match(PREFERENCE, default=IDENTITY) or IDENTITY
    variant = rendered.variants[coding]
    headers = {
        "ETag": variant.etag,
        "Last-Modified": http_date(rendered.last_modified),
        "Cache-Control": f"public, max-age={settings.cache_max_age}",
        "Vary": "Accept-Encoding",
    }
    if feed:
        headers["Access-Control-Allow-Origin"] = "*"
        if settings.websub_hub:
            self_url = settings.url(rendered.path)
            headers["Link"] = f'<{settings.websub_hub}>; rel="hub", <{self_url}>; rel="self"'
    if _not_modified(variant.etag, rendered.last_modified):
        return Response(status=304, headers=headers, content_type=rendered.content_type)
    if coding != IDENTITY:
        headers["Content-Encoding"] = coding
    return Response(variant.body, headers=headers, content_type=rendered.content_type)


def _not_modified(etag: str, last_modified: datetime) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if "If-None-Match" in request.headers:
        candidates = request.if_none_match
        return candidates.star_tag or candidates.contains_weak(etag.strip('"'))
    since = request.if_modified_since  # None when absent or malformed: then ignored
    return since is not None and last_modified <= since


@bp.get("/artikelen/<path:name>")
def article(name: str) -> str:
    article_id = _strip_html_suffix(name)
    found = _service().catalog.by_id.get(article_id)
    if found is None:
        raise NotFound(f"Geen artikel {article_id!r}")
    catalog = _service().catalog
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
    shown = _feed_or_404(f"{kind.value}/{_strip_html_suffix(name)}")
    size = _service().settings.page_size
    return render_template("feed.html", feed=shown, articles=shown.articles[:size])


def _feed_or_404(path: str) -> Feed:
    found = _service().catalog.feeds.get(path)
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
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        for header, value in _HTML_SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
    return response

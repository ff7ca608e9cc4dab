"""Embedding feeds in other sites: an iframe widget per feed, and a script that renders a feed's
latest items into the host page itself from the JSON Feed. HTTP concerns only, like ``web``.

Both widgets share one stylesheet (``assets/widget.css``): the iframe page carries it inline,
allowed by its hash in the page's Content-Security-Policy; the script carries it as a string
and puts it in a shadow root, where the host page's CSS cannot reach. Feed text only ever
becomes text: Jinja escapes it in the iframe, the script sets ``textContent``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.wrappers import Response as BaseResponse

from feedsvc.feeds.catalog import Feed
from feedsvc.feeds.publication import SITE_FILE
from feedsvc.feeds.urls import EMBED_SCRIPT_PATH, embed_path, feed_path
from feedsvc.feeds.writers import JSON_FEED
from feedsvc.runtime import Runtime
from feedsvc.settings import Settings
from feedsvc.web import snapshot
from feedsvc.web.pagecache import send_dated

bp = Blueprint("embed", __name__)

# Sources of what the embed routes serve; not under static/, since they are served transformed.
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
CSS_PLACEHOLDER = '"__WIDGET_CSS__"'  # the string literal in embed.js that gets the CSS
MAX_COUNT = 50
DEFAULT_COUNT = 5
COMPACT, FULL = "compact", "volledig"
RESIZE_SCRIPT_PATH = "/embed-hoogte.js"
ORIGIN_PLACEHOLDER = '"__SITE_ORIGIN__"'  # the string literal in hoogte.js that gets the origin
_YES = frozenset({"ja", "1", "true"})
_NO = frozenset({"nee", "0", "false"})


@dataclass(frozen=True, slots=True)
class WidgetOptions:
    """What a widget shows: the query of ``/embed/...`` or the ``data-*`` of the script tag."""

    count: int = DEFAULT_COUNT
    style: str = FULL
    summaries: bool = True
    dates: bool = True
    sources: bool = True

    @property
    def height(self) -> int:
        """The iframe's height in CSS pixels: the widget's rows have fixed heights (see
        ``assets/widget.css``, whose numbers these are), so it fits at every width."""
        base, item = row_heights(self)
        return base + self.count * item

    @property
    def query(self) -> str:
        """The options as the iframe's query, leaving out what is the default."""
        query = f"aantal={self.count}"
        if self.style != FULL:
            query += f"&stijl={self.style}"
        defaults = WidgetOptions.defaults(self.style, self.count)
        for name, value, default in (
            ("samenvatting", self.summaries, defaults.summaries),
            ("datum", self.dates, defaults.dates),
            ("bron", self.sources, defaults.sources),
        ):
            if value != default:
                query += f"&{name}={'ja' if value else 'nee'}"
        return query

    @classmethod
    def defaults(cls, style: str = FULL, count: int = DEFAULT_COUNT) -> WidgetOptions:
        full = style == FULL
        return cls(count=count, style=style, summaries=full, dates=True, sources=full)

    @classmethod
    def from_query(cls, args: MultiDict[str, str]) -> WidgetOptions:
        """Read ``aantal``, ``stijl``, ``samenvatting``, ``datum`` and ``bron``; others are ignored.

        Raises :class:`BadRequest` naming the parameter when a value is not understood. The
        compact style leaves out summaries and sources unless they are asked for.
        """
        style = _single(args, "stijl") or FULL
        if style not in (COMPACT, FULL):
            raise BadRequest(f"stijl moet {FULL} of {COMPACT} zijn, niet {style!r}")
        full = style == FULL
        return cls(
            count=_count(_single(args, "aantal")),
            style=style,
            summaries=_flag(args, "samenvatting", default=full),
            dates=_flag(args, "datum", default=True),
            sources=_flag(args, "bron", default=full),
        )


def row_heights(options: WidgetOptions) -> tuple[int, int]:
    """(everything but the items, one item) in CSS pixels, for a widget with ``options``.

    Full: border and padding 26, heading 32 + 4, footer 6 + 27, and per item padding 20, a
    border 1 (none under the last), title 42, meta 21, summary 67. Compact: border and padding
    18, heading 27 + 4, footer 4 + 25, per item padding 10, a row of two lines 40, summary 38.
    """
    if options.style == COMPACT:
        return 18 + 31 + 29, 10 + 40 + (38 if options.summaries else 0)
    item = 20 + 1 + 42 + (21 if options.dates or options.sources else 0)
    return 26 + 36 + 33 - 1, item + (67 if options.summaries else 0)


@dataclass(frozen=True, slots=True)
class EmbedAssets:
    """The widget stylesheet and the embed script, read once at start-up."""

    css: str
    css_hash: str  # for CSP: 'sha256-…'
    script: bytes
    resize_source: str  # hoogte.js, with ORIGIN_PLACEHOLDER for the site's origin
    # When the sources of each script last changed: the scripts' dates when first served.
    script_date: datetime
    resize_date: datetime

    @classmethod
    def load(cls, assets_dir: Path = ASSETS_DIR) -> EmbedAssets:
        css = (assets_dir / "widget.css").read_text("utf-8")
        source = (assets_dir / "embed.js").read_text("utf-8")
        if source.count(CSS_PLACEHOLDER) != 1:
            raise RuntimeError(f"embed.js must contain {CSS_PLACEHOLDER} exactly once")
        script = source.replace(CSS_PLACEHOLDER, json.dumps(css)).encode("utf-8")
        resize_source = (assets_dir / "hoogte.js").read_text("utf-8")
        if resize_source.count(ORIGIN_PLACEHOLDER) != 1:
            raise RuntimeError(f"hoogte.js must contain {ORIGIN_PLACEHOLDER} exactly once")
        return cls(
            css=css,
            css_hash=f"'sha256-{_b64_sha256(css.encode('utf-8'))}'",
            script=script,
            resize_source=resize_source,
            script_date=_mtime(assets_dir / "embed.js", assets_dir / "widget.css"),
            resize_date=_mtime(assets_dir / "hoogte.js"),
        )


@dataclass(frozen=True, slots=True)
class EmbedCode:
    """Copy-paste HTML for embedding one feed, both ways; ``resize`` is the optional script
    that fits iframes to their content."""

    iframe: str
    resize: str
    script: str
    options: WidgetOptions


# The style attribute of the suggested iframe code. The site's own pages show that very code
# as a preview, and allow this one inline style by its hash (CSP 'unsafe-hashes').
IFRAME_STYLE = "border:0"
IFRAME_STYLE_HASH = (
    f"'sha256-{base64.b64encode(hashlib.sha256(IFRAME_STYLE.encode()).digest()).decode()}'"
)


def init_app(app: Flask) -> None:
    """Register the embed routes and the ``embed_code`` template helper."""
    app.extensions["feedsvc.web.embed"] = EmbedAssets.load()
    app.register_blueprint(bp)
    app.jinja_env.globals["embed_code"] = embed_code


def embed_code(feed: Feed, options: WidgetOptions | None = None) -> EmbedCode:
    """The suggested embed code for ``feed``, with absolute URLs from the settings.

    ``static/configurator.js`` builds the same code in the browser when the options change.
    """
    options = options or WidgetOptions.defaults()
    settings = _service().settings
    title = html.escape(f"Nieuws van {feed.title}")
    iframe_url = html.escape(settings.url(embed_path(feed)) + "?" + options.query)
    script_url = html.escape(settings.url(EMBED_SCRIPT_PATH))
    json_url = html.escape(settings.url(feed_path(feed, JSON_FEED.extension)))
    script_style = "" if options.style == FULL else f' data-stijl="{options.style}"'
    return EmbedCode(
        iframe=(
            f'<iframe src="{iframe_url}" title="{title}" width="100%" '
            f'height="{options.height}" loading="lazy" style="{IFRAME_STYLE}"></iframe>'
        ),
        resize=f'<script src="{html.escape(settings.url(RESIZE_SCRIPT_PATH))}" async></script>',
        script=(
            f'<script src="{script_url}" data-feed="{json_url}" '
            f'data-aantal="{options.count}"{script_style} async></script>'
        ),
        options=options,
    )


@bp.get("/embed/<path:name>")
def widget(name: str) -> BaseResponse:
    """The iframe widget: the feed's latest items as a small page any site may frame."""
    if not name.endswith(".html"):
        raise NotFound("Dit is geen adres van een widget; gebruik bijvoorbeeld /embed/all.html")
    path = name[: -len(".html")]
    service = _service()
    feed = snapshot.catalog().feeds.get(path)
    if feed is None:
        raise NotFound("Deze feed bestaat niet (meer); kies er een op de site.")
    options = WidgetOptions.from_query(request.args)
    body = render_template(
        "embed.html",
        feed=feed,
        articles=feed.articles[: options.count],
        options=options,
        widget_css=_assets().css,
    )
    response = Response(body, content_type="text/html; charset=utf-8")
    _widget_headers(response, service.settings)
    # Keyed by the options as the page's own code writes them: one date per representation.
    return send_dated(response, feed.updated, key=f"{embed_path(feed)}?{options.query}")


@bp.get(EMBED_SCRIPT_PATH)
def script() -> BaseResponse:
    """The script that renders a feed into another site's page (see ``assets/embed.js``)."""
    assets = _assets()
    response = Response(assets.script, content_type="text/javascript; charset=utf-8")
    response.headers.update(
        {
            "Access-Control-Allow-Origin": "*",
            # Lets pages that require it (Cross-Origin-Embedder-Policy) load the script too.
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Cache-Control": f"public, max-age={_service().settings.cache_max_age}",
        }
    )
    return send_dated(response, assets.script_date, kind=SITE_FILE)


@bp.get(RESIZE_SCRIPT_PATH)
def resize_script() -> BaseResponse:
    """The optional script that fits the iframes to their content (see ``assets/hoogte.js``)."""
    settings = _service().settings
    parts = urlsplit(settings.site_url)
    origin = json.dumps(f"{parts.scheme}://{parts.netloc}")
    body = _assets().resize_source.replace(ORIGIN_PLACEHOLDER, origin)
    response = Response(body, content_type="text/javascript; charset=utf-8")
    response.headers.update(
        {
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Cache-Control": f"public, max-age={settings.cache_max_age}",
        }
    )
    return send_dated(response, _assets().resize_date, kind=SITE_FILE)


@bp.errorhandler(HTTPException)
def _widget_error(error: HTTPException) -> BaseResponse:
    """Errors of the widget stay frameable, so whoever embeds it sees what went wrong."""
    response = error.get_response()
    response.set_data(
        render_template("embed.html", error=error, feed=None, widget_css=_assets().css)
    )
    response.content_type = "text/html; charset=utf-8"
    _widget_headers(response, _service().settings, cache=False)
    return response


def _widget_headers(response: BaseResponse, settings: Settings, *, cache: bool = True) -> None:
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self'; style-src {_assets().css_hash}; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors *"
    )
    response.headers["Cache-Control"] = (
        f"public, max-age={settings.cache_max_age}" if cache else "no-store"
    )


def _single(args: MultiDict[str, str], name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"{name} mag maar één keer voorkomen")
    return values[0].strip().lower() if values else None


def _count(value: str | None) -> int:
    if value is None:
        return DEFAULT_COUNT
    if not (
        value.isascii() and value.isdigit() and len(value) <= 3 and 1 <= int(value) <= MAX_COUNT
    ):
        raise BadRequest(f"aantal moet een geheel getal van 1 tot en met {MAX_COUNT} zijn")
    return int(value)


def _flag(args: MultiDict[str, str], name: str, *, default: bool) -> bool:
    value = _single(args, name)
    if value is None or value == "":
        return default
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise BadRequest(f"{name} moet ja of nee zijn, niet {value!r}")


def _mtime(*paths: Path) -> datetime:
    return datetime.fromtimestamp(max(path.stat().st_mtime for path in paths), UTC)


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _service() -> Runtime:
    service: Runtime = current_app.extensions["feedsvc"]
    return service


def _assets() -> EmbedAssets:
    assets: EmbedAssets = current_app.extensions["feedsvc.web.embed"]
    return assets

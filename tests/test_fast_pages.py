"""Pages are cheap to serve: rendered once per content change, compressed once, revalidated
with ETags; static files carry their hash in the URL and may be cached for a year."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path

import brotli
import deflate
import lxml.html
import pytest
from conftest import BUNDLED_CONTENT, ArticleWriter
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.feeds.compression import (
    BROTLI_QUALITY,
    GZIP_LEVEL,
    LATER_PAGE_BROTLI_QUALITY,
    LATER_PAGE_GZIP_LEVEL,
)
from feedsvc.web import routes

STATIC = Path(routes.__file__).resolve().parent / "static"
PAGES = [
    "/",
    "/categorie/nieuws.html",
    "/bron/navo.html",
    "/berichten/pagina-1.html",
    "/artikelen/2024/000_3a5bf95db61d80b1.html",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_compressed_and_revalidated(client: FlaskClient, path: str) -> None:
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    squeezed = client.get(path, headers={"Accept-Encoding": "br, gzip"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == plain.data
    etags = {r.headers["ETag"] for r in (plain, zipped, squeezed)}
    assert len(etags) == 3  # one validator per representation
    again = client.get(
        path, headers={"If-None-Match": zipped.headers["ETag"], "Accept-Encoding": "gzip"}
    )
    assert again.status_code == 304
    assert again.data == b""
    other = client.get(
        path, headers={"If-None-Match": plain.headers["ETag"], "Accept-Encoding": "gzip"}
    )
    assert other.status_code == 200  # another coding's ETag does not match


def test_a_page_is_rendered_once_per_change(
    make_app: Callable[..., Flask],
    copy_of_bundled_content: Path,
    write_article: ArticleWriter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    client = app.test_client()
    rendered: list[str] = []
    original = routes.render_template

    def counting(name: str, **context: object) -> str:
        rendered.append(name)
        return original(name, **context)

    monkeypatch.setattr(routes, "render_template", counting)
    first = client.get("/categorie/nieuws.html")
    for _ in range(3):
        assert client.get("/categorie/nieuws.html").data == first.data
    assert rendered == ["feed.html"]
    write_article(
        "2026/nieuw.txt", title="Een nieuw bericht", category="Nieuws", published="30-11-2026"
    )
    app.extensions["feedsvc"].refresh()
    changed = client.get("/categorie/nieuws.html")
    assert b"Een nieuw bericht" in changed.data
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert rendered == ["feed.html", "feed.html"]


def test_static_urls_carry_the_files_hash_and_are_cached_long(client: FlaskClient) -> None:
    page = lxml.html.fromstring(client.get("/").data)
    urls = [e.get("href") for e in page.iter("link") if e.get("rel") == "stylesheet"]
    urls += [e.get("src") for e in page.iter("script") if e.get("src")]
    assert urls
    for url in urls:
        path, _, query = url.partition("?")
        name = path.removeprefix("/static/")
        digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()
        assert query == f"v={digest[:12]}", url
        response = client.get(url)
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]
        assert "max-age=31536000" in response.headers["Cache-Control"]
        response.close()
        unversioned = client.get(path)  # e.g. feed.css, named in the feeds themselves
        assert "immutable" not in unversioned.headers.get("Cache-Control", "")
        unversioned.close()
        stale = client.get(path + "?v=0000")
        assert "immutable" not in stale.headers.get("Cache-Control", "")
        stale.close()


def test_favicon_ico(make_app: Callable[..., Flask]) -> None:
    client = make_app(BUNDLED_CONTENT).test_client()
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert response.data[22:30] == b"\x89PNG\r\n\x1a\n"  # holding a PNG
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    response.close()


def test_a_templates_own_globals_stay_its_own(bundled_app: Flask) -> None:
    """Templates see the environment's globals as they were when loaded, each in a dict of its
    own (feedsvc.web.app.TemplateEnvironment): globals given to one template reach no other,
    nor the environment."""
    env = bundled_app.jinja_env
    own = env.from_string("{{ site_title }} {{ marker }}", globals={"marker": "eigen"})
    other = env.from_string("{{ site_title }} {{ marker is defined }}")
    title = env.globals["site_title"]
    assert own.render() == f"{title} eigen"
    assert other.render() == f"{title} False"
    assert "marker" not in env.globals
    own.globals["marker"] = "veranderd"
    assert own.render() == f"{title} veranderd"
    assert other.render() == f"{title} False"


@pytest.mark.parametrize(
    ("path", "gzip_level", "brotli_quality"),
    [
        # a first page at the levels of a feed's first page, later pages at a later page's
        ("/berichten/pagina-1.html", GZIP_LEVEL, BROTLI_QUALITY),
        ("/berichten/pagina-2.html", LATER_PAGE_GZIP_LEVEL, LATER_PAGE_BROTLI_QUALITY),
        ("/categorie/nieuws/pagina-2.html", LATER_PAGE_GZIP_LEVEL, LATER_PAGE_BROTLI_QUALITY),
    ],
)
def test_a_listings_later_pages_are_compressed_cheaply(
    make_app: Callable[..., Flask], path: str, gzip_level: int, brotli_quality: int
) -> None:
    client = make_app(BUNDLED_CONTENT, PAGE_SIZE=5).test_client()
    plain = client.get(path, headers={"Accept-Encoding": "identity"}).data
    squeezed = client.get(path, headers={"Accept-Encoding": "br"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert squeezed.data == brotli.compress(plain, quality=brotli_quality)
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.data == bytes(deflate.gzip_compress(plain, gzip_level))

"""Embedding: the iframe widget of every feed, its options, its headers, the embed script, and the
copy-paste code on the pages. (test_browser.py runs both widgets on another site in Chromium.)"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from conftest import SITE_URL, ArticleWriter
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.urls import (
    EMBED_SCRIPT_PATH,
    article_path,
    embed_page_path,
    embed_path,
    feed_page_path,
    feed_path,
)
from feedsvc.web.embed import ASSETS_DIR, CSS_PLACEHOLDER, EmbedAssets

WIDGET = "/embed/categorie/nieuws.html"


def catalog_of(app: Flask) -> Catalog:
    catalog: Catalog = app.extensions["feedsvc"].catalog
    return catalog


def widget(client: FlaskClient, query: str = "", url: str = WIDGET) -> lxml.html.HtmlElement:
    response = client.get(url + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return lxml.html.fromstring(response.data)


def texts(page: lxml.html.HtmlElement, css_class: str) -> list[str]:
    return [element.text_content() for element in page.find_class(css_class)]


# -- the iframe widget ----------------------------------------------------------------------------


def test_every_feed_has_a_frameable_widget(client: FlaskClient, bundled_app: Flask) -> None:
    for feed in catalog_of(bundled_app).feeds.values():
        response = client.get(embed_path(feed))
        assert response.status_code == 200, feed.path
        assert response.content_type == "text/html; charset=utf-8"
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors *" in csp
        assert "'unsafe-inline'" not in csp
        assert "X-Frame-Options" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_widget_shows_the_newest_items(client: FlaskClient, bundled_app: Flask) -> None:
    feed = catalog_of(bundled_app).feeds["categorie/nieuws"]
    page = widget(client)
    assert page.get("lang") == "nl"
    newest = feed.articles[:5]
    assert texts(page, "fw-titel") == [article.title for article in newest]
    assert texts(page, "fw-samenvatting") == [article.summary for article in newest]
    assert texts(page, "fw-bron") == [a.source.name for a in newest if a.source is not None]
    assert [t.get("datetime") for t in page.iter("time")] == [
        a.published.isoformat() for a in newest
    ]
    links = page.find_class("fw-titel")
    assert [a.get("href") for a in links] == [SITE_URL + article_path(a.id) for a in newest]
    for anchor in page.iter("a"):  # opens outside the frame, without handing over the opener
        assert anchor.get("target") == "_blank"
        assert anchor.get("rel") == "noopener"
    heading = page.find_class("fw-kop")[0].find("a")
    assert heading.get("href") == SITE_URL + feed_page_path(feed)
    assert heading.text_content() == "Amstelveenweb: Nieuws"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # (count, style, summaries, dates, sources)
        ("", (5, "volledig", True, True, True)),
        ("?aantal=2", (2, "volledig", True, True, True)),
        ("?aantal=50", (19, "volledig", True, True, True)),  # all the category has
        ("?stijl=compact", (5, "compact", False, True, False)),
        ("?stijl=compact&samenvatting=ja&bron=1", (5, "compact", True, True, True)),
        ("?samenvatting=nee&datum=nee&bron=nee", (5, "volledig", False, False, False)),
        ("?datum=0&aantal=3&stijl=VOLLEDIG", (3, "volledig", True, False, True)),
        ("?onbekend=1&samenvatting=", (5, "volledig", True, True, True)),
    ],
)
def test_widget_options(
    client: FlaskClient, query: str, expected: tuple[int, str, bool, bool, bool]
) -> None:
    count, style, summaries, dates, sources = expected
    page = widget(client, query)
    assert page.find_class("fw")[0].get("class") == f"fw fw-{style}"
    assert len(page.find_class("fw-item")) == count
    assert bool(page.find_class("fw-samenvatting")) is summaries
    assert bool(list(page.iter("time"))) is dates
    assert bool(page.find_class("fw-bron")) is sources


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?aantal=0", "aantal"),
        ("?aantal=51", "aantal"),
        ("?aantal=drie", "aantal"),
        ("?aantal=-1", "aantal"),
        ("?aantal=١", "aantal"),  # an Arabic-Indic digit is a digit, but not one we take
        ("?aantal=" + "9" * 50, "aantal"),
        ("?aantal=2&aantal=3", "aantal"),
        ("?stijl=groot", "stijl"),
        ("?samenvatting=misschien", "samenvatting"),
        ("?datum=2", "datum"),
        ("?bron=%00", "bron"),
    ],
)
def test_bad_widget_options_are_400_and_still_frameable(
    client: FlaskClient, query: str, parameter: str
) -> None:
    response = client.get(WIDGET + query)
    assert response.status_code == 400
    assert parameter in response.get_data(as_text=True)
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "url", ["/embed/categorie/bestaat-niet.html", "/embed/all", "/embed/../feeds/all.rss.html"]
)
def test_unknown_widgets_are_404(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.content_type == "text/html; charset=utf-8"


def test_the_inline_style_is_allowed_by_its_hash_and_nothing_else_is_inline(
    client: FlaskClient,
) -> None:
    response = client.get(WIDGET)
    page = lxml.html.fromstring(response.data)
    styles = list(page.iter("style"))
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].text.encode()).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}';" in csp
    assert "script-src 'self';" in csp  # only the height reporter, a file of this site
    scripts = list(page.iter("script"))
    assert [script.get("src").partition("?")[0] for script in scripts] == [
        "/static/widget-hoogte.js"
    ]
    assert not any((script.text or "").strip() for script in scripts)
    assert not [e for e in page.iter() if any(a.startswith("on") or a == "style" for a in e.attrib)]


def test_the_widget_is_cacheable_and_conditional(client: FlaskClient) -> None:
    response = client.get(WIDGET)
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    again = client.get(WIDGET, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.get(WIDGET + "?aantal=3").headers["ETag"] != etag


def test_hostile_text_in_the_widget_is_text(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    title = '<script>alert(1)</script><img src=x onerror="alert(1)">'
    write_article("x.txt", title=title, source='<b onclick="alert(1)">', body=("<svg onload=x>",))
    response = make_app().test_client().get("/embed/all.html")
    text = response.get_data(as_text=True)
    assert "<script>alert" not in text
    assert "<img src=x" not in text
    assert '<b onclick="' not in text
    page = lxml.html.fromstring(response.data)
    assert texts(page, "fw-titel") == [title]
    assert texts(page, "fw-bron") == ['<b onclick="alert(1)">']
    assert texts(page, "fw-samenvatting") == ["<svg onload=x>"]


# -- the script -----------------------------------------------------------------------------------


def test_the_embed_script_is_served_for_any_site(client: FlaskClient) -> None:
    response = client.get(EMBED_SCRIPT_PATH)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(EMBED_SCRIPT_PATH, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_script_carries_the_widget_stylesheet(client: FlaskClient) -> None:
    script = client.get(EMBED_SCRIPT_PATH).get_data(as_text=True)
    css = (ASSETS_DIR / "widget.css").read_text("utf-8")
    assert CSS_PLACEHOLDER not in script
    assert f"var CSS = {json.dumps(css)};" in script


def test_the_script_never_turns_feed_data_into_markup() -> None:
    """A static guard: the script builds DOM with textContent only, and never reads HTML."""
    source = (ASSETS_DIR / "embed.js").read_text("utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.DOTALL)  # comments may mention them
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
        'setAttribute("href"',
        "createContextualFragment",
        "DOMParser",
        "content_html",
    ):
        assert sink not in code, sink
    assert "textContent" in code
    assert "attachShadow" in code


def test_assets_refuse_a_script_without_its_placeholder(tmp_path: Path) -> None:
    (tmp_path / "widget.css").write_text(".fw {}", "utf-8")
    (tmp_path / "embed.js").write_text("var CSS = '';", "utf-8")
    with pytest.raises(RuntimeError, match="__WIDGET_CSS__"):
        EmbedAssets.load(tmp_path)


# -- the embed code on the pages ------------------------------------------------------------------


def embed_snippets(client: FlaskClient, url: str) -> list[str]:
    page = lxml.html.fromstring(client.get(url).data)
    blocks = page.find_class("code-block")
    snippets = [block.find("pre").text_content() for block in blocks]
    copied = [block.find("button").get("data-copy") for block in blocks]
    assert copied == snippets  # the copy button copies exactly what is shown
    return snippets


@pytest.mark.parametrize(
    "path", ["all", "categorie/nieuws/gemeente", "categorie/sport", "bron/gemeente-amstelveen"]
)
def test_feed_pages_show_embed_code_for_both_ways(
    client: FlaskClient, bundled_app: Flask, path: str
) -> None:
    feed = catalog_of(bundled_app).feeds[path]
    # The feed's page leads to its webmasters' page, which has the code.
    feed_page = lxml.html.fromstring(client.get(feed_page_path(feed)).data)
    assert embed_page_path(feed) in feed_page.get_element_by_id("insluiten").xpath(".//a/@href")
    iframe, resize, script = embed_snippets(client, embed_page_path(feed))
    frame = lxml.html.fragment_fromstring(iframe)
    assert frame.tag == "iframe"
    assert frame.get("src") == SITE_URL + embed_path(feed) + "?aantal=5"
    assert frame.get("title") == f"Nieuws van {feed.title}"
    assert int(frame.get("height")) > 5 * 100  # five full items (measured in test_browser.py)
    resizer = lxml.html.fragment_fromstring(resize)
    assert resizer.get("src") == SITE_URL + "/embed-hoogte.js"
    assert client.get("/embed-hoogte.js").status_code == 200
    tag = lxml.html.fragment_fromstring(script)
    assert tag.tag == "script"
    assert tag.get("src") == SITE_URL + EMBED_SCRIPT_PATH
    assert tag.get("data-feed") == SITE_URL + feed_path(feed, "json")
    assert tag.get("async") is not None
    # Both point at things that exist.
    assert client.get(frame.get("src").removeprefix(SITE_URL)).status_code == 200
    assert client.get(tag.get("data-feed").removeprefix(SITE_URL)).status_code == 200


def test_the_previews_are_the_offered_code(client: FlaskClient, bundled_app: Flask) -> None:
    feed = catalog_of(bundled_app).feeds["categorie/nieuws"]
    page = lxml.html.fromstring(client.get(embed_page_path(feed)).data)
    offered_iframe = page.get_element_by_id("code-iframe").text_content()
    offered_script = page.get_element_by_id("code-script").text_content()
    preview_iframe = page.get_element_by_id("voorbeeld-iframe")[0]
    preview_script = page.get_element_by_id("voorbeeld-script")[0]
    assert dict(preview_iframe.attrib) == dict(lxml.html.fragment_fromstring(offered_iframe).attrib)
    assert dict(preview_script.attrib) == dict(lxml.html.fragment_fromstring(offered_script).attrib)


def test_the_resize_script_listens_only_to_the_sites_origin(client: FlaskClient) -> None:
    response = client.get("/embed-hoogte.js")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    text = response.get_data(as_text=True)
    assert f'var ORIGIN = "{SITE_URL}";' in text
    assert "event.origin !== ORIGIN" in text
    assert "contentWindow === event.source" in text


def test_an_unknown_webmasters_page_is_404(client: FlaskClient) -> None:
    assert client.get("/insluiten/categorie/bestaat-niet.html").status_code == 404

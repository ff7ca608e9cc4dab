"""The site as people meet it, in a real browser: headless Chromium (Debian's ``chromium``
package) driven by Playwright, against feedsvc served by a real HTTP server on a loopback port,
and a host page that embeds the widgets served from a second loopback port, another origin.

Screenshots go to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from conftest import BUNDLED_CONTENT, REPO, LiveServer, article_text
from feedcheck import assert_valid_atom, assert_valid_rss
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Frame, Page, sync_playwright
from werkzeug.wrappers import Request, Response

from feedsvc import create_app
from feedsvc.articles.model import Article
from feedsvc.feeds.catalog import Catalog, Feed
from feedsvc.feeds.urls import (
    EMBED_SCRIPT_PATH,
    article_path,
    embed_page_path,
    embed_path,
    feed_page_path,
    feed_path,
)
from feedsvc.feeds.writers import FORMATS
from feedsvc.web import embed
from feedsvc.web.embed import EmbedCode

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"

# Hostile text in the newest article: if any of it ran, window.__pwned would be set.
HOSTILE_TITLE = (
    '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script> Gevaarlijke titel'
)
HOSTILE_SOURCE = '<svg onload="window.__pwned=1">Bron'
HOSTILE_BODY = (
    '<script>window.__pwned=1</script> Eerste alinea <b onmouseover="window.__pwned=1">vet</b>.',
    '<a href="javascript:window.__pwned=1">klik hier</a> en '
    '<iframe src="javascript:window.__pwned=1">',
)
HOSTILE_ID = "2026/zz_kwaadaardig"
HOSTILE_CATEGORY = "Nieuws -> Gemeente"

# Everything a page, frame or shadow root must not contain if hostile text stayed text.
INJECTED = (
    "img[src='x'], script:not([src]):not(#host-script):not([type='application/ld+json']), svg, "
    "b[onmouseover], "
    "a[href^='javascript:'], iframe[src^='javascript:']"
)
# Records CSP violations and errors in every frame, before any page script runs.
WATCH_SCRIPT = """
window.__problems = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__problems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('error', (e) => window.__problems.push('error ' + e.message));
"""


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    message = (
        f"browser tests need Debian's chromium package at {CHROMIUM}: apt-get install chromium "
        "(scripts/test.sh installs it when run as root)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)  # CI installs it, so a missing browser there is a broken setup
    pytest.skip(message)


# -- servers --------------------------------------------------------------------------------------


@dataclass
class Site:
    """feedsvc over the bundled content plus one hostile article, with its public URL."""

    url: str
    app: Flask

    @property
    def catalog(self) -> Catalog:
        catalog: Catalog = self.app.extensions["feedsvc"].catalog
        return catalog

    def feed(self, path: str) -> Feed:
        return self.catalog.feeds[path]

    def abs(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    content = tmp_path_factory.mktemp("site") / "content"
    shutil.copytree(BUNDLED_CONTENT, content)
    hostile = content / f"{HOSTILE_ID}.txt"
    hostile.write_text(
        article_text(
            title=HOSTILE_TITLE,
            category=HOSTILE_CATEGORY,
            source=HOSTILE_SOURCE,
            published="30-11-2026 12:00",
            body=HOSTILE_BODY,
        ),
        "utf-8",
    )
    apps: list[Flask] = []

    def dispatch(environ: Any, start_response: Any) -> Any:
        return apps[0](environ, start_response)

    # The app's site URL must be the server's own address, known only once it listens.
    server = LiveServer.start(dispatch)
    apps.append(
        create_app(
            {"TESTING": True, "CONTENT_DIR": str(content), "SITE_URL": server.url, "WATCH": False}
        )
    )
    try:
        yield Site(server.url, apps[0])
    finally:
        server.stop()


@dataclass
class Host:
    """Another site, on another port (so another origin), that embeds feedsvc's widgets."""

    url: str
    pages: dict[str, tuple[str, str]]  # path -> (content type, body)

    def add(self, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> str:
        self.pages[path] = (content_type, body)
        return self.url + path


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    pages: dict[str, tuple[str, str]] = {}

    @Request.application  # type: ignore[arg-type]
    def app(request: Request) -> Response:
        if request.path not in pages:
            return Response("niet gevonden", status=404)
        content_type, body = pages[request.path]
        return Response(body, content_type=content_type)

    server = LiveServer.start(app)
    try:
        yield Host(server.url, pages)
    finally:
        server.stop()


# -- browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _chromium_or_skip()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    context.add_init_script(WATCH_SCRIPT)
    context.set_default_timeout(10_000)  # fail, rather than hang, when something never shows
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000, f"{name} looks empty"
    return path


def problems(frame: Page | Frame) -> list[str]:
    """CSP violations and script errors recorded in ``frame`` since it loaded."""
    recorded: list[str] = frame.evaluate("window.__problems || []")
    return recorded


def assert_nothing_ran(frame: Page | Frame) -> None:
    """No hostile text became markup, and none of it ran."""
    assert frame.evaluate("window.__pwned") is None
    assert frame.locator(INJECTED).count() == 0
    assert problems(frame) == []


def wait_for_previews(page: Page) -> None:
    """Scroll the embed previews into view, so they load (lazily), and wait until they have."""
    page.locator("#voorbeeld-iframe").scroll_into_view_if_needed()
    page.frame_locator("#voorbeeld-iframe iframe").locator(".fw-item").first.wait_for()
    page.locator("#voorbeeld-script feedsvc-nieuws").locator(".fw-item").first.wait_for()


# -- pages ----------------------------------------------------------------------------------------


def test_index_lists_every_category_and_its_feed_links_work(page: Page, site: Site) -> None:
    response = page.goto(site.url + "/")
    assert response is not None
    assert response.ok
    assert page.locator("html").get_attribute("lang") == "nl"
    screenshot(page, "index.png")
    tree = page.locator("#feeds")
    categories = [f for f in site.catalog.feeds.values() if f.category is not None]
    assert len(categories) == 16
    for feed in [*categories, *site.catalog.source_feeds]:
        assert feed.category is not None or feed.source is not None
        name = feed.category.name if feed.category else feed.name
        row = tree.locator(".feed-row").filter(
            has=page.locator(f"a.name[href='{feed_page_path(feed)}']")
        )
        assert row.count() == 1, feed.path
        assert row.locator("a.name").inner_text() == name
        assert row.locator("button.copy").is_visible()
        assert row.locator("button.copy").get_attribute("data-copy") == site.abs(
            feed_path(feed, "rss")
        )
        box = row.locator("button.copy").bounding_box()
        assert box is not None
        assert box["height"] >= 44  # a touch target
    assert_nothing_ran(page)


def test_copy_buttons_put_the_feed_address_on_the_clipboard(
    context: BrowserContext, site: Site
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page = context.new_page()
    feed = site.feed("categorie/sport")
    page.goto(site.abs(feed_page_path(feed)))
    button = page.get_by_role("button", name="Kopieer RSS-adres van Sport", exact=True)
    button.click()
    assert page.evaluate("navigator.clipboard.readText()") == site.abs(feed_path(feed, "rss"))
    assert "Gekopieerd" in button.inner_text()
    page.goto(site.abs(embed_page_path(feed)))
    page.locator("#met-script + p + .code-block button.copy").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f'<script src="{site.abs(EMBED_SCRIPT_PATH)}"')
    assert 'data-feed="' + site.abs(feed_path(feed, "json")) + '"' in copied


def test_without_javascript_there_are_no_dead_copy_buttons(browser: Browser, site: Site) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.abs("/categorie/sport.html"))
        assert page.locator("button.copy").count() > 0
        assert page.locator("button.copy:visible").count() == 0
        address = page.locator("#adres")
        assert address.is_visible()  # the address can still be selected and copied by hand
        assert address.input_value() == site.abs("/feeds/categorie/sport.rss")
    finally:
        context.close()


def test_category_page(page: Page, site: Site) -> None:
    feed = site.feed("categorie/nieuws")
    page.goto(site.abs(feed_page_path(feed)))
    assert page.locator("h1").inner_text() == "Nieuws"
    discovered = page.locator("head link[rel=alternate]:not([type='application/json+oembed'])")
    # Its own feeds first, then the site-wide one.
    assert discovered.evaluate_all("links => links.map(l => l.href)") == [
        *(site.abs(feed_path(feed, extension)) for extension in FORMATS),
        site.abs(feed_path(site.feed("all"), "rss")),
    ]
    items = page.locator("ol.articles > li")
    assert items.count() == len(feed.articles)
    newest = items.first
    assert newest.locator("a.title").inner_text() == HOSTILE_TITLE  # the text, as text
    second = items.nth(1)
    article = feed.articles[1]
    assert second.locator("a.title").inner_text() == article.title
    assert second.locator(".summary").inner_text() == article.summary
    assert article.source is not None
    assert second.locator(".source").inner_text() == article.source.name
    assert str(article.published.year) in second.locator("time").inner_text()
    assert page.locator("#insluiten a").get_attribute("href") == embed_page_path(feed)
    screenshot(page, "category.png")
    for frame in page.frames:
        assert_nothing_ran(frame)


def test_category_page_on_a_phone(browser: Browser, site: Site) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = context.new_page()
        page.goto(site.abs("/categorie/cultuur.html"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a phone"
        assert page.locator(".follow .address button.copy").is_visible()
        screenshot(page, "category-phone.png", full_page=False)
    finally:
        context.close()


def test_article_page_links_back_and_shows_hostile_text_as_text(page: Page, site: Site) -> None:
    page.goto(site.abs(article_path(HOSTILE_ID)))
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    paragraphs = page.locator(".body p").all_inner_texts()
    assert paragraphs == list(HOSTILE_BODY)
    page.locator("a.back").click()
    page.wait_for_url(site.abs("/categorie/nieuws/gemeente.html"))
    assert page.locator("h1").inner_text() == "Gemeente"


@pytest.mark.parametrize("which", ["index", "category", "source", "article"])
def test_hostile_text_never_runs_on_pages(page: Page, site: Site, which: str) -> None:
    source = next(feed for feed in site.catalog.source_feeds if feed.name == HOSTILE_SOURCE)
    url = {
        "index": "/",
        "category": "/categorie/nieuws/gemeente.html",
        "source": feed_page_path(source),
        "article": article_path(HOSTILE_ID),
    }[which]
    page.goto(site.abs(url))
    title = page.get_by_text(HOSTILE_TITLE, exact=True).first
    assert title.is_visible()
    title.hover()
    assert page.get_by_text(HOSTILE_SOURCE).first.is_visible()
    assert_nothing_ran(page)


# -- feeds in the browser -------------------------------------------------------------------------


DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
                "september", "oktober", "november", "december")  # fmt: skip


def in_dutch(article: Article) -> str:
    """An article's publication date as a Dutch reader writes it: "24 november 2026"."""
    day = article.published
    return f"{day.day} {DUTCH_MONTHS[day.month - 1]} {day.year}"


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_a_feed_opened_in_the_browser_is_readable(page: Page, site: Site, extension: str) -> None:
    feed = site.feed("categorie/nieuws")
    url = site.abs(feed_path(feed, extension))
    page.goto(site.abs(feed_page_path(feed)))
    with page.expect_request(url) as request:
        page.goto(url)  # as a person pasting the copied address would
    page.wait_for_load_state()
    assert page.url == url
    # What Chromium got, asked for with its own Accept header, is XML and still a valid feed.
    accept = request.value.all_headers()["accept"]
    assert accept.startswith("text/html")
    fetched = page.request.get(url, headers={"Accept": accept})
    assert fetched.headers["content-type"] == "application/xml; charset=utf-8"
    validate = assert_valid_rss if extension == "rss" else assert_valid_atom
    validate(fetched.body(), url)
    # Rendered with the feed stylesheet, not as plain text or as Chromium's XML tree: the page
    # for people the feed carries shows, the parts for feed readers do not.
    root = "rss" if extension == "rss" else "feed"
    assert page.evaluate("document.documentElement.localName") == root
    assert page.evaluate("document.styleSheets.length") == 1
    assert page.title() == feed.title
    view = page.locator("div.feedsvc-browser")
    heading = view.locator("h1")
    assert heading.text_content() == feed.title
    assert heading.is_visible()
    assert float(heading.evaluate("t => getComputedStyle(t).fontSize")[:-2]) >= 28
    notice = view.locator("section.notice")
    assert notice.is_visible()
    assert "Dit is een nieuwsfeed" in notice.inner_text()
    assert "plak het in je feedlezer" in notice.inner_text()
    for hidden in ("channel > title", "item", "entry", ":root > title"):
        for element in page.locator(hidden).all():
            assert element.evaluate("e => getComputedStyle(e).display") == "none", hidden
    items = view.locator("ol.entries > li")
    assert items.count() == len(feed.articles)
    assert items.nth(0).locator("h2 a").text_content() == HOSTILE_TITLE  # as text
    second = feed.articles[1]
    assert items.nth(1).locator("h2 a").text_content() == second.title
    date = items.nth(1).locator("time")
    assert date.inner_text() == in_dutch(second)
    assert date.is_visible()
    summary = items.nth(1).locator("p.summary")
    assert summary.inner_text() == second.summary
    assert float(summary.evaluate("e => getComputedStyle(e).fontSize")[:-2]) >= 16
    screenshot(page, f"feed-{extension}-1280.png", full_page=False)
    assert_nothing_ran(page)
    # Each title is a link to its article.
    items.nth(1).locator("h2 a").click()
    page.wait_for_url(site.abs(article_path(second.id)))
    assert page.locator("h1").inner_text() == second.title


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_a_feed_in_the_browser_leads_back_to_the_site_and_to_subscribing(
    page: Page, site: Site, extension: str
) -> None:
    feed = site.feed("categorie/sport")
    url = site.abs(feed_path(feed, extension))
    page.goto(url)
    view = page.locator("div.feedsvc-browser")
    # The address to copy: one click selects all of it.
    address = view.locator("section.notice code")
    assert address.inner_text() == url
    address.click()
    assert page.evaluate("getSelection().toString()") == url
    # Following it: the feed's own page, with its one-click buttons for feed readers.
    view.locator("a.subscribe").click()
    page.wait_for_url(site.abs(feed_page_path(feed)))
    assert page.locator(f"a[href='feed:{url.replace(extension, 'rss')}']").count() >= 1
    page.go_back()
    page.wait_for_url(url)
    page.locator("div.feedsvc-browser p.home a").click()
    page.wait_for_url(site.abs("/"))
    assert problems(page) == []


def test_a_json_feed_opened_in_the_browser_is_shown_not_downloaded(page: Page, site: Site) -> None:
    url = site.abs(feed_path(site.feed("all"), "json"))
    response = page.goto(url)  # a download would raise here
    assert response is not None
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(page.locator("pre").inner_text())["feed_url"] == url


# -- widgets on another site ----------------------------------------------------------------------

HOST_PAGE = """<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>Buurtvereniging Westwijk</title>
<style>
  body {{ margin: 0; font: 18px/1.5 Georgia, serif; background: #f3efe6; color: #3b2f2f; }}
  header {{ background: #2f4f3f; color: #fff; padding: 16px 32px; }}
  header h1 {{ margin: 0; font-size: 26px; }}
  .cols {{ display: grid; grid-template-columns: 1fr 360px; gap: 32px; padding: 24px 32px; }}
  /* A site's own rules, which must not reach the widget. */
  a {{ color: #8b4513 !important; text-transform: uppercase; }}
  li {{ list-style: square; font-size: 22px; }}
  p {{ margin: 2em 0; font-style: italic; }}
  h2 {{ font-size: 20px; margin: 0 0 8px; }}
</style>
<script id="host-script">window.__before = Object.keys(window);</script>
</head>
<body>
<header><h1>Buurtvereniging Westwijk</h1></header>
<div class="cols">
  <main>
    <h2>Welkom</h2>
    <p>De buurtvereniging organiseert activiteiten voor jong en oud in Westwijk.</p>
    <ul><li>Koffieochtend op dinsdag</li><li>Buurtfeest in juni</li></ul>
  </main>
  <aside>
    <h2>{heading}</h2>
    {widget}
  </aside>
</div>
</body>
</html>
"""


def host_page(host: Host, path: str, heading: str, widget: str) -> str:
    return host.add(path, HOST_PAGE.format(heading=heading, widget=widget))


def test_iframe_widget_renders_on_another_site(page: Page, site: Site, host: Host) -> None:
    feed = site.feed("categorie/nieuws")
    src = site.abs(embed_path(feed))
    url = host_page(
        host,
        "/iframe.html",
        "Nieuws uit Amstelveen",
        f'<iframe src="{src}?aantal=4" title="Nieuws" width="100%" height="860" style="border:0">'
        "</iframe>",
    )
    response = page.goto(url)
    assert response is not None
    assert response.ok
    frame = page.frame_locator("iframe")
    items = frame.locator(".fw-item")
    items.first.wait_for()
    assert items.count() == 4
    titles = frame.locator(".fw-titel").all_inner_texts()
    assert titles == [article.title for article in feed.articles[:4]]
    assert frame.locator(".fw-samenvatting").nth(1).inner_text() == feed.articles[1].summary
    widget = next(f for f in page.frames if f.url.startswith(src))
    assert widget.evaluate(
        "getComputedStyle(document.querySelector('.fw-titel')).textTransform"
    ) == ("none")
    assert_nothing_ran(widget)
    assert_nothing_ran(page)
    screenshot(page, "widget-iframe.png")


def test_compact_iframe_widget(page: Page, site: Site) -> None:
    feed = site.feed("categorie/sport")
    page.goto(site.abs(embed_path(feed)) + "?stijl=compact&aantal=3&bron=ja")
    assert page.locator(".fw-compact .fw-item").count() == 3
    assert page.locator(".fw-samenvatting").count() == 0
    assert page.locator(".fw-bron").all_inner_texts() == [
        a.source.name for a in feed.articles[:3] if a.source is not None
    ]
    assert problems(page) == []


def script_tag(site: Site, feed_url: str, **options: str) -> str:
    attributes = "".join(f' data-{name}="{value}"' for name, value in options.items())
    src = site.abs(EMBED_SCRIPT_PATH)
    return f'<script src="{src}" data-feed="{feed_url}"{attributes} async></script>'


def test_script_widget_renders_on_another_site_in_its_own_shadow_root(
    page: Page, site: Site, host: Host
) -> None:
    feed = site.feed("categorie/nieuws")
    url = host_page(
        host,
        "/script.html",
        "Nieuws uit Amstelveen",
        script_tag(site, site.abs(feed_path(feed, "json")), aantal="4")
        + "<h2>Sport</h2>"
        + script_tag(
            site,
            site.abs(feed_path(site.feed("categorie/sport"), "json")),
            stijl="compact",
            aantal="3",
        ),
    )
    page.goto(url)
    widgets = page.locator("feedsvc-nieuws")
    widgets.nth(1).locator(".fw-item").first.wait_for()
    assert widgets.count() == 2
    full = widgets.nth(0)
    full.locator(".fw-item").first.wait_for()
    assert full.locator(".fw-titel").all_inner_texts() == [a.title for a in feed.articles[:4]]
    assert full.locator(".fw-samenvatting").nth(1).inner_text() == feed.articles[1].summary
    assert widgets.nth(1).locator(".fw-item").count() == 3
    assert widgets.nth(1).locator(".fw-samenvatting").count() == 0
    # The host's CSS (uppercase brown links, italic paragraphs, big list items) stays out ...
    link = full.locator(".fw-titel").nth(1)
    assert link.evaluate("a => getComputedStyle(a).textTransform") == "none"
    assert link.evaluate("a => getComputedStyle(a).color") == "rgb(11, 92, 171)"
    assert (
        full.locator(".fw-samenvatting").first.evaluate("p => getComputedStyle(p).fontStyle")
        == "normal"
    )
    # ... the widget's CSS stays in, and the script leaves no globals behind.
    assert page.locator("main li").first.evaluate("li => getComputedStyle(li).fontSize") == "22px"
    added = "Object.keys(window).filter(k => k !== '__before' && !window.__before.includes(k))"
    assert page.evaluate(added) == []
    hostile = full.locator(".fw-titel").first
    assert hostile.inner_text() == HOSTILE_TITLE
    hostile.hover()
    shadow_injected = page.evaluate(
        f"[...document.querySelectorAll('feedsvc-nieuws')]"
        f".map(w => w.shadowRoot.querySelectorAll({json.dumps(INJECTED)}).length)"
    )
    assert shadow_injected == [0, 0]
    assert_nothing_ran(page)
    page.locator("aside").scroll_into_view_if_needed()
    screenshot(page, "widget-script.png")


def test_script_widget_never_follows_hostile_links_or_html(
    page: Page, site: Site, host: Host
) -> None:
    """A feed that is not feedsvc's own: javascript: URLs and HTML content must stay inert."""
    feed_url = host.add(
        "/boze-feed.json",
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "title": '<img src=x onerror="window.__pwned=1">',
                "home_page_url": "javascript:window.__pwned=1",
                "items": [
                    {
                        "id": "1",
                        "url": "javascript:window.__pwned=1",
                        "title": "<script>window.__pwned=1</script>",
                        "summary": '<img src=x onerror="window.__pwned=1">',
                        "content_html": '<img src=x onerror="window.__pwned=1">',
                        "date_published": "2026-11-30T12:00:00+01:00",
                        "authors": [{"name": "<b onmouseover=window.__pwned=1>x</b>"}],
                    },
                    {"id": "2", "url": "data:text/html,<script>alert(1)</script>", "title": "Data"},
                    {"id": "3", "url": "https://example.org/ok", "title": "Gewoon"},
                ],
            }
        ),
        "application/feed+json",
    )
    url = host_page(host, "/boos.html", "Buren", script_tag(site, feed_url, bron="ja"))
    page.goto(url)
    widget = page.locator("feedsvc-nieuws")
    widget.locator(".fw-item").first.wait_for()
    assert widget.locator(".fw-titel").all_inner_texts() == [
        "<script>window.__pwned=1</script>",
        "Data",
        "Gewoon",
    ]
    hrefs = widget.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs == ["https://example.org/ok"]  # no javascript: or data: link was made
    widget.locator(".fw-titel").first.click()
    widget.locator(".fw-kop").click()
    assert (
        widget.locator(".fw-samenvatting").first.inner_text()
        == '<img src=x onerror="window.__pwned=1">'
    )
    assert widget.locator("time").first.inner_text() == "30 november 2026"
    assert widget.locator(".fw-bron").inner_text() == "<b onmouseover=window.__pwned=1>x</b>"
    assert_nothing_ran(page)
    assert (
        page.evaluate(
            f"document.querySelector('feedsvc-nieuws').shadowRoot.querySelectorAll({json.dumps(INJECTED)}).length"
        )
        == 0
    )


def test_script_widget_says_so_when_the_feed_cannot_be_loaded(
    page: Page, site: Site, host: Host
) -> None:
    url = host_page(
        host, "/kapot.html", "Nieuws", script_tag(site, site.abs("/feeds/bestaat-niet.json"))
    )
    page.goto(url)
    message = page.locator("feedsvc-nieuws .fw-fout")
    message.wait_for()
    # The feed's 404 carries CORS headers, so the widget can tell what is wrong.
    assert message.inner_text() == "Deze feed bestaat niet: kijk het adres in data-feed na."


# -- embeds that fit, at every width, on a hostile host ------------------------------------------

WIDTHS = (300, 390, 768, 1280)
HOSTILE_HOST_CSS = (
    "* { text-transform: uppercase; letter-spacing: 5px; text-shadow: 2px 2px 0 red;"
    " cursor: wait; font-style: italic; word-spacing: 9px; line-height: 3; }"
)


def bare_host_page(host: Host, path: str, body: str, css: str = "") -> str:
    """A host page with nothing around the widget: its width is the viewport's."""
    return host.add(
        path,
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Buren</title><style>body {{ margin: 0 }} {css}</style></head>"
        f"<body><main>{body}</main></body></html>",
    )


def offered_code(site: Site, feed: Feed, style: str = embed.FULL, count: int = 5) -> EmbedCode:
    with site.app.test_request_context():
        return embed.embed_code(feed, embed.WidgetOptions.defaults(style, count))


def frame_fit(page: Page) -> dict[str, float]:
    """The iframe's height on the host page, and its content's height inside it."""
    page.frame_locator("iframe").first.locator(".fw-voet").wait_for()
    frame = next(f for f in page.frames if "/embed/" in f.url)
    content = frame.evaluate(
        "() => ({content: document.querySelector('.fw').getBoundingClientRect().bottom,"
        " scroll: document.documentElement.scrollHeight,"
        " clipped: [...document.querySelectorAll('.fw-item')].filter("
        "   li => li.getBoundingClientRect().bottom > innerHeight).length})"
    )
    outer = page.locator("iframe").evaluate("f => f.getBoundingClientRect().height")
    return {"frame": outer, **content}


@pytest.mark.parametrize("style", [embed.FULL, embed.COMPACT])
def test_the_offered_iframe_code_fits_at_every_width(
    browser: Browser, site: Site, host: Host, style: str
) -> None:
    feed = site.feed("categorie/nieuws")
    code = offered_code(site, feed, style)
    url = bare_host_page(host, f"/past-{style}.html", code.iframe)
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            page.goto(url)
            fit = frame_fit(page)
            assert fit["clipped"] == 0, (width, fit)
            assert fit["content"] <= fit["frame"], (width, fit)  # nothing cut off
            assert fit["frame"] - fit["content"] <= 4, (width, fit)  # and no gap below
            assert fit["scroll"] <= fit["frame"], (width, fit)
            if width in (390, 1280):
                screenshot(page, f"widget-iframe-{style}-{width}.png")
        finally:
            context.close()


def test_the_resize_script_fits_the_frame_and_ignores_other_origins(
    page: Page, site: Site, host: Host
) -> None:
    feed = site.feed("categorie/sport")
    code = offered_code(site, feed)
    # The host's iframe code, changed by hand to 2 items without changing its height.
    iframe = code.iframe.replace("aantal=5", "aantal=2")
    url = bare_host_page(host, "/hoogte.html", iframe + code.resize)
    page.goto(url)
    page.wait_for_function(
        "() => { const f = document.querySelector('iframe');"
        " return f.style.height !== '' && parseFloat(f.style.height) < f.height - 100; }",
        timeout=30_000,
    )
    fit = frame_fit(page)
    assert abs(fit["frame"] - fit["content"]) <= 2, fit
    # A message in the same shape from anyone else (here the host page itself) changes nothing.
    before = page.locator("iframe").evaluate("f => f.style.height")
    page.evaluate("window.postMessage({feedsvc: 'hoogte', hoogte: 33}, '*')")
    page.evaluate(
        "() => { const f = document.createElement('iframe'); document.body.append(f);"
        " f.contentWindow.parent.postMessage({feedsvc: 'hoogte', hoogte: 44}, '*'); }"
    )
    page.wait_for_timeout(300)  # messages are delivered asynchronously; give them a chance
    assert page.locator("iframe").first.evaluate("f => f.style.height") == before


def test_host_css_does_not_reach_into_the_script_widget(page: Page, site: Site, host: Host) -> None:
    feed = site.feed("categorie/nieuws")
    code = offered_code(site, feed)
    url = bare_host_page(host, "/vijandig.html", code.script, HOSTILE_HOST_CSS)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    widget = page.locator("feedsvc-nieuws")
    widget.locator(".fw-item").first.wait_for()
    styles = widget.locator(".fw-titel").first.evaluate(
        """a => { const s = getComputedStyle(a), p = getComputedStyle(a.closest('li'));
        return [s.textTransform, s.letterSpacing, s.textShadow, s.cursor, s.fontStyle,
                s.wordSpacing, p.cursor, p.lineHeight]; }"""
    )
    assert styles == ["none", "normal", "none", "pointer", "normal", "0px", "auto", "21px"]
    # The host's own text does get the host's CSS: the rule is in force.
    assert page.locator("title").evaluate("t => getComputedStyle(document.body).cursor") == "wait"
    screenshot(page, "widget-script-390.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "widget-script-1280.png")
    assert problems(page) == []


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ('data-aantal="5"', "data-feed ontbreekt"),
        ('data-feed="FEED" data-aantal="veel"', "data-aantal moet een geheel getal"),
        ('data-feed="FEED" data-aantal="0"', "data-aantal moet een geheel getal"),
        ('data-feed="FEED" data-stijl="groot"', "data-stijl moet volledig of compact"),
    ],
)
def test_the_script_widget_shows_what_is_wrong_with_its_options(
    page: Page, site: Site, host: Host, attributes: str, message: str
) -> None:
    feed_url = site.abs(feed_path(site.feed("all"), "json"))
    tag = (
        f'<script src="{site.abs(EMBED_SCRIPT_PATH)}" '
        f"{attributes.replace('FEED', feed_url)} async></script>"
    )
    page.goto(bare_host_page(host, f"/fout-{abs(hash(attributes))}.html", tag))
    shown = page.locator("feedsvc-nieuws .fw-fout")
    shown.first.wait_for()
    assert message in shown.first.inner_text()
    assert shown.first.is_visible()


def test_the_configurator_offers_what_it_previews(page: Page, site: Site) -> None:
    feed = site.feed("categorie/nieuws")
    page.goto(site.abs(embed_page_path(feed)))
    wait_for_previews(page)
    assert page.locator("#code-iframe").inner_text() == offered_code(site, feed).iframe
    page.locator("#aantal").fill("3")
    page.locator("#aantal").dispatch_event("change")
    page.get_by_label("Compact").check()
    expected = offered_code(site, feed, embed.COMPACT, 3)
    assert page.locator("#code-iframe").inner_text() == expected.iframe
    assert page.locator("#code-script").inner_text() == expected.script
    # The preview is that code (its style then gets the height the resize script measured,
    # once the new preview has loaded and reported it: waited for, not raced).
    page.wait_for_function(
        "() => document.querySelector('#voorbeeld-iframe iframe').style.height !== ''"
    )
    preview = dict(
        lxml.html.fragment_fromstring(page.locator("#voorbeeld-iframe").inner_html()).attrib
    )
    offered = dict(lxml.html.fragment_fromstring(expected.iframe).attrib)
    assert preview.pop("style").startswith("border: 0")
    assert offered.pop("style") == "border:0"
    assert preview == offered
    page.frame_locator("#voorbeeld-iframe iframe").locator(".fw-compact .fw-item").nth(2).wait_for()
    page.locator("#voorbeeld-script feedsvc-nieuws .fw-compact").wait_for()
    screenshot(page, "embed-page.png")
    page.select_option("#kies-feed", label="Sport")
    page.wait_for_url(site.abs(embed_page_path(site.feed("categorie/sport"))))
    for frame in page.frames:
        assert problems(frame) == []


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_a_feed_opened_on_a_phone_has_readable_text(
    browser: Browser, site: Site, extension: str
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = context.new_page()
        feed = site.feed("categorie/nieuws")
        page.goto(site.abs(feed_path(feed, extension)))
        view = page.locator("div.feedsvc-browser")
        body = view.locator("p.summary").first
        # The size on the screen: CSS px times the zoom the phone shows the page at.
        shown = body.evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize) * visualViewport.scale"
        )
        assert shown >= 16, f"body text is {shown:.1f} px on the screen"
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
        date = view.locator("ol.entries > li").nth(1).locator("time")
        assert date.inner_text() == in_dutch(feed.articles[1])
        assert date.is_visible()
        for target in (view.locator("a.subscribe"), view.locator("p.home a")):
            box = target.bounding_box()
            assert box is not None
            assert box["height"] >= 44, "a touch target smaller than 44 px"
        screenshot(page, f"feed-{extension}-390.png", full_page=False)
        link = view.locator("ol.entries > li").nth(1).locator("h2 a")
        link.click()
        page.wait_for_url(site.abs(article_path(feed.articles[1].id)))
    finally:
        context.close()

"""The pages for people: what the index, category, source and article pages offer, and the
security headers and markup rules that let their Content-Security-Policy do without inline code."""

from __future__ import annotations

import json

import lxml.html
import pytest
from conftest import SITE_URL, catalog_of, page_of
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.feeds.catalog import Feed
from feedsvc.feeds.urls import article_path, feed_page_path, feed_path
from feedsvc.feeds.writers import FORMATS

PAGES = [
    "/",
    "/categorie/nieuws.html",
    "/categorie/nieuws/gemeente/verkeer.html",
    "/bron/navo.html",
    "/artikelen/2024/000_3a5bf95db61d80b1.html",
    "/bestaat-niet",  # the error page too
]


def discovered(page: lxml.html.HtmlElement) -> dict[str, str]:
    """The first feed of each type the page offers: its own; the feeds around it follow."""
    found: dict[str, str] = {}
    for href, type_ in feeds_offered(page):
        found.setdefault(type_, href)
    return found


def feeds_offered(page: lxml.html.HtmlElement) -> list[tuple[str, str]]:
    return [
        (link.get("href"), link.get("type"))
        for link in page.iter("link")
        if link.get("rel") == "alternate" and link.get("type") != "application/json+oembed"
    ]


def own_feeds(feed: Feed) -> dict[str, str]:
    return {fmt.media_type: SITE_URL + feed_path(feed, ext) for ext, fmt in FORMATS.items()}


# -- the index ------------------------------------------------------------------------------------


def test_index_offers_every_feed_with_a_copy_button(
    client: FlaskClient, bundled_app: Flask
) -> None:
    catalog = catalog_of(bundled_app)
    page = page_of(client, "/")
    assert page.get("lang") == "nl"
    rows = {row.find("a").get("href"): row for row in page.find_class("feed-row")}
    for feed in [*catalog.feeds.values()][1:]:
        row = rows[feed_page_path(feed)]
        button = row.find_class("copy")[0]
        assert button.get("data-copy") == SITE_URL + feed_path(feed, "rss")
        # Each button says what it copies, not only "Kopieer".
        assert (
            button.get("aria-label") == f"Kopieer RSS-adres van {feed.name.replace(' -> ', ' › ')}"
        )
        assert button.get("aria-label").startswith(button.text_content())
        assert button.get("hidden") is not None  # shown by site.js, which makes it work
    assert len(rows) == len(catalog.feeds) - 1
    address = page.get_element_by_id("adres-alles")
    assert address.get("value") == SITE_URL + "/feeds/all.rss"
    assert address.get("readonly") is not None


def test_index_explains_feeds_and_offers_the_opml_download(
    client: FlaskClient, bundled_app: Flask
) -> None:
    page = page_of(client, "/")
    opml = [a for a in page.iter("a") if a.get("href") == "/feeds.opml"]
    assert opml
    assert all(a.get("download") is not None for a in opml)
    explanation = page.get_element_by_id("uitleg").text_content()
    assert "Wat is een feed?" in explanation
    assert "feedlezer" in explanation
    assert "Kopieer" in explanation
    headlines = [a.text_content() for a in page.find_class("headlines")[0].iter("a")]
    assert headlines == [a.title for a in catalog_of(bundled_app).articles[:10]]
    assert page.get_element_by_id("json-feed") is not None  # JSON Feed extensions are documented


# -- category and source pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["categorie/nieuws", "categorie/cultuur/muziek/klassiek", "bron/gemeente-amstelveen"]
)
def test_feed_page_discovers_its_own_feeds_and_lists_its_articles(
    client: FlaskClient, bundled_app: Flask, path: str
) -> None:
    feed = catalog_of(bundled_app).feeds[path]
    page = page_of(client, feed_page_path(feed))
    assert discovered(page) == own_feeds(feed)
    assert page.get_element_by_id("adres").get("value") == SITE_URL + feed_path(feed, "rss")
    items = page.find_class("articles")[0].findall("li")
    assert len(items) == len(feed.articles)
    for item, article in zip(items, feed.articles, strict=True):
        assert item.find_class("title")[0].get("href") == article_path(article.id)
        assert item.find_class("title")[0].text_content() == article.title
        assert item.find(".//time").get("datetime") == article.published.isoformat()
        assert item.find_class("summary")[0].text_content() == article.summary
        sources = [s.text_content() for s in item.find_class("source")]
        assert sources == ([article.source.name] if article.source else [])


def test_category_page_links_up_and_down_the_tree(client: FlaskClient) -> None:
    page = page_of(client, "/categorie/nieuws/gemeente.html")
    crumbs = [a.get("href") for a in page.find_class("breadcrumbs")[0].iter("a")]
    assert crumbs == ["/#categorieen", "/categorie/nieuws.html"]
    children = [row.find("a").get("href") for row in page.find_class("feed-row")]
    assert children == [
        "/categorie/nieuws/gemeente/verkeer.html",
        "/categorie/nieuws/gemeente/wonen.html",
    ]


def test_source_page_links_to_the_sources(client: FlaskClient) -> None:
    page = page_of(client, "/bron/navo.html")
    crumbs = [a.get("href") for a in page.find_class("breadcrumbs")[0].iter("a")]
    assert crumbs == ["/#bronnen"]
    assert page.findtext(".//h1") == "NAVO"


def listed(page: lxml.html.HtmlElement, article_id: str) -> lxml.html.HtmlElement:
    """The item of the article in a listing page."""
    (item,) = [
        li
        for li in page.find_class("articles")[0].iter("li")
        if li.find_class("title")[0].get("href") == article_path(article_id)
    ]
    return item


def test_a_listed_article_shows_its_category_where_the_listing_mixes_categories(
    client: FlaskClient, bundled_app: Flask
) -> None:
    """An article is listed on the pages of its own category (all of one category: not named),
    of the categories above it and of its source (named)."""
    catalog = catalog_of(bundled_app)
    paths = {a.category.slug_path for a in catalog.articles}
    article = next(  # new enough to be on the first page of each; of a category with none below
        a
        for a in catalog.articles[:10]
        if a.category.depth >= 2
        and a.source
        and not any(p.startswith(a.category.slug_path + "/") for p in paths)
    )
    label = article.category.label.replace(" -> ", " › ")
    own = f"/categorie/{article.category.slug_path}.html"
    above = f"/categorie/{article.category.lineage()[0].slug_path}.html"
    source = f"/bron/{article.source.slug}.html"
    for path, named in ((own, False), (above, True), (source, True)):
        item = listed(page_of(client, path), article.id)
        assert item.find_class("title")[0].text_content() == article.title, path
        shown = [span.text_content() for span in item.find_class("category")]
        assert shown == ([label] if named else []), path


# -- article pages --------------------------------------------------------------------------------


def test_article_page_discovers_its_category_feeds_and_links_back(
    client: FlaskClient, bundled_app: Flask
) -> None:
    catalog = catalog_of(bundled_app)
    article = next(a for a in catalog.articles if a.category.depth == 3)
    category = catalog.feeds[f"categorie/{article.category.slug_path}"]
    page = page_of(client, article_path(article.id))
    assert discovered(page) == own_feeds(category)
    back = page.find_class("back")[0]
    assert back.get("href") == feed_page_path(category)
    assert article.category.name in back.text_content()


def test_every_article_page_discovers_its_own_category_source_and_site_feeds(
    client: FlaskClient, bundled_app: Flask
) -> None:
    """Article pages of one category but different sources (and the reverse) each offer their
    own feeds: the links are rendered once per set of feeds and reused."""
    catalog = catalog_of(bundled_app)
    seen: set[tuple[str, str]] = set()
    for article in catalog.articles:
        category = catalog.feeds[f"categorie/{article.category.slug_path}"]
        source = catalog.feeds[f"bron/{article.source.slug}"] if article.source else None
        rss = FORMATS["rss"].media_type
        expected = [(url, type_) for type_, url in own_feeds(category).items()]
        expected += [(SITE_URL + feed_path(other, "rss"), rss) for other in (source,) if other]
        expected.append((SITE_URL + feed_path(catalog.all_feed, "rss"), rss))
        assert feeds_offered(page_of(client, article_path(article.id))) == expected, article.id
        seen.add((category.path, source.path if source else ""))
    categories = {category for category, _ in seen}
    assert len(categories) < len(seen)  # a category with articles of several sources


def test_every_article_page_links_its_own_category_up_and_back(
    client: FlaskClient, bundled_app: Flask
) -> None:
    """Breadcrumbs and follow links are rendered once per category and reused: each article
    page still names its own category, every level of it, and its RSS address."""
    catalog = catalog_of(bundled_app)
    categories = set()
    for article in catalog.articles:
        lineage = list(article.category.lineage())
        category = catalog.feeds[f"categorie/{article.category.slug_path}"]
        page = page_of(client, article_path(article.id))
        crumbs = page.find_class("breadcrumbs")[0].iter("a")
        assert [(a.get("href"), a.text_content()) for a in crumbs] == [
            (f"/categorie/{level.slug_path}.html", level.name) for level in lineage
        ], article.id
        follow = page.find_class("follow")[0]
        assert follow.find_class("back")[0].get("href") == feed_page_path(category)
        assert follow.find_class("copy")[0].get("data-copy") == SITE_URL + feed_path(
            category, "rss"
        )
        categories.add(category.path)
    assert len(categories) > 3


def test_a_kept_category_part_is_made_of_its_feed_alone(bundled_app: Flask) -> None:
    """Article pages keep their category's parts by feed: a template cannot hand such a part
    anything else (an argument the kept part would silently ignore on the next page)."""
    catalog = catalog_of(bundled_app)
    article = next(a for a in catalog.articles if a.category.depth >= 2)
    feed = catalog.feeds[f"categorie/{article.category.slug_path}"]
    other = catalog.feeds["categorie/" + article.category.lineage()[0].slug_path]
    with bundled_app.test_request_context(article_path(article.id)):
        env = bundled_app.jinja_env
        crumbs = env.from_string('{{ category_part("article_breadcrumbs", feed) }}')
        page = lxml.html.fragment_fromstring(crumbs.render(feed=feed))
        assert [a.text_content() for a in page.iter("a")] == [
            level.name for level in article.category.lineage()
        ]
        with pytest.raises(TypeError):
            env.from_string('{{ category_part("article_breadcrumbs", feed, [other]) }}').render(
                feed=feed, other=other
            )


# -- security -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_security_headers_without_unsafe_inline(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    csp = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-src"] == "'self'"  # the embed previews
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    "url", [*PAGES, "/insluiten/categorie/nieuws.html", "/feeds/all.rss", "/static/style.css"]
)
def test_each_security_header_is_sent_once_and_a_routes_own_is_kept(
    client: FlaskClient, url: str
) -> None:
    response = client.get(url)
    response.close()  # a static file is sent from an open file
    html = response.mimetype == "text/html"
    # Every response gets nosniff; HTML pages the policies too, XML feeds a CSP of their own.
    expected = {
        "X-Content-Type-Options": 1,
        "Content-Security-Policy": 1 if html or url.endswith(".rss") else 0,
        "Referrer-Policy": 1 if html else 0,
    }
    for name, count in expected.items():
        assert len(response.headers.getlist(name)) == count, (url, name)
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    if url.startswith("/insluiten/"):  # its own policy lets the previews' style attribute in
        assert "unsafe-hashes" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_have_no_inline_code_and_no_external_assets(client: FlaskClient, url: str) -> None:
    """What the CSP would block is not there to begin with, and nothing loads from elsewhere."""
    page = lxml.html.fromstring(client.get(url).data)
    assert not list(page.iter("style"))
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        handlers = [name for name in element.attrib if name.startswith("on") or name == "style"]
        assert not handlers, (element.tag, handlers)
        if element.tag == "script" and element.get("type") == "application/ld+json":
            json.loads(element.text)  # data for search engines, which no browser runs
            continue
        if element.tag == "script":
            assert element.get("src"), "inline script"
        if element.tag in ("script", "img", "iframe") or (
            element.tag == "link" and element.get("rel") in ("stylesheet", "icon")
        ):
            source = element.get("src") or element.get("href") or ""
            assert source.startswith("/"), source
            assert not source.startswith("//"), source


def test_the_page_assets_are_served(client: FlaskClient) -> None:
    for path, mimetype in [
        ("/static/style.css", "text/css"),
        ("/static/site.js", "text/javascript"),
        ("/static/feed.css", "text/css"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == mimetype
        response.close()

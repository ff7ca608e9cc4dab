"""What other programs read from the pages: canonical links, Open Graph and Twitter cards,
NewsArticle JSON-LD, autodiscovery in order, oEmbed; and the one-click subscribe links."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import feedparser
import lxml.html
import pytest
from conftest import SITE_URL, ArticleWriter, catalog_of, page_of
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.feeds.urls import article_path, embed_path, feed_page_path, feed_path


def meta(page: lxml.html.HtmlElement) -> dict[str, str]:
    return {
        (m.get("property") or m.get("name")): m.get("content")
        for m in page.iter("meta")
        if m.get("property") or m.get("name")
    }


def alternates(page: lxml.html.HtmlElement, type_: str | None = None) -> list[str]:
    return [
        link.get("href")
        for link in page.iter("link")
        if link.get("rel") == "alternate"
        and (type_ is None or link.get("type") == type_)
        and link.get("type") != "application/json+oembed"
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/categorie/nieuws.html",
        "/bron/navo.html",
        "/berichten/pagina-1.html",
        "/artikelen/2024/000_3a5bf95db61d80b1.html",
    ],
)
def test_pages_name_their_one_url_and_a_preview(client: FlaskClient, path: str) -> None:
    page = page_of(client, path + "?utm_source=x")
    canonical = page.xpath("//head/link[@rel='canonical']/@href")
    assert canonical == [SITE_URL + path]
    tags = meta(page)
    assert tags["og:url"] == SITE_URL + path
    assert tags["og:title"]
    assert tags["og:description"]
    assert tags["og:site_name"]
    assert tags["og:image"].startswith(SITE_URL)
    assert tags["twitter:card"] == "summary"
    assert tags["og:locale"] == "nl_NL"


def test_article_pages_carry_news_article_data(client: FlaskClient, bundled_app: Flask) -> None:
    article = next(a for a in catalog_of(bundled_app).articles if a.source is not None)
    page = page_of(client, article_path(article.id))
    tags = meta(page)
    assert tags["og:type"] == "article"
    assert tags["og:title"] == article.title
    scripts = page.xpath("//script[@type='application/ld+json']")
    assert len(scripts) == 1
    data = json.loads(scripts[0].text)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == article.title
    assert data["datePublished"] == article.published.isoformat()
    assert data["dateModified"] == article.updated.isoformat()
    assert data["mainEntityOfPage"] == SITE_URL + article_path(article.id)
    assert article.source is not None
    assert data["author"]["name"] == article.source.name
    assert data["publisher"]["@type"] == "Organization"


def test_hostile_text_cannot_leave_the_json_ld(
    make_app: Callable[..., Flask], write_article: ArticleWriter
) -> None:
    write_article("2026/boos.txt", title="</script><script>alert(1)</script>")
    client = make_app().test_client()
    page = page_of(client, "/artikelen/2026/boos.html")
    scripts = page.xpath("//script[not(@src)]")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]
    assert json.loads(scripts[0].text)["headline"] == "</script><script>alert(1)</script>"


def test_autodiscovery_lists_own_feeds_then_source_then_the_site(
    client: FlaskClient, bundled_app: Flask
) -> None:
    catalog = catalog_of(bundled_app)
    article = next(a for a in catalog.articles if a.source is not None and a.category.depth >= 2)
    category = catalog.feeds[f"categorie/{article.category.slug_path}"]
    assert article.source is not None
    source = catalog.feeds[f"bron/{article.source.slug}"]
    offered = alternates(page_of(client, article_path(article.id)))
    assert offered == [
        SITE_URL + feed_path(category, "rss"),
        SITE_URL + feed_path(category, "atom"),
        SITE_URL + feed_path(category, "json"),
        SITE_URL + feed_path(source, "rss"),
        SITE_URL + "/feeds/all.rss",
    ]
    on_category = alternates(page_of(client, feed_page_path(category)))
    assert on_category[:3] == offered[:3]
    assert on_category[3:] == [SITE_URL + "/feeds/all.rss"]


def test_oembed_gives_the_iframe_widget_of_a_page(client: FlaskClient, bundled_app: Flask) -> None:
    feed = catalog_of(bundled_app).feeds["categorie/sport"]
    page = page_of(client, feed_page_path(feed))
    [link] = page.xpath("//head/link[@type='application/json+oembed']/@href")
    assert link.startswith(SITE_URL + "/oembed?")
    query = parse_qs(urlsplit(link).query)
    assert query["url"] == [SITE_URL + feed_page_path(feed)]
    response = client.get(link.removeprefix(SITE_URL))
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = response.get_json()
    assert data["version"] == "1.0"
    assert data["type"] == "rich"
    assert isinstance(data["width"], int)
    assert isinstance(data["height"], int)
    frame = lxml.html.fragment_fromstring(data["html"])
    assert frame.tag == "iframe"
    assert frame.get("src").startswith(SITE_URL + embed_path(feed) + "?")
    assert int(frame.get("height")) == data["height"]
    assert client.get(frame.get("src").removeprefix(SITE_URL)).status_code == 200
    smaller = client.get(link.removeprefix(SITE_URL) + "&maxheight=400").get_json()
    assert smaller["height"] <= 400


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("url=https://elders.example.org/categorie/sport.html", 404),
        (f"url={SITE_URL}/categorie/bestaat-niet.html", 404),
        (f"url={SITE_URL}/categorie/sport.html&format=xml", 501),
        ("", 404),
    ],
)
def test_oembed_refuses_what_it_cannot_embed(client: FlaskClient, query: str, status: int) -> None:
    assert client.get(f"/oembed?{query}").status_code == status


def test_subscribing_takes_one_click_in_popular_readers(client: FlaskClient) -> None:
    page = page_of(client, "/categorie/cultuur.html")
    rss = SITE_URL + "/feeds/categorie/cultuur.rss"
    readers = {a.text_content(): a.get("href") for a in page.find_class("reader")}
    assert unquote(readers["Feedly"]) == "https://feedly.com/i/subscription/feed/" + rss
    assert parse_qs(urlsplit(readers["Inoreader"]).query)["add_feed"] == [rss]
    assert readers["NetNewsWire en andere apps"] == "feed:" + rss
    names = [a.get("aria-label") for a in page.find_class("reader")]
    assert "Volg Cultuur in Feedly" in names
    # RSS is the one shown; the other formats wait under "Andere formaten".
    formats = page.xpath("//details[contains(@class, 'formats')]")[0]
    assert formats.find("summary").text_content() == "Andere formaten"
    assert {a.get("href") for a in formats.iter("a")} == {
        "/feeds/categorie/cultuur.atom",
        "/feeds/categorie/cultuur.json",
    }


def test_copy_buttons_say_what_they_copy(client: FlaskClient) -> None:
    page = page_of(client, "/")
    names = [b.get("aria-label") or b.text_content() for b in page.find_class("copy")]
    assert len(names) > 30
    assert len(set(names)) == len(names)
    assert "Kopieer RSS-adres van Cultuur" in names


@pytest.mark.parametrize("extension", ["rss", "atom", "json"])
def test_a_reader_with_a_browser_like_accept_header_still_gets_a_feed(
    client: FlaskClient, bundled_app: Flask, extension: str
) -> None:
    """Some readers send what a browser sends; whatever a browser gets must parse as a feed."""
    feed = catalog_of(bundled_app).feeds["categorie/nieuws"]
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get(feed_path(feed, extension), headers={"Accept": accept})
    assert response.status_code == 200
    titles = [a.title for a in feed.articles[:50]]
    if extension == "json":  # feedparser reads XML feeds only
        document = json.loads(response.data)
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert [item["title"] for item in document["items"]] == titles
        return
    parsed = feedparser.parse(
        response.data, response_headers={"content-type": response.headers["Content-Type"]}
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == feed.title
    assert [entry.title for entry in parsed.entries] == titles

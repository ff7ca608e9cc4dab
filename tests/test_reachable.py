"""Every article can be found: by following links from the front page as a visitor (or a
search engine) would, through the "Oudere berichten" pages, and in the sitemap."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import lxml.etree
import lxml.html
import pytest
from conftest import BUNDLED_CONTENT, SITE_URL
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.web.crawlers import SITEMAP_PART_URLS

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def article_urls_in(folder: Path) -> set[str]:
    """The article pages the content folder should give, read from the file names alone."""
    return {
        f"/artikelen/{path.relative_to(folder).with_suffix('').as_posix()}.html"
        for path in folder.rglob("*.txt")
    }


def crawl(client: FlaskClient, start: str = "/") -> dict[str, int]:
    """Every site path reachable from ``start`` over <a href>, with its status code."""
    seen: dict[str, int] = {}
    queue = deque([start])
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if not response.content_type.startswith("text/html") or response.status_code != 200:
            continue
        page = lxml.html.fromstring(response.data)
        for anchor in page.iter("a"):
            href = anchor.get("href")
            if not href:
                continue
            url, _ = urldefrag(href)
            if url.startswith(SITE_URL):
                url = url[len(SITE_URL) :]
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue  # another site, or a feed: link for a reader
            if parts.path.startswith("/feeds"):
                continue  # feeds are for readers; their HTML pages are linked as well
            queue.append(url)
    return seen


@pytest.mark.parametrize("page_size", [3, 50])
def test_every_article_is_reachable_from_the_front_page(
    make_app: Callable[..., Flask], page_size: int
) -> None:
    client = make_app(BUNDLED_CONTENT, PAGE_SIZE=page_size).test_client()
    seen = crawl(client)
    broken = {path: status for path, status in seen.items() if status != 200}
    assert broken == {}
    expected = {unquote(path) for path in article_urls_in(BUNDLED_CONTENT)}
    reached = {unquote(path) for path in seen if path.startswith("/artikelen/")}
    assert len(expected) > 30
    assert expected <= reached


def test_listings_page_back_with_rel_links(make_app: Callable[..., Flask]) -> None:
    client = make_app(BUNDLED_CONTENT, PAGE_SIZE=4).test_client()
    path: str | None = "/berichten/pagina-1.html"
    articles: list[str] = []
    pages = 0
    while path is not None:
        response = client.get(path)
        assert response.status_code == 200, path
        page = lxml.html.fromstring(response.data)
        pages += 1
        articles += [
            a.get("href") for a in page.xpath("//ol[@class='articles']//a[@class='title']")
        ]
        head_next = page.xpath("//head/link[@rel='next']/@href")
        body_next = page.xpath("//nav[@class='pager']/a[@rel='next']/@href")
        assert [SITE_URL + href for href in body_next] == head_next
        if pages > 1:
            assert page.xpath("//head/link[@rel='prev']/@href")
        path = body_next[0] if body_next else None
    expected = article_urls_in(BUNDLED_CONTENT)
    assert pages == -(-len(expected) // 4)
    assert len(articles) == len(set(articles)) == len(expected)


@pytest.mark.parametrize(
    "path",
    [
        "/berichten/pagina-0.html",
        "/berichten/pagina-999.html",
        "/berichten/pagina-01.html",
        "/berichten/pagina-2",
        "/categorie/nieuws/pagina-1.html",
        "/categorie/nieuws/pagina-999.html",
        "/bron/navo/pagina-x.html",
    ],
)
def test_pages_that_do_not_exist_are_404(make_app: Callable[..., Flask], path: str) -> None:
    client = make_app(BUNDLED_CONTENT, PAGE_SIZE=4).test_client()
    assert client.get(path).status_code == 404


def test_robots_txt_names_the_sitemap(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in lines
    assert not any(line.startswith("Disallow: /") and line != "Disallow:" for line in lines)


def sitemap_locs(client: FlaskClient, limit: int) -> tuple[int, list[str]]:
    index = lxml.etree.fromstring(client.get("/sitemap.xml").data)
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    locs: list[str] = []
    parts = index.xpath("//s:sitemap/s:loc/text()", namespaces=SITEMAP_NS)
    for part in parts:
        assert part.startswith(SITE_URL)
        response = client.get(part[len(SITE_URL) :])
        assert response.status_code == 200
        urlset = lxml.etree.fromstring(response.data)
        urls = urlset.xpath("//s:url/s:loc/text()", namespaces=SITEMAP_NS)
        assert 1 <= len(urls) <= limit
        locs += urls
    return len(parts), locs


@pytest.mark.parametrize(("limit", "parts"), [(SITEMAP_PART_URLS, 1), (10, None)])
def test_the_sitemap_lists_every_page_once(
    make_app: Callable[..., Flask], limit: int, parts: int | None
) -> None:
    config = {} if limit == SITEMAP_PART_URLS else {"SITEMAP_LIMIT": limit}
    client = make_app(BUNDLED_CONTENT, PAGE_SIZE=4, **config).test_client()
    count, locs = sitemap_locs(client, limit)
    assert len(locs) == len(set(locs))
    assert count == (parts or -(-len(locs) // limit))
    assert count > 1 or parts == 1
    paths = {loc[len(SITE_URL) :] for loc in locs}
    assert article_urls_in(BUNDLED_CONTENT) <= {unquote(p) for p in paths} | paths
    assert {"/", "/berichten/pagina-1.html", "/categorie/nieuws/pagina-2.html"} <= paths
    for path in paths:
        assert client.get(path).status_code == 200, path
    assert not any(p.startswith(("/feeds/", "/embed/")) for p in paths)

"""Error pages as a resident meets them: Dutch, friendly, with ways back and never an internal
id; a feed URL that does not exist names the feeds that look like it."""

from __future__ import annotations

from collections.abc import Callable

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ENGLISH = ("Not Found", "Method Not Allowed", "Bad Request", "Internal Server Error", "requested")


def read(response: TestResponse) -> lxml.html.HtmlElement:
    assert response.content_type == "text/html; charset=utf-8"
    return lxml.html.fromstring(response.data)


def assert_dutch_error_page(response: TestResponse) -> lxml.html.HtmlElement:
    page = read(response)
    text = page.text_content()
    assert page.get("lang") == "nl"
    for word in ENGLISH:
        assert word not in text, word
    hrefs = {a.get("href") for a in page.iter("a")}
    assert "/" in hrefs  # a way back to the front page
    assert page.find(".//h1").text_content().strip()
    return page


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/nergens", 404),
        ("GET", "/categorie/nope.html", 404),
        ("GET", "/artikelen/2024/bestaat-niet.html", 404),
        ("GET", "/feeds/all.rss?page=0", 400),
        ("GET", "/feeds/all.rss?page=999", 404),
        ("POST", "/", 405),
        ("DELETE", "/feeds/all.rss", 405),
    ],
)
def test_error_pages_are_dutch_with_a_way_back(
    client: FlaskClient, method: str, url: str, status: int
) -> None:
    response = client.open(url, method=method)
    assert response.status_code == status
    page = assert_dutch_error_page(response)
    assert "nope" not in page.text_content()  # no raw ids from the request
    assert "bestaat-niet" not in page.text_content()


def test_a_server_error_is_a_dutch_page(make_app: Callable[..., Flask]) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/kapot")
    def broken() -> str:
        raise RuntimeError("interne details die niemand hoeft te zien")

    response = app.test_client().get("/kapot")
    assert response.status_code == 500
    page = assert_dutch_error_page(response)
    assert "interne details" not in page.text_content()


def test_a_405_keeps_its_allow_header(client: FlaskClient) -> None:
    response = client.post("/categorie/nieuws.html")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/feeds/categorie/nieuwss.rss", "/categorie/nieuws.html"),
        (
            "/feeds/categorie/nieuws/gemeente/verkeeer.atom",
            "/categorie/nieuws/gemeente/verkeer.html",
        ),
        ("/feeds/verkeer.rss", "/categorie/nieuws/gemeente/verkeer.html"),
        ("/feeds/bron/nato.json", "/bron/navo.html"),
        ("/feeds/categorie/nieuws.xml", "/categorie/nieuws.html"),
    ],
)
def test_an_unknown_feed_lists_the_nearest_feeds(
    client: FlaskClient, url: str, expected: str
) -> None:
    response = client.get(url)
    assert response.status_code == 404
    page = assert_dutch_error_page(response)
    suggested = [a.get("href") for a in page.xpath("//ul[@class='suggestions']//a")]
    assert expected in suggested


def test_feed_errors_can_be_read_by_scripts_on_other_sites(client: FlaskClient) -> None:
    for response in (
        client.get("/feeds/bestaat/niet.json"),
        client.get("/feeds/all.json?page=abc"),
        client.post("/feeds/all.json"),
    ):
        assert response.status_code >= 400
        assert response.headers["Access-Control-Allow-Origin"] == "*"

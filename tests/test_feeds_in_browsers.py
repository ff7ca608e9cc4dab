"""Feeds as a browser gets them: an xml-stylesheet for people, a content type the browser shows,
and HTTP caching that keeps the browser's and the readers' representations apart.

(What Chromium makes of them is in test_browser.py; these run everywhere.)
"""

from __future__ import annotations

import gzip

import feedparser
import pytest
from conftest import SITE_URL
from flask.testing import FlaskClient
from lxml import etree
from werkzeug.test import TestResponse

from feedsvc.feeds.builder import FEED_STYLESHEET_PATH
from feedsvc.feeds.writers import FORMATS

BROWSERS = {
    "chromium": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "firefox": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "safari": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
READERS = {
    "no accept header": None,
    "anything": "*/*",
    "feed types": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8",
    "json feed": "application/feed+json, application/json;q=0.9",
    "html and feeds alike": "text/html, application/rss+xml, application/atom+xml, "
    "application/feed+json, */*",
    "plain xml": "application/xml",
    "html less wanted": "text/html;q=0.5, */*",
    "garbage": "%%;;q=x",
}
BROWSER_TYPES = {
    "rss": "application/xml; charset=utf-8",
    "atom": "application/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
URL = "/feeds/categorie/nieuws.{}"


def get(client: FlaskClient, url: str, accept: str | None, **headers: str) -> TestResponse:
    if accept is not None:
        headers["Accept"] = accept
    return client.get(url, headers=headers)


# -- the stylesheet -------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_xml_feeds_carry_a_css_stylesheet_instruction(client: FlaskClient, extension: str) -> None:
    data = client.get(URL.format(extension)).data
    document = etree.fromstring(data).getroottree()
    instructions = [
        node
        for node in document.getroot().itersiblings(preceding=True)
        if isinstance(node, etree._ProcessingInstruction)
    ]
    assert [pi.target for pi in instructions] == ["xml-stylesheet"]
    assert instructions[0].get("type") == "text/css"
    assert instructions[0].get("href") == SITE_URL + FEED_STYLESHEET_PATH
    assert not feedparser.parse(data).bozo  # readers take no notice of it


def test_the_json_feed_has_no_stylesheet(client: FlaskClient) -> None:
    assert b"stylesheet" not in client.get(URL.format("json")).data


def test_the_feed_stylesheet_is_served_as_css(client: FlaskClient) -> None:
    response = client.get(FEED_STYLESHEET_PATH)
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    assert "@namespace atom url(http://www.w3.org/2005/Atom);" in css
    assert "Dit is een nieuwsfeed" in css
    response.close()


# -- content type per client ----------------------------------------------------------------------


@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize("extension", FORMATS)
def test_browsers_get_the_same_bytes_under_a_type_they_display(
    client: FlaskClient, browser: str, extension: str
) -> None:
    url = URL.format(extension)
    reader = client.get(url)
    shown = get(client, url, BROWSERS[browser])
    assert shown.status_code == 200
    assert shown.headers["Content-Type"] == BROWSER_TYPES[extension]
    assert shown.data == reader.data
    assert shown.headers["Vary"] == "Accept, Accept-Encoding"
    assert shown.headers["ETag"] == reader.headers["ETag"][:-1] + '-browser"'
    assert shown.headers["Last-Modified"] == reader.headers["Last-Modified"]
    assert shown.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("extension", FORMATS)
def test_readers_get_the_feed_type(client: FlaskClient, reader: str, extension: str) -> None:
    response = get(client, URL.format(extension), READERS[reader])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == FORMATS[extension].content_type
    assert response.headers["Vary"] == "Accept, Accept-Encoding"
    assert not response.headers["ETag"].endswith('-browser"')


def test_the_opml_file_is_not_negotiated(client: FlaskClient) -> None:
    response = get(client, "/feeds.opml", BROWSERS["firefox"])
    assert response.headers["Content-Type"] == "text/x-opml; charset=utf-8"
    assert response.headers["Vary"] == "Accept-Encoding"


# -- conditional requests per representation ------------------------------------------------------


def test_each_representation_revalidates_with_its_own_etag(client: FlaskClient) -> None:
    url = URL.format("atom")
    browser, reader = BROWSERS["firefox"], READERS["feed types"]
    shown = get(client, url, browser).headers["ETag"]
    feed = get(client, url, reader).headers["ETag"]
    assert shown != feed
    again = get(client, url, browser, **{"If-None-Match": shown})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == shown
    assert again.headers["Vary"] == "Accept, Accept-Encoding"
    assert get(client, url, reader, **{"If-None-Match": feed}).status_code == 304
    # A validator of the other representation never gives a 304 for this one.
    assert get(client, url, browser, **{"If-None-Match": feed}).status_code == 200
    assert get(client, url, reader, **{"If-None-Match": shown}).status_code == 200


def test_compressed_browser_representation(client: FlaskClient) -> None:
    url = URL.format("rss")
    browser = BROWSERS["chromium"]
    plain = get(client, url, browser)
    zipped = get(client, url, browser, **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    etag = zipped.headers["ETag"]
    assert etag.endswith('-gzip-browser"')
    assert len({etag, plain.headers["ETag"], client.get(url).headers["ETag"]}) == 3
    revalidated = get(client, url, browser, **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert revalidated.status_code == 304


def test_head_for_a_browser(client: FlaskClient) -> None:
    url = URL.format("json")
    head = client.head(url, headers={"Accept": BROWSERS["safari"]})
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == "application/json; charset=utf-8"
    assert head.headers["ETag"].endswith('-browser"')

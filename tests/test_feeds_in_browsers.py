"""Feeds as a browser gets them: an xml-stylesheet for people, a content type the browser shows,
and HTTP caching that keeps the browser's and the readers' representations apart.

(What Chromium makes of them is in test_browser.py; these run everywhere.)
"""

from __future__ import annotations

import gzip
from datetime import datetime
from typing import Any

import feedparser
import lxml.html
import pytest
from conftest import SITE_URL
from feedcheck import assert_valid_atom, assert_valid_rss
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
    css = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "@namespace h url(http://www.w3.org/1999/xhtml);" in css
    assert "@namespace atom url(http://www.w3.org/2005/Atom);" in css
    assert "channel > h|div.feedsvc-browser" in css


# -- the page for people inside the feed ----------------------------------------------------------

XHTML = "{http://www.w3.org/1999/xhtml}"
DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
                "september", "oktober", "november", "december")  # fmt: skip


def as_text(detail: Any) -> str:
    """What a reader shows of a feedparser text construct: HTML rendered to its text."""
    if detail.type in ("text/html", "application/xhtml+xml"):
        return str(lxml.html.fragment_fromstring(detail.value, create_parent="div").text_content())
    return str(detail.value)


def browser_view(data: bytes, extension: str) -> etree._Element:
    """The XHTML div a browser shows, where the W3C validator accepts one: in channel or feed."""
    root = etree.fromstring(data)
    parent = root.find("channel") if extension == "rss" else root
    assert parent is not None
    (view,) = parent.findall(f"{XHTML}div")
    return view


@pytest.mark.parametrize("browser", ["chromium", "firefox"])
@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_a_browser_gets_a_page_for_people_inside_a_valid_feed(
    client: FlaskClient, browser: str, extension: str
) -> None:
    url = f"/feeds/categorie/sport.{extension}"
    data = get(client, url, BROWSERS[browser]).data
    validate = assert_valid_rss if extension == "rss" else assert_valid_atom
    validate(data, SITE_URL + url)  # schema and rules, placement of XHTML included
    view = browser_view(data, extension)
    entries = feedparser.parse(data).entries  # an independent reading of the items
    assert entries
    shown = list(view.iter(f"{XHTML}li"))
    assert [li.findtext(f"{XHTML}h2/{XHTML}a") for li in shown] == [
        as_text(e.title_detail) for e in entries
    ]
    assert [li.find(f"{XHTML}h2/{XHTML}a").get("href") for li in shown] == [  # type: ignore[union-attr]
        e.link for e in entries
    ]
    for li, entry in zip(shown, entries, strict=True):
        time = li.find(f"{XHTML}p/{XHTML}time")
        assert time is not None
        published = datetime.fromisoformat(time.get("datetime", ""))
        assert published.utctimetuple()[:6] == entry.published_parsed[:6]
        assert time.text == f"{published.day} {DUTCH_MONTHS[published.month - 1]} {published.year}"
    # The summary as its own characters: "H&BC", never the escaped "H&amp;BC" RSS carries.
    summaries = [li.findtext(f"{XHTML}p[@class='summary']") or "" for li in shown]
    assert any("H&BC" in text for text in summaries)
    assert not any("&amp;" in text for text in summaries)
    links = {a.text: a.get("href") for a in view.iter(f"{XHTML}a")}
    assert links["Volg deze feed in je feedlezer"] == SITE_URL + "/categorie/sport.html"
    assert any(href == SITE_URL + "/" for href in links.values())  # back to the site
    assert view.findtext(f".//{XHTML}code") == SITE_URL + url


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_a_reader_with_a_browsers_accept_header_reads_the_same_feed(
    client: FlaskClient, extension: str
) -> None:
    """newsboat-like readers that send text/html,…,*/*;q=0.8 read every item as others do."""
    url = URL.format(extension)
    as_reader = feedparser.parse(get(client, url, READERS["feed types"]).data)
    as_browser = feedparser.parse(get(client, url, BROWSERS["firefox"]).data)
    assert not as_browser.bozo
    assert as_browser.version == ("rss20" if extension == "rss" else "atom10")
    assert as_browser.feed.title == as_reader.feed.title
    assert as_browser.entries == as_reader.entries
    assert len(as_browser.entries) > 1


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

"""The writers against hand-written documents, and the bodies they write against the files.

Each writer is a pure function of a :class:`FeedDocument` (or :class:`OpmlDocument`), so these
tests build one by hand, write it, and read the result back with an independent parser (lxml,
json, feedparser): no settings, catalog or app involved. The last tests read every bundled article
file directly and compare its paragraphs with the text of each item's HTML body in every format.
"""

from __future__ import annotations

import json
import locale
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dateutil.tz
import feedparser
import pytest
from conftest import BUNDLED_CONTENT
from feedgen.feed import FeedGenerator
from flask import Flask
from lxml import etree
from lxml import html as lxml_html

from feedsvc.feeds.document import (
    BrowserView,
    DocumentCategory,
    DocumentEntry,
    DocumentSource,
    FeedDocument,
    Link,
    OpmlDocument,
    Outline,
)
from feedsvc.feeds.urls import article_path
from feedsvc.feeds.writers import ATOM, FORMATS, JSON_FEED, RSS
from feedsvc.feeds.writers.opml import render_opml

A = "{http://www.w3.org/2005/Atom}"
H = "{http://www.w3.org/1999/xhtml}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC = "{http://purl.org/dc/elements/1.1/}"
CET = timezone(timedelta(hours=1))
BASE = "https://voorbeeld.nl"


def category(*names: str) -> DocumentCategory:
    return DocumentCategory(
        names=names,
        path="/".join(names),
        label=" -> ".join(names),
        scheme=BASE + "/categorie/",
        display=" -> ".join(names),
    )


def document(extension: str, media_type: str) -> FeedDocument:
    """Page 2 of 3 of a feed, with a hub, one entry with a source and one without."""
    feed = f"{BASE}/feeds/all.{extension}"
    return FeedDocument(
        extension=extension,
        media_type=media_type,
        id=feed,
        title="Voorbeeld & Co",
        description="Alle berichten",
        language="nl",
        rights="© Voorbeeld",
        author_name="Voorbeeld",
        author_url=BASE + "/",
        self_url=feed + "?page=2",
        alternate_url=BASE + "/",
        first_url=feed,
        previous_url=feed,
        next_url=feed + "?page=3",
        last_url=feed + "?page=3",
        hub_url="https://hub.example/",
        generator_name="feedsvc",
        generator_version="9.8.7",
        icon_url=BASE + "/icon.png",
        favicon_url=BASE + "/favicon.png",
        favicon_size=64,
        stylesheet_url=BASE + "/feed.css?a=1&b=2",
        docs_url="https://www.rssboard.org/rss-specification",
        extensions_about_url=BASE + "/#json-feed",
        updated=datetime(2025, 3, 14, 9, 30, tzinfo=CET),
        ttl_minutes=5,
        entries=(
            DocumentEntry(
                id=BASE + "/artikelen/b.html",
                link=BASE + "/artikelen/b.html",
                title="Tom &amp; Jerry </b>",
                summary="Kort &amp; goed",
                content_html="<p>Een &amp; twee</p>",
                published=datetime(2025, 3, 14, 9, 0, tzinfo=CET),
                updated=datetime(2025, 3, 14, 9, 30, tzinfo=CET),
                published_text="14 maart 2025",
                category=category("Nieuws", "Informatief"),
                source=DocumentSource(
                    name="NAVO",
                    feed_url=f"{BASE}/feeds/bron/navo.{extension}",
                    updated=datetime(2025, 3, 14, 9, 30, tzinfo=CET),
                ),
            ),
            DocumentEntry(
                id=BASE + "/artikelen/a.html",
                link=BASE + "/artikelen/a.html",
                title="Ouder bericht",
                summary="Samenvatting",
                content_html="<p>Tekst</p>",
                published=datetime(2025, 1, 1, tzinfo=UTC),
                updated=datetime(2025, 1, 2, tzinfo=UTC),
                published_text="1 januari 2025",
                category=category("Sport"),
                source=None,
            ),
        ),
        browser_view=BrowserView(
            home=Link("Naar Voorbeeld", BASE + "/"),
            notice="Dit is een nieuwsfeed.",
            explanation="Uitleg <b>&amp;</b>",
            subscribe=Link("Volg deze feed", BASE + "/alles.html"),
            copy_hint="Kopieer dit adres:",
            address=feed,
            source_label="Bron",
            newer=Link("Nieuwere berichten", feed),
            older=Link("Oudere berichten", feed + "?page=3"),
        ),
    )


def shown(detail: Any) -> str:
    """What a reader shows of a feedparser text construct: HTML rendered to its text."""
    if detail.type in ("text/html", "application/xhtml+xml"):
        return str(lxml_html.fragment_fromstring(detail.value, create_parent="div").text_content())
    return str(detail.value)


def test_rss_of_a_hand_written_document() -> None:
    data = RSS.render(document("rss", RSS.media_type))
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<?xml-stylesheet ")
    assert b'href="https://voorbeeld.nl/feed.css?a=1&#x26;b=2"' in data
    for named in (b"&amp;", b"&lt;", b"&gt;"):
        assert named not in data  # RSS Best Practices: hexadecimal references
    root = etree.fromstring(data)
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Voorbeeld & Co"
    assert channel.findtext("link") == BASE + "/"
    assert channel.findtext("lastBuildDate") == "Fri, 14 Mar 2025 09:30:00 +0100"
    assert channel.findtext("ttl") == "5"
    assert channel.findtext("language") == "nl"
    assert channel.findtext("generator") == "feedsvc 9.8.7"
    assert channel.findtext("image/url") == BASE + "/favicon.png"
    links = {link.get("rel"): link.get("href") for link in channel.iter(f"{A}link")}
    feed = BASE + "/feeds/all.rss"
    assert links == {
        "self": feed + "?page=2",
        "first": feed,
        "previous": feed,
        "next": feed + "?page=3",
        "last": feed + "?page=3",
        "hub": "https://hub.example/",
    }
    items = channel.findall("item")
    assert [i.findtext("link") for i in items] == [
        BASE + "/artikelen/b.html",
        BASE + "/artikelen/a.html",
    ]
    first, second = items
    assert first.findtext("title") == "Tom &amp; Jerry </b>"
    assert first.findtext("description") == "Kort &amp;amp; goed"
    assert first.findtext(CONTENT) == "<p>Een &amp; twee</p>"
    guid = first.find("guid")
    assert guid is not None
    assert (guid.text, guid.get("isPermaLink")) == (BASE + "/artikelen/b.html", "true")
    assert first.findtext("pubDate") == "Fri, 14 Mar 2025 09:00:00 +0100"
    assert first.findtext(f"{A}updated") == "2025-03-14T09:30:00+01:00"
    cat = first.find("category")
    assert cat is not None
    assert (cat.text, cat.get("domain")) == ("Nieuws/Informatief", BASE + "/categorie/")
    source = first.find("source")
    assert source is not None
    assert (source.text, source.get("url")) == ("NAVO", BASE + "/feeds/bron/navo.rss")
    assert first.findtext(f"{DC}creator") == "NAVO"
    assert second.find("source") is None
    assert second.find(f"{DC}creator") is None
    entries = feedparser.parse(data).entries
    assert [e.updated_parsed[:6] for e in entries] == [
        (2025, 3, 14, 8, 30, 0),
        (2025, 1, 2, 0, 0, 0),
    ]


def test_atom_of_a_hand_written_document() -> None:
    data = ATOM.render(document("atom", ATOM.media_type))
    assert b"<?xml-stylesheet " in data.split(b"<feed", 1)[0]
    root = etree.fromstring(data)
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id") == BASE + "/feeds/all.atom"  # the feed's, not the page's
    assert root.findtext(f"{A}updated") == "2025-03-14T09:30:00+01:00"
    generator = root.find(f"{A}generator")
    assert generator is not None
    assert (generator.text, generator.get("version")) == ("feedsvc", "9.8.7")
    assert root.findtext(f"{A}icon") == BASE + "/favicon.png"
    rels = [(link.get("rel"), link.get("href")) for link in root.findall(f"{A}link")]
    assert ("self", BASE + "/feeds/all.atom?page=2") in rels
    assert ("hub", "https://hub.example/") in rels
    assert {rel for rel, _ in rels} == {
        "self",
        "alternate",
        "first",
        "previous",
        "next",
        "last",
        "hub",
    }
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert shown(parsed.feed.title_detail) == "Voorbeeld & Co"


def test_atom_entries_of_a_hand_written_document() -> None:
    data = ATOM.render(document("atom", ATOM.media_type))
    first, second = etree.fromstring(data).findall(f"{A}entry")
    title = first.find(f"{A}title")
    assert title is not None
    # Text that reads as HTML is type="xhtml": a div holding exactly the text.
    assert title.get("type") == "xhtml"
    xhtml = "{http://www.w3.org/1999/xhtml}"
    assert [child.tag for child in title.iter()][1:] == [f"{xhtml}div", f"{xhtml}span"]
    assert "".join(title.itertext()) == "Tom &amp; Jerry </b>"
    summary = first.find(f"{A}summary")
    assert summary is not None
    assert (summary.get("type"), "".join(summary.itertext())) == ("xhtml", "Kort &amp; goed")
    second_summary = second.find(f"{A}summary")
    assert second_summary is not None
    assert (second_summary.get("type"), second_summary.text) == ("text", "Samenvatting")
    link = first.find(f"{A}link")
    assert link is not None
    assert (link.get("rel"), link.get("type")) == ("alternate", "text/html")
    assert first.findtext(f"{A}published") == "2025-03-14T09:00:00+01:00"
    cat = first.find(f"{A}category")
    assert cat is not None
    assert cat.attrib == {
        "term": "Nieuws -> Informatief",
        "scheme": BASE + "/categorie/",
        "label": "Nieuws -> Informatief",
    }
    source = first.find(f"{A}source")
    assert source is not None
    assert source.findtext(f"{A}id") == BASE + "/feeds/bron/navo.atom"
    assert source.findtext(f"{A}title") == "NAVO"
    assert source.findtext(f"{A}updated") == "2025-03-14T09:30:00+01:00"
    self_link = source.find(f"{A}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == BASE + "/feeds/bron/navo.atom"
    assert second.find(f"{A}source") is None
    second_title = second.find(f"{A}title")
    assert second_title is not None
    assert second_title.get("type", "text") == "text"
    one, two = feedparser.parse(data).entries
    assert shown(one.title_detail) == "Tom &amp; Jerry </b>"
    assert shown(one.summary_detail) == "Kort &amp; goed"
    assert one.tags[0].term == "Nieuws -> Informatief"
    assert two.updated_parsed[:3] == (2025, 1, 2)


# -- the browser view -----------------------------------------------------------------------------


def browser_view_of(extension: str) -> etree._Element:
    """The XHTML div of the hand-written document in ``extension``, found by lxml."""
    fmt = FORMATS[extension]
    root = etree.fromstring(fmt.render(document(extension, fmt.media_type)))
    parent = root.find("channel") if extension == "rss" else root
    assert parent is not None
    (view,) = parent.findall(f"{H}div")
    return view


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_the_browser_view_is_one_xhtml_div_before_the_entries(extension: str) -> None:
    fmt = FORMATS[extension]
    root = etree.fromstring(fmt.render(document(extension, fmt.media_type)))
    parent = root.find("channel") if extension == "rss" else root
    assert parent is not None
    tags = [child.tag for child in parent]
    assert [tag for tag in tags if tag.startswith(H)] == [f"{H}div"]
    assert tags.index(f"{H}div") < tags.index("item" if extension == "rss" else f"{A}entry")
    # Nowhere else but in Atom text constructs (type="xhtml") does XHTML start.
    for element in root.iter(f"{H}*"):
        outer = element.getparent()
        assert outer is not None
        if not str(outer.tag).startswith(H):
            assert outer is parent or outer.get("type") == "xhtml", outer.tag


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_the_browser_view_links_each_entry_with_its_date_in_words(extension: str) -> None:
    view = browser_view_of(extension)
    assert view.get("lang") == "nl"
    meta = view.find(f"{H}meta")
    assert meta is not None
    assert (meta.get("name"), meta.get("content")) == (
        "viewport",
        "width=device-width, initial-scale=1",
    )
    assert view.findtext(f"{H}title") == "Voorbeeld & Co"
    assert view.findtext(f".//{H}h1") == "Voorbeeld & Co"
    entries = view.findall(f"{H}ol/{H}li")
    titles = [li.find(f"{H}h2/{H}a") for li in entries]
    assert [(a.text, a.get("href")) for a in titles if a is not None] == [
        ("Tom &amp; Jerry </b>", BASE + "/artikelen/b.html"),
        ("Ouder bericht", BASE + "/artikelen/a.html"),
    ]
    times = [li.find(f"{H}p/{H}time") for li in entries]
    assert [(t.text, t.get("datetime")) for t in times if t is not None] == [
        ("14 maart 2025", "2025-03-14T09:00:00+01:00"),
        ("1 januari 2025", "2025-01-01T00:00:00+00:00"),
    ]
    assert [li.findtext(f"{H}p[@class='summary']") for li in entries] == [
        "Kort &amp; goed",  # the summary's own characters, not HTML
        "Samenvatting",
    ]
    assert [li.findtext(f".//{H}span[@class='source']") for li in entries] == ["Bron: NAVO", None]


def view_items(data: bytes, extension: str) -> list[tuple[str | None, ...]]:
    """What each list item of the browser view in ``data`` shows, read by lxml."""
    root = etree.fromstring(data)
    parent = root.find("channel") if extension == "rss" else root
    assert parent is not None
    shown = []
    for li in parent.findall(f"{H}div/{H}ol/{H}li"):
        link = li.find(f"{H}h2/{H}a")
        time = li.find(f"{H}p/{H}time")
        assert link is not None
        assert time is not None
        source = li.findtext(f".//{H}span[@class='source']")
        summary = li.findtext(f"{H}p[@class='summary']")
        dated = (time.text, time.get("datetime"))
        shown.append((link.text, link.get("href"), *dated, source, summary))
    return shown


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Nieuwe titel"},
        {"link": BASE + "/artikelen/c.html"},
        {"summary": "Andere samenvatting"},
        {"published_text": "15 maart 2025"},
        # The same moment, written with another offset.
        {"published": datetime(2025, 3, 14, 8, 0, tzinfo=UTC)},
        {"published": datetime(2025, 3, 14, 10, 0, tzinfo=CET)},
        {"source": None},
    ],
    ids=lambda change: next(iter(change)),
)
@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_a_changed_entry_is_shown_as_it_is_now_in_the_browser_view(
    extension: str, change: dict[str, Any]
) -> None:
    """An entry's list item is made once and kept by what it shows: an entry that shows
    anything else gets its own, in RSS and Atom alike, whatever was rendered before."""
    fmt = FORMATS[extension]
    before = document(extension, fmt.media_type)
    for other in FORMATS.values():  # both formats' items kept
        other.render(document(other.extension, other.media_type))
    entries = (replace(before.entries[0], **change), *before.entries[1:])
    data = fmt.render(replace(before, entries=entries))
    expected = view_items(data, extension)[1:]
    assert expected == view_items(fmt.render(before), extension)[1:]
    first = view_items(data, extension)[0]
    entry = entries[0]
    assert first == (
        entry.title,
        entry.link,
        entry.published_text,
        entry.published.isoformat(),
        f"Bron: {entry.source.name}" if entry.source is not None else None,
        entry.summary,
    )


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_the_browser_view_leads_back_to_the_site_and_to_subscribing(extension: str) -> None:
    view = browser_view_of(extension)
    links = {a.text: a.get("href") for a in view.iter(f"{H}a") if a.getparent().tag != f"{H}h2"}
    feed = f"{BASE}/feeds/all.{extension}"
    assert links == {
        "Naar Voorbeeld": BASE + "/",
        "Volg deze feed": BASE + "/alles.html",
        "Nieuwere berichten": feed,
        "Oudere berichten": feed + "?page=3",
    }
    pages = {a.get("rel"): a.text for a in view.iter(f"{H}a") if a.get("rel")}
    assert pages == {"prev": "Nieuwere berichten", "next": "Oudere berichten"}
    assert view.findtext(f".//{H}code") == feed
    notice = "".join(view.find(f".//{H}section").itertext())  # type: ignore[union-attr]
    assert "Dit is een nieuwsfeed. Uitleg <b>&amp;</b>" in notice  # text, never markup
    assert view.find(f".//{H}b") is None


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_readers_read_the_same_feed_with_or_without_the_browser_view(extension: str) -> None:
    fmt = FORMATS[extension]
    full = document(extension, fmt.media_type)
    plain = replace(full, browser_view=None)
    root = etree.fromstring(fmt.render(plain))
    assert root.find(f"channel/{H}div" if extension == "rss" else f"{H}div") is None
    with_view, without = feedparser.parse(fmt.render(full)), feedparser.parse(fmt.render(plain))
    assert not with_view.bozo
    assert with_view.entries == without.entries
    # feedparser files the view's elements under keys of their own ("xhtml_div", ...).
    added = with_view.feed.keys() - without.feed.keys()
    assert added
    assert all(key.startswith("xhtml_") for key in added)
    assert {key: with_view.feed[key] for key in without.feed} == dict(without.feed)


def test_json_feed_of_a_hand_written_document() -> None:
    doc = json.loads(JSON_FEED.render(document("json", JSON_FEED.media_type)))
    assert doc["feed_url"] == BASE + "/feeds/all.json"  # on page 2 too
    assert doc["next_url"] == BASE + "/feeds/all.json?page=3"
    assert doc["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]
    first, second = doc["items"]
    assert first["title"] == "Tom &amp; Jerry </b>"
    assert first["date_modified"] == "2025-03-14T09:30:00+01:00"
    assert first["tags"] == ["Nieuws", "Informatief"]
    assert first["_bron"]["feed_url"] == BASE + "/feeds/bron/navo.json"
    assert first["_categorie"]["label"] == "Nieuws -> Informatief"
    assert "_bron" not in second


def test_opml_of_a_hand_written_document() -> None:
    feed = Outline("Sport", title="V: Sport", xml_url=BASE + "/s.rss", html_url=BASE + "/s.html")
    opml = OpmlDocument(
        title="Feeds",
        created=datetime(2025, 3, 14, tzinfo=CET),
        owner_name="V",
        owner_url=BASE + "/",
        docs_url="http://opml.org/spec2.opml",
        language="nl",
        outlines=(Outline("Categorieën", children=(feed,)),),
    )
    root = etree.fromstring(render_opml(opml))
    assert root.findtext("head/dateCreated") == "Fri, 14 Mar 2025 00:00:00 +0100"
    folder = root.find("body/outline")
    assert folder is not None
    assert folder.attrib == {"text": "Categorieën"}
    (child,) = folder
    assert child.attrib == {
        "type": "rss",
        "text": "Sport",
        "title": "V: Sport",
        "xmlUrl": BASE + "/s.rss",
        "htmlUrl": BASE + "/s.html",
        "language": "nl",
        "version": "RSS2",
    }


def test_writing_never_switches_the_process_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """feedgen formats RSS dates under locale.setlocale, which every thread of a server sees;
    the writers never take that path."""

    def refuse(*args: object) -> str:
        raise AssertionError(f"locale.setlocale{args} while writing a feed")

    monkeypatch.setattr(locale, "setlocale", refuse)
    for extension, fmt in FORMATS.items():
        assert fmt.render(document(extension, fmt.media_type))


def test_no_date_comes_from_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """feedgen dates a feed and each entry now() unless told otherwise; with its clock set to an
    odd zone, no such date may show up in what the writers write."""
    odd = timezone(timedelta(hours=13, minutes=37))
    monkeypatch.setattr(dateutil.tz, "tzutc", lambda: odd)
    assert FeedGenerator().updated().utcoffset() == timedelta(hours=13, minutes=37)  # it bites
    for extension, fmt in FORMATS.items():
        data = fmt.render(document(extension, fmt.media_type))
        assert b"13:37" not in data, extension
        assert b"+1337" not in data, extension


def test_writing_twice_gives_the_same_bytes() -> None:
    for extension, fmt in FORMATS.items():
        assert fmt.render(document(extension, fmt.media_type)) == fmt.render(
            document(extension, fmt.media_type)
        )


# -- bodies against the article files themselves ---------------------------------------------

_LATE_HEADER = re.compile(r"(bijgewerkt|bron)\s*:|\d{1,2}-\d{1,2}-\d{4}", re.IGNORECASE)


def file_paragraphs(path: Path) -> list[str]:
    """The body of an article file as a person reads it: the blank-line-separated blocks after
    the header (an optional Bijgewerkt line, the title, the category, then Bron, the date and
    a late Bijgewerkt line) and before the closing disclaimer."""
    lines = path.read_text("utf-8-sig").replace("\r\n", "\n").split("\n")
    index = 0

    def next_filled() -> int:
        nonlocal index
        while not lines[index].strip():
            index += 1
        return index

    if lines[next_filled()].lower().startswith("bijgewerkt"):
        index += 1
    next_filled()  # the title
    index += 1
    next_filled()  # the category
    index += 1
    while _LATE_HEADER.match(lines[next_filled()].strip()):
        index += 1
    rest = "\n".join(lines[index:])
    blocks = [block.strip() for block in re.split(r"\n[ \t]*\n", rest) if block.strip()]
    return blocks[:-1]


def html_paragraphs(body: str) -> list[str]:
    """The text of each paragraph of an HTML body, ``<br>`` read as a line break."""
    fragment = lxml_html.fragment_fromstring(body, create_parent="div")
    for br in fragment.iter("br"):
        br.tail = "\n" + (br.tail or "").lstrip("\n")
    return [p.text_content() for p in fragment.iter("p")]


def bodies(data: bytes, extension: str) -> dict[str, str]:
    """Item link -> its HTML body, read from the document with lxml or json."""
    if extension == "json":
        return {item["url"]: item["content_html"] for item in json.loads(data)["items"]}
    root = etree.fromstring(data)
    if extension == "rss":
        return {i.findtext("link") or "": i.findtext(CONTENT) or "" for i in root.iter("item")}
    return {
        e.findtext(f"{A}id") or "": e.findtext(f"{A}content") or "" for e in root.iter(f"{A}entry")
    }


@pytest.mark.parametrize("extension", list(FORMATS))
def test_bodies_are_the_paragraphs_of_the_files(
    make_app: Callable[..., Flask], extension: str
) -> None:
    app = make_app(BUNDLED_CONTENT)
    client = app.test_client()
    files = sorted(BUNDLED_CONTENT.rglob("*.txt"))
    assert len(files) > 30
    found = bodies(client.get(f"/feeds/all.{extension}").data, extension)
    site = app.extensions["feedsvc"].settings.url
    for path in files:
        article_id = path.relative_to(BUNDLED_CONTENT).with_suffix("").as_posix()
        expected = file_paragraphs(path)
        assert expected, path
        assert html_paragraphs(found[site(article_path(article_id))]) == expected, path

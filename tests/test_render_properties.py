"""Properties of the feed writers over generated articles.

For any set of articles the model accepts, however hostile their text (markup, entities,
``]]>``, quotes, bidirectional controls, emoji, every script, tabs and line breaks, very long
strings, many category levels, ids that need escaping in URLs), every feed variant a
:class:`Publication` serves (each feed, format, page and content coding) is

1. well-formed, valid against the project's schemas and rules (tests/feedcheck.py), the same
   document in every coding, with the ETag of its bytes;
2. byte-identical when the same articles are published again, in any order;
3. read back with the exact titles: by feedparser for RSS and Atom, by ``json`` for JSON Feed.
   (For this one the text is what the parser can produce: titles and names stripped of white
   space at their ends, as feed readers strip them.)

Characters XML cannot carry (C0 and C1 controls, lone surrogates, U+FFFE/U+FFFF) cannot reach a
writer: the parser drops them from files, the store refuses them in file names, and the model
refuses them in every text (property 4). Property 5 takes the real path for them: files with such
bytes through the ContentStore and into every feed.

Deterministic (``derandomize``) and bounded so the suite stays fast.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import brotli
import feedparser
import pytest
from conftest import BUNDLED_CONTENT, SITE_URL, article_text, live_catalog
from feedcheck import assert_valid_atom, assert_valid_json_feed, assert_valid_rss
from feedparser.mixin import _FeedParserMixin
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from feedsvc.articles.model import XML_UNSAFE, Article, Category, Source
from feedsvc.articles.parser import summarize
from feedsvc.feeds.catalog import Catalog, build_catalog
from feedsvc.feeds.compression import IDENTITY
from feedsvc.feeds.publication import Publication, RenderedFeed
from feedsvc.feeds.writers import FORMATS
from feedsvc.settings import Settings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RENDER = settings(
    max_examples=40,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VALIDATORS: dict[str, Any] = {
    "rss": assert_valid_rss,
    "atom": assert_valid_atom,
    "json": assert_valid_json_feed,
}
DECODERS: dict[str, Any] = {"identity": bytes, "gzip": gzip.decompress, "br": brotli.decompress}

# -- strategies ----------------------------------------------------------------------------------

HOSTILE = [
    "&",
    "<",
    ">",
    '"',
    "'",
    "]]>",
    "<![CDATA[",
    "&amp;",
    "&lt;b&gt;",
    "&#x26;",
    "&#0;",
    "&nbsp;",
    "<b>",
    "</title>",
    "<script>alert(1)</script>",
    "<!--",
    "-->",
    "<?xml",
    "?>",
    "\\",
    "%2e%2e/",
    "../",
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u200d",
    "\u00a0",
    "\u2028",  # line separator: XML can carry it
    "\ufeff",
    "\ufdd0",  # a noncharacter XML allows
    "\U0001f389",
    "\U0010fffd",
    "مرحبا",
    "ברוכים",
    "Ἀθῆναι",
    "\t",
]
# Every character XML 1.0 can carry, with the hostile fragments above much more often.
XML_CHARACTERS = st.characters(blacklist_categories=("Cs",)).filter(
    lambda c: not XML_UNSAFE.match(c)
)
FRAGMENTS = st.one_of(st.sampled_from(HOSTILE), XML_CHARACTERS)


def hostile_text(
    min_size: int = 1, max_size: int = 12, *, line_breaks: bool = False, longest: int = 400
) -> Any:
    """Text from hostile fragments; now and then very long (``longest`` times a short one)."""
    fragments = (
        st.one_of(FRAGMENTS, st.sampled_from(["\n", "\r", "\r\n"])) if line_breaks else FRAGMENTS
    )
    short = st.lists(fragments, min_size=min_size, max_size=max_size).map("".join)
    long = st.tuples(short, st.integers(longest // 4, longest)).map(lambda p: p[0] * p[1])
    return st.one_of(short, short, short, long)


def squeezed(text: str) -> str:
    """What the parser makes of a name: runs of white space as one space, none at the ends."""
    return " ".join(text.split())


ZONES = st.sampled_from(
    [AMSTERDAM, UTC, ZoneInfo("America/St_Johns"), timezone(timedelta(hours=5, minutes=45))]
)
MOMENTS = st.datetimes(datetime(1900, 1, 2), datetime(2099, 12, 30), timezones=ZONES)


@dataclass(frozen=True)
class Texts:
    """How article text is generated: ``exact`` keeps it to what the parser can produce."""

    exact: bool

    def line(self, max_size: int = 12) -> Any:
        if self.exact:
            # feedparser takes a second for a few thousand entities: long, not as long.
            return hostile_text(1, max_size, longest=40).map(str.strip).filter(bool)
        return hostile_text(1, max_size, line_breaks=True)

    def name(self) -> Any:
        if self.exact:
            return hostile_text(1, 8, longest=40).map(squeezed).filter(bool)
        return hostile_text(1, 8, line_breaks=True)


@st.composite
def articles(draw: st.DrawFn, texts: Texts, number: int) -> Article:
    names = draw(st.lists(texts.name(), min_size=1, max_size=draw(st.sampled_from([2, 3, 9]))))
    source = draw(st.none() | texts.name())
    paragraphs = tuple(
        "\n".join(lines)
        for lines in draw(st.lists(st.lists(texts.line(), min_size=1, max_size=3), max_size=3))
    )
    published = draw(MOMENTS)
    updated = published + draw(st.sampled_from([timedelta(0), timedelta(days=3, seconds=7)]))
    # Ids are file paths: any text, made unique by a number in front.
    article_id = f"{number}/" + draw(hostile_text(0, 6).map(lambda t: t.replace("\n", " ")))
    return Article(
        id=article_id,
        title=draw(texts.line(30)),
        category=Category(tuple(names)),
        source=Source(source) if source is not None else None,
        published=published,
        updated=updated,
        paragraphs=paragraphs,
        summary=summarize(paragraphs[0]) if paragraphs else "",
        source_path=article_id + ".txt",
    )


@st.composite
def article_sets(draw: st.DrawFn, texts: Texts) -> list[Article]:
    count = draw(st.integers(0, 6))
    drawn = [draw(articles(texts, number)) for number in range(count)]
    # Now and then the same category or source for several, so feeds hold more than one.
    if len(drawn) > 1 and draw(st.booleans()):
        shared = drawn[0]
        drawn = [drawn[0]] + [
            replace(a, category=shared.category, source=shared.source) for a in drawn[1:]
        ]
    return drawn


def site_settings(page_size: int, hub: bool) -> Settings:
    return Settings.from_mapping(
        {
            "CONTENT_DIR": str(BUNDLED_CONTENT),  # not read: the articles are given
            "SITE_URL": SITE_URL,
            "PAGE_SIZE": page_size,
            "WEBSUB_HUB": "https://hub.example.org/" if hub else None,
        }
    )


# -- helpers -------------------------------------------------------------------------------------


def every_page(publication: Publication) -> Iterator[tuple[str, str, int, RenderedFeed]]:
    """Every (feed, format, page) the publication serves, rendered."""
    size = publication.settings.page_size
    for feed in publication.catalog.feeds.values():
        for extension in FORMATS:
            for page in range(1, feed.page_count(size) + 1):
                yield feed.path, extension, page, publication.feed(feed.path, extension, page)


def check_variants(rendered: RenderedFeed, extension: str) -> Any:
    """Every coding decodes to the identity bytes, which are valid; each ETag is its bytes'."""
    identity = rendered.body
    digest = hashlib.sha256(identity).hexdigest()[:32]
    for coding, variant in rendered.variants.items():
        assert DECODERS[coding](variant.body) == identity, coding
        suffix = "" if coding == IDENTITY else f"-{coding}"
        assert variant.etag == f'"{digest}{suffix}"'
    return VALIDATORS[extension](identity, SITE_URL + rendered.path)


def published(articles_: list[Article], page_size: int, hub: bool = False) -> Publication:
    catalog: Catalog = build_catalog("Amstelveenweb", articles_)
    publication, _ = Publication.build(catalog, site_settings(page_size, hub))
    return publication


# -- 1 and 2: valid and reproducible, whatever the text -------------------------------------------


@RENDER
@given(article_sets(Texts(exact=False)), st.sampled_from([1, 2, 50]), st.booleans())
def test_every_feed_variant_is_valid_and_byte_identical_when_published_again(
    articles_: list[Article], page_size: int, hub: bool
) -> None:
    publication = published(articles_, page_size, hub)
    again = published(list(reversed(articles_)), page_size, hub)
    count = 0
    for path, extension, page, rendered in every_page(publication):
        check_variants(rendered, extension)
        twin = again.feed(path, extension, page)
        assert twin.variants == rendered.variants, (path, extension, page)
        count += 1
    assert count >= 3  # the all-feed in three formats, at least
    opml = publication.opml()
    assert opml.body == again.opml().body
    for variant in opml.variants.values():
        assert (
            DECODERS[next(c for c, v in opml.variants.items() if v is variant)](variant.body)
            == opml.body
        )


def test_dates_in_zones_with_offsets_in_seconds_are_written_in_utc() -> None:
    """Found by the property above: Amsterdam was +00:19:32 until 1937, which neither RFC 3339
    nor RFC 822 can write; such dates are written in UTC, every other date in its own zone."""
    old = datetime(1930, 1, 1, 9, 0, tzinfo=AMSTERDAM)
    recent = datetime(2025, 3, 1, 9, 0, tzinfo=AMSTERDAM)
    base = Article(
        id="oud",
        title="Oud bericht",
        category=Category(("Geschiedenis",)),
        source=None,
        published=old,
        updated=old,
        paragraphs=(),
        summary="",
        source_path="oud.txt",
    )
    publication = published([base, replace(base, id="nieuw", published=recent, updated=recent)], 50)
    for _, extension, _, rendered in every_page(publication):
        check_variants(rendered, extension)
    rss = publication.feed("all", "rss").body
    assert b"<pubDate>Wed, 01 Jan 1930 08:40:28 +0000</pubDate>" in rss
    assert b"<pubDate>Sat, 01 Mar 2025 09:00:00 +0100</pubDate>" in rss
    atom = publication.feed("all", "atom").body
    assert b"<published>1930-01-01T08:40:28+00:00</published>" in atom
    assert b"<published>2025-03-01T09:00:00+01:00</published>" in atom


# -- 3: what readers read back -------------------------------------------------------------------


def entry_titles(data: bytes, extension: str) -> list[str]:
    if extension == "json":
        return [item["title"] for item in json.loads(data)["items"]]
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [shown(entry.title_detail) for entry in parsed.entries]


def shown(detail: Any) -> str:
    """What a reader shows of a text construct: Atom text that reads as HTML is written as
    type="html", escaped, and shows as its text when rendered."""
    if detail.type in ("text/html", "application/xhtml+xml"):
        return str(lxml_html.fragment_fromstring(detail.value, create_parent="div").text_content())
    return str(detail.value)


def feedparser_guesses(title: str, extension: str) -> bool:
    """Whether feedparser reads ``title`` as something else, whatever the feed says.

    Two of its heuristics look at the text itself, so no way of writing it changes the result:
    an RSS title (RSS has no text type) that looks like HTML to it (a known entity such as
    ``&amp;`` or a closing tag of an allowed element) is taken as HTML; and any text that, read
    as Latin-1 bytes, is valid UTF-8 ("Ã©") is "repaired" into what those bytes say ("é").
    Atom says ``type="text"``, JSON Feed has no such guesses: both carry every title exactly.
    """
    if extension == "rss" and _FeedParserMixin.looks_like_html(title):
        return True
    try:
        return title.encode("iso-8859-1").decode("utf-8") != title
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


@RENDER
@given(article_sets(Texts(exact=True)), st.sampled_from([3, 50]))
def test_readers_read_back_the_exact_titles(articles_: list[Article], page_size: int) -> None:
    check_titles_read_back(published(articles_, page_size))


def check_titles_read_back(publication: Publication) -> None:
    size = publication.settings.page_size
    for path, extension, page, rendered in every_page(publication):
        feed = publication.catalog.feeds[path]
        expected = [article.title for article in feed.page(page, size).articles]
        read = entry_titles(rendered.body, extension)
        assert len(read) == len(expected)
        for title, original in zip(read, expected, strict=True):
            if not feedparser_guesses(original, extension):
                assert title == original, (path, extension, page)
        if extension != "json" and not feedparser_guesses(feed.title, extension):
            assert shown(feedparser.parse(rendered.body).feed.title_detail) == feed.title


def test_feedparser_guesses_are_narrow() -> None:
    """The exceptions above cover only what feedparser really guesses about."""
    assert feedparser_guesses("&A&amp;", "rss")
    assert feedparser_guesses("Tom &amp; Jerry", "rss")
    assert feedparser_guesses("a </b>", "rss")
    assert not feedparser_guesses("&A&amp;", "atom")
    assert not feedparser_guesses("<script>alert(1)</script>", "rss")  # not an allowed element
    assert not feedparser_guesses("Tom & Jerry <b>", "rss")
    assert not feedparser_guesses("Café 🎉", "rss")
    assert feedparser_guesses("CafÃ©", "atom")


# -- 4: what XML cannot carry never gets into an article ----------------------------------------

UNSAFE = st.sampled_from(
    [
        "\x00",
        "\x01",
        "\x08",
        "\x0b",
        "\x1b",
        "\x7f",
        "\x85",
        "\x9f",
        "\ud800",
        "\udfff",
        "\ufffe",
        "\uffff",
    ]
)


@settings(max_examples=100, derandomize=True)
@given(
    st.text(max_size=20),
    UNSAFE,
    st.text(max_size=20),
    st.sampled_from(["id", "title", "summary", "paragraph", "category", "source"]),
)
def test_the_model_refuses_characters_xml_cannot_carry(
    before: str, unsafe: str, after: str, field: str
) -> None:
    text = before + unsafe + after
    fields: dict[str, Any] = {
        "id": "a",
        "title": "Titel",
        "category": Category(("Nieuws",)),
        "source": None,
        "published": datetime(2025, 1, 1, tzinfo=UTC),
        "updated": datetime(2025, 1, 1, tzinfo=UTC),
        "paragraphs": (),
        "summary": "",
        "source_path": "a.txt",
    }
    with pytest.raises(ValueError, match="XML cannot carry"):  # noqa: PT012 - one case each
        if field == "category":
            Category(("Nieuws", text))
        elif field == "source":
            Source(text)
        else:
            key = "paragraphs" if field == "paragraph" else field
            Article(**{**fields, key: ("Eerste alinea.", text) if key == "paragraphs" else text})


# -- 5: the real path, from files ------------------------------------------------------------------

RAW_CHARACTERS = st.one_of(
    st.characters(),  # surrogates and controls included: encoded with surrogatepass below
    st.sampled_from(["\x07", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\ufffe", *HOSTILE]),
)
FIRST_WORDS = st.sampled_from(["Gemeente", "Politie", "Nieuws", "Sport", "Cultuur"])


@st.composite
def hostile_files(draw: st.DrawFn) -> list[bytes]:
    """Article files whose text carries anything at all, written as UTF-8 (surrogates too)."""
    files = []
    for _ in range(draw(st.integers(1, 4))):
        raw = st.lists(RAW_CHARACTERS, max_size=25).map("".join)
        text = article_text(
            title=draw(FIRST_WORDS) + " " + draw(raw).replace("\n", " ").replace("\r", " "),
            category=draw(FIRST_WORDS) + " -> " + draw(FIRST_WORDS) + draw(raw).replace("->", ""),
            source=draw(st.none() | raw.map(lambda t: "Bron " + t.replace("\n", " "))),
            published=draw(st.sampled_from(["12-03-2025", "1-1-2024 09:30", "3 mrt. 2025"])),
            body=tuple(draw(st.lists(raw, max_size=3))),
        )
        encoding = draw(st.sampled_from(["utf-8", "cp1252", "utf-16"]))
        files.append(text.encode(encoding, "surrogatepass" if encoding != "cp1252" else "replace"))
    return files


@settings(
    max_examples=25,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(files=hostile_files())
def test_files_with_any_bytes_give_valid_feeds_through_the_store(
    tmp_path_factory: pytest.TempPathFactory, files: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("content")
    for number, data in enumerate(files):
        (folder / f"{number}.txt").write_bytes(data)
    store = live_catalog(Settings.from_mapping({"CONTENT_DIR": str(folder), "SITE_URL": SITE_URL}))
    catalog = store.reload().catalog
    assume(catalog.articles)
    for article in catalog.articles:
        for text in (article.title, article.summary, *article.paragraphs, *article.category.names):
            assert not XML_UNSAFE.search(text)
    publication, _ = Publication.build(catalog, store.store.settings)
    for _, extension, _, rendered in every_page(publication):
        check_variants(rendered, extension)
    check_titles_read_back(publication)


def test_unsafe_text_property_really_covers_every_unsafe_class() -> None:
    """The sample of unsafe characters above covers each class XML_UNSAFE names."""
    for character in ["\x00", "\x0b", "\x7f", "\x85", "\ud800", "\ufffe", "\uffff"]:
        assert XML_UNSAFE.fullmatch(character)
    for allowed in ["\t", "\n", "\r", " ", "\ufdd0", "\U0010fffd", "\u2028"]:
        assert not XML_UNSAFE.fullmatch(allowed)
    assert re.fullmatch(XML_UNSAFE.pattern + "+", "\x01\x85\udc80")

"""The parser's header fast path reads exactly what the line-by-line reader reads.

Most files have the common header shape and are read by one match of the whole header
(``_ArticleParser.parse_common``); every other file, and every file whose header needs a
warning or an error, falls back to the line-by-line reader. Here both ways parse the same
files and the results are compared field by field (the article's fields, the exact time zone
of its dates, its paragraphs and summary, the warnings, or the error with its line):

1. every file of a full-variety corpus (``bench/corpus.py``, seeded) and every test fixture;
2. generated header variants (hypothesis): optional lines in every order, blank lines, white
   space of every kind, titles and categories that look like dates or labels, every date form;
3. near-misses of the common shape, which must be left to the line-by-line reader (so that it
   can say what is wrong, with the line), and still parse as before.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from bench_modules import load
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.articles.parser import _ArticleParser, parse_article
from feedsvc.errors import ContentError
from feedsvc.settings import DEFAULT_DISCLAIMER

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FIXTURES = Path(__file__).parent / "fixtures" / "articles"
PATH = "2025/gen.txt"


def outcome(data: bytes, path: str = PATH, *, fast: bool) -> tuple[Any, ...]:
    """What parsing ``data`` gives, field by field; ``fast=False``: line by line only."""
    parser = _ArticleParser(path, AMSTERDAM, DEFAULT_DISCLAIMER)
    try:
        if fast:
            result = parse_article(data, path, zone=AMSTERDAM, disclaimer=DEFAULT_DISCLAIMER)
        else:
            result = parser.parse_text(*parser.decode(data), fast=False)
    except ContentError as error:
        return ("error", error.path, error.line, error.reason)
    article = result.article
    return (
        article.id,
        article.title,
        article.category.names,
        None if article.source is None else article.source.name,
        article.published.isoformat(),
        article.published.tzinfo,
        article.published.fold,
        article.updated.isoformat(),
        article.updated.tzinfo,
        article.paragraphs,
        article.summary,
        article.source_path,
        tuple((w.path, w.line, w.message, w.severity) for w in result.warnings),
    )


def takes_fast_path(data: bytes) -> bool:
    parser = _ArticleParser(PATH, AMSTERDAM, DEFAULT_DISCLAIMER)
    text, checked = parser.decode(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return checked and parser.parse_common(text) is not None


def test_every_corpus_file_reads_the_same_both_ways() -> None:
    corpus = load("corpus")
    shape = corpus.CorpusShape.of(3000, 11)
    fast = 0
    for i in range(3000):
        article = corpus.article_file(i, shape, 11)
        assert outcome(article.data, article.relpath, fast=True) == outcome(
            article.data, article.relpath, fast=False
        ), article.relpath
        fast += takes_fast_path(article.data)
    # The comparison is about the fast path: the common shape must take it (all but the
    # Windows-1252 and few other files the corpus writes with a warning).
    assert fast > 2800


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_every_fixture_reads_the_same_both_ways(fixture: Path) -> None:
    data = fixture.read_bytes()
    assert outcome(data, fixture.name, fast=True) == outcome(data, fixture.name, fast=False)


# -- generated header variants -------------------------------------------------------------------

SPACE = st.sampled_from(["", " ", "\t", " \t", "\xa0", "\u2003", "  "])
BLANKS = st.lists(SPACE, max_size=2).map(lambda spaces: "".join(s + "\n" for s in spaces))
DATE_TEXT = st.sampled_from(
    [
        "28-10-2024",
        "3-2-2025",
        "03/02/2025",
        "03.02.2025",
        "14-03-2025 09:30",
        "14-03-2025, 9.30",
        "14-03-2025 om 9:30 uur",
        "28 oktober 2024",
        "3 mrt. 2025",
        "4 SEPT 2025",
        "4 Juni 2025 14:30",
        "maandag 4 juni 2025",
        "di, 3 juni 2025 om 9:30 uur",
        "Datum: 03-02-2025",
        "publicatiedatum : 3 maart 2025",
        "31-02-2024",  # does not exist: an error
        "31 februari 2024",  # not a date line: the published date is missing
        "4 foo 2025",
        "3 mei  2025",
        "3 mei\n2025",  # a date line and a line with a year
        "30-03-2025 02:30",  # in the spring-forward gap
        "26-10-2025 02:30",  # in the autumn overlap
        "2025-03-04",  # not in the grammar: dateutil
        "4 juni 1850",
        "Op 4 mei 2025",
    ]
)
UPDATED_TEXT = st.sampled_from(["", "2 januari 2030", "01-01-2000", "31-02-2031", "nooit", "3 mei"])
UPDATED_LABEL = st.sampled_from(["Bijgewerkt: ", "bijgewerkt:", "BIJGEWERKT : ", "Bijgewerkt:\t"])
TITLE = st.sampled_from(
    [
        *["Nieuwe brug geopend"] * 6,
        "Begroting 2026 aangenomen",
        "450 woningen erbij",
        "Op 4 mei 2025",
        "4 mei 2025",
        "Wethouder: 'we gaan door'",
        "Bron: NAVO",
        "Bijgewerkt: 3 mei 2025",
        "Nieuws -> Gemeente",
        "Datum: 3-3-2025",
        "Let op: 12-12-2025 dicht",
        "",
    ]
)
CATEGORY = st.sampled_from(
    [
        *["Nieuws -> Informatief"] * 6,
        "Sport",
        "Nieuws → Sport → Hockey",
        "Nieuws ->  -> Sport",
        "Nieuws -> 2025",
        "Bron: NAVO",
        "28-10-2024",
        "Bijgewerkt: 3 mei 2025",
        "Cultuur: Theater",
        "x" * 300,
    ]
)
SOURCE = st.sampled_from(
    ["Bron: NAVO", "bron:Gemeente Amstelveen", "BRON :  RIVM ", "Bron:", "Bron: " + "x" * 400]
)
FIRST_BODY = st.sampled_from(
    [
        "De gemeente meldt dat het werk klaar is.",
        "Bron: tweede bron",
        "bijgewerkt : 5 mei 2025",
        "12-12-2025",
        "Datum: 1-1-2025",
        DEFAULT_DISCLAIMER,
        "",
    ]
)


@st.composite
def article_files(draw: st.DrawFn) -> bytes:
    def line(text: str) -> str:
        return draw(BLANKS) + draw(SPACE) + text + draw(SPACE) + "\n"

    updated = draw(UPDATED_LABEL) + draw(UPDATED_TEXT)
    updated_at = draw(st.sampled_from(["none", "first", "after", "both", "before date"]))
    source_at = draw(st.sampled_from(["none", "before", "after", "both"]))
    header = []
    if updated_at in ("first", "both"):
        header.append(updated)
    header += [draw(TITLE), draw(CATEGORY)]
    if draw(st.integers(0, 9)) == 0:
        header.pop()  # no category
    if source_at in ("before", "both"):
        header.append(draw(SOURCE))
    if updated_at == "before date":
        header.append(updated)
    header.append(draw(DATE_TEXT))
    if source_at in ("after", "both"):
        header.append(draw(SOURCE))
    if updated_at in ("after", "both"):
        header.append(updated)
    text = "".join(line(part) for part in header)
    body = [draw(FIRST_BODY), "Een tweede alinea met genoeg woorden om een alinea te zijn."]
    body = body[: draw(st.integers(0, 2))]
    if draw(st.booleans()):
        body.append(DEFAULT_DISCLAIMER)
    text += draw(BLANKS) + "\n\n".join(body)
    if draw(st.booleans()):
        text = text.rstrip("\n")
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return text.replace("\n", ending).encode(encoding)


@settings(
    max_examples=600,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(article_files())
def test_header_variants_read_the_same_both_ways(data: bytes) -> None:
    assert outcome(data, fast=True) == outcome(data, fast=False)


# -- near-misses: left to the line-by-line reader ------------------------------------------------

COMMON = (
    "Bijgewerkt: 2 maart 2025\n"
    "Nieuwe brug geopend\n"
    "Nieuws -> Verkeer\n"
    "Bron: Gemeente Amstelveen\n"
    "1 maart 2025\n"
    "\n"
    "De brug over de Amstel is open.\n"
)


def test_the_common_shape_takes_the_fast_path() -> None:
    assert takes_fast_path(COMMON.encode())
    result = outcome(COMMON.encode(), fast=True)
    assert result[1:4] == ("Nieuwe brug geopend", ("Nieuws", "Verkeer"), "Gemeente Amstelveen")
    assert result[4] == datetime(2025, 3, 1, tzinfo=AMSTERDAM).isoformat()
    assert result[7] == datetime(2025, 3, 2, tzinfo=AMSTERDAM).isoformat()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Nieuwe brug geopend", "4 mei 2025"),  # a title that reads as a date
        ("Nieuwe brug geopend", "Bron: NAVO"),  # a title that reads as a Bron line
        ("Nieuws -> Verkeer", "28-10-2024"),  # a category that reads as a date
        ("1 maart 2025\n", "1 maart 2025\nBron: NAVO\n"),  # a second Bron line
        ("1 maart 2025\n", "1 maart 2025\nBijgewerkt: 3 maart 2025\n"),  # a second Bijgewerkt
        ("\nDe brug", "\nbron : NAVO\nDe brug"),  # a Bron line after the header's end
        ("Bron: Gemeente Amstelveen", "Bron:"),  # a Bron line without a source
        ("1 maart 2025", "31 februari 2025"),  # not a possible date
        ("1 maart 2025", "31-02-2025"),  # not a possible numeric date: an error
        ("1 maart 2025", "1 maart\n2025"),  # a date split over two lines
        ("2 maart 2025", "2 februari 2025"),  # updated before published
        ("2 maart 2025", "31-02-2025"),  # an impossible Bijgewerkt date
        ("Nieuws -> Verkeer", "Nieuws -> -> Verkeer"),  # an empty category level
        ("De brug over de Amstel is open.", ""),  # no body text
        ("1 maart 2025", "1 maart 2025 " + "x" * 80),  # a date line too long to be a date
    ],
)
def test_near_misses_are_read_line_by_line(old: str, new: str) -> None:
    assert old in COMMON
    data = COMMON.replace(old, new, 1).encode()
    assert not takes_fast_path(data)
    assert outcome(data, fast=True) == outcome(data, fast=False)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Nieuwe brug geopend", "De brug over de Amstel is open."),  # all ASCII
        ("Nieuwe brug geopend", "Het café aan de Amstel kost € 2 miljoen."),  # ASCII header
        ("Café De Brug heropend", "Het café aan de Amstel kost € 2 miljoen."),  # 2-byte header
        ("Begroting: € 2 miljoen", "De brug over de Amstel is open."),  # 3-byte header
        ("Brug 🌉 geopend", "Een brug van 🌉 tot 🌉, met café."),  # 4-byte characters
    ],
)
def test_the_body_kept_as_the_files_bytes_starts_where_the_header_ends(
    title: str, body: str
) -> None:
    """The fast path keeps the body as the file's own bytes, cut where the header ends (in
    bytes, not characters): the paragraphs read from them later are the ones written."""
    second = "Tweede alinea, met ë en “aanhalingstekens”."
    data = COMMON.replace("Nieuwe brug geopend", title).replace(
        "De brug over de Amstel is open.\n", f"{body}\n\n{second}\n\n{DEFAULT_DISCLAIMER}\n"
    )
    assert takes_fast_path(data.encode())
    fast = outcome(data.encode(), fast=True)
    assert fast == outcome(data.encode(), fast=False)
    assert fast[1] == title
    assert fast[9] == (body, second)


@pytest.mark.parametrize(
    "data",
    [
        COMMON.replace("\n", "\r\n"),  # CRLF throughout: read as it is, on the fast path
        COMMON.replace("\n", "\r\n") + "\r\nEen tweede alinea.\r\n\r\n",
        # A lone CR among CRLF line breaks ends a line too: "Nieuws" and "Verkeer" are two
        # lines (then "Verkeer" is where the date is missing), not one category "Nieuws Verkeer".
        COMMON.replace("\n", "\r\n").replace(" -> ", "\r", 1),
        COMMON.replace("\n", "\r\n").replace("Bron: ", "Bron:\r", 1),
        COMMON.replace("\n", "\r\r\n"),  # a CR before each CRLF: a blank line between lines
        COMMON.replace("\n", "\r\n").replace("de Amstel", "de\rAmstel"),  # in the body
    ],
)
def test_mixed_line_breaks_read_the_same_both_ways(data: str) -> None:
    assert outcome(data.encode(), fast=True) == outcome(data.encode(), fast=False)

"""A catalogue of article files through ``parse_article``: one case per rule or editor habit.

Readable cases are files in ``tests/fixtures/articles/``, named after the case. Byte-level
variants (line endings, BOM, control characters, NUL bytes, other encodings) are made from those
files by the generators below, so no hard-to-see bytes are committed.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedsvc.articles.model import Article
from feedsvc.articles.parser import (
    MAX_ARTICLE_BYTES,
    SUMMARY_LIMIT,
    ParseResult,
    parse_article,
    summarize,
)
from feedsvc.errors import ContentError, Severity
from feedsvc.settings import DEFAULT_DISCLAIMER

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "articles"
SEED_NAME = "000_3a5bf95db61d80b1.txt"
# The real article the format was taken from, byte for byte; content/ bundles a copy of it.
SEED = Path(__file__).resolve().parent / "fixtures" / SEED_NAME
BUNDLED_SEED = REPO / "content" / "2024" / SEED_NAME
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def parse(
    data: bytes,
    path: str = "2025/case.txt",
    *,
    zone: ZoneInfo = AMSTERDAM,
    disclaimer: str = DEFAULT_DISCLAIMER,
) -> ParseResult:
    return parse_article(data, path, zone=zone, disclaimer=disclaimer)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rejection(data: bytes, path: str = "2025/case.txt") -> ContentError:
    with pytest.raises(ContentError) as caught:
        parse(data, path)
    return caught.value


def warnings_of(result: ParseResult) -> list[tuple[Severity, int, str]]:
    return [(w.severity, w.line, w.message) for w in result.warnings]


@dataclass(frozen=True)
class Expected:
    """What one fixture must parse to; dates as ISO 8601 with their UTC offset."""

    title: str
    category: tuple[str, ...]
    source: str | None
    published: str
    updated: str | None  # None: the same as published
    paragraphs: tuple[str, ...]
    warnings: tuple[tuple[int, str], ...] = ()  # (line, message) of each warning


def assert_parsed(result: ParseResult, expected: Expected, article_id: str) -> None:
    article = result.article
    assert article.id == article_id
    assert article.title == expected.title
    assert article.category.names == expected.category
    assert (article.source.name if article.source else None) == expected.source
    assert article.published.isoformat() == expected.published
    assert article.updated.isoformat() == (expected.updated or expected.published)
    assert article.published.tzinfo == AMSTERDAM
    assert article.updated.tzinfo == AMSTERDAM
    assert article.paragraphs == expected.paragraphs
    assert warnings_of(result) == [
        (Severity.WARNING, line, message) for line, message in expected.warnings
    ]


# -- the catalogue of valid fixtures ------------------------------------------------------------

BEFORE_PUBLISHED = "the Bijgewerkt date is before the published date; using the published date"

VALID = {
    "no_updated.txt": Expected(
        "Gemeente opent nieuw park in Westwijk",
        ("Nieuws", "Informatief"),
        "Gemeente Amstelveen",
        "2025-03-12T00:00:00+01:00",
        None,
        (
            "Het park aan de Westwijkweg is vanaf zaterdag open voor iedereen.",
            "Er zijn speeltoestellen, een pluktuin en een hondenuitlaatplaats.",
        ),
    ),
    "no_source.txt": Expected(
        "Kerstmarkt in het Oude Dorp",
        ("Evenementen",),
        None,
        "2024-12-02T00:00:00+01:00",
        "2024-12-04T00:00:00+01:00",
        ("De kerstmarkt is dit jaar drie dagen open.",),
    ),
    "updated_before_published.txt": Expected(
        "Raad stemt in met woningbouw Kronenburg",
        ("Politiek", "Gemeenteraad"),
        "Gemeente Amstelveen",
        "2025-03-15T00:00:00+01:00",
        None,
        ("De gemeenteraad stemde donderdag in met het plan voor 400 woningen.",),
        warnings=((1, BEFORE_PUBLISHED),),
    ),
    "month_abbrev_period.txt": Expected(
        "Fietsstraat Middenhoven klaar",
        ("Verkeer",),
        None,
        "2025-02-28T00:00:00+01:00",
        "2025-03-03T00:00:00+01:00",
        ("De fietsstraat is een week eerder klaar dan gepland.",),
    ),
    "month_abbrev_no_period.txt": Expected(
        "Najaarsconcert Kamerorkest",
        ("Cultuur", "Muziek"),
        "Amstelveens Kamerorkest",
        "2025-10-10T00:00:00+02:00",
        "2025-10-12T00:00:00+02:00",
        ("Het orkest speelt Mahler en Mendelssohn.",),
    ),
    "month_sept.txt": Expected(
        "Seizoenspresentatie Stadsschouwburg",
        ("Cultuur", "Theater"),
        None,
        "2025-09-01T00:00:00+02:00",
        "2025-09-04T00:00:00+02:00",
        ("De schouwburg presenteert het nieuwe seizoen.",),
    ),
    "month_uppercase.txt": Expected(
        "Brandweer: check je rookmelder",
        ("Veiligheid",),
        "Brandweer Amsterdam-Amstelland",
        "2024-11-27T00:00:00+01:00",
        "2024-11-28T00:00:00+01:00",
        ("Test je rookmelder één keer per maand.",),
    ),
    "three_levels.txt": Expected(
        "Dames HBC Middenhoven winnen derby",
        ("Sport", "Hockey", "Dames"),
        "HBC Middenhoven",
        "2025-10-05T00:00:00+02:00",
        None,
        ("De dames wonnen met 3-2 van de buren.",),
    ),
    # Bijgewerkt on the published day without a time: no later than the publication itself.
    "date_with_time.txt": Expected(
        "Brand in parkeergarage Stadshart",
        ("Nieuws", "112"),
        "Brandweer Amsterdam-Amstelland",
        "2025-03-14T09:30:00+01:00",
        None,
        ("De brandweer rukte uit met drie wagens.",),
    ),
    "updated_with_time.txt": Expected(
        "Brand in parkeergarage Stadshart: oorzaak bekend",
        ("Nieuws", "112"),
        None,
        "2025-03-14T09:30:00+01:00",
        "2025-03-15T16:45:00+01:00",
        ("Een kortgesloten laadpaal veroorzaakte de brand.",),
    ),
    "no_leading_zeros.txt": Expected(
        "Bibliotheek heet nieuwkomers welkom",
        ("Nieuws",),
        "Bibliotheek Amstelland",
        "2025-02-03T00:00:00+01:00",
        "2025-02-05T09:05:00+01:00",
        ("Elke woensdag is er een taalcafé.",),
    ),
    "summer_date.txt": Expected(
        "Zomerconcerten in het Amsterdamse Bos",
        ("Cultuur", "Muziek"),
        None,
        "2025-06-14T20:00:00+02:00",
        None,
        ("Elke zaterdagavond speelt er een orkest.",),
    ),
    # 02:30 does not exist on the spring-forward night: a wall clock reads 03:30 summer time.
    "dst_gap.txt": Expected(
        "Nachtelijke werkzaamheden A9",
        ("Verkeer",),
        None,
        "2025-03-30T03:30:00+02:00",
        None,
        ("Om half drie 's nachts, het uur dat door de zomertijd niet bestaat.",),
    ),
    # 02:30 happens twice on the fall-back night: the first one, still summer time.
    "dst_overlap.txt": Expected(
        "Nachtelijke werkzaamheden A9 afgerond",
        ("Verkeer",),
        None,
        "2025-10-26T02:30:00+02:00",
        None,
        ("Om half drie 's nachts, het uur dat door de wintertijd twee keer voorkomt.",),
    ),
    "hostile_text.txt": Expected(
        """Tom & Jerry <script>alert("x")</script> ]]> 'quotes' "dubbel" &amp; &lt;b&gt;""",
        ("Cultuur & <Media>", """"Film" ]]> 'n' <b>"""),
        '<NOS> & "RTL" ]]>',
        "2025-04-01T00:00:00+02:00",
        None,
        (
            "<p>Dit is <b>geen</b> HTML</p> & dit ook niet: &amp; &#38; &nbsp; ]]> <![CDATA[ x ]]>",
            """"Aanhalingstekens" en 'enkele' en `backticks` en \\backslash\\ en {{ jinja }} """
            "en {% if %} en ${var}.",
            "<script>alert('xss')</script><img src=x onerror=alert(1)> --> <!-- -- ]]]]><![CDATA[>",
        ),
    ),
    "rtl_emoji.txt": Expected(
        "مرحبا بالعالم — שלום עולם 🎉👩\u200d👩\u200d👧\u200d👦 🇳🇱",
        ("نيوز", "מקומי"),
        "وكالة 🌍",
        "2025-07-07T00:00:00+02:00",
        None,
        (
            "النص العربي مع كلمة English في المنتصف و emoji 👍🏽.",
            "עברית עם מספרים 123 ו-emoji 🕎.",
        ),
    ),
    "extra_blank_lines.txt": Expected(
        "Nieuwjaarsreceptie in het raadhuis",
        ("Nieuws", "Gemeente"),
        "Gemeente Amstelveen",
        "2025-01-06T00:00:00+01:00",
        "2025-01-20T00:00:00+01:00",
        ("De burgemeester sprak over het nieuwe jaar.", "Er waren 300 gasten."),
    ),
    "header_order.txt": Expected(
        "Blauwalg in De Poel",
        ("Natuur",),
        "Waternet",
        "2025-07-09T00:00:00+02:00",
        "2025-07-11T00:00:00+02:00",
        ("Zwemmen in De Poel wordt afgeraden.",),
    ),
    "disclaimer_no_blank_line.txt": Expected(
        "Politie controleert fietsverlichting",
        ("Nieuws", "Politie"),
        None,
        "2025-11-04T00:00:00+01:00",
        None,
        (
            "De politie controleert deze week op fietsverlichting.\n"
            "Wie zonder licht rijdt, krijgt een boete.",
        ),
    ),
    "no_disclaimer.txt": Expected(
        "Vuurwerkvrije zones",
        ("Nieuws",),
        None,
        "2024-12-16T00:00:00+01:00",
        None,
        ("Op oudejaarsavond gelden vuurwerkvrije zones.", "Handhavers controleren de zones."),
    ),
    "multiline_paragraph.txt": Expected(
        "Waternet vervangt waterleiding",
        ("Nieuws", "Werkzaamheden"),
        "Waternet",
        "2025-01-20T00:00:00+01:00",
        None,
        (
            "Waternet vervangt in Bovenkerk\nde oude waterleiding\n"
            "over een lengte van twee kilometer.",
            "De werkzaamheden duren tot de zomer.",
        ),
    ),
    "long_first_paragraph.txt": Expected(
        "Gemeente start Bomenplan Westwijk",
        ("Nieuws", "Gemeente"),
        "Gemeente Amstelveen",
        "2024-11-08T00:00:00+01:00",
        None,
        (
            "De gemeente Amstelveen start in januari met het Bomenplan Westwijk, waarbij in de "
            "komende vijf jaar meer dan twaalfhonderd nieuwe bomen worden geplant in straten, "
            "parken en op schoolpleinen. Bewoners kunnen via de website aangeven waar zij graag "
            "een boom zouden zien, en de gemeente organiseert in het voorjaar drie avonden in het "
            "wijkcentrum om de plannen te bespreken. Wethouder De Vries noemt het plan een "
            "belangrijke stap in de aanpak van hittestress in de wijk, waar de temperatuur in de "
            "zomer hoger oploopt dan elders in de stad.",
            "Meer informatie staat op de website van de gemeente.",
        ),
    ),
    "no_body.txt": Expected(
        "Persbericht volgt",
        ("Nieuws",),
        "Gemeente Amstelveen",
        "2025-05-02T00:00:00+02:00",
        None,
        (),
        warnings=((6, "the article has no body text"),),
    ),
    "labelled_date.txt": Expected(
        "Koningsdag 2025 in het Stadshart",
        ("Evenementen",),
        None,
        "2025-04-26T00:00:00+02:00",
        None,
        ("Het Stadshart is de hele dag autovrij.",),
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_fixture(name: str) -> None:
    assert_parsed(parse(fixture(name), name), VALID[name], name.removesuffix(".txt"))


def test_every_fixture_file_is_in_the_catalogue() -> None:
    files = {path.name for path in FIXTURES.glob("*.txt")}
    assert files == set(VALID) | set(REJECTED_FIXTURES)


# -- byte-level variants, generated from the readable fixtures ----------------------------------

BASE = "no_updated.txt"  # every variant below must parse to exactly this article


def with_line_endings(data: bytes, ending: bytes) -> bytes:
    return data.replace(b"\n", ending)


def mixed_line_endings(data: bytes) -> bytes:
    endings = (b"\r\n", b"\n", b"\r")  # never CR then LF: that would be one CRLF break
    lines = data.split(b"\n")
    return b"".join(line + endings[i % 3] for i, line in enumerate(lines[:-1])) + lines[-1]


def with_trailing_whitespace(data: bytes) -> bytes:
    """Spaces, tabs and no-break spaces around every line, as word processors leave them."""
    return b"\n".join(
        b"  \t" + line + " \t\u00a0 ".encode() if line else b" \t" for line in data.split(b"\n")
    )


VARIANTS = {
    "crlf.txt": lambda data: with_line_endings(data, b"\r\n"),
    "cr_only.txt": lambda data: with_line_endings(data, b"\r"),
    "mixed_line_endings.txt": mixed_line_endings,
    "bom.txt": lambda data: codecs.BOM_UTF8 + data,
    "bom_crlf.txt": lambda data: codecs.BOM_UTF8 + with_line_endings(data, b"\r\n"),
    "trailing_whitespace.txt": with_trailing_whitespace,
    "no_final_newline.txt": lambda data: data.rstrip(b"\n"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_byte_variant_parses_like_the_plain_file(variant: str) -> None:
    data = VARIANTS[variant](fixture(BASE))
    assert data != fixture(BASE)
    assert_parsed(parse(data, variant), VALID[BASE], variant.removesuffix(".txt"))


@pytest.mark.parametrize("variant", ["crlf.txt", "cr_only.txt", "bom_crlf.txt"])
def test_line_numbers_do_not_depend_on_line_endings(variant: str) -> None:
    """An error and a warning point at the same line whatever the line endings."""
    broken = VARIANTS[variant](fixture("impossible_date.txt"))
    assert rejection(broken).line == 5
    warned = parse(VARIANTS[variant](fixture("updated_before_published.txt")))
    assert [w.line for w in warned.warnings] == [1]


def test_control_characters_are_dropped_with_a_warning() -> None:
    """XML 1.0 cannot carry C0 controls (but tab and newline); DEL and C1 are dropped too."""
    text = fixture(BASE).decode()
    text = text.replace("Gemeente opent", "Gemeente\x07 opent\x1b\x0b\x0c")
    text = text.replace("vanaf zaterdag", "vanaf\x08 zaterdag\x7f\x85\ufffe\x1f")
    result = parse(text.encode(), "control_chars.txt")
    expected = VALID[BASE]
    assert result.article.title == expected.title
    assert result.article.paragraphs == expected.paragraphs
    assert warnings_of(result) == [
        (Severity.WARNING, 1, "dropped control characters XML cannot carry (on 2 line(s))")
    ]


def test_tab_inside_a_line_is_kept() -> None:
    text = fixture(BASE).decode().replace("nieuw park", "nieuw\tpark")
    result = parse(text.encode())
    assert result.article.title == "Gemeente opent nieuw\tpark in Westwijk"
    assert result.warnings == ()


def test_bidirectional_marks_and_emoji_come_back_exactly() -> None:
    """Invisible direction marks (RLM, LRM, RLO/PDF, isolates) and ZWJ emoji are text."""
    title = "\u200fمرحبا\u200e \u202eabc\u202c \u2067שלום\u2069 👨\u200d👩\u200d👧 🏳️\u200d🌈"
    paragraph = "\u200fالنص\u200f en \u2066Nederlands\u2069 🇳🇱 \U0001f9d1\U0001f3fd\u200d💻"
    data = f"{title}\nنيوز -> מקומי\n7-7-2025\n\n{paragraph}\n".encode()
    result = parse(data)
    assert result.article.title == title
    assert result.article.paragraphs == (paragraph,)
    assert result.warnings == ()


def test_windows_1252_file_is_read_with_a_warning() -> None:
    text = fixture(BASE).decode().replace("Westwijkweg", "Westwijkweg (café)")
    result = parse(text.encode("cp1252"))
    assert result.article.paragraphs[0].startswith("Het park aan de Westwijkweg (café) is")
    assert warnings_of(result) == [
        (
            Severity.WARNING,
            8,
            "not valid UTF-8; read as Windows-1252 (save the file as UTF-8)",
        )
    ]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_file_with_bom_is_read_with_a_warning(encoding: str) -> None:
    bom = codecs.BOM_UTF16_LE if encoding == "utf-16-le" else codecs.BOM_UTF16_BE
    data = bom + fixture(BASE).decode().encode(encoding)
    result = parse(data, BASE)
    warning = (1, "the file is UTF-16; read as such (save the file as UTF-8)")
    assert_parsed(result, replace(VALID[BASE], warnings=(warning,)), "no_updated")


def test_file_of_exactly_one_mebibyte_is_accepted() -> None:
    data = fixture(BASE)
    data += b"x" * (MAX_ARTICLE_BYTES - len(data))
    assert len(data) == MAX_ARTICLE_BYTES
    result = parse(data)
    assert result.article.paragraphs[-1].endswith("x" * 1000)


# -- the real article format: the seed ----------------------------------------------------------


def seed() -> bytes:
    return SEED.read_bytes()


def test_seed_article() -> None:
    result = parse(seed(), f"2024/{SEED_NAME}")
    article = result.article
    assert article.id == "2024/000_3a5bf95db61d80b1"
    assert article.title == "Mark Rutte over de troepeninzet van de DPRK in Rusland"
    assert article.category.names == ("Nieuws", "Informatief")
    assert article.source is not None
    assert article.source.name == "NAVO"
    assert article.published.isoformat() == "2024-10-28T00:00:00+01:00"
    assert article.updated.isoformat() == "2024-11-28T00:00:00+01:00"
    assert len(article.paragraphs) == 7
    assert article.paragraphs[0].startswith("'Goedemorgen. Vanmorgen informeerde een delegatie")
    assert article.paragraphs[0].endswith("op 28 oktober 2024 in Brussel.")
    assert article.paragraphs[4].startswith("Dit onderstreept het belang van democratieën")
    assert article.paragraphs[-1] == "Dank u wel.'"
    assert not any("Amstelveenweb.com" in paragraph for paragraph in article.paragraphs)
    assert result.warnings == ()
    assert_summary_of(article)


@pytest.mark.parametrize("variant", ["crlf.txt", "cr_only.txt", "bom.txt", "bom_crlf.txt"])
def test_seed_with_other_line_endings_and_bom_is_the_same_article(variant: str) -> None:
    plain = parse(seed(), f"2024/{SEED_NAME}")
    other = parse(VARIANTS[variant](seed()), f"2024/{SEED_NAME}")
    assert other.article == plain.article
    assert other.warnings == ()


def test_bundled_seed_is_the_fixture_seed() -> None:
    assert BUNDLED_SEED.read_bytes() == seed()


# -- summary ----------------------------------------------------------------------------------


def assert_summary_of(article: Article) -> None:
    """The summary is the first paragraph, or its start cut at a word and ended with "…"."""
    first = " ".join(article.paragraphs[0].split())
    summary = article.summary
    assert len(summary) <= SUMMARY_LIMIT
    if len(first) <= SUMMARY_LIMIT:
        assert summary == first
        return
    assert summary.endswith("…")
    kept = summary.removesuffix("…")
    assert first.startswith(kept)
    assert first[len(kept)] in " ,;:-–—"  # cut at a word; punctuation before "…" dropped
    assert len(kept) > SUMMARY_LIMIT // 2


def test_summary_of_a_long_first_paragraph() -> None:
    article = parse(fixture("long_first_paragraph.txt")).article
    assert len(article.paragraphs[0]) > SUMMARY_LIMIT
    assert_summary_of(article)
    assert article.summary.startswith("De gemeente Amstelveen start in januari met het Bomenplan")
    assert article.summary.endswith(" en de gemeente organiseert in…")
    assert len(article.summary) == 298


def test_summary_of_a_short_first_paragraph_is_the_paragraph() -> None:
    article = parse(fixture(BASE)).article
    assert article.summary == "Het park aan de Westwijkweg is vanaf zaterdag open voor iedereen."


def test_summary_joins_the_lines_of_the_first_paragraph() -> None:
    article = parse(fixture("multiline_paragraph.txt")).article
    assert article.summary == (
        "Waternet vervangt in Bovenkerk de oude waterleiding over een lengte van twee kilometer."
    )


def test_summary_of_an_article_without_body_is_empty() -> None:
    assert parse(fixture("no_body.txt")).article.summary == ""


@pytest.mark.parametrize(
    ("paragraph", "summary"),
    [
        pytest.param("kort", "kort", id="short"),
        pytest.param("a" * 300, "a" * 300, id="exactly-the-limit"),
        pytest.param("woord " * 49 + "woord" + " laatste", "woord " * 49 + "woord…", id="fits"),
        pytest.param("woorden " * 40, "woorden " * 36 + "woorden…", id="cut-before-word"),
        pytest.param("a" * 400, "a" * 299 + "…", id="one-long-word-is-cut-hard"),
        pytest.param("zin, " * 70, "zin, " * 59 + "zin…", id="punctuation-before-ellipsis"),
        pytest.param("regel\n" * 60, "regel " * 49 + "regel…", id="lines-joined"),
    ],
)
def test_summarize(paragraph: str, summary: str) -> None:
    assert summarize(paragraph) == summary
    assert len(summarize(paragraph)) <= SUMMARY_LIMIT


# -- disclaimer ---------------------------------------------------------------------------------


def test_disclaimer_is_configurable() -> None:
    data = b"Titel\nNieuws\n1-2-2025\n\nTekst.\n\nEigen slottekst van de site.\n"
    assert parse(data, disclaimer="Eigen slottekst van de site.").article.paragraphs == ("Tekst.",)
    assert parse(data).article.paragraphs == ("Tekst.", "Eigen slottekst van de site.")


def test_disclaimer_matches_regardless_of_case_spacing_and_final_period() -> None:
    shouted = "AMSTELVEENWEB.COM  is niet verantwoordelijk voor de\ninhoud van de nieuwsberichten"
    data = f"Titel\nNieuws\n1-2-2025\n\nTekst.\n\n{shouted}\n".encode()
    assert parse(data).article.paragraphs == ("Tekst.",)


def test_disclaimer_text_before_the_last_paragraph_is_kept() -> None:
    data = f"Titel\nNieuws\n1-2-2025\n\n{DEFAULT_DISCLAIMER}\n\nSlot.\n".encode()
    assert parse(data).article.paragraphs == (DEFAULT_DISCLAIMER, "Slot.")


# -- time zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "iso"),
    [
        pytest.param("15-01-2025", "2025-01-15T00:00:00+01:00", id="winter-midnight"),
        pytest.param("15-07-2025", "2025-07-15T00:00:00+02:00", id="summer-midnight"),
        pytest.param("30-03-2025", "2025-03-30T00:00:00+01:00", id="spring-forward-day"),
        pytest.param("30-03-2025 01:59", "2025-03-30T01:59:00+01:00", id="before-the-gap"),
        pytest.param("30-03-2025 02:00", "2025-03-30T03:00:00+02:00", id="gap-start"),
        pytest.param("30-03-2025 03:00", "2025-03-30T03:00:00+02:00", id="after-the-gap"),
        pytest.param("26-10-2025", "2025-10-26T00:00:00+02:00", id="fall-back-day"),
        pytest.param("26-10-2025 02:00", "2025-10-26T02:00:00+02:00", id="overlap-start"),
        pytest.param("26-10-2025 03:00", "2025-10-26T03:00:00+01:00", id="after-the-overlap"),
        pytest.param("31-12-2024 23:59", "2024-12-31T23:59:00+01:00", id="new-years-eve"),
    ],
)
def test_dates_are_local_time_in_the_configured_zone(date: str, iso: str) -> None:
    data = f"Titel\nNieuws\n{date}\n\nTekst.\n".encode()
    assert parse(data).article.published.isoformat() == iso


@pytest.mark.parametrize(
    ("zone", "iso"),
    [
        ("UTC", "2025-07-15T09:30:00+00:00"),
        ("America/New_York", "2025-07-15T09:30:00-04:00"),
        ("Asia/Kolkata", "2025-07-15T09:30:00+05:30"),
    ],
)
def test_configured_zone_is_used(zone: str, iso: str) -> None:
    data = b"Titel\nNieuws\n15-07-2025 09:30\n\nTekst.\n"
    article = parse(data, zone=ZoneInfo(zone)).article
    assert article.published.isoformat() == iso
    assert article.published.tzinfo == ZoneInfo(zone)


def test_updated_in_another_offset_than_published() -> None:
    """Published in summer time, updated in winter time: both keep their own offset."""
    data = b"Bijgewerkt: 2 november 2025 10:00\nTitel\nNieuws\n20-10-2025 10:00\n\nTekst.\n"
    article = parse(data).article
    assert article.published.isoformat() == "2025-10-20T10:00:00+02:00"
    assert article.updated.isoformat() == "2025-11-02T10:00:00+01:00"


# -- header variants ----------------------------------------------------------------------------

MONTHS = {
    1: ("januari", "jan", "jan."),
    2: ("februari", "feb", "feb.", "febr."),
    3: ("maart", "mrt", "mrt."),
    4: ("april", "apr", "apr."),
    5: ("mei",),
    6: ("juni", "jun", "jun."),
    7: ("juli", "jul", "jul."),
    8: ("augustus", "aug", "aug."),
    9: ("september", "sep", "sep.", "sept", "sept."),
    10: ("oktober", "okt", "okt."),
    11: ("november", "nov", "nov."),
    12: ("december", "dec", "dec."),
}
MONTH_SPELLINGS = [
    pytest.param(month, spelling, id=spelling)
    for month, names in MONTHS.items()
    for name in names
    for spelling in sorted({name, name.upper(), name.capitalize()})
]


@pytest.mark.parametrize(("month", "spelling"), MONTH_SPELLINGS)
def test_bijgewerkt_with_every_month_spelling(month: int, spelling: str) -> None:
    data = f"Bijgewerkt: 28 {spelling} 2024\nTitel\nNieuws\n1-1-2024\n\nTekst.\n".encode()
    result = parse(data)
    assert result.article.updated.replace(tzinfo=None) == datetime(2024, month, 28)
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        pytest.param("3-2-2025", datetime(2025, 2, 3), id="no-leading-zeros"),
        pytest.param("03-02-2025", datetime(2025, 2, 3), id="leading-zeros"),
        pytest.param("3/2/2025", datetime(2025, 2, 3), id="slashes"),
        pytest.param("3.2.2025", datetime(2025, 2, 3), id="dots"),
        pytest.param("14-03-2025 09:30", datetime(2025, 3, 14, 9, 30), id="time"),
        pytest.param("14-03-2025 9.30", datetime(2025, 3, 14, 9, 30), id="time-with-dot"),
        pytest.param("14-03-2025 om 09:30 uur", datetime(2025, 3, 14, 9, 30), id="om-uur"),
        pytest.param("3 februari 2025", datetime(2025, 2, 3), id="month-name"),
        pytest.param("maandag 3 februari 2025", datetime(2025, 2, 3), id="weekday"),
        pytest.param("3 FEB. 2025 14.30 UUR", datetime(2025, 2, 3, 14, 30), id="capitals"),
        pytest.param("Datum: 3-2-2025", datetime(2025, 2, 3), id="datum-label"),
        pytest.param("Gepubliceerd: 3-2-2025", datetime(2025, 2, 3), id="gepubliceerd-label"),
    ],
)
def test_published_date_spellings(published: str, expected: datetime) -> None:
    data = f"Titel\nNieuws\n{published}\n\nTekst.\n".encode()
    assert parse(data).article.published.replace(tzinfo=None) == expected


@pytest.mark.parametrize(
    ("line", "names"),
    [
        pytest.param("Nieuws", ("Nieuws",), id="one"),
        pytest.param("Nieuws -> Informatief", ("Nieuws", "Informatief"), id="two"),
        pytest.param("Sport -> Hockey -> Dames", ("Sport", "Hockey", "Dames"), id="three"),
        pytest.param("Nieuws->Informatief", ("Nieuws", "Informatief"), id="no-spaces"),
        pytest.param("Nieuws  ->   Lokaal  nieuws", ("Nieuws", "Lokaal nieuws"), id="spaces"),
        pytest.param("Nieuws → Informatief", ("Nieuws", "Informatief"), id="arrow-character"),
        pytest.param("A -> B -> C -> D", ("A", "B", "C", "D"), id="four"),
    ],
)
def test_category_paths(line: str, names: tuple[str, ...]) -> None:
    data = f"Titel\n{line}\n1-2-2025\n\nTekst.\n".encode()
    assert parse(data).article.category.names == names


def test_title_containing_an_arrow_before_a_category() -> None:
    data = b"Prijs -> omhoog\nNieuws\n1-2-2025\n\nTekst.\n"
    article = parse(data).article
    assert article.title == "Prijs -> omhoog"
    assert article.category.names == ("Nieuws",)


@pytest.mark.parametrize(
    "path", ["2025/case.txt", "case.txt", "a/b/c/case.txt", "2025/CASE.TXT", "2025/café.txt"]
)
def test_id_is_the_path_without_txt(path: str) -> None:
    article = parse(fixture(BASE), path).article
    assert article.id == path[: -len(".txt")]
    assert article.source_path == path


@pytest.mark.parametrize(
    ("lines", "warning"),
    [
        pytest.param(
            "Bijgewerkt: gisteren\nTitel\nNieuws\n1-2-2025",
            (
                1,
                "invalid Bijgewerkt date: 'gisteren' is not a date with a four-digit year; "
                "using the published date",
            ),
            id="invalid-bijgewerkt",
        ),
        pytest.param(
            "Titel\nNieuws\nBron:\n1-2-2025",
            (3, "the Bron line names no source"),
            id="empty-bron",
        ),
        pytest.param(
            "Titel\nNieuws\nBron: NAVO\n1-2-2025\nBron: ANP",
            (5, "second Bron line ignored"),
            id="second-bron",
        ),
        pytest.param(
            "Bijgewerkt: 3-2-2025\nTitel\nNieuws\n1-2-2025\nBijgewerkt: 4-2-2025",
            (5, "second Bijgewerkt line ignored"),
            id="second-bijgewerkt",
        ),
    ],
)
def test_header_warnings(lines: str, warning: tuple[int, str]) -> None:
    result = parse(f"{lines}\n\nTekst.\n".encode())
    assert warnings_of(result) == [(Severity.WARNING, *warning)]
    assert result.article.paragraphs == ("Tekst.",)


def test_updated_earlier_on_the_same_day_is_published_with_a_warning() -> None:
    data = b"Titel\nNieuws\n14-03-2025 09:30\nBijgewerkt: 14-03-2025 08:00\n\nTekst.\n"
    result = parse(data)
    assert result.article.updated == result.article.published
    assert warnings_of(result) == [(Severity.WARNING, 4, BEFORE_PUBLISHED)]


# -- rejections ---------------------------------------------------------------------------------

REJECTED_FIXTURES = {
    "empty.txt": (1, "the file is empty"),
    "no_title.txt": (1, "the title is missing: 'Nieuws -> Informatief' looks like the category"),
    "no_title_after_updated.txt": (3, "the title is missing"),
    "only_updated_line.txt": (1, "no title after the Bijgewerkt line"),
    "no_category.txt": (3, "the category path (such as 'Nieuws -> Informatief') is missing"),
    "empty_category_level.txt": (3, "the category path 'Nieuws -> -> Sport' has an empty level"),
    "no_date.txt": (7, "the published date (DD-MM-YYYY) is missing, found 'De datum is vergeten.'"),
    "impossible_date.txt": (5, "invalid published date: '31-02-2024' is not a possible date"),
    "two_digit_year.txt": (5, "invalid published date: '28-10-24' is not a date with a four-digit"),
    "year_out_of_range.txt": (5, "year 1850 is outside 1900-2100"),
    "date_with_zone.txt": (5, "the published date (DD-MM-YYYY) is missing, found '28 oktober"),
}


@pytest.mark.parametrize("name", sorted(REJECTED_FIXTURES))
def test_rejected_fixture(name: str) -> None:
    error = rejection(fixture(name), f"2025/{name}")
    line, fragment = REJECTED_FIXTURES[name]
    assert error.path == f"2025/{name}"
    assert error.line == line
    assert fragment in error.reason
    assert error.problem.severity is Severity.ERROR
    assert str(error) == f"2025/{name}:{line}: {error.reason}"


def png_like() -> bytes:
    """The first bytes of a PNG image: a binary file that happens to end in .txt."""
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))


REJECTED_BYTES = {
    "binary.bin.txt": (png_like(), 3, "not a text file (it contains NUL bytes)"),
    "nul_in_text.txt": (
        fixture(BASE).replace(b"Westwijkweg", b"West\x00wijkweg"),
        8,
        "not a text file (it contains NUL bytes)",
    ),
    "nul_in_cr_only.txt": (
        with_line_endings(fixture(BASE), b"\r").replace(b"Westwijkweg", b"West\x00wijkweg"),
        8,
        "not a text file (it contains NUL bytes)",
    ),
    "undecodable.txt": (
        with_line_endings(fixture(BASE), b"\r").replace(b"Bron", b"Br\x81on"),
        5,
        "not a text file (neither UTF-8 nor Windows-1252)",
    ),
    "bad_utf16.txt": (codecs.BOM_UTF16_LE + b"\x00\xd8T\x00", 1, "not valid UTF-16-LE text"),
    "too_large.txt": (
        fixture(BASE) + b"x" * (MAX_ARTICLE_BYTES + 1 - len(fixture(BASE))),
        0,
        "the file is larger than 1 MiB (1,048,577 bytes)",
    ),
    "whitespace_only.txt": (" \n\t\r\n\u00a0\n\r  ".encode(), 1, "the file is empty"),
    "bom_only.txt": (codecs.BOM_UTF8 + b"\r\n\r\n", 1, "the file is empty"),
    "controls_only.txt": (b"\x01\x02\n\x1b\n", 1, "the file is empty"),
    "bijgewerkt_then_blank.txt": (b"Bijgewerkt: 1-2-2025\r\n\r\n\r\n", 1, "no title after"),
    "title_only.txt": (b"Titel\n", 1, "no category path after the title"),
    "no_date_at_end.txt": (b"Titel\nNieuws\nBron: NAVO\n\n", 3, "the published date"),
    "impossible_time.txt": (b"Titel\nNieuws\n1-2-2025 24:00\n\nTekst.", 3, "invalid published"),
    "february_29_2023.txt": (b"Titel\nNieuws\n29-2-2023\n\nTekst.", 3, "not a possible date"),
}


@pytest.mark.parametrize("name", sorted(REJECTED_BYTES))
def test_rejected_bytes(name: str) -> None:
    data, line, fragment = REJECTED_BYTES[name]
    error = rejection(data, f"2025/{name}")
    assert (error.path, error.line) == (f"2025/{name}", line)
    assert fragment in error.reason


def test_a_title_that_reads_like_a_date_is_a_title() -> None:
    article = parse(b"Op 4 mei 2025\n\nNieuws\n\nBron: Gemeente\n12-05-2025\n\nTekst.").article
    assert article.title == "Op 4 mei 2025"
    assert article.category.names == ("Nieuws",)


def test_a_date_where_the_title_belongs_is_still_a_missing_title() -> None:
    error = rejection(b"4 mei 2025\n\nTekst zonder kop.\n")
    assert (error.line, error.reason) == (1, "the title and category path are missing")


def test_mostly_utf8_with_a_damaged_byte_keeps_its_text() -> None:
    data = "Café aan de Amstel\n\nNieuws\n12-05-2025\n\nTekst met één fout: \xff.".encode()
    data = data.replace("\xff".encode(), b"\xff")
    result = parse(data)
    assert result.article.title == "Café aan de Amstel"
    assert result.article.paragraphs == ("Tekst met één fout: \ufffd.",)
    assert warnings_of(result) == [
        (Severity.WARNING, 6, "invalid UTF-8 bytes replaced by U+FFFD; fix them in the file")
    ]

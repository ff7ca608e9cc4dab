"""Properties of ``parse_article`` over generated input.

1. Whatever the bytes, the parser returns an article or raises ``ContentError``, nothing else,
   and an article it returns keeps the model's promises.
2. A generated valid article (hostile characters, any category depth, optional source and
   Bijgewerkt line, any date spelling, any line endings) parses back to exactly what was written.
3. Work per file is linear: any file, including the worst cases found (a 1 MiB line that dateutil
   would chew on for 17 s, 100,000 header lines that made the line reader quadratic), makes at
   most about twice the function calls at twice the size, and dateutil never sees more than
   ``MAX_DATE_LENGTH`` characters. Counted, not timed (bench/parser_worst_case_times.py times them).

Deterministic (``derandomize``) and bounded so the suite stays fast.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from parser_worst_cases import HEADER, WORST_CASES, fill

from feedsvc.articles import dates
from feedsvc.articles.dates import DateFormatError, localize, parse_dutch_datetime
from feedsvc.articles.parser import (
    MAX_ARTICLE_BYTES,
    SUMMARY_LIMIT,
    ParseResult,
    parse_article,
    summarize,
)
from feedsvc.errors import ContentError, Severity
from feedsvc.settings import DEFAULT_DISCLAIMER

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
ROUND_TRIP = settings(
    max_examples=150,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# What XML 1.0 cannot carry (and what the parser drops): C0 controls but tab/LF/CR, DEL, C1.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def parse(data: bytes) -> ParseResult:
    return parse_article(data, "2025/gen.txt", zone=AMSTERDAM, disclaimer=DEFAULT_DISCLAIMER)


def check_article_or_content_error(data: bytes) -> None:
    """The property every input must have; a returned article must be well-formed."""
    try:
        result = parse(data)
    except ContentError as error:
        problem = error.problem
        assert problem.path == "2025/gen.txt"
        assert problem.line >= 0
        assert problem.message
        return
    article = result.article
    assert article.id == "2025/gen"
    assert article.title
    assert article.title == article.title.strip()
    assert article.published.tzinfo is not None
    assert article.updated >= article.published
    assert len(article.summary) <= SUMMARY_LIMIT
    texts = [article.title, *article.category.names, *article.paragraphs, article.summary]
    if article.source is not None:
        texts.append(article.source.name)
    for text in texts:
        assert not XML_FORBIDDEN.search(text)
        assert "\r" not in text
    assert all(w.severity is Severity.WARNING for w in result.warnings)


# -- 1. anything in, an article or a ContentError out -----------------------------------------

HEADER_LIKE = st.sampled_from(
    [
        "Bijgewerkt:",
        "Bijgewerkt: 28 november 2024",
        "BIJGEWERKT: 3 mrt. 2025 14.30 UUR",
        "Bron:",
        "Bron: NAVO",
        "Datum: 31-02-2024",
        "28-10-2024",
        "28-10-2024 25:61",
        "3-2-25",
        "1.2.3.4",
        "99/99/9999",
        "Nieuws -> Informatief",
        "->",
        " -> -> ",
        "→",
        "maandag 4 juni 2025 om 14:30 uur",
        "4 juni 2025 14:00 CET",
        "4 juni 2025 +01:00",
        "2025",
        "10 uur",
        "mei",
        DEFAULT_DISCLAIMER,
        "",
        "\ufeff",
        "\x00",
        "\x85",
        "\u2028",
    ]
)
LINE_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_give_an_article_or_a_content_error(data: bytes) -> None:
    check_article_or_content_error(data)


@FUZZ
@given(st.text(max_size=1000))
def test_any_text_gives_an_article_or_a_content_error(text: str) -> None:
    check_article_or_content_error(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    st.lists(st.one_of(HEADER_LIKE, st.text(max_size=40)), max_size=14),
    LINE_ENDINGS,
    st.booleans(),
)
def test_header_like_lines_give_an_article_or_a_content_error(
    lines: list[str], ending: str, bom: bool
) -> None:
    data = ending.join(lines).encode("utf-8", "surrogatepass")
    check_article_or_content_error((codecs.BOM_UTF8 if bom else b"") + data)


DATE_WORDS = st.sampled_from(
    [
        "januari", "mrt.", "MEI", "sept", "maandag", "om", "uur", "UUR", "CET", "Z", "+01:00",
        "-", "/", ".", ":", ",", "de", "op", "u", "h", "2025", "1899", "2101", "24", "60", "31",
        "02", "9.30", "14:30:15", "12.50.30", "T", "10000", "٣", "２０２５",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(st.one_of(DATE_WORDS, st.text(max_size=6)), max_size=8).map(" ".join))
def test_date_text_gives_a_date_in_range_or_a_date_format_error(text: str) -> None:
    try:
        value, _ = parse_dutch_datetime(text)
    except DateFormatError:
        return
    assert value.tzinfo is None
    assert 1900 <= value.year <= 2100


# -- 2. generated valid articles parse back to what was written ---------------------------------

# Text an editor could type: any printable character of any script (emoji, Arabic, Hebrew,
# markup and XML-hostile characters included), plus space and tab; no line breaks or controls.
HOSTILE = "&<>\"']]>`\\{}%$#;:/?=-–—…"
CHARACTERS = st.one_of(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Cn", "Zl", "Zp", "Co"),
        blacklist_characters="\ufeff",
    ),
    st.sampled_from([*HOSTILE, " ", "\t", "\u200f", "\u200e", "\u202e", "\u200d"]),
)
# A first word from no date vocabulary, so a title or category can never read as a date, a
# "Bron:" or a "Bijgewerkt:" line; the rest of the line is anything.
SAFE_WORDS = st.sampled_from(
    ["Gemeente", "Politie", "Nieuws", "Sport", "Cultuur", "Verkeer", "Ἀθῆναι", "نيوز", "שלום", "🎉"]
)


def squeeze(text: str) -> str:
    return " ".join(text.split())


def line_text(min_size: int = 0, max_size: int = 60) -> st.SearchStrategy[str]:
    return st.text(CHARACTERS, min_size=min_size, max_size=max_size)


@st.composite
def titles(draw: st.DrawFn) -> str:
    return draw(SAFE_WORDS) + " " + draw(line_text())


@st.composite
def category_names(draw: st.DrawFn) -> tuple[str, ...]:
    first = draw(SAFE_WORDS)
    deeper = draw(st.lists(line_text(1, 20).map(squeeze).filter(bool), max_size=3))
    names = (first, *deeper)
    assume(not any("->" in name or "→" in name or name.endswith("-") for name in names))
    return names


@st.composite
def paragraphs(draw: st.DrawFn) -> list[list[str]]:
    """Paragraphs as lists of lines, each line with some text in it."""
    lines = line_text(1, 80).filter(lambda line: bool(line.strip()))
    return draw(st.lists(st.lists(lines, min_size=1, max_size=3), max_size=4))


MONTH_SPELLINGS = {
    1: ["januari", "jan", "jan."],
    2: ["februari", "feb", "feb.", "febr."],
    3: ["maart", "mrt", "mrt."],
    4: ["april", "apr", "apr."],
    5: ["mei"],
    6: ["juni", "jun", "jun."],
    7: ["juli", "jul", "jul."],
    8: ["augustus", "aug", "aug."],
    9: ["september", "sep", "sep.", "sept", "sept."],
    10: ["oktober", "okt", "okt."],
    11: ["november", "nov", "nov."],
    12: ["december", "dec", "dec."],
}
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


@st.composite
def written_dates(draw: st.DrawFn, moment: datetime, with_time: bool) -> str:
    """``moment`` as an editor might write it: numeric or with a month name, any case."""
    if draw(st.booleans()):
        day = f"{moment.day:02d}" if draw(st.booleans()) else str(moment.day)
        month = f"{moment.month:02d}" if draw(st.booleans()) else str(moment.month)
        sep = draw(st.sampled_from("-/."))
        text = f"{day}{sep}{month}{sep}{moment.year}"
    else:
        month_name = draw(st.sampled_from(MONTH_SPELLINGS[moment.month]))
        month_name = draw(st.sampled_from([month_name, month_name.upper(), month_name.title()]))
        text = f"{moment.day} {month_name} {moment.year}"
        if draw(st.booleans()):
            text = f"{WEEKDAYS[moment.weekday()]} {text}"
    if with_time:
        hour = f"{moment.hour:02d}" if draw(st.booleans()) else str(moment.hour)
        text += f" {hour}{draw(st.sampled_from(':.'))}{moment.minute:02d}"
        if draw(st.booleans()):
            text = text.replace(f" {hour}", f" om {hour}") + " uur"
    return text


def minutes(start: date, end: date) -> st.SearchStrategy[datetime]:
    return st.datetimes(datetime.combine(start, datetime.min.time()), datetime(end.year, 12, 31))


@dataclass(frozen=True)
class Written:
    data: bytes
    title: str
    category: tuple[str, ...]
    source: str | None
    published: datetime
    updated: datetime
    updated_warning: bool
    paragraphs: tuple[str, ...]


def is_in_gap(naive: datetime) -> bool:
    """A wall-clock time the spring-forward jump skips (tested by example elsewhere)."""
    aware = naive.replace(tzinfo=AMSTERDAM)
    return aware.astimezone(ZoneInfo("UTC")).astimezone(AMSTERDAM).replace(tzinfo=None) != naive


@st.composite
def written_articles(draw: st.DrawFn) -> Written:
    title = draw(titles())
    category = draw(category_names())
    source = draw(st.none() | line_text(1, 30).map(squeeze).filter(bool))
    published_naive = draw(minutes(date(1900, 1, 2), date(2099, 1, 1))).replace(
        second=0, microsecond=0
    )
    assume(not is_in_gap(published_naive))
    published_has_time = draw(st.booleans())
    if not published_has_time:
        published_naive = published_naive.replace(hour=0, minute=0)
    published = localize(published_naive, AMSTERDAM)

    updated, updated_warning, updated_line = published, False, None
    if draw(st.booleans()):
        shift = timedelta(minutes=draw(st.integers(-5 * 24 * 60, 400 * 24 * 60)))
        updated_naive = published_naive + shift
        assume(not is_in_gap(updated_naive))
        updated_has_time = draw(st.booleans())
        if not updated_has_time:
            updated_naive = updated_naive.replace(hour=0, minute=0)
        updated_line = "Bijgewerkt: " + draw(written_dates(updated_naive, updated_has_time))
        candidate = localize(updated_naive, AMSTERDAM)
        if not updated_has_time and updated_naive.date() == published_naive.date():
            pass  # same day without a time: the publication itself
        elif candidate < published:
            updated_warning = True
        else:
            updated = candidate

    body = draw(paragraphs())
    # A first body line that reads as a header line would be taken as one; editors don't.
    assume(not body or not re.match(r"(?i)\s*(bron|bijgewerkt)\s*:", body[0][0]))
    blank = draw(st.sampled_from(["", " ", "\t "]))
    header = [title, blank, " -> ".join(category), blank]
    if source is not None:
        header.append(f"Bron: {source}")
    header.append(draw(written_dates(published_naive, published_has_time)))
    if updated_line is not None:
        header = [updated_line, blank, *header]
    lines = [*header, blank]
    for paragraph in body:
        lines += [*paragraph, *([blank] * draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        lines.append(DEFAULT_DISCLAIMER)
    text = draw(LINE_ENDINGS).join(lines)
    data = (codecs.BOM_UTF8 if draw(st.booleans()) else b"") + text.encode()
    return Written(
        data,
        title.strip(),
        category,
        source,
        published,
        updated,
        updated_warning,
        tuple("\n".join(line.strip() for line in paragraph) for paragraph in body),
    )


@ROUND_TRIP
@given(written_articles())
def test_generated_article_parses_back_to_what_was_written(written: Written) -> None:
    result = parse(written.data)
    article = result.article
    assert article.title == written.title
    assert article.category.names == written.category
    assert (article.source.name if article.source else None) == written.source
    assert article.published == written.published
    assert article.published.utcoffset() == written.published.utcoffset()
    assert article.updated == written.updated
    assert article.updated.utcoffset() == written.updated.utcoffset()
    assert article.paragraphs == written.paragraphs
    assert article.summary == (summarize(written.paragraphs[0]) if written.paragraphs else "")
    expected_warnings = []
    if written.updated_warning:
        expected_warnings.append("the Bijgewerkt date is before the published date")
    if not written.paragraphs:
        expected_warnings.append("the article has no body text")
    assert [w.message.split(";")[0] for w in result.warnings] == expected_warnings


# -- 3. work per file grows linearly, and dateutil only sees short text ---------------------------

# Counted, not timed, so that the test says the same on a busy machine. A trace hook counts the
# Python bytecode instructions the parse runs and its calls into C, and adds up the memory it
# allocates (the growth tracemalloc sees from one instruction to the next, so a copy made inside
# a C call counts too). Doubling a file at most doubles both, plus what does not depend on the
# size. The worst cases once grew quadratically (a peek at the next header line copied the rest
# of the file) or handed a 1 MiB line to dateutil. How long they take at the 1 MiB limit is
# bench/parser_worst_case_times.py's job.
SMALL_SIZE = 16 * 1024


@dataclass
class Work:
    steps: int = 0  # bytecode instructions and calls into C
    allocated: int = 0  # bytes


def work_to_parse(data: bytes) -> Work:
    work = Work()
    traced = 0

    def count(frame: FrameType, event: str, arg: object) -> Callable[..., object]:
        nonlocal traced
        work.steps += 1
        now = tracemalloc.get_traced_memory()[0]
        work.allocated += max(0, now - traced)
        traced = now
        frame.f_trace_opcodes = True
        return count

    def count_c_calls(frame: FrameType, event: str, arg: object) -> None:
        work.steps += event == "c_call"

    tracemalloc.start()
    traced = tracemalloc.get_traced_memory()[0]
    sys.settrace(count)
    sys.setprofile(count_c_calls)
    try:
        parse(data)
    except ContentError:
        pass
    finally:
        sys.settrace(None)
        sys.setprofile(None)
        tracemalloc.stop()
    return work


def assert_linear(make: Callable[[int], bytes]) -> None:
    small, double = (work_to_parse(make(size)) for size in (SMALL_SIZE, 2 * SMALL_SIZE))
    # Linear: double <= 2 * small. Quadratic would be about 4 * small.
    assert double.steps <= 2.5 * small.steps + 100, (small, double)
    assert double.allocated <= 2.5 * small.allocated + 10_000, (small, double)


@contextlib.contextmanager
def dateutil_inputs() -> Iterator[list[str]]:
    """The text of every call the parser makes to dateutil inside the block."""
    seen: list[str] = []
    real = dates.dateutil_parser.parse

    def recording(text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(text)
        return real(text, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dates.dateutil_parser, "parse", recording)
        yield seen


@pytest.mark.parametrize("name", WORST_CASES)
def test_worst_case_files_take_work_in_proportion_to_their_size(name: str) -> None:
    assert_linear(WORST_CASES[name])


@pytest.mark.parametrize("name", WORST_CASES)
def test_worst_case_files_at_the_limit_parse_and_keep_dateutil_to_short_text(name: str) -> None:
    data = WORST_CASES[name](MAX_ARTICLE_BYTES)
    assert len(data) > MAX_ARTICLE_BYTES // 2  # the limit's size, not a smaller file
    with dateutil_inputs() as seen:
        check_article_or_content_error(data)
    assert all(len(text) <= dates.MAX_DATE_LENGTH for text in seen)


def test_dateutil_sees_the_dates_it_must_read() -> None:
    """The recording above sees calls at all: a date outside the grammar goes to dateutil."""
    with dateutil_inputs() as seen:
        parse(b"Titel\nNieuws\nmaandag 4 juni 2025 om 14.30 uur\n\nTekst.\n")
    assert seen


LARGE_UNITS = st.one_of(
    HEADER_LIKE.map(lambda line: line + "\n"),
    DATE_WORDS.map(lambda word: word + " "),
    st.sampled_from(["\n", "\r", "\r\n", " ", "\t", "->", ":", ".", "2025", "\x85", "\u2028"]),
    st.text(max_size=12),
)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.lists(LARGE_UNITS, min_size=1, max_size=6).map("".join), st.sampled_from(["", HEADER]))
def test_any_file_takes_work_in_proportion_to_its_size(unit: str, prefix: str) -> None:
    assert_linear(lambda size: fill(unit, prefix, size))


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.lists(LARGE_UNITS, min_size=1, max_size=6).map("".join), st.sampled_from(["", HEADER]))
def test_any_file_up_to_the_limit_keeps_dateutil_to_short_text(unit: str, prefix: str) -> None:
    with dateutil_inputs() as seen:
        check_article_or_content_error(fill(unit, prefix))
    assert all(len(text) <= dates.MAX_DATE_LENGTH for text in seen)


# -- 4. inputs the coverage-guided fuzzer (bench/fuzz_parser.py) found -----------------------------

FUZZER_FINDINGS = {
    # dateutil let decimal.InvalidOperation (not a ValueError) out of a time with many digits,
    # on the category line, where the parser asks whether a line is a date: a crash, not an error.
    "long-digit-time-on-the-category-line": b"ieO\n1:0" + b"7" * 52 + b"-1:0-1-20-1:0-0-20-2024",
    "long-digit-time-as-the-date": b"Titel\nNieuws\n1:" + b"7" * 30 + b" 2024\n\nTekst.\n",
}


@pytest.mark.parametrize("name", FUZZER_FINDINGS)
def test_inputs_found_by_fuzzing_give_an_article_or_a_content_error(name: str) -> None:
    check_article_or_content_error(FUZZER_FINDINGS[name])


def test_a_time_with_a_long_run_of_digits_is_not_a_date() -> None:
    with pytest.raises(DateFormatError, match="is not a date"):
        parse_dutch_datetime("1:" + "7" * 30 + " 2024")

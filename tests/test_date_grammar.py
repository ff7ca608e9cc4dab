"""The strict date grammar against independent readings: dateutil for worded dates, the
generated fields for numeric ones, and dateutil's refusal wherever the cheap test rules a line out.

``parse_dutch_datetime`` reads the forms the README documents with one regular expression and
leaves the rest to dateutil; these properties show the fast path reads each date as dateutil (or,
for numeric dates, the fields written) would, so taking it changes no result.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.articles.dates import (
    DateFormatError,
    cannot_be_date,
    parse_dutch_datetime,
    parse_with_dateutil,
)

MANY = settings(max_examples=1500, deadline=None, derandomize=True)

MONTH_WORDS = (
    "januari", "jan", "februari", "feb", "febr", "maart", "mrt", "mar", "april", "apr", "mei",
    "juni", "jun", "juli", "jul", "augustus", "aug", "september", "sep", "sept", "oktober",
    "okt", "oct", "november", "nov", "december", "dec",
    # not months: dateutil must be the one to say so
    "maandag", "foo", "marts", "ſept", "bıj", "om", "uur",
)  # fmt: skip
SPACE = st.sampled_from([" ", " ", " ", "  ", "\t", " \u00a0"])
DIGITS_1_2 = st.integers(0, 39).map(str) | st.integers(0, 12).map("{:02d}".format)
YEAR = st.integers(1880, 2120).map(str) | st.sampled_from(["0999", "2024", "2025"])


def case(word: str, style: int) -> str:
    return (word, word.upper(), word.capitalize())[style]


@st.composite
def worded_dates(draw: st.DrawFn) -> str:
    weekday = draw(st.sampled_from(["", "maandag ", "Di, ", "ZONDAG  ", "wo ", "morgen ", "za,"]))
    text = (
        weekday
        + draw(DIGITS_1_2)
        + draw(SPACE)
        + case(draw(st.sampled_from(MONTH_WORDS)), draw(st.integers(0, 2)))
        + draw(st.sampled_from(["", "."]))
        + draw(SPACE)
        + draw(YEAR)
    )
    if draw(st.booleans()):
        text += draw(st.sampled_from([" ", ", ", " om ", ", om ", " OM ", ",", "  "]))
        hours = st.sampled_from(["0", "00", "9", "14", "23", "24"]) | st.integers(0, 29).map(str)
        text += draw(hours)
        text += draw(st.sampled_from([":", ":", "."]))
        minutes = st.sampled_from(["00", "30", "59", "60", "5", "000"])
        text += draw(minutes | st.integers(0, 69).map("{:02d}".format))
        text += draw(st.sampled_from(["", "", " uur", " UUR", "uur", " u", ":15"]))
    return text


def outcome(parse: object, text: str) -> object:
    assert callable(parse)
    try:
        return parse(text)
    except DateFormatError as error:
        return str(error)


@MANY
@given(worded_dates())
def test_a_worded_date_reads_as_dateutil_reads_it(text: str) -> None:
    normalised = " ".join(text.split())
    assert outcome(parse_dutch_datetime, text) == outcome(parse_with_dateutil, normalised)


@MANY
@given(
    day=st.integers(0, 35),
    month=st.integers(0, 14),
    year=st.integers(1880, 2120),
    zeros=st.booleans(),
    separators=st.tuples(st.sampled_from("-/."), st.sampled_from("-/.")),
    time=st.none()
    | st.tuples(st.integers(0, 26), st.integers(0, 62), st.none() | st.integers(0, 62)),
    time_style=st.tuples(
        st.sampled_from([" ", ", ", " om ", ", OM ", "  "]),
        st.sampled_from(":."),
        st.sampled_from(["", " uur", "uur", " Uur"]),
    ),
)
def test_a_numeric_date_reads_as_its_fields(
    *,
    day: int,
    month: int,
    year: int,
    zeros: bool,
    separators: tuple[str, str],
    time: tuple[int, int, int | None] | None,
    time_style: tuple[str, str, str],
) -> None:
    width = "02d" if zeros else "d"
    text = f"{day:{width}}{separators[0]}{month:{width}}{separators[1]}{year}"
    if time is not None:
        before, colon, after = time_style
        hour, minute, second = time
        text += f"{before}{hour}{colon}{minute:02d}"
        text += "" if second is None else f"{colon}{second:02d}"
        text += after
    hour, minute, second = time or (0, 0, None)
    try:
        expected = datetime(year, month, day, hour, minute, second or 0)
    except ValueError:
        expected = None
    if expected is None or not 1900 <= year <= 2100:
        try:
            parse_dutch_datetime(text)
        except DateFormatError:
            return
        raise AssertionError(f"{text!r} read as a date")
    assert parse_dutch_datetime(text) == (expected, time is not None)


WORDS = st.sampled_from(
    [
        *MONTH_WORDS, "maandag", "zondag", "di", "om", "uur", "minuten", "seconden", "of", "UTC",
        "Begroting", "aangenomen", "gemeente", "oKtober", "sept", "CEST", "Amstelveen", "kermis",
        "2025", "14:30", "3", "03", "-", "/", ".", ",", ":", "+", "'", "t/m", "12.50", "٣",
    ]
)  # fmt: skip


@MANY
@given(
    st.lists(WORDS | st.text(max_size=8), max_size=4),
    st.sampled_from(["", "3 augustus 2025", "14-3-2025 9:30", "maandag 3 mrt. 2025", "2025"]),
    st.lists(WORDS | st.text(max_size=8), max_size=4),
)
def test_a_line_the_cheap_test_rules_out_is_never_a_date_to_dateutil(
    before: list[str], date: str, after: list[str]
) -> None:
    normalised = " ".join(" ".join([*before, date, *after]).split())
    if cannot_be_date(normalised):
        try:
            parse_with_dateutil(normalised)
        except DateFormatError:
            return
        raise AssertionError(f"dateutil reads {normalised!r}, which the cheap test ruled out")

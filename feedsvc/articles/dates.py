"""Dates as Dutch editors write them: ``28-10-2024``, ``3-2-2025 9:30``, ``28 november 2024``,
``3 mrt. 2025``, ``maandag 4 JUNI 2025``.

Every form the README documents is read by one strict grammar (:data:`DATE_GRAMMAR`, one regular
expression; content folders hold tens of thousands of files, and the parser embeds the grammar in
the one expression it runs over each header line). Anything else goes to python-dateutil with
Dutch month and weekday names, and so does a date the grammar matched but that does not exist, so
that dateutil words the error. The grammar only ever accepts what dateutil reads the same way
(tests/test_dutchdates.py compares the two on generated dates).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

MIN_YEAR = 1900
MAX_YEAR = 2100
# The longest date an editor writes ("woensdag 24 september 2025 om 14:30:15 uur") has about 45
# characters. Longer text is a sentence, not a date, and dateutil's time grows with the length
# of what it is given: a 1 MiB line took it 17 seconds.
MAX_DATE_LENGTH = 80


class DutchParserInfo(dateutil_parser.parserinfo):
    """dateutil vocabulary for Dutch: month and weekday names, abbreviations, "uur"."""

    MONTHS = [  # noqa: RUF012 - dateutil reads these class attributes
        ("jan", "januari"),
        ("feb", "februari", "febr"),
        ("mrt", "maart", "mar"),
        ("apr", "april"),
        ("mei", "mei"),
        ("jun", "juni"),
        ("jul", "juli"),
        ("aug", "augustus"),
        ("sep", "sept", "september"),
        ("okt", "oktober", "oct"),
        ("nov", "november"),
        ("dec", "december"),
    ]
    WEEKDAYS = [  # noqa: RUF012
        ("ma", "maandag"),
        ("di", "dinsdag"),
        ("wo", "woensdag"),
        ("do", "donderdag"),
        ("vr", "vrijdag"),
        ("za", "zaterdag"),
        ("zo", "zondag"),
    ]
    # "uur" is both a jump word ("om 14:30 uur") and an HMS unit ("14 uur"): dateutil needs both.
    JUMP = [" ", ".", ",", ";", "-", "/", "'", "om", "uur", "op", "de", "u"]  # noqa: RUF012
    AMPM: list[tuple[str, str]] = []  # noqa: RUF012 - Dutch editors write a 24-hour clock
    HMS = [("h", "uur", "uren"), ("m", "min", "minuten"), ("s", "sec", "seconden")]  # noqa: RUF012

    def __init__(self) -> None:
        super().__init__(dayfirst=True, yearfirst=False)


_PARSER_INFO = DutchParserInfo()
# Written for text whose white space is not normalised: "\s+" wherever the normalised text has
# one space. Its words ignore case by themselves ((?i:om)), for patterns that embed it without
# re.IGNORECASE. Group names are part of the interface: the parser embeds this pattern in its own.
DATE_GRAMMAR = (
    # 28-10-2024, 3/2/2025, 03.02.2025, optionally with a time: 9:30, 09.30, ", om 9:30 uur"
    r"(?P<day>\d{1,2})[-/.](?P<month>\d{1,2})[-/.](?P<year>\d{4})"
    r"(?:,?\s+(?:(?i:om)\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?"
    r"(?:\s*(?i:uur))?)?"
    # 28 november 2024, 3 mrt. 2025, 4 SEPT 2025, optionally with a time: 9:30, ", om 9:30 uur",
    # optionally after the weekday: "maandag 4 juni 2025", "di, 3 juni 2025"
    r"|(?:(?P<weekday>[^\W\d_]+),?\s+)?(?P<wday>\d{1,2})\s+(?P<wmonth>[^\W\d_]+)\.?\s+(?P<wyear>\d{4})"
    r"(?:,?\s+(?:(?i:om)\s+)?(?P<whour>[0-9]{1,2}):(?P<wminute>[0-9]{2})(?:\s+(?i:uur))?)?"
)
# IGNORECASE: "OM 9:30 UUR" in a line typed in capitals.
_GRAMMAR = re.compile(DATE_GRAMMAR, re.IGNORECASE)
# "14.30" is a time to a Dutch reader but 14.3 hours (14:18) to dateutil: make it "14:30".
_DOTTED_TIME = re.compile(r"(?<![\d.:])(\d{1,2})\.(\d{2})(?:\.(\d{2}))?(?![\d.:])")
_WORD = re.compile(r"[^\W\d_]+")
_HAS_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
# Two defaults that differ in every field: a field dateutil filled in from the default differs
# between the two parses, which is how a date missing its day, month or year is caught.
_PROBE_DEFAULTS = (datetime(2000, 1, 1, 0, 0, 0), datetime(2001, 2, 2, 0, 0, 0))
# Every word dateutil accepts with DutchParserInfo, lowercased: its vocabulary, the words it
# takes as the "of" in "3 of March" and as UTC. A longer word outside it makes dateutil fail.
_VOCABULARY = frozenset(
    word.lower()
    for names in (
        *DutchParserInfo.MONTHS,
        *DutchParserInfo.WEEKDAYS,
        *DutchParserInfo.HMS,
        DutchParserInfo.JUMP,
        DutchParserInfo.PERTAIN,
        DutchParserInfo.UTCZONE,
    )
    for word in names
)
# dateutil takes a word of up to five capitals after a time for a zone name; a word of this many
# ASCII letters or more is never one.
_LONG_WORD = re.compile(r"[A-Za-z]{6,}")


class DateFormatError(ValueError):
    """The text is not a complete, possible date."""


def parse_dutch_datetime(text: str) -> tuple[datetime, bool]:
    """Parse a Dutch date, optionally with a time, into a naive datetime.

    Returns the datetime and whether a time of day was given. Raises :class:`DateFormatError`
    for anything that is not a complete, existing date between 1900 and 2100.
    """
    text = text.strip()  # as the parser's lines are; the grammar has no room for white space
    match = _GRAMMAR.fullmatch(text)
    if match:
        return date_from_grammar(match, text)
    return parse_other_date(text)


def date_from_grammar(match: re.Match[str], text: str) -> tuple[datetime, bool]:
    """The date of ``text``, which :data:`DATE_GRAMMAR` matched as ``match``.

    ``match`` may come from a larger expression that embeds the grammar with its group names.
    """
    day = match["day"]
    if day is not None:
        return _from_numeric(match, text)
    value = _from_worded(match)
    if value is not None:
        return value
    # Not a month (a word of any length), not a possible date or outside the years: dateutil
    # says which, as it did before the grammar read these forms.
    return parse_other_date(text, has_year=True)


def parse_other_date(text: str, *, has_year: bool | None = None) -> tuple[datetime, bool]:
    """Parse a date that :data:`DATE_GRAMMAR` does not match, or does not read.

    ``has_year``: whether the caller already knows that ``text`` holds a four-digit number.
    """
    text = " ".join(text.split())
    if len(text) > MAX_DATE_LENGTH:
        raise DateFormatError(f"{text[:40]!r}… is too long to be a date")
    if not (has_year or _HAS_YEAR.search(text)):
        raise DateFormatError(f"{text!r} is not a date with a four-digit year")
    return parse_with_dateutil(text)


def cannot_be_date(text: str) -> bool:
    """A cheap test: true if ``text`` holds a word dateutil is sure to reject.

    A run of six or more ASCII letters is a token of its own, or part of one with letters
    outside ASCII, to dateutil's lexer; outside the vocabulary, and too long to be taken for a
    zone name, it makes dateutil fail (it parses without ``fuzzy``). The only letter outside
    ASCII whose lowercase is in ASCII is the Kelvin sign (to ``k``), and no word of the
    vocabulary holds six letters on one side of a ``k``.
    """
    return any(word.lower() not in _VOCABULARY for word in _LONG_WORD.findall(text))


def _from_numeric(match: re.Match[str], text: str) -> tuple[datetime, bool]:
    """The numeric date ``match`` read of ``text`` (white space normalised in messages only)."""
    day, month, year, hour, minute, second = match.group(
        "day", "month", "year", "hour", "minute", "second"
    )
    try:
        value = datetime(
            int(year),
            int(month),
            int(day),
            0 if hour is None else int(hour),
            0 if minute is None else int(minute),
            0 if second is None else int(second),
        )
    except ValueError as error:
        shown = " ".join(text.split())
        raise DateFormatError(f"{shown!r} is not a possible date ({error})") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        _check_year(value, " ".join(text.split()))
    return value, hour is not None


def _from_worded(match: re.Match[str]) -> tuple[datetime, bool] | None:
    """The worded date, or None when dateutil must look at it."""
    month = _PARSER_INFO.month(match["wmonth"])
    if month is None:
        return None
    weekday = match["weekday"]
    if weekday is not None and _PARSER_INFO.weekday(weekday) is None:
        return None
    # A weekday that does not go with the date is ignored, as dateutil ignores it when the
    # date has its day.
    hour = match["whour"]
    if hour is not None and not (match["wday"].isascii() and match["wyear"].isascii()):
        return None  # digits of other scripts: dateutil's own reading of the time decides
    try:
        value = datetime(
            int(match["wyear"]),
            month,
            int(match["wday"]),
            0 if hour is None else int(hour),
            0 if hour is None else int(match["wminute"]),
        )
    except ValueError:
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    # As dateutil reports it (see parse_with_dateutil): midnight is a date without a time.
    return value, hour is not None and (value.hour, value.minute) != (0, 0)


def parse_with_dateutil(text: str) -> tuple[datetime, bool]:
    """Parse white-space-normalised ``text`` with dateutil."""
    words = _DOTTED_TIME.sub(_colon_time, _WORD.sub(_lower_known_word, text))
    try:
        first, second = (
            dateutil_parser.parse(
                words, parserinfo=_PARSER_INFO, default=default, tzinfos=_reject_zone
            )
            for default in _PROBE_DEFAULTS
        )
    except (ValueError, ArithmeticError) as error:
        # ArithmeticError: OverflowError for huge numbers, and decimal.InvalidOperation, which
        # dateutil lets out for a time with a long run of digits ("1:0777…7 2024", found by
        # fuzzing with bench/fuzz_parser.py).
        raise DateFormatError(f"{text!r} is not a date ({error})") from None
    if first.date() != second.date():
        raise DateFormatError(f"{text!r} is not a complete date (day, month and year)")
    if first.tzinfo is not None or second.tzinfo is not None:
        raise DateFormatError(f"{text!r} carries a time zone; write local time without one")
    _check_year(first, text)
    has_time = first.time() != second.time() or first.time() != datetime.min.time()
    return first, has_time


def _lower_known_word(match: re.Match[str]) -> str:
    # dateutil takes a word in capitals after a time for a zone name before it looks the word
    # up, so "14:30 UUR" would be a time in zone "UUR"; the vocabulary itself ignores case.
    word = match[0]
    info = _PARSER_INFO
    known = info.jump(word) or info.hms(word) is not None or info.month(word) is not None
    return word.lower() if known or info.weekday(word) is not None else word


def _colon_time(match: re.Match[str]) -> str:
    return ":".join(part for part in match.groups() if part is not None)


def _reject_zone(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's hook for a zone name or offset in the text: mark the result as aware.

    Without it dateutil warns about names it does not know and, for names that happen to be the
    host's own zone, silently uses the host's zone; this way every zone is rejected the same way.
    """
    return None if name is None and offset is None else UTC


def _check_year(value: datetime, text: str) -> None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise DateFormatError(f"{text!r}: year {value.year} is outside {MIN_YEAR}-{MAX_YEAR}")


def localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a wall-clock time, resolving DST gaps and overlaps deterministically.

    An ambiguous time (the repeated hour in autumn) is read as its first occurrence; a time in
    the spring-forward gap is moved forward by the gap, as a wall clock would be.
    """
    # fold=0 reads a gap time with the offset from before the jump; the round trip through UTC
    # then lands on the wall-clock time after it (02:30 on the spring-forward night -> 03:30).
    if naive.tzinfo is not None:  # equal aware times of other zones must not share a result
        return _localized(naive, zone)
    return _localized_cached(naive, zone)


def _localized(naive: datetime, zone: ZoneInfo) -> datetime:
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone)


# Articles share their days and often their times: each is made once (and the objects shared).
_localized_cached = functools.lru_cache(maxsize=65536)(_localized)


_MONTH_NAMES = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def format_dutch_date(value: datetime, *, with_time: bool = False) -> str:
    """``28 oktober 2024`` (or ``28 oktober 2024, 09:30``) without touching the process locale."""
    text = f"{value.day} {_MONTH_NAMES[value.month - 1]} {value.year}"
    if with_time and (value.hour or value.minute):
        text += f", {value.hour:02d}:{value.minute:02d}"
    return text

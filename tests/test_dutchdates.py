"""Dates as Dutch editors write them: ``parse_dutch_datetime`` and ``localize``."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from feedsvc.articles.dates import DateFormatError, localize, parse_dutch_datetime

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

FULL_NAMES = (
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
ABBREVIATIONS = {
    "jan": 1,
    "feb": 2,
    "febr": 2,
    "mrt": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "nov": 11,
    "dec": 12,
}
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def spellings(name: str) -> list[str]:
    return sorted({name, name.upper(), name.capitalize()})


@pytest.mark.parametrize(
    ("name", "month"),
    [
        pytest.param(spelling, month, id=spelling)
        for month, name in enumerate(FULL_NAMES, start=1)
        for spelling in spellings(name)
    ],
)
def test_full_month_names_in_any_case(name: str, month: int) -> None:
    assert parse_dutch_datetime(f"7 {name} 2025") == (datetime(2025, month, 7), False)


@pytest.mark.parametrize(
    ("name", "month"),
    [
        pytest.param(spelling + period, month, id=spelling + period)
        for name, month in ABBREVIATIONS.items()
        for spelling in spellings(name)
        for period in ("", ".")
    ],
)
def test_abbreviated_month_names_with_or_without_period(name: str, month: int) -> None:
    assert parse_dutch_datetime(f"7 {name} 2025") == (datetime(2025, month, 7), False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("3-2-2025", datetime(2025, 2, 3), id="no-leading-zeros"),
        pytest.param("03-02-2025", datetime(2025, 2, 3), id="leading-zeros"),
        pytest.param("3-02-2025", datetime(2025, 2, 3), id="mixed-zeros"),
        pytest.param("3/2/2025", datetime(2025, 2, 3), id="slashes"),
        pytest.param("3.2.2025", datetime(2025, 2, 3), id="dots"),
        pytest.param("29-02-2024", datetime(2024, 2, 29), id="leap-day"),
        pytest.param("1-1-1900", datetime(1900, 1, 1), id="first-year"),
        pytest.param("31-12-2100", datetime(2100, 12, 31), id="last-year"),
        pytest.param("  3   februari \t 2025 ", datetime(2025, 2, 3), id="extra-white-space"),
        pytest.param("3 februari, 2025", datetime(2025, 2, 3), id="comma"),
    ],
)
def test_dates_without_time(text: str, expected: datetime) -> None:
    assert parse_dutch_datetime(text) == (expected, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("14-03-2025 09:30", datetime(2025, 3, 14, 9, 30), id="colon"),
        pytest.param("14-03-2025 9:30", datetime(2025, 3, 14, 9, 30), id="colon-no-zero"),
        pytest.param("14-03-2025 09.30", datetime(2025, 3, 14, 9, 30), id="dot"),
        pytest.param("14-03-2025 9.05", datetime(2025, 3, 14, 9, 5), id="dot-no-zero"),
        pytest.param("14-03-2025 09:30:15", datetime(2025, 3, 14, 9, 30, 15), id="seconds"),
        pytest.param("14-03-2025, 09:30", datetime(2025, 3, 14, 9, 30), id="comma"),
        pytest.param("14-03-2025 om 09:30 uur", datetime(2025, 3, 14, 9, 30), id="om-uur"),
        pytest.param("14-03-2025 OM 09:30 UUR", datetime(2025, 3, 14, 9, 30), id="OM-UUR"),
        pytest.param("14-03-2025 00:00", datetime(2025, 3, 14), id="midnight"),
        pytest.param("14-03-2025 23:59", datetime(2025, 3, 14, 23, 59), id="last-minute"),
        pytest.param("14 maart 2025 09:30", datetime(2025, 3, 14, 9, 30), id="words-colon"),
        pytest.param("14 maart 2025 9.30", datetime(2025, 3, 14, 9, 30), id="words-dot"),
        pytest.param("14 maart 2025 14.30", datetime(2025, 3, 14, 14, 30), id="not-14.3-hours"),
        pytest.param(
            "14 maart 2025 om 14.30 uur", datetime(2025, 3, 14, 14, 30), id="words-om-dot-uur"
        ),
        pytest.param(
            "14 maart 2025 om 14:30 uur", datetime(2025, 3, 14, 14, 30), id="words-om-colon-uur"
        ),
        pytest.param("14 maart 2025 14 uur", datetime(2025, 3, 14, 14), id="words-hour-uur"),
        pytest.param("14 MRT. 2025 OM 14.30 UUR", datetime(2025, 3, 14, 14, 30), id="capitals"),
        pytest.param("14 maart 2025 14.30.15", datetime(2025, 3, 14, 14, 30, 15), id="dots-hms"),
    ],
)
def test_dates_with_time(text: str, expected: datetime) -> None:
    # The "has a time" flag is what lets a same-day Bijgewerkt without time equal publication.
    assert parse_dutch_datetime(text) == (expected, True)


@pytest.mark.parametrize(
    "weekday", [spelling for name in WEEKDAYS for spelling in (name, name.upper())]
)
def test_weekday_prefix_is_accepted(weekday: str) -> None:
    assert parse_dutch_datetime(f"{weekday} 3 februari 2025") == (datetime(2025, 2, 3), False)


@pytest.mark.parametrize("text", ["ma 3 feb. 2025", "vr 7 mrt 2025", "zondag 2 maart 2025"])
def test_weekday_abbreviations(text: str) -> None:
    value, has_time = parse_dutch_datetime(text)
    assert value.year == 2025
    assert not has_time


REJECTED = [
    pytest.param("", "four-digit year", id="empty"),
    pytest.param("3 februari", "four-digit year", id="missing-year"),
    pytest.param("3-2", "four-digit year", id="numeric-missing-year"),
    pytest.param("3-2-25", "four-digit year", id="two-digit-year"),
    pytest.param("februari 2025", "not a complete date", id="missing-day"),
    pytest.param("3 2025", "not a complete date", id="missing-month"),
    pytest.param("31-02-2024", "is not a possible date", id="31-february"),
    pytest.param("29-02-2023", "is not a possible date", id="29-february-no-leap-year"),
    pytest.param("31-04-2025", "is not a possible date", id="31-april"),
    pytest.param("0-1-2025", "is not a possible date", id="day-zero"),
    pytest.param("1-13-2025", "is not a possible date", id="month-13"),
    pytest.param("30 februari 2024", "is not a date", id="words-30-february"),
    pytest.param("3-2-2025 24:00", "is not a possible date", id="hour-24"),
    pytest.param("3-2-2025 12:60", "is not a possible date", id="minute-60"),
    pytest.param("3 februari 2025 25:00", "is not a date", id="words-hour-25"),
    pytest.param("31-12-1899", "year 1899 is outside 1900-2100", id="year-1899"),
    pytest.param("1-1-2101", "year 2101 is outside 1900-2100", id="year-2101"),
    pytest.param("1 januari 1850", "year 1850 is outside 1900-2100", id="words-year-1850"),
    pytest.param("1-1-0999", "is outside 1900-2100", id="year-0999"),
    pytest.param("gisteren", "four-digit year", id="word"),
    pytest.param("3 foo 2025", "is not a date", id="unknown-month"),
    pytest.param("Nieuws 2025", "is not a date", id="category-with-year"),
    pytest.param("3 februari 2025 14:00 CET", "carries a time zone", id="zone-name"),
    pytest.param("3 februari 2025 14:00 UTC", "carries a time zone", id="utc"),
    pytest.param("3 februari 2025 14:00 Z", "carries a time zone", id="zulu"),
    pytest.param("3 februari 2025 14:00 +0100", "carries a time zone", id="offset"),
]


@pytest.mark.parametrize(("text", "fragment"), REJECTED)
def test_rejected(text: str, fragment: str) -> None:
    with pytest.raises(DateFormatError) as caught:
        parse_dutch_datetime(text)
    assert fragment in str(caught.value)
    assert repr(" ".join(text.split())) in str(caught.value)  # names the text it could not read


def test_date_format_error_is_a_value_error() -> None:
    assert issubclass(DateFormatError, ValueError)


def test_a_zone_name_is_rejected_even_when_it_is_the_hosts_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """dateutil reads a name in ``time.tzname`` as the host's zone: the result must not vary."""
    monkeypatch.setattr("time.tzname", ("CET", "CEST"))
    with pytest.raises(DateFormatError, match="carries a time zone"):
        parse_dutch_datetime("3 februari 2025 14:00 CET")


# -- localize -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("naive", "iso"),
    [
        pytest.param(datetime(2025, 1, 15), "2025-01-15T00:00:00+01:00", id="winter"),
        pytest.param(datetime(2025, 7, 15), "2025-07-15T00:00:00+02:00", id="summer"),
        pytest.param(datetime(2025, 3, 30, 1, 59), "2025-03-30T01:59:00+01:00", id="before-gap"),
        pytest.param(datetime(2025, 3, 30, 2, 0), "2025-03-30T03:00:00+02:00", id="gap-start"),
        pytest.param(datetime(2025, 3, 30, 2, 30), "2025-03-30T03:30:00+02:00", id="in-gap"),
        pytest.param(datetime(2025, 3, 30, 2, 59), "2025-03-30T03:59:00+02:00", id="gap-end"),
        pytest.param(datetime(2025, 3, 30, 3, 0), "2025-03-30T03:00:00+02:00", id="after-gap"),
        pytest.param(datetime(2025, 10, 26, 1, 59), "2025-10-26T01:59:00+02:00", id="pre-overlap"),
        pytest.param(datetime(2025, 10, 26, 2, 30), "2025-10-26T02:30:00+02:00", id="in-overlap"),
        pytest.param(datetime(2025, 10, 26, 3, 0), "2025-10-26T03:00:00+01:00", id="post-overlap"),
        pytest.param(datetime(2024, 2, 29, 12), "2024-02-29T12:00:00+01:00", id="leap-day"),
    ],
)
def test_localize_in_amsterdam(naive: datetime, iso: str) -> None:
    aware = localize(naive, AMSTERDAM)
    assert aware.isoformat() == iso
    assert aware.tzinfo == AMSTERDAM


def test_localize_reads_the_repeated_hour_as_its_first_occurrence() -> None:
    first = localize(datetime(2025, 10, 26, 2, 30), AMSTERDAM)
    assert first.utcoffset() == timedelta(hours=2)
    assert first.fold == 0
    later = localize(datetime(2025, 10, 26, 3, 0), AMSTERDAM)
    # Same tzinfo: "-" would subtract wall-clock times, so compare instants.
    assert later.timestamp() - first.timestamp() == timedelta(hours=1, minutes=30).total_seconds()


def test_localize_keeps_wall_time_outside_transitions() -> None:
    for hour in range(24):
        naive = datetime(2025, 6, 1, hour, 15)
        assert localize(naive, AMSTERDAM).replace(tzinfo=None) == naive


@pytest.mark.parametrize(
    ("zone", "iso"),
    [
        ("UTC", "2025-03-09T02:30:00+00:00"),
        ("America/New_York", "2025-03-09T03:30:00-04:00"),  # New York's own spring gap
        ("Asia/Kolkata", "2025-03-09T02:30:00+05:30"),
    ],
)
def test_localize_in_other_zones(zone: str, iso: str) -> None:
    assert localize(datetime(2025, 3, 9, 2, 30), ZoneInfo(zone)).isoformat() == iso

"""One article file's bytes in, an :class:`Article` (plus warnings) or a :class:`ContentError` out.

The format, as the site's editors write it::

    Bijgewerkt: 28 november 2024        (optional: when the article was last updated)
    <title>
    Nieuws -> Informatief               (category path, one or more levels)
    Bron: NAVO                          (optional: the organisation the text comes from)
    28-10-2024                          (published; may carry a time, 14-03-2025 09:30)
    <body paragraphs, separated by blank lines>
    <the site disclaimer, which is not part of the body>

Blank lines may stand anywhere between header lines; Bron, the published date and a late
Bijgewerkt line may come in any order after the category. This module knows nothing of the file
system beyond the bytes and the relative path it is given, nor of feeds or HTTP.

Cost: a load reads every file, so parsing should cost little more than reading. A file of the
common shape has its whole header read by one match (:data:`_COMMON_HEADER`, see
:meth:`_ArticleParser.parse_common`); any other file, and any whose header needs a warning or
an error, is read line by line as follows, which is what decides what a file means. Each header line
is classified once, by one regular expression (:data:`_HEADER`: the labels, the date grammar of
:mod:`feedsvc.articles.dates`, and the cheap tests for what could still be a date), and the result
is kept for the line, so peeking at a line again repeats nothing; dateutil only sees lines with a
four-digit number that neither the grammar reads nor a long unknown word rules out. Only the
lines the header reaches are split off the text; the body is kept as text in a lazy
:class:`~feedsvc.articles.model.Body` and split into paragraphs when a page first shows it (see
:func:`read_paragraphs`), while what the load must say about it (characters XML cannot carry,
bad bytes, no body text) is found over the whole file, mostly in C.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from feedsvc.articles.dates import (
    DATE_GRAMMAR,
    MAX_DATE_LENGTH,
    DateFormatError,
    cannot_be_date,
    date_from_grammar,
    localize,
    parse_other_date,
)
from feedsvc.articles.limits import category_problem, source_problem
from feedsvc.articles.model import XML_UNSAFE, Article, Body, Category, Source
from feedsvc.errors import ContentError, ContentProblem, Severity

MAX_ARTICLE_BYTES = 1024 * 1024
SUMMARY_LIMIT = 300
ELLIPSIS = "…"

_BYTE_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
# A well-formed two- or three-byte UTF-8 sequence; Windows-1252 text almost never contains one.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
# Characters XML 1.0 forbids (C0 controls but tab/newline) or discourages (DEL, C1 controls):
# the model's definition, which the model itself enforces.
_FORBIDDEN_CHARS = XML_UNSAFE
# Every header line, in one pass: an optional label ("Bron:", "Bijgewerkt:", "Datum:" and its
# synonyms), then what follows it: a date in the grammar, a line that is clearly an attempt at a
# numeric date (so a failure to parse it is an error about the date rather than "this is not a
# header line"), a line with a four-digit number (it could still be a date: dateutil decides), or
# anything else. The label and the rest ignore case.
_HEADER = re.compile(
    r"(?P<label>(?:(?P<updated>bijgewerkt)|(?P<source>bron)|datum|gepubliceerd|publicatiedatum)"
    r"\s*:\s*)?"
    rf"(?P<value>(?P<date>{DATE_GRAMMAR})"
    r"|(?P<datelike>\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b.*)"
    r"|(?P<has_year>.*?(?<!\d)\d{4}(?!\d).*)"
    r"|.*)",
    re.IGNORECASE,
)
# A line longer than any date (MAX_DATE_LENGTH once its white space is normalised), such as the
# first paragraph, which ends the header: only its label and the numeric-attempt test can make it
# a header line, and scanning it for a year would cost more than the rest of its header.
_LONG_HEADER = re.compile(
    r"(?P<label>(?:(?P<updated>bijgewerkt)|(?P<source>bron)|datum|gepubliceerd|publicatiedatum)"
    r"\s*:\s*)?"
    r"(?P<value>(?P<datelike>\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b.*)|.*)",
    re.IGNORECASE,
)
# What every line _HEADER reads as more than "anything else" holds; as \d there, any digit.
_DIGIT = re.compile(r"\d")
# How a line _LONG_HEADER reads as more than "anything else" starts.
_LONG_START = re.compile(r"\d|bijgewerkt|bron|datum|gepubliceerd|publicatiedatum", re.IGNORECASE)
_OTHER, _SOURCE, _UPDATED, _DATE = range(4)


def _common_header() -> re.Pattern[str]:
    """:data:`_COMMON_HEADER`: the whole header of a file of the common shape, in one match.

    [``Bijgewerkt:`` line] title, category, [``Bron:`` line], date line, [``Bron:`` line],
    [``Bijgewerkt:`` line], blank lines anywhere between them, then the body: each line as the
    line-by-line reader sees it once stripped (str.strip and ``\\s`` agree on what white space
    is). The published date is the grammar of :mod:`feedsvc.articles.dates` with its group
    names, so :func:`date_from_grammar` reads it from this match; within a line, as there.
    """
    space = r"[^\S\n]"  # white space within a line
    blanks = rf"(?:{space}*+\n)*+"
    filled = r"\S(?:[^\n]*\S)?"  # a stripped line with text
    # One without a colon or a digit, which every label and date has: not a header line.
    plain = r"[^\s\d:](?:[^\d:\n]*[^\s\d:])?"

    def line(body: str) -> str:
        # Atomic: a line matches one way only; failing later never retries it.
        return rf"{blanks}(?>{space}*+{body}{space}*+\n)"

    # Only the words ignore case ((?i:...)): classes matched ignoring case fold every
    # character they look at, and no class here holds a letter.
    updated = rf"(?i:bijgewerkt){space}*:(?:[^\n]*\S)?"
    source = rf"(?i:bron){space}*:{space}*+"
    date_label = rf"(?i:datum|gepubliceerd|publicatiedatum){space}*:{space}*+"
    grammar = DATE_GRAMMAR.replace(r"\s", space)  # dates never span lines
    return re.compile(
        line(rf"(?P<updated>{updated})")
        + "?"
        + line(rf"(?:(?P<title>{plain})|(?P<title_other>{filled}))")
        + line(rf"(?:(?P<category>{plain})|(?P<category_other>{filled}))")
        + "(?:"
        + line(rf"{source}(?P<source>{filled})")
        + ")?"
        + line(rf"(?P<date_line>(?:{date_label})?(?P<published>{grammar}))")
        + "(?:"
        + line(rf"{source}(?P<source_after>{filled})")
        + ")?(?:"
        + line(rf"(?P<updated_after>{updated})")
        + ")?"
        # The line-by-line reader goes on while lines are Bron or Bijgewerkt lines.
        + rf"(?!{blanks}{space}*(?i:bron|bijgewerkt){space}*:)"
    )


# Most files: their header read by one match (see _ArticleParser.parse_common); any other file,
# and any file whose header would need a warning or an error, is read line by line.
_COMMON_HEADER = _common_header()
# Its groups parse_common reads, taken in one call.
_COMMON_GROUPS = (
    "title",
    "title_other",
    "category",
    "category_other",
    "source",
    "source_after",
    "date_line",
    "published",
    "updated",
    "updated_after",
)
# Lines split off a file's text at first: a header with blank lines between its lines has ten.
_FIRST_LINES = 16
# The bytes of the C0 controls XML cannot carry (all but tab, LF and CR) and of DEL.
_UNSAFE_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# Those, NUL among them, and the first bytes of a UTF-8 BOM (0xEF), of a C1 control (0xC2) and
# of U+FFFE/U+FFFF (0xEF): a file without any of them needs none of decode's checks.
_SUSPECT_BYTES = _UNSAFE_BYTES + b"\xc2\xef"


@dataclass(frozen=True, slots=True)
class ParseResult:
    """A parsed article and the warnings found while parsing it."""

    article: Article
    warnings: tuple[ContentProblem, ...]


class _Line(NamedTuple):
    # A named tuple rather than a frozen dataclass: a file has dozens of lines, and creating
    # a tuple costs a fraction of a frozen dataclass's __init__ (it counts at 100,000 files).
    number: int  # 1-based, as an editor's status bar shows it
    text: str  # stripped of surrounding white space


class _Header(NamedTuple):
    """What a header line is: one of the kinds above, and for a date, its date."""

    kind: int
    value: str  # after the label, if any
    # For a date line, or a Bijgewerkt line: the match of _HEADER when the date grammar matched
    # the value, so the date is read from its groups without matching the text again.
    grammar: re.Match[str] | None = None
    # The date, when classifying the line had to read it already.
    date: tuple[datetime, bool] | None = None


class _Dated(NamedTuple):
    """A date line's number and what it holds."""

    number: int
    header: _Header


def parse_article(data: bytes, path: str, *, zone: ZoneInfo, disclaimer: str) -> ParseResult:
    """Parse one article file.

    ``path`` is the file's path relative to the content folder, "/"-separated; it names the
    article in messages and becomes its id (without ``.txt``). Naive dates are read in ``zone``.
    Raises :class:`ContentError` with the path and line when the file cannot be an article.
    """
    # The usual file first, without a parser object: at most 1 MiB, a printable name, none of
    # the bytes decode must look into (see there), valid UTF-8, and a header of the common
    # shape. Anything else, or anything that needs a warning, is read from the start by the
    # parser, which says what it found where.
    if (
        len(data) <= MAX_ARTICLE_BYTES
        and path.isprintable()
        and len(data.translate(None, _SUSPECT_BYTES)) == len(data)
    ):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # A file with CRLF line breaks (and no lone CR) is read as it is: the common
            # header reads CR as white space at the end of a line, and a body's lines are
            # stripped when it is read, so nothing needs to copy the text to drop them.
            if b"\r" not in data or data.count(b"\r") == data.count(b"\r\n"):
                usual = _parse_common(text, data, path, zone, _usual_reading(disclaimer))
                if usual is not None:
                    return usual
    return _ArticleParser(path, zone, disclaimer).parse(data)


class _ArticleParser:
    def __init__(self, path: str, zone: ZoneInfo, disclaimer: str) -> None:
        self.path = path
        self.zone = zone
        self.disclaimer = disclaimer
        self.disclaimer_key = _configured_disclaimer_key(disclaimer)
        self.warnings: list[ContentProblem] = []
        self.headers: dict[int, _Header] = {}  # by line number: each line is classified once

    def error(self, line: int, message: str) -> ContentError:
        return ContentError(self.path, line, message)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(ContentProblem(self.path, line, message, Severity.WARNING))

    def parse(self, data: bytes) -> ParseResult:
        # isprintable first: a printable path has none of those characters (see check_xml_safe).
        if not self.path.isprintable() and XML_UNSAFE.search(self.path):
            # The path becomes the article's id and permalink; the store reports such names
            # before reading the file, this keeps the parser's promise for any caller.
            raise self.error(0, "the file name contains control characters; rename the file")
        text, checked = self.decode(data)
        return self.parse_text(text, checked, data=data if checked else None)

    def parse_text(
        self, text: str, checked: bool, *, data: bytes | None = None, fast: bool = True
    ) -> ParseResult:
        """Parse the decoded text (see :meth:`decode`) of the file's bytes ``data`` (if
        given); ``fast=False`` reads every header line by line, as files of an uncommon shape
        are (the tests compare the two)."""
        # CRLF, CR and LF each end a line; str.replace and split do that faster than a regex.
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            data = None
        if fast and (checked or not _FORBIDDEN_CHARS.search(text)):
            checked = True
            if data is not None and data.startswith(codecs.BOM_UTF8):
                data = None
            if (common := self.parse_common(text, data)) is not None:
                return common
        reader = self.line_reader(text, checked)
        updated_raw: _Dated | None = None
        first = reader.next_filled()
        if first is None:
            raise self.error(1, "the file is empty")
        if (header := self.classify(first)).kind == _UPDATED:
            updated_raw = _Dated(first.number, header)
            first = reader.next_filled()
            if first is None:
                raise self.error(reader.last_number, "no title after the Bijgewerkt line")

        title = self.read_title(first, reader)
        category = self.read_category(reader, title)
        source, published_line, late_updated = self.read_source_and_date(reader)
        if late_updated is not None:
            if updated_raw is not None:
                self.warn(late_updated.number, "second Bijgewerkt line ignored")
            else:
                updated_raw = late_updated

        published, _ = self.read_date(published_line, "published date")
        updated = self.read_updated(updated_raw, published)
        body = self.read_body(reader)
        if body is None:
            self.warn(published_line.number, "the article has no body text")
            body = Body.of((), "")
        return _result(
            self.path,
            title.text,
            category=category,
            source=source,
            published=published,
            updated=updated,
            body=body,
            warnings=tuple(self.warnings),
        )

    # -- decoding ------------------------------------------------------------------------------

    def decode(self, data: bytes) -> tuple[str, bool]:
        """The file's text, and whether its bytes showed it holds no character of
        :data:`_FORBIDDEN_CHARS` (False: not known)."""
        if len(data) > MAX_ARTICLE_BYTES:
            raise self.error(0, f"the file is larger than 1 MiB ({len(data):,} bytes)")
        if len(data.translate(None, _SUSPECT_BYTES)) == len(data):
            # The usual file: none of the bytes below, so no UTF-8 BOM and nothing XML cannot
            # carry; one pass over the bytes where the checks further down take four. (A
            # UTF-16 BOM's bytes are never valid UTF-8: such a file goes on below.)
            try:  # not contextlib.suppress: a context manager per file costs more than this
                return data.decode("utf-8"), True
            except UnicodeDecodeError:
                pass  # the general case below says where and what
        for bom, encoding in (
            (codecs.BOM_UTF16_LE, "utf-16-le"),
            (codecs.BOM_UTF16_BE, "utf-16-be"),
        ):
            if data.startswith(bom):
                # Windows Notepad's "Unicode" encoding: a real, if rare, editor choice.
                try:
                    text = data[len(bom) :].decode(encoding)
                except UnicodeDecodeError:
                    raise self.error(1, f"not valid {encoding.upper()} text") from None
                self.warn(1, "the file is UTF-16; read as such (save the file as UTF-8)")
                return text, False
        if b"\x00" in data:
            line = _line_of(data, data.index(b"\x00"))
            raise self.error(line, "not a text file (it contains NUL bytes)")
        # "utf-8" rather than "utf-8-sig", whose codec strips the BOM in Python code: the
        # same text and the same error offsets (after the BOM), in less time.
        try:
            text = (data[3:] if data.startswith(codecs.BOM_UTF8) else data).decode("utf-8")
        except UnicodeDecodeError as error:
            line = _line_of(data, error.start)
            if _UTF8_MULTIBYTE.search(data):
                # Mostly UTF-8 with a damaged byte: keep the text, mark the damage.
                self.warn(line, "invalid UTF-8 bytes replaced by U+FFFD; fix them in the file")
                return data.decode("utf-8-sig", errors="replace"), False
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise self.error(line, "not a text file (neither UTF-8 nor Windows-1252)") from None
            self.warn(line, "not valid UTF-8; read as Windows-1252 (save the file as UTF-8)")
            return text, False
        # Valid UTF-8: a forbidden character is a C0 control byte or DEL, or a C1 control or
        # U+FFFE/U+FFFF, whose encodings start with 0xC2 and 0xEF 0xBF. Looking for those bytes
        # takes a fraction of a regular expression's search of the text (UCS-2 for most Dutch
        # text); where they occur, the text is searched as any other.
        checked = (
            len(data.translate(None, _UNSAFE_BYTES)) == len(data)
            and b"\xc2" not in data
            and b"\xef\xbf" not in data
        )
        return text, checked

    def line_reader(self, text: str, checked: bool) -> _LineReader:
        """A reader over the lines of ``text`` (its line breaks made LF), stripped; line N is
        at index N - 1.

        Only the first lines are split off now (the header is in them); the rest is kept as
        text, split as far as the header reaches, and what follows the header is the body.
        """
        if checked:
            return _LineReader.of(text)
        raws = text.split("\n")
        # The usual case. Every forbidden character is a control, a surrogate or a noncharacter,
        # so printable lines have none; isprintable() says so in less time than the search, which
        # is left for lines with a tab or another unprintable character.
        if all(map(str.isprintable, raws)) or not _FORBIDDEN_CHARS.search(text):
            return _LineReader.of(text)
        lines = []
        dropped_at: list[int] = []
        for number, raw in enumerate(raws, start=1):
            clean, count = _FORBIDDEN_CHARS.subn("", raw)
            if count:
                dropped_at.append(number)
            lines.append(clean.strip())
        if dropped_at:
            self.warn(
                dropped_at[0],
                f"dropped control characters XML cannot carry (on {len(dropped_at)} line(s))",
            )
        return _LineReader(lines, None)

    # -- header --------------------------------------------------------------------------------

    def parse_common(self, text: str, data: bytes | None = None) -> ParseResult | None:
        """The article, if ``text`` (LF line breaks, no character XML cannot carry) has a
        header of the common shape that parses without a warning or an error; else None
        (see :func:`_parse_common`)."""
        common = _parse_common(text, data, self.path, self.zone, _usual_reading(self.disclaimer))
        if common is None or not self.warnings:
            return common
        return ParseResult(common.article, tuple(self.warnings))  # decode's (Windows-1252)

    def read_title(self, line: _Line, reader: _LineReader) -> _Line:
        kind = self.classify(line).kind
        if kind == _SOURCE:
            raise self.error(line.number, "the title and category path are missing")
        following = reader.peek_filled()
        if kind == _DATE and not self.is_source_or_date(reader.peek_filled(1)):
            # A title may read like a date ("Op 4 mei 2025"); it is one only if the header goes
            # on as title, category, then Bron or date. Otherwise the title is what is missing.
            raise self.error(line.number, "the title and category path are missing")
        if _has_category_separator(line.text) and (
            following is None or self.is_source_or_date(following)
        ):
            raise self.error(
                line.number,
                f"the title is missing: {_shorten(line.text)!r} looks like the category path",
            )
        return line

    def read_category(self, reader: _LineReader, title: _Line) -> Category:
        line = reader.next_filled()
        if line is None:
            raise self.error(title.number, "no category path after the title")
        if self.is_source_or_date(line):
            raise self.error(
                line.number, "the category path (such as 'Nieuws -> Informatief') is missing"
            )
        category = _category(line.text)
        if category is None:
            raise self.error(
                line.number, f"the category path {_shorten(line.text)!r} has an empty level"
            )
        if too_much := category_problem(category.names):
            raise self.error(line.number, too_much)
        return category

    def read_source_and_date(
        self, reader: _LineReader
    ) -> tuple[Source | None, _Dated, _Dated | None]:
        """Read the Bron, published-date and (late) Bijgewerkt lines, which come in any order."""
        source: Source | None = None
        source_seen = False
        published: _Dated | None = None
        late_updated: _Dated | None = None
        while (line := reader.peek_filled()) is not None:
            header = self.classify(line)
            if header.kind == _SOURCE:
                if source_seen:
                    self.warn(line.number, "second Bron line ignored")
                else:
                    source_seen = True
                    source = _source(header.value)
                    if source is not None and (too_much := source_problem(source.name)):
                        raise self.error(line.number, too_much)
                    if source is None:
                        self.warn(line.number, "the Bron line names no source")
            elif header.kind == _UPDATED:
                late_updated = _Dated(line.number, header)
            elif published is None and header.kind == _DATE:
                published = _Dated(line.number, header)
            else:
                break
            reader.next_filled()
        if published is None:
            where = line.number if line is not None else reader.last_number
            found = f", found {_shorten(line.text)!r}" if line is not None else ""
            raise self.error(where, f"the published date (DD-MM-YYYY) is missing{found}")
        return source, published, late_updated

    def is_source_or_date(self, line: _Line | None) -> bool:
        return line is not None and self.classify(line).kind in (_SOURCE, _DATE)

    def classify(self, line: _Line) -> _Header:
        """What header line ``line`` is: one match of :data:`_HEADER`, kept for the line."""
        header = self.headers.get(line.number)
        if header is None:
            header = self.headers[line.number] = _classify(line.text)
        return header

    def read_date(self, dated: _Dated, what: str) -> tuple[datetime, bool]:
        try:
            naive, has_time = _date_of(dated.header)
        except DateFormatError as error:
            raise self.error(dated.number, f"invalid {what}: {error}") from None
        return localize(naive, self.zone), has_time

    def read_updated(self, line: _Dated | None, published: datetime) -> datetime:
        if line is None:
            return published
        try:
            updated, has_time = self.read_date(line, "Bijgewerkt date")
        except ContentError as error:
            self.warn(line.number, f"{error.reason}; using the published date")
            return published
        if not has_time and updated.date() == published.date():
            return published  # same day, no time given: no later than the publication itself
        if updated < published:
            self.warn(
                line.number,
                "the Bijgewerkt date is before the published date; using the published date",
            )
            return published
        return updated

    # -- body ----------------------------------------------------------------------------------

    def read_body(self, reader: _LineReader) -> Body | None:
        """The body after the header, or None if it has no text (the disclaimer aside).

        Left as text, to be split into paragraphs when a page first shows it; only a body with
        as few words as the disclaimer (which may be all it holds) is split now, to tell.
        """
        return _body_of(reader.rest(), 0, _usual_reading(self.disclaimer))


class _Reading(NamedTuple):
    """What reading a body takes, for one configured disclaimer (the same for every file)."""

    read: Callable[[str], tuple[tuple[str, ...], str]]  # read_paragraphs for the disclaimer
    # Matches text with more words than a body that is only the disclaimer can have: two more
    # than the disclaimer's ("..." is one word for an empty one). As str.split, \s is what
    # str.isspace says is white space.
    more_words: re.Pattern[str]


@functools.lru_cache(maxsize=8)
def _usual_reading(disclaimer: str) -> _Reading:
    key = _configured_disclaimer_key(disclaimer)
    words = len(key.split()) + 2
    return _Reading(_body_reader(key), re.compile(rf"\s*+(?:\S++\s++){{{words - 1}}}\S"))


def _parse_common(
    text: str, data: bytes | None, path: str, zone: ZoneInfo, reading: _Reading
) -> ParseResult | None:
    """The article of file ``path``, if ``text`` (no character XML cannot carry; line breaks
    LF, or CRLF throughout) has a header of the common shape that parses without a warning or
    an error; else None. ``data``: the file's bytes, if ``text`` is exactly them decoded.

    One match of :data:`_COMMON_HEADER` finds the header's lines; each is then read as the
    line-by-line reader reads it (title and category classified only when they hold a
    colon or a digit, as :func:`_classify` does). Whatever would make that reader
    warn or fail returns None, so that it reads the file and says so with the line.
    """
    match = _COMMON_HEADER.match(text)
    if match is None:
        return None
    (
        title,
        title_other,
        category_line,
        category_other,
        source_name,
        source_after,
        date_line,
        published_text,
        updated_line,
        updated_after,
    ) = match.group(*_COMMON_GROUPS)
    if title is None and _classify(title := title_other).kind != _OTHER:
        return None
    if category_line is None and _classify(category_line := category_other).kind != _OTHER:
        return None
    category = _checked_category(category_line)
    if category is None:
        return None
    source = None
    if source_name is not None or source_after is not None:
        if source_name is not None and source_after is not None:
            return None  # a second Bron line: a warning
        source = _checked_source(source_name or source_after)
        if source is None:
            return None
    if len(date_line) > MAX_DATE_LENGTH:
        return None  # _classify reads a line this long otherwise
    try:
        naive, _ = date_from_grammar(match, published_text)
    except DateFormatError:
        return None
    published = localize(naive, zone)
    updated = published
    if updated_line is not None or updated_after is not None:
        if updated_line is not None and updated_after is not None:
            return None  # a second Bijgewerkt line: a warning
        try:
            naive, has_time = _date_of(_classify(updated_line or updated_after))
        except DateFormatError:
            return None
        updated = localize(naive, zone)
        if not has_time and updated.date() == published.date():
            updated = published
        elif updated < published:
            return None
    end = match.end()
    data_start = 0
    if data is not None:
        # The body's UTF-8 is the file's own bytes when the text is exactly those decoded.
        # Where it starts: where the text's does when the header's bytes are ASCII (one
        # byte a character, as in most files), else after the header's UTF-8.
        data_start = end if data[:end].isascii() else len(text[:end].encode("utf-8"))
    body = _body_of(text, end, reading, data, data_start)
    if body is None:
        return None
    return _result(
        path,
        title,
        category=category,
        source=source,
        published=published,
        updated=updated,
        body=body,
        warnings=(),
    )


def _result(
    path: str,
    title: str,
    *,
    category: Category,
    source: Source | None,
    published: datetime,
    updated: datetime,
    body: Body,
    warnings: tuple[ContentProblem, ...],
) -> ParseResult:
    """The article of the file at ``path``: how both readings (with and without a parser
    object) end."""
    article = Article(
        id=_article_id(path),
        title=title,
        category=category,
        source=source,
        published=published,
        updated=updated,
        body=body,
        source_path=path,
    )
    return ParseResult(article, warnings)


def _body_of(
    text: str, start: int, reading: _Reading, data: bytes | None = None, data_start: int = 0
) -> Body | None:
    """The body that is ``text[start:]``, or None if it has no text (see
    :meth:`_ArticleParser.read_body`). ``data``: the same text as UTF-8 from byte
    ``data_start`` on, kept as it is (without a copy) where the body is kept as text."""
    read, more_words = reading
    # A body whose only paragraph is the disclaimer has the disclaimer's words (one more
    # for an empty disclaimer: "..." is one); any other body has a paragraph to show.
    # Told by a match that stops at the word after those, rather than by splitting the text.
    if more_words.match(text, start) is not None:
        if data is not None:
            return Body(None, data, read, data_start)  # Body.lazy_utf8, one call fewer
        return Body.lazy(text[start:] if start else text, read)
    paragraphs, summary = read(text[start:] if start else text)
    return Body.of(paragraphs, summary) if paragraphs else None


def read_paragraphs(text: str, disclaimer_key: str) -> tuple[tuple[str, ...], str]:
    """The paragraphs of a body's text, without the site disclaimer, and its summary."""
    # Runs of non-blank lines, joined and split in C rather than line by line: an odd
    # number of blank lines leaves a line break at the start of a paragraph, which strip
    # removes (the lines themselves are stripped and hold no line break).
    lines = [line.strip() for line in text.split("\n")]
    paragraphs = [
        paragraph.strip("\n")
        for paragraph in "\n".join(lines).split("\n\n")
        if paragraph.strip("\n")
    ]
    if paragraphs and _disclaimer_key(paragraphs[-1]) == disclaimer_key:
        paragraphs.pop()
    elif paragraphs:
        rest, _, last_line = paragraphs[-1].rpartition("\n")
        if _disclaimer_key(last_line) == disclaimer_key:
            paragraphs[-1] = rest  # the disclaimer without the blank line before it
    return tuple(paragraphs), summarize(paragraphs[0]) if paragraphs else ""


@functools.lru_cache(maxsize=8)
def _body_reader(disclaimer_key: str) -> Callable[[str], tuple[tuple[str, ...], str]]:
    """:func:`read_paragraphs` for one disclaimer: one object shared by every article's body."""
    return functools.partial(_read_paragraphs_for, disclaimer_key)


def _read_paragraphs_for(disclaimer_key: str, text: str) -> tuple[tuple[str, ...], str]:
    return read_paragraphs(text, disclaimer_key)


class _LineReader:
    """A cursor over the file's lines that can skip blank ones.

    Lines are kept as their text; a :class:`_Line` is made only for the few header lines
    looked at, not for every line of the body. Lines are split off the text as the reader gets
    to them, in chunks that double, so the body is never split at all.
    """

    def __init__(self, lines: list[str], tail: str | None) -> None:
        self.lines = lines  # stripped
        self.tail = tail  # the text after them, not yet split into lines; None: no more
        self.position = 0

    @classmethod
    def of(cls, text: str) -> _LineReader:
        reader = cls([], text)
        reader.more()
        return reader

    def more(self) -> bool:
        """Split the next lines off the text; False when there are none."""
        tail = self.tail
        if tail is None:
            return False
        count = max(_FIRST_LINES, len(self.lines))
        raws = tail.split("\n", count)
        self.tail = raws.pop() if len(raws) > count else None
        self.lines.extend([raw.strip() for raw in raws])
        return True

    @property
    def last_number(self) -> int:
        """The last line with text: where a file that ends too early is reported.

        Not the empty "line" after the final line break, which no editor counts as a line.
        """
        while self.more():
            pass
        return next((i + 1 for i in range(len(self.lines) - 1, -1, -1) if self.lines[i]), 1)

    def peek_filled(self, skip: int = 0) -> _Line | None:
        """The next line with text (or the one ``skip`` filled lines after it), not consumed."""
        # By index, not over a slice: a slice copies the rest of the file on every call, which
        # made a file of 100,000 "Bron:" lines take quadratic time.
        index = self.position
        while index < len(self.lines) or self.more():
            if self.lines[index]:
                if skip == 0:
                    return _Line(index + 1, self.lines[index])
                skip -= 1
            index += 1
        return None

    def next_filled(self) -> _Line | None:
        while self.position < len(self.lines) or self.more():
            text = self.lines[self.position]
            self.position += 1
            if text:
                return _Line(self.position, text)
        return None

    def rest(self) -> str:
        """The text after the lines read so far (its lines not yet stripped); consumed."""
        rest = self.lines[self.position :]
        if self.tail is not None:
            rest.append(self.tail)
        self.lines, self.tail = [], None
        self.position = 0
        return "\n".join(rest)


def _classify(text: str) -> _Header:
    if ":" not in text and _DIGIT.search(text) is None:
        # No label (each ends in a colon) and no number (every date has one): most titles and
        # categories, told in a fraction of a match of _HEADER.
        return _Header(_OTHER, text)
    if len(text) > MAX_DATE_LENGTH and _normalised_length(text, MAX_DATE_LENGTH) > MAX_DATE_LENGTH:
        return _classify_long(text)
    match = _HEADER.fullmatch(text)
    assert match is not None  # its last alternative matches any line
    if match["label"] is not None:
        # By group, not by the label's text: "BİJGEWERKT" matches "bijgewerkt" ignoring case, and
        # is not "bijgewerkt" once lowercased.
        kind = _UPDATED if match["updated"] else _SOURCE if match["source"] else _DATE
        return _Header(kind, match["value"], match if match["date"] is not None else None)
    if match["date"] is not None:
        if match["day"] is not None:
            # A numeric date is a date line even when the date does not exist (31-02-2024):
            # the error is then about the date.
            return _Header(_DATE, text, match)
        try:
            date = date_from_grammar(match, text)
        except DateFormatError:
            return _Header(_OTHER, text)  # "31 februari 2024", "4 foo 2025": a title, maybe
        return _Header(_DATE, text, match, date)
    if match["datelike"] is not None:
        return _Header(_DATE, text)
    if match["has_year"] is not None and not cannot_be_date(text):
        try:
            date = parse_other_date(text, has_year=True)
        except DateFormatError:
            return _Header(_OTHER, text)
        return _Header(_DATE, text, None, date)
    return _Header(_OTHER, text)


def _classify_long(text: str) -> _Header:
    """:func:`_classify` for a line longer than any date.

    Unlabelled, it is a date line only if it is clearly an attempt at a numeric date (every
    date reading of it would fail: too long). Labelled, the date grammar cannot read its value
    (a value the grammar matches in so long a line has a word of any length for its month,
    which goes to dateutil anyway), so it is left out.
    """
    if _LONG_START.match(text) is None:
        return _Header(_OTHER, text)  # neither a label nor a number at its start
    match = _LONG_HEADER.fullmatch(text)
    assert match is not None  # its last alternative matches any line
    if match["label"] is not None:
        kind = _UPDATED if match["updated"] else _SOURCE if match["source"] else _DATE
        return _Header(kind, match["value"])
    return _Header(_DATE if match["datelike"] is not None else _OTHER, text)


def _normalised_length(text: str, limit: int) -> int:
    """The length of ``" ".join(text.split())`` where it is at most ``limit``; otherwise some
    length over ``limit``, found without normalising the whole of a long ``text``.

    ``text`` has no white space at its start (lines are stripped), so normalising a prefix of
    it gives a prefix of the normalised text.
    """
    head = len(" ".join(text[: 2 * limit].split()))
    return head if head > limit else len(" ".join(text.split()))


def _date_of(header: _Header) -> tuple[datetime, bool]:
    """The date of a date or Bijgewerkt line; raises :class:`DateFormatError`."""
    if header.date is not None:
        return header.date
    if header.grammar is not None:
        return date_from_grammar(header.grammar, header.value)
    return parse_other_date(header.value)


# A few hundred categories and sources serve 100,000s of articles: each line's Category or
# Source is made once and shared, which saves the work and the memory of a copy per article.
@functools.lru_cache(maxsize=8192)
def _category(line: str) -> Category | None:
    """The category of a category line, or None if a level is empty."""
    # "->" and "→" are the separators; white space around them goes with " ".join(split()).
    names = tuple(" ".join(name.split()) for name in line.replace("→", "->").split("->"))
    return Category(names) if all(names) else None


@functools.lru_cache(maxsize=8192)
def _source(value: str) -> Source | None:
    """The source a Bron line's value names, or None if it names none."""
    name = " ".join(value.split())
    return Source(name) if name else None


@functools.lru_cache(maxsize=8192)
def _checked_category(line: str) -> Category | None:
    """:func:`_category`, or None also where it is beyond the limits (an error)."""
    category = _category(line)
    return None if category is None or category_problem(category.names) else category


@functools.lru_cache(maxsize=8192)
def _checked_source(value: str) -> Source | None:
    """:func:`_source`, or None also where it is beyond the limits (an error)."""
    source = _source(value)
    return None if source is None or source_problem(source.name) else source


def _has_category_separator(text: str) -> bool:
    return "->" in text or "→" in text


def summarize(paragraph: str, limit: int = SUMMARY_LIMIT) -> str:
    """The paragraph as one line, cut at a word boundary to at most ``limit`` characters."""
    # Only the first ``limit`` characters of the one-line text are used: normalise a prefix
    # first, which gives a prefix of the whole one-line text, and the whole only if it is short.
    # (lstrip: a prefix of the normalised text only for text without white space at its start.)
    paragraph = paragraph.lstrip()
    text = " ".join(paragraph[: 2 * limit].split()) if limit > 0 else ""
    if len(text) <= limit:
        text = " ".join(paragraph.split())
    if len(text) <= limit:
        return text
    # One character more than fits: a space there means the last word fits whole.
    cut = text[: limit - len(ELLIPSIS) + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else cut[:-1]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def _line_of(data: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset``, counting CRLF, CR and LF breaks as split_lines does."""
    return len(_BYTE_LINE_BREAK.findall(data, 0, offset)) + 1


def _disclaimer_key(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(".")


# The configured disclaimer is the same for every file of a load.
_configured_disclaimer_key = functools.lru_cache(maxsize=8)(_disclaimer_key)


def _article_id(path: str) -> str:
    return path[:-4] if path[-4:].lower() == ".txt" else path


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS

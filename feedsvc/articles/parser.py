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
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from feedsvc.articles.dates import DateFormatError, localize, parse_dutch_datetime
from feedsvc.articles.limits import category_problem, source_problem
from feedsvc.articles.model import XML_UNSAFE, Article, Category, Source
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
_UPDATED_LINE = re.compile(r"bijgewerkt\s*:\s*(?P<value>.*)", re.IGNORECASE)
_SOURCE_LINE = re.compile(r"bron\s*:\s*(?P<value>.*)", re.IGNORECASE)
_LABELLED_DATE_LINE = re.compile(
    r"(?:datum|gepubliceerd|publicatiedatum)\s*:\s*(?P<value>.*)", re.IGNORECASE
)
# A line that is clearly an attempt at a numeric date, so a failure to parse it is an error about
# the date rather than "this is not a header line".
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b.*")
_CATEGORY_SEPARATOR = re.compile(r"\s*(?:->|→)\s*")


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


def parse_article(data: bytes, path: str, *, zone: ZoneInfo, disclaimer: str) -> ParseResult:
    """Parse one article file.

    ``path`` is the file's path relative to the content folder, "/"-separated; it names the
    article in messages and becomes its id (without ``.txt``). Naive dates are read in ``zone``.
    Raises :class:`ContentError` with the path and line when the file cannot be an article.
    """
    return _ArticleParser(path, zone, disclaimer).parse(data)


class _ArticleParser:
    def __init__(self, path: str, zone: ZoneInfo, disclaimer: str) -> None:
        self.path = path
        self.zone = zone
        self.disclaimer_key = _disclaimer_key(disclaimer)
        self.warnings: list[ContentProblem] = []

    def error(self, line: int, message: str) -> ContentError:
        return ContentError(self.path, line, message)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(ContentProblem(self.path, line, message, Severity.WARNING))

    def parse(self, data: bytes) -> ParseResult:
        if XML_UNSAFE.search(self.path):
            # The path becomes the article's id and permalink; the store reports such names
            # before reading the file, this keeps the parser's promise for any caller.
            raise self.error(0, "the file name contains control characters; rename the file")
        lines = self.split_lines(self.decode(data))
        if not any(lines):
            raise self.error(1, "the file is empty")
        reader = _LineReader(lines)

        updated_raw: _Line | None = None
        first = reader.next_filled()
        assert first is not None  # the file is not empty
        if match := _UPDATED_LINE.fullmatch(first.text):
            updated_raw = _Line(first.number, match["value"])
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
        paragraphs = self.read_body(reader)
        if not paragraphs:
            self.warn(published_line.number, "the article has no body text")

        article = Article(
            id=_article_id(self.path),
            title=title.text,
            category=category,
            source=source,
            published=published,
            updated=updated,
            paragraphs=paragraphs,
            summary=summarize(paragraphs[0]) if paragraphs else "",
            source_path=self.path,
        )
        return ParseResult(article, tuple(self.warnings))

    # -- decoding ------------------------------------------------------------------------------

    def decode(self, data: bytes) -> str:
        if len(data) > MAX_ARTICLE_BYTES:
            raise self.error(0, f"the file is larger than 1 MiB ({len(data):,} bytes)")
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
                return text
        if b"\x00" in data:
            line = _line_of(data, data.index(b"\x00"))
            raise self.error(line, "not a text file (it contains NUL bytes)")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = _line_of(data, error.start)
            if _UTF8_MULTIBYTE.search(data):
                # Mostly UTF-8 with a damaged byte: keep the text, mark the damage.
                self.warn(line, "invalid UTF-8 bytes replaced by U+FFFD; fix them in the file")
                return data.decode("utf-8-sig", errors="replace")
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise self.error(line, "not a text file (neither UTF-8 nor Windows-1252)") from None
            self.warn(line, "not valid UTF-8; read as Windows-1252 (save the file as UTF-8)")
            return text

    def split_lines(self, text: str) -> list[str]:
        """The text of each line, stripped; line N is at index N - 1."""
        # CRLF, CR and LF each end a line; str.replace and split do that faster than a regex.
        raws = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if not _FORBIDDEN_CHARS.search(text):  # the usual case: one scan of the whole text
            return [raw.strip() for raw in raws]
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
        return lines

    # -- header --------------------------------------------------------------------------------

    def read_title(self, line: _Line, reader: _LineReader) -> _Line:
        if _SOURCE_LINE.fullmatch(line.text):
            raise self.error(line.number, "the title and category path are missing")
        following = reader.peek_filled()
        if self.is_date_line(line.text) and not self.is_source_or_date(reader.peek_filled(1)):
            # A title may read like a date ("Op 4 mei 2025"); it is one only if the header goes
            # on as title, category, then Bron or date. Otherwise the title is what is missing.
            raise self.error(line.number, "the title and category path are missing")
        if _CATEGORY_SEPARATOR.search(line.text) and (
            following is None
            or _SOURCE_LINE.fullmatch(following.text)
            or self.is_date_line(following.text)
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
        if _SOURCE_LINE.fullmatch(line.text) or self.is_date_line(line.text):
            raise self.error(
                line.number, "the category path (such as 'Nieuws -> Informatief') is missing"
            )
        names = tuple(" ".join(name.split()) for name in _CATEGORY_SEPARATOR.split(line.text))
        if not all(names):
            raise self.error(
                line.number, f"the category path {_shorten(line.text)!r} has an empty level"
            )
        if too_much := category_problem(names):
            raise self.error(line.number, too_much)
        return Category(names)

    def read_source_and_date(
        self, reader: _LineReader
    ) -> tuple[Source | None, _Line, _Line | None]:
        """Read the Bron, published-date and (late) Bijgewerkt lines, which come in any order."""
        source: Source | None = None
        source_seen = False
        published: _Line | None = None
        late_updated: _Line | None = None
        while (line := reader.peek_filled()) is not None:
            if match := _SOURCE_LINE.fullmatch(line.text):
                if source_seen:
                    self.warn(line.number, "second Bron line ignored")
                else:
                    source_seen = True
                    name = " ".join(match["value"].split())
                    if too_much := source_problem(name):
                        raise self.error(line.number, too_much)
                    if name:
                        source = Source(name)
                    else:
                        self.warn(line.number, "the Bron line names no source")
            elif match := _UPDATED_LINE.fullmatch(line.text):
                late_updated = _Line(line.number, match["value"])
            elif published is None and self.is_date_line(line.text):
                labelled = _LABELLED_DATE_LINE.fullmatch(line.text)
                published = _Line(line.number, labelled["value"]) if labelled else line
            else:
                break
            reader.next_filled()
        if published is None:
            where = line.number if line is not None else reader.last_number
            found = f", found {_shorten(line.text)!r}" if line is not None else ""
            raise self.error(where, f"the published date (DD-MM-YYYY) is missing{found}")
        return source, published, late_updated

    def is_source_or_date(self, line: _Line | None) -> bool:
        return line is not None and (
            _SOURCE_LINE.fullmatch(line.text) is not None or self.is_date_line(line.text)
        )

    def is_date_line(self, text: str) -> bool:
        labelled = _LABELLED_DATE_LINE.fullmatch(text)
        if labelled:
            return True
        if _DATE_LIKE.fullmatch(text):
            return True
        try:
            parse_dutch_datetime(text)
        except DateFormatError:
            return False
        return True

    def read_date(self, line: _Line, what: str) -> tuple[datetime, bool]:
        try:
            naive, has_time = parse_dutch_datetime(line.text)
        except DateFormatError as error:
            raise self.error(line.number, f"invalid {what}: {error}") from None
        return localize(naive, self.zone), has_time

    def read_updated(self, line: _Line | None, published: datetime) -> datetime:
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

    def read_body(self, reader: _LineReader) -> tuple[str, ...]:
        paragraphs: list[list[str]] = []
        current: list[str] = []
        for text in reader.rest():
            if text:
                current.append(text)
            elif current:
                paragraphs.append(current)
                current = []
        if current:
            paragraphs.append(current)
        if paragraphs and _disclaimer_key(" ".join(paragraphs[-1])) == self.disclaimer_key:
            paragraphs.pop()
        elif paragraphs and _disclaimer_key(paragraphs[-1][-1]) == self.disclaimer_key:
            paragraphs[-1].pop()  # the disclaimer without the blank line before it
        return tuple("\n".join(lines) for lines in paragraphs if lines)


class _LineReader:
    """A cursor over the file's lines that can skip blank ones.

    Lines are kept as their text; a :class:`_Line` is made only for the few header lines
    looked at, not for every line of the body.
    """

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.position = 0

    @property
    def last_number(self) -> int:
        """The last line with text: where a file that ends too early is reported.

        Not the empty "line" after the final line break, which no editor counts as a line.
        """
        return next((i + 1 for i in range(len(self.lines) - 1, -1, -1) if self.lines[i]), 1)

    def peek_filled(self, skip: int = 0) -> _Line | None:
        """The next line with text (or the one ``skip`` filled lines after it), not consumed."""
        # By index, not over a slice: a slice copies the rest of the file on every call, which
        # made a file of 100,000 "Bron:" lines take quadratic time.
        for index in range(self.position, len(self.lines)):
            if self.lines[index]:
                if skip == 0:
                    return _Line(index + 1, self.lines[index])
                skip -= 1
        return None

    def next_filled(self) -> _Line | None:
        while self.position < len(self.lines):
            text = self.lines[self.position]
            self.position += 1
            if text:
                return _Line(self.position, text)
        return None

    def rest(self) -> list[str]:
        rest = self.lines[self.position :]
        self.position = len(self.lines)
        return rest


def summarize(paragraph: str, limit: int = SUMMARY_LIMIT) -> str:
    """The paragraph as one line, cut at a word boundary to at most ``limit`` characters."""
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


def _article_id(path: str) -> str:
    return path[:-4] if path.lower().endswith(".txt") else path


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS

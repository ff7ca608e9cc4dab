"""Files that once made the parser slow, built to any size up to the 1 MiB limit.

Shared by tests/test_parser_properties.py (which checks that the parser's work grows linearly
with them and that dateutil only ever sees short text) and bench/parser_worst_case_times.py (which
times them at the limit).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from feedsvc.articles.parser import MAX_ARTICLE_BYTES
from feedsvc.settings import DEFAULT_DISCLAIMER

HEADER = "Titel\nNieuws -> Informatief\n12-03-2025\n\n"


def fill(unit: str, prefix: str = "", size: int = MAX_ARTICLE_BYTES) -> bytes:
    """``prefix`` then ``unit`` repeated up to ``size`` bytes, as UTF-8."""
    data = prefix.encode("utf-8", "surrogatepass")
    encoded = unit.encode("utf-8", "surrogatepass") or b" "
    data += encoded * ((size - len(data)) // len(encoded))
    return data[:size]


def _filled(unit: str, prefix: str = "") -> Callable[[int], bytes]:
    return lambda size: fill(unit, prefix, size)


WORST_CASES: dict[str, Callable[[int], bytes]] = {
    # One long line that reads like a date to the first checks: dateutil got all of it (17 s).
    "year-and-dots": _filled("2025."),
    "words-of-dates": _filled("maandag 4 juni 2025 om 14:30 uur "),
    "hours": _filled("14 uur "),
    "date-then-text": _filled("x", "1-2-2025 "),
    # Many header lines: each peek at the next line copied the rest of the file.
    "bron-lines": _filled("Bron: NAVO\n", "Titel\nNieuws\n"),
    "bijgewerkt-lines": _filled("Bijgewerkt: 1 mei 2025\n", "Titel\nNieuws\n"),
    "date-lines": _filled("12-03-2025\n", "Titel\nNieuws\n"),
    "blank-lines-then-title": lambda size: (
        fill("\n", size=size)[:-40] + b"Titel\nNieuws\n12-03-2025\n"
    ),
    "line-breaks": _filled("\n"),
    "crlf": _filled("\r\n"),
    "cr": _filled("\r"),
    "category-levels": _filled(" -> x", "Titel\nx"),
    "body-lines": _filled("woord\n", HEADER),
    "body-paragraphs": _filled("woord\n\n", HEADER),
    "control-characters": _filled("\x01\x1b", HEADER),
    "disclaimers": _filled(DEFAULT_DISCLAIMER + "\n", HEADER),
    "utf-16": lambda size: (
        codecs.BOM_UTF16_LE + ("Titel\n" * ((size - 2) // 12)).encode("utf-16-le")
    ),
    "windows-1252": lambda size: b"\xe9\n" * (size // 2),
}

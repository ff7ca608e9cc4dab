"""Feed pages as feedgen writes them, with each entry's XML serialised once and reused.

An article is an entry on a page of several feeds (all articles, each level of its category, its
source), and the live service renders a feed's pages again whenever an article shifts them. feedgen
builds a fresh lxml element for every entry of every page and serialises the page whole: on a
first export, writing the RSS and Atom entries again and again was most of a feed page's writing
time (see docs/performance.md, "Export"). feedgen has no way to take an entry's bytes instead of
its element, so this module keeps the smallest piece by hand: feedgen still writes every byte of
every page, but an entry's bytes only once per (entry, format):

* feedgen writes the page with only the entries whose bytes are not kept (the page's own
  generator, so every namespace declaration and indent comes out as in the whole page);
* the bytes of those entries are cut out of that output at their element boundaries and kept;
* the page is that output with every entry's kept bytes put back in order where entries go.

An entry's serialisation depends only on its own element, its depth and the namespaces its
ancestors declare, which are the same on every page of a format, so the result is the page that
feedgen writes with every entry, byte for byte (tests/test_splice.py compares both for every feed
of the fixtures and many pages of a generated corpus). The writers keep the plain path
(``render_rss_plain``, ``render_atom_plain``) for that comparison.

Entries are found by the tag of their element (``<item>``, ``<entry>``) at the start of a line at
their indent and by their end tag followed by a line break: element text and attribute values
never hold a raw ``<``, and no element before or after the entries has that name. What was cut
out is checked (one piece per entry written, each opening with the entry's tag) and the page's
end is checked to be the closing lines expected, or :class:`SpliceError` is raised.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from feedsvc.feeds.document import DocumentEntry


class SpliceError(RuntimeError):
    """feedgen's output did not have the shape the splicing relies on."""


@dataclass
class CacheStats:
    """How an :class:`EntryBytes` cache fared: entries found and written, bytes held."""

    hits: int = 0
    misses: int = 0
    evicted: int = 0
    held_bytes: int = 0
    held_entries: int = 0

    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


class EntryBytes:
    """The serialised bytes of entries in one format, least recently used out beyond a budget.

    Keyed by the entry's value (and its dates' offsets), not its identity: the builder makes a
    new but equal entry for an article it no longer keeps, and its bytes are the same. The
    budget counts the bytes kept and the texts of the entry kept as its key, which the cache
    holds alive.
    """

    # At most this many bytes in every cache of the process (keep_at_most), whatever its own budget.
    _limit_bytes: ClassVar[int | None] = None

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self.stats = CacheStats()
        self._kept: OrderedDict[tuple[DocumentEntry, tuple[object, ...]], tuple[bytes, int]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    @classmethod
    def keep_at_most(cls, limit_bytes: int) -> None:
        """From now on, every cache of this process holds at most ``limit_bytes``: for a process
        that must not hold what its caches would (an export's forked renderer)."""
        cls._limit_bytes = limit_bytes

    def _budget(self) -> int:
        limit = self._limit_bytes
        return self.budget_bytes if limit is None else min(self.budget_bytes, limit)

    def get(self, entry: DocumentEntry) -> bytes | None:
        key = (entry, entry.offsets)
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                self.stats.misses += 1
                return None
            self.stats.hits += 1
            self._kept.move_to_end(key)
            return found[0]

    def put(self, entry: DocumentEntry, data: bytes) -> None:
        key = (entry, entry.offsets)
        cost = len(data) + len(entry.content_html) + len(entry.summary) + len(entry.title)
        budget = self._budget()
        if cost > budget:
            return
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self.stats.held_bytes -= old[1]
            self._kept[key] = (data, cost)
            self.stats.held_bytes += cost
            while self.stats.held_bytes > budget:
                _, (_, dropped) = self._kept.popitem(last=False)
                self.stats.held_bytes -= dropped
                self.stats.evicted += 1
            self.stats.held_entries = len(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self.stats = CacheStats()


@dataclass(frozen=True, slots=True)
class EntryShape:
    """Where a format's entries stand in feedgen's pretty-printed output."""

    tag: bytes  # b"item"
    indent: bytes  # the spaces before an entry's start tag: its depth
    closing: bytes  # what follows the last entry: the lines closing its ancestors

    @property
    def start(self) -> bytes:
        return b"\n" + self.indent + b"<" + self.tag + b">"

    @property
    def end(self) -> bytes:
        return b"</" + self.tag + b">\n"


def splice(
    entries: Sequence[DocumentEntry],
    write: Callable[[Sequence[DocumentEntry]], bytes],
    cache: EntryBytes,
    shape: EntryShape,
) -> bytes:
    """The page ``write`` writes with all of ``entries``, each entry written at most once while
    ``cache`` keeps its bytes. ``write(some)`` must write the page with only ``some`` of its
    entries, in that order, everything else as for the whole page."""
    kept = [cache.get(entry) for entry in entries]
    missing: list[DocumentEntry] = []
    seen: set[int] = set()
    for entry, data in zip(entries, kept, strict=True):
        if data is None and id(entry) not in seen:
            seen.add(id(entry))
            missing.append(entry)
    written = write(missing)
    if not written.endswith(shape.closing):
        raise SpliceError(f"the page does not end with {shape.closing!r}")
    end = len(written) - len(shape.closing)
    if not missing:
        head, tail = written[:end], written[end:]
        return b"".join([head, *kept, tail])  # type: ignore[list-item]  # all kept
    first = written.find(shape.start)
    if first < 0:
        raise SpliceError(f"no {shape.start!r} in the page")
    pieces = written[first + 1 : end].split(shape.end)
    if pieces[-1] or len(pieces) - 1 != len(missing):
        raise SpliceError(f"{len(pieces) - 1} {shape.tag!r} elements cut for {len(missing)}")
    made: dict[int, bytes] = {}
    for entry, piece in zip(missing, pieces[:-1], strict=True):
        data = piece + shape.end
        if not data.startswith(shape.start[1:]):
            raise SpliceError(f"a cut {shape.tag!r} element starts with {data[:40]!r}")
        made[id(entry)] = data
        cache.put(entry, data)
    body = [
        made[id(entry)] if data is None else data for entry, data in zip(entries, kept, strict=True)
    ]
    return b"".join([written[: first + 1], *body, shape.closing])

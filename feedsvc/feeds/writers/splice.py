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

The browser view (:mod:`feedsvc.feeds.writers.browserview`) lists every entry of the page
before the entries, one list item each: those are written with the entries written and kept
with their bytes, so an entry kept is neither written nor listed anew (its item was copied into
every page as an lxml element and serialised with it). An entry written still gets its item by
copying the element the view keeps for RSS and Atom together: made anew for each format, the
items cost more than the pages whose entries are kept saved (docs/performance.md, "Feed pages:
view items spliced, and what did not pay").

Entries are found by the tag of their element (``<item>``, ``<entry>``) at the start of a line at
their indent and by their end tag followed by a line break: element text and attribute values
never hold a raw ``<``, and no element before or after the entries has that name. What was cut
out is checked (one piece per entry written, each opening with the entry's tag) and the page's
end is checked to be the closing lines expected, or :class:`SpliceError` is raised; so are the
view's items, found between its list's start and end tags (an empty element when none).
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


@dataclass(frozen=True, slots=True)
class Written:
    """What an entry is on a page: its element, and its item in the page's browser view (empty
    for a page without one)."""

    entry: bytes
    view_item: bytes = b""


_Key = tuple[DocumentEntry, tuple[object, ...], str | None]


class EntryBytes:
    """The serialised bytes of entries in one format, least recently used out beyond a budget.

    Keyed by the entry's value (and its dates' offsets), not its identity: the builder makes a
    new but equal entry for an article it no longer keeps, and its bytes are the same; and by
    the browser view's label for a source (None for a page without a view), which its view item
    shows. The budget counts the bytes kept and the texts of the entry kept as its key, which
    the cache holds alive.
    """

    # At most this many bytes in every cache of the process (keep_at_most), whatever its own budget.
    _limit_bytes: ClassVar[int | None] = None

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self.stats = CacheStats()
        self._kept: OrderedDict[_Key, tuple[Written, int]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def keep_at_most(cls, limit_bytes: int) -> None:
        """From now on, every cache of this process holds at most ``limit_bytes``: for a process
        that must not hold what its caches would (an export's forked renderer)."""
        cls._limit_bytes = limit_bytes

    def _budget(self) -> int:
        limit = self._limit_bytes
        return self.budget_bytes if limit is None else min(self.budget_bytes, limit)

    def get(self, entry: DocumentEntry, view_label: str | None = None) -> Written | None:
        key = (entry, entry.offsets, view_label)
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                self.stats.misses += 1
                return None
            self.stats.hits += 1
            self._kept.move_to_end(key)
            return found[0]

    def put(self, entry: DocumentEntry, written: Written, view_label: str | None = None) -> None:
        key = (entry, entry.offsets, view_label)
        cost = (
            len(written.entry)
            + len(written.view_item)
            + len(entry.content_html)
            + len(entry.summary)
            + len(entry.title)
        )
        budget = self._budget()
        if cost > budget:
            return
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self.stats.held_bytes -= old[1]
            self._kept[key] = (written, cost)
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


@dataclass(frozen=True, slots=True)
class ViewShape:
    """Where the items of a browser view's list of entries stand in a format's output: the list
    (``<ol class="entries">``) at ``indent``, one ``<li>`` per entry in the entries' order, each
    two spaces deeper. The list comes before the entries."""

    indent: bytes
    list_tag: bytes = b"ol"
    list_attributes: bytes = b' class="entries"'
    item_tag: bytes = b"li"

    @property
    def opening(self) -> bytes:
        """The list's start tag on its line, holding items."""
        return b"\n" + self.indent + b"<" + self.list_tag + self.list_attributes + b">\n"

    @property
    def empty(self) -> bytes:
        """The list on its line, holding none."""
        return b"\n" + self.indent + b"<" + self.list_tag + self.list_attributes + b"/>\n"

    @property
    def closing(self) -> bytes:
        """From the line break ending the last item, the list's end tag on its line."""
        return b"\n" + self.indent + b"</" + self.list_tag + b">\n"

    @property
    def item_start(self) -> bytes:
        return self.indent + b"  <" + self.item_tag + b">"

    @property
    def item_end(self) -> bytes:
        return b"</" + self.item_tag + b">\n"


def splice(
    entries: Sequence[DocumentEntry],
    write: Callable[[Sequence[DocumentEntry]], bytes],
    cache: EntryBytes,
    shape: EntryShape,
    *,
    view: ViewShape | None = None,
    view_label: str | None = None,
) -> bytes:
    """The page ``write`` writes with all of ``entries``, each entry written at most once while
    ``cache`` keeps its bytes. ``write(some)`` must write the page with only ``some`` of its
    entries, in that order, everything else as for the whole page; with a ``view``, also with
    only their items in the browser view's list (``view_label``: what the view's items are
    written with besides their entry, part of what they are kept by)."""
    if not entries:
        return write(entries)
    kept = [cache.get(entry, view_label) for entry in entries]
    missing: list[DocumentEntry] = []
    seen: set[int] = set()
    for entry, found in zip(entries, kept, strict=True):
        if found is None and id(entry) not in seen:
            seen.add(id(entry))
            missing.append(entry)
    written = write(missing)
    if not written.endswith(shape.closing):
        raise SpliceError(f"the page does not end with {shape.closing!r}")
    end = len(written) - len(shape.closing)
    # The page is [head, view items..., between, entries..., closing].
    head, view_items, between_at = _view_parts(written, view, len(missing))
    if not missing:
        between = written[between_at:end]
        made: dict[int, Written] = {}
    else:
        first = written.find(shape.start, between_at)
        if first < 0:
            raise SpliceError(f"no {shape.start!r} in the page")
        between = written[between_at : first + 1]
        cut = _cut(written[first + 1 : end], shape.start[1:], shape.end)
        if len(cut) != len(missing):
            raise SpliceError(f"{len(cut)} {shape.tag!r} elements cut for {len(missing)}")
        made = {}
        for entry, data, item in zip(missing, cut, view_items or [b""] * len(cut), strict=True):
            made[id(entry)] = done = Written(data, item)
            cache.put(entry, done, view_label)
    chosen = [
        made[id(entry)] if found is None else found
        for entry, found in zip(entries, kept, strict=True)
    ]
    items = [done.view_item for done in chosen] if view is not None else []
    if view is not None and not missing:
        between = view.closing[1:] + between  # the list was written as an empty element
    return b"".join([head, *items, between, *(done.entry for done in chosen), shape.closing])


def _view_parts(
    written: bytes, view: ViewShape | None, missing: int
) -> tuple[bytes, list[bytes], int]:
    """Of a page written with ``missing`` entries: what precedes the items of its view's list
    (the list's start tag on its line included), the items cut out, and where what follows
    them starts (the list's end tag; with no items, what follows the list written empty)."""
    if view is None:
        return b"", [], 0
    if not missing:
        empty = written.find(view.empty)
        if empty < 0:
            raise SpliceError(f"no {view.empty!r} in the page")
        return written[:empty] + view.opening, [], empty + len(view.empty)
    opened = written.find(view.opening)
    if opened < 0:
        raise SpliceError(f"no {view.opening!r} in the page")
    items_at = opened + len(view.opening)
    closed = written.find(view.closing, items_at)
    if closed < 0:
        raise SpliceError(f"no {view.closing!r} after the view's list")
    items = _cut(written[items_at : closed + 1], view.item_start, view.item_end)
    if len(items) != missing:
        raise SpliceError(f"{len(items)} view items cut for {missing} entries")
    return written[:items_at], items, closed + 1


def _cut(region: bytes, start: bytes, end: bytes) -> list[bytes]:
    """The elements that ``region`` is, one after another, each from ``start`` to ``end``."""
    parts = region.split(end)
    if parts[-1]:
        raise SpliceError(f"{region[-40:]!r} does not end an element with {end!r}")
    cut = []
    for part in parts[:-1]:
        if not part.startswith(start):
            raise SpliceError(f"a cut element starts with {part[:40]!r}, not {start!r}")
        cut.append(part + end)
    return cut

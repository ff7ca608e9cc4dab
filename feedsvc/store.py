"""The content folder: finds article files, parses what changed, and keeps the current catalog.

Loading is incremental. Each file's (size, mtime, inode) is remembered with its parse result, so
a reload only reads files that changed. A file that was a good article and then breaks (an editor
saving half a file) keeps its last good version in the feeds while its error is reported; a file
that is deleted leaves the feeds. Knows nothing of feed formats or HTTP.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.catalog import Catalog, build_catalog
from feedsvc.errors import ContentError, ContentProblem, Severity
from feedsvc.model import Article
from feedsvc.parser import MAX_ARTICLE_BYTES, ParseResult, parse_article
from feedsvc.settings import Settings

log = logging.getLogger(__name__)

_BACKUP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".bak", ".tmp", ".orig")


@dataclass(frozen=True, slots=True)
class _Signature:
    """What tells us a file may have changed without reading it."""

    size: int
    mtime_ns: int
    inode: int


@dataclass(slots=True)
class _Entry:
    signature: _Signature
    article: Article | None  # the last good version, kept while the file is broken
    problems: tuple[ContentProblem, ...]


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What one load or reload did."""

    catalog: Catalog
    loaded_at: datetime
    files_seen: int
    files_parsed: int
    changed: bool
    changed_at: datetime | None  # when the newest change was made, as far as we can tell


def is_article_file(name: str) -> bool:
    """True for ``*.txt`` names that are not hidden files or editor backups."""
    if name.startswith((".", "#")) or name.endswith(_BACKUP_SUFFIXES):
        return False
    return name.lower().endswith(".txt")


class ContentStore:
    """The articles of one content folder; :meth:`reload` brings them up to date."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.content_dir
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._catalog = build_catalog(settings.site_title, ())
        self._scan_problems: tuple[ContentProblem, ...] = ()
        self.loaded_at = datetime.fromtimestamp(0, UTC)

    @property
    def catalog(self) -> Catalog:
        """The current snapshot; replaced whole by a reload, never modified in place."""
        return self._catalog

    def reload(self) -> LoadReport:
        """Scan the folder, re-parse changed files, swap in a new catalog if anything changed."""
        with self._lock:
            return self._reload()

    def _reload(self) -> LoadReport:
        seen: dict[str, _Entry] = {}
        scan_problems: list[ContentProblem] = []
        parsed = 0
        changed = False
        newest_change_ns = 0
        for relpath, path, problem in self._walk():
            if problem is not None:
                scan_problems.append(problem)
                continue
            try:
                info = path.stat()
            except OSError as error:  # vanished between listing and stat
                log.debug("cannot stat %s: %s", path, error)
                continue
            signature = _Signature(info.st_size, info.st_mtime_ns, info.st_ino)
            previous = self._entries.get(relpath)
            if previous is not None and previous.signature == signature:
                seen[relpath] = previous
                continue
            parsed += 1
            changed = True
            newest_change_ns = max(newest_change_ns, signature.mtime_ns)
            seen[relpath] = self._load_file(relpath, path, signature, previous)
        # A new or removed symbolic link (or badly named file) changes only the scan problems.
        if seen.keys() != self._entries.keys() or tuple(scan_problems) != self._scan_problems:
            changed = True
        self._entries = seen
        self._scan_problems = tuple(scan_problems)
        self.loaded_at = datetime.now(UTC)
        changed_at = None
        if changed:
            self._catalog = self._build(scan_problems)
            # A file's mtime is the same for every worker that sees it; a deletion has none.
            changed_at = (
                min(datetime.fromtimestamp(newest_change_ns / 1e9, UTC), self.loaded_at)
                if newest_change_ns
                else self.loaded_at
            )
        return LoadReport(self._catalog, self.loaded_at, len(seen), parsed, changed, changed_at)

    def _build(self, scan_problems: list[ContentProblem]) -> Catalog:
        articles: dict[str, Article] = {}
        problems = list(scan_problems)
        for relpath in sorted(self._entries):
            entry = self._entries[relpath]
            problems.extend(entry.problems)
            article = entry.article
            if article is None:
                continue
            if article.id in articles:
                other = articles[article.id].source_path
                problems.append(
                    ContentProblem(relpath, 0, f"same article id as {other}; file ignored")
                )
                continue
            articles[article.id] = article
        return build_catalog(self.settings.site_title, articles.values(), problems)

    def _load_file(
        self, relpath: str, path: Path, signature: _Signature, previous: _Entry | None
    ) -> _Entry:
        try:
            result = self._parse(relpath, path, signature)
        except ContentError as error:
            last_good = previous.article if previous is not None else None
            message = error.reason
            if last_good is not None:
                message += "; the feeds keep the last good version"
            log.warning("%s:%d: %s", relpath, error.line, message)
            problem = ContentProblem(relpath, error.line, message, Severity.ERROR)
            return _Entry(signature, last_good, (problem,))
        return _Entry(signature, result.article, result.warnings)

    def _parse(self, relpath: str, path: Path, signature: _Signature) -> ParseResult:
        if signature.size > MAX_ARTICLE_BYTES:
            # Checked before reading, so a huge file never costs memory.
            raise ContentError(
                relpath, 0, f"the file is larger than 1 MiB ({signature.size:,} bytes)"
            )
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_ARTICLE_BYTES + 1)
        except OSError as error:
            raise ContentError(relpath, 0, f"cannot read the file: {error.strerror}") from None
        return parse_article(
            data, relpath, zone=self.settings.timezone, disclaimer=self.settings.disclaimer
        )

    def _walk(self) -> Iterator[tuple[str, Path, ContentProblem | None]]:
        """Every article file under the root, sorted; symbolic links are reported, not followed."""
        for directory, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            base = Path(directory)
            for name in sorted(filenames):
                if not is_article_file(name):
                    continue
                path = base / name
                relpath = path.relative_to(self.root).as_posix()
                problem = _name_problem(relpath, path)
                yield relpath, path, problem


def _name_problem(relpath: str, path: Path) -> ContentProblem | None:
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        shown = relpath.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return ContentProblem(shown, 0, "the file name is not valid UTF-8; rename the file")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in relpath):
        return ContentProblem(
            repr(relpath), 0, "the file name contains control characters; rename the file"
        )
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return ContentProblem(
            relpath, 0, "symbolic links are not followed; copy the file instead", Severity.WARNING
        )
    if not stat.S_ISREG(mode):
        return ContentProblem(relpath, 0, "not a regular file")
    return None

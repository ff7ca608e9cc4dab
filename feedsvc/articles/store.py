"""The content folder: finds article files, parses what changed, and says what changed.

Loading is incremental. Each file's (size, mtime, inode) is remembered with its parse result, so
a reload only reads files that changed. A file that was a good article and then breaks (an editor
saving half a file) keeps its last good version in the feeds while its error is reported; a file
that is deleted leaves the feeds. A folder that cannot be read (the content folder unmounted,
deleted or made unreadable) keeps the articles last read from it, and is reported, rather than
emptying the feeds. Knows nothing of feed formats or HTTP.

Two kinds of change are not taken at face value. A file whose timestamp is too close to the scan
that read it is "racy": another write in the same timestamp tick, of the same size, would leave
its (size, mtime, inode) as it was, so it is read again at the next reload and compared by
content (git does the same for its index). And a file being written in place (an editor, cp,
FTP or SMB: truncate, then write in chunks) is only published once it has not changed for
``quiet_seconds``; until then its last good version stays. A file that arrives whole, renamed
into place (a new inode at a known path, or a new path whose inode changed after its last
write), is published at once.

Files are found and read through directory descriptors, never through a path that a symbolic
link could redirect: a link, or a folder swapped for one between the scan and the read, is
refused, so nothing outside the content folder is ever published.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import hashlib
import itertools
import logging
import operator
import os
import pickle
import re
import stat
import struct
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, NoReturn

from feedsvc.articles.limits import file_problem, folder_problem
from feedsvc.articles.model import Article
from feedsvc.articles.parser import MAX_ARTICLE_BYTES, ParseResult, parse_article
from feedsvc.errors import ContentError, ContentProblem, Severity
from feedsvc.settings import Settings

log = logging.getLogger(__name__)

_BACKUP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".bak", ".tmp", ".orig")
# A file name becomes an article id and URL: no control characters (tab and line breaks
# included), nor what XML cannot carry. Checked after the UTF-8 check, which catches surrogates.
_BAD_NAME_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
# O_NOFOLLOW: a symbolic link is refused (ELOOP) rather than followed. O_NONBLOCK: opening a FIFO
# returns at once instead of waiting for a writer; fstat then refuses it as not a regular file.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# A file modified less than this before the scan that read it is read again at the next one:
# timestamps are taken from a coarse clock, and some file systems keep whole or even 2 seconds.
RACY_NS = 2_000_000_000
# What the walk sorts a folder's listing by (not a lambda: a call of ours per file).
_NAME = operator.attrgetter("name")
# A modification time further in the future than this is a wrong clock, not a write going on.
_FUTURE_NS = 60_000_000_000


class _Signature(NamedTuple):
    """What tells us a file may have changed without reading it."""

    # Named tuples rather than frozen dataclasses, here and for _Found: one of each per file,
    # and a tuple is made in a fraction of a frozen dataclass's __init__.
    size: int
    mtime_ns: int
    inode: int


@dataclass(slots=True)
class _Entry:
    signature: _Signature
    article: Article | None  # the last good version, kept while the file is broken
    problems: tuple[ContentProblem, ...]
    digest: bytes = b""  # of the bytes read, to tell a racy file's rewrite from no change
    racy: bool = False  # modified too close to the scan that read it: read it again


class _Found(NamedTuple):
    """An article file the walk found: its name in the folder open as ``dir_fd``, and the reason
    it is not read, or else its ``lstat`` (None: not taken; the file is new to the store, and
    the ``fstat`` of its open descriptor gives what the ``lstat`` would, see
    :meth:`ContentStore._visit_new`)."""

    relpath: str
    name: str
    dir_fd: int
    info: os.stat_result | None
    problem: ContentProblem | None
    folder: bool = False  # a folder whose files are not read (its problem says why)


@dataclass(frozen=True, slots=True)
class ArticleChange:
    """The articles a reload took away and brought in (an edited file's article is in both)."""

    removed: tuple[Article, ...]
    added: tuple[Article, ...]


@dataclass(frozen=True, slots=True)
class ArticleSet:
    """Every article of the folder, one per id, with every problem found in it."""

    articles: tuple[Article, ...]  # in the order of their files' paths
    problems: tuple[ContentProblem, ...]


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What one load or reload did."""

    loaded_at: datetime
    files_seen: int
    files_parsed: int
    changed: bool
    changed_at: datetime | None  # when the newest change was made, as far as we can tell
    # What changed, when it can be told apart from the rest; None after a change too large or
    # too tangled (two files with one id) to apply piecemeal: then take :meth:`ContentStore.
    # snapshot` whole.
    change: ArticleChange | None


def is_article_file(name: str) -> bool:
    """True for ``*.txt`` names that are not hidden files or editor backups."""
    if name.startswith((".", "#")) or name.endswith(_BACKUP_SUFFIXES):
        return False
    return name.lower().endswith(".txt")


class ContentStore:
    """The articles of one content folder; :meth:`reload` brings them up to date."""

    def __init__(self, settings: Settings, *, quiet_seconds: float = 0.0) -> None:
        """``quiet_seconds`` > 0 holds back files being written in place (see the module's
        docstring): for a store that is watched, so that it is reloaded once they settle."""
        self.settings = settings
        self.quiet_seconds = quiet_seconds
        self.root = settings.content_dir
        self._entries: dict[str, _Entry] = {}
        # The entries with problems, by path: problems() is asked after every change, and most
        # of 100,000 files have none.
        self._troubled: dict[str, tuple[ContentProblem, ...]] = {}
        # problems() as last made; None once _troubled or _scan_problems changed since. An edit
        # that neither mends nor breaks a file keeps it (thousands of warnings at 100,000 files).
        self._problems: tuple[ContentProblem, ...] | None = None
        self._lock = threading.Lock()
        self._has_duplicate_ids = False  # as of the last snapshot
        # Problems of names, links and folders, by where the walk meets them (see _walk_key):
        # a rescan of some folders replaces those of its folders and keeps the others.
        self._scan_problems: dict[_WalkKey, ContentProblem] = {}
        # Folders that could not be read at the last reload, their articles kept: for /healthz.
        self.folder_problems: tuple[ContentProblem, ...] = ()
        self.loaded_at = datetime.fromtimestamp(0, UTC)
        # Files being written in place, not yet published: relative path -> mtime (ns).
        self._settling: dict[str, int] = {}
        self._loaded_once = False

    @property
    def loaded_once(self) -> bool:
        """Whether the store has been loaded: its next reload is not its first."""
        return self._loaded_once

    def reload(self, changed_paths: Collection[str] | None = None) -> LoadReport:
        """Scan the folder, re-parse changed files, and report which articles changed.

        ``changed_paths`` (absolute, as a file watcher reports them) limits the scan to those
        files, or to the folders that hold them when a path may be a folder: at 100,000 files
        a full scan takes most of a second, and a folder's thousands of files most of a tenth.
        The whole folder is scanned when that is not safe to limit (a change at the top,
        folders or names with problems) and, by the watcher, periodically.
        """
        with self._lock:
            files = self._files(changed_paths)
            if files is not None:
                report = self._reload_files(files)
                if report is not None:
                    return report
            if self._loaded_once:
                return self._reload(self._scope(changed_paths))
            with collector_paused():
                return self._reload(share=True)

    def _files(self, changed_paths: Collection[str] | None) -> list[str] | None:
        """``changed_paths`` as article files to look at one by one (relative), or None when
        a folder must be rescanned: a path that is not an article file's (a folder, or any
        other name, which could be a folder), at the top, or one with a problem of its name,
        link or folder (only a rescan makes or clears those)."""
        if not changed_paths or not self._entries:
            return None
        troubled = {_walked_path(key) for key in self._scan_problems}
        files: list[str] = []
        for path in changed_paths:
            relpath = os.path.relpath(path, self.root).replace(os.sep, "/")
            folder, _, name = relpath.rpartition("/")
            if not folder or relpath.startswith("../"):
                return None
            if any(part.startswith(".") for part in relpath.split("/")):
                continue  # hidden: never read (an editor's temporary file before a rename)
            if not is_article_file(name) or (troubled and _below(relpath, troubled)):
                return None
            files.append(relpath)
        return sorted(set(files))

    def _reload_files(self, relpaths: list[str]) -> LoadReport | None:
        """Look at just these files: each edit costs the work of its own files, where a folder
        rescan costs its thousands. None when only a folder rescan can tell (a folder gone or
        unreadable, a file that is not a regular file or has a bad name)."""
        try:
            root_fd = os.open(self.root, _DIR_FLAGS)
        except OSError:
            return None
        before: dict[str, _Entry] = {}
        after: dict[str, _Entry] = {}
        parsed = 0
        newest_change_ns = 0
        scan_ns = time.time_ns()
        # As a scoped rescan does: files looked at now settle again or not, the others stay.
        looked_at = set(relpaths)
        settling = {r: mtime for r, mtime in self._settling.items() if r not in looked_at}
        try:
            for relpath in relpaths:
                folder, _, name = relpath.rpartition("/")
                try:
                    folder_fd = _open_folder(root_fd, folder)
                except OSError:
                    return None  # gone or unreadable: a rescan says what to keep
                try:
                    try:
                        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
                    except FileNotFoundError:
                        info = None  # deleted (or renamed away)
                    except OSError:
                        return None
                    previous = self._entries.get(relpath)
                    if info is None:
                        if previous is not None:
                            before[relpath] = previous
                        continue
                    found = _found(relpath, name, folder_fd, info)
                    if found is None or found.problem is not None or found.info is None:
                        return None
                    try:
                        visited = self._visit(found, info, scan_ns, settling)
                    except _FileVanishedError:
                        visited = None
                        if previous is not None:
                            before[relpath] = previous  # deleted since its stat
                    if visited is None or visited is previous:
                        continue  # unchanged, or still being written (its last version stays)
                    parsed += 1
                    newest_change_ns = max(newest_change_ns, visited.signature.mtime_ns)
                    if previous is not None:
                        before[relpath] = previous
                    after[relpath] = visited
                finally:
                    os.close(folder_fd)
        finally:
            os.close(root_fd)
        self._settling = settling
        return self._apply_files(before, after, parsed, newest_change_ns)

    def _apply_files(
        self, before: dict[str, _Entry], after: dict[str, _Entry], parsed: int, newest_ns: int
    ) -> LoadReport:
        """Replace the entries of a reload of single files: ``before`` leave, ``after`` come."""
        troubled_before = {relpath: self._troubled.get(relpath) for relpath in before | after}
        for relpath in before.keys() - after.keys():
            del self._entries[relpath]
            self._troubled.pop(relpath, None)
        self._entries.update(after)
        for relpath, entry in after.items():
            if entry.problems:
                self._troubled[relpath] = entry.problems
            else:
                self._troubled.pop(relpath, None)
        if any(self._troubled.get(path) != problems for path, problems in troubled_before.items()):
            self._problems = None
        self.loaded_at = datetime.now(UTC)
        changed = bool(before or after)
        changed_at = None
        if changed:
            changed_at = (
                min(datetime.fromtimestamp(newest_ns / 1e9, UTC), self.loaded_at)
                if newest_ns
                else self.loaded_at
            )
        change = self._change(before, after) if changed else None
        return LoadReport(self.loaded_at, len(self._entries), parsed, changed, changed_at, change)

    def _scope(self, changed_paths: Collection[str] | None) -> tuple[str, ...] | None:
        """The folders (relative, outermost only) to rescan for ``changed_paths``; None: all
        (also while a folder cannot be read: what to keep of it needs the whole picture)."""
        if not changed_paths or not self._entries or self.folder_problems:
            return None
        folders: set[str] = set()
        for path in changed_paths:
            relfolder = os.path.relpath(os.path.dirname(path), self.root)
            if relfolder == "." or relfolder.startswith(".."):
                return None  # a change at the top (a folder added or removed): scan it all
            folders.add(relfolder.replace(os.sep, "/"))
        return tuple(f for f in sorted(folders) if not _below(f, folders - {f}))

    def stale(self, changed_paths: Collection[str] | None = None) -> frozenset[str] | None:
        """The files a rescan of ``changed_paths``' folders (as :meth:`reload` scopes them;
        None: the whole content folder) would read again or drop: new files, files whose
        ``lstat`` differs from their entry's, racy entries, and entries whose file is gone. As
        absolute paths, for :meth:`reload`, which reads exactly those.

        Made without the lock, from any thread: a walk that lists and stats, and reads nothing
        but the entries, so the watcher's periodic rescan (the safety net for events the kernel
        dropped) holds up no edit's reload while it walks. None where only a rescan under the
        lock can say (a problem of a name, link or folder that is new or gone, a folder that
        cannot be read, a file being written, a store not loaded yet); the problems a rescan
        found before and would find again change nothing.
        """
        if not self._loaded_once or self._settling:
            return None
        scope = self._scope(changed_paths) if changed_paths else None
        entries = self._entries  # replaced by a rescan, changed in place by a reload of files
        known = self._scan_problems  # replaced whole by a rescan, never changed in place
        inside = tuple(f"{folder}/" for folder in scope) if scope is not None else ("",)
        gone = {relpath for relpath in list(entries) if relpath.startswith(inside)}
        unreadable: list[tuple[str, OSError]] = []
        stale: list[str] = []
        met: set[_WalkKey] = set()
        for found in self._walk(unreadable, scope):
            gone.discard(found.relpath)
            if found.problem is not None:
                key = _walk_key(found.relpath, found.folder)
                before = known.get(key)
                # A file replaced by a link or folder keeps its last good version, which adds
                # to the message (_keep_replaced).
                if before is None or not before.message.startswith(found.problem.message):
                    return None
                met.add(key)
                continue
            entry = entries.get(found.relpath)
            info = found.info
            if (
                entry is None
                or info is None
                or entry.racy
                or entry.signature != _Signature(info.st_size, info.st_mtime_ns, info.st_ino)
            ):
                stale.append(found.relpath)
        if unreadable:
            return None
        for key in known.keys() - met:
            if scope is None or _covered(key, scope):
                return None  # a problem a rescan would not find again
        return frozenset(str(self.root / relpath) for relpath in itertools.chain(stale, gone))

    def settling(self) -> tuple[float, frozenset[str]] | None:
        """Files being written in place: in how many seconds the first of them will have been
        quiet long enough to publish, and their absolute paths (for the reload then)."""
        with self._lock:
            if not self._settling:
                return None
            quiet_ns = int(self.quiet_seconds * 1e9)
            due_ns = min(self._settling.values()) + quiet_ns
            wait = max(0.0, (due_ns - time.time_ns()) / 1e9)
            paths = frozenset(str(self.root / relpath) for relpath in self._settling)
            return wait, paths

    def _reload(self, scope: tuple[str, ...] | None = None, *, share: bool = False) -> LoadReport:
        """Rescan the folder (or the ``scope`` folders). ``share``: a first load, which shares
        the files out with a forked child once there are many (see :class:`_Sharing`)."""
        # Outside the scope, everything stays as it was; inside, what the walk finds replaces it.
        seen: dict[str, _Entry] = {}
        scoped: dict[str, _Entry] = self._entries  # the entries the walk looks at again
        if scope is not None:
            inside = tuple(f"{folder}/" for folder in scope)
            scoped = {}
            for relpath, entry in self._entries.items():
                (scoped if relpath.startswith(inside) else seen)[relpath] = entry
        walked: list[str] = []
        scan_problems: dict[_WalkKey, ContentProblem] = {}
        unreadable: list[tuple[str, OSError]] = []
        parsed = 0  # files read now: each is a change
        articles_read = 0
        newest_change_ns = 0
        scan_ns = time.time_ns()
        settling = {
            relpath: mtime
            for relpath, mtime in self._settling.items()
            if scope is not None and not _below(relpath, scope)
        }
        sharing = _Sharing(self, scan_ns, seen, walked) if share else None
        try:
            walk = self._walk(unreadable, scope)
            for found in walk if sharing is None else sharing.walk(walk):
                if found.problem is not None:
                    key = _walk_key(found.relpath, found.folder)
                    scan_problems[key] = self._keep_replaced(found, found.problem, seen, walked)
                    continue
                try:
                    visited = (
                        self._visit_new(found, scan_ns, settling)
                        if found.info is None
                        else self._visit(found, found.info, scan_ns, settling)
                    )
                except _FileVanishedError:
                    continue  # deleted since the listing: gone, like any deleted file
                if visited is None:
                    continue  # a new file, still being written
                if visited is not self._entries.get(found.relpath):  # read now
                    parsed += 1
                    articles_read += visited.article is not None
                    newest_change_ns = max(newest_change_ns, visited.signature.mtime_ns)
                seen[found.relpath] = visited
                walked.append(found.relpath)
        except OSError as error:  # listing a folder failed half-way (an I/O error, unmounted)
            unreadable.append(("", error))
        finally:
            if sharing is not None:
                sharing.finish()
        if sharing is not None:
            read = self._take_shared(sharing, seen, walked, scan_ns, settling)
            parsed += len(read)
            articles_read += sum(entry.article is not None for entry in read)
            newest_change_ns = max(newest_change_ns, *(e.signature.mtime_ns for e in read), 0)
        if scope is not None:
            if unreadable or any(_walked_path(key) in scope for key in scan_problems):
                # What to keep of unreadable folders needs the whole picture; a scoped folder
                # beyond the limits is reported where the whole walk meets the limit.
                return self._reload()
            scan_problems = self._with_problems_outside(scope, scan_problems)
        self._settling = settling
        for relfolder, problem in self._keep_unreadable(unreadable, seen):
            scan_problems[_unreadable_key(relfolder)] = problem
        return self._loaded(
            seen,
            scan_problems,
            scoped=scoped,
            walked=walked,
            parsed=parsed,
            articles_read=articles_read,
            newest_change_ns=newest_change_ns,
        )

    def _with_problems_outside(
        self, scope: tuple[str, ...], found: dict[_WalkKey, ContentProblem]
    ) -> dict[_WalkKey, ContentProblem]:
        """The problems a rescan of ``scope`` found, with those outside it from before, in
        the order a whole rescan finds them."""
        kept = {
            key: problem for key, problem in self._scan_problems.items() if not _covered(key, scope)
        }
        return dict(sorted({**kept, **found}.items()))

    def _loaded(
        self,
        seen: dict[str, _Entry],
        scan_problems: dict[_WalkKey, ContentProblem],
        *,
        scoped: dict[str, _Entry],
        walked: list[str],
        parsed: int,
        articles_read: int,
        newest_change_ns: int,
    ) -> LoadReport:
        """Take the entries a rescan found (see :meth:`_walked_change` for the rest)."""
        # A new or removed symbolic link (or badly named file) changes only the scan problems.
        changed = (
            parsed > 0
            or seen.keys() != self._entries.keys()
            or scan_problems != self._scan_problems  # in the order of their keys, both
        )
        self._entries = seen
        self._troubled = {
            relpath: entry.problems for relpath, entry in seen.items() if entry.problems
        }
        self._loaded_once = True
        self._scan_problems = scan_problems
        self._problems = None
        self.loaded_at = datetime.now(UTC)
        changed_at = None
        change = None
        if changed:
            change = self._walked_change(scoped, seen, walked, articles_read)
            # A file's mtime is the same for every worker that sees it; a deletion has none.
            changed_at = (
                min(datetime.fromtimestamp(newest_change_ns / 1e9, UTC), self.loaded_at)
                if newest_change_ns
                else self.loaded_at
            )
        return LoadReport(self.loaded_at, len(seen), parsed, changed, changed_at, change)

    def _walked_change(
        self,
        scoped: dict[str, _Entry],
        seen: dict[str, _Entry],
        walked: list[str],
        articles_read: int,
    ) -> ArticleChange | None:
        """:meth:`_change` of a rescan: ``scoped``, the entries it looked at again, before;
        ``walked``, the paths the walk found, read or kept in ``seen``, with ``articles_read``
        articles among those read now."""
        if not scoped and articles_read > _change_limit(len(seen)):
            # Nothing was there before (a first load): every article read is added, and they
            # are too many to tell apart (found without a dict of them all, as _change needs).
            return None
        # What the walk found, and what was kept of folders it could not read.
        now = {r: seen[r] for r in itertools.chain(walked, scoped) if r in seen}
        return self._change(scoped, now)

    def _keep_unreadable(
        self, unreadable: list[tuple[str, OSError]], seen: dict[str, _Entry]
    ) -> list[tuple[str, ContentProblem]]:
        """Keep what was last read from folders that could not be listed now, and report them.

        A folder that vanished from a listing that did succeed is deleted, and its articles go;
        but the content folder itself vanishing, or any folder becoming unreadable, is far more
        likely an accident (an unmounted share, a wrong chmod) than an editor's wish to empty
        the feeds, so the last good state is served until the folder can be read again.
        """
        problems: list[tuple[str, ContentProblem]] = []
        for relfolder, error in unreadable:
            if relfolder and error.errno in (errno.ENOENT, errno.ENOTDIR):
                continue  # deleted (or replaced by a file) between its parent's listing and its own
            prefix = f"{relfolder}/" if relfolder else ""
            kept = {
                relpath: entry
                for relpath, entry in self._entries.items()
                if relpath.startswith(prefix) and relpath not in seen
            }
            seen.update(kept)
            articles = sum(entry.article is not None for entry in kept.values())
            shown = _shown_folder(relfolder)
            what = f"the folder {shown}" if relfolder else "the content folder"
            reason = error.strerror or str(error)
            message = (
                f"cannot read {what} ({reason}); the feeds keep the {articles} article(s) "
                "last read from it"
            )
            problems.append((relfolder, ContentProblem(shown or ".", 0, message)))
        # Logged when they start and end, not at every reload.
        before = {problem.path for problem in self.folder_problems}
        after = {problem.path for _, problem in problems}
        for _, problem in problems:
            if problem.path not in before:
                log.error("%s: %s", _shown_folder(str(self.root / problem.path)), problem.message)
        for path in sorted(before - after):
            log.warning("%s: can be read again", _shown_folder(str(self.root / path)))
        self.folder_problems = tuple(problem for _, problem in problems)
        return problems

    def _change(self, before: dict[str, _Entry], after: dict[str, _Entry]) -> ArticleChange | None:
        """The articles that left and came, from the entries of the rescanned folders before
        and after (every other entry is unchanged); None when only a whole snapshot will do."""
        if self._has_duplicate_ids:
            return None  # which of two files with one id wins is decided over the whole set
        removed = tuple(
            entry.article
            for relpath, entry in before.items()
            if entry.article is not None and after.get(relpath) is not entry
        )
        added = tuple(
            entry.article
            for relpath, entry in after.items()
            if entry.article is not None and before.get(relpath) is not entry
        )
        if len(removed) + len(added) > _change_limit(len(self._entries)):
            return None  # a big change: building afresh is as quick
        return ArticleChange(removed, added)

    def problems(self) -> tuple[ContentProblem, ...]:
        """Every problem of the last reload: folders, names, and each file's own."""
        with self._lock:  # a reload of single files changes the entries in place
            if self._problems is None:
                problems = list(self._scan_problems.values())
                for file_problems in self._troubled.values():
                    problems.extend(file_problems)
                self._problems = tuple(problems)
            return self._problems

    def snapshot(self) -> ArticleSet:
        """Every article, one per id (the first file in path order wins a clash, reported)."""
        with self._lock:
            articles: dict[str, Article] = {}
            problems = list(self._scan_problems.values())
            for relpath in sorted(self._entries):
                entry = self._entries[relpath]
                if entry.problems:  # most have none
                    problems.extend(entry.problems)
                article = entry.article
                if article is None:
                    continue
                if article.id in articles:
                    other = articles[article.id].source_path
                    message = f"same article id as {other}; file ignored"
                    problems.append(ContentProblem(relpath, 0, message))
                    continue
                articles[article.id] = article
            self._has_duplicate_ids = len(articles) < sum(
                entry.article is not None for entry in self._entries.values()
            )
            return ArticleSet(tuple(articles.values()), tuple(problems))

    def _keep_replaced(
        self, found: _Found, problem: ContentProblem, seen: dict[str, _Entry], walked: list[str]
    ) -> ContentProblem:
        """An article file replaced by a folder, FIFO or symbolic link keeps its last good
        version, like any file that cannot be read; returns the problem to report."""
        previous = self._entries.get(found.relpath)
        if previous is None or previous.article is None:
            return problem
        seen[found.relpath] = previous
        walked.append(found.relpath)
        kept = ContentProblem(
            problem.path,
            problem.line,
            f"{problem.message}; the feeds keep the last good version",
            problem.severity,
        )
        if kept not in self._scan_problems.values():  # logged when it starts, not every reload
            log.warning("%s: %s", kept.path, kept.message)
        return kept

    def _visit(
        self, found: _Found, info: os.stat_result, scan_ns: int, settling: dict[str, int]
    ) -> _Entry | None:
        """The entry of a file the walk found: the previous one if the file is unchanged or
        still being written (then noted in ``settling``), else a new one read now."""
        signature = _Signature(info.st_size, info.st_mtime_ns, info.st_ino)
        previous = self._entries.get(found.relpath)
        if previous is not None and previous.signature == signature:
            if not previous.racy or self._same_as_before(found, previous, scan_ns):
                return previous
        elif self._being_written(info, previous, scan_ns):
            settling[found.relpath] = info.st_mtime_ns
            return previous  # its last good version stays until it settles
        racy = signature.mtime_ns >= scan_ns - RACY_NS
        entry = self._load_file(found, signature, previous, racy)
        entry.racy = racy
        return entry

    def _visit_new(self, found: _Found, scan_ns: int, settling: dict[str, int]) -> _Entry | None:
        """:meth:`_visit` of a file the store has no entry for, so nothing to compare its
        ``lstat`` with: opened first, its ``fstat`` (the same file: opened without following a
        link) gives the signature, one system call per file fewer at a first load."""
        previous = self._entries.get(found.relpath)
        try:
            fd = _open_article_file(found)
        except ContentError as error:
            # Not opened (a link or a FIFO swapped in since the listing, no permission): the
            # entry reports it, and keeps the file's lstat, so it is not read again unchanged.
            try:
                info = os.stat(found.name, dir_fd=found.dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                raise _FileVanishedError(found.relpath) from None
            except OSError:
                info = None
            signature = (
                _Signature(-1, -1, -1)
                if info is None
                else _Signature(info.st_size, info.st_mtime_ns, info.st_ino)
            )
            return self._failed(found.relpath, signature, previous, error)
        try:
            info = os.fstat(fd)
            signature = _Signature(info.st_size, info.st_mtime_ns, info.st_ino)
            # At the first load nothing is held back (see _being_written): not asked then.
            if self._loaded_once and self._being_written(info, previous, scan_ns):
                settling[found.relpath] = info.st_mtime_ns
                return previous
            racy = signature.mtime_ns >= scan_ns - RACY_NS
            entry = self._load_file(found, signature, previous, racy, (fd, info))
        finally:
            os.close(fd)
        entry.racy = racy
        return entry

    def _take_shared(
        self,
        sharing: _Sharing,
        seen: dict[str, _Entry],
        walked: list[str],
        scan_ns: int,
        settling: dict[str, int],
    ) -> list[_Entry]:
        """Put what the child of a shared first load read in the places its walk kept for
        them; what it did not send (a file with an error, whose report and logging are this
        process's, or everything once the child failed) is read now. The entries read."""
        read = []
        for relpath, entry in sharing.entries:
            if seen.get(relpath) is _PENDING:
                seen[relpath] = entry
                read.append(entry)
        for relpath in [r for r, entry in seen.items() if entry is _PENDING]:
            visited = self._visit_path(relpath, scan_ns, settling)
            if visited is None:
                del seen[relpath]  # gone since the walk found it
                walked.remove(relpath)
            else:
                seen[relpath] = visited
                read.append(visited)
        return read

    def _visit_path(self, relpath: str, scan_ns: int, settling: dict[str, int]) -> _Entry | None:
        """:meth:`_visit_new` of a file named by its path after the walk has moved on (one the
        sharing child did not read); None if it is gone."""
        folder, _, name = relpath.rpartition("/")
        try:
            root_fd = os.open(self.root, _DIR_FLAGS)
        except OSError:
            return None
        try:
            folder_fd = _open_folder(root_fd, folder) if folder else os.dup(root_fd)
        except OSError:
            return None
        finally:
            os.close(root_fd)
        try:
            return self._visit_new(_Found(relpath, name, folder_fd, None, None), scan_ns, settling)
        except _FileVanishedError:
            return None
        finally:
            os.close(folder_fd)

    def _read_quietly(self, found: _Found, scan_ns: int) -> _Entry | None:
        """What :meth:`_visit_new` makes of a new file at a first load, for the sharing child:
        None where the file has an error (then the parent reads it, and reports it)."""
        try:
            data, info = _read_article_file(found)
            racy = info.st_mtime_ns >= scan_ns - RACY_NS
            digest = _digest(data) if racy else b""
            result = self._parse(data, found.relpath)
        except (ContentError, _FileVanishedError):
            return None
        signature = _Signature(info.st_size, info.st_mtime_ns, info.st_ino)
        return _Entry(signature, result.article, result.warnings, digest, racy)

    def _being_written(self, info: os.stat_result, previous: _Entry | None, scan_ns: int) -> bool:
        """Whether the file changed in place so recently that it may still be being written.

        A new inode at a known path was renamed into place, whole. A new path whose inode
        changed after its last write (ctime > mtime: a rename) arrived whole too; one written
        and renamed within one tick of the file system's clock cannot be told from a file
        being written, and waits for the quiet period like one.
        """
        quiet_ns = int(self.quiet_seconds * 1e9)
        age_ns = scan_ns - info.st_mtime_ns
        if quiet_ns == 0 or age_ns >= quiet_ns or age_ns < -_FUTURE_NS:
            return False
        if previous is not None:
            return previous.signature.inode == info.st_ino
        if not self._loaded_once:
            # At start there is no last good version to serve instead: content deployed just
            # before the start is published, not held back for the quiet period.
            return False
        return info.st_ctime_ns <= info.st_mtime_ns

    def _same_as_before(self, found: _Found, previous: _Entry, scan_ns: int) -> bool:
        """For a racy entry: whether the file still holds the bytes read last time."""
        try:
            data, _ = _read_article_file(found)
        except ContentError:
            return False  # unreadable now: load it as changed, which reports why
        if _digest(data) != previous.digest:
            return False
        previous.racy = previous.signature.mtime_ns >= scan_ns - RACY_NS
        return True

    def _load_file(
        self,
        found: _Found,
        signature: _Signature,
        previous: _Entry | None,
        racy: bool,
        opened: tuple[int, os.stat_result] | None = None,
    ) -> _Entry:
        """The entry of the file read now (``opened``: its descriptor, open, and ``fstat``)."""
        relpath = found.relpath
        digest = b""
        try:
            if opened is None:
                data, _ = _read_article_file(found)
            else:
                data = _read_open_file(relpath, *opened)
            # Only a racy entry's bytes are compared again (_same_as_before); a file read well
            # after its last write is read again only when its signature changes.
            if racy:
                digest = _digest(data)
            result = self._parse(data, relpath)
        except ContentError as error:
            return self._failed(relpath, signature, previous, error, digest)
        return _Entry(signature, result.article, result.warnings, digest)

    def _parse(self, data: bytes, relpath: str) -> ParseResult:
        """The article in ``data`` by this store's settings; raises :class:`ContentError`."""
        return parse_article(
            data, relpath, zone=self.settings.timezone, disclaimer=self.settings.disclaimer
        )

    def _failed(
        self,
        relpath: str,
        signature: _Signature,
        previous: _Entry | None,
        error: ContentError,
        digest: bytes = b"",
    ) -> _Entry:
        """The entry of a file that could not be read or parsed: its last good version kept."""
        last_good = previous.article if previous is not None else None
        message = error.reason
        if last_good is not None:
            message += "; the feeds keep the last good version"
        log.warning("%s:%d: %s", relpath, error.line, message)
        problem = ContentProblem(relpath, error.line, message, Severity.ERROR)
        return _Entry(signature, last_good, (problem,), digest)

    def _walk(
        self, unreadable: list[tuple[str, OSError]], scope: tuple[str, ...] | None = None
    ) -> Iterator[_Found]:
        """Every article file under the root (or the ``scope`` folders), sorted; symbolic links
        are reported, not followed.

        Folders that cannot be listed are added to ``unreadable`` as (relative path, error), the
        content folder itself as "". A descriptor in a :class:`_Found` is valid until the walk
        moves on.
        """
        try:
            root_fd = os.open(self.root, _DIR_FLAGS)
        except OSError as error:
            unreadable.append(("", error))
            return
        try:
            if scope is None:
                yield from self._walk_folder(root_fd, "", unreadable)
            for relfolder in scope or ():
                if any(part.startswith(".") for part in relfolder.split("/")):
                    continue  # hidden folders are never read
                if _beyond_limits(relfolder):
                    # The full walk reports it: a scan problem makes the reload a full one.
                    name = relfolder.rpartition("/")[2]
                    problem = ContentProblem(_shown_folder(relfolder), 0, "beyond the limits")
                    yield _Found(relfolder, name, root_fd, None, problem, folder=True)
                    continue
                try:
                    folder_fd = _open_folder(root_fd, relfolder)
                except (FileNotFoundError, NotADirectoryError):
                    continue  # deleted: the files that were in it leave the feeds
                except OSError as error:
                    unreadable.append((relfolder, error))
                    continue
                try:
                    yield from self._walk_folder(folder_fd, relfolder, unreadable)
                finally:
                    os.close(folder_fd)
        finally:
            os.close(root_fd)

    def _walk_folder(
        self, dir_fd: int, relfolder: str, unreadable: list[tuple[str, OSError]]
    ) -> Iterator[_Found]:
        try:
            with os.scandir(dir_fd) as listing:
                entries = sorted(listing, key=_NAME)
        except OSError as error:
            unreadable.append((relfolder, error))
            return
        prefix = f"{relfolder}/" if relfolder else ""
        folders: list[str] = []
        for entry in entries:
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False
            if is_folder:
                if not entry.name.startswith("."):
                    folders.append(entry.name)
                if is_article_file(entry.name):
                    relpath = prefix + entry.name
                    problem = ContentProblem(relpath, 0, "a folder, not an article file")
                    yield _Found(relpath, entry.name, dir_fd, None, problem)
            elif is_article_file(entry.name):
                relpath = prefix + entry.name
                # Only a file the store has read before needs its lstat now, to tell whether it
                # changed; a new one is opened and fstat'ed when it is read.
                found = _found(relpath, entry.name, dir_fd, entry, relpath in self._entries)
                if found is not None:
                    yield found
        for name in folders:
            # Checked before descending, so the walk's depth is bounded too.
            if too_much := folder_problem(prefix + name, prefix.count("/") + 1):
                problem = ContentProblem(_shown_folder(prefix + name), 0, too_much)
                yield _Found(prefix + name, name, dir_fd, None, problem, folder=True)
                continue
            try:
                # O_NOFOLLOW: a folder swapped for a symbolic link since the listing is refused.
                sub_fd = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError as error:
                unreadable.append((prefix + name, error))
                continue
            try:
                yield from self._walk_folder(sub_fd, prefix + name, unreadable)
            finally:
                os.close(sub_fd)


# A first load reads this many files alone, and shares out the rest with a forked child (so a
# small folder, the tests' among them, is read in one process, as any later reload is).
SHARE_AFTER = 1000
# The files one process takes at a time: few enough that neither waits long for the other at
# the end, enough that taking them and sending what was read costs little.
_SHARE_BLOCK = 64
_FRAME_HEADER = struct.Struct("<Q")
# What a first load's walk keeps in a file's place while the child reads it.
_PENDING = _Entry(_Signature(-1, -1, -1), None, ())


class _Sharing:
    """A first load shared out with a forked child, for the second core.

    Reading a file costs little more than its system calls; parsing it costs several times as
    much, in Python, so one process is busy where two could be. Once :data:`SHARE_AFTER` files
    are read, the loading process forks: the child goes on with the same walk (its listings in
    memory, its folder descriptors copied), and the two take the files that follow in blocks of
    :data:`_SHARE_BLOCK`, each the next block nobody has (a counter in shared memory), so the
    one that gets more of the machine reads more. The child reads and parses its blocks as
    :meth:`ContentStore._visit_new` does, and sends each block's entries back pickled through a
    pipe (an article goes as its fields and its file's bytes: unpickled, it costs a fifth of its
    parsing); the parent takes them in whenever it takes a block, and at the end, each in the
    place the walk kept for it. A file the child does not send (it has an error, whose report
    and logging are the parent's; or the child failed) is read by the parent at the end, by its
    path. Only for a first load in a process with no other thread (a fork copies only the
    calling thread, and any lock another thread holds stays held in the child).
    """

    def __init__(
        self, store: ContentStore, scan_ns: int, seen: dict[str, _Entry], walked: list[str]
    ) -> None:
        self.store = store
        self.scan_ns = scan_ns
        self.seen, self.walked = seen, walked  # those of the load, for the child's places
        self.next_block: Any = None  # the next block nobody has, in shared memory
        self.block = -1  # the block this process has now
        self.pid: int | None = None
        self.fd = -1  # the pipe: the child's end to write, the parent's to read
        self.received = bytearray()
        self.entries: list[tuple[str, _Entry]] = []  # the child's, as received
        self.records: list[tuple[object, ...]] = []  # the child's, not yet sent

    def walk(self, walk: Iterator[_Found]) -> Iterator[_Found]:
        """What ``walk`` finds, but the files the child reads, whose places it keeps."""
        readable = 0  # the files found without a problem: those the two share
        for found in walk:
            if found.problem is None:
                if readable == SHARE_AFTER and _may_fork():
                    self._fork(found, walk)  # in the child, never returns
                readable += 1
                if not self.takes(readable - 1):
                    self.seen[found.relpath] = _PENDING
                    self.walked.append(found.relpath)
                    continue
            yield found

    def _fork(self, found: _Found, walk: Iterator[_Found]) -> None:
        """Start the child, which reads its share of ``found`` and the rest of ``walk`` and
        exits; in this process, return (with no child if it could not start)."""
        import multiprocessing  # noqa: PLC0415 - only for a first load of many files

        try:
            self.next_block = multiprocessing.get_context("fork").Value("q", 0)
            read_fd, write_fd = os.pipe()
        except OSError:
            return
        with contextlib.suppress(OSError, AttributeError):
            # Room for several blocks, so the child seldom waits for the parent to take them.
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:
            os.close(read_fd)
            self.fd = write_fd
            self._child(found, walk)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self.pid, self.fd = pid, read_fd

    def takes(self, index: int) -> bool:
        """Whether this process reads the ``index``-th readable file of the walk (counted from
        0, and from the fork on :data:`SHARE_AFTER`); called for each in turn."""
        if self.pid is None and self.fd < 0:
            return True  # no child
        block = (index - SHARE_AFTER) // _SHARE_BLOCK
        if block > self.block:
            self._exchange()
            with self.next_block.get_lock():
                self.block = self.next_block.value
                self.next_block.value = self.block + 1
        return block == self.block

    def finish(self) -> None:
        """In the parent: take every entry the child sends (:attr:`entries`), until it exits."""
        if self.pid is None:
            return
        os.set_blocking(self.fd, True)
        try:
            while self._receive():
                pass
        finally:
            os.close(self.fd)
            # Already waited for where a handler of SIGCHLD reaps every child (a server's
            # master process loading the app before it forks its workers may have one).
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = None

    def _exchange(self) -> None:
        """Between blocks: the child sends what it read; the parent takes what has come."""
        if self.pid is None:
            self._send()
        else:
            with contextlib.suppress(BlockingIOError):
                while self._receive():
                    pass

    def _child(self, found: _Found, walk: Iterator[_Found]) -> NoReturn:
        status = 1
        try:
            index = SHARE_AFTER
            for each in itertools.chain((found,), walk):
                if each.problem is not None:
                    continue  # the parent's to report
                if self.takes(index):
                    entry = self.store._read_quietly(each, self.scan_ns)
                    if entry is not None:
                        signature = entry.signature
                        self.records.append(
                            (
                                each.relpath,
                                *signature,
                                entry.article,
                                entry.problems,
                                entry.digest,
                                entry.racy,
                            )
                        )
                index += 1
            self._send()
            status = 0
        finally:
            os._exit(status)  # a forked child leaves without the parent's cleanup

    def _send(self) -> None:
        if not self.records:
            return
        frame = pickle.dumps(self.records, pickle.HIGHEST_PROTOCOL)
        self.records = []
        view = memoryview(_FRAME_HEADER.pack(len(frame)) + frame)
        while view:
            view = view[os.write(self.fd, view) :]

    def _receive(self) -> bool:
        """Read what the pipe holds (BlockingIOError if nothing yet) and take in the blocks
        complete in it; False at its end."""
        data = os.read(self.fd, 1 << 20)
        if not data:
            return False
        received = self.received
        received += data
        start = 0
        while len(received) - start >= _FRAME_HEADER.size:
            (size,) = _FRAME_HEADER.unpack_from(received, start)
            end = start + _FRAME_HEADER.size + size
            if end > len(received):
                break
            records = pickle.loads(memoryview(received)[start + _FRAME_HEADER.size : end])
            for relpath, size_, mtime_ns, inode, article, problems, digest, racy in records:
                signature = _Signature(size_, mtime_ns, inode)
                self.entries.append((relpath, _Entry(signature, article, problems, digest, racy)))
            start = end
        del received[:start]
        return True


# The pauses of the cyclic garbage collector in progress (one per thread loading a store), and
# whether it was enabled before the first of them.
_pauses_lock = threading.Lock()
_pauses = 0
_collector_was_enabled = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection of cyclic garbage during the block (a store's first load, and
    the catalog built of it: see :class:`feedsvc.feeds.live.LiveCatalog`).

    A first load makes every article, entry and body at once, and they all live on (and form no
    cycles): the collector, set off by the number of objects made, would walk them again and
    again for nothing (the whole heap, its modules included, once per fifth or so of growth).
    Only the first load: it comes before the store is shared (no watcher, no request is using
    it yet); a later reload of the watcher's thread makes few objects, and pausing there would
    pause the collector for the request threads too. The switch is process-wide, so pauses in
    two threads at once nest, and the state from before the first is restored after the last,
    however the block ends.
    """
    global _pauses, _collector_was_enabled  # noqa: PLW0603 - process-wide, as the collector
    with _pauses_lock:
        if _pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0:
                if gc.get_freeze_count() == 0:
                    # Everything now into the oldest generation, in constant time (freeze, then
                    # unfreeze, as documented): the next young collection would otherwise walk
                    # the whole load, and the next ones again. Nothing stays frozen (garbage
                    # among it is collected by a full collection, as any old garbage), and where
                    # something was frozen already (wsgi.py's heap) this is not done, so as not
                    # to unfreeze it.
                    gc.freeze()
                    gc.unfreeze()
                if _collector_was_enabled:
                    gc.enable()


def _may_fork() -> bool:
    """Whether a first load should share its files with a forked child: this process can fork
    safely (it has no other thread, see :class:`_Sharing`), and a core is likely to be free.

    A child on a machine whose cores are all busy gets no more CPU for the two of them than
    the parent alone had, and its overhead (about 30% more CPU time in all) is then
    paid for nothing: measured slower at a load average of 5 to 7 on 2 cores, faster at 2 to 3
    (docs/performance.md, "Loading on both cores"). The bound lies between.
    """
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    try:
        load = os.getloadavg()[0]
    except OSError:
        return True
    return load < (os.cpu_count() or 1) + 1


def _change_limit(files: int) -> int:
    """The most articles a reload of a store of ``files`` files tells apart as a change."""
    return max(100, files // 50)


def _beyond_limits(relfolder: str) -> bool:
    """Whether the walk would not go into ``relfolder`` (or a folder above it)."""
    parts = relfolder.split("/")
    return any(folder_problem("/".join(parts[:depth]), depth) for depth in range(1, len(parts) + 1))


# Where the walk meets a path (see _walk_key).
_WalkKey = tuple[tuple[int, str], ...]
_UNREADABLE = 2  # the first place of an unreadable folder's key: after all the walk meets


def _walk_key(relpath: str, folder: bool = False) -> _WalkKey:
    """Where the walk meets ``relpath``, as a key that sorts in the walk's order: in each
    folder, the names of files (and of folders named like files) in name order, then each
    folder in name order, with what is below it (``folder``: met as a folder, not read). So
    problems kept from outside a scoped rescan and those it found sort as a whole rescan
    finds them."""
    *folders, name = relpath.split("/")
    return (*((1, part) for part in folders), (1 if folder else 0, name))


def _unreadable_key(relfolder: str) -> _WalkKey:
    """A folder that could not be listed: reported after everything the walk met."""
    return ((_UNREADABLE, relfolder),)


def _covered(key: _WalkKey, scope: Iterable[str]) -> bool:
    """Whether a rescan of the ``scope`` folders meets ``key`` again: what is inside them. Not
    a scope folder's own problem as a name in its parent (a folder named like an article
    file), which only a rescan of the parent meets."""
    if key[0][0] == _UNREADABLE:
        return _below(key[0][1], scope)
    for folder in scope:
        inside = tuple((1, part) for part in folder.split("/"))
        if key[: len(inside)] == inside:
            return True
    return False


def _walked_path(key: _WalkKey) -> str:
    """The relative path of a :func:`_walk_key` or :func:`_unreadable_key`."""
    return "/".join(part for _, part in key)


def _below(relpath: str, folders: Iterable[str]) -> bool:
    """Whether ``relpath`` is one of ``folders`` or inside one of them."""
    return any(relpath == folder or relpath.startswith(folder + "/") for folder in folders)


def _open_folder(root_fd: int, relfolder: str) -> int:
    """A descriptor of ``relfolder`` below ``root_fd``, opened a step at a time without
    following a symbolic link at any step."""
    fd = os.dup(root_fd)
    try:
        for part in relfolder.split("/"):
            next_fd = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _found(
    relpath: str,
    name: str,
    dir_fd: int,
    entry: os.DirEntry[str] | os.stat_result,
    lstat: bool = True,
) -> _Found | None:
    """The walk's record of one article file, with the reason not to read it, if any; None if
    it vanished since the listing (skipped, as deleted).

    ``entry`` is the file's listing entry, or its ``lstat`` when it was looked at by name.
    ``lstat``: take it for a listing entry; if not, the type the listing gives (on Linux file
    systems, without a system call; ``DirEntry`` takes the ``lstat`` itself where it does not)
    tells links and special files, and the record has no ``lstat``.
    """
    if not (relpath.isascii() and relpath.isprintable()):  # else neither check can fail
        try:
            relpath.encode("utf-8")
        except UnicodeEncodeError:
            shown = relpath.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            message = "the file name is not valid UTF-8; rename the file"
            return _Found(relpath, name, dir_fd, None, ContentProblem(shown, 0, message))
        if _BAD_NAME_CHARS.search(relpath):
            message = "the file name contains control characters; rename the file"
            bad_name = ContentProblem(repr(relpath), 0, message)
            return _Found(relpath, name, dir_fd, None, bad_name)
    problem: ContentProblem | None = None
    info: os.stat_result | None = None
    if isinstance(entry, os.stat_result):
        info = entry
    else:
        if too_much := file_problem(relpath):
            problem = ContentProblem(relpath, 0, too_much)
        try:
            if lstat:
                info = entry.stat(follow_symlinks=False)
            else:
                is_link = entry.is_symlink()
                is_regular = entry.is_file(follow_symlinks=False)
        except OSError:  # vanished since the listing
            return None if problem is None else _Found(relpath, name, dir_fd, None, problem)
    if info is not None:
        is_link = stat.S_ISLNK(info.st_mode)
        is_regular = stat.S_ISREG(info.st_mode)
    if is_link:
        message = "symbolic links are not followed; copy the file instead"
        problem = ContentProblem(relpath, 0, message, Severity.WARNING)
    elif not is_regular:
        problem = ContentProblem(relpath, 0, "not a regular file")
    return _Found(relpath, name, dir_fd, None if problem else info, problem)


def _shown_folder(relfolder: str) -> str:
    """A folder's path for messages: as it is, or quoted if it has control characters or bytes
    that are not UTF-8 (file names are refused for those; folder names are only reported)."""
    try:
        relfolder.encode("utf-8")
    except UnicodeEncodeError:
        return ascii(relfolder)
    return repr(relfolder) if _BAD_NAME_CHARS.search(relfolder) else relfolder


def _read_article_file(found: _Found) -> tuple[bytes, os.stat_result]:
    """The file's bytes and its ``fstat``, if it is a regular file of at most 1 MiB; else a
    :class:`ContentError` (or :class:`_FileVanishedError`).

    The checks are made again on the open descriptor, so a file replaced since the scan by a
    symbolic link, a FIFO or a huge file is refused, and a huge file is never read.
    """
    relpath = found.relpath
    if found.info is not None and found.info.st_size > MAX_ARTICLE_BYTES:
        raise ContentError(relpath, 0, _too_large(found.info.st_size))
    fd = _open_article_file(found)
    try:
        try:
            info = os.fstat(fd)
        except OSError as error:
            raise ContentError(relpath, 0, f"cannot read the file: {error.strerror}") from None
        return _read_open_file(relpath, fd, info), info
    finally:
        os.close(fd)


def _open_article_file(found: _Found) -> int:
    """A descriptor of the file, opened without following a symbolic link or waiting for the
    writer of a FIFO; else a :class:`ContentError` (or :class:`_FileVanishedError`)."""
    try:
        return os.open(found.name, _FILE_FLAGS, dir_fd=found.dir_fd)
    except OSError as error:
        if error.errno == errno.ENOENT:
            raise _FileVanishedError(found.relpath) from None
        if error.errno == errno.ELOOP:
            raise ContentError(
                found.relpath, 0, "symbolic links are not followed; copy the file instead"
            ) from None
        raise ContentError(found.relpath, 0, f"cannot read the file: {error.strerror}") from None


def _digest(data: bytes) -> bytes:
    """What a racy entry keeps of its bytes, to tell a later read of the same size and time
    whether they changed (:meth:`ContentStore._same_as_before`)."""
    return hashlib.blake2b(data, digest_size=16).digest()


def _read_open_file(relpath: str, fd: int, info: os.stat_result) -> bytes:
    """The bytes of the file open as ``fd`` (``info``: its ``fstat``), if it is a regular file
    of at most 1 MiB; else a :class:`ContentError`, and a huge file is never read."""
    if not stat.S_ISREG(info.st_mode):
        raise ContentError(relpath, 0, "not a regular file")
    if info.st_size > MAX_ARTICLE_BYTES:
        raise ContentError(relpath, 0, _too_large(info.st_size))
    try:
        # Sized by fstat: read(MAX_ARTICLE_BYTES + 1) would allocate 1 MiB for every file.
        # os.read rather than a file object: one fewer object and buffer per file.
        # One read for the usual file: all its bytes and no more means its end (a second
        # read to see it return nothing cost a system call per file).
        data = os.read(fd, info.st_size + 1)
        if len(data) < info.st_size:  # a short read: read on
            data += _read_up_to(fd, info.st_size + 1 - len(data))
        if len(data) > info.st_size:  # it grew since fstat: read on, up to the limit
            data += _read_up_to(fd, MAX_ARTICLE_BYTES + 1 - len(data))
        return data
    except OSError as error:
        raise ContentError(relpath, 0, f"cannot read the file: {error.strerror}") from None


def _read_up_to(fd: int, size: int) -> bytes:
    """At most ``size`` bytes from ``fd``, fewer only at the end of the file."""
    data = os.read(fd, size)
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            break
        data += more
    return data


class _FileVanishedError(Exception):
    """The file was deleted (or renamed away) between the scan that found it and its reading:
    not a problem with the file, which is simply gone."""


def _too_large(size: int) -> str:
    return f"the file is larger than 1 MiB ({size:,} bytes)"

"""Watches the content folder and asks for a reload when something in it changes.

Uses watchfiles (inotify on Linux), so an idle folder costs nothing however many files it
holds; a reload is requested at most every ``debounce_ms`` and, as a safety net for events the
kernel dropped, every folder is rescanned every ``rescan_seconds``, one folder below the root at
a time, so that no edit waits for a walk over every file (see :data:`FULL_RESCAN_ROUNDS`). One
thread per process: gunicorn workers each run their own, because threads do not survive the
fork from the master.

inotify watches a folder, not a path: when the content folder is deleted, moved away or replaced
(a restore from backup, a remount, a release-folder deploy that swaps a symbolic link:
``ln -s releases/B current.tmp && mv -T current.tmp current``), the watch is dropped and started
again on whatever folder is at the path now. The path is looked at again every
``missing_poll_seconds``, so a swap or a return is seen within about that time.

Each folder is watched on its own (not recursively), from a walk that, like the store, does not
follow symbolic links nor enter hidden folders: a link such as ``usr -> /usr`` costs nothing.
When folders come or go, the watches are set up again with the old ones still open until the
new ones are in place, so only the folders that came are rescanned, not the whole content. A
name that is not valid UTF-8 (reported by the store, and skipped) makes watchfiles fail on an
event; such folders are not watched, and a failure for a file's name means one full reload and
a new watch, not a stall. If watching fails anyway, the folder is polled (a full reload every
``missing_poll_seconds``) and inotify is tried again at each rescan.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Collection, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import watchfiles

log = logging.getLogger(__name__)
# The periodic rescan (the safety net for events the kernel dropped) goes one folder below the
# root at a time, each once per ``rescan_seconds``, and over the whole content folder (files at
# its top too) every this many rounds. A whole rescan walks every file (a second or more of CPU
# at 100,000 files): it runs in a thread of its own, so that no edit waits for it.
FULL_RESCAN_ROUNDS = 10
# What watchfiles.watch yields: the changes since the last answer (none after a timeout).
_Stream = Generator[set[tuple[watchfiles.Change, str]], None, None]


@dataclass(frozen=True, slots=True)
class WatcherStatus:
    """What /healthz says of the watcher in this process."""

    running: bool
    problem: str | None  # why watching or the last reload did not work; None when all is well
    last_reload_ok: datetime | None  # when a reload last succeeded
    # The folders are watched and what changed while the watches were set up is reloaded:
    # from then on an edit is served in the time of its own reload.
    established: bool = False


class ContentWatcher:
    """Calls ``on_change`` after files below ``root`` change (and periodically).

    ``on_change`` gets the paths the events named, or None when everything should be
    rescanned (at start, after a gap in watching, and every ``rescan_seconds``).
    """

    def __init__(
        self,
        root: Path,
        on_change: Callable[[Collection[str] | None], object],
        *,
        debounce_ms: int = 100,
        rescan_seconds: float = 30.0,
        missing_poll_seconds: float = 1.0,
        settling: Callable[[], tuple[float, frozenset[str]] | None] | None = None,
        stale: Callable[[Collection[str] | None], frozenset[str] | None] | None = None,
    ) -> None:
        """``settling`` says when files held back while being written will have settled
        (seconds from now, and their paths): they are reloaded then, with no event to wait for.

        ``stale`` (:meth:`ContentStore.stale <feedsvc.articles.store.ContentStore.stale>`)
        names, without holding up a reload, the files below the given folders (None: all)
        that differ from what was last read: the periodic rescan then reloads only those files
        rather than the folder, which under the store's lock would hold up an edit's reload
        (0.14 s a year folder, 1.2 s the whole folder at 100,000 articles,
        bench/rescan_bench.py). ``on_change`` is called from the watching thread, the periodic
        rescan's and the timer of settling files.
        """
        self.root = root
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self.rescan_seconds = rescan_seconds
        self.missing_poll_seconds = missing_poll_seconds
        self._stop = threading.Event()
        self._established = threading.Event()  # set once the first watch is in place
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()
        self.settling = settling
        self.stale = stale
        # The folders just below the root while they are watched (None: not watching), for
        # the periodic rescan's thread.
        self._parts: list[str] | None = None
        self._rescanner: threading.Thread | None = None
        self._settle_timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()
        self._watch_problem: str | None = None
        self._rescan_turn = 0  # which part of the folder the next periodic rescan looks at
        self._reload_problem: str | None = None
        self._last_reload_ok: datetime | None = None

    def status(self) -> WatcherStatus:
        running = self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()
        rescanner = self._rescanner
        rescan_problem = None
        if running and rescanner is not None and not rescanner.is_alive():
            # Without it, an edit whose event the kernel dropped waits for the next restart.
            rescan_problem = "the periodic rescan stopped"
        return WatcherStatus(
            running,
            self._reload_problem or self._watch_problem or rescan_problem,
            self._last_reload_ok,
            running and self._established.is_set(),
        )

    def ensure_running(self) -> None:
        """Start the watching thread in this process if it is not running here yet.

        The first call in a process also reloads at once, before returning, so a gunicorn
        worker's first request never sees content older than the worker.
        """
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._reload()
            self._stop.set()  # a rescan thread of a watching thread that ended ends too
            self._stop = threading.Event()
            self._rescanner = None
            self._thread = threading.Thread(target=self._run, name="content-watcher", daemon=True)
            self._pid = os.getpid()
            self._thread.start()

    def wait_established(self, timeout: float) -> bool:
        """Wait until the folders are watched (and what changed while the watches were set up
        is reloaded); False if that did not happen within ``timeout`` seconds."""
        return self._established.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        with self._timer_lock:  # after the event: no timer is started once this is done
            if self._settle_timer is not None:
                self._settle_timer.cancel()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._rescanner is not None:
            self._rescanner.join(timeout=5)

    def _run(self) -> None:
        rescanner = threading.Thread(
            target=self._rescan_periodically,
            args=(self._stop,),
            name="content-rescan",
            daemon=True,
        )
        rescanner.start()
        self._rescanner = rescanner  # once started: status() takes one not alive as stopped
        missing = False
        while not self._stop.is_set():
            watched = _identity(self.root)
            if watched is None:
                # Nothing to watch: the store serves what it last read (and says so in /healthz)
                # until a folder is back at the path.
                if not missing:
                    missing = True
                    log.warning("%s is gone or unreadable; looking for it again", self.root)
                self._stop.wait(self.missing_poll_seconds)
                self._reload()
                continue
            if missing:
                missing = False
                log.warning("%s is back; watching it again", self.root)
            # Changes made before the watch (re)starts would be missed otherwise.
            self._reload()
            try:
                self._watch(watched)
            except Exception as error:  # inotify ran out of watches, a name that is not UTF-8
                if _identity(self.root) is None:
                    continue  # reported and polled for above
                self._poll_instead(error)

    def _watch(self, watched: tuple[int, int]) -> None:
        """Watch the folders below the root until the root is another folder (or none)."""
        folders = _folders(str(self.root))
        stream = self._stream(folders)
        try:
            # The first answer (at the latest after rust_timeout) means the watches are in
            # place. A change made after the reload before them raised no event: reload once
            # more, so no edit waits for the periodic rescan.
            changes = next(stream, None)
            if changes is None:
                return  # stopped
            self._reload()
            self._established.set()
            self._parts = _top_folders(folders, str(self.root))
            while changes is not None:
                if self._watch_problem is not None:
                    log.warning("watching %s works again", self.root)
                    self._watch_problem = None
                if _identity(self.root) != watched:
                    return  # deleted, moved or replaced (a symlink swapped): watch it anew
                if changes:
                    self._reload(frozenset(path for _, path in changes))
                    watching = set(folders)
                    came = [path for change, path in changes if _folder_came(change, path)]
                    if came or any(_folder_went(c, path, watching) for c, path in changes):
                        stream, folders, changes = self._rewatch(stream, came)
                        self._parts = _top_folders(folders, str(self.root))
                        continue  # with what was heard while the new watches were set up
                changes = next(stream, None)
        except FileNotFoundError as error:
            # A folder listed for the watch was deleted before its watch was added (an editor
            # making and removing a folder at once): nothing is broken; the caller reloads and
            # watches the folders there are now.
            log.info("%s: %s; watching the folders as they are now", self.root, error)
            return
        except Exception as error:
            if "Unable to decode path" not in str(error):
                raise
            # watchfiles cannot name a file whose name is not UTF-8 (the store reports it and
            # skips it): reload everything, since which change it was is not known, and watch
            # again; the folders themselves are left out of the watch by _folders.
            log.warning("%s: %s; reloading all and watching again", self.root, error)
            self._stop.wait(self.missing_poll_seconds)  # never a busy loop
        finally:
            self._parts = None
            stream.close()

    def _rewatch(
        self, old: _Stream, came: list[str]
    ) -> tuple[_Stream, list[str], set[tuple[watchfiles.Change, str]] | None]:
        """Watch the folders there are now (each folder is watched on its own, so one that
        came needs a watch of its own), reloading only what setting that up could miss.
        Returns the new watch, its folders, and the changes heard meanwhile (None: stopped).

        The old watches stay open until the new ones are in place, so an edit in a folder
        they watch is heard by one or the other, and is returned for the caller to reload.
        The folders that came were watched by neither before now: they (and what is below
        them) are rescanned, not the whole content folder, which at 100,000 files takes most
        of a second; a folder made in them that the listing missed comes back as a change.
        """
        folders = _folders(str(self.root))
        new = self._stream(folders)
        try:
            first = next(new, None)  # the new watches are in place
        except BaseException:
            new.close()
            old.close()
            raise
        if first is None:
            old.close()
            return new, folders, None
        heard = first | next(old, set())  # what the old watches buffered: no wait if any
        old.close()
        listed = set(folders)
        for folder in came:
            missed = [path for path in _folders(folder) if path not in listed]
            heard.update((watchfiles.Change.added, path) for path in missed)
        if came:  # a path inside each folder: the store rescans it and below, not its parent
            self._reload(frozenset(os.path.join(folder, "") for folder in came))
        return new, folders, heard

    def _stream(self, folders: list[str]) -> _Stream:
        return watchfiles.watch(
            *folders,
            watch_filter=None,
            debounce=self.debounce_ms,
            step=25,
            stop_event=self._stop,
            rust_timeout=int(self.missing_poll_seconds * 1000),
            yield_on_timeout=True,
            raise_interrupt=False,
            recursive=False,
        )

    def _rescan_periodically(self, stop: threading.Event) -> None:
        """The periodic rescan, a safety net for events the kernel dropped (a full queue): the
        turns of :func:`rescan_scope`, one per ``rescan_seconds`` divided among the folders,
        while they are watched (otherwise the watching thread reloads by itself). Only the
        files ``stale`` names are reloaded, or the rescanned folders where it cannot say (or
        where there is no ``stale``)."""
        while not stop.wait(self.rescan_seconds / max(len(self._parts or ()), 1)):
            parts = self._parts
            if parts is None:
                continue
            scope = rescan_scope(parts, self._rescan_turn)
            self._rescan_turn += 1
            try:
                self._rescan(scope, stop)
            except Exception:
                # The thread must outlive a turn: nothing else would rescan until a restart.
                log.exception(
                    "the periodic rescan of %s failed; trying at its next turn", self.root
                )

    def _rescan(self, scope: frozenset[str] | None, stop: threading.Event) -> None:
        """One turn of the periodic rescan: reload what ``stale`` names in ``scope``, or the
        whole scope where it cannot say; nothing once the watcher is stopping (a walk of the
        whole folder takes a second at 100,000 files)."""
        try:
            changed = self.stale(scope) if self.stale is not None else None
        except Exception:
            log.exception("rescanning %s failed; reloading it instead", self.root)
            changed = None
        if stop.is_set():
            return
        if changed is None:
            self._reload(scope)
        elif changed:
            self._reload(changed)

    def _poll_instead(self, error: Exception) -> None:
        """Watching failed: reload every ``missing_poll_seconds`` until the next try."""
        problem = f"watching failed ({error}); polling every {self.missing_poll_seconds:g} s"
        if problem != self._watch_problem:
            log.warning("%s: %s", self.root, problem)
            self._watch_problem = problem
        deadline = time.monotonic() + self.rescan_seconds
        watched = _identity(self.root)
        while not self._stop.wait(self.missing_poll_seconds):
            self._reload()
            if time.monotonic() > deadline or _identity(self.root) != watched:
                return

    def _reload(self, changed_paths: frozenset[str] | None = None) -> None:
        try:
            self.on_change(changed_paths)
        except Exception as error:
            log.exception("reloading content from %s failed", self.root)
            self._reload_problem = f"reloading failed: {type(error).__name__}: {error}"
        else:
            self._reload_problem = None
            self._last_reload_ok = datetime.now(UTC)
        self._schedule_settled()

    def _schedule_settled(self) -> None:
        """After a reload that held files back, reload them once they have been quiet."""
        pending = self.settling() if self.settling is not None else None
        if pending is None:
            return
        wait, paths = pending
        with self._timer_lock:
            if self._stop.is_set():  # checked under the lock stop() cancels the timer under
                return
            if self._settle_timer is not None:
                self._settle_timer.cancel()
            # A little late rather than early: early finds them still settling, and waits again.
            timer = threading.Timer(wait + 0.05, self._reload, args=(paths,))
            timer.daemon = True
            self._settle_timer = timer
            timer.start()


def rescan_scope(parts: list[str], turn: int) -> frozenset[str] | None:
    """What the periodic rescan number ``turn`` looks at: one of ``parts`` (the folders just
    below the root, as a path inside each, so the store rescans that folder and what is below
    it), each once per round, and after every :data:`FULL_RESCAN_ROUNDS` rounds the whole
    content folder (None), which also covers files at its top."""
    if not parts:
        return None
    slot = turn % (len(parts) * FULL_RESCAN_ROUNDS + 1)
    if slot == len(parts) * FULL_RESCAN_ROUNDS:
        return None
    return frozenset({os.path.join(parts[slot % len(parts)], "")})


def rescan_parts(root: str) -> list[str]:
    """The folders the periodic rescan takes in turn (see :func:`rescan_scope`): the watched
    folders just below ``root``, as the watcher finds them when it sets up its watches."""
    return _top_folders(_folders(root), root)


def _top_folders(folders: list[str], root: str) -> list[str]:
    """The watched folders just below ``root``."""
    return [folder for folder in folders if os.path.dirname(folder) == root]


def _identity(path: Path) -> tuple[int, int] | None:
    """Which folder is at ``path`` now (device and inode), or None if there is none to watch."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or not os.access(path, os.R_OK | os.X_OK):
        return None
    return (info.st_dev, info.st_ino)


def _folders(root: str) -> list[str]:
    """The root and every folder below it that the store reads: no symbolic links, no hidden
    folders, and no names that are not valid UTF-8 (watchfiles cannot report those)."""
    folders = [root]
    for top, names, _ in os.walk(root, followlinks=False):
        keep = []
        for name in names:
            if name.startswith("."):
                continue
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                continue
            path = os.path.join(top, name)
            if os.path.islink(path):
                continue  # os.walk lists links to folders among the folders
            keep.append(name)
            folders.append(path)
        names[:] = keep
    return folders


def _folder_came(change: watchfiles.Change, path: str) -> bool:
    """Whether a folder came (made, or moved in): it needs a watch of its own."""
    if change is not watchfiles.Change.added:
        return False
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _folder_went(change: watchfiles.Change, path: str, watching: set[str]) -> bool:
    """Whether a watched folder went (deleted, or moved away): its watch is dropped."""
    return change is watchfiles.Change.deleted and path in watching

"""Watches the content folder and asks for a reload when something in it changes.

Uses watchfiles (inotify on Linux), so an idle folder costs nothing however many files it
holds; a reload is requested at most every ``debounce_ms`` and, as a safety net for events the
kernel dropped, at least every ``rescan_seconds``. One thread per process: gunicorn workers
each run their own, because threads do not survive the fork from the master.

inotify watches a folder, not a path: when the content folder is deleted, moved away or replaced
(a restore from backup, a remount), the watch is dropped and started again on whatever folder is
at the path, and while there is none the path is looked at every ``missing_poll_seconds``, so its
return is seen within about that time rather than at the next rescan.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Collection
from pathlib import Path

import watchfiles

log = logging.getLogger(__name__)


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
    ) -> None:
        """``settling`` says when files held back while being written will have settled
        (seconds from now, and their paths): they are reloaded then, with no event to wait for.
        """
        self.root = root
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self.rescan_seconds = rescan_seconds
        self.missing_poll_seconds = missing_poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()
        self.settling = settling
        self._settle_timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()

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
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="content-watcher", daemon=True)
            self._pid = os.getpid()
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._settle_timer is not None:
            self._settle_timer.cancel()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
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
                for changes in watchfiles.watch(
                    self.root,
                    watch_filter=None,
                    debounce=self.debounce_ms,
                    step=25,
                    stop_event=self._stop,
                    rust_timeout=int(self.rescan_seconds * 1000),
                    yield_on_timeout=True,
                    raise_interrupt=False,
                ):
                    # Empty after rescan_seconds without events: then everything is rescanned.
                    self._reload(frozenset(path for _, path in changes))
                    if _identity(self.root) != watched:
                        break  # deleted, moved or replaced: the watch is on the old folder
            except Exception:  # inotify ran out of watches, the folder vanished mid-setup, ...
                if _identity(self.root) is None:
                    continue  # reported and polled for above
                log.exception("watching %s failed; retrying in %.0f s", self.root, 5.0)
                self._stop.wait(5.0)

    def _reload(self, changed_paths: frozenset[str] | None = None) -> None:
        try:
            self.on_change(changed_paths)
        except Exception:
            log.exception("reloading content from %s failed", self.root)
        self._schedule_settled()

    def _schedule_settled(self) -> None:
        """After a reload that held files back, reload them once they have been quiet."""
        pending = self.settling() if self.settling is not None else None
        if pending is None or self._stop.is_set():
            return
        wait, paths = pending
        with self._timer_lock:
            if self._settle_timer is not None:
                self._settle_timer.cancel()
            # A little late rather than early: early finds them still settling, and waits again.
            timer = threading.Timer(wait + 0.05, self._reload, args=(paths,))
            timer.daemon = True
            self._settle_timer = timer
            timer.start()


def _identity(path: Path) -> tuple[int, int] | None:
    """Which folder is at ``path`` now (device and inode), or None if there is none to watch."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or not os.access(path, os.R_OK | os.X_OK):
        return None
    return (info.st_dev, info.st_ino)

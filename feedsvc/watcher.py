"""Watches the content folder and asks for a reload when something in it changes.

Uses watchfiles (inotify on Linux), so an idle folder costs nothing however many files it
holds; a reload is requested at most every ``debounce_ms`` and, as a safety net for events the
kernel dropped, at least every ``rescan_seconds``. One thread per process: gunicorn workers
each run their own, because threads do not survive the fork from the master.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

log = logging.getLogger(__name__)


class ContentWatcher:
    """Calls ``on_change`` after files below ``root`` change (and periodically)."""

    def __init__(
        self,
        root: Path,
        on_change: Callable[[], object],
        *,
        debounce_ms: int = 100,
        rescan_seconds: float = 30.0,
    ) -> None:
        self.root = root
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self.rescan_seconds = rescan_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()

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
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        # Changes made between the reload above and the watch beginning would be missed otherwise.
        self._reload()
        while not self._stop.is_set():
            try:
                for _changes in watchfiles.watch(
                    self.root,
                    watch_filter=None,
                    debounce=self.debounce_ms,
                    step=25,
                    stop_event=self._stop,
                    rust_timeout=int(self.rescan_seconds * 1000),
                    yield_on_timeout=True,
                    raise_interrupt=False,
                ):
                    self._reload()
            except Exception:  # the folder vanished, inotify ran out of watches, ...
                log.exception("watching %s failed; retrying in %.0f s", self.root, 5.0)
                self._stop.wait(5.0)
                self._reload()

    def _reload(self) -> None:
        try:
            self.on_change()
        except Exception:
            log.exception("reloading content from %s failed", self.root)

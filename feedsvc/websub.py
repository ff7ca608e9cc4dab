"""WebSub publishing: tell the hub which feed URLs changed, in the background.

The WebSub recommendation leaves how a publisher notifies its hub open; hubs in use read either
``hub.url`` (PubSubHubbub 0.4, Google's and Superfeedr's hubs) or ``hub.topic`` (flask-websub,
Switchboard), so each ping carries ``hub.mode=publish`` with both, for one topic URL.

Pings go out from a daemon thread with a timeout and retries with exponential backoff, so a
slow or dead hub never delays a request or a reload. With several gunicorn workers each sees the
same change; only the one holding an exclusive lock file pings, so the hub hears it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import queue
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
# O_NOFOLLOW: a symbolic link planted at the lock's path is refused, not followed.
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


class HubNotifier:
    """Sends ``hub.mode=publish`` pings for changed feed URLs to one hub."""

    def __init__(
        self,
        hub_url: str,
        *,
        lock_name: str,
        timeout: float = 5.0,
        attempts: int = 4,
        first_backoff: float = 1.0,
    ) -> None:
        self.hub_url = hub_url
        self.timeout = timeout
        self.attempts = attempts
        self.first_backoff = first_backoff
        digest = hashlib.sha256(lock_name.encode("utf-8")).hexdigest()[:16]
        self._lock_path = Path(tempfile.gettempdir()) / f"feedsvc-websub-{digest}.lock"
        self._lock_file: IO[bytes] | None = None
        self._lock_unusable = False
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._thread_pid = 0
        self._start_lock = threading.Lock()

    def publish(self, urls: Iterable[str]) -> None:
        """Queue a ping for each URL; returns at once."""
        urls = list(urls)
        if not urls or not self._is_leader():
            return
        self._ensure_thread()
        for url in urls:
            self._queue.put(url)

    def is_leader(self) -> bool:
        """Whether this process is the one that pings (taking that role if it is free)."""
        return self._is_leader()

    def close(self) -> None:
        """Give up pinging, so another process (a restarted service) can take it over."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def join(self, timeout: float) -> bool:
        """Wait until every queued ping was sent or given up; True if the queue drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def _is_leader(self) -> bool:
        if self._lock_file is not None or self._lock_unusable:
            return True
        # The lock file is in the shared temporary folder, where another user could have put a
        # symbolic link (to make this process create or lock a file elsewhere) or a file of
        # their own (to hold the lock and silence the pings). Neither is followed or trusted:
        # then every process pings, and the hub hears of a change more than once, which is
        # harmless.
        try:
            fd = os.open(self._lock_path, _LOCK_FLAGS, 0o600)
        except OSError as error:
            return self._unusable_lock(error.strerror or str(error))
        handle = os.fdopen(fd, "r+b")
        if os.fstat(fd).st_uid != os.geteuid():
            handle.close()
            return self._unusable_lock("it belongs to another user")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            log.debug("another process pings the WebSub hub")
            return False
        self._lock_file = handle  # held for the life of the process
        return True

    def _unusable_lock(self, reason: str) -> bool:
        log.warning(
            "cannot use %s (%s); this process pings the hub itself", self._lock_path, reason
        )
        self._lock_unusable = True
        return True

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or self._thread_pid != os.getpid():
                self._thread = threading.Thread(target=self._run, name="websub", daemon=True)
                self._thread_pid = os.getpid()
                self._thread.start()

    def _run(self) -> None:
        while True:
            url = self._queue.get()
            try:
                self._ping(url)
            finally:
                self._queue.task_done()

    def _ping(self, url: str) -> None:
        form = {"hub.mode": "publish", "hub.topic": url, "hub.url": url}
        data = urllib.parse.urlencode(form).encode("ascii")
        delay = self.first_backoff
        reason = ""
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(self.hub_url, data=data, method="POST")
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    log.info("WebSub hub %s accepted %s (%d)", self.hub_url, url, response.status)
                    return
            except urllib.error.HTTPError as error:
                reason = f"HTTP {error.code}{_said(error)}"
                if not _worth_retrying(error.code):
                    # The hub understood and refused: asking again will not change its mind.
                    log.warning("WebSub hub %s refused %s: %s", self.hub_url, url, reason)
                    return
            except (urllib.error.URLError, OSError) as error:
                reason = str(getattr(error, "reason", error))
            if attempt < self.attempts:
                log.warning(
                    "WebSub ping for %s failed (%s), attempt %d of %d; retrying in %.1f s",
                    url,
                    reason,
                    attempt,
                    self.attempts,
                    delay,
                )
                time.sleep(delay)
                delay *= 2
        log.error("WebSub ping for %s failed after %d attempts (%s)", url, self.attempts, reason)


def _worth_retrying(status: int) -> bool:
    """5xx (the hub is down or overloaded), 429 (too many requests) and 408 (timeout) are
    passing troubles; any other 4xx says the request itself was refused."""
    return status >= 500 or status in (408, 429)


def _said(error: urllib.error.HTTPError) -> str:
    """The start of the hub's answer, for the log: hubs say there what they did not like."""
    try:
        text = error.read(200).decode("utf-8", "replace")
    except OSError:
        return ""
    text = " ".join(text.split())
    return f": {text}" if text else ""

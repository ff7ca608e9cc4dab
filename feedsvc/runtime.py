"""The running publisher: the store, its current publication, live reload and WebSub pings.

A reload builds a complete new :class:`Publication` off to the side and then replaces the old
one with a single reference assignment, so a request, which reads ``publication`` once, never
sees half-updated feeds or an ETag that does not belong to its body. Knows nothing of HTTP.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import threading
import weakref
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from feedsvc.articles.watcher import ContentWatcher
from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.live import LiveCatalog
from feedsvc.feeds.publication import Publication
from feedsvc.feeds.state import PublishedState, Recorded, StateKey
from feedsvc.feeds.urls import feed_path_of
from feedsvc.feeds.writers import FORMATS
from feedsvc.settings import Settings
from feedsvc.websub import HubNotifier

log = logging.getLogger(__name__)
# Problems /healthz lists by default; it counts them all.
HEALTH_PROBLEMS_SHOWN = 5
# A reload does not rewrite the state file (every resource; seconds at 100,000 articles, on
# the path of every edit): the dates it gives are in the journal from the moment they are
# given (PublishedState.note), and the file takes the journal in once it has grown this much
# (and a quarter of the file), and at close and exit.
STATE_JOURNAL_BYTES = 1 << 20


def freeze_heap() -> None:
    """Move everything alive now out of the cyclic garbage collector's way, for good.

    For long-running processes that hold a large content store (gunicorn, ``export --watch``):
    otherwise the collector walks every article again and again, and at 100,000 articles that
    doubled the time of allocation-heavy work such as listing every page of the site; in
    gunicorn it would also un-share the memory the workers inherit from the master. Garbage
    cycles are collected first, so nothing that is garbage now is kept. Not for tests or other
    programs that make many apps: what is frozen is never collected by the cyclic collector.
    """
    gc.collect()
    gc.freeze()


class Runtime:
    """Owns the content store and the publication requests are answered from."""

    def __init__(self, settings: Settings, content: LiveCatalog) -> None:
        self.settings = settings
        self.content = content
        self.state = PublishedState(settings.resolved_state_dir())
        # What the last run published (None on a first start): dates survive the restart, and
        # the first process to start watching tells the hub what changed in between.
        at_start = self.state.load()
        self._recorded_at_start = at_start.records if at_start is not None else None
        self._saved: dict[StateKey, Recorded] = {}
        self._announced_pid = 0
        self.publication, _ = Publication.build(
            content.catalog,
            settings,
            recorded=at_start.all() if at_start is not None else None,
            floor=at_start.floor if at_start is not None else None,
            sink=self.state.note,  # a date given out is kept even if the process is killed
        )
        self.published_at = datetime.now(UTC)
        self._refresh_lock = threading.Lock()
        self._health: tuple[Catalog, tuple[Any, ...], dict[str, Any]] | None = None
        self.watcher = self.watcher_for(self.refresh) if settings.watch_content else None
        self.notifier = (
            HubNotifier(
                settings.websub_hub, lock_name=f"{settings.content_dir}|{settings.site_url}"
            )
            if settings.websub_hub
            else None
        )
        # Dates given out since the last save are kept when the process ends normally.
        atexit.register(_save_at_exit, weakref.ref(self))

    def watcher_for(self, on_change: Callable[[Collection[str] | None], object]) -> ContentWatcher:
        """A watcher of the content folder that calls ``on_change`` as :meth:`refresh` would be
        called: reloading files written in place once they have settled, and rescanning without
        holding up an edit (the service's own watcher, and ``export --watch``'s).

        From now on the store holds back files being written in place for the quiet period
        (``FEEDSVC_QUIET_SECONDS``): with a watcher to reload them once they settle, a file
        half written is never published. An app made without watching (``export``) has none.
        """
        self.content.store.quiet_seconds = self.settings.quiet_seconds
        return ContentWatcher(
            self.settings.content_dir,
            on_change,
            settling=self.content.store.settling,
            stale=self.content.store.stale,
        )

    @property
    def catalog(self) -> Catalog:
        return self.publication.catalog

    def start_watching(self) -> None:
        """Watch the content folder from this process on (if the settings say to), and have
        the changes made since the last run announced to the hub (by one process); idempotent.

        Threads do not survive a fork: a server that forks calls this in each child (gunicorn's
        ``post_worker_init`` hook, :mod:`feedsvc.gunicorn_conf`). Reloads once before returning,
        so what the process serves next is no older than the call.
        """
        if self.watcher is not None:
            self.watcher.ensure_running()
            log.info("watching %s for changes", self.settings.content_dir)
        if self.notifier is not None and self._announced_pid != os.getpid():
            self._announced_pid = os.getpid()
            threading.Thread(
                target=self.announce_changes_since_last_run, name="websub-start", daemon=True
            ).start()

    def announce_changes_since_last_run(self) -> list[str]:
        """Ping the hub for each feed (every format, first page) whose bytes differ from what
        the last run recorded, new feeds and feeds that are gone included; returns the URLs.

        Only the process that pings (see :class:`HubNotifier`) does this; it renders every
        first page, so the state records them all for the next start to compare with. On a
        first start (nothing recorded) nothing is pinged: no hub has heard of these feeds.
        """
        if self.notifier is None or not self.notifier.is_leader():
            return []
        recorded = self._recorded_at_start
        publication = self.publication
        urls: list[str] = []
        for path in publication.catalog.feeds:
            for ext in FORMATS:
                rendered = publication.feed(path, ext, 1)
                before = recorded.get((path, ext, 1)) if recorded is not None else None
                if recorded is not None and (before is None or before.etag != rendered.etag):
                    urls.append(self.settings.url(rendered.path))
        for path, ext, page in recorded or {}:
            if page == 1 and ext in FORMATS and path not in publication.catalog.feeds:
                urls.append(self.settings.url(feed_path_of(path, ext)))
        if urls:
            log.info("%d feed URLs changed since the last run; telling the hub", len(urls))
            self.notifier.publish(urls)
        self.save_state()
        return urls

    def save_state(self) -> None:
        """Record what was rendered since the last save (merged with other processes')."""
        publication = self.publication
        records = publication.recorded()
        if records != self._saved:
            self.state.save(records, publication.is_alive, publication.floor)
            self._saved = records

    def save_state_if_due(self) -> None:
        """Merge the journal into the state file if it has grown enough (see
        :data:`STATE_JOURNAL_BYTES`)."""
        if self.state.journal_outgrew_file(STATE_JOURNAL_BYTES):
            self.save_state()

    def close(self) -> None:
        """Stop watching, save the state and let another process ping: as at shutdown."""
        if self.watcher is not None:
            self.watcher.stop()
        self.save_state()
        if self.notifier is not None:
            self.notifier.close()

    def refresh(
        self, changed_paths: Collection[str] | None = None, *, save_state: bool = True
    ) -> list[str]:
        """Reload changed files, publish what changed; returns the feed URLs whose bytes changed.

        ``changed_paths``, from the watcher, lets the store rescan only where files changed.
        Without ``save_state``, the caller merges the journal into the state file when it is
        due (:meth:`save_state_if_due`), after what it has to do first.
        """
        with self._refresh_lock:
            report = self.content.reload(changed_paths)
            if report.catalog is self.publication.catalog:
                if save_state:
                    self.save_state_if_due()  # the watcher calls this often
                return []
            publication, changed = Publication.build(
                report.catalog, self.settings, self.publication, report.changed_at
            )
            self.publication = publication
            self.published_at = datetime.now(UTC)
            if save_state:
                self.save_state_if_due()
        if changed:
            log.info("content changed: %d feed pages re-rendered", len(changed))
            if self.notifier is not None:
                self.notifier.publish(changed)
        return changed

    def health(self, *, full: bool = False) -> dict[str, Any]:
        """What /healthz reports: enough to see at a glance whether content loads and reloads.

        ``status`` is "degraded", with ``reasons``, while a folder cannot be read (the feeds
        are then served from what was last read from it), while the watcher is not running in
        this process although watching is on, or when the last reload failed. Problems are
        counted, and only the first few are listed unless ``full`` (``python -m feedsvc
        check`` and the log have them all); the answer is kept until the next reload.
        """
        catalog = self.catalog
        watcher = self.watcher.status() if self.watcher is not None else None
        unreadable = self.content.store.folder_problems
        key = (unreadable, watcher, self.published_at, full)
        cached = self._health
        # The catalog by identity: comparing two catalogs would compare every article.
        if cached is not None and cached[0] is catalog and cached[1] == key:
            return cached[2]
        shown = None if full else HEALTH_PROBLEMS_SHOWN
        rejected = catalog.rejected
        reasons = [f"cannot read {p.path}: {p.message}" for p in unreadable[:shown]]
        if watcher is not None and not watcher.running:
            reasons.append("the content watcher is not running in this process")
        if watcher is not None and watcher.problem:
            reasons.append(watcher.problem)
        last_ok = watcher.last_reload_ok if watcher is not None else None
        report = {
            "status": "degraded" if reasons else "ok",
            "reasons": reasons,
            "unreadable": [{"path": p.path, "message": p.message} for p in unreadable[:shown]],
            "articles": len(catalog.articles),
            "feeds": len(catalog.feeds),
            "rejected_count": len(rejected),
            "rejected": [
                {"path": p.path, "line": p.line, "message": p.message} for p in rejected[:shown]
            ],
            "warnings": len(catalog.problems) - len(rejected),
            "content_loaded_at": self.content.store.loaded_at.isoformat(timespec="seconds"),
            "published_at": self.published_at.isoformat(timespec="seconds"),
            "last_reload_ok_at": last_ok.isoformat(timespec="seconds") if last_ok else None,
            "watching": self.watcher is not None,
            "watch_established": watcher.established if watcher is not None else False,
            "pid": os.getpid(),
        }
        self._health = (catalog, key, report)
        return report


def _save_at_exit(runtime: weakref.ref[Runtime]) -> None:
    alive = runtime()
    if alive is not None:
        alive.save_state()

"""The running publisher: the store, its current publication, live reload and WebSub pings.

A reload builds a complete new :class:`Publication` off to the side and then replaces the old
one with a single reference assignment, so a request, which reads ``publication`` once, never
sees half-updated feeds or an ETag that does not belong to its body. Knows nothing of HTTP.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from feedsvc.articles.watcher import ContentWatcher
from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.live import LiveCatalog
from feedsvc.feeds.publication import Publication
from feedsvc.settings import Settings
from feedsvc.websub import HubNotifier

log = logging.getLogger(__name__)


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
        self.publication, _ = Publication.build(content.catalog, settings)
        self.published_at = datetime.now(UTC)
        self._refresh_lock = threading.Lock()
        self.watcher = (
            ContentWatcher(settings.content_dir, self.refresh) if settings.watch_content else None
        )
        self.notifier = (
            HubNotifier(
                settings.websub_hub, lock_name=f"{settings.content_dir}|{settings.site_url}"
            )
            if settings.websub_hub
            else None
        )

    @property
    def catalog(self) -> Catalog:
        return self.publication.catalog

    def start_watching(self) -> None:
        """Watch the content folder from this process on (if the settings say to); idempotent.

        Threads do not survive a fork: a server that forks calls this in each child (gunicorn's
        ``post_worker_init`` hook, :mod:`feedsvc.gunicorn_conf`). Reloads once before returning,
        so what the process serves next is no older than the call.
        """
        if self.watcher is None:
            return
        self.watcher.ensure_running()
        log.info("watching %s for changes", self.settings.content_dir)

    def refresh(self, changed_paths: Collection[str] | None = None) -> list[str]:
        """Reload changed files, publish what changed; returns the feed URLs whose bytes changed.

        ``changed_paths``, from the watcher, lets the store rescan only where files changed.
        """
        with self._refresh_lock:
            report = self.content.reload(changed_paths)
            if report.catalog is self.publication.catalog:
                return []
            publication, changed = Publication.build(
                report.catalog, self.settings, self.publication, report.changed_at
            )
            self.publication = publication
            self.published_at = datetime.now(UTC)
        if changed:
            log.info("content changed: %d feed pages re-rendered", len(changed))
            if self.notifier is not None:
                self.notifier.publish(changed)
        return changed

    def health(self) -> dict[str, Any]:
        """What /healthz reports: enough to see at a glance whether content loads cleanly.

        ``status`` is "degraded" while a folder cannot be read: the feeds are then served from
        what was last read from it, and ``unreadable`` says which folder and why.
        """
        catalog = self.catalog
        rejected = catalog.rejected
        unreadable = self.content.store.folder_problems
        return {
            "status": "degraded" if unreadable else "ok",
            "unreadable": [{"path": p.path, "message": p.message} for p in unreadable],
            "articles": len(catalog.articles),
            "feeds": len(catalog.feeds),
            "rejected": [{"path": p.path, "line": p.line, "message": p.message} for p in rejected],
            "warnings": len(catalog.problems) - len(rejected),
            "content_loaded_at": self.content.store.loaded_at.isoformat(timespec="seconds"),
            "published_at": self.published_at.isoformat(timespec="seconds"),
            "watching": self.watcher is not None,
            "pid": os.getpid(),
        }

"""The running publisher: the store, its current publication, live reload and WebSub pings.

A reload builds a complete new :class:`Publication` off to the side and then replaces the old
one with a single reference assignment, so a request, which reads ``publication`` once, never
sees half-updated feeds or an ETag that does not belong to its body. Knows nothing of HTTP.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from typing import Any

from feedsvc.catalog import Catalog
from feedsvc.publication import Publication
from feedsvc.settings import Settings
from feedsvc.store import ContentStore
from feedsvc.watcher import ContentWatcher
from feedsvc.websub import HubNotifier

log = logging.getLogger(__name__)


class FeedService:
    """Owns the content store and the publication requests are answered from."""

    def __init__(self, settings: Settings, store: ContentStore) -> None:
        self.settings = settings
        self.store = store
        self.publication, _ = Publication.build(store.catalog, settings)
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

    def ensure_watching(self) -> None:
        """Start watching the content folder in this process (each gunicorn worker has its own)."""
        if self.watcher is not None:
            self.watcher.ensure_running()

    def refresh(self) -> list[str]:
        """Reload changed files, publish what changed; returns the feed URLs whose bytes changed."""
        with self._refresh_lock:
            report = self.store.reload()
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
        """What /healthz reports: enough to see at a glance whether content loads cleanly."""
        catalog = self.catalog
        rejected = catalog.rejected
        return {
            "status": "ok",
            "articles": len(catalog.articles),
            "feeds": len(catalog.feeds),
            "rejected": [{"path": p.path, "line": p.line, "message": p.message} for p in rejected],
            "warnings": len(catalog.problems) - len(rejected),
            "content_loaded_at": self.store.loaded_at.isoformat(timespec="seconds"),
            "published_at": self.published_at.isoformat(timespec="seconds"),
            "watching": self.watcher is not None,
            "pid": os.getpid(),
        }

"""The catalog of a content folder, kept current: reload the store, then update or rebuild.

The store says which articles changed; :func:`update_catalog` applies that in time that grows
with the change, and a full :func:`build_catalog` over the store's snapshot covers what it
cannot (large changes, clashing ids, a category renamed by its most common spelling).
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from feedsvc.articles.store import ContentStore, LoadReport, collector_paused
from feedsvc.feeds.catalog import Catalog, build_catalog, update_catalog


@dataclass(frozen=True, slots=True)
class CatalogReload:
    """What a reload did, and the catalog it left."""

    catalog: Catalog
    load: LoadReport

    @property
    def changed(self) -> bool:
        return self.load.changed

    @property
    def changed_at(self) -> datetime | None:
        return self.load.changed_at

    @property
    def files_seen(self) -> int:
        return self.load.files_seen

    @property
    def files_parsed(self) -> int:
        return self.load.files_parsed


class LiveCatalog:
    """A :class:`ContentStore` and the catalog of its articles, replaced whole on each change."""

    def __init__(self, store: ContentStore, site_title: str) -> None:
        self.store = store
        self.site_title = site_title
        self._catalog = build_catalog(site_title, ())
        self._lock = threading.Lock()

    @property
    def catalog(self) -> Catalog:
        """The current catalog; replaced whole by a reload, never modified in place."""
        return self._catalog

    def reload(self, changed_paths: Collection[str] | None = None) -> CatalogReload:
        """Reload the store (:meth:`ContentStore.reload`), and the catalog if anything changed."""
        with self._lock:
            if self.store.loaded_once:
                return self._reload(changed_paths)
            # The first load and the catalog of it make most of what the process will hold.
            with collector_paused():
                return self._reload(changed_paths)

    def _reload(self, changed_paths: Collection[str] | None) -> CatalogReload:
        load = self.store.reload(changed_paths)
        if load.changed:
            self._catalog = self._next(load)
        return CatalogReload(self._catalog, load)

    def _next(self, load: LoadReport) -> Catalog:
        if load.change is not None:
            updated = update_catalog(
                self._catalog, load.change.removed, load.change.added, self.store.problems()
            )
            if updated is not None:
                return updated
        snapshot = self.store.snapshot()
        return build_catalog(self.site_title, snapshot.articles, snapshot.problems)

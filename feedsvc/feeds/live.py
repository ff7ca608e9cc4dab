"""The catalog of a content folder, kept current: reload the store, then update or rebuild.

The store says which articles changed; :func:`update_catalog` applies that in time that grows
with the change, and a full :func:`build_catalog` over the store's snapshot covers what it
cannot (large changes, clashing ids, a category renamed by its most common spelling). The
last updates are remembered (:meth:`LiveCatalog.changed_ids`), so that what is derived from
one catalog can be brought up to date for a later one by what changed, not by looking at
every article again.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
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


# Updates remembered for changed_ids: more than a watcher's rescans between two exports.
KEPT_UPDATES = 64


@dataclass(frozen=True, slots=True)
class _Update:
    """One catalog made from the one before by :func:`update_catalog`: the ids of the
    articles that were removed, added or replaced. The catalogs are weak references: what
    asks about a catalog keeps it."""

    before: weakref.ref[Catalog]
    after: weakref.ref[Catalog]
    ids: frozenset[str]


class LiveCatalog:
    """A :class:`ContentStore` and the catalog of its articles, replaced whole on each change."""

    def __init__(self, store: ContentStore, site_title: str) -> None:
        self.store = store
        self.site_title = site_title
        self._catalog = build_catalog(site_title, ())
        self._lock = threading.Lock()
        self._updates: deque[_Update] = deque(maxlen=KEPT_UPDATES)

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

    def changed_ids(self, since: Catalog, now: Catalog) -> frozenset[str] | None:
        """The ids of the articles that ``now`` has other than ``since`` has (removed, added
        or replaced), if ``now`` was made from ``since`` by the last updates; None if that is
        not known (a full build came between, or more updates than are remembered)."""
        if since is now:
            return frozenset()
        with self._lock:
            updates = {id(u.after()): u for u in self._updates if u.after() is not None}
        ids: set[str] = set()
        catalog: Catalog | None = now
        while catalog is not since:
            update = updates.pop(id(catalog), None)
            if update is None or update.after() is not catalog:
                return None
            ids.update(update.ids)
            catalog = update.before()
        return frozenset(ids)

    def _next(self, load: LoadReport) -> Catalog:
        if load.change is not None:
            updated = update_catalog(
                self._catalog, load.change.removed, load.change.added, self.store.problems()
            )
            if updated is not None:
                ids = {a.id for a in load.change.removed} | {a.id for a in load.change.added}
                self._updates.append(
                    _Update(weakref.ref(self._catalog), weakref.ref(updated), frozenset(ids))
                )
                return updated
        snapshot = self.store.snapshot()
        self._updates.clear()  # a full build: what came before cannot be followed through it
        return build_catalog(self.site_title, snapshot.articles, snapshot.problems)

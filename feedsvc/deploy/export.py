"""The static export: every page of the site as a file, as the service serves it, for nginx or
a CDN.

Every file is produced by the app itself (its test client), so the bytes are the service's for
the same URL; for what the service compresses, the ``.gz`` and ``.br`` siblings are its own
compressed bytes too, and anything else that is text is compressed here the same way. The
layout of ``OUTDIR``::

    public                  a symbolic link to the current generation, generations/N
    generations/N/          the site: index.html, feeds/all.rss, feeds/all.page2.rss, ...
    nginx/feedsvc.conf      the nginx server configuration for public (see feedsvc.deploy.nginx)
    export-manifest.json    the files of public the export wrote (and so may leave out), as of
                            the generation it names; export-changes/N: what each export since
                            wrote or removed (see read_manifest)
    spare/K                 trees an edit's export is built in (see feedsvc.deploy.generations)

Exports are exclusive and atomic (:mod:`feedsvc.deploy.generations`): one export at a time
writes OUTDIR, into a new generation, and ``public`` is switched to it in one rename, so a
reader (nginx, rsync) sees the old site or the new one, never a mix, and a killed export leaves
the old site in place. A file whose bytes did not change is a hard link to the one before,
so an export writes only what changed; an edit's export starts from a spare tree that is
brought up to date path by path, so its cost follows what the edit touched, not the site's
size. A process that exports again (``--watch``) asks the app
only for the pages whose key changed (see :mod:`feedsvc.deploy.sitemap`) and links the rest.

Each file's mtime is the Last-Modified the service sends for it (or, for pages without one, when
their bytes last changed), and a file whose bytes changed always gets a later mtime than before,
because nginx derives both its ETag and its Last-Modified from the mtime and size. The service
keeps the date of bytes it published before (its state file), so an unchanged file keeps its
date across exports and processes; one whose date differs is written again, not linked.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import json
import logging
import multiprocessing
import multiprocessing.pool
import os
import resource
import sys
import tempfile
import time
from collections import deque
from collections.abc import Generator, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from multiprocessing.pool import AsyncResult
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from werkzeug.datastructures import Headers
from werkzeug.http import parse_date
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response

from feedsvc.articles.model import Body
from feedsvc.deploy.generations import (
    ADDED,
    REMOVED,
    Build,
    Generations,
    exclusive,
    remove_file,
)
from feedsvc.deploy.nginx import (
    BROTLI_MODULE,
    FeedLocation,
    NginxSite,
    RouteProfile,
    VersionedFile,
    render_server_config,
)
from feedsvc.deploy.sitemap import (
    SiteChanges,
    SiteListing,
    SitePage,
    endpoint_of,
    uncovered_endpoints,
)
from feedsvc.feeds.builder import keep_entries_at_most
from feedsvc.feeds.compression import BROTLI, GZIP, IDENTITY, compress
from feedsvc.feeds.document import IdentityCache
from feedsvc.feeds.urls import FEEDS_PREFIX, feed_path
from feedsvc.feeds.writers import FORMATS
from feedsvc.feeds.writers.browserview import keep_items_at_most
from feedsvc.feeds.writers.splice import EntryBytes
from feedsvc.runtime import Runtime
from feedsvc.web.crawlers import _cache_lock as crawlers_cache_lock
from feedsvc.web.fastpath import FastPath
from feedsvc.web.pagecache import PAGE_CACHE, SERVED_PAGE, ServedPage
from feedsvc.web.routes import STATIC_VERSIONS

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

PUBLIC_DIR = "public"
NGINX_DIR = "nginx"
NGINX_CONF = "feedsvc.conf"
MANIFEST = "export-manifest.json"
MANIFEST_VERSION = 2
# An edit's export records what it changed in export-changes/N, and the lists are dropped
# once the manifest is written again. Writing it lists every file (about half a second at
# 100,000 articles), so it is written again after the lists since it name this many paths
# (or a quarter of the files, if more): a long ``--watch`` keeps a bounded number of lists,
# at a cost per edit that does not grow with the site.
MANIFEST_REWRITE_PATHS = 20_000
SIBLINGS = {GZIP: ".gz", BROTLI: ".br"}
FEED_ENDPOINT = "feedsvc.feed"
# Routes whose pages get no compressed siblings: nginx compresses them when one is asked for
# (gzip, in their locations). An article page is read rarely, each by few readers, and there
# is one per article: compressing 100,000 of them twice costs more than the first export's
# target, for files that are mostly never sent compressed. Feeds (polled by every reader) and
# the listing pages keep theirs. Figures: docs/performance.md, "Which pages get compressed
# siblings".
COMPRESSED_ON_THE_FLY = frozenset({"feedsvc.article"})
# What a browser sends when it follows a link: the service labels feeds differently for it.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Headers that belong to one response (or that nginx makes itself), not to a route.
_PER_RESPONSE = frozenset(
    {
        "accept-ranges",
        "content-disposition",
        "content-encoding",
        "content-length",
        "content-type",
        "date",
        "etag",
        "last-modified",
        "link",
        "location",
        "vary",
    }
)
_COMPRESSIBLE_SUFFIXES = ("+xml", "+json", "/xml", "/json", "/javascript", "/x-opml")
# Levels for the siblings the export compresses itself (pages the service sends uncompressed),
# chosen from bench/compression_levels.py on exported pages (docs/performance.md): gzip 4 is
# 7% larger than 6 at a quarter of its time, brotli 5 within 2% of 6 and 9 at a fraction of
# theirs; brotli 11 costs 30x brotli 5 for 11% fewer bytes, on pages rewritten at every edit.
# gzip by libdeflate, as the service's (feedsvc.feeds.compression): on the webmasters' pages
# (27 KB) level 4 took 0.09 ms a page against zlib's 0.19, for 0.184 against 0.185 of the
# bytes (bench/results/compression-levels-da4cd04-20261201T001506Z.json).
STATIC_GZIP_LEVEL = 4
STATIC_BROTLI_QUALITY = 5
# Below this many bytes a compressed sibling saves less than one TCP segment: no siblings,
# nginx serves the page itself (gzip_static/brotli_static fall back to it).
MIN_SIBLING_BYTES = 1024
# From this many pages to render on, they are rendered by a pool of forked processes, one per
# core; fewer are not worth a fork (an edit's export renders a handful).
POOL_MIN_PAGES = 200
# A forked renderer is replaced by a fresh fork once it has written to this much memory, or
# rendered this many pages. It copies every page of memory it writes to, and it writes to every
# object it touches (reference counts): kept for the whole export, each would end up with a
# copy of the whole content (890 MB each at 100,000 articles). The count of pages is for where
# the memory cannot be read; each fork costs CPU (the pages it writes to are copied again).
# Figures: docs/performance.md, "Export memory".
RENDERER_MEMORY_MB = 96.0
RENDERER_PAGES = 5000
# What a renderer keeps of what it made (parsed bodies, feed entries; pages): enough for the
# formats and codings of the page at hand, which are rendered one after the other.
RENDERER_KEPT_ARTICLES = 256
RENDERER_KEPT_PAGES = 4
# The bytes of feed entries, with their items in the browser view, a renderer keeps per format
# (feedsvc.feeds.writers.splice): they are what a renderer writes to most, so they count against
# RENDERER_MEMORY_MB.
RENDERER_ENTRY_BYTES = 16 * 1024 * 1024
# The list items of feeds' browser views a renderer keeps (feedsvc.feeds.writers.browserview),
# about 1-2 KB each: with feed pages given out by date (_render_order), most of an article's
# items are found again.
RENDERER_VIEW_ITEMS = 4096
# The articles whose feed entries a renderer keeps (feedsvc.feeds.builder: the body as HTML and
# an entry per format, 3-5 KB each), more than it keeps of anything else it made: with feed
# pages given out by date, an article's entries are asked for again on the pages of its other
# feeds, and making them again parses the body and writes it as HTML. Figures:
# docs/performance.md, "Feed pages given out by date".
RENDERER_KEPT_ENTRIES = 2048
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# Whether the export gives the free pages of its C heap back before it forks a pool of
# renderers (see _release_free_memory). A setting for bench/export_memory_probe.py's --set.
TRIM_BEFORE_FORK = True
_POOL_CHUNK = 8  # pages per task: the pages of one feed are neighbours and share its rendering
_CHUNKS_IN_FLIGHT = 4  # per worker
_PROGRESS_EVERY_S = 0.25
_PROGRESS_WIDTH = 30


class ExportError(Exception):
    """The site cannot be exported as it is (a page failed, a path is not a safe file name)."""


@dataclass(frozen=True, slots=True)
class NginxOptions:
    """Where and how the generated server configuration serves the tree."""

    listen: str = "80"
    root: Path | None = None  # the tree as the server sees it; default: OUTDIR/public
    brotli: bool | None = None  # None: if Debian's brotli_static module is installed here


@dataclass(slots=True)
class ExportReport:
    """What one export did, counted in files (``.gz`` and ``.br`` siblings included)."""

    pages: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    rendered: int = 0  # pages asked of the app; fewer than pages after a small change
    seconds: float = 0.0
    uncovered: tuple[str, ...] = ()
    nginx_changed: bool = False  # the configuration was written anew: nginx needs a reload
    # Absolute URLs of feeds whose first page was there and changed: what a WebSub hub needs
    # to hear about once the files are where subscribers fetch them.
    changed_feeds: list[str] = field(default_factory=list)
    # Seconds of each step (listing, planning, rendering and writing, ...), for the log: where
    # an edit's export goes.
    steps: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        """``exported 1234 pages: 12 files written, 3690 unchanged, 0 removed (2.14 s)``."""
        return (
            f"exported {self.pages} pages: {self.written} files written, {self.unchanged} "
            f"unchanged, {self.removed} removed ({self.seconds:.2f} s)"
        )


@dataclass(frozen=True, slots=True)
class _Answered:
    """What a page's answer says of it besides its bytes: the date its files get, and what
    the nginx configuration serves its type of file with."""

    last_modified: int | None
    headers: dict[str, str]  # the route's own (see _route_headers)
    vary: str | None
    content_type: str
    extension: str  # of the page's own file


@dataclass(slots=True)
class _Rendered:
    """One page as the app answered it, with its files."""

    page: SitePage
    endpoint: str
    files: dict[str, bytes]  # relpath -> bytes, the page's own file first, then its siblings
    answered: _Answered


@dataclass(slots=True)
class _Written:
    """A page rendered and its files put into the new generation (:meth:`SiteExporter._write_page`,
    in the process that rendered it): what the export's own process needs of it, the names of
    its files without their bytes."""

    page: SitePage
    endpoint: str
    files: tuple[str, ...]  # as _Rendered.files names them: the page's own file first
    written: tuple[bool, ...]  # per file: written, else linked or left as it was
    feed_changed: bool  # a feed's first page, whose file replaced one with other bytes
    answered: _Answered


@dataclass(slots=True)
class _Plan:
    """What one export renders and what it keeps."""

    todo: list[SitePage] = field(default_factory=list)  # to render, leaves first
    kept: list[SitePage] = field(default_factory=list)  # unchanged: their files are linked
    paths: set[str] = field(default_factory=set)  # every page's path


class SiteExporter:
    """Writes the site of ``app`` to ``outdir`` and keeps it up to date (:meth:`export`)."""

    def __init__(self, app: Flask, outdir: Path, nginx: NginxOptions | None = None) -> None:
        self.app = app
        self.service: Runtime = app.extensions["feedsvc"]
        self.outdir = outdir
        self.public = outdir / PUBLIC_DIR
        self.nginx = nginx or NginxOptions()
        self._generations = Generations(outdir, PUBLIC_DIR)
        self._owned: set[str] = set()  # the files of the current generation the export wrote
        self._published: str | None = None  # the generation this process published last
        self._current: Path | None = None  # while exporting: the generation before
        self._new = outdir  # while exporting: the generation being built
        self._folders: set[str] = set()  # folders of the new generation made so far
        self._reused = False  # while exporting: the new generation started as a copy
        self._folder_dates: dict[str, int] = {}  # folder of the current generation -> mtime
        self._manifest_generation = 0  # the generation export-manifest.json lists
        self._paths_since_manifest = 0  # paths the change lists since it name
        self._nginx_site: NginxSite | None = None  # what nginx/feedsvc.conf was written from
        self._keys: dict[str, Hashable] = {}  # page path -> key, as last exported here
        self._listing = SiteListing(app)  # the pages as last exported here
        # _versioned_files, with the versions and static files it was found for.
        self._versioned: tuple[object, tuple[SitePage, ...], tuple[VersionedFile, ...]] | None
        self._versioned = None
        # _feed_locations, with the catalog's feed paths it was made for.
        self._locations: tuple[frozenset[str], tuple[FeedLocation, ...]] | None = None
        self._page_files: dict[str, _PageFiles] = {}  # page path -> its files (_files_of)
        self._profiles: dict[str, _RouteSeen] = {}
        self._chmod = True  # while exporting: whether new files need a chmod to be 0644
        self._now = 0  # while exporting: the date of new bytes without a Last-Modified

    # -- the export ---------------------------------------------------------------------------

    def export(self) -> ExportReport:
        """Bring OUTDIR up to date with the app's current content; returns what it did.

        Takes OUTDIR's lock (:class:`ExportBusyError` if another export holds it), builds a new
        generation and publishes it in one step (see :mod:`feedsvc.deploy.generations`). The
        first export of a process asks the app for every page; later ones only for the pages
        whose key changed since (see :mod:`feedsvc.deploy.sitemap`), the others are hard links
        to the files of the generation before. Pages are rendered and written one at a time,
        so memory does not grow with the site.
        """
        with exclusive(self.outdir):
            current = self._generations.current()
            first = current is None or current.name != self._published
            if first:
                # First export of this process, or another process published since: what
                # this one remembers of the tree is not what is there.
                self._keys.clear()
                self._page_files.clear()
                self._folder_dates.clear()
                self._nginx_site = None
                self._owned = self._load_manifest(current)
            # A spare tree can be reused only if the current one is what this process left:
            # a file someone else put in (or took out) changes its folder's mtime.
            build = self._generations.begin(reuse=not first and self._folders_untouched(current))
            if not build.reused:
                # Every page is listed: the new tree gets a link to each kept page's files.
                self._listing.reset()
            try:
                report = self._export_into(current, build)
            except BaseException:
                self._listing.reset()  # what it listed was not exported: list it all again
                self._generations.abandon(build)
                raise
        return report

    def _export_into(self, current: Path | None, build: Build) -> ExportReport:
        started = time.monotonic()
        new = build.path
        self._current, self._new, self._reused = current, new, build.reused
        self._folders = {str(new)}
        self._chmod = _umask_clears(0o644)
        clock = _Steps(started)
        listed = self._listing.changes()
        report = ExportReport(pages=listed.count, steps=clock.steps)
        clock.lap("listing")
        if not self._keys:  # the first export of this process (routes do not change later)
            report.uncovered = tuple(sorted(uncovered_endpoints(self.app, listed.pages)))
            for endpoint in report.uncovered:
                log.warning("no page of the content is served by route %s", endpoint)
        plan = self._plan(listed)
        clock.lap("plan")
        produced: set[str] = set()  # files put into the new generation by this export
        if not build.reused:
            self._link_kept(plan, produced, report)
            clock.lap("link")
        report.rendered = len(plan.todo)
        profiles = {endpoint: seen.copy() for endpoint, seen in self._profiles.items()}
        # relpath -> ADDED or REMOVED, what readers will see change; into an empty tree, every
        # file is new to it, and the list is made from ``produced`` when it is written.
        changes: dict[str, str] = {}
        page_files, dropped = self._write_pages(
            plan.todo, profiles, produced=produced, changes=changes, report=report
        )
        clock.lap("render")
        if listed.complete:
            gone_pages = self._keys.keys() - plan.paths
        else:
            gone_pages = {p for p in listed.gone if p in self._keys and p not in plan.paths}
        removed = self._remove_left_over(build, (gone_pages, page_files), dropped, produced, report)
        report.removed = len(removed)
        changes.update(dict.fromkeys(removed, REMOVED))
        self._profiles = profiles
        clock.lap("remove")
        report.nginx_changed = self._write_nginx_config()
        clock.lap("nginx")
        self._publish(build, changes, produced, removed)
        clock.lap("publish")
        self._remember(plan.todo, page_files, gone_pages)
        report.seconds = time.monotonic() - started
        log.info("export steps: %s", clock)
        return report

    def _write_pages(
        self,
        todo: list[SitePage],
        profiles: dict[str, _RouteSeen],
        *,
        produced: set[str],
        changes: dict[str, str],
        report: ExportReport,
    ) -> tuple[dict[str, _PageFiles], set[str]]:
        """Render the pages of ``todo`` and put their files into the new generation; returns
        the files of each, and the files they had before and no longer have."""
        page_files: dict[str, _PageFiles] = {}
        dropped: set[str] = set()
        self._now = int(time.time())
        progress = _Progress(len(todo))
        pages = self._render_all(*self._render_order(todo))
        # Closed on an error here too, so the renderers, which write into the new generation,
        # have stopped before it is abandoned.
        with contextlib.closing(pages):
            for written in pages:
                page = written.page
                progress.step()
                self._learn_profile(written, profiles)
                self._count_written(written, produced=produced, changes=changes, report=report)
                page_files[page.path] = _page_files(page, written.files)
                had = _files_of(page.path, self._page_files.get(page.path, ()))
                dropped.update(relpath for relpath in had if relpath not in written.files)
        progress.done()
        return page_files, dropped

    def _write_page(self, rendered: _Rendered) -> _Written:
        """Put a rendered page's files (siblings first) into the new generation, in the process
        that rendered it (a forked renderer, or this one): only the names of the files and
        what became of them go on to :meth:`_count_written`, never their bytes. Taking every
        page's bytes through the pool's pipes and writing every file, the export's own process
        kept the renderers waiting for it, on a machine with as many cores as renderers."""
        page = rendered.page
        mtime = self._mtime_for(rendered, self._now)
        had = _files_of(page.path, self._page_files.get(page.path, ()))
        written: dict[str, bool] = {}
        changed = False
        # What a WebSub hub is told of: feeds (no HTML page is a topic), by their first page
        # (the URL subscribers follow; no ?page=N).
        topic = rendered.endpoint == FEED_ENDPOINT and "?" not in page.path
        for relpath, data in sorted(rendered.files.items(), key=_siblings_first):
            if self._reused and relpath in self._owned and relpath not in had:
                raise ExportError(f"two pages would be written to {relpath}")
            written[relpath], replaced = self._write(relpath, data, mtime)
            if replaced and topic and relpath == file_for(page.path):
                changed = True
        return _Written(
            page=page,
            endpoint=rendered.endpoint,
            files=tuple(rendered.files),
            written=tuple(written[relpath] for relpath in rendered.files),
            feed_changed=changed,
            answered=rendered.answered,
        )

    def _count_written(
        self,
        page: _Written,
        *,
        produced: set[str],
        changes: dict[str, str],
        report: ExportReport,
    ) -> None:
        """Count a written page's files; of a reused tree, each is added to ``produced`` (into
        an empty one, :meth:`_remove_left_over` adds them once the renderers are done: there,
        a second page's file cannot be made where another's is, see :meth:`_write`)."""
        for relpath, written in zip(page.files, page.written, strict=True):
            if self._reused:
                # Two renderers may both have written it: the build is abandoned.
                if relpath in produced:
                    raise ExportError(f"two pages would be written to {relpath}")
                produced.add(relpath)
                if written:
                    changes[relpath] = ADDED
                    # Made by a renderer, perhaps: remembered for _note_folders.
                    self._folders.add(os.path.dirname(f"{self._new}/{relpath}"))
            report.written += written
            report.unchanged += not written
        if page.feed_changed:
            report.changed_feeds.append(self.service.settings.url(page.page.path))

    def _remember(
        self,
        rendered: list[SitePage],
        page_files: dict[str, _PageFiles],
        gone_pages: Iterable[str],
    ) -> None:
        """What the generation just published holds: each page's key and files."""
        for page in rendered:
            self._keys[page.path] = page.key
            self._page_files[page.path] = page_files[page.path]
        for path in gone_pages:
            del self._keys[path]
            del self._page_files[path]

    def _publish(
        self, build: Build, changes: dict[str, str], produced: set[str], removed: set[str]
    ) -> None:
        """Switch to the new generation, then remember what it holds."""
        if build.reused:
            self._generations.publish(build, changes)
        else:
            # Every file of an empty tree is new to it (linked or written); only a reader of
            # the list that missed the manifest after it needs it (see read_manifest).
            listed = ((relpath, ADDED) for relpath in produced)
            self._generations.publish(build, chain(listed, changes.items()))
        if build.reused:
            self._owned -= removed
            self._owned |= produced
            self._paths_since_manifest += len(changes)
            if self._paths_since_manifest >= max(MANIFEST_REWRITE_PATHS, len(self._owned) // 4):
                self._save_manifest(build.number)  # after the switch: no reader waits for it
        else:
            self._owned = produced
            self._save_manifest(build.number)
        self._generations.forget_changes(self._manifest_generation)
        self._published = build.path.name
        self._note_folders(build)

    def _link_kept(self, plan: _Plan, produced: set[str], report: ExportReport) -> None:
        """Into an empty tree: every kept page's files, as links to the current ones."""
        for page in plan.kept:
            files = _files_of(page.path, self._page_files[page.path])
            linked = 0
            while linked < len(files) and self._link(files[linked]):
                linked += 1
            if linked == len(files):
                produced.update(files)
                report.unchanged += len(files)
                continue
            # A file of it went missing from the tree: the page is rendered again, into a
            # tree without the files of it linked before the missing one was found.
            for relpath in files[:linked]:
                os.unlink(f"{self._new}/{relpath}")
            plan.todo.append(page)

    def _remove_left_over(
        self,
        build: Build,
        pages: tuple[Iterable[str], dict[str, _PageFiles]],
        dropped: set[str],
        produced: set[str],
        report: ExportReport,
    ) -> set[str]:
        """The files of the current generation the new one no longer has; out of a reused
        tree, they are removed (an empty tree never had them, but gets the files of others).
        ``pages``: the paths of the pages gone, and the files of each page rendered.

        Into an empty tree, the files of the pages rendered are added to ``produced`` here,
        once the renderers are done: a first export of 100,000 articles held the names of
        its 250,000 files as they came from the renderers, 40 MB in the process whose
        memory they all share (bench/export_tracemalloc.py). Two pages of the same file
        cannot both be put into an empty tree: the second fails to make it.
        """
        gone_pages, page_files = pages
        if not build.reused:
            for path, record in page_files.items():
                produced.update(_files_of(path, record))
            self._carry_foreign_files(produced)
            return self._owned - produced
        removed = {f for path in gone_pages for f in _files_of(path, self._page_files[path])}
        removed |= dropped
        removed -= produced
        for relpath in removed:
            remove_file(build.path, relpath)
        files_after = len(self._owned) - len(removed) + len(produced - self._owned)
        report.unchanged = files_after - report.written
        return removed

    def _carry_foreign_files(self, produced: set[str]) -> None:
        """Files someone else put into the tree (a robots.txt) stay, in the new generation too."""
        if self._current is None:
            return
        top = str(self._current)
        for directory, _, filenames in os.walk(top):
            prefix = directory[len(top) + 1 :]
            for name in filenames:
                relpath = f"{prefix}/{name}" if prefix else name
                if relpath not in self._owned and relpath not in produced:
                    self._link(relpath)

    def _note_folders(self, build: Build) -> None:
        """Remember the mtime of every folder of the generation just published, to tell at the
        next export whether anyone else changed it (:meth:`_folders_untouched`)."""
        top = str(build.path)
        if build.reused:
            folders = set(self._folder_dates)
            for folder in self._folders:  # made by this export, and the folders above them
                relative = str(folder)[len(top) + 1 :]
                while relative and relative not in folders:
                    folders.add(relative)
                    relative = os.path.dirname(relative)
            folders.add("")
        else:
            folders = {directory[len(top) + 1 :] for directory, _, _ in os.walk(top)}
        dates: dict[str, int] = {}
        for relative in folders:
            try:
                dates[relative] = os.stat(f"{top}/{relative}" if relative else top).st_mtime_ns
            except (FileNotFoundError, NotADirectoryError):
                continue  # removed when it was left empty
        self._folder_dates = dates

    def _folders_untouched(self, current: Path | None) -> bool:
        if current is None or not self._folder_dates:
            return False
        top = str(current)
        for relative, mtime in self._folder_dates.items():
            try:
                if os.stat(f"{top}/{relative}" if relative else top).st_mtime_ns != mtime:
                    log.info("%s/%s was changed by someone else: a full rebuild", top, relative)
                    return False
            except OSError:
                return False
        return True

    def _plan(self, listed: SiteChanges) -> _Plan:
        """Which pages to render (new, or their key changed), leaves first; which files stay
        (of the pages listed: after an edit, only those it can have changed)."""
        plan = _Plan()
        for page in listed.pages:  # listed leaves first
            if page.path in plan.paths:
                raise ExportError(f"the page {page.path} is listed twice")
            plan.paths.add(page.path)
            previous = self._keys.get(page.path, _MISSING)
            # "is" first: an article's == compares every field, and most keys are the same
            # objects as last time.
            if previous is page.key or (previous is not _MISSING and previous == page.key):
                plan.kept.append(page)
            else:
                plan.todo.append(page)
        return plan

    def _render_order(self, todo: list[SitePage]) -> tuple[list[SitePage], list[int]]:
        """The pages in the order they are given to the renderers: feed pages by the date of
        their median article, oldest first, in the places feed pages have in ``todo``; every
        other page where it is. Only for as many pages as are worth a pool. With the indexes
        of the feed pages in it, in that order (what :class:`_Dealer` cuts into ranges).

        An article is an entry on a page of several feeds (all articles, each level of its
        category, its source) in three formats, and a renderer keeps the bytes of the entries it
        wrote last (:data:`RENDERER_ENTRY_BYTES`): listed feed by feed, an article's other pages
        come only after the renderer has forgotten it. Dated, its pages come close together,
        wherever the feed; by the median article rather than the newest, a page of a sparse
        feed (one covering years) comes in the middle of its articles' dates, not after all of
        them. The order of writing is no one's concern: a reader sees the new generation only
        once it is complete. Figures: docs/performance.md, "Feed pages given out by date"
        (bench/feed_pages_bench.py).
        """
        if len(todo) < POOL_MIN_PAGES:
            return todo, []
        dates = self._feed_page_dates()
        slots = [index for index, page in enumerate(todo) if page.path in dates]
        ordered = list(todo)
        feed_pages = sorted((todo[index] for index in slots), key=lambda page: dates[page.path])
        for index, page in zip(slots, feed_pages, strict=True):
            ordered[index] = page
        return ordered, slots

    def _feed_page_dates(self) -> dict[str, tuple[float, str, str, int]]:
        """Every feed page's path, with the date (and id) of its median article, its feed and
        number: what :meth:`_render_order` sorts feed pages by."""
        catalog = self.service.publication.catalog
        size = self.service.settings.page_size
        dates: dict[str, tuple[float, str, str, int]] = {}
        for feed in catalog.feeds.values():
            count = len(feed.articles)
            for number in range(1, feed.page_count(size) + 1):
                first = (number - 1) * size
                # Newest first: the middle article (the newer of two) is the median date.
                median = feed.articles[first + (min(size, count - first) - 1) // 2]
                key = (median.published.timestamp(), median.id, feed.path, number)
                for extension in FORMATS:
                    dates[feed_path(feed, extension, number)] = key
        return dates

    def _render_all(self, todo: list[SitePage], feed: list[int]) -> Generator[_Written, None, None]:
        """The pages rendered and written, in order: here, or by one forked process per core
        for many (``feed``: the indexes of the feed pages in ``todo``, see
        :meth:`_render_order`).

        The workers are forks of this process (the app, its content and caches, the export's
        state as they are), so a page is rendered and written by the same code with the same
        data (:meth:`_write_page`); only the names of its files and its headers come back.
        """
        workers = min(os.cpu_count() or 1, 4)
        if (
            len(todo) < POOL_MIN_PAGES
            or workers < 2
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            yield from (self._write_page(self._render(page)) for page in todo)
            return
        global _WORK  # noqa: PLW0603 - what forked workers inherit, never pickled
        dealer = _Dealer(len(todo), feed, workers, _POOL_CHUNK)
        _WORK = (self, todo, dealer)
        renderers = _Renderers(workers, _render_locks(self.app))
        try:
            for _ in range(dealer.count):
                if renderers.spent:
                    # The pool is replaced only once it has finished its chunks: forked while
                    # it still worked, the new pool's workers grew beside the old ones at
                    # their largest (docs/performance.md, "A pool ends before the next").
                    while renderers.pending:
                        yield from self._adopted(todo, renderers.take())
                if not renderers.submit():
                    # Other threads kept the content busy: no fork is safe.
                    while renderers.pending:
                        yield from self._adopted(todo, renderers.take())
                    for index in dealer.rest():
                        yield self._write_page(self._render(todo[index]))
                    return
                # A few chunks per worker in flight keep every worker busy while this process
                # counts the pages before, and bound what waits here to be counted.
                while renderers.pending > _CHUNKS_IN_FLIGHT * workers:
                    yield from self._adopted(todo, renderers.take())
            while renderers.pending:
                yield from self._adopted(todo, renderers.take())
        finally:
            _WORK = None
            renderers.close()

    def _adopted(self, todo: list[SitePage], results: list[_WorkerResult]) -> Iterator[_Written]:
        """A chunk's pages as a worker rendered and wrote them; the dates it gave are kept
        here."""
        publication = self.service.publication
        for index, fields, records in results:
            publication.adopt(records)
            yield _Written(todo[index], *fields)

    def _render(self, page: SitePage) -> _Rendered:
        if page.path.startswith(FEEDS_PREFIX):
            feed = self._render_feed(page)
            if feed is not None:
                return feed
        environ = request_environ(page.path, {"Accept-Encoding": IDENTITY})
        served: list[ServedPage] = []
        environ[SERVED_PAGE] = served
        response = self._answer(environ)
        _check_status(page, response.status_code)
        body = response.get_data()
        endpoint = None
        if page.status == 200:
            endpoint = served[0].endpoint if len(served) == 1 else endpoint_of(self.app, page.path)
        relpath = file_for(page.path, page.status)
        files = {relpath: body}
        vary = response.headers.get("Vary")
        content_type = response.headers.get("Content-Type", "application/octet-stream")
        negotiated = vary is not None and "accept-encoding" in vary.lower()
        if endpoint in COMPRESSED_ON_THE_FLY:
            pass  # no siblings: nginx compresses it (the location says gzip on)
        elif negotiated and len(served) == 1:
            # A cached page (feedsvc.web.pagecache): its other codings are what a request in
            # each is sent, RenderedPage.body, without a request through Flask for each.
            for coding, suffix in SIBLINGS.items():
                files[relpath + suffix] = served[0].page.body(coding)
        elif negotiated:
            for coding, suffix in SIBLINGS.items():
                coded = self._get(page.path, {"Accept-Encoding": coding})
                if coded.headers.get("Content-Encoding") != coding:
                    raise ExportError(f"{page.path}: the app did not answer in {coding}")
                files[relpath + suffix] = coded.get_data()
        elif _compressible(content_type) and len(body) >= MIN_SIBLING_BYTES:
            files[relpath + SIBLINGS[GZIP]] = compress(body, GZIP, STATIC_GZIP_LEVEL)
            files[relpath + SIBLINGS[BROTLI]] = compress(body, BROTLI, STATIC_BROTLI_QUALITY)
        return _rendered(page, endpoint or f"error {page.status}", files, response.headers)

    def _render_feed(self, page: SitePage) -> _Rendered | None:
        """A feed page and its compressed siblings, as the service sends each: the fast path's
        answers (:meth:`FastPath.answers`, which tests/test_fastpath.py compares with the
        route's, header for header) in every coding from one look-up, rather than a request
        through the app for each coding; None where the fast path leaves the request to Flask
        or the answer is not one with siblings (then :meth:`_render` asks the app)."""
        fast = self.app.wsgi_app
        if not isinstance(fast, FastPath):
            return None
        answers = fast.answers(request_environ(page.path, {"Accept-Encoding": IDENTITY}))
        if answers is None:
            return None
        plain = answers[IDENTITY]
        headers = Headers(plain.headers)
        vary = headers.get("Vary")
        endpoint = endpoint_of(self.app, page.path)
        if (
            vary is None
            or "accept-encoding" not in vary.lower()
            or endpoint is None
            or endpoint in COMPRESSED_ON_THE_FLY
        ):
            return None
        _check_status(page, int(plain.status.partition(" ")[0]))
        relpath = file_for(page.path, page.status)
        files = {relpath: plain.body}
        for coding, suffix in SIBLINGS.items():
            coded = answers[coding]
            encodings = [v for name, v in coded.headers if name.lower() == "content-encoding"]
            if encodings != [coding]:
                raise ExportError(f"{page.path}: the app did not answer in {coding}")
            files[relpath + suffix] = coded.body
        return _rendered(page, endpoint, files, headers)

    def _get(self, path: str, headers: Mapping[str, str]) -> Response:
        """The app's answer, read whole and closed (a static file's answer holds it open).

        Werkzeug runs the app, without its test client (cookie jar, redirects, response
        wrapping): a cached article page took 270 µs of CPU through the client, 185 µs so
        (500 pages, one process), and the export asks for every file.
        """
        return self._answer(request_environ(path, headers))

    def _answer(self, environ: dict[str, Any]) -> Response:
        """The app's answer to the request ``environ`` (see :meth:`_get`)."""
        body, status, response_headers = run_wsgi_app(self.app, environ, buffered=True)
        response = Response(body, status, response_headers)
        response.get_data()
        response.close()
        return response

    # -- files --------------------------------------------------------------------------------

    def _write(self, relpath: str, data: bytes, mtime: int) -> tuple[bool, bool]:
        """Put one file into the new generation: a link to the current one's if its bytes are
        the same, else the new bytes. Returns whether it was written, and whether it replaced
        a file that was there.

        The bytes on disk are what is compared, so a file changed by anyone else is put right.
        The same bytes dated otherwise than ``mtime`` (the service's Last-Modified, which nginx
        must send too) are written again with that date rather than linked: the generation
        before keeps its file as it was.
        """
        before = self._before(relpath, len(data))
        same = before is not None and before[0] == data
        if before is not None and same and before[1] == mtime:
            if not self._reused:  # a reused tree has the current file already
                self._link(relpath)
            return False, False
        if before is not None and not same and mtime <= before[1]:
            # nginx's ETag is mtime and size: new bytes must never keep the old validators.
            # Only when the service's date is no later (its state folder was lost).
            mtime = before[1] + 1
        path = self._new_path(relpath)
        try:
            if self._reused:
                # The current generation's file, linked in: replaced, never written through.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            _create_file(path, data, mtime, chmod=self._chmod)
        except FileExistsError:
            # Another page's, made by this process or another renderer since the tree was
            # made (or, in a reused one, since the unlink above).
            raise ExportError(f"two pages would be written to {relpath}") from None
        except OSError as error:
            raise ExportError(f"{relpath}: cannot be written: {error.strerror}") from None
        return True, before is not None and not same

    def _link(self, relpath: str) -> bool:
        """Link the current generation's file into the new one; False if there is none."""
        if self._current is None:
            return False
        target = self._new_path(relpath)
        try:
            # Strings, not Path objects: an export links every unchanged file of the site.
            os.link(f"{self._current}/{relpath}", target)
        except FileNotFoundError:
            return False
        except FileExistsError:  # another page's (into an empty tree, see _write)
            raise ExportError(f"two pages would be written to {relpath}") from None
        except OSError as error:
            raise ExportError(f"{relpath}: cannot be linked: {error.strerror}") from None
        return True

    def _new_path(self, relpath: str) -> str:
        path = f"{self._new}/{relpath}"
        folder = os.path.dirname(path)
        if folder not in self._folders:
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as error:  # a page's file where another page needs a folder
                raise ExportError(
                    f"{relpath}: its folder cannot be made: {error.strerror}"
                ) from None
            self._folders.add(folder)
        return path

    def _before(self, relpath: str, size: int) -> tuple[bytes | None, int] | None:
        if self._current is None:
            return None
        return _read_if(self._current / relpath, size)

    def _mtime_for(self, rendered: _Rendered, now: int) -> int:
        """The service's Last-Modified; without one, when the page's bytes last changed."""
        if rendered.answered.last_modified is not None:
            return rendered.answered.last_modified
        relpath = file_for(rendered.page.path, rendered.page.status)
        body = rendered.files[relpath]
        before = self._before(relpath, len(body))
        if before is not None and before[0] == body:
            return before[1]  # a sibling rewritten beside an unchanged page keeps its date
        return now

    # -- manifest -----------------------------------------------------------------------------

    def _load_manifest(self, current: Path | None) -> set[str]:
        files, self._manifest_generation = read_manifest(self.outdir, current)
        return files

    def _save_manifest(self, generation: int) -> None:
        """Write the list of files the export owns in ``generation``: after a full export, and
        after the edits' exports once their change lists have grown (see
        :data:`MANIFEST_REWRITE_PATHS`); in between, an edit's export records what it changed
        in ``export-changes/N`` instead."""
        document = {
            "version": MANIFEST_VERSION,
            "generator": "feedsvc export",
            "site_url": self.service.settings.site_url,
            "generation": generation,
            "files": sorted(self._owned),
        }
        text = json.dumps(document, ensure_ascii=False, indent=0) + "\n"
        _atomic_write(self.outdir / MANIFEST, text.encode("utf-8"), None)
        self._manifest_generation = generation
        self._paths_since_manifest = 0

    # -- nginx --------------------------------------------------------------------------------

    def _learn_profile(self, item: _Written, profiles: dict[str, _RouteSeen]) -> None:
        """What the page's route answers with; the pages of a route must agree.

        Headers may differ between the file types of a route (the service gives XML feeds a
        Content-Security-Policy, JSON feeds none), not between two pages of the same type.
        """
        answered = item.answered
        seen = profiles.get(item.endpoint)
        if seen is None:
            rule = _rule_of(self.app, item.endpoint) if item.page.status == 200 else ""
            seen = profiles[item.endpoint] = _RouteSeen(rule, answered.vary)
        ext = answered.extension
        known = (seen.types.get(ext), seen.headers.get(ext), seen.vary)
        if known[0] is None:
            seen.types[ext] = answered.content_type
            seen.headers[ext] = answered.headers
            if item.endpoint == FEED_ENDPOINT:
                self._learn_browser_type(item.page, answered, seen)
        elif known != (answered.content_type, answered.headers, answered.vary):
            raise ExportError(
                f"{item.page.path}: route {item.endpoint} answers .{ext} pages with other "
                f"headers than before: {answered.content_type!r}, {answered.headers}, Vary "
                f"{answered.vary!r}; before: {known[0]!r}, {known[1]}, Vary {known[2]!r}"
            )

    def _learn_browser_type(self, page: SitePage, reader: _Answered, seen: _RouteSeen) -> None:
        """For feeds: the content type a browser gets, where it differs from a reader's."""
        response = self._get(page.path, {"Accept": BROWSER_ACCEPT})
        headers = _route_headers(response.headers)
        if headers != reader.headers or response.headers.get("Vary") != reader.vary:
            raise ExportError(
                f"{page.path}: a browser gets other headers than a feed reader "
                f"({headers}, not {reader.headers}); the nginx configuration cannot say so"
            )
        browser_type = response.headers.get("Content-Type", reader.content_type)
        if browser_type != reader.content_type:
            seen.browser_types[reader.extension] = browser_type

    def _write_nginx_config(self) -> bool:
        """Write the configuration if it changed; whether an older one was replaced (then nginx
        needs a reload)."""
        settings = self.service.settings
        errors = {
            status: "/" + file_for("", status)
            for status in (404, 400)
            if f"error {status}" in self._profiles
        }
        if 404 not in errors:
            raise ExportError("the export has no 404 page")
        brotli = self.nginx.brotli
        site = NginxSite(
            root=(self.nginx.root or self.public.absolute()),
            listen=self.nginx.listen,
            server_name=urlsplit(settings.site_url).hostname or "_",
            brotli=BROTLI_MODULE.is_file() if brotli is None else brotli,
            routes=tuple(
                seen.profile(endpoint)
                for endpoint, seen in sorted(self._profiles.items())
                if not endpoint.startswith("error ")
            ),
            error_profile=self._profiles["error 404"].profile("error 404"),
            feed_endpoint=FEED_ENDPOINT,
            feed_prefix=FEEDS_PREFIX,
            feed_extensions=tuple(FORMATS),
            error_pages=errors,
            websub_hub=settings.websub_hub,
            site_url=settings.site_url,
            feeds=self._feed_locations() if FEED_ENDPOINT in self._profiles else (),
            versioned=self._versioned_files(),
        )
        path = self.outdir / NGINX_DIR / NGINX_CONF
        if site == self._nginx_site and path.is_file():
            # What this process wrote last: rendering it again (a location per feed, seconds
            # at 100,000 articles) would give the same text.
            return False
        text = render_server_config(site).encode("utf-8")
        existed = path.is_file()
        changed = not existed or path.read_bytes() != text
        if changed:
            _atomic_write(path, text, None)
        self._nginx_site = site
        return changed and existed  # a first configuration needs no reload, nginx never had it

    def _versioned_files(self) -> tuple[VersionedFile, ...]:
        """Static files whose versioned URL (``?v=<hash>``) the app answers with other headers
        (a year's immutable caching): nginx must send them for that URL too. Asked of the app
        again only when the static files changed (two requests per file, at every edit)."""
        versions: Mapping[str, str] = self.app.extensions.get(STATIC_VERSIONS, {})
        static = self._listing.static_pages
        known = self._versioned
        if known is not None and known[0] is versions and known[1] == static:
            return known[2]
        found = []
        for name, version in sorted(versions.items()):
            path = f"{self.app.static_url_path}/{name}"
            plain = self._get(path, {})
            versioned = self._get(f"{path}?{urlencode({'v': version})}", {})
            if plain.status_code != 200 or versioned.status_code != 200:
                continue
            differ = {
                name: value
                for name, value in _route_headers(versioned.headers.items()).items()
                if plain.headers.get(name) != value
            }
            if differ:
                found.append(VersionedFile(path, version, differ))
        self._versioned = (versions, static, tuple(found))
        return self._versioned[2]

    def _feed_locations(self) -> tuple[FeedLocation, ...]:
        """Every feed's first page: nginx has a location for each, with its URL written out.
        Made again only when the feeds are not the same as last time (most edits leave them:
        making them, and comparing them with the ones before, cost every edit a loop over the
        site's feeds)."""
        feeds = self.service.publication.catalog.feeds
        known = self._locations
        if known is not None and known[0] == feeds.keys():
            return known[1]
        settings = self.service.settings
        paths = sorted(
            feed_path(feed, extension) for feed in feeds.values() for extension in FORMATS
        )
        locations = tuple(FeedLocation(unquote(path), settings.url(path), path) for path in paths)
        self._locations = (frozenset(feeds), locations)
        return locations


_MISSING = object()
_WORK: tuple[SiteExporter, list[SitePage], _Dealer] | None = None
_SLOT = 0  # in a forked renderer: its range of feed pages (see _Dealer)
# How long a fork waits for other threads to let go of the content (a reload at 100,000
# articles takes seconds) before the pages are rendered in this process instead.
_LOCKS_WAIT_S = 60.0


def _render_locks(app: Flask) -> list[Any]:
    """The locks a page's rendering may take, in the app and the runtime behind it.

    A fork copies a lock as it is: one that another thread (``export --watch``'s watcher, a
    hub notifier) held at that moment stays held in the worker, whose first page needing it
    waits for ever, and what it guards may be half changed. The export forks only while it
    holds them all itself (:func:`_fork_pool`).
    """
    service: Runtime = app.extensions["feedsvc"]
    owners = (
        service,  # _refresh_lock: a reload in progress
        service.content,
        service.content.store,
        service.publication,
        app.extensions.get(PAGE_CACHE),
    )
    names = ("_refresh_lock", "_lock")
    locks = [getattr(owner, name) for owner in owners for name in names if hasattr(owner, name)]
    return [*locks, crawlers_cache_lock]


def _fork_pool(workers: int, locks: list[Any]) -> multiprocessing.pool.Pool | None:
    """A pool of ``workers`` forks of this process, forked while this thread holds ``locks``;
    None if other threads kept one of them for :data:`_LOCKS_WAIT_S`.

    Each lock is only tried, never waited for while another is held: holding all of them at
    once cannot deadlock with a thread that takes them in another order. Each worker starts by
    releasing its copies: it has one thread, so a lock held there is held by no one.
    """
    held: list[Any] = []
    deadline = time.monotonic() + _LOCKS_WAIT_S
    while True:
        for lock in locks:
            if not lock.acquire(blocking=False):
                break
            held.append(lock)
        else:
            break
        while held:
            held.pop().release()
        if time.monotonic() > deadline:
            log.warning("the content stayed busy: the export renders in one process")
            return None
        time.sleep(0.005)
    try:
        if TRIM_BEFORE_FORK:
            _release_free_memory()
        # Forks them all, now; the initializer runs first in each.
        return multiprocessing.get_context("fork").Pool(workers, _start_renderer, (locks,))
    finally:
        while held:
            held.pop().release()


def _release_free_memory() -> None:
    """Give the pages of the C heap that hold nothing back to the system (glibc's
    ``malloc_trim``), if this is glibc.

    What the export's process holds when it forks, every renderer shares; what it has freed
    since it started (the sitemaps' trees, the bodies of the pages it wrote, which are
    bytes from the C heap) stays in its memory otherwise, counted once among the renderers'.
    """
    if _LIBC is None:
        return
    with contextlib.suppress(AttributeError):
        _LIBC.malloc_trim(0)


def _load_libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


_LIBC = _load_libc() if sys.platform.startswith("linux") else None


class _Dealer:
    """Which pages a forked renderer renders next, decided as it starts on them.

    The feed pages, in date order (:meth:`SiteExporter._render_order`), are cut into one range
    per renderer, and every page into chunks. A renderer takes the chunks of its own range from
    its start, then chunks of the other pages, and once those are all taken the last chunk of
    the range with most left (whose renderer goes on from its start): so an article's pages in
    every feed, which the date order brings close together, are mostly rendered by the one
    renderer that still has its entries' bytes (:data:`RENDERER_ENTRY_BYTES`). Chunks handed
    out in turn gave each of two renderers half of an article's pages, and both wrote its
    entries. A renderer that finishes early takes what is left, as before.

    The state (where each range is) lives in memory shared with the forks, made before the
    first of them, under its lock.
    """

    def __init__(self, count: int, feed: list[int], ranges: int, chunk: int) -> None:
        """``count`` pages, of which the feed pages at ``feed`` (indexes, in date order)."""
        feed_set = set(feed)
        groups = [
            feed[len(feed) * r // ranges : len(feed) * (r + 1) // ranges] for r in range(ranges)
        ]
        groups.append([index for index in range(count) if index not in feed_set])
        self._chunks: list[list[int]] = []
        bounds: list[int] = []  # per group: its next chunk and the end of its chunks
        for pages in groups:
            first = len(self._chunks)
            self._chunks.extend(pages[i : i + chunk] for i in range(0, len(pages), chunk))
            bounds += [first, len(self._chunks)]
        self.ranges = ranges
        self.count = len(self._chunks)  # chunks, each taken once
        # Then how many renderers have joined: each takes the range after the last one's.
        self._state = multiprocessing.get_context("fork").Array(ctypes.c_int64, [*bounds, 0])

    def join(self) -> int:
        """A new renderer's range (each pool's workers take the ranges in turn)."""
        with self._state.get_lock():
            state = self._state  # its lock is re-entrant: held, each access takes it again
            joined = state[-1]
            state[-1] = joined + 1
        return int(joined % self.ranges)

    def take(self, slot: int) -> list[int]:
        """The next chunk for the renderer of range ``slot``: of its range, else of the other
        pages, else the last of the range with most left; empty once every chunk is taken."""
        with self._state.get_lock():
            state = self._state
            for group in (slot, self.ranges):
                if state[2 * group] < state[2 * group + 1]:
                    state[2 * group] += 1
                    return self._chunks[state[2 * group] - 1]
            left, group = max((state[2 * r + 1] - state[2 * r], r) for r in range(self.ranges))
            if left <= 0:
                return []
            state[2 * group + 1] -= 1
            return self._chunks[state[2 * group + 1]]

    def rest(self) -> list[int]:
        """The pages of every chunk not taken yet (none is taken meanwhile: no renderer runs)."""
        with self._state.get_lock():
            state = self._state
            return [
                index
                for group in range(self.ranges + 1)
                for chunk in self._chunks[state[2 * group] : state[2 * group + 1]]
                for index in chunk
            ]


class _Renderers:
    """The export's forked renderers, a fresh pool of them once one of the pool's workers has
    written to :data:`RENDERER_MEMORY_MB` of memory, or after :data:`RENDERER_PAGES` pages per
    worker (:attr:`spent`): the caller takes every chunk of the pool before (:attr:`pending`),
    then the next :meth:`submit` ends it and forks the next.

    Every pool is forked by the export's own thread, between two pages, holding the render
    locks (:func:`_fork_pool`); ``multiprocessing``'s own replacing of workers
    (``maxtasksperchild``) forks from a thread of its own, at any moment.
    """

    def __init__(self, workers: int, locks: list[Any]) -> None:
        self.workers = workers
        self.locks = locks
        self.pool: multiprocessing.pool.Pool | None = None
        self.given = 0  # pages given to the current pool
        self.full = False  # a worker of the current pool has written to enough memory
        # Chunks given and not yet taken, oldest first.
        self.chunks: deque[AsyncResult[_WorkerAnswer]] = deque()

    @property
    def pending(self) -> int:
        return len(self.chunks)

    @property
    def spent(self) -> bool:
        """Whether the current pool is to be replaced before it is given more."""
        return self.pool is not None and (self.full or self.given >= RENDERER_PAGES * self.workers)

    def submit(self) -> bool:
        """Ask a renderer to render a chunk of pages, the one the dealer gives it when it
        starts on it (:class:`_Dealer`); False if no pool could be forked safely."""
        if self.pool is None or self.spent:
            if self.pool is not None:
                if self.chunks:
                    raise RuntimeError("a pool is replaced only once its chunks are taken")
                self.pool.close()
                self.pool.join()
            self.pool = _fork_pool(self.workers, self.locks)
            self.given, self.full = 0, False
            if self.pool is None:
                return False
        self.given += _POOL_CHUNK
        self.chunks.append(self.pool.apply_async(_render_in_worker))
        return True

    def take(self) -> list[_WorkerResult]:
        """The oldest chunk's pages, waited for."""
        results, written_mb = self.chunks.popleft().get()
        if written_mb >= RENDERER_MEMORY_MB:
            self.full = True
        return results

    def close(self) -> None:
        """Every worker ended (stopped, if the export failed while it was rendering)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
        self.pool = None


def _start_renderer(locks: list[Any]) -> None:
    """In a new worker: the locks copied held, released (see :func:`_fork_pool`), and the
    worker made to keep little of what it renders.

    A worker shares every page of memory it inherits until it writes to it; it writes to every
    object it touches (its reference count), so what it touches it copies, until it exits
    (:data:`RENDERER_MEMORY_MB`). What it makes and keeps is its own: the caches that serve a
    process answering the same pages again are bounded to what serves one page in every
    coding and format here, and the collector leaves the inherited objects alone.
    """
    for lock in locks:
        if lock.locked():
            lock.release()
    gc.freeze()
    assert _WORK is not None, "a worker of an export runs only in a fork of it"
    global _SLOT  # noqa: PLW0603 - this process's own
    exporter, _, dealer = _WORK
    _SLOT = dealer.join()
    kept = max(RENDERER_KEPT_ARTICLES, 2 * exporter.service.settings.page_size)
    Body.keep_parsed(kept)
    IdentityCache.keep_at_most(kept)
    keep_entries_at_most(RENDERER_KEPT_ENTRIES)
    EntryBytes.keep_at_most(RENDERER_ENTRY_BYTES)
    keep_items_at_most(RENDERER_VIEW_ITEMS)
    pages = exporter.app.extensions.get(PAGE_CACHE)
    if pages is not None:
        pages.keep_at_most(RENDERER_KEPT_PAGES)


_WorkerResult = tuple[int, tuple[Any, ...], dict[Any, Any]]
# A chunk's pages, and the memory the worker has written to so far (MB).
_WorkerAnswer = tuple[list[_WorkerResult], float]


def _render_in_worker() -> _WorkerAnswer:
    """In a forked worker: the pages of the chunk the dealer gives it (:class:`_Dealer`),
    rendered and their files written (:meth:`SiteExporter._write_page`); for each, its index
    in the export's list and the fields of its record but the page (which the parent has), so
    that only file names and headers travel back, and what the publication recorded
    meanwhile (the dates it gave), which the parent keeps and saves; and the memory it has
    written to so far."""
    assert _WORK is not None, "a worker of an export runs only in a fork of it"
    exporter, todo, dealer = _WORK
    publication = exporter.service.publication
    publication.start_journal()
    results = []
    for index in dealer.take(_SLOT):
        written = exporter._write_page(exporter._render(todo[index]))
        fields = (
            written.endpoint,
            written.files,
            written.written,
            written.feed_changed,
            written.answered,
        )
        results.append((index, fields, publication.take_journal()))
    return results, _written_mb()


def _written_mb() -> float:
    """The memory this process has written to since it was forked, in MB, counted by its
    minor page faults (a system call, where reading ``smaps_rollup`` walks every page: ms).

    Its first write to a page it shares with its parent copies the page, one fault; so does
    its first use of a new page. Pages it freed and uses again count again: this says more
    than it holds, never less. Not much more: what it frees mostly stays mapped (the
    allocators' arenas and heap) and is used again without a fault; at 10,000 articles each
    renderer's count was 0.98-1.12x its unique set size (``smaps_rollup``; docs/performance.md,
    "What a renderer's written count is worth").
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt * _PAGE_BYTES / 2**20


class _Steps:
    """Seconds between laps, by the name of the step that just ended."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.steps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.steps[name] = now - self.last
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.3f} s" for name, seconds in self.steps.items())


class _Progress:
    """Pages rendered so far and their rate, on one line of a terminal; silent on anything
    else (a log file, a pipe, a test)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0
        self.started = self.shown = time.monotonic()
        self.enabled = total >= POOL_MIN_PAGES and sys.stderr.isatty()

    def step(self) -> None:
        self.count += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.shown >= _PROGRESS_EVERY_S or self.count == self.total:
            self.shown = now
            sys.stderr.write("\r" + self.line(now - self.started))
            sys.stderr.flush()

    def line(self, seconds: float) -> str:
        """``rendering [########------------] 4000/10000 pages, 812/s, 7 s left``."""
        done = self.count / max(self.total, 1)
        filled = int(done * _PROGRESS_WIDTH)
        rate = self.count / max(seconds, 1e-9)
        left = (self.total - self.count) / rate if rate > 0 else 0.0
        bar = "#" * filled + "-" * (_PROGRESS_WIDTH - filled)
        return (
            f"rendering [{bar}] {self.count}/{self.total} pages, {rate:.0f}/s, {left:.0f} s left "
        )

    def done(self) -> None:
        if self.enabled and self.count:
            sys.stderr.write("\n")
            sys.stderr.flush()


def read_manifest(outdir: Path, current: Path | None = None) -> tuple[set[str], int]:
    """The files of ``outdir``'s current generation the export wrote, and the generation
    ``export-manifest.json`` lists: its files, with what each generation since changed
    (``export-changes/N``) applied."""
    path = outdir / MANIFEST
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return set(), 0
    except (OSError, ValueError) as error:
        raise ExportError(f"cannot read {path}: {error}; remove it to export afresh") from None
    if data.get("version") != MANIFEST_VERSION:
        raise ExportError(f"{path} is of another version; remove it to export afresh")
    files = set(data["files"])
    generations = Generations(outdir, PUBLIC_DIR)
    if current is None:
        current = generations.current()
    now = int(current.name) if current is not None and current.name.isdigit() else 0
    # A manifest of an older feedsvc lists the current generation itself.
    listed = int(data.get("generation", now))
    if now > listed:
        changed = generations.changed_since(listed, now)
        if changed is None:
            raise ExportError(
                f"{path} lists generation {listed}, and what changed since is not all in "
                f"{generations.changes}; remove {path} to export afresh"
            )
        for relpath, sign in changed.items():
            if sign == ADDED:
                files.add(relpath)
            else:
                files.discard(relpath)
    for relpath in files:
        _check_relpath(relpath)
    return files, listed


def file_for(path: str, status: int = 200) -> str:
    """The file of a site path in the exported tree, relative to ``public/``.

    ``/`` is ``index.html``; a feed's ``?page=N`` goes before the extension
    (``feeds/all.page2.rss``); other paths are their percent-decoded selves; the error pages
    are ``404.html`` and ``400.html``.
    """
    if status != 200:
        return f"{status}.html"
    parts = urlsplit(path)
    relpath = unquote(parts.path).lstrip("/") or "index.html"
    if parts.query:
        pages = parse_qs(parts.query).get("page", [])
        if not parts.path.startswith(FEEDS_PREFIX) or len(pages) != 1 or pages[0] == "1":
            raise ExportError(f"{path}: only a feed's ?page=N can be exported")
        stem, dot, extension = relpath.rpartition(".")
        relpath = f"{stem}.page{int(pages[0])}{dot}{extension}"
    _check_relpath(relpath)
    return relpath


# A page's files, as suffixes of its own file's name (``("", ".gz", ".br")``), one tuple shared
# by every page with the same siblings; or, for a page whose files are not named so (an error
# page), their names. A first export of 100,000 articles remembered a tuple of 1-3 names for
# each of its 140,000 pages, 20 MB held while the renderers ran (bench/export_tracemalloc.py).
_PageFiles = tuple[str, ...]
_SUFFIXES: dict[_PageFiles, _PageFiles] = {}


def _page_files(page: SitePage, files: Iterable[str]) -> _PageFiles:
    """The record of ``page``'s ``files`` (its own file first, as :class:`_Rendered` has them)
    that :func:`_files_of` reads."""
    names = tuple(files)
    own = names[0] if names else ""
    if page.status != 200 or not all(name.startswith(own) for name in names):
        return names
    suffixes = tuple(name[len(own) :] for name in names)
    return _SUFFIXES.setdefault(suffixes, suffixes)


def _files_of(path: str, record: _PageFiles) -> tuple[str, ...]:
    """The files of the page ``path`` that ``record`` (:func:`_page_files`) names."""
    if not record or record[0]:
        return record
    own = file_for(path)
    return tuple(own + suffix for suffix in record)


@dataclass(slots=True)
class _RouteSeen:
    """What one route was seen to answer, per file extension."""

    rule: str
    vary: str | None
    types: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    browser_types: dict[str, str] = field(default_factory=dict)

    def copy(self) -> _RouteSeen:
        return _RouteSeen(
            self.rule, self.vary, dict(self.types), dict(self.headers), dict(self.browser_types)
        )

    def profile(self, endpoint: str) -> RouteProfile:
        """The route as the nginx configuration needs it: headers common to all its file types,
        and those that are not."""
        common: dict[str, str] = {}
        by_type = list(self.headers.values())
        if by_type:
            common = {k: v for k, v in by_type[0].items() if all(h.get(k) == v for h in by_type)}
        varying = {
            ext: {k: v for k, v in headers.items() if k not in common}
            for ext, headers in self.headers.items()
        }
        return RouteProfile(
            endpoint=endpoint,
            rule=self.rule,
            headers=common,
            vary=self.vary,
            types=dict(self.types),
            browser_types=dict(self.browser_types),
            type_headers={ext: h for ext, h in varying.items() if h},
            compressed_on_the_fly=endpoint in COMPRESSED_ON_THE_FLY,
        )


def _route_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers a route sends with every answer, not those of one response."""
    return {name: value for name, value in headers if name.lower() not in _PER_RESPONSE}


def _check_status(page: SitePage, status: int) -> None:
    if status != page.status:
        raise ExportError(f"{page.path}: the app answered {status}, expected {page.status}")


def _rendered(
    page: SitePage, endpoint: str, files: dict[str, bytes], headers: Headers
) -> _Rendered:
    """A page's record from its answer's headers (the route's, or the fast path's for a
    feed); ``files`` name the page's own file first."""
    last_modified = parse_date(headers.get("Last-Modified"))
    answered = _Answered(
        last_modified=int(last_modified.timestamp()) if last_modified else None,
        headers=_route_headers(headers.items()),
        vary=headers.get("Vary"),
        content_type=headers.get("Content-Type", "application/octet-stream"),
        extension=PurePosixPath(next(iter(files))).suffix.lstrip("."),
    )
    return _Rendered(page=page, endpoint=endpoint, files=files, answered=answered)


def _check_relpath(relpath: str) -> None:
    parts = relpath.split("/")
    if relpath.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ExportError(f"{relpath!r} is not a safe file name in the export")


def _siblings_first(item: tuple[str, bytes]) -> tuple[bool, str]:
    relpath = item[0]
    return (not relpath.endswith(tuple(SIBLINGS.values())), relpath)


def _compressible(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type.startswith("text/") or media_type.endswith(_COMPRESSIBLE_SUFFIXES)


def _rule_of(app: Flask, endpoint: str) -> str:
    rules = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    if len(rules) != 1:
        raise ExportError(f"route {endpoint} has {len(rules)} URL rules; expected one")
    return rules[0]


# A new file of the export: created here (never through a link), readable by the web server.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _create_file(path: str, data: bytes, mtime: int, *, chmod: bool = True) -> None:
    """Write ``data`` to the new file ``path``, mode 0644 and dated ``mtime``; ``chmod``: set
    the mode whatever the umask, as a copied file would have it (False: the umask leaves 0644
    as it is, see :func:`_umask_clears`).

    By its descriptor, as one open file: the export writes every file of a first export (tens
    of thousands), and a file object, then a chmod and a utime by path, cost a third more
    system time per file than this.
    """
    fd = os.open(path, _CREATE_FLAGS, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if chmod:
            os.fchmod(fd, 0o644)
        os.utime(fd, (mtime, mtime))
    finally:
        os.close(fd)


def _umask_clears(mode: int) -> bool:
    """Whether the process's umask takes a bit of ``mode`` away (True if it cannot be read).

    Read from /proc (Linux) rather than by ``os.umask``, which sets it while it reads it: a
    file another thread made in that moment would get the wrong mode. Read once per export:
    with the usual umask (022) the export's files need no chmod, a system call per file.
    """
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return bool(int(line.split()[1], 8) & mode)
    except (OSError, ValueError, IndexError):
        pass
    return True


# Werkzeug's environ of a GET of "/" with the given headers, by the headers: a request of the
# export differs from it only in the path (see request_environ).
_BASE_ENVIRONS: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}


def request_environ(path: str, headers: Mapping[str, str]) -> dict[str, Any]:
    """The WSGI environ Werkzeug's ``EnvironBuilder(path, headers=...)`` makes for a GET of
    ``path`` (a path as the site links it, with its query string if any).

    The builder's own work (parsing the headers into a ``Headers``, the defaults of a request
    with a body) took about 100 µs per request, more than a cached page's answer; the export
    makes one or three requests per page, with a handful of distinct headers. So it builds
    the environ of each set of headers once, and a request copies it with its path put in as
    the builder would put it (tests/test_export_requests.py compares the two).
    """
    key = tuple(headers.items())
    base = _BASE_ENVIRONS.get(key)
    if base is None:
        base = _BASE_ENVIRONS[key] = EnvironBuilder("/", headers=list(key)).get_environ()
    environ = base.copy()
    parts = urlsplit(path)
    # As the builder: the path as an URI, then percent-decoded, and every string in WSGI's
    # encoding (UTF-8 bytes as Latin-1 characters, PEP 3333).
    environ["PATH_INFO"] = unquote(iri_to_uri(parts.path)).encode("utf-8").decode("latin-1")
    environ["QUERY_STRING"] = parts.query.encode("utf-8").decode("latin-1")
    environ["REQUEST_URI"] = environ["RAW_URI"] = path.encode("utf-8").decode("latin-1")
    environ["wsgi.input"] = io.BytesIO()
    return environ


def _read_if(path: Path, size: int) -> tuple[bytes | None, int] | None:
    """The file's bytes (only if it has ``size`` bytes; None otherwise) and mtime, or None if
    there is no file."""
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read() if info.st_size == size else None
    except FileNotFoundError:
        return None
    return data, int(info.st_mtime)


def _atomic_write(path: Path, data: bytes, mtime: int | None) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)  # readable by the web server, as a copied file would be
        if mtime is not None:
            os.utime(temporary, (mtime, mtime))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

"""The export's pool of forked renderers: safe to fork while other threads hold the content's
locks (``export --watch`` has a watcher thread), the same files as rendering in one process
(renderers replaced by fresh forks as they go, or not), renderers that keep little of what they
render, and a progress line on a terminal only."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import bundled_small_pages_app
from flask import Flask
from websub_hub import wait_until

from feedsvc.articles.model import Body
from feedsvc.deploy import export as export_module
from feedsvc.deploy.export import (
    POOL_MIN_PAGES,
    ExportError,
    SiteExporter,
    _Progress,
    _render_locks,
)
from feedsvc.deploy.sitemap import SitePage, site_pages
from feedsvc.feeds.document import IdentityCache
from feedsvc.feeds.urls import feed_path


@pytest.fixture(scope="module")
def app() -> Flask:
    return bundled_small_pages_app()


def tree(public: Path) -> dict[str, bytes]:
    return {
        p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*") if p.is_file()
    }


def export_in_thread(app: Flask, outdir: Path) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(SiteExporter(app, outdir).export())
        except BaseException as error:  # handed to the test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.fixture
def lock_held_by_another_thread(app: Flask) -> Iterator[threading.Event]:
    """The publication's lock, held by another thread (as a watcher's reload holds it) until
    the event is set."""
    lock = app.extensions["feedsvc"].publication._lock
    release, taken = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            release.wait(120)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(30)
    yield release
    release.set()
    holder.join(30)


def test_the_pool_forks_only_when_the_other_threads_let_go(
    app: Flask, lock_held_by_another_thread: threading.Event, tmp_path: Path
) -> None:
    assert len(site_pages(app)) >= POOL_MIN_PAGES  # the export uses the pool
    assert app.extensions["feedsvc"].publication._lock in _render_locks(app)
    thread, outcome = export_in_thread(app, tmp_path / "pooled")
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the lock, not forking with it held
    assert not outcome
    lock_held_by_another_thread.set()
    thread.join(120)  # a worker forked with the lock held would wait for it for ever
    assert not thread.is_alive(), "the export did not finish"
    assert outcome
    assert not isinstance(outcome[0], BaseException), outcome


def test_without_the_locks_the_pages_are_rendered_in_this_process(
    app: Flask,
    lock_held_by_another_thread: threading.Event,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(export_module, "_LOCKS_WAIT_S", 0.1)
    thread, outcome = export_in_thread(app, tmp_path / "alone")
    wait_until(lambda: "renders in one process" in caplog.text, what="the fallback logged")
    lock_held_by_another_thread.set()  # the page that waits for it in this process goes on
    thread.join(120)
    assert not thread.is_alive(), "the export did not finish"
    assert outcome
    assert not isinstance(outcome[0], BaseException), outcome


@pytest.mark.parametrize(
    ("renderer_pages", "renderer_memory_mb"),
    [
        (export_module.RENDERER_PAGES, 10.0**9),  # one pool for the whole export
        (40, 10.0**9),  # a pool every 40 pages per worker
        (10**9, 0.0),  # a new pool each time a worker tells what it has written to
    ],
)
def test_the_pool_writes_what_one_process_writes(
    app: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    renderer_pages: int,
    renderer_memory_mb: float,
) -> None:
    started = tmp_path / "renderers"
    start_renderer = export_module._start_renderer

    def noted(locks: list[Any]) -> None:  # in each renderer, as it starts
        with started.open("a") as file:
            file.write(f"{os.getpid()}\n")
        start_renderer(locks)

    monkeypatch.setattr(export_module, "_start_renderer", noted)
    monkeypatch.setattr(export_module, "RENDERER_PAGES", renderer_pages)
    monkeypatch.setattr(export_module, "RENDERER_MEMORY_MB", renderer_memory_mb)
    SiteExporter(app, tmp_path / "pooled").export()
    renderers = set(started.read_text().split())
    monkeypatch.setattr(export_module, "POOL_MIN_PAGES", 10**9)
    SiteExporter(app, tmp_path / "alone").export()
    pooled, alone = tree(tmp_path / "pooled/public"), tree(tmp_path / "alone/public")
    assert len(pooled) > POOL_MIN_PAGES
    assert pooled == alone
    workers = min(os.cpu_count() or 1, 4)
    pages = len(site_pages(app))
    if renderer_memory_mb:
        # Each renderer renders its share of RENDERER_PAGES pages and leaves its place to a
        # fresh fork: as many of them as it takes.
        assert len(renderers) == workers * -(-pages // (min(renderer_pages, pages) * workers))
    else:  # with every chunk a worker says what it wrote to, which is always too much
        assert len(renderers) > workers


def test_a_pool_is_forked_only_once_the_one_before_has_ended(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked while the pool before still rendered, a pool's workers grew beside the old
    ones at their largest: the export's peak memory."""
    fork_pool = export_module._fork_pool
    alive_at_fork: list[list[int]] = []

    def noted(workers: int, locks: list[Any]) -> Any:
        alive_at_fork.append([child.pid or 0 for child in multiprocessing.active_children()])
        return fork_pool(workers, locks)

    monkeypatch.setattr(export_module, "_fork_pool", noted)
    monkeypatch.setattr(export_module, "RENDERER_PAGES", 40)
    SiteExporter(app, tmp_path / "pooled").export()
    assert len(alive_at_fork) > 2  # pools were replaced
    assert alive_at_fork == [[]] * len(alive_at_fork)
    monkeypatch.setattr(export_module, "POOL_MIN_PAGES", 10**9)
    SiteExporter(app, tmp_path / "alone").export()
    assert tree(tmp_path / "pooled/public") == tree(tmp_path / "alone/public")


def test_a_pool_that_cannot_be_forked_later_leaves_the_rest_to_this_process(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fork_pool = export_module._fork_pool
    forks: list[bool] = []

    def first_only(workers: int, locks: list[Any]) -> Any:  # as if the locks stayed busy
        forks.append(not forks)
        return fork_pool(workers, locks) if len(forks) == 1 else None

    monkeypatch.setattr(export_module, "_fork_pool", first_only)
    monkeypatch.setattr(export_module, "RENDERER_PAGES", 40)
    SiteExporter(app, tmp_path / "pooled").export()
    assert forks == [True, False]
    monkeypatch.setattr(export_module, "POOL_MIN_PAGES", 10**9)
    SiteExporter(app, tmp_path / "alone").export()
    assert tree(tmp_path / "pooled/public") == tree(tmp_path / "alone/public")


def test_a_renderer_keeps_the_paragraphs_of_few_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Body, "_recent", None)
    monkeypatch.setattr(Body, "_recent_limit", 0)
    reads: list[str] = []

    def read(text: str) -> tuple[tuple[str, ...], str]:
        reads.append(text)
        return tuple(text.split("\n\n")), text.partition("\n")[0]

    Body.keep_parsed(2)
    bodies = [Body.lazy(f"Eerste {n}.\n\nTweede {n}.", read) for n in range(3)]
    for number, body in enumerate(bodies):
        assert body.summary == f"Eerste {number}."
    assert bodies[2].paragraphs == ("Eerste 2.", "Tweede 2.")  # kept: not read again
    assert len(reads) == 3
    assert bodies[0].paragraphs == ("Eerste 0.", "Tweede 0.")  # dropped: read again
    assert len(reads) == 4
    assert bodies[1] == Body.of(("Eerste 1.", "Tweede 1."), "Eerste 1.")


def test_every_identity_cache_keeps_at_most_what_it_is_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(IdentityCache, "_limit", None)
    cache: IdentityCache[object, int] = IdentityCache(100)
    things = [object() for _ in range(5)]
    IdentityCache.keep_at_most(2)
    for number, thing in enumerate(things):
        cache.put(thing, number)
    assert [cache.get(thing) for thing in things] == [None, None, None, 3, 4]


def test_one_identity_cache_keeps_what_it_is_told_whatever_all_are_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(IdentityCache, "_limit", None)
    own: IdentityCache[object, int] = IdentityCache(100)
    other: IdentityCache[object, int] = IdentityCache(100)
    things = [object() for _ in range(5)]
    IdentityCache.keep_at_most(1)
    own.keep_here_at_most(3)
    for number, thing in enumerate(things):
        own.put(thing, number)
        other.put(thing, number)
    assert [own.get(thing) for thing in things] == [None, None, 2, 3, 4]
    assert [other.get(thing) for thing in things] == [None, None, None, None, 4]


def test_feed_pages_are_given_out_by_their_median_article_the_rest_in_place(
    app: Flask, tmp_path: Path
) -> None:
    pages = site_pages(app)
    assert len(pages) >= POOL_MIN_PAGES
    ordered, feed = SiteExporter(app, tmp_path / "out")._render_order(pages)
    service = app.extensions["feedsvc"]
    catalog, size = service.publication.catalog, service.settings.page_size
    # Every feed page's median article date, found from the catalog by its path.
    newest = {
        feed_path(feed, extension, number): statistics.median_high(
            article.published for article in feed.page(number, size).articles
        )
        for feed in catalog.feeds.values()
        for number in range(1, feed.page_count(size) + 1)
        for extension in ("rss", "atom", "json")
    }
    assert sorted(p.path for p in ordered) == sorted(p.path for p in pages)
    moved = [i for i, (a, b) in enumerate(zip(pages, ordered, strict=True)) if a is not b]
    assert moved
    assert all(ordered[i].path in newest for i in moved)  # only feed pages move
    dates = [newest[p.path] for p in ordered if p.path in newest and p.status == 200]
    assert len(dates) == sum(1 for p in pages if p.path in newest and p.status == 200)
    assert dates == sorted(dates)
    # What the dealer is given: the places of the feed pages, every one of them.
    assert [ordered[i].path for i in feed] == [p.path for p in ordered if p.path in newest]
    # The three formats of a page stay together.
    feed_paths = [p.path for p in ordered if p.path in newest and p.status == 200]
    for index in range(0, len(feed_paths), 3):
        parts = [urlsplit(path) for path in feed_paths[index : index + 3]]
        assert len({(p.path.rpartition(".")[0], p.query) for p in parts}) == 1, parts


def test_progress_is_a_bar_with_counts_and_rate() -> None:
    progress = _Progress(1000)
    progress.count = 400
    line = progress.line(seconds=2.0)
    assert f"[{'#' * 12}{'-' * 18}]" in line
    assert "400/1000 pages" in line
    assert "200/s" in line
    assert "3 s left" in line


def test_no_progress_when_not_on_a_terminal(
    app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SiteExporter(app, tmp_path / "out").export()
    assert capsys.readouterr().err == ""


def test_each_renderer_gets_its_own_range_of_feed_pages_then_the_rest() -> None:
    feed = list(range(40, 10, -1))  # feed pages 40 down to 11, in date order; 0-10 the others
    dealer = export_module._Dealer(41, feed, 2, 4)
    assert [dealer.join(), dealer.join(), dealer.join()] == [0, 1, 0]
    first = [dealer.take(0), dealer.take(0), dealer.take(1), dealer.take(1)]
    assert first == [[40, 39, 38, 37], [36, 35, 34, 33], [25, 24, 23, 22], [21, 20, 19, 18]]
    # Once its range is done, a renderer takes the other pages, then the far end of a range.
    taken = [dealer.take(1) for _ in range(6)]
    assert taken[:2] == [[17, 16, 15, 14], [13, 12, 11]]
    assert taken[2:5] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    assert taken[5] == [28, 27, 26]
    assert sorted(dealer.rest()) == list(range(29, 33))
    rest = [dealer.take(0) for _ in range(3)]
    assert rest == [[32, 31, 30, 29], [], []]
    assert dealer.rest() == []
    assert sum(map(len, first + taken + rest)) == 41


def test_the_renderers_write_their_pages_files_themselves(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the names of a page's files come back from a renderer, not their bytes: the
    export's own process creates none of them."""
    log = tmp_path / "created"
    create_file = export_module._create_file

    def noted(path: str, data: bytes, mtime: int, *, chmod: bool = True) -> None:
        create_file(path, data, mtime, chmod=chmod)
        with log.open("a") as file:  # appended whole: one short write per line
            file.write(f"{os.getpid()} {path}\n")

    monkeypatch.setattr(export_module, "_create_file", noted)
    report = SiteExporter(app, tmp_path / "pooled").export()
    creators = [line.split(" ", 1) for line in log.read_text().splitlines()]
    public = (tmp_path / "pooled/public").resolve()
    files = set(tree(public))
    assert {Path(path).relative_to(public).as_posix() for _, path in creators} == files
    assert len(creators) == len(files) == report.written
    pids = {int(pid) for pid, _ in creators}
    assert os.getpid() not in pids
    assert len(pids) >= 2  # the renderers, each writing what it rendered


@pytest.mark.parametrize("pool_min_pages", [POOL_MIN_PAGES, 10**9])
def test_two_pages_of_one_file_fail_the_export_naming_it(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool_min_pages: int
) -> None:
    """Into an empty tree, by two renderers (whichever makes the file second) or in this
    process: a clear error, and no site."""
    pages = site_pages(app)
    article = next(page.path for page in pages if page.path.startswith("/artikelen/"))
    render = SiteExporter._render

    def article_as_front_page(self: SiteExporter, page: SitePage) -> Any:
        rendered = render(self, page)
        if page.path == article:
            rendered.files = {"index.html": rendered.files[export_module.file_for(page.path)]}
        return rendered

    monkeypatch.setattr(SiteExporter, "_render", article_as_front_page)
    monkeypatch.setattr(export_module, "POOL_MIN_PAGES", pool_min_pages)
    assert len(pages) >= POOL_MIN_PAGES
    with pytest.raises(ExportError, match=r"^two pages would be written to index\.html$"):
        SiteExporter(app, tmp_path / "out").export()
    assert not (tmp_path / "out/public").exists()
    assert os.listdir(tmp_path / "out/generations") == []
    assert multiprocessing.active_children() == []  # the renderers were stopped


def test_renderers_link_what_is_unchanged_and_date_what_changed_after_the_file_before(
    app: Flask, tmp_path: Path
) -> None:
    """A second process's export, by the renderers: every unchanged file a link to the one
    before; a file whose bytes someone changed, dated later than it was, written again."""
    out = tmp_path / "out"
    SiteExporter(app, out).export()
    public = out / "public"
    before = {relpath: os.stat(public / relpath) for relpath in tree(public)}
    page = public / "index.html"
    served = page.read_bytes()
    later = int(page.stat().st_mtime) + 1000
    page.unlink()  # not written through: the spare tree has a link to it
    page.write_bytes(served + b"\n")
    os.utime(page, (later, later))
    report = SiteExporter(app, out).export()
    assert len(before) > POOL_MIN_PAGES
    assert (report.written, report.unchanged) == (1, len(before) - 1)
    assert report.changed_feeds == []  # the front page is no feed: nothing to tell a hub
    assert page.read_bytes() == served
    assert page.stat().st_mtime == later + 1  # nginx's validators change with the bytes
    for relpath, stat in before.items():
        if relpath != "index.html":
            assert os.stat(public / relpath).st_ino == stat.st_ino, relpath

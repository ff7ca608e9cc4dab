"""The export's pool of forked renderers: safe to fork while other threads hold the content's
locks (``export --watch`` has a watcher thread), the same files as rendering in one process, and
a progress line on a terminal only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import bundled_small_pages_app
from flask import Flask
from websub_hub import wait_until

from feedsvc.deploy import export as export_module
from feedsvc.deploy.export import POOL_MIN_PAGES, SiteExporter, _Progress, _render_locks
from feedsvc.deploy.sitemap import site_pages


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


def test_the_pool_writes_what_one_process_writes(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SiteExporter(app, tmp_path / "pooled").export()
    monkeypatch.setattr(export_module, "POOL_MIN_PAGES", 10**9)
    SiteExporter(app, tmp_path / "alone").export()
    pooled, alone = tree(tmp_path / "pooled/public"), tree(tmp_path / "alone/public")
    assert len(pooled) > POOL_MIN_PAGES
    assert pooled == alone


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

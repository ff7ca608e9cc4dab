"""The cyclic garbage collector is paused for a store's first load only, and always restored."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ArticleWriter, live_catalog

from feedsvc.articles import store as store_module
from feedsvc.articles.store import collector_paused
from feedsvc.settings import Settings


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    """Each test starts with the collector on, and leaves it as it was."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


def test_the_first_load_is_parsed_with_the_collector_paused_and_later_reloads_are_not(
    content_dir: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_article("2025/a.txt", title="Eerste")
    write_article("2025/b.txt", title="Tweede")
    seen: list[bool] = []
    parse = store_module.parse_article

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module, "parse_article", spy)
    live = live_catalog(Settings.from_mapping({"CONTENT_DIR": str(content_dir)}))
    frozen_before = gc.get_freeze_count()  # 0 unless an earlier test froze the heap
    report = live.reload()
    assert sorted(a.title for a in report.catalog.articles) == ["Eerste", "Tweede"]
    assert seen == [False, False]
    assert gc.isenabled()
    # Promoted to the oldest generation, not left frozen.
    assert gc.get_freeze_count() == frozen_before

    write_article("2025/a.txt", title="Eerste, bijgewerkt")
    first.touch()
    seen.clear()
    live.reload()
    assert seen
    assert all(seen)  # a reload of the watcher's thread leaves the collector alone


def test_a_load_that_fails_restores_the_collector(
    content_dir: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_article("2025/a.txt")

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("stuk")

    monkeypatch.setattr(store_module, "parse_article", broken)
    live = live_catalog(Settings.from_mapping({"CONTENT_DIR": str(content_dir)}))
    with pytest.raises(RuntimeError, match="stuk"):
        live.reload()
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_pauses_in_two_threads_nest() -> None:
    """The switch is process-wide: the collector comes back on after the last pause ends."""
    first_in = threading.Event()
    second_done = threading.Event()
    states: dict[str, bool] = {}

    def first() -> None:
        with collector_paused():
            first_in.set()
            assert second_done.wait(30)
            states["first, after the second ended"] = gc.isenabled()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(30)
    with collector_paused():
        states["second"] = gc.isenabled()
    second_done.set()
    thread.join(30)
    assert states == {"second": False, "first, after the second ended": False}
    assert gc.isenabled()


def test_what_was_frozen_before_stays_frozen() -> None:
    """wsgi.py freezes the heap after loading: a later pause must not unfreeze it."""
    already = gc.get_freeze_count()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with collector_paused():
            kept = [object()]
        assert gc.get_freeze_count() == frozen
        assert kept
    finally:
        if not already:
            gc.unfreeze()  # as the other tests of this process expect it

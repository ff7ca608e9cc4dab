"""A store's first load of many files, shared out with a forked child (``_Sharing``), gives what
a load in one process gives: the same entries, articles, problems in the same order, and the
same log lines, whichever process read which file, and also when the child fails."""

from __future__ import annotations

import logging
import os
import pickle
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import ArticleWriter, article_text

import feedsvc.articles.store as store_module
from feedsvc.articles.parser import parse_article
from feedsvc.articles.store import ContentStore
from feedsvc.settings import DEFAULT_DISCLAIMER, Settings


@pytest.fixture
def many_files(content_dir: Path, write_article: ArticleWriter) -> Path:
    """Good articles, and among them files with warnings, errors, a link, a FIFO and a bad name,
    in several folders, so that both processes get some of each."""
    for number in range(240):
        folder = ("2023", "2024", "2024/nov", "2025")[number % 4]
        relpath = f"{folder}/{number:03d}_bericht.txt"
        kind = number % 10
        if kind == 3:
            write_article(relpath, published="31-02-2025")  # an error: no such day
        elif kind == 5:
            write_article(relpath, source="NAVO", updated="01-01-2020")  # a warning
        elif kind == 7:
            write_article(relpath, b"\xff\xfe\x00\x00 no text")  # an error
        else:
            write_article(relpath, title=f"Bericht {number}", body=(f"Alinea {number}.",) * 3)
    (content_dir / "2024/099_link.txt").symlink_to(content_dir / "2023/000_bericht.txt")
    os.mkfifo(content_dir / "2024/nov/150_fifo.txt")
    write_article("2025/201_tab\tname.txt")
    write_article("2025/202_leeg.txt", b"")
    return content_dir


def load(folder: Path) -> ContentStore:
    store = ContentStore(Settings.from_mapping({"CONTENT_DIR": str(folder)}))
    store.reload()
    return store


def everything(store: ContentStore) -> tuple[object, ...]:
    """What a load left, as values: entries in their order, the snapshot, the problems."""
    snapshot = store.snapshot()
    entries = [
        (relpath, entry.signature, entry.article, entry.problems, entry.digest, entry.racy)
        for relpath, entry in store._entries.items()
    ]
    bodies = [(a.paragraphs, a.summary) for a in snapshot.articles]
    return (entries, snapshot, bodies, store.problems())


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Share out after 20 files, in blocks of 3; how many entries each child that was
    started sent."""
    monkeypatch.setattr(store_module, "SHARE_AFTER", 20)
    monkeypatch.setattr(store_module, "_SHARE_BLOCK", 3)
    # The test runner may have a thread of its own: the child here uses none of its locks.
    monkeypatch.setattr(store_module, "_may_fork", lambda: True)
    sent: list[int] = []
    finish = store_module._Sharing.finish

    def counted(self: store_module._Sharing) -> None:
        forked = self.pid is not None
        finish(self)
        if forked:
            sent.append(len(self.entries))

    monkeypatch.setattr(store_module._Sharing, "finish", counted)
    monkeypatch.setattr(store_module._Sharing, "_exchange", taking_turns)
    return sent


_exchange = store_module._Sharing._exchange


def taking_turns(self: store_module._Sharing) -> None:
    """The parent takes a block only after the child has taken the one before (or has ended):
    left to the scheduler, a busy machine may run the parent through every block before the
    child takes one, and the child would have read nothing to check."""
    _exchange(self)
    if self.pid is None:
        return  # the child
    deadline = time.monotonic() + 60
    while self.next_block.value % 2 == 0 and _running(self.pid):
        assert time.monotonic() < deadline, "the child never took a block"
        time.sleep(0.001)


def _running(pid: int) -> bool:
    """Whether the child has not ended; an ended child is left to be reaped by finish()."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:  # reaped already (by a handler of SIGCHLD)
        return False


def test_a_shared_first_load_gives_what_one_process_gives(
    many_files: Path, shared: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    visits: list[str] = []
    visit = ContentStore._visit_new
    with pytest.MonkeyPatch.context() as spied:

        def counted(self: ContentStore, found: Any, *args: Any) -> Any:
            visits.append(found.relpath)
            return visit(self, found, *args)

        spied.setattr(ContentStore, "_visit_new", counted)
        with caplog.at_level(logging.WARNING, logger="feedsvc.articles.store"):
            sharing = load(many_files)
    shared_log = sorted(record.getMessage() for record in caplog.records)
    caplog.clear()
    with pytest.MonkeyPatch.context() as alone:
        alone.setattr(store_module, "SHARE_AFTER", 10**9)
        with caplog.at_level(logging.WARNING, logger="feedsvc.articles.store"):
            single = load(many_files)
    single_log = sorted(record.getMessage() for record in caplog.records)
    # The child read a good part of the files after the first 20 (none with an error).
    assert len(shared) == 1
    assert 40 <= shared[0] <= 200
    # This process read the rest: 241 files without a problem in their listing (not the
    # link, the FIFO, the tab in a name), the empty one among them.
    assert len(visits) == 241 - shared[0]
    assert everything(sharing) == everything(single)
    assert shared_log == single_log
    assert len(single.snapshot().articles) == 192
    assert len(single_log) == 48 + 1  # the files with errors and the empty one


def test_what_a_failed_child_did_not_send_is_read_by_the_parent(
    many_files: Path, shared: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    def failing(self: ContentStore, found: object, scan_ns: int) -> None:
        nonlocal calls
        calls += 1
        if calls > 5:  # in the child: some entries sent first, then it fails
            raise RuntimeError("the child fails")

    monkeypatch.setattr(ContentStore, "_read_quietly", failing)
    sharing = load(many_files)
    monkeypatch.undo()
    assert shared == [0]  # _read_quietly sent nothing but None, then the child failed
    single = load(many_files)
    assert everything(sharing) == everything(single)


def test_a_later_reload_is_not_shared(many_files: Path, shared: list[int]) -> None:
    store = load(many_files)
    (many_files / "2025/011_bericht.txt").unlink()
    report = store.reload()
    assert len(shared) == 1  # the first load only
    assert report.change is not None
    assert [article.id for article in report.change.removed] == ["2025/011_bericht"]


def test_an_article_pickles_as_its_fields_and_its_body_as_its_text() -> None:
    paragraph = "Eerste alinea, lang genoeg om niet kort te zijn."
    data = article_text(body=(paragraph,) * 4).encode()
    zone = ZoneInfo("Europe/Amsterdam")
    parsed = parse_article(data, "2025/a.txt", zone=zone, disclaimer=DEFAULT_DISCLAIMER)
    article = parsed.article
    first, second = (pickle.loads(pickle.dumps(article)) for _ in range(2))
    # Unpickled lazily, as it was: its text read into paragraphs only when asked for.
    assert first.body._parsed is None
    assert first.paragraphs == (paragraph,) * 4
    assert first == article
    assert first.published.tzinfo is zone
    # One category and source object per process, however many articles bring them.
    assert first.category is second.category
    assert first.source is second.source


@pytest.mark.parametrize(("load", "shares"), [(0.2, True), (2.9, True), (3.0, False), (9.0, False)])
def test_a_first_load_shares_only_while_a_core_is_likely_free(
    monkeypatch: pytest.MonkeyPatch, load: float, shares: bool
) -> None:
    monkeypatch.setattr(store_module.threading, "active_count", lambda: 1)
    monkeypatch.setattr(store_module.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(store_module.os, "getloadavg", lambda: (load, 0.0, 0.0))
    assert store_module._may_fork() is shares


def test_a_process_with_other_threads_does_not_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module.threading, "active_count", lambda: 2)
    monkeypatch.setattr(store_module.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert store_module._may_fork() is False

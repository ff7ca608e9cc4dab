"""A watcher that cannot be stalled: symlink-swap deploys, names that are not UTF-8, links to
folders, articles replaced by other things, and a /healthz that says when watching is broken."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import pytest
from conftest import ArticleWriter, article_text
from flask import Flask
from websub_hub import wait_until

from feedsvc.articles.watcher import (
    FULL_RESCAN_ROUNDS,
    ContentWatcher,
    rescan_parts,
    rescan_scope,
)
from feedsvc.runtime import Runtime


def aged(path: Path) -> Path:
    then = time.time() - 60
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def titles(runtime: Runtime) -> list[str]:
    return [article.title for article in runtime.catalog.articles]


@pytest.fixture
def watching(make_app: Callable[..., Flask]) -> Iterator[Callable[..., Runtime]]:
    """Start an app that watches its content, and stop its watcher afterwards."""
    started: list[Runtime] = []

    def start(folder: Path | None = None, **config: object) -> Runtime:
        app = make_app(folder, WATCH=True, **config)
        runtime: Runtime = app.extensions["feedsvc"]
        runtime.start_watching()
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.close()


def test_a_symlink_swap_deploy_is_picked_up(
    tmp_path: Path, watching: Callable[..., Runtime]
) -> None:
    releases = tmp_path / "releases"
    for name, title in (("A", "Uit release A"), ("B", "Uit release B")):
        (releases / name).mkdir(parents=True)
        (releases / name / "bericht.txt").write_text(article_text(title=title))
        aged(releases / name / "bericht.txt")
    current = tmp_path / "current"
    current.symlink_to(releases / "A")
    runtime = watching(current)
    assert titles(runtime) == ["Uit release A"]
    # The usual release-folder deploy: a new link, renamed over the old one in one step.
    (tmp_path / "current.tmp").symlink_to(releases / "B")
    os.replace(tmp_path / "current.tmp", current)
    wait_until(lambda: titles(runtime) == ["Uit release B"], what="release B served")
    # And an edit in the new release is seen: the watch moved along with the link.
    (releases / "B" / "nieuw.txt").write_text(article_text(title="Nieuw in B"))
    wait_until(lambda: "Nieuw in B" in titles(runtime), what="an edit in B served")


def test_names_that_are_not_utf8_are_reported_and_never_stall_the_watcher(
    content_dir: Path, write_article: ArticleWriter, watching: Callable[..., Runtime]
) -> None:
    write_article("goed.txt", title="Goed bericht")
    os.mkdir(os.path.join(os.fsencode(content_dir), b"map-\xff"))  # a folder, there from the start
    runtime = watching()
    assert titles(runtime) == ["Goed bericht"]
    with open(os.path.join(os.fsencode(content_dir), b"slecht-\xff.txt"), "wb") as handle:
        handle.write(article_text(title="Slecht genoemd").encode())
    write_article("later.txt", title="Later bericht", published="13-03-2025")
    wait_until(lambda: "Later bericht" in titles(runtime), what="the next edit served")
    write_article("nog-later.txt", title="Nog later", published="14-03-2025")
    wait_until(lambda: "Nog later" in titles(runtime), what="and the one after")
    assert "Slecht genoemd" not in titles(runtime)
    health = runtime.health(full=True)
    assert any("not valid UTF-8" in problem["message"] for problem in health["rejected"])
    assert health["status"] == "ok", health["reasons"]


def inotify_watches() -> dict[str, int]:
    """This process's inotify instances and how many watches each holds, from /proc (the
    kernel's own count)."""
    found: dict[str, int] = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:inotify":
                continue
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as info:
                found[fd] = sum(line.startswith("inotify wd:") for line in info)
        except OSError:
            continue
    return found


def test_links_to_folders_are_not_followed_by_the_watcher(
    content_dir: Path, write_article: ArticleWriter, watching: Callable[..., Runtime]
) -> None:
    write_article("2025/bericht.txt", title="Bericht")
    (content_dir / "usr").symlink_to("/usr")
    before = inotify_watches().keys()

    def ours() -> list[int]:  # the watcher's own inotify instance, not an earlier test's
        return [n for fd, n in inotify_watches().items() if fd not in before]

    runtime = watching()
    assert runtime.watcher is not None
    assert runtime.watcher.wait_established(timeout=30)
    # An edit made after the watches were set up, and served: the watcher's thread adds its
    # watches (a wrong, recursive walk of /usr's too) before it serves any edit, so by now
    # every watch it would add is there; no pause and hope.
    write_article("2025/nieuw.txt", title="Nieuw", published="13-03-2025")
    wait_until(lambda: "Nieuw" in titles(runtime), what="an edit in a subfolder served")
    assert sum(ours()) == 2  # the content folder and 2025/, not /usr


@pytest.mark.parametrize("replacement", ["folder", "fifo", "symlink"])
def test_an_article_replaced_by_something_else_keeps_its_last_good_version(
    content_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
    replacement: str,
) -> None:
    path = write_article("park.txt", title="Park gaat open")
    app = make_app()
    runtime: Runtime = app.extensions["feedsvc"]
    path.unlink()
    if replacement == "folder":
        path.mkdir()
    elif replacement == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(write_article("elders/ander.txt", title="Ander"))
    with caplog.at_level(logging.WARNING):
        runtime.refresh()
    assert "Park gaat open" in titles(runtime)
    problems = {p.path: p.message for p in runtime.catalog.problems}
    assert "last good version" in problems["park.txt"]
    assert any("park.txt" in r.getMessage() for r in caplog.records)
    runtime.refresh()  # and it stays so
    assert "Park gaat open" in titles(runtime)


# -- /healthz ----------------------------------------------------------------------------------


def test_healthz_says_when_the_watch_is_established(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("a.txt")
    app = make_app(WATCH=True)
    runtime: Runtime = app.extensions["feedsvc"]
    try:
        # Before the watcher runs in this process, nothing is watched.
        assert runtime.health()["watch_established"] is False
        runtime.start_watching()
        assert runtime.watcher is not None
        assert runtime.watcher.wait_established(timeout=30)
        answer = app.test_client().get("/healthz").get_json()
        assert answer["watch_established"] is True
    finally:
        runtime.close()


def test_healthz_is_degraded_while_reloads_fail_and_says_when_one_last_worked(
    write_article: ArticleWriter, watching: Callable[..., Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_article("a.txt")
    runtime = watching()
    health = runtime.health()
    assert health["status"] == "ok"
    assert health["last_reload_ok_at"] is not None

    def broken(*args: object) -> object:
        raise RuntimeError("schijf kapot")

    monkeypatch.setattr(runtime.content, "reload", broken)
    write_article("b.txt", title="Tweede", published="13-03-2025")
    wait_until(lambda: runtime.health()["status"] == "degraded", what="degraded")
    assert any("schijf kapot" in reason for reason in runtime.health()["reasons"])
    monkeypatch.undo()
    write_article("c.txt", title="Derde", published="14-03-2025")
    wait_until(lambda: runtime.health()["status"] == "ok", what="ok again")
    assert "Derde" in titles(runtime)


def test_healthz_is_degraded_when_the_watcher_is_not_running(
    write_article: ArticleWriter, watching: Callable[..., Runtime]
) -> None:
    write_article("a.txt")
    runtime = watching()
    assert runtime.watcher is not None
    runtime.watcher.stop()
    health = runtime.health()
    assert health["status"] == "degraded"
    assert "not running" in " ".join(health["reasons"])


def test_healthz_counts_problems_and_lists_the_first_few(
    write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    write_article("goed.txt")
    for number in range(8):
        write_article(f"kapot-{number}.txt", data="")
    client = make_app().test_client()
    health = client.get("/healthz").get_json()
    assert health["rejected_count"] == 8
    assert len(health["rejected"]) == 5
    full = make_app(HEALTHZ="full").test_client().get("/healthz").get_json()
    assert len(full["rejected"]) == 8
    assert make_app(HEALTHZ="off").test_client().get("/healthz").status_code == 404


def test_a_folder_renamed_away_and_back_is_followed(
    tmp_path: Path,
    content_dir: Path,
    write_article: ArticleWriter,
    watching: Callable[..., Runtime],
) -> None:
    write_article("top.txt", title="Bovenaan")
    aged(write_article("2025/maart.txt", title="In maart", published="13-03-2025"))
    runtime = watching()
    assert sorted(titles(runtime)) == ["Bovenaan", "In maart"]
    os.rename(content_dir / "2025", tmp_path / "weg")
    wait_until(lambda: titles(runtime) == ["Bovenaan"], what="the folder's articles gone")
    os.rename(tmp_path / "weg", content_dir / "2025")
    wait_until(lambda: sorted(titles(runtime)) == ["Bovenaan", "In maart"], what="back again")
    # The folder is watched again: an edit inside it is seen.
    write_article("2025/april.txt", title="In april", published="14-04-2025")
    wait_until(lambda: "In april" in titles(runtime), what="an edit in the returned folder")


def test_a_folder_deleted_before_its_watch_is_added_is_not_a_failure(
    content_dir: Path,
    write_article: ArticleWriter,
    watching: Callable[..., Runtime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between listing the folders and adding their watches, an editor may remove one (the
    soak's editor does): the watcher lists them again and keeps watching, /healthz stays ok."""
    from feedsvc.articles import watcher as watcher_module  # noqa: PLC0415

    write_article("eerste.txt", title="Eerste")
    listed = watcher_module._folders
    vanished = str(content_dir / "map-die-verdween")
    calls: list[int] = []

    def listing_with_a_vanished_folder(root: str) -> list[str]:
        calls.append(1)
        return [*listed(root), vanished] if len(calls) == 1 else listed(root)

    monkeypatch.setattr(watcher_module, "_folders", listing_with_a_vanished_folder)
    runtime = watching()
    write_article("tweede.txt", title="Tweede", published="13-03-2025")
    wait_until(lambda: "Tweede" in titles(runtime), what="an edit after the failed listing")
    # The reload before the watch starts again may show the edit before the folders are
    # listed again: wait for the listing, then check an edit is heard by the new watch.
    wait_until(lambda: len(calls) >= 2, what="the folders listed again")
    write_article("derde.txt", title="Derde", published="14-03-2025")
    wait_until(
        lambda: "Derde" in titles(runtime), what="an edit after the folders were listed again"
    )
    health = runtime.health()
    assert health["status"] == "ok", health


def test_a_change_while_the_watches_are_set_up_is_not_left_for_the_rescan(
    content_dir: Path,
    write_article: ArticleWriter,
    watching: Callable[..., Runtime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edit after the reload that precedes the watch, but before inotify watches the
    folder, raises no event; the watcher reloads once its watches are in place, so the edit is
    served without waiting for the periodic rescan (turned off here)."""
    from feedsvc.articles import watcher as watcher_module  # noqa: PLC0415

    write_article("eerste.txt", title="Eerste")
    real_watch = watcher_module.watchfiles.watch

    def watch_after_an_edit(*paths: object, **options: object) -> object:
        write_article("tussendoor.txt", title="Tussendoor", published="13-03-2025")
        return real_watch(*paths, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(watcher_module.watchfiles, "watch", watch_after_an_edit)
    runtime = watching()
    watcher = runtime.watcher
    assert watcher is not None
    watcher.rescan_seconds = 3600.0  # only the watch itself can bring the edit in
    assert watcher.wait_established(timeout=30)
    assert "Tussendoor" in titles(runtime)


def test_a_folder_added_is_watched_without_reloading_everything(
    content_dir: Path, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    """A new folder needs a watch of its own; setting that up rescans the new folder, not the
    whole content folder (at 100,000 files most of a second), and the new folder is watched."""
    aged(write_article("2025/maart.txt", title="In maart", published="13-03-2025"))
    runtime: Runtime = make_app(WATCH=True).extensions["feedsvc"]
    watcher = runtime.watcher
    assert watcher is not None
    watcher.rescan_seconds = 3600.0  # no periodic full reload during the test
    asked: list[frozenset[str] | None] = []

    def refresh(changed_paths: Collection[str] | None) -> object:
        asked.append(None if changed_paths is None else frozenset(changed_paths))
        return runtime.refresh(changed_paths)

    watcher.on_change = refresh
    try:
        runtime.start_watching()
        assert watcher.wait_established(timeout=30)
        asked.clear()
        (content_dir / "2025" / "nieuw").mkdir()
        write_article("2025/nieuw/eerste.txt", title="Eerste in nieuw", published="14-03-2025")
        wait_until(lambda: "Eerste in nieuw" in titles(runtime), what="the new folder's file")
        # A later edit inside the new folder: served only if the folder is watched, and
        # reloaded by the same thread after whatever setting up its watch reloaded.
        write_article("2025/nieuw/tweede.txt", title="Tweede in nieuw", published="15-03-2025")
        wait_until(lambda: "Tweede in nieuw" in titles(runtime), what="an edit in the new folder")
        assert asked, "nothing was reloaded"
        assert all(asked), f"a reload of everything: {asked}"
    finally:
        runtime.close()


def test_an_edit_while_a_new_folder_is_being_watched_is_not_left_for_the_rescan(
    content_dir: Path,
    write_article: ArticleWriter,
    watching: Callable[..., Runtime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the watches are set up again for a new folder, edits in an old folder and in the
    new one raise no event on the new watches; both are served without the periodic rescan."""
    from feedsvc.articles import watcher as watcher_module  # noqa: PLC0415

    aged(write_article("2025/maart.txt", title="In maart", published="13-03-2025"))
    real_watch = watcher_module.watchfiles.watch
    calls: list[int] = []

    def watch_after_edits(*paths: object, **options: object) -> object:
        calls.append(1)
        if len(calls) == 2:  # setting up again, for the new folder
            write_article("2025/tussendoor.txt", title="Tussendoor oud", published="14-03-2025")
            write_article("2025/nieuw/binnen.txt", title="Tussendoor nieuw", published="15-03-2025")
        return real_watch(*paths, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(watcher_module.watchfiles, "watch", watch_after_edits)
    runtime = watching()
    watcher = runtime.watcher
    assert watcher is not None
    watcher.rescan_seconds = 3600.0  # only the watches themselves can bring the edits in
    assert watcher.wait_established(timeout=30)
    (content_dir / "2025" / "nieuw").mkdir()
    wait_until(lambda: len(calls) >= 2, what="the watches set up again")
    wait_until(
        lambda: {"Tussendoor oud", "Tussendoor nieuw"} <= set(titles(runtime)),
        what="both edits made while the watches were set up again",
    )


def test_the_periodic_rescan_goes_a_folder_at_a_time_and_now_and_then_over_everything() -> None:
    parts = ["/inhoud/2024", "/inhoud/2025"]
    turns = [rescan_scope(parts, turn) for turn in range(2 * (2 * FULL_RESCAN_ROUNDS + 1))]
    assert turns.count(None) == 2  # the whole folder once per FULL_RESCAN_ROUNDS rounds
    whole = turns.index(None)
    assert whole == 2 * FULL_RESCAN_ROUNDS
    for scope in turns[:whole]:
        assert scope is not None
        (path,) = scope
        assert path in {"/inhoud/2024/", "/inhoud/2025/"}  # a path inside: that folder, below
    for start in range(0, whole, 2):  # each part once per round
        assert turns[start] != turns[start + 1]
    assert rescan_scope([], 3) is None  # no folders below the root: the whole folder each time


def test_the_periodic_rescan_takes_the_folders_the_watcher_reads_just_below_the_root(
    tmp_path: Path,
) -> None:
    root = tmp_path / "inhoud"
    for folder in ("2024/maart", "2025", ".verborgen", "elders"):
        (root / folder).mkdir(parents=True)
    (root / "koppeling").symlink_to(root / "elders", target_is_directory=True)
    (root / "los.txt").write_text("geen map", "utf-8")
    parts = rescan_parts(str(root))
    # Not the root itself, nothing deeper, no hidden folder, no link to a folder.
    assert sorted(parts) == [str(root / "2024"), str(root / "2025"), str(root / "elders")]


def test_the_watcher_rescans_each_folder_and_the_whole_folder_periodically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("feedsvc.articles.watcher.FULL_RESCAN_ROUNDS", 1)
    for year in ("2024", "2025"):
        (tmp_path / year).mkdir()
    asked: list[Collection[str] | None] = []
    watcher = ContentWatcher(tmp_path, asked.append, rescan_seconds=0.4, missing_poll_seconds=0.1)
    watcher.ensure_running()
    try:
        assert watcher.wait_established(timeout=30)
        wait_until(lambda: len(asked) >= 10, what="six periodic rescans")
    finally:
        watcher.stop()
    # The reloads at start (the whole folder, before and after the watch), then the rescans:
    # each folder, one at a time, then the whole folder.
    start_reloads = next(n for n, scope in enumerate(asked) if scope is not None)
    assert start_reloads >= 2
    periodic = asked[start_reloads : start_reloads + 6]
    expected = {frozenset({f"{tmp_path / year}/"}) for year in ("2024", "2025")}
    for start in (0, 3):
        assert {periodic[start], periodic[start + 1]} == expected, periodic
        assert periodic[start + 2] is None, periodic


def test_with_stale_the_periodic_rescan_reloads_only_what_it_names_and_holds_up_no_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("feedsvc.articles.watcher.FULL_RESCAN_ROUNDS", 1000)  # folders only
    (tmp_path / "2024").mkdir()
    (tmp_path / "2025").mkdir()
    asked: list[Collection[str] | None] = []
    scopes: list[Collection[str] | None] = []
    release = threading.Event()
    answers: dict[str, frozenset[str] | None] = {
        f"{tmp_path / '2024'}/": frozenset({str(tmp_path / "2024/a.txt")}),
        f"{tmp_path / '2025'}/": None,  # cannot say: the folder is reloaded
    }

    def stale(scope: Collection[str] | None) -> frozenset[str] | None:
        scopes.append(scope)
        if len(scopes) == 1:
            release.wait(120)  # a slow walk (longer than wait_until gives the edit)
        assert scope is not None
        return answers[next(iter(scope))]

    watcher = ContentWatcher(tmp_path, asked.append, rescan_seconds=0.2, stale=stale)
    watcher.ensure_running()
    try:
        assert watcher.wait_established(timeout=30)
        wait_until(lambda: len(scopes) >= 1, what="the first periodic rescan")
        edited = tmp_path / "2025" / "b.txt"
        edited.write_text(article_text(), encoding="utf-8")
        # Reloaded while the rescan is still walking.
        wait_until(lambda: any(s and str(edited) in s for s in asked), what="the edit's reload")
        assert len(scopes) == 1
        release.set()
        wait_until(lambda: len(scopes) >= 3, what="two more periodic rescans")
    finally:
        release.set()
        watcher.stop()
    assert frozenset({str(tmp_path / "2024/a.txt")}) in asked  # only what stale named
    assert frozenset({f"{tmp_path / '2025'}/"}) in asked  # the folder, where it could not say


def test_the_periodic_rescan_outlives_a_turn_that_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn that fails (here the settling check after its reload; in life, no thread left
    for the settling timer) is logged, and the next turns still rescan."""
    monkeypatch.setattr("feedsvc.articles.watcher.FULL_RESCAN_ROUNDS", 1000)
    (tmp_path / "2024").mkdir()
    asked: list[Collection[str] | None] = []
    failed: list[str] = []

    def settling() -> tuple[float, frozenset[str]] | None:
        if threading.current_thread().name == "content-rescan" and not failed:
            failed.append("once")
            raise RuntimeError("can't start new thread")
        return None

    watcher = ContentWatcher(tmp_path, asked.append, rescan_seconds=0.2, settling=settling)
    watcher.ensure_running()
    try:
        assert watcher.wait_established(timeout=30)
        wait_until(lambda: bool(failed), what="the failing turn")
        after = len(asked)
        wait_until(lambda: len(asked) >= after + 2, what="two more periodic rescans")
        assert watcher.status().problem is None
    finally:
        watcher.stop()


class _Fatal(BaseException):
    """What no handler in the watcher catches."""


def test_the_watcher_reports_a_periodic_rescan_that_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "2024").mkdir()

    def stale(scope: Collection[str] | None) -> frozenset[str] | None:
        raise _Fatal

    watcher = ContentWatcher(tmp_path, lambda changed: None, rescan_seconds=0.2, stale=stale)
    # The thread's end is the point, not its traceback.
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    watcher.ensure_running()
    try:
        assert watcher.wait_established(timeout=30)
        wait_until(
            lambda: watcher.status().problem == "the periodic rescan stopped",
            what="the status naming the rescan that stopped",
        )
        assert watcher.status().running  # the watching thread itself goes on
    finally:
        watcher.stop()


def test_a_rescan_walking_when_the_watcher_stops_reloads_nothing(tmp_path: Path) -> None:
    (tmp_path / "2024").mkdir()
    asked: list[Collection[str] | None] = []
    walking, release = threading.Event(), threading.Event()

    def stale(scope: Collection[str] | None) -> frozenset[str] | None:
        walking.set()
        release.wait(120)
        return None  # cannot say: without the stop, the scope would be reloaded

    watcher = ContentWatcher(tmp_path, asked.append, rescan_seconds=0.2, stale=stale)
    watcher.ensure_running()
    stopper = threading.Thread(target=watcher.stop)
    try:
        assert watcher.wait_established(timeout=30)
        assert walking.wait(timeout=60)
        before = len(asked)
        stopper.start()
        wait_until(lambda: not watcher.status().running, what="the watching thread stopped")
    finally:
        release.set()
    stopper.join(timeout=60)
    assert not stopper.is_alive()
    assert asked[before:] == []

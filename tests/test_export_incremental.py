"""An edit's export, built in a spare tree brought up to date path by path, gives the site a
full export would, keeps the generation before whole, and keeps what others put in the site."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import BUNDLED_CONTENT, article_text
from flask import Flask
from websub_hub import wait_until

from feedsvc import cli
from feedsvc.cli import _Publisher, prepare_to_watch
from feedsvc.deploy.export import ExportError, SiteExporter, file_for, read_manifest
from feedsvc.deploy.sitemap import SitePage
from feedsvc.feeds.state import PublishedState
from feedsvc.runtime import Runtime

ARTICLE = "2025/003_waternet-vervangt-waterleiding-bovenkerk.txt"
NEWEST = "2026/013_begroting-2027-aangenomen.txt"


def tree(public: Path) -> dict[str, bytes]:
    return {
        path.relative_to(public).as_posix(): path.read_bytes()
        for path in public.rglob("*")
        if path.is_file()
    }


def write_later(path: Path, text: str) -> None:
    """Write ``text`` with an mtime later than the file had, as a real edit a second later."""
    before = path.stat().st_mtime_ns if path.exists() else time.time_ns()
    path.write_text(text, "utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def edit(folder: Path, word: str) -> None:
    path = folder / ARTICLE
    write_later(path, path.read_text("utf-8").replace("Waternet", f"Waternet ({word})", 1))


def add(folder: Path) -> None:
    write_later(folder / "2026/999_nieuw.txt", article_text(title="Nieuw", published="25-11-2026"))


def remove_added(folder: Path) -> None:
    (folder / "2026/999_nieuw.txt").unlink()


def delete_newest(folder: Path) -> None:
    (folder / NEWEST).unlink()


def new_source(folder: Path) -> None:
    write_later(
        folder / "2024/998_bron.txt",
        article_text(title="Van een nieuwe bron", source="Zwemclub De Poel", published="2-2-2024"),
    )


def export_edit(app: Flask, exporter: SiteExporter, content: Path, word: str) -> None:
    """Edit the content, reload it as the watcher would, and export the edit."""
    edit(content, word)
    refresh(app)
    exporter.export()


def full_export(make_app: Callable[..., Flask], content: Path, outdir: Path) -> dict[str, bytes]:
    """The site a new process exports from ``content`` into an empty folder."""
    SiteExporter(make_app(content), outdir).export()
    return tree(outdir / "public")


def trees_by_inode(outdir: Path) -> dict[int, str]:
    """The inode of every generation and spare folder there is."""
    found: dict[int, str] = {}
    for folder in ("generations", "spare"):
        for entry in os.scandir(outdir / folder) if (outdir / folder).is_dir() else ():
            if entry.is_dir(follow_symlinks=False):
                found[entry.inode()] = f"{folder}/{entry.name}"
    return found


def exported_twice_since(
    make_app: Callable[..., Flask], content: Path, outdir: Path
) -> tuple[Flask, SiteExporter]:
    """An app and its exporter after a first export of ``content`` and two edits' exports:
    the next export is built in a reused tree (a spare brought up to date)."""
    app = make_app(content)
    exporter = SiteExporter(app, outdir)
    exporter.export()
    for number in range(2):
        export_edit(app, exporter, content, str(number))
    return app, exporter


def watched_export(app: Flask, outdir: Path) -> _Publisher:
    """What ``export --watch`` has before it watches: its first export, and the state file."""
    publisher = _Publisher(SiteExporter(app, outdir), None, watch=True)
    publisher.export()
    prepare_to_watch(publisher.exporter.service)
    return publisher


def refresh(app: Flask) -> None:
    service: Runtime = app.extensions["feedsvc"]
    service.refresh()


# With 20 URLs per sitemap file the site has several, and an edit changes only some of them
# (the others are reused from the sitemaps before).
@pytest.mark.parametrize("sitemap_limit", [50_000, 20])
def test_a_run_of_edits_gives_what_a_full_export_gives_and_keeps_the_site_before(
    copy_of_bundled_content: Path,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    sitemap_limit: int,
) -> None:
    content = copy_of_bundled_content
    app = make_app(content, PAGE_SIZE=5, SITEMAP_LIMIT=sitemap_limit)
    live = tmp_path / "live"
    exporter = SiteExporter(app, live)
    exporter.export()
    steps: list[Callable[[Path], None]] = [
        lambda folder: edit(folder, "een"),
        add,
        delete_newest,
        new_source,
        lambda folder: edit(folder, "twee"),
        remove_added,
        lambda folder: edit(folder, "drie"),
    ]
    for number, step in enumerate(steps):
        before = tree(live / "public")
        old_generation = (live / "public").resolve()
        trees_before = trees_by_inode(live)
        step(content)
        refresh(app)
        report = exporter.export()
        assert report.rendered < report.pages
        after = tree(live / "public")
        # The same site as a new process exporting the same content into an empty folder.
        fresh = tmp_path / f"fresh{number}"
        SiteExporter(make_app(content, PAGE_SIZE=5, SITEMAP_LIMIT=sitemap_limit), fresh).export()
        assert after == tree(fresh / "public"), number
        # The generation before is whole and unchanged, for readers still in it.
        assert tree(old_generation) == before
        # Built in one of the trees that were there, not in a new one.
        assert os.stat(live / "public").st_ino in trees_before, number
        assert read_manifest(live)[0] == set(after)
        assert report.written == sum(1 for f in after if before.get(f) != after[f])
        assert report.removed == len(before.keys() - after.keys())


def test_a_new_process_removes_what_an_earlier_one_wrote_in_an_edit(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    content = copy_of_bundled_content
    app = make_app(content)
    exporter = SiteExporter(app, tmp_path)
    exporter.export()
    add(content)
    refresh(app)
    exporter.export()
    page = tmp_path / "public/artikelen/2026/999_nieuw.html"
    assert page.is_file()
    remove_added(content)
    app = make_app(content)
    exporter = SiteExporter(app, tmp_path)
    exporter.export()
    assert not page.exists()
    # The new process's edits are built in the trees the earlier one left, too.
    for number in range(3):
        trees_before = trees_by_inode(tmp_path)
        export_edit(app, exporter, content, str(number))
        assert os.stat(tmp_path / "public").st_ino in trees_before, number
    assert tree(tmp_path / "public") == full_export(make_app, content, tmp_path / "fresh")


def test_files_someone_else_puts_in_or_takes_out_are_respected(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    content = copy_of_bundled_content
    app = make_app(content)
    exporter = SiteExporter(app, tmp_path)
    exporter.export()
    mine = "artikelen/2025/google0123456789abcdef.html"
    for number in range(4):  # every tree takes its turn
        if number == 0:
            (tmp_path / "public" / mine).write_text("verificatie\n")
        export_edit(app, exporter, content, str(number))
        assert (tmp_path / "public" / mine).read_text() == "verificatie\n", number
    (tmp_path / "public" / mine).unlink()
    for number in range(4):
        export_edit(app, exporter, content, f"weg {number}")
        assert not (tmp_path / "public" / mine).exists(), number


def test_an_edit_export_that_fails_leaves_the_site_and_the_next_one_is_whole(
    copy_of_bundled_content: Path,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content = copy_of_bundled_content
    app, exporter = exported_twice_since(make_app, content, tmp_path)
    before = tree(tmp_path / "public")
    written: list[str] = []
    real_write = SiteExporter._write

    def failing(self: SiteExporter, relpath: str, data: bytes, mtime: int) -> tuple[bool, bool]:
        if written:
            raise ExportError(f"{relpath}: cannot be written: disk full")
        written.append(relpath)
        return real_write(self, relpath, data, mtime)

    monkeypatch.setattr(SiteExporter, "_write", failing)
    delete_newest(content)
    refresh(app)
    with pytest.raises(ExportError, match="disk full"):
        exporter.export()
    assert tree(tmp_path / "public") == before
    monkeypatch.undo()
    for number in range(3):
        export_edit(app, exporter, content, f"daarna {number}")
    assert tree(tmp_path / "public") == full_export(make_app, content, tmp_path / "fresh")


def test_an_edit_export_writing_two_pages_to_one_file_fails_naming_it(
    copy_of_bundled_content: Path,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a reused tree, where every file of the site is there already: the edited article's
    page made to be the front page's file is caught, whether the front page is rendered again
    or not."""
    content = copy_of_bundled_content
    app, exporter = exported_twice_since(make_app, content, tmp_path)
    before = tree(tmp_path / "public")
    render = SiteExporter._render
    stem = Path(ARTICLE).stem.partition("_")[2]
    edited: list[str] = []

    def article_as_front_page(self: SiteExporter, page: SitePage) -> Any:
        rendered = render(self, page)
        if page.path.startswith("/artikelen/") and stem in page.path:
            edited.append(page.path)
            rendered.files = {"index.html": rendered.files[file_for(page.path)]}
        return rendered

    monkeypatch.setattr(SiteExporter, "_render", article_as_front_page)
    edit(content, "twee")
    refresh(app)
    with pytest.raises(ExportError, match=r"^two pages would be written to index\.html$"):
        exporter.export()
    assert edited
    assert tree(tmp_path / "public") == before
    monkeypatch.undo()
    export_edit(app, exporter, content, "daarna")
    assert tree(tmp_path / "public") == full_export(make_app, content, tmp_path / "fresh")


def test_the_nginx_configuration_follows_the_feeds_across_edits(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    content = copy_of_bundled_content
    app = make_app(content)
    exporter = SiteExporter(app, tmp_path)
    exporter.export()
    config = tmp_path / "nginx/feedsvc.conf"
    assert "zwemclub-de-poel" not in config.read_text()
    edit(content, "een")
    refresh(app)
    assert not exporter.export().nginx_changed
    new_source(content)  # a new source: a new feed, with a location of its own
    refresh(app)
    assert exporter.export().nginx_changed
    assert "/feeds/bron/zwemclub-de-poel.rss" in config.read_text()
    config.unlink()  # taken away by someone: written again
    export_edit(app, exporter, content, "twee")
    assert "/feeds/bron/zwemclub-de-poel.rss" in config.read_text()


@pytest.mark.parametrize("rewrite_after", [1, 10**9])
def test_a_long_watch_keeps_few_change_lists_and_a_manifest_a_new_process_can_use(
    copy_of_bundled_content: Path,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rewrite_after: int,
) -> None:
    monkeypatch.setattr("feedsvc.deploy.export.MANIFEST_REWRITE_PATHS", rewrite_after)
    content = copy_of_bundled_content
    app = make_app(content)
    live = tmp_path / "live"
    exporter = SiteExporter(app, live)
    exporter.export()
    # 1: the manifest is written again after every edit; 10**9: never (the site's files are
    # a few hundred, so a quarter of them is more than an edit changes).
    edits = 8
    for number in range(edits):
        export_edit(app, exporter, content, str(number))
    lists = sorted(int(name) for name in os.listdir(live / "export-changes"))
    current = int((live / "public").resolve().name)
    if rewrite_after == 1:
        # Only the lists the spare trees need to catch up: a few, however many edits.
        assert len(lists) <= 3, lists
        assert lists[-1] == current
    else:
        assert len(lists) >= edits  # the manifest of the first export, and every edit since
    public = tree(live / "public")
    assert read_manifest(live)[0] == set(public)
    # A new process goes on from the manifest and the lists, and removes what the edits wrote.
    add(content)
    refresh(app)
    exporter.export()
    remove_added(content)
    assert tree(live / "public") != public
    SiteExporter(make_app(content), live).export()
    assert tree(live / "public") == full_export(make_app, content, tmp_path / "fresh")


def test_export_watch_exports_an_edit_before_it_writes_the_state_file(
    copy_of_bundled_content: Path,
    make_app: Callable[..., Flask],
    state_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Merging the state journal into the state file (the whole file written) comes after the
    edit's export, so the edit does not wait for it; and it does come."""
    # Due after every edit (in a long watch, once the journal has grown to a quarter of it).
    monkeypatch.setattr(PublishedState, "journal_outgrew_file", lambda self, floor: True)
    content = copy_of_bundled_content
    publisher = watched_export(make_app(content), tmp_path / "out")
    done: list[str] = []
    real_export, real_save = SiteExporter.export, Runtime.save_state

    def export(self: SiteExporter) -> object:
        done.append("export")
        return real_export(self)

    def save_state(self: Runtime) -> None:
        done.append("state")
        real_save(self)

    monkeypatch.setattr(SiteExporter, "export", export)
    monkeypatch.setattr(Runtime, "save_state", save_state)
    edit(content, "een")
    cli.export_edit(publisher, [str(content / ARTICLE)])

    assert done == ["export", "state"]
    assert not (state_dir / "published.journal").exists()  # merged into the file
    exported = (tmp_path / "out/public/feeds/all.rss").read_bytes()
    assert b"Waternet (een)" in exported


class ObservedLock:
    """A lock that notes when an acquirer had to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waited = threading.Event()

    def __enter__(self) -> ObservedLock:
        if not self._lock.acquire(blocking=False):
            self.waited.set()
            self._lock.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def test_export_watch_exports_changes_found_at_once_by_two_threads_one_after_the_other(
    copy_of_bundled_content: Path,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The watching thread and the periodic rescan's thread each find a change while the
    other's export runs: the second export waits, and both changes are exported (a second
    export at once would find the output folder locked, and its change would wait for the
    next one)."""
    content = copy_of_bundled_content
    publisher = watched_export(make_app(content), tmp_path / "out")
    locks: list[ObservedLock] = []

    def observed_lock() -> ObservedLock:
        locks.append(ObservedLock())
        return locks[-1]

    monkeypatch.setattr(cli, "Lock", observed_lock)
    update = cli.edits_one_at_a_time(publisher)
    (lock,) = locks
    inside, release = threading.Event(), threading.Event()
    running: list[int] = []
    most = [0]
    real_export = SiteExporter.export

    def export(self: SiteExporter) -> object:
        running.append(1)
        most[0] = max(most[0], len(running))
        try:
            inside.set()
            assert release.wait(timeout=120)
            return real_export(self)
        finally:
            running.pop()

    monkeypatch.setattr(SiteExporter, "export", export)
    edit(content, "een")
    first = threading.Thread(target=update, args=([str(content / ARTICLE)],))
    second = threading.Thread(target=update, args=([str(content / "2026/999_nieuw.txt")],))
    first.start()
    try:
        assert inside.wait(timeout=60)
        add(content)
        second.start()
        wait_until(lock.waited.is_set, what="the second export waiting for the first")
    finally:
        release.set()
    first.join(timeout=120)
    second.join(timeout=120)
    assert not first.is_alive()
    assert not second.is_alive()

    assert most == [1]
    assert "Error" not in capsys.readouterr().err
    exported = (tmp_path / "out/public/feeds/all.rss").read_bytes()
    assert b"Waternet (een)" in exported
    assert b"<title>Nieuw</title>" in exported


def test_a_kept_page_missing_a_sibling_is_made_again_whole(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """A page the edit leaves alone, whose last file (its brotli sibling) someone took out of
    the site: its first files link before the missing one is found, and the page is rendered
    again over them."""
    content = copy_of_bundled_content
    app = make_app(content)
    exporter = SiteExporter(app, tmp_path / "out")
    exporter.export()
    public = tmp_path / "out" / "public"
    stylesheet = next(
        path for path in sorted(public.rglob("*.css.br")) if path.with_suffix("").is_file()
    )
    stylesheet.unlink()
    export_edit(app, exporter, content, "zonder")
    assert tree(public) == full_export(make_app, content, tmp_path / "fresh")


def test_a_first_export_leaves_two_spares_that_are_hard_link_copies_of_the_site(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    # The two spares are copied side by side; each must be the whole generation, file by file
    # the same inode, so that the next two edits can each start from one.
    SiteExporter(make_app(BUNDLED_CONTENT), tmp_path).export()
    generation = (tmp_path / "public").resolve()
    files = {
        path.relative_to(generation).as_posix(): path.stat().st_ino
        for path in generation.rglob("*")
        if path.is_file()
    }
    folders = {p.relative_to(generation).as_posix() for p in generation.rglob("*") if p.is_dir()}
    spares = sorted((tmp_path / "spare").iterdir())
    assert [spare.name for spare in spares] == [f"{generation.name}.0", f"{generation.name}.1"]
    for spare in spares:
        copied = {
            path.relative_to(spare).as_posix(): path.stat().st_ino
            for path in spare.rglob("*")
            if path.is_file()
        }
        assert copied == files
        assert {p.relative_to(spare).as_posix() for p in spare.rglob("*") if p.is_dir()} == folders

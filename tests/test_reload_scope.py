"""Reloads limited to what a watcher says changed: the files it names, or the folders it names
(and below); the same result as a full rescan for every change the events name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ArticleWriter, article_text, live_catalog

from feedsvc.articles import store as store_module
from feedsvc.feeds.live import LiveCatalog
from feedsvc.settings import Settings


@pytest.fixture
def store(content_dir: Path, write_article: ArticleWriter) -> LiveCatalog:
    write_article("2024/a.txt", title="A", published="01-02-2024")
    write_article("2024/b.txt", title="B", published="02-02-2024")
    write_article("2025/c.txt", title="C", published="03-02-2025", category="Sport")
    write_article("2025/deep/d.txt", title="D", published="04-02-2025")
    store = live_catalog(Settings(content_dir=content_dir, watch_content=False))
    store.reload()
    return store


def fresh(content_dir: Path) -> LiveCatalog:
    return live_catalog(Settings(content_dir=content_dir, watch_content=False))


def full(content_dir: Path) -> list[tuple[str, str]]:
    return [(a.id, a.title) for a in fresh(content_dir).reload().catalog.articles]


def later(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 2_000_000_000))


def test_a_scoped_reload_reads_only_the_changed_files(
    store: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    before = {a.id: a for a in store.catalog.articles}
    later(write_article("2024/a.txt", title="A, aangepast", published="01-02-2024"))
    write_article("2024/e.txt", title="E", published="05-02-2024")
    (content_dir / "2024/b.txt").unlink()
    named = ("2024/a.txt", "2024/e.txt", "2024/b.txt", "2024/.a.txt.swp")
    report = store.reload([str(content_dir / path) for path in named])
    assert report.files_parsed == 2
    assert [(a.id, a.title) for a in report.catalog.articles] == full(content_dir)
    after = {a.id: a for a in report.catalog.articles}
    assert after["2025/c"] is before["2025/c"]  # untouched folders: the same objects
    assert after["2025/deep/d"] is before["2025/deep/d"]


def test_a_scoped_reload_does_not_look_elsewhere(
    store: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    later(write_article("2025/c.txt", title="C, stil aangepast", category="Sport"))
    later(write_article("2024/a.txt", title="A, aangepast", published="01-02-2024"))
    scoped = store.reload([str(content_dir / "2024/a.txt")])
    titles = {a.id: a.title for a in scoped.catalog.articles}
    assert titles["2024/a"] == "A, aangepast"
    assert titles["2025/c"] == "C"  # not rescanned: no event named it
    assert {a.id: a.title for a in store.reload().catalog.articles}["2025/c"] == (
        "C, stil aangepast"
    )


def test_a_reload_of_named_files_does_not_look_at_their_neighbours(
    store: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    later(write_article("2024/b.txt", title="B, stil aangepast", published="02-02-2024"))
    later(write_article("2024/a.txt", title="A, aangepast", published="01-02-2024"))
    report = store.reload([str(content_dir / "2024/a.txt")])
    assert report.files_parsed == 1
    titles = {a.id: a.title for a in report.catalog.articles}
    assert (titles["2024/a"], titles["2024/b"]) == ("A, aangepast", "B")
    assert {a.id: a.title for a in store.reload().catalog.articles}["2024/b"] == (
        "B, stil aangepast"
    )


def test_a_change_in_a_subfolder_rescans_it_and_below(
    store: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    write_article("2025/deep/f.txt", title="F", published="06-02-2025")
    report = store.reload([str(content_dir / "2025/deep")])  # the event named the folder
    assert [(a.id, a.title) for a in report.catalog.articles] == full(content_dir)


def test_a_change_at_the_top_rescans_everything(
    store: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    write_article("2026/g.txt", title="G", published="07-02-2026")
    report = store.reload([str(content_dir / "2026")])  # a new folder: its parent is the top
    assert report.files_seen == 5
    assert [(a.id, a.title) for a in report.catalog.articles] == full(content_dir)


def test_a_deleted_folder_takes_its_articles_along(store: LiveCatalog, content_dir: Path) -> None:
    for path in (content_dir / "2025/deep").iterdir():
        path.unlink()
    (content_dir / "2025/deep").rmdir()
    report = store.reload([str(content_dir / "2025/deep/d.txt")])
    assert "2025/deep/d" not in {a.id for a in report.catalog.articles}
    assert [(a.id, a.title) for a in report.catalog.articles] == full(content_dir)


def test_a_change_of_a_path_with_a_problem_rescans_its_folder(
    store: LiveCatalog, content_dir: Path
) -> None:
    link = content_dir / "2024/link.txt"
    link.symlink_to(content_dir / "2025/c.txt")
    report = store.reload([str(link)])
    assert [p.path for p in report.catalog.problems] == ["2024/link.txt"]
    link.unlink()
    report = store.reload([str(link)])
    assert report.catalog.problems == ()
    link.write_text(article_text(title="Geen koppeling meer"), encoding="utf-8")
    report = store.reload([str(link)])
    assert report.catalog.problems == ()
    assert [(a.id, a.title) for a in report.catalog.articles] == full(content_dir)


def problems(catalog: LiveCatalog) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in catalog.catalog.problems]


@pytest.fixture
def messy(store: LiveCatalog, content_dir: Path) -> LiveCatalog:
    """The store's folder with problems of names, links and folders in both years, reloaded."""
    (content_dir / "2024/link.txt").symlink_to(content_dir / "2024/a.txt")
    (content_dir / "2025/deep/link.txt").symlink_to(content_dir / "2024/a.txt")
    (content_dir / "2025/map.txt").mkdir()  # a folder named like an article file
    (content_dir / "2025/pagina.html").mkdir()  # a folder whose files are not read
    (content_dir / "2025/pagina.html/x.txt").write_text(article_text(), encoding="utf-8")
    store.reload()
    assert len(problems(store)) == 4
    return store


def test_problems_with_names_elsewhere_leave_an_edit_to_a_reload_of_its_file(
    messy: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    """Real folders have a link or a bad name somewhere: an edit is still read alone, not
    with a rescan of the whole folder, and the problems stay as a rescan finds them."""
    before = problems(messy)
    later(write_article("2025/c.txt", title="C, stil aangepast", category="Sport"))
    later(write_article("2024/a.txt", title="A, aangepast", published="01-02-2024"))
    report = messy.reload([str(content_dir / "2024/a.txt")])
    assert report.files_parsed == 1
    titles = {a.id: a.title for a in report.catalog.articles}
    assert (titles["2024/a"], titles["2025/c"]) == ("A, aangepast", "C")  # c: no event
    assert problems(messy) == before == problems(fresh(content_dir).reload())


def test_a_rescan_of_one_folder_keeps_problems_with_names_elsewhere_in_order(
    messy: LiveCatalog, content_dir: Path
) -> None:
    (content_dir / "2025/tweede.txt").symlink_to(content_dir / "2024/a.txt")
    (content_dir / "2025/deep/link.txt").unlink()
    messy.reload([os.path.join(content_dir / "2025", "")])  # the periodic rescan's scope
    whole = fresh(content_dir)
    whole.reload()
    assert problems(messy) == problems(whole)
    assert messy.store.problems() == whole.store.problems()  # in the walk's order too
    assert [path for path, _ in problems(messy)] == [
        "2024/link.txt",
        "2025/map.txt",
        "2025/pagina.html",
        "2025/tweede.txt",
    ]
    # A folder before those whose problems are kept: they still come after its own.
    (content_dir / "2024/derde.txt").symlink_to(content_dir / "2024/a.txt")
    messy.reload([os.path.join(content_dir / "2024", "")])
    whole.reload()
    assert messy.store.problems() == whole.store.problems()


def test_a_file_in_a_folder_that_is_not_read_is_not_read_for_its_event(
    messy: LiveCatalog, content_dir: Path
) -> None:
    hidden = content_dir / "2025/pagina.html/x.txt"
    later(hidden)
    report = messy.reload([str(hidden)])
    assert "2025/pagina.html/x" not in {a.id for a in report.catalog.articles}
    assert problems(messy) == problems(fresh(content_dir).reload())


def test_a_rescan_of_one_folder_keeps_the_problems_found_elsewhere(
    store: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    # Warnings (an update dated before the article) in both year folders, as one rescan sees.
    later(write_article("2024/a.txt", updated="1 januari 2024", published="01-02-2024"))
    later(write_article("2025/c.txt", updated="1 januari 2025", published="03-02-2025"))
    assert sorted(p.path for p in store.reload().catalog.problems) == ["2024/a.txt", "2025/c.txt"]

    # The 2025 folder rescanned, as the watcher's periodic rescan does (a path inside it):
    # its warning mended, the 2024 one kept, and a new one in the folder found.
    later(write_article("2025/c.txt", title="C", published="03-02-2025", category="Sport"))
    later(write_article("2025/deep/d.txt", updated="1 januari 2025", published="04-02-2025"))
    report = store.reload([os.path.join(content_dir / "2025", "")])
    found = sorted((p.path, p.severity.value) for p in report.catalog.problems)
    assert found == [("2024/a.txt", "warning"), ("2025/deep/d.txt", "warning")]
    assert found == sorted(
        (p.path, p.severity.value) for p in fresh(content_dir).reload().catalog.problems
    )


def settled(content_dir: Path) -> None:
    """Every file dated well before now: no entry is racy, read again for its timestamp."""
    for path in content_dir.rglob("*.txt"):
        os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))


def test_stale_names_what_a_rescan_would_read_again_and_reads_nothing(
    write_article: ArticleWriter, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_article("2024/a.txt", title="A", published="01-02-2024")
    write_article("2024/b.txt", title="B", published="02-02-2024")
    write_article("2025/c.txt", title="C", published="03-02-2025", category="Sport")
    settled(content_dir)
    catalog = fresh(content_dir)
    catalog.reload()
    store = catalog.store
    assert store.stale(None) == frozenset()

    later(write_article("2024/a.txt", title="A, aangepast", published="01-02-2024"))
    write_article("2024/e.txt", title="E", published="05-02-2024")
    (content_dir / "2025/c.txt").unlink()
    monkeypatch.setattr(store_module, "_read_article_file", None)  # it reads no file
    everywhere = store.stale(None)
    in_2024 = store.stale([os.path.join(content_dir / "2024", "")])
    monkeypatch.undo()

    paths = {str(content_dir / name) for name in ("2024/a.txt", "2024/e.txt", "2025/c.txt")}
    assert everywhere == paths
    assert in_2024 == paths - {str(content_dir / "2025/c.txt")}
    # Reloading exactly those files gives what a full rescan finds.
    report = catalog.reload(everywhere)
    assert [(a.id, a.title) for a in report.catalog.articles] == full(content_dir)


def test_stale_leaves_a_problem_with_a_name_to_a_rescan(content_dir: Path) -> None:
    (content_dir / "2024").mkdir(parents=True)
    (content_dir / "2024/a.txt").write_text(article_text(), encoding="utf-8")
    settled(content_dir)
    catalog = fresh(content_dir)
    catalog.reload()
    (content_dir / "2024/link.txt").symlink_to(content_dir / "2024/a.txt")
    assert catalog.store.stale(None) is None
    (content_dir / "2024/link.txt").unlink()
    assert catalog.store.stale(None) == frozenset()


def test_stale_passes_over_problems_a_rescan_would_find_again(
    messy: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    settled(content_dir)
    messy.reload()
    store = messy.store
    assert store.stale(None) == frozenset()
    assert store.stale([os.path.join(content_dir / "2025", "")]) == frozenset()
    later(write_article("2025/c.txt", title="C, stil aangepast", category="Sport"))
    assert store.stale(None) == {str(content_dir / "2025/c.txt")}
    (content_dir / "2025/deep/link.txt").unlink()  # a problem gone: only a rescan clears it
    assert store.stale(None) is None
    assert store.stale([os.path.join(content_dir / "2024", "")]) == frozenset()


def test_a_rescan_of_a_folder_named_like_an_article_file_keeps_its_own_problem(
    store: LiveCatalog, write_article: ArticleWriter, content_dir: Path
) -> None:
    """Its problem is a name in its parent's listing, which a rescan of the folder itself (the
    watcher's, once it watches the new folder) does not list."""
    folder = content_dir / "2025/map.txt"
    folder.mkdir()
    store.reload([str(folder)])
    store.reload([os.path.join(folder, "")])  # the new folder, watched and rescanned
    assert problems(store) == problems(fresh(content_dir).reload())
    write_article("2025/map.txt/binnen.txt", title="Binnen", published="05-02-2025")
    store.reload([str(folder / "binnen.txt")])
    assert problems(store) == problems(fresh(content_dir).reload())
    assert [path for path, _ in problems(store)] == ["2025/map.txt"]


def test_stale_settles_beside_a_top_folder_named_like_an_article_file(
    store: LiveCatalog, content_dir: Path
) -> None:
    (content_dir / "archief.txt").mkdir()
    settled(content_dir)
    store.reload()
    assert [path for path, _ in problems(store)] == ["archief.txt"]
    assert store.store.stale([os.path.join(content_dir / "archief.txt", "")]) == frozenset()
    store.reload([os.path.join(content_dir / "archief.txt", "")])
    assert [path for path, _ in problems(store)] == ["archief.txt"]

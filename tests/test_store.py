"""``ContentStore`` through its public API, on content folders built in ``tmp_path``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ArticleWriter, live_catalog
from file_access import watch_file_access

from feedsvc.articles.parser import MAX_ARTICLE_BYTES
from feedsvc.errors import ContentProblem, Severity
from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.live import CatalogReload, LiveCatalog
from feedsvc.settings import Settings


def store_for(folder: Path) -> LiveCatalog:
    return live_catalog(Settings.from_mapping({"CONTENT_DIR": str(folder)}))


def loaded(folder: Path) -> Catalog:
    return store_for(folder).reload().catalog


def ids(catalog: Catalog) -> list[str]:
    return [article.id for article in catalog.articles]


def problems(catalog: Catalog) -> list[tuple[str, int, Severity]]:
    return [(p.path, p.line, p.severity) for p in catalog.problems]


def touch_later(path: Path, seconds: int = 10) -> None:
    """Move the mtime forward, so a change is seen even within one file-system clock tick."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + seconds * 1_000_000_000))


# -- discovery ----------------------------------------------------------------------------------


def test_every_txt_file_below_the_folder_is_an_article(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    for relpath in ("top.txt", "2024/a.txt", "2024/nov/b.txt", "2025/x/y/z/c.txt", "d.TXT"):
        write_article(relpath)
    catalog = loaded(content_dir)
    assert sorted(ids(catalog)) == ["2024/a", "2024/nov/b", "2025/x/y/z/c", "d", "top"]
    assert catalog.problems == ()


@pytest.mark.parametrize(
    "relpath",
    [
        ".verborgen.txt",
        ".git/bericht.txt",
        "2024/.concepten/bericht.txt",
        "bericht.txt~",
        "bericht.txt.swp",
        ".bericht.txt.swp",
        ".#bericht.txt",
        "#bericht.txt#",
        "#bericht.txt",
        "bericht.txt.bak",
        "bericht.txt.orig",
        "bericht.txt.tmp",
        "bericht.md",
        "bericht.html",
        "bericht",
        "bericht.txt.gz",
    ],
)
def test_hidden_files_backups_and_other_extensions_are_ignored(
    content_dir: Path, write_article: ArticleWriter, relpath: str
) -> None:
    write_article("2025/echt.txt")
    write_article(relpath, b"\x00 not an article at all")
    catalog = loaded(content_dir)
    assert ids(catalog) == ["2025/echt"]
    assert catalog.problems == ()


def test_same_file_name_in_two_folders_is_two_articles(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2024/foo.txt", title="Vorig jaar", published="1-6-2024")
    write_article("2025/foo.txt", title="Dit jaar", published="1-6-2025")
    catalog = loaded(content_dir)
    assert ids(catalog) == ["2025/foo", "2024/foo"]
    assert catalog.by_id["2024/foo"].title == "Vorig jaar"
    assert catalog.by_id["2025/foo"].title == "Dit jaar"
    assert catalog.by_id["2024/foo"].source_path == "2024/foo.txt"


def test_ids_are_stable_across_stores_and_reloads(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    for relpath in ("b.txt", "2024/a.txt", "2024/c.txt"):
        write_article(relpath)
    first = loaded(content_dir)
    store = store_for(content_dir)
    store.reload()
    store.reload()
    assert ids(store.catalog) == ids(first) == ["2024/a", "2024/c", "b"]


def test_two_files_with_the_same_id_keep_the_first(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2025/foo.TXT", title="Hoofdletters")
    write_article("2025/foo.txt", title="Kleine letters")
    catalog = loaded(content_dir)
    assert ids(catalog) == ["2025/foo"]
    assert catalog.by_id["2025/foo"].title == "Hoofdletters"  # "foo.TXT" sorts first
    assert catalog.problems == (
        ContentProblem("2025/foo.txt", 0, "same article id as 2025/foo.TXT; file ignored"),
    )


def test_empty_folder_gives_an_empty_catalog(content_dir: Path) -> None:
    report = store_for(content_dir).reload()
    assert report.catalog.articles == ()
    assert report.files_seen == 0
    assert list(report.catalog.feeds) == ["all"]


# -- rejected files -----------------------------------------------------------------------------


def test_broken_file_is_rejected_and_the_others_still_load(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2025/a.txt")
    write_article("2025/kapot.txt", published="31-02-2025")
    write_article("2025/leeg.txt", b"")
    write_article("2025/z.txt")
    catalog = loaded(content_dir)
    assert ids(catalog) == ["2025/a", "2025/z"]
    assert [str(problem) for problem in catalog.problems] == [
        "2025/kapot.txt:6: error: invalid published date: '31-02-2025' is not a possible date "
        "(day is out of range for month)",
        "2025/leeg.txt:1: error: the file is empty",
    ]
    assert catalog.rejected == catalog.problems


def test_warnings_are_reported_and_the_article_kept(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2025/a.txt", updated="1 januari 2025", published="12-03-2025")
    catalog = loaded(content_dir)
    assert ids(catalog) == ["2025/a"]
    assert problems(catalog) == [("2025/a.txt", 1, Severity.WARNING)]
    assert catalog.rejected == ()


def test_file_larger_than_one_mebibyte_is_rejected_without_being_read(
    content_dir: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new file is opened to be looked at (its fstat is its only stat), never read; once
    known, an unchanged huge file is not even opened again."""
    write_article("2025/klein.txt")
    huge = content_dir / "2025" / "groot.txt"
    huge.touch()
    os.truncate(huge, 4 * MAX_ARTICLE_BYTES)  # sparse: costs no disk
    for path in (huge, content_dir / "2025" / "klein.txt"):  # long unchanged: not racy
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    access = watch_file_access(monkeypatch)
    live = store_for(content_dir)
    catalog = live.reload().catalog
    assert ids(catalog) == ["2025/klein"]
    assert [str(problem) for problem in catalog.problems] == [
        "2025/groot.txt:0: error: the file is larger than 1 MiB (4,194,304 bytes)"
    ]
    assert "groot.txt" in access.opened
    assert "groot.txt" not in access.read
    assert "klein.txt" in access.read
    access.opened.clear()
    report = live.reload()
    assert not report.changed
    assert [str(problem) for problem in report.catalog.problems] == [
        "2025/groot.txt:0: error: the file is larger than 1 MiB (4,194,304 bytes)"
    ]
    assert access.opened == []
    assert "groot.txt" not in access.read


def test_file_of_exactly_one_mebibyte_is_read(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    path = write_article("2025/precies.txt")
    with path.open("ab") as handle:
        handle.write(b"x" * (MAX_ARTICLE_BYTES - path.stat().st_size))
    assert path.stat().st_size == MAX_ARTICLE_BYTES
    assert ids(loaded(content_dir)) == ["2025/precies"]


def test_symlinked_file_pointing_outside_is_not_followed(
    tmp_path: Path, content_dir: Path, write_article: ArticleWriter
) -> None:
    outside = tmp_path / "elders" / "geheim.txt"
    outside.parent.mkdir()
    outside.write_text("Geheim\nNieuws\n1-2-2025\n\nNiet publiceren.\n", encoding="utf-8")
    write_article("2025/echt.txt")
    (content_dir / "2025" / "link.txt").symlink_to(outside)
    catalog = loaded(content_dir)
    assert ids(catalog) == ["2025/echt"]
    assert [str(problem) for problem in catalog.problems] == [
        "2025/link.txt:0: warning: symbolic links are not followed; copy the file instead"
    ]


def test_symlinked_folder_is_not_followed(
    tmp_path: Path, content_dir: Path, write_article: ArticleWriter
) -> None:
    outside = tmp_path / "elders"
    outside.mkdir()
    (outside / "geheim.txt").write_text("Geheim\nNieuws\n1-2-2025\n\nTekst.\n", encoding="utf-8")
    write_article("2025/echt.txt")
    (content_dir / "gelinkt").symlink_to(outside, target_is_directory=True)
    assert ids(loaded(content_dir)) == ["2025/echt"]


def test_file_name_that_is_not_utf8_is_reported(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2025/echt.txt")
    name = os.path.join(os.fsencode(content_dir), b"caf\xe9.txt")
    with open(name, "wb") as handle:
        handle.write(b"Titel\nNieuws\n1-2-2025\n\nTekst.\n")
    catalog = loaded(content_dir)
    assert ids(catalog) == ["2025/echt"]
    assert [(p.path, p.line, p.message) for p in catalog.problems] == [
        ("caf\ufffd.txt", 0, "the file name is not valid UTF-8; rename the file")
    ]


# -- reloading ----------------------------------------------------------------------------------


def test_reload_parses_only_changed_files(content_dir: Path, write_article: ArticleWriter) -> None:
    paths = [write_article(f"2025/{name}.txt") for name in ("a", "b", "c")]
    store = store_for(content_dir)
    first = store.reload()
    assert (first.files_seen, first.files_parsed, first.changed) == (3, 3, True)

    second = store.reload()
    assert (second.files_seen, second.files_parsed, second.changed) == (3, 0, False)
    assert second.catalog is first.catalog  # nothing changed: the same snapshot

    write_article("2025/b.txt", title="Nieuwe titel voor b")
    touch_later(paths[1])
    third = store.reload()
    assert (third.files_seen, third.files_parsed, third.changed) == (3, 1, True)
    assert third.catalog is not first.catalog
    assert store.catalog is third.catalog


def test_unchanged_folder_with_a_broken_file_keeps_the_same_catalog(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    """A rejected file must not make every reload build (and re-render) a new catalog."""
    write_article("2025/a.txt")
    write_article("2025/kapot.txt", b"alleen een titel\n")
    (content_dir / "link.txt").symlink_to(content_dir / "2025" / "a.txt")
    store = store_for(content_dir)
    first = store.reload()
    again = store.reload()
    assert (again.files_parsed, again.changed) == (0, False)
    assert again.catalog is first.catalog
    assert len(again.catalog.problems) == 2


def test_new_symlink_is_a_change(content_dir: Path, write_article: ArticleWriter) -> None:
    path = write_article("2025/a.txt")
    store = store_for(content_dir)
    store.reload()
    (content_dir / "link.txt").symlink_to(path)
    report = store.reload()
    assert report.changed
    assert [p.path for p in report.catalog.problems] == ["link.txt"]


def test_edit_gives_a_new_version(content_dir: Path, write_article: ArticleWriter) -> None:
    path = write_article("2025/a.txt", title="Eerste versie")
    store = store_for(content_dir)
    store.reload()
    write_article("2025/a.txt", title="Tweede versie", updated="20-03-2025")
    touch_later(path)
    report = store.reload()
    article = report.catalog.by_id["2025/a"]
    assert article.title == "Tweede versie"
    assert article.updated.isoformat() == "2025-03-20T00:00:00+01:00"


def test_replacing_a_file_under_the_same_name_is_seen(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    """Editors save by writing a new file and renaming it over the old one."""
    path = write_article("2025/a.txt", title="Eerste versie")
    store = store_for(content_dir)
    store.reload()
    info = path.stat()
    replacement = write_article("2025/.a.txt.nieuw", title="Tweede versie")
    os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size and mtime
    replacement.replace(path)
    report = store.reload()
    assert report.files_parsed == 1
    assert report.catalog.by_id["2025/a"].title == "Tweede versie"


def test_good_file_that_breaks_keeps_its_last_good_version(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    path = write_article("2025/a.txt", title="Goede versie")
    store = store_for(content_dir)
    store.reload()

    path.write_bytes(b"Halve titel\n")  # an editor saving half a file
    touch_later(path)
    broken = store.reload()
    assert broken.catalog.by_id["2025/a"].title == "Goede versie"
    assert [str(problem) for problem in broken.catalog.problems] == [
        "2025/a.txt:1: error: no category path after the title; "
        "the feeds keep the last good version"
    ]

    write_article("2025/a.txt", title="Gerepareerd")
    touch_later(path, seconds=20)
    fixed = store.reload()
    assert fixed.catalog.by_id["2025/a"].title == "Gerepareerd"
    assert fixed.catalog.problems == ()


def test_new_broken_file_has_no_last_good_version(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2025/a.txt")
    store = store_for(content_dir)
    store.reload()
    write_article("2025/b.txt", b"Titel\nNieuws\n")
    report = store.reload()
    assert ids(report.catalog) == ["2025/a"]
    assert [p.message for p in report.catalog.problems] == [
        "the published date (DD-MM-YYYY) is missing"
    ]


def test_deleted_file_is_gone(content_dir: Path, write_article: ArticleWriter) -> None:
    write_article("2025/a.txt", category="Sport -> Hockey")
    kept = write_article("2025/b.txt", category="Nieuws")
    store = store_for(content_dir)
    store.reload()
    assert "categorie/sport/hockey" in store.catalog.feeds
    (content_dir / "2025" / "a.txt").unlink()
    report = store.reload()
    assert (report.files_seen, report.files_parsed, report.changed) == (1, 0, True)
    assert ids(report.catalog) == ["2025/b"]
    assert "categorie/sport" not in report.catalog.feeds
    assert "categorie/sport/hockey" not in report.catalog.feeds
    kept.unlink()
    assert store.reload().catalog.articles == ()


def test_deleted_broken_file_takes_its_error_along(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2025/a.txt")
    broken = write_article("2025/kapot.txt", b"")
    store = store_for(content_dir)
    assert len(store.reload().catalog.problems) == 1
    broken.unlink()
    assert store.reload().catalog.problems == ()


def test_load_report(content_dir: Path, write_article: ArticleWriter) -> None:
    write_article("2025/a.txt")
    store = store_for(content_dir)
    report: CatalogReload = store.reload()
    assert report.catalog is store.catalog
    assert report.load.loaded_at == store.store.loaded_at
    assert report.load.loaded_at.tzinfo is not None


# -- what goes in which feed --------------------------------------------------------------------


def test_category_spellings_that_differ_only_in_case_are_one_category(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2025/a.txt", category="Nieuws -> Informatief", published="1-3-2025")
    write_article("2025/b.txt", category="nieuws -> informatief", published="2-3-2025")
    write_article("2025/c.txt", category="Nieuws -> Informatief", published="3-3-2025")
    write_article("2025/d.txt", category="NIEUWS", published="4-3-2025")
    catalog = loaded(content_dir)
    category_feeds = sorted(path for path in catalog.feeds if path.startswith("categorie/"))
    assert category_feeds == ["categorie/nieuws", "categorie/nieuws/informatief"]
    informatief = catalog.feeds["categorie/nieuws/informatief"]
    assert informatief.name == "Nieuws -> Informatief"  # the most common spelling
    assert [a.id for a in informatief.articles] == ["2025/c", "2025/b", "2025/a"]
    assert {a.category.names for a in informatief.articles} == {("Nieuws", "Informatief")}
    assert catalog.by_id["2025/d"].category.names == ("Nieuws",)


def test_source_spellings_are_merged_too(content_dir: Path, write_article: ArticleWriter) -> None:
    write_article("2025/a.txt", source="NAVO")
    write_article("2025/b.txt", source="navo")
    write_article("2025/c.txt", source="NAVO")
    write_article("2025/d.txt", source=None)
    catalog = loaded(content_dir)
    sources = [feed.path for feed in catalog.source_feeds]
    assert sources == ["bron/navo"]
    assert catalog.feeds["bron/navo"].name == "NAVO"
    assert len(catalog.feeds["bron/navo"].articles) == 3


def test_articles_are_newest_first_with_ties_broken_by_id(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2024/oud.txt", published="31-12-2024 23:59")
    write_article("2025/zelfde-b.txt", published="1-1-2025 09:00")
    write_article("2025/zelfde-a.txt", published="1-1-2025 09:00")
    write_article("a/zelfde.txt", published="01-01-2025 9.00")
    write_article("2025/nieuw.txt", published="2-1-2025")
    catalog = loaded(content_dir)
    assert ids(catalog) == [
        "2025/nieuw",
        "2025/zelfde-a",
        "2025/zelfde-b",
        "a/zelfde",
        "2024/oud",
    ]
    assert ids(catalog) == [a.id for a in catalog.all_feed.articles]


def test_order_uses_instants_across_the_dst_change(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    """On the fall-back night 02:30 is read as its first occurrence (summer time), so it sorts
    between 01:45 and 03:00 as the wall clock says."""
    write_article("2025/a.txt", published="26-10-2025 02:30")
    write_article("2025/b.txt", published="26-10-2025 03:00")
    write_article("2025/c.txt", published="26-10-2025 01:45")
    assert ids(loaded(content_dir)) == ["2025/b", "2025/a", "2025/c"]


def test_category_feeds_include_descendants(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    write_article("2025/a.txt", category="Nieuws", published="1-3-2025")
    write_article("2025/b.txt", category="Nieuws -> Informatief", published="2-3-2025")
    write_article("2025/c.txt", category="Nieuws -> Informatief -> Lokaal", published="3-3-2025")
    write_article("2025/d.txt", category="Sport", published="4-3-2025")
    feeds = loaded(content_dir).feeds

    def feed_ids(path: str) -> list[str]:
        return [a.id for a in feeds[path].articles]

    assert feed_ids("categorie/nieuws") == ["2025/c", "2025/b", "2025/a"]
    assert feed_ids("categorie/nieuws/informatief") == ["2025/c", "2025/b"]
    assert feed_ids("categorie/nieuws/informatief/lokaal") == ["2025/c"]
    assert feed_ids("categorie/sport") == ["2025/d"]
    assert feed_ids("all") == ["2025/d", "2025/c", "2025/b", "2025/a"]


@pytest.mark.parametrize("scoped", [False, True])
def test_a_file_deleted_between_scan_and_read_is_gone_not_broken(
    content_dir: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch, scoped: bool
) -> None:
    """An editor deleting a file while a reload reads the folder: the file leaves the feeds
    quietly, with no "cannot read the file" problem (it was not broken, it is gone)."""
    from feedsvc.articles import store as store_module  # noqa: PLC0415

    write_article("2025/blijft.txt", title="Blijft")
    doomed = write_article("2025/weg.txt", title="Weg")
    store = store_for(content_dir)
    store.reload()
    os.utime(doomed, ns=(1_000_000_000, 1_000_000_000))  # changed: the next reload reads it
    read = store_module._read_article_file

    def delete_then_read(found: object) -> tuple[bytes, os.stat_result]:
        if getattr(found, "relpath", "") == "2025/weg.txt":
            doomed.unlink()
        return read(found)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module, "_read_article_file", delete_then_read)
    report = store.reload([str(doomed)] if scoped else None)
    assert [a.title for a in report.catalog.articles] == ["Blijft"]
    assert report.catalog.problems == ()


def test_problems_follow_single_file_reloads_that_mend_break_or_leave_them(
    content_dir: Path, write_article: ArticleWriter
) -> None:
    warned = write_article("2025/a.txt", updated="1 januari 2025", published="12-03-2025")
    other = write_article("2025/b.txt", title="Eerste versie")
    store = store_for(content_dir)
    store.reload()

    def reload_one(path: Path) -> Catalog:
        touch_later(path, seconds=10 * len(reloads))
        reloads.append(path)
        return store.reload([str(path)]).catalog

    reloads: list[Path] = []
    write_article("2025/b.txt", title="Tweede versie")  # neither mends nor breaks a file
    catalog = reload_one(other)
    assert catalog.by_id["2025/b"].title == "Tweede versie"
    assert problems(catalog) == [("2025/a.txt", 1, Severity.WARNING)]

    other.write_bytes(b"Halve titel\n")  # breaks one
    catalog = reload_one(other)
    assert sorted(problems(catalog)) == [
        ("2025/a.txt", 1, Severity.WARNING),
        ("2025/b.txt", 1, Severity.ERROR),
    ]

    write_article("2025/b.txt", title="Gerepareerd")  # mends it
    assert problems(reload_one(other)) == [("2025/a.txt", 1, Severity.WARNING)]

    write_article("2025/a.txt", published="12-03-2025")  # mends the warned one
    assert problems(reload_one(warned)) == []

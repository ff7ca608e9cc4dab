"""Random runs of what editors do to a messy folder (links, folders named like files, folders
whose files are not read, FIFOs, names that are not UTF-8), each followed by the reloads the
watcher makes for it, or by a turn of its periodic rescan: after every step, the store holds
what a store with the same history that rescans the whole folder at every step finds (its
problems and its articles)."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Collection
from pathlib import Path

import pytest
from conftest import article_text

from feedsvc.articles.store import ContentStore
from feedsvc.settings import Settings

FOLDERS = ("2024", "2025", "2025/deep", "a", "a b", "a.txt", "2025/x.html", "z.html")
NAMES = ("a.txt", "b.txt", "a b.txt", "a-b.txt")
OPERATIONS = (
    "write",
    "write",
    "delete",
    "link",
    "unlink",
    "to_folder",
    "to_file",
    "make_folder",
    "rename_folder",
    "remove_folder",
    "bad_name",
    "fifo",
    "periodic",
    "periodic",
)
Reloads = list[Collection[str] | None]  # the watcher's calls, in order (None: everything)


class Editor:
    """Changes a folder as people and tools do, and says what the watcher would reload."""

    def __init__(self, root: Path, rnd: random.Random, store: ContentStore) -> None:
        self.root, self.rnd, self.store = root, rnd, store

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def write(self, relpath: str, title: str) -> bool:
        path = self.path(relpath)
        if not path.parent.is_dir() or path.is_symlink() or (path.exists() and not path.is_file()):
            return False
        path.write_text(article_text(title=title), encoding="utf-8")
        return True

    def below(self, relpath: str) -> list[str]:
        found = []
        for top, folders, files in os.walk(self.path(relpath)):
            found += [os.path.join(top, name) for name in files + folders]
        return found

    def step(self, number: int) -> Reloads:
        operation = self.rnd.choice(OPERATIONS)
        folder, name = self.rnd.choice(FOLDERS), self.rnd.choice(NAMES)
        relpath = f"{folder}/{name}"
        path = self.path(relpath)
        if operation != "periodic" and not self.path(folder).is_dir():
            if operation == "make_folder" and self.path(os.path.dirname(folder) or ".").is_dir():
                if os.path.lexists(self.path(folder)):
                    return []
                self.path(folder).mkdir()
                self.write(f"{folder}/a.txt", "nieuw")
                # The folder's event, then its rescan once the watcher watches it.
                return [[str(self.path(folder))], [os.path.join(self.path(folder), "")]]
            return []
        if operation == "write":
            return [[str(path)]] if self.write(relpath, f"{relpath} {number}") else []
        if operation == "delete" and path.is_file() and not path.is_symlink():
            path.unlink()
            return [[str(path)]]
        if operation == "link" and not os.path.lexists(path):
            path.symlink_to(self.path("2024/a.txt"))
            return [[str(path)]]
        if operation == "unlink" and path.is_symlink():
            path.unlink()
            self.write(relpath, "weer een bestand")
            return [[str(path)]]
        if operation == "to_folder" and (path.is_file() or path.is_symlink()):
            path.unlink()
            path.mkdir()
            self.write(f"{relpath}/binnen.txt", "binnen")
            return [[str(path)], [os.path.join(path, "")], [str(path / "binnen.txt")]]
        if operation == "to_file" and path.is_dir() and not path.is_symlink():
            gone = self.below(relpath)
            shutil.rmtree(path)
            self.write(relpath, "weer een bestand")
            return [[*gone, str(path)]]
        if operation == "rename_folder" and folder not in ("2024", "2025"):
            renamed = folder.removesuffix(".html") if folder.endswith(".html") else folder + ".html"
            if os.path.lexists(self.path(renamed)):
                return []
            os.rename(self.path(folder), self.path(renamed))
            return [
                [str(self.path(folder)), str(self.path(renamed))],
                [os.path.join(self.path(renamed), "")],
            ]
        if operation == "remove_folder" and folder not in ("2024", "2025"):
            gone = self.below(folder)
            shutil.rmtree(self.path(folder))
            return [[*gone, str(self.path(folder))]]
        if operation == "bad_name":
            bad = os.fsencode(self.path(folder)) + b"/slecht\xff.txt"
            if os.path.lexists(bad):
                os.unlink(bad)
            else:
                Path(os.fsdecode(bad)).write_text(article_text(), encoding="utf-8")
            return [None]  # watchfiles cannot report such a name: the watcher rescans
        if operation == "fifo" and path.is_file() and not path.is_symlink():
            path.unlink()
            os.mkfifo(path)
            return [[str(path)]]
        if operation == "periodic":
            tops = sorted(p for p in self.root.iterdir() if p.is_dir() and not p.is_symlink())
            top = self.rnd.choice([*tops, None])
            scope = None if top is None else [os.path.join(top, "")]
            stale = self.store.stale(scope)
            return [scope] if stale is None else [sorted(stale)] if stale else []
        return []


def held(store: ContentStore) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    problems = sorted((problem.path, problem.message) for problem in store.problems())
    articles = [(article.id, article.title) for article in store.snapshot().articles]
    return problems, articles


@pytest.mark.parametrize("seed", range(40))
def test_reloads_as_the_watcher_makes_them_hold_what_a_whole_rescan_finds(
    seed: int, tmp_path: Path
) -> None:
    root = tmp_path / "inhoud"
    for folder in ("2024", "2025", "2025/deep"):
        (root / folder).mkdir(parents=True)
        for name in NAMES[:2]:
            (root / folder / name).write_text(article_text(title=name), encoding="utf-8")
    settings = Settings(content_dir=root, watch_content=False)
    store, whole = ContentStore(settings), ContentStore(settings)
    store.reload()
    whole.reload()
    editor = Editor(root, random.Random(seed), store)
    done: list[Reloads] = []
    for number in range(50):
        reloads = editor.step(number)
        for changed in reloads:
            store.reload(changed)
        done.append(reloads)
        # The same history (what was read last is kept for a file replaced by a link or a
        # FIFO), every step a rescan of everything.
        whole.reload()
        assert held(store) == held(whole), f"seed {seed}, after: {done}"

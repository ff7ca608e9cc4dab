"""The export's tree as generations: readers see a whole site, the old one or the new one.

``OUTDIR/public`` is a symbolic link to ``generations/N``. An export builds ``generations/N+1``
beside it, then points a new link at it and renames that over ``public``: one atomic
``rename(2)``. A reader (nginx) that follows ``public`` gets generation N or N+1 whole, never a
mix, and a killed export leaves generation N in place (its half-built generation is removed by
the next export). The generation before is kept until the next switch, so that requests that
resolved the link just before a switch still find their files.

A new generation is built in one of two ways (:meth:`Generations.begin`):

- *fresh*: an empty folder, into which the export puts every file, unchanged ones as hard links
  to generation N. Work in proportion to the whole site (about 4.5 files per article).
- *reused*: a spare tree (``OUTDIR/spare/K``, a generation K < N that no reader can still be
  in) is renamed to ``generations/N+1`` and brought to generation N by replaying what changed
  since K, path by path (``OUTDIR/export-changes/K+1 .. N``, the paths each export wrote or
  removed); the export then replaces only the files whose bytes changed. Work in proportion
  to what the last few edits touched, however large the site and its folders.

Three trees take turns (the current generation, the one before, a spare): an edit writes into
the one that was current two switches ago, so the guarantee is the same as with a tree per
generation. After a fresh build the spares are hard-link copies of the new generation, made
after the switch.

Only one export may write ``OUTDIR`` at a time: :func:`exclusive` takes a lock
(``OUTDIR/.export.lock``, ``flock(2)``, released by the kernel when the process ends however it
ends) and raises :class:`ExportBusyError` at once if another process holds it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

GENERATIONS_DIR = "generations"
SPARE_DIR = "spare"
CHANGES_DIR = "export-changes"
LOCK_FILE = ".export.lock"
# The current generation, the one before (readers that resolved the link before the last
# switch) and one to build the next into.
TREES = 3
ADDED, REMOVED = "+", "-"


class ExportBusyError(Exception):
    """Another export holds the lock of the output folder."""


@contextlib.contextmanager
def exclusive(outdir: Path) -> Iterator[None]:
    """Hold the output folder's export lock for the block, or raise :class:`ExportBusyError`."""
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / LOCK_FILE
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip() or "?"
            raise ExportBusyError(
                f"another export (process {holder}) is writing {outdir}; this one stops. "
                f"Run it again when that one is done (lock: {path})"
            ) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(handle)  # releases the lock


@dataclass(frozen=True, slots=True)
class Build:
    """A generation being built: its folder, its number, and whether it started as a copy of
    the current generation (reused: only changed files need to be touched) or empty (fresh:
    every file must be put in)."""

    path: Path
    number: int
    reused: bool


class Generations:
    """The generations of ``OUTDIR``, the ``public`` link to the current one, and the spares."""

    def __init__(self, outdir: Path, link_name: str) -> None:
        self.outdir = outdir
        self.link = outdir / link_name
        self.folder = outdir / GENERATIONS_DIR
        self.spares = outdir / SPARE_DIR
        self.changes = outdir / CHANGES_DIR

    def current(self) -> Path | None:
        """The generation ``public`` points at (None before the first export). A ``public``
        folder of an older feedsvc, written in place, becomes the first generation."""
        if self.link.is_symlink():
            return self.outdir / os.readlink(self.link)
        if self.link.is_dir():
            first = self.folder / str(self._numbers()[-1] + 1 if self._numbers() else 1)
            self.folder.mkdir(exist_ok=True)
            log.warning("moving %s to %s, to export in generations from now on", self.link, first)
            # The only moment nginx finds no site: between this rename and the link's.
            self.link.rename(first)
            self._point_at(first)
            return first
        return None

    def begin(self, *, reuse: bool) -> Build:
        """A new generation after every existing one; removes leftovers of exports that did not
        finish. With ``reuse``, a spare tree brought to the current generation if one can be
        (see the module's docstring), else an empty folder."""
        current = self.current()
        number = int(current.name) if current is not None else 0
        for leftover in self._numbers():
            if leftover > number:  # an export that was killed before its switch
                shutil.rmtree(self.folder / str(leftover))
        for leftover in self._change_numbers():
            if leftover > number:
                os.unlink(self.changes / str(leftover))
        numbers = self._numbers()
        new = self.folder / str(numbers[-1] + 1 if numbers else 1)
        if reuse and current is not None:
            spare = self._spare_for(number)
            if spare is not None:
                tree, changed = spare
                tree.rename(new)
                _replay(new, current, changed)
                return Build(new, int(new.name), reused=True)
        new.mkdir(parents=True)
        return Build(new, int(new.name), reused=False)

    def publish(self, build: Build, changes: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        """Record what ``build`` changed (paths -> :data:`ADDED` or :data:`REMOVED`, or such
        pairs, each path once), switch ``public`` to it atomically, keep the generation before,
        turn older ones into spares."""
        self.changes.mkdir(exist_ok=True)
        pairs = changes.items() if isinstance(changes, Mapping) else changes
        _atomic_text(self.changes / str(build.number), (f"{s}{p}\n" for p, s in pairs))
        previous = self.current()
        self._point_at(build.path)
        keep = {build.path.name} | ({previous.name} if previous is not None else set())
        if not build.reused:
            # The spares and older generations were compared with the generation before, not
            # with this one; the spares start again as copies of this one.
            shutil.rmtree(self.spares, ignore_errors=True)
        for number in self._numbers():
            if str(number) in keep:
                continue
            if build.reused:
                self.spares.mkdir(exist_ok=True)
                (self.folder / str(number)).rename(self.spares / str(number))
            else:
                shutil.rmtree(self.folder / str(number), ignore_errors=True)
        spares = sorted(self._spare_trees(), key=lambda item: item[0])
        wanted = TREES - len(keep)
        for _, tree in spares[: max(len(spares) - wanted, 0)]:
            shutil.rmtree(tree, ignore_errors=True)
        missing = range(len(spares), wanted)
        if len(missing) > 1:
            # After a first export both spares are copied. A copy is a walk with a mkdir or a
            # link per entry, system calls that release the GIL, so the two copies overlap on
            # two cores rather than taking turns.
            with ThreadPoolExecutor(len(missing), thread_name_prefix="spare") as copies:
                list(copies.map(functools.partial(self._copy_as_spare, build), missing))
        else:
            for index in missing:
                self._copy_as_spare(build, index)

    def forget_changes(self, upto: int) -> None:
        """Drop the change lists of generations up to ``upto`` that no tree needs any more
        (a spare, or the generation before, which becomes one at the next switch)."""
        bases = [base for base, _ in self._spare_trees()] + self._numbers()
        oldest = min(bases, default=upto)
        for number in self._change_numbers():
            if number <= min(upto, oldest):
                os.unlink(self.changes / str(number))

    def changed_since(self, since: int, until: int) -> dict[str, str] | None:
        """What generations ``since+1 .. until`` changed, the last change of a path winning;
        None if a list is missing."""
        changed: dict[str, str] = {}
        for number in range(since + 1, until + 1):
            try:
                text = (self.changes / str(number)).read_text("utf-8")
            except FileNotFoundError:
                return None
            for line in text.splitlines():
                changed[line[1:]] = line[0]
        return changed

    def abandon(self, build: Build) -> None:
        """Remove a generation that will not be published."""
        shutil.rmtree(build.path, ignore_errors=True)

    def _spare_for(self, current: int) -> tuple[Path, dict[str, str]] | None:
        """The spare with the fewest changes to replay, and those changes."""
        for base, tree in sorted(self._spare_trees(), key=lambda item: -item[0]):
            changed = self.changed_since(base, current)
            if changed is not None:
                return tree, changed
        return None

    def _spare_trees(self) -> list[tuple[int, Path]]:
        """The spare trees and the generation each is a copy of (``K`` or ``K.i``)."""
        try:
            names = os.listdir(self.spares)
        except FileNotFoundError:
            return []
        trees = []
        for name in names:
            base, _, copy = name.partition(".")
            if base.isdigit() and (not copy or copy.isdigit()):
                trees.append((int(base), self.spares / name))
            else:  # a copy that was interrupted
                shutil.rmtree(self.spares / name, ignore_errors=True)
        return trees

    def _copy_as_spare(self, build: Build, index: int) -> None:
        """A hard-link copy of the generation just published, as a spare tree."""
        self.spares.mkdir(exist_ok=True)
        temporary = self.spares / f".copy-{build.number}.{index}"
        shutil.rmtree(temporary, ignore_errors=True)
        top = str(build.path)
        for directory, _, filenames in os.walk(top):
            target = f"{temporary}{directory[len(top) :]}"
            os.mkdir(target)
            for name in filenames:
                os.link(f"{directory}/{name}", f"{target}/{name}")
        temporary.rename(self.spares / f"{build.number}.{index}")

    def _point_at(self, generation: Path) -> None:
        temporary = self.outdir / f".{self.link.name}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        temporary.symlink_to(generation.relative_to(self.outdir))
        os.replace(temporary, self.link)

    def _numbers(self) -> list[int]:
        return _numbered(self.folder)

    def _change_numbers(self) -> list[int]:
        return _numbered(self.changes)


def _numbered(folder: Path) -> list[int]:
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(name) for name in names if name.isdigit())


def _replay(tree: Path, current: Path, changed: Iterable[str]) -> None:
    """Make each changed path of ``tree`` what it is in ``current``: removed, or a hard link.

    Removals first, so that a file that became a folder (or the reverse) is out of the way.
    """
    paths = list(changed)
    for relpath in paths:
        remove_file(tree, relpath)
    for relpath in paths:
        source = f"{current}/{relpath}"
        if os.path.isfile(source):
            target = f"{tree}/{relpath}"
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.link(source, target)


def remove_file(tree: Path, relpath: str) -> None:
    """Remove ``relpath`` from ``tree`` (whatever is there), and the folders it leaves empty."""
    target = f"{tree}/{relpath}"
    try:
        os.unlink(target)
    except (FileNotFoundError, NotADirectoryError):
        return
    except IsADirectoryError:
        shutil.rmtree(target)
    top = str(tree)
    folder = os.path.dirname(target)
    while folder != top and len(folder) > len(top):
        try:
            os.rmdir(folder)  # only if empty: no reader of this tree can miss it
        except OSError:
            return
        folder = os.path.dirname(folder)


def _atomic_text(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` to ``path`` through a temporary file, one at a time: a first export's
    change list names every file (250,000 at 100,000 articles), which joined first was a
    second copy of all of them in memory."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.writelines(lines)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

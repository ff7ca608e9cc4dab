"""The export's tree as generations: readers see a whole site, the old one or the new one.

``OUTDIR/public`` is a symbolic link to ``generations/N``. An export builds ``generations/N+1``
beside it (unchanged files as hard links to generation N, so only what changed costs a write),
then points a new link at it and renames that over ``public``: one atomic ``rename(2)``. A
reader (nginx) that follows ``public`` gets generation N or N+1 whole, never a mix, and a
killed export leaves generation N in place (its half-built generation is removed by the next
export). The previous generation is kept until the next switch, so that requests that resolved
the link just before a switch still find their files; older ones are removed.

Only one export may write ``OUTDIR`` at a time: :func:`exclusive` takes a lock
(``OUTDIR/.export.lock``, ``flock(2)``, released by the kernel when the process ends however it
ends) and raises :class:`ExportBusyError` at once if another process holds it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

GENERATIONS_DIR = "generations"
LOCK_FILE = ".export.lock"


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


class Generations:
    """The generations of ``OUTDIR`` and the ``public`` link to the current one."""

    def __init__(self, outdir: Path, link_name: str) -> None:
        self.outdir = outdir
        self.link = outdir / link_name
        self.folder = outdir / GENERATIONS_DIR

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

    def begin(self) -> Path:
        """A new, empty generation folder after every existing one; removes leftovers of
        exports that did not finish."""
        current = self.current()
        for number in self._numbers():
            folder = self.folder / str(number)
            if current is not None and number > int(current.name):
                shutil.rmtree(folder)  # an export that was killed before its switch
        numbers = self._numbers()
        new = self.folder / str(numbers[-1] + 1 if numbers else 1)
        new.mkdir(parents=True)
        return new

    def publish(self, generation: Path) -> None:
        """Switch ``public`` to ``generation`` atomically; keep the one before, remove older."""
        previous = self.current()
        self._point_at(generation)
        keep = {generation.name} | ({previous.name} if previous is not None else set())
        for number in self._numbers():
            if str(number) not in keep:
                shutil.rmtree(self.folder / str(number), ignore_errors=True)

    def abandon(self, generation: Path) -> None:
        """Remove a generation that will not be published."""
        shutil.rmtree(generation, ignore_errors=True)

    def _point_at(self, generation: Path) -> None:
        temporary = self.outdir / f".{self.link.name}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        temporary.symlink_to(generation.relative_to(self.outdir))
        os.replace(temporary, self.link)

    def _numbers(self) -> list[int]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return sorted(int(name) for name in names if name.isdigit())

"""What a piece of code opens and reads, for tests that check a file is never read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class FileAccess:
    """The base names of the files opened (folders left out) and read, in order."""

    opened: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)


def watch_file_access(monkeypatch: pytest.MonkeyPatch) -> FileAccess:
    """Record every ``os.open`` of a file and every ``os.read`` from this point until
    ``monkeypatch`` is undone (a read from a descriptor opened otherwise shows as "?")."""
    access = FileAccess()
    names: dict[int, str] = {}
    real_open, real_read = os.open, os.read

    def spy_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        if not flags & os.O_DIRECTORY:
            names[fd] = os.path.basename(os.fsdecode(path))
            access.opened.append(names[fd])
        return fd

    def spy_read(fd: int, size: int) -> bytes:
        access.read.append(names.get(fd, "?"))
        return real_read(fd, size)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "read", spy_read)
    return access

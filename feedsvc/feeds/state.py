"""What was last published, remembered across restarts: each rendered resource's ETag and
Last-Modified, in a small file in the state folder (``FEEDSVC_STATE_DIR``).

It is what keeps ``Last-Modified`` honest across restarts (see "Validators" in the README):
bytes that are the ones recorded keep their recorded date; changed bytes get a later one. And it
is what a start compares with to tell the WebSub hub about changes made while the service was
down. The file is JSON, written to a temporary file beside it and renamed over it, so a crash
leaves the old state or the new one, never half of one. Every process of a service (gunicorn's
workers) records what it rendered; writes merge with what is on disk under an exclusive lock,
and for a resource two processes dated differently the later date wins.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

# (feed path, extension, page number); the OPML list is ("", "opml", 0).
StateKey = tuple[str, str, int]
FILE_NAME = "published.json"
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Recorded:
    """A resource as it was last published: the strong ETag of its bytes and their date."""

    etag: str
    last_modified: datetime


class PublishedState:
    """The state file of one service; unusable folders are logged and then ignored."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE_NAME
        self._broken = False

    def load(self) -> dict[StateKey, Recorded] | None:
        """What was recorded; None when nothing was (a first start) or it cannot be read."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            log.warning("cannot read %s (%s); starting without it", self.path, error.strerror)
            return None
        try:
            return _decode(text)
        except (ValueError, KeyError, TypeError) as error:
            log.warning("%s is not a state file feedsvc wrote (%s); ignoring it", self.path, error)
            return None

    def save(self, records: Mapping[StateKey, Recorded], alive: Callable[[StateKey], bool]) -> None:
        """Merge ``records`` into the file, dropping resources for which ``alive`` is false."""
        if self._broken:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._locked():
                merged = {key: value for key, value in (self.load() or {}).items() if alive(key)}
                for key, value in records.items():
                    before = merged.get(key)
                    if before is None or value.last_modified >= before.last_modified:
                        merged[key] = value
                self._write(_encode(merged))
        except OSError as error:
            self._broken = True
            log.warning(
                "cannot write %s (%s): Last-Modified and WebSub pings after a restart will not "
                "know what was published before; set FEEDSVC_STATE_DIR to a writable folder",
                self.path,
                error.strerror or error,
            )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, text: str) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".published-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _encode(records: Mapping[StateKey, Recorded]) -> str:
    rows = [
        [path, ext, page, value.etag, value.last_modified.isoformat()]
        for (path, ext, page), value in sorted(records.items())
    ]
    return json.dumps({"version": _VERSION, "published": rows}, ensure_ascii=False, indent=0)


def _decode(text: str) -> dict[StateKey, Recorded]:
    document = json.loads(text)
    if document["version"] != _VERSION:
        raise ValueError(f"version {document['version']!r}")
    records: dict[StateKey, Recorded] = {}
    for path, ext, page, etag, last_modified in document["published"]:
        moment = datetime.fromisoformat(last_modified)
        if moment.tzinfo is None:
            raise ValueError(f"{last_modified!r} has no time zone")
        records[(str(path), str(ext), int(page))] = Recorded(str(etag), moment)
    return records

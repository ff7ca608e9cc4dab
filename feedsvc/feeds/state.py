"""What was last published, remembered across restarts: each rendered resource's ETag and
Last-Modified, in a small file in the state folder (``FEEDSVC_STATE_DIR``).

It is what keeps ``Last-Modified`` honest across restarts (see "Validators" in the README):
bytes that are the ones recorded keep their recorded date; changed bytes get a later one. And it
is what a start compares with to tell the WebSub hub about changes made while the service was
down. The file is JSON, written to a temporary file beside it and renamed over it, so a crash
leaves the old state or the new one, never half of one. Every process of a service (gunicorn's
workers) records what it rendered; writes merge with what is on disk under an exclusive lock,
and for a resource two processes dated differently the later date wins.

Two more things keep dates from going back:

- Resources that are gone (a feed whose last article was removed, a deleted article's page) are
  kept too, apart from the live ones, so one that comes back is dated after what it had. They
  are bounded (:data:`GONE_LIMIT`, the latest dates kept); what is dropped raises ``floor``,
  a date every resource with no record of its own is dated after, so nothing that comes back
  can get a date it had before.
- A date is noted when it is given out (:meth:`PublishedState.note`): one line appended to a
  journal beside the file, which the next save merges in and removes. So a worker killed before
  it saves (SIGKILL, an OOM kill, a gunicorn timeout) loses none of the dates clients have. The
  appended line is not fsynced: it survives the process, not the machine, which is what
  matters here (a crash of the machine also loses the clients' connections mid-response), and
  a sync per rendered page would cost more than rendering it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

# (feed path, extension, page number); the OPML list is ("", "opml", 0).
StateKey = tuple[str, str, int]
FILE_NAME = "published.json"
JOURNAL_NAME = "published.journal"
_VERSION = 1
# Records of resources that are gone, kept so that one coming back is dated after what it had;
# the ones with the latest dates are kept, the others raise the floor.
GONE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Recorded:
    """A resource as it was last published: the strong ETag of its bytes and their date."""

    etag: str
    last_modified: datetime
    # Which publication of this process recorded it (Publication.serial; 0 for what was read
    # from the state file). Not saved, and not part of what is compared.
    serial: int = field(default=0, compare=False)


@dataclass(slots=True)
class Published:
    """What the state file holds: the live resources, those that are gone, and the floor."""

    records: dict[StateKey, Recorded] = field(default_factory=dict)
    gone: dict[StateKey, Recorded] = field(default_factory=dict)
    # Every date given to a resource no longer recorded here is no later than this.
    floor: datetime | None = None

    def all(self) -> dict[StateKey, Recorded]:
        """Every record, gone or not: what dates the next version of each resource."""
        return {**self.gone, **self.records}


def bound_gone(
    gone: Mapping[StateKey, Recorded], floor: datetime | None, limit: int
) -> tuple[dict[StateKey, Recorded], datetime | None]:
    """At most ``limit`` of the ``gone`` records, the latest dated; the floor raised to the
    latest date of those dropped."""
    if len(gone) <= limit:
        return dict(gone), floor
    ordered = sorted(gone.items(), key=lambda item: (item[1].last_modified, item[0]))
    dropped, kept = ordered[: len(ordered) - limit], ordered[len(ordered) - limit :]
    latest = dropped[-1][1].last_modified
    return dict(kept), latest if floor is None else max(floor, latest)


class PublishedState:
    """The state file of one service; unusable folders are logged and then ignored."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE_NAME
        self._broken = False

    def load(self) -> Published | None:
        """What was recorded, with what dates were noted since the last save; None when
        nothing was (a first start) or it cannot be read."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = None
        except OSError as error:
            log.warning("cannot read %s (%s); starting without it", self.path, error.strerror)
            return None
        published = None
        if text is not None:
            try:
                published = _decode(text)
            except (ValueError, KeyError, TypeError) as error:
                log.warning(
                    "%s is not a state file feedsvc wrote (%s); ignoring it", self.path, error
                )
        noted = self._read_journal()
        if published is None and not noted:
            return None
        published = published or Published()
        _merge(published.records, noted)
        for key in noted:
            published.gone.pop(key, None)
        return published

    def note(self, key: StateKey, recorded: Recorded) -> None:
        """Append a date just given out to the journal, so that it outlives this process."""
        if self._broken:
            return
        line = json.dumps([*key, recorded.etag, recorded.last_modified.isoformat()]) + "\n"
        try:
            with self._locked(fcntl.LOCK_SH):
                fd = os.open(
                    self.folder / JOURNAL_NAME,
                    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                    0o600,
                )
                try:
                    os.write(fd, line.encode("utf-8"))  # one write: a line whole or not at all
                finally:
                    os.close(fd)
        except OSError as error:
            self._give_up(error)

    def journal_outgrew_file(self, floor_bytes: int) -> bool:
        """Whether the journal holds at least ``floor_bytes`` and a quarter of the file's size:
        when merging it in (rewriting the whole file) is due, its cost spread over the dates
        noted since."""
        try:
            journal = os.stat(self.folder / JOURNAL_NAME).st_size
        except OSError:
            return False
        try:
            whole = os.stat(self.path).st_size
        except OSError:
            whole = 0
        return journal >= max(floor_bytes, whole // 4)

    def save(
        self,
        records: Mapping[StateKey, Recorded],
        alive: Callable[[StateKey], bool],
        floor: datetime | None = None,
    ) -> None:
        """Merge ``records`` and the journal into the file; resources for which ``alive`` is
        false are kept apart as gone, at most :data:`GONE_LIMIT` of them."""
        if self._broken:
            return
        try:
            with self._locked(fcntl.LOCK_EX):
                before = self.load() or Published()
                merged = before.all()
                _merge(merged, records)
                gone = {key: value for key, value in merged.items() if not alive(key)}
                kept, floor = bound_gone(gone, _later(before.floor, floor), GONE_LIMIT)
                live = {key: value for key, value in merged.items() if key not in gone}
                self._write(_encode(Published(live, kept, floor)))
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.folder / JOURNAL_NAME)
        except OSError as error:
            self._give_up(error)

    def _read_journal(self) -> dict[StateKey, Recorded]:
        try:
            text = (self.folder / JOURNAL_NAME).read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as error:
            log.warning("cannot read %s (%s)", self.folder / JOURNAL_NAME, error.strerror)
            return {}
        noted: dict[StateKey, Recorded] = {}
        for line in text.splitlines():
            try:
                key, value = _row(json.loads(line))
            except (ValueError, TypeError) as error:  # a line cut short when the disk filled
                log.warning("%s: skipping a line (%s)", self.folder / JOURNAL_NAME, error)
                continue
            _merge(noted, {key: value})
        return noted

    def _give_up(self, error: OSError) -> None:
        self._broken = True
        log.warning(
            "cannot write %s (%s): Last-Modified and WebSub pings after a restart will not "
            "know what was published before; set FEEDSVC_STATE_DIR to a writable folder",
            self.path,
            error.strerror or error,
        )

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        """Shared while appending to the journal, exclusive while merging it into the file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, mode)
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


def _merge(into: dict[StateKey, Recorded], records: Mapping[StateKey, Recorded]) -> None:
    """For a resource recorded on both sides, the later date wins."""
    for key, value in records.items():
        before = into.get(key)
        if before is None or value.last_modified >= before.last_modified:
            into[key] = value


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return first or second
    return max(first, second)


def _encode(published: Published) -> str:
    document: dict[str, object] = {"version": _VERSION}
    for name, records in (("published", published.records), ("gone", published.gone)):
        document[name] = [
            [path, ext, page, value.etag, value.last_modified.isoformat()]
            for (path, ext, page), value in sorted(records.items())
        ]
    if published.floor is not None:
        document["floor"] = published.floor.isoformat()
    return json.dumps(document, ensure_ascii=False, indent=0)


def _decode(text: str) -> Published:
    document = json.loads(text)
    if document["version"] != _VERSION:
        raise ValueError(f"version {document['version']!r}")
    published = Published()
    for name, records in (("published", published.records), ("gone", published.gone)):
        for row in document.get(name, []) if name == "gone" else document[name]:
            key, value = _row(row)
            records[key] = value
    if document.get("floor") is not None:
        published.floor = _moment(document["floor"])
    return published


def _row(row: list[object]) -> tuple[StateKey, Recorded]:
    path, ext, page, etag, last_modified = row
    return (str(path), str(ext), int(str(page))), Recorded(str(etag), _moment(last_modified))


def _moment(text: object) -> datetime:
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment

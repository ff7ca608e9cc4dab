"""Load and soak: feedsvc under gunicorn, many concurrent connections, while its files change.

Runs feedsvc with the repository's ``gunicorn.conf.py`` (``FEEDSVC_BIND`` on a free loopback
port, ``FEEDSVC_WORKERS`` workers, content watching on) over a scratch content folder, and for a
bounded time and number of requests:

* client processes, each with client threads holding one ``http.client`` connection apiece
  (``--connections`` in all), request the feeds in every format and content coding, revalidate
  with the ETags and dates they were given, and fetch OPML, HTML pages and ``/healthz``;
* an editor process keeps adding, editing (in place and by atomic rename), breaking (half-written,
  binary, NUL bytes, impossible dates, UTF-16, too large) and deleting article files, and adding
  and removing folders and symbolic links, in a "churn" part of the folder. A set of "stable"
  articles is never touched.

Every response is checked: the status is 200 or 304; a body is complete (``Content-Length``
bytes, decodable in its ``Content-Encoding``); a feed or OPML body is well-formed XML or JSON and
its ETag is the one feedsvc derives from it (``"`` + the first 32 hex digits of the SHA-256 of
the identity bytes, ``-gzip``/``-br`` for a coded variant, ``"``; see feedsvc/publication.py); a
304 answers a validator that was sent. Every all-feed response contains every stable article
with its exact title; the stable category feed holds exactly the stable articles; a stable
article's page is always there. Worker resident memory (VmRSS from ``/proc``) is reported at the
start, halfway and at the end, and must level off (the second half may not add more than half
again, and at least 32 MiB); the workers must be the same processes at the end (none crashed or
was killed for a timeout), and gunicorn's log must show no error. Loopback only.

Usage::

    .venv/bin/python bench/soak.py [--duration 60] [--connections 64] [--workers 4] [--json FILE]

Exits 0 when every check held, 1 otherwise; the summary is printed either way. The short CI
version (tests/test_soak.py) calls :func:`run` with a few seconds and fewer connections.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import brotli
from benchlib import free_port
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
HOST = "127.0.0.1"  # loopback only, always
SITE_URL = "https://nieuws.example.nl"
PAGE_SIZE = 200  # every article fits on the first page, so the all-feed must show each one
STABLE_COUNT = 40
MAX_CHURN_FILES = 60
STABLE_CATEGORY = "Stabiel -> Vast"
STABLE_CATEGORY_SLUG = "stabiel/vast"
STABLE_SOURCE = "Vaste Bron"
STABLE_SOURCE_SLUG = "vaste-bron"
CHURN_FOLDER = "wisselend"
FEED_EXTENSIONS = ("rss", "atom", "json")
CODINGS = ("identity", "gzip", "br")
# What a feed reader sends: the feed types first, anything else last (no text/html, so the
# feed's own content type and ETag come back rather than the browser variant).
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, */*;q=0.1"
)
DISCLAIMER = "Amstelveenweb.com is niet verantwoordelijk voor de inhoud van de nieuwsberichten."
_ATOM = "{http://www.w3.org/2005/Atom}"
_MAX_FAILURES_KEPT = 40
# Lines in gunicorn's log (where feedsvc's warnings go too) that mean something went wrong with
# the service rather than with an article file.
_LOG_ALARMS = (
    "Traceback",
    "WORKER TIMEOUT",
    "Error handling request",
    "was sent SIGKILL",
    "cannot read the",  # a folder the store could not read
    "failed",  # watching, reloading
)


# -- configuration and result ----------------------------------------------------------------------


@dataclass(frozen=True)
class SoakConfig:
    duration: float = 60.0  # seconds of load
    connections: int = 64  # client connections in all
    client_processes: int = 2  # the connections are spread over these processes
    workers: int = 4  # gunicorn workers (FEEDSVC_WORKERS)
    max_requests: int = 2_000_000  # a bound besides the time
    edit_interval: float = 0.05  # seconds between the editor's changes
    seed: int = 20241128
    content: Path | None = None  # a folder to serve besides the generated articles
    keep_log: Path | None = None  # where to copy gunicorn's log


@dataclass
class SoakResult:
    config: dict[str, Any]
    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    codings: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0
    retried: int = 0
    failures: int = 0
    failure_samples: list[str] = field(default_factory=list)
    all_feed_versions: int = 0  # distinct all-feed bodies seen: the reloads clients saw
    editor_ops: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    requests_per_second: float = 0.0
    elapsed: float = 0.0
    worker_rss_kib: dict[str, dict[str, int | None]] = field(default_factory=dict)  # VmRSS
    server_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failures == 0 and not self.server_problems and self.requests > 0

    def summary(self) -> str:
        lines = [
            f"soak: {'PASS' if self.ok else 'FAIL'} - {self.requests:,} requests in "
            f"{self.elapsed:.1f} s ({self.requests_per_second:,.0f}/s) over "
            f"{self.config['connections']} connections, {self.config['workers']} workers",
            f"  statuses: {json.dumps(self.statuses, sort_keys=True)}; 304s: {self.not_modified:,}"
            f"; retried after a closed keep-alive connection: {self.retried:,}",
            f"  by kind: {json.dumps(self.by_kind, sort_keys=True)}",
            f"  codings: {json.dumps(self.codings, sort_keys=True)}",
            f"  latency ms: {json.dumps(self.latency_ms, sort_keys=True)}",
            f"  editor: {json.dumps(self.editor_ops, sort_keys=True)}; all-feed versions seen: "
            f"{self.all_feed_versions}",
        ]
        for pid, rss in sorted(self.worker_rss_kib.items()):
            lines.append(
                f"  worker {pid}: VmRSS {_mib(rss.get('start'))} at start, "
                f"{_mib(rss.get('halfway'))} halfway, {_mib(rss.get('end'))} at the end"
            )
        lines.append(f"  failures: {self.failures:,}")
        lines += [f"    {sample}" for sample in self.failure_samples]
        lines += [f"  server: {problem}" for problem in self.server_problems]
        return "\n".join(lines)


def _mib(kib: int | None) -> str:
    return "gone" if kib is None else f"{kib / 1024:.1f} MiB"


# -- the content folder ----------------------------------------------------------------------------


def article_text(
    title: str, category: str, source: str | None, published: str, body: tuple[str, ...]
) -> str:
    """An article in the editors' file format."""
    lines = [title, "", category, ""]
    if source:
        lines.append(f"Bron: {source}")
    lines += [published, ""]
    for paragraph in body:
        lines += [paragraph, ""]
    lines.append(DISCLAIMER)
    return "\n".join(lines) + "\n"


def stable_title(number: int) -> str:
    # Text that has to survive every format exactly: markup, entities, CDATA ends, emoji.
    return f"Vast bericht {number:02d}: Tom & Jerry <b>{number}</b> ]]> &amp; 🎉 “quotes”"


def stable_id(number: int) -> str:
    return f"stabiel/vast-{number:02d}"


def permalink(article_id: str) -> str:
    return SITE_URL + "/artikelen/" + quote(article_id, safe="/") + ".html"


def make_content(folder: Path, extra: Path | None) -> None:
    """The stable articles, the (empty) churn folder, and a copy of ``extra`` if given."""
    if extra is not None:
        shutil.copytree(extra, folder / "extra")
    stable = folder / "stabiel"
    stable.mkdir(parents=True)
    for number in range(STABLE_COUNT):
        published = f"{1 + number % 28}-{1 + number % 12}-{2018 + number % 8} 0{number % 10}:15"
        text = article_text(
            stable_title(number),
            STABLE_CATEGORY,
            STABLE_SOURCE,
            published,
            (f"Alinea {number} met <markup> & zo.", "Tweede alinea."),
        )
        (stable / f"vast-{number:02d}.txt").write_text(text, encoding="utf-8")
    (folder / CHURN_FOLDER).mkdir()


# -- the editor ------------------------------------------------------------------------------------


class Editor:
    """Changes the churn folder the way editors (and their tools) do, including badly."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root / CHURN_FOLDER
        self.stable = root / "stabiel"
        self.rng = random.Random(seed)
        self.counter = 0
        self.ops: Counter[str] = Counter()

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file() or p.is_symlink())

    def valid_text(self) -> str:
        self.counter += 1
        rng = self.rng
        group = rng.randrange(6)
        return article_text(
            f"Wisselend bericht {self.counter} <i>&</i> {rng.choice(['🎉', 'ß', 'é', '→'])}",
            f"Wisselend -> Groep {group}",
            f"Wisselbron {group}" if rng.random() < 0.7 else None,
            f"{rng.randrange(1, 29)}-{rng.randrange(1, 13)}-{rng.randrange(2015, 2027)}",
            tuple(f"Alinea {i} van bericht {self.counter}." for i in range(rng.randrange(1, 4))),
        )

    def step(self) -> None:
        rng = self.rng
        files = self.files()
        ops = ["add", "add_atomic", "add_folder"] if len(files) < MAX_CHURN_FILES else []
        if files:
            ops += ["edit", "edit", "edit_atomic", "break", "break", "delete", "delete"]
        if rng.random() < 0.05:
            ops.append("symlink")
        op = rng.choice(ops)
        self.ops[op] += 1
        if op == "add":
            (self.root / f"n{self.counter:05d}.txt").write_text(self.valid_text(), "utf-8")
        elif op == "add_atomic":
            self._replace(self.root / f"a{self.counter:05d}.txt", self.valid_text())
        elif op == "add_folder":
            folder = self.root / f"map{self.counter:05d}"
            folder.mkdir()
            (folder / "bericht.txt").write_text(self.valid_text(), "utf-8")
        elif op == "edit":
            rng.choice(files).write_text(self.valid_text(), "utf-8")  # in place: may be seen half
        elif op == "edit_atomic":
            self._replace(rng.choice(files), self.valid_text())
        elif op == "break":
            self._break(rng.choice(files))
        elif op == "delete":
            target = rng.choice(files)
            if target.parent != self.root and rng.random() < 0.5:
                shutil.rmtree(target.parent)
            else:
                target.unlink()
        elif op == "symlink":
            link = self.root / f"link{self.counter:05d}.txt"
            self.counter += 1
            link.symlink_to(self.stable / "vast-00.txt")

    def _replace(self, path: Path, text: str) -> None:
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, "utf-8")
        os.replace(temporary, path)

    def _break(self, path: Path) -> None:
        if path.is_symlink():
            path.unlink()
            return
        kind = self.rng.randrange(7)
        if kind == 0:
            path.write_bytes(b"")
        elif kind == 1:
            path.write_text("Half opgesla", "utf-8")
        elif kind == 2:
            path.write_bytes(bytes(self.rng.randrange(256) for _ in range(300)))
        elif kind == 3:
            path.write_bytes(b"Titel\nNieuws\n1-2-2025\n\nNUL \x00 byte\n")
        elif kind == 4:
            path.write_text("Titel\n\nNieuws\n\n31-02-2024\n\nTekst.\n", "utf-8")
        elif kind == 5:
            path.write_bytes(
                "\ufeffTitel\nNieuws\n1-2-2025\n\n\udcff".encode("utf-16", "surrogatepass")
            )
        else:
            with path.open("r+b") as handle:  # sparse: larger than 1 MiB without the disk
                handle.truncate(3 * 1024 * 1024)


def editor_main(root: Path, seed: int, interval: float, stop_file: Path) -> dict[str, int]:
    editor = Editor(root, seed)
    while not stop_file.exists():
        editor.step()
        time.sleep(interval)
    return dict(editor.ops)


# -- the clients -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    kind: str  # all-feed, stable-feed, feed, opml, page, stable-page, healthz
    path: str
    extension: str = ""  # rss, atom, json, opml for documents with ETags


@dataclass
class ClientTotals:
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    codings: Counter[str] = field(default_factory=Counter)
    not_modified: int = 0
    retried: int = 0
    failures: int = 0
    failure_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    all_feed_digests: set[str] = field(default_factory=set)


class Budget:
    """The requests a client process may still make, shared by its threads, and its checker."""

    def __init__(self, requests: int) -> None:
        self.left = requests
        self.lock = threading.Lock()
        self.checker = Checker()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


class Checker:
    """Checks responses; parses each distinct body once (the digest is checked every time)."""

    def __init__(self) -> None:
        self.verified: set[tuple[str, str]] = set()  # (path, sha256) of bodies that passed
        self.lock = threading.Lock()
        self.stable_ids = {permalink(stable_id(n)) for n in range(STABLE_COUNT)}
        self.stable_titles = {permalink(stable_id(n)): stable_title(n) for n in range(STABLE_COUNT)}

    def document(self, target: Target, identity: bytes, digest: str) -> str | None:
        """Why the identity body of a feed or OPML response is wrong, or None."""
        key = (target.path, digest)
        with self.lock:
            if key in self.verified:
                return None
        problem = self._check_document(target, identity)
        if problem is None:
            with self.lock:
                self.verified.add(key)
        return problem

    def _check_document(self, target: Target, identity: bytes) -> str | None:
        if target.extension == "json":
            try:
                document = json.loads(identity.decode("utf-8"))
            except ValueError as error:
                return f"not UTF-8 JSON: {error}"
            items = {item["id"]: item["title"] for item in document["items"]}
        else:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            try:
                root = etree.fromstring(identity, parser)
            except etree.XMLSyntaxError as error:
                return f"not well-formed XML: {error}"
            if target.extension == "rss":
                items = {i.findtext("guid"): i.findtext("title") for i in root.iter("item")}
            elif target.extension == "atom":
                items = {
                    e.findtext(f"{_ATOM}id"): _atom_title(e) for e in root.iter(f"{_ATOM}entry")
                }
            else:
                return None  # OPML: well-formed is what is checked
        if target.kind == "all-feed":
            missing = self.stable_ids - items.keys()
            if missing:
                return f"{len(missing)} stable article(s) missing, e.g. {min(missing)}"
        elif target.kind == "stable-feed" and items.keys() != self.stable_ids:
            extra = sorted(items.keys() - self.stable_ids)[:2]
            lacking = sorted(self.stable_ids - items.keys())[:2]
            return f"the stable category feed is not the stable set: +{extra} -{lacking}"
        for key, title in self.stable_titles.items():
            if key in items and items[key] != title:
                return f"stable title changed: {items[key]!r}"
        return None


def _atom_title(entry: etree._Element) -> str | None:
    """An Atom entry's title as text; the text method also reads a type="xhtml" title, whose
    text is in a div (how feedsvc writes text that could be taken for HTML)."""
    title = entry.find(f"{_ATOM}title")
    if title is None:
        return None
    return etree.tostring(title, encoding="unicode", method="text", with_tail=False)


def expected_etag(identity: bytes, coding: str) -> str:
    digest = hashlib.sha256(identity).hexdigest()[:32]
    return f'"{digest}"' if coding == "identity" else f'"{digest}-{coding}"'


def decode(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "br":
        return bytes(brotli.decompress(body))
    return body


@dataclass(frozen=True)
class Sent:
    """What one request asked for."""

    method: str
    coding: str
    headers: dict[str, str]
    etag: str | None  # the If-None-Match sent, if any


class ClientThread(threading.Thread):
    """One connection, requesting targets at random until the deadline or the budget is spent."""

    def __init__(
        self, *, port: int, targets: list[Target], deadline: float, budget: Budget, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.targets = targets
        self.deadline = deadline
        self.budget = budget
        self.checker = budget.checker
        self.rng = random.Random(seed)
        self.totals = ClientTotals()
        self.validators: dict[tuple[str, str], tuple[str, str]] = {}  # (path, coding) -> ETag, LM
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)

    def run(self) -> None:
        weights = [self._weight(t) for t in self.targets]
        try:
            while time.monotonic() < self.deadline and self.budget.take():
                target = self.rng.choices(self.targets, weights)[0]
                self.request(target)
        finally:
            self.connection.close()

    @staticmethod
    def _weight(target: Target) -> float:
        return {
            "all-feed": 12.0,
            "stable-feed": 4.0,
            "feed": 1.0,
            "opml": 2.0,
            "page": 1.0,
            "stable-page": 1.0,
            "healthz": 1.0,
        }[target.kind]

    def fail(self, target: Target, headers: dict[str, str], problem: str) -> None:
        self.totals.failures += 1
        if len(self.totals.failure_samples) < _MAX_FAILURES_KEPT:
            sent = ", ".join(f"{k}: {v}" for k, v in headers.items() if k != "Accept")
            self.totals.failure_samples.append(f"{target.path} [{sent}]: {problem}")

    def request(self, target: Target) -> None:
        rng = self.rng
        method = "HEAD" if target.kind == "all-feed" and rng.random() < 0.03 else "GET"
        coding = rng.choice(CODINGS)
        headers = {"Accept": ACCEPT, "Accept-Encoding": coding}
        validators = self.validators.get((target.path, coding))
        sent_etag = None
        if validators is not None and target.extension and rng.random() < 0.4:
            sent_etag = validators[0]
            headers["If-None-Match"] = sent_etag
        elif validators is not None and target.extension and rng.random() < 0.1:
            headers["If-Modified-Since"] = validators[1]
        started = time.perf_counter()
        try:
            response, body = self._exchange(method, target.path, headers)
        except (OSError, http.client.HTTPException) as error:
            self.fail(target, headers, f"{type(error).__name__}: {error}")
            self.connection.close()
            return
        self.totals.latencies.append((time.perf_counter() - started) * 1000)
        self.totals.requests += 1
        self.totals.statuses[str(response.status)] += 1
        self.totals.by_kind[target.kind] += 1
        try:
            problem = self._check(target, Sent(method, coding, headers, sent_etag), response, body)
        except Exception as error:  # a body so wrong that checking it failed
            problem = f"{type(error).__name__} while checking: {error}"
        if problem is not None:
            self.fail(target, headers, problem)

    def _exchange(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[http.client.HTTPResponse, bytes]:
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, headers=headers)
                response = self.connection.getresponse()
                body = response.read()  # raises IncompleteRead if the body is cut short
                if response.will_close:
                    self.connection.close()
                return response, body
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: what every client retries.
                self.connection.close()
                if attempt == 2:
                    raise
                self.totals.retried += 1
        raise AssertionError("unreachable")

    def _check(
        self, target: Target, sent: Sent, response: http.client.HTTPResponse, body: bytes
    ) -> str | None:
        status = response.status
        if status not in (200, 304):
            return f"status {status}: {body[:200]!r}"
        length = response.getheader("Content-Length")
        if status == 304:
            self.totals.not_modified += 1
            if "If-None-Match" not in sent.headers and "If-Modified-Since" not in sent.headers:
                return "304 without a validator sent"
            if sent.etag is not None and response.getheader("ETag") != sent.etag:
                return f"304 with ETag {response.getheader('ETag')} for {sent.etag}"
            return None if not body else "304 with a body"
        if sent.method == "HEAD":
            return None if not body else "HEAD with a body"
        if length is None or int(length) != len(body):
            return f"Content-Length {length} but {len(body)} bytes"
        served_coding = response.getheader("Content-Encoding") or "identity"
        self.totals.codings[served_coding] += 1
        if target.extension and served_coding != sent.coding:
            return f"asked for {sent.coding}, got {served_coding}"
        try:
            identity = decode(body, served_coding)
        except (OSError, EOFError, zlib.error, brotli.error) as error:
            return f"{served_coding} body does not decode: {error}"
        if target.extension:
            etag = response.getheader("ETag")
            if etag != expected_etag(identity, served_coding):
                return (
                    f"ETag {etag} is not that of the body ({expected_etag(identity, sent.coding)})"
                )
            self.validators[(target.path, sent.coding)] = (
                etag,
                response.getheader("Last-Modified") or "",
            )
            digest = hashlib.sha256(identity).hexdigest()
            if target.kind == "all-feed" and target.extension == "rss":
                self.totals.all_feed_digests.add(digest)
            return self.checker.document(target, identity, digest)
        text = identity.decode("utf-8", "replace")
        if target.kind == "healthz":
            health = json.loads(text)
            if health.get("status") != "ok" or health.get("articles", 0) < STABLE_COUNT:
                return f"healthz says {health.get('status')} with {health.get('articles')}"
            return None
        if not text.rstrip().endswith("</html>"):
            return "HTML page cut short"
        return None


def client_main(
    *, port: int, targets: list[Target], threads: int, seconds: float, budget: int, seed: int
) -> dict[str, Any]:
    """Run ``threads`` client connections until ``seconds`` pass or ``budget`` requests are made."""
    deadline = time.monotonic() + seconds
    shared = Budget(budget)
    clients = [
        ClientThread(
            port=port, targets=targets, deadline=deadline, budget=shared, seed=seed * 1000 + n
        )
        for n in range(threads)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    totals = ClientTotals()
    for client in clients:
        t = client.totals
        totals.requests += t.requests
        totals.statuses.update(t.statuses)
        totals.by_kind.update(t.by_kind)
        totals.codings.update(t.codings)
        totals.not_modified += t.not_modified
        totals.retried += t.retried
        totals.failures += t.failures
        totals.failure_samples += t.failure_samples[
            : _MAX_FAILURES_KEPT - len(totals.failure_samples)
        ]
        totals.latencies += t.latencies
        totals.all_feed_digests |= t.all_feed_digests
    return {
        "requests": totals.requests,
        "statuses": dict(totals.statuses),
        "by_kind": dict(totals.by_kind),
        "codings": dict(totals.codings),
        "not_modified": totals.not_modified,
        "retried": totals.retried,
        "failures": totals.failures,
        "failure_samples": totals.failure_samples,
        "latencies": [round(v, 2) for v in totals.latencies],
        "all_feed_digests": sorted(totals.all_feed_digests),
    }


# -- the server ------------------------------------------------------------------------------------


class GunicornServer:
    """feedsvc under gunicorn with the repository's gunicorn.conf.py, on a loopback port."""

    def __init__(self, content: Path, workers: int, log_path: Path, **env: str) -> None:
        self.port = free_port(HOST)
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        self.environ = {
            **os.environ,
            "FEEDSVC_CONTENT_DIR": str(content),
            "FEEDSVC_BIND": f"{HOST}:{self.port}",
            "FEEDSVC_WORKERS": str(workers),
            "FEEDSVC_SITE_URL": SITE_URL,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> GunicornServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> None:
        command = [
            str(GUNICORN),
            "-c",
            "gunicorn.conf.py",
            "--no-control-socket",  # several servers at once must not fight over one socket
            "--access-logfile",
            "/dev/null",
            "wsgi:app",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=self.environ, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as response:
                    response.read()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"gunicorn did not start:\n{self.log()}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        """The master's children, from /proc."""
        assert self.process is not None
        return children(self.process.pid)


def children(pid: int) -> list[int]:
    found: set[int] = set()
    task_dir = Path(f"/proc/{pid}/task")
    with contextlib.suppress(OSError):
        for task in task_dir.iterdir():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (task / "children").read_text().split())
    if found:
        return sorted(found)
    for stat_file in Path("/proc").glob("[0-9]*/stat"):  # kernels without task/children
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(stat_file.parent.name))
    return sorted(found)


def rss_kib(pid: int) -> int | None:
    """Resident memory of ``pid`` in KiB (VmRSS), or None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) if match else None


def targets_for(bundled_feeds: list[str]) -> list[Target]:
    targets = [Target("all-feed", f"/feeds/all.{ext}", ext) for ext in FEED_EXTENSIONS]
    for ext in FEED_EXTENSIONS:
        targets.append(Target("stable-feed", f"/feeds/categorie/{STABLE_CATEGORY_SLUG}.{ext}", ext))
        targets.append(Target("feed", f"/feeds/bron/{STABLE_SOURCE_SLUG}.{ext}", ext))
        targets += [Target("feed", f"/feeds/{path}.{ext}", ext) for path in bundled_feeds]
    targets.append(Target("opml", "/feeds.opml", "opml"))
    targets += [
        Target("page", "/"),
        Target("page", "/categorie/stabiel.html"),
        Target("healthz", "/healthz"),
    ]
    targets += [
        Target("stable-page", "/artikelen/" + quote(stable_id(n)) + ".html")
        for n in range(0, STABLE_COUNT, 7)
    ]
    return targets


def bundled_feed_paths(base: str) -> list[str]:
    """The feeds of the extra (never edited) content: category and source feeds from the OPML."""
    with urllib.request.urlopen(base + "/feeds.opml", timeout=10) as response:
        root = etree.fromstring(response.read())
    paths = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl")
        if not url:
            continue
        path = url.removeprefix(SITE_URL + "/feeds/").removesuffix(".rss")
        if path == "all" or "stabiel" in path or STABLE_SOURCE_SLUG in path:
            continue
        paths.append(path)
    return sorted(paths)


# -- the run ---------------------------------------------------------------------------------------


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return round(sorted_values[index], 1)


def _spawn(role: str, arguments: dict[str, Any]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--role", role, json.dumps(arguments)],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )


def _collect(process: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    output, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"a soak process failed with {process.returncode}")
    data: dict[str, Any] = json.loads(output)
    return data


def run(config: SoakConfig) -> SoakResult:
    """Run one soak; the result says what was seen and whether every check held."""
    if config.connections < config.client_processes:
        raise ValueError("need at least one connection per client process")
    result = SoakResult(config={k: str(v) for k, v in asdict(config).items()})
    result.config.update(connections=str(config.connections), workers=str(config.workers))
    with tempfile.TemporaryDirectory(prefix="feedsvc-soak-") as scratch:
        root = Path(scratch) / "content"
        root.mkdir()
        make_content(root, config.content if config.content else REPO / "content")
        log_path = Path(scratch) / "gunicorn.log"
        server = GunicornServer(root, config.workers, log_path, FEEDSVC_PAGE_SIZE=str(PAGE_SIZE))
        with server:
            try:
                _drive(server, root, Path(scratch), config, result)
            finally:
                server.stop()
                log = server.log()
                if config.keep_log is not None:
                    config.keep_log.write_text(log, "utf-8")
        for marker in _LOG_ALARMS:
            if marker in log:
                result.server_problems.append(f"gunicorn log contains {marker!r}")
    return result


def _drive(
    server: GunicornServer, root: Path, scratch: Path, config: SoakConfig, result: SoakResult
) -> None:
    total = len(list(root.rglob("*.txt"))) + MAX_CHURN_FILES + 1
    if total > PAGE_SIZE:
        raise ValueError(f"{total} articles do not fit on one page of {PAGE_SIZE}")
    targets = targets_for(bundled_feed_paths(server.base))
    workers = _warm_up(server, config.workers)
    rss_start = _rss_of(workers)

    stop_file = scratch / "stop-editing"
    editor = _spawn(
        "editor",
        {
            "root": str(root),
            "seed": config.seed,
            "interval": config.edit_interval,
            "stop": str(stop_file),
        },
    )
    per_process = [config.connections // config.client_processes] * config.client_processes
    for index in range(config.connections % config.client_processes):
        per_process[index] += 1
    started = time.monotonic()
    clients = [
        _spawn(
            "client",
            {
                "port": server.port,
                "targets": [asdict(t) for t in targets],
                "threads": threads,
                "seconds": config.duration,
                "budget": config.max_requests // config.client_processes,
                "seed": config.seed + index,
            },
        )
        for index, threads in enumerate(per_process)
    ]
    halfway: dict[int, int | None] = {}
    sampler = threading.Timer(config.duration / 2, lambda: halfway.update(_rss_of(workers)))
    sampler.start()
    try:
        outputs = [_collect(client, config.duration + 120) for client in clients]
    finally:
        sampler.cancel()
        result.elapsed = time.monotonic() - started
        stop_file.touch()
        result.editor_ops = _collect(editor, 30)
        for client in clients:
            if client.poll() is None:
                client.kill()
    workers_end = server.worker_pids()
    rss_end = _rss_of(workers_end)
    for pid in sorted(set(workers) | set(workers_end)):
        result.worker_rss_kib[str(pid)] = {
            "start": rss_start.get(pid),
            "halfway": halfway.get(pid),
            "end": rss_end.get(pid),
        }
    if workers_end != workers:
        result.server_problems.append(f"workers changed during the run: {workers} -> {workers_end}")
    result.server_problems += _memory_problems(result.worker_rss_kib)
    _merge(outputs, result)


def _warm_up(server: GunicornServer, count: int, timeout: float = 60.0) -> list[int]:
    """Wait for all ``count`` workers (they boot one after another, slowly on a busy machine)
    and have each answer (which starts its watcher), so memory is measured on running workers."""
    deadline = time.monotonic() + timeout
    answered: set[int] = set()
    for attempt in range(1000):
        workers = server.worker_pids()
        if len(workers) >= count and (set(workers) <= answered or attempt >= 200):
            return workers
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(workers)} of {count} workers after {timeout:.0f} s")
        with urllib.request.urlopen(server.base + "/healthz", timeout=10) as response:
            answered.add(json.loads(response.read())["pid"])
        with urllib.request.urlopen(server.base + "/feeds/all.rss", timeout=10) as response:
            response.read()
        if len(workers) < count:
            time.sleep(0.1)
    return server.worker_pids()


def _rss_of(pids: list[int]) -> dict[int, int | None]:
    return {pid: rss_kib(pid) for pid in pids}


def _memory_problems(rss: dict[str, dict[str, int | None]]) -> list[str]:
    """Memory must level off: the second half of the run may not add what a leak would.

    The first half fills caches (rendered pages, parsed files), so it is the second half that
    shows a leak: growth of more than half again, and at least 32 MiB, is reported.
    """
    problems = []
    for pid, samples in rss.items():
        halfway, end = samples.get("halfway"), samples.get("end")
        if halfway and end and end - halfway > max(32 * 1024, halfway // 2):
            problems.append(
                f"worker {pid} grew from {_mib(halfway)} halfway to {_mib(end)} at the end"
            )
    return problems


def _merge(outputs: list[dict[str, Any]], result: SoakResult) -> None:
    """Add up what the client processes saw."""
    latencies: list[float] = []
    digests: set[str] = set()
    statuses: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    codings: Counter[str] = Counter()
    for output in outputs:
        result.requests += output["requests"]
        statuses.update(output["statuses"])
        by_kind.update(output["by_kind"])
        codings.update(output["codings"])
        result.not_modified += output["not_modified"]
        result.retried += output["retried"]
        result.failures += output["failures"]
        result.failure_samples += output["failure_samples"]
        latencies += output["latencies"]
        digests.update(output["all_feed_digests"])
    result.statuses, result.by_kind, result.codings = dict(statuses), dict(by_kind), dict(codings)
    result.failure_samples = result.failure_samples[:_MAX_FAILURES_KEPT]
    result.all_feed_versions = len(digests)
    latencies.sort()
    result.latency_ms = {
        name: _percentile(latencies, q) for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
    }
    result.latency_ms["max"] = round(latencies[-1], 1) if latencies else 0.0
    result.requests_per_second = result.requests / result.elapsed if result.elapsed else 0.0
    edits = sum(result.editor_ops.values())
    if edits >= 20 and result.all_feed_versions < 2:
        result.server_problems.append(
            f"the editor made {edits} changes but clients only ever saw one all-feed"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--connections", type=int, default=64, help="client connections (64)")
    parser.add_argument("--client-processes", type=int, default=2, help="client processes (2)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="request bound")
    parser.add_argument("--edit-interval", type=float, default=0.05, help="seconds per change")
    parser.add_argument("--content", type=Path, help="content to serve too (bundled content/)")
    parser.add_argument("--json", type=Path, help="write the result as JSON here")
    parser.add_argument("--log", type=Path, help="keep gunicorn's log here")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("arguments", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "editor":
        options = json.loads(args.arguments)
        ops = editor_main(
            Path(options["root"]), options["seed"], options["interval"], Path(options["stop"])
        )
        print(json.dumps(ops))
        return 0
    if args.role == "client":
        options = json.loads(args.arguments)
        targets = [Target(**t) for t in options["targets"]]
        output = client_main(
            port=options["port"],
            targets=targets,
            threads=options["threads"],
            seconds=options["seconds"],
            budget=options["budget"],
            seed=options["seed"],
        )
        print(json.dumps(output))
        return 0
    config = SoakConfig(
        duration=args.duration,
        connections=args.connections,
        client_processes=args.client_processes,
        workers=args.workers,
        max_requests=args.max_requests,
        edit_interval=args.edit_interval,
        content=args.content,
        keep_log=args.log,
    )
    result = run(config)
    print(result.summary())
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2), "utf-8")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())

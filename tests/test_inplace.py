"""No missed edits, no half edits: racy timestamps, files written in place, files renamed in.

A file written in place (truncate, then chunks, as editors, cp, FTP and SMB do) is published
only once it has been quiet for ``FEEDSVC_QUIET_SECONDS``; a file renamed into place is
published at once; a rewrite within one timestamp tick, of the same size, is still seen.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path

import feedparser
from conftest import SITE_URL, ArticleWriter, article_text
from flask import Flask
from pytest_httpserver import HTTPServer
from websub_hub import wait_until

from feedsvc.articles.store import ContentStore
from feedsvc.runtime import Runtime
from feedsvc.settings import Settings

OLD = article_text(title="Park gaat open", body=("Het park gaat zaterdag open voor iedereen.",))
NEW = article_text(
    title="Park blijft nog even dicht",
    category="Nieuws -> Informatief",
    source="Gemeente Amstelveen",
    published="14-03-2025 16:45",
    body=tuple(f"Alinea {n}: het park blijft dicht tot de paden klaar zijn." for n in range(12)),
)


def aged(path: Path, seconds: float = 60) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def store_over(folder: Path, quiet_seconds: float) -> ContentStore:
    return ContentStore(Settings(content_dir=folder), quiet_seconds=quiet_seconds)


def titles(store: ContentStore) -> list[str]:
    return [article.title for article in store.snapshot().articles]


def test_a_same_size_rewrite_within_one_timestamp_tick_is_seen(content_dir: Path) -> None:
    path = content_dir / "park.txt"
    path.write_text(article_text(title="Versie A"), encoding="utf-8")
    store = store_over(content_dir, quiet_seconds=0)
    store.reload()
    assert titles(store) == ["Versie A"]
    before = path.stat()
    with path.open("r+b") as handle:  # same inode, same size
        handle.write(article_text(title="Versie B").encode())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same timestamp
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    report = store.reload()
    assert report.changed
    assert titles(store) == ["Versie B"]
    assert not store.reload().changed  # read again, found the same: no change


def test_a_file_renamed_into_place_is_published_at_once(content_dir: Path) -> None:
    (content_dir / "park.txt").write_text(OLD, encoding="utf-8")
    aged(content_dir / "park.txt")
    store = store_over(content_dir, quiet_seconds=30)
    store.reload()
    assert titles(store) == ["Park gaat open"]
    temporary = content_dir / ".park.txt.tmp"
    temporary.write_text(NEW, encoding="utf-8")
    os.replace(temporary, content_dir / "park.txt")
    store.reload()
    assert titles(store) == ["Park blijft nog even dicht"]
    assert store.settling() is None


def test_a_file_written_in_place_waits_until_it_is_quiet(content_dir: Path) -> None:
    path = content_dir / "park.txt"
    path.write_text(OLD, encoding="utf-8")
    aged(path)
    # Longer than the default, so that even a stalled test machine cannot make the half-written
    # file look quiet between the write and the reload (the rule, not the value, is tested).
    store = store_over(content_dir, quiet_seconds=3.0)
    store.reload()
    with path.open("r+b") as handle:
        handle.truncate(0)
        handle.write(NEW.encode()[:100])  # cut in the middle of the body
    store.reload()
    assert titles(store) == ["Park gaat open"]  # the last good version stays
    pending = store.settling()
    assert pending is not None
    assert pending[1] == {str(path)}
    with path.open("ab") as handle:
        handle.write(NEW.encode()[100:])
    wait_until(lambda: store.reload().changed, what="published once quiet")
    assert titles(store) == ["Park blijft nog even dicht"]
    assert store.settling() is None


def test_a_chunked_in_place_write_never_publishes_a_partial_version(
    httpserver: HTTPServer,
    content_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
) -> None:
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=202)
    path = aged(write_article("park.txt", data=OLD))
    aged(write_article("ander.txt", title="Ander bericht", published="01-03-2025"))
    # The pauses between chunks are about 0.2 s; a quiet period of 2.5 s keeps a stalled test
    # machine from making one of them look like the end of the write.
    app = make_app(WATCH=True, QUIET_SECONDS=2.5, WEBSUB_HUB=httpserver.url_for("/hub"))
    runtime: Runtime = app.extensions["feedsvc"]
    runtime.start_watching()
    client = app.test_client()
    served: set[tuple[str, str]] = set()
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            document = feedparser.parse(client.get("/feeds/all.atom").data)
            for entry in document.entries:
                if entry.id.endswith("/park.html"):
                    served.add((entry.title, entry.content[0].value))
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        data = NEW.encode()
        chunks = [data[n : n + 60] for n in range(0, len(data), 60)]
        with path.open("r+b") as handle:
            handle.truncate(0)
            handle.flush()
            for chunk in chunks:  # about 3 s in all, each pause well under the quiet period
                time.sleep(3.0 / len(chunks))
                handle.write(chunk)
                handle.flush()
        wait_until(
            lambda: any(title == "Park blijft nog even dicht" for title, _ in served),
            what="the whole new version published",
        )
    finally:
        stop.set()
        poller.join(timeout=60)
        watcher = runtime.watcher
        assert watcher is not None
        watcher.stop()
    assert {title for title, _ in served} == {"Park gaat open", "Park blijft nog even dicht"}
    assert len(served) == 2, "a partial version was served"
    newest = next(body for title, body in served if title == "Park blijft nog even dicht")
    assert "Alinea 11: het park blijft dicht tot de paden klaar zijn." in newest
    assert runtime.notifier is not None
    assert runtime.notifier.join(timeout=60)
    pinged = [request.form["hub.topic"] for request, _ in httpserver.log]
    assert f"{SITE_URL}/feeds/all.atom" in pinged
    assert len(pinged) == len(set(pinged)), "a partial version was pinged"


def test_a_watcher_made_for_export_watch_publishes_an_in_place_write_once_quiet(
    content_dir: Path, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    # export --watch makes its app without watching and its watcher with Runtime.watcher_for,
    # calling its own export: a file written in place must be held back until it is quiet,
    # then reloaded, as the service does, with no other event to come and the periodic rescan
    # turned off.
    aged(write_article("ander.txt", title="Ander bericht", published="01-03-2025"))
    # Longer than the reload that the write's event brings can take on a stalled machine: the
    # file must still be settling then (the rule, not the value, is tested).
    app = make_app(QUIET_SECONDS=3.0)
    runtime: Runtime = app.extensions["feedsvc"]
    calls: list[Collection[str] | None] = []

    def export(changed: Collection[str] | None) -> None:
        calls.append(changed)
        runtime.refresh(changed)

    watcher = runtime.watcher_for(export)
    watcher.rescan_seconds = 3600.0  # only the events and the settling reload remain
    watcher.ensure_running()
    try:
        assert watcher.wait_established(timeout=60)
        path = content_dir / "park.txt"
        with path.open("wb") as handle:  # written in place, in one go: quiet from now on
            handle.write(NEW.encode())
        wait_until(
            lambda: "Park blijft nog even dicht" in titles_of(runtime),
            what="the in-place write published once quiet",
        )
    finally:
        watcher.stop()
    # Brought in by its event (held back, being written), then by the reload once quiet.
    reloads_of_it = [changed for changed in calls if changed is not None and str(path) in changed]
    assert len(reloads_of_it) >= 2, calls


def titles_of(runtime: Runtime) -> list[str]:
    return [article.title for article in runtime.catalog.articles]

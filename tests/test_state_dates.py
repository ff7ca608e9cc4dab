"""Dates that must not go back, in the corners test_restart.py leaves: two versions within one
second, a feed that goes and comes back, and a worker killed before it saved.

Each is checked as a client sees it: the client keeps the Last-Modified it was sent and asks
again with If-Modified-Since; new bytes must never be answered 304.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO, SITE_URL, ArticleWriter
from flask import Flask
from test_restart import five_articles, stop
from werkzeug.http import parse_date

from feedsvc.feeds import publication as publication_module
from feedsvc.feeds.state import FILE_NAME
from feedsvc.runtime import Runtime

SPORT_FEED = "/feeds/categorie/sport.rss"
SPORT_FEEDS = (SPORT_FEED, "/feeds/categorie/sport.atom", "/feeds/categorie/sport.json")


def get(app: Flask, path: str, since: str | None = None) -> tuple[int, bytes, str]:
    """Status, body and the date the client keeps (its own after a 304)."""
    headers = {"Accept-Encoding": "identity"}
    if since is not None:
        headers["If-Modified-Since"] = since
    response = app.test_client().get(path, headers=headers)
    return response.status_code, response.data, response.headers.get("Last-Modified", since or "")


def refresh(app: Flask) -> None:
    runtime: Runtime = app.extensions["feedsvc"]
    runtime.refresh()


def edit_park(write_article: ArticleWriter, body: str, mtime: float) -> None:
    path = write_article(
        "park.txt",
        category="Nieuws -> Informatief",
        published="12-03-2025 10:00",
        body=(body,),
    )
    os.utime(path, (mtime, mtime))


@pytest.mark.parametrize(
    "path",
    ["/feeds/all.rss", "/feeds/categorie/nieuws/informatief.json", "/artikelen/park.html"],
)
def test_two_versions_within_one_second_get_two_dates(
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    # The clock the dates are read from stands still just before a whole second, so both
    # edits below are seen within it; their files' mtimes say when they were made.
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Clock:  # type: ignore[override]
            return cls.fromtimestamp((second + timedelta(seconds=0.9)).timestamp(), UTC)

    monkeypatch.setattr(publication_module, "datetime", Clock)
    five_articles(write_article)
    app = make_app(PAGE_SIZE=2)
    edit_park(write_article, "Eerste versie.", second.timestamp() + 0.2)
    refresh(app)
    status, first, first_date = get(app, path)
    assert status == 200
    edit_park(write_article, "Tweede versie.", second.timestamp() + 0.5)
    refresh(app)
    status, body, date = get(app, path, since=first_date)
    assert status == 200, f"{path}: 304 for the second version of the same second"
    assert body != first
    assert parse_date(date) > parse_date(first_date)


@pytest.mark.parametrize("restart", [False, True], ids=["running", "across a restart"])
def test_a_feed_that_comes_back_is_dated_after_what_it_had(
    content_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    restart: bool,
) -> None:
    five_articles(write_article)
    original = (content_dir / "derby.txt").read_bytes()
    old_mtime = (content_dir / "derby.txt").stat().st_mtime - 3600
    app = make_app()
    write_article(
        "derby.txt",
        title="Derby gewonnen",
        category="Sport",
        source="Sportclub",
        published="09-03-2025 20:00",
        body=("Met 3-1.",),
    )
    refresh(app)
    status, second_version, second_date = get(app, SPORT_FEED)
    assert status == 200
    (content_dir / "derby.txt").unlink()  # the feed's only article: the feed is gone
    refresh(app)
    assert get(app, SPORT_FEED)[0] == 404
    if restart:
        stop(app)
    # Back from a backup: the first version, with the mtime it had then.
    (content_dir / "derby.txt").write_bytes(original)
    os.utime(content_dir / "derby.txt", (old_mtime, old_mtime))
    if restart:
        app = make_app()
    else:
        refresh(app)
    status, body, date = get(app, SPORT_FEED, since=second_date)
    assert status == 200, "304 for the feed that came back with other bytes"
    assert body != second_version
    assert parse_date(date) > parse_date(second_date)


def test_gone_resources_are_bounded_and_what_is_dropped_still_dates_later(
    content_dir: Path,
    state_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(publication_module, "GONE_LIMIT", 1)
    monkeypatch.setattr("feedsvc.feeds.state.GONE_LIMIT", 1)
    five_articles(write_article)
    original = (content_dir / "derby.txt").read_bytes()
    app = make_app()
    write_article("derby.txt", title="Derby gewonnen", category="Sport", source="Sportclub")
    refresh(app)
    sport_date = max((get(app, path)[2] for path in SPORT_FEEDS), key=parse_date)
    (content_dir / "derby.txt").unlink()
    refresh(app)
    stop(app)
    document = json.loads((state_dir / FILE_NAME).read_text("utf-8"))
    assert len(document["gone"]) == 1  # of the sport feed's three formats: two dropped
    (content_dir / "derby.txt").write_bytes(original)
    os.utime(content_dir / "derby.txt", (0, 0))
    again = make_app()
    for path in SPORT_FEEDS:
        status, _, date = get(again, path, since=sport_date)
        assert status == 200, path
        assert parse_date(date) > parse_date(sport_date), path


KILLED_WORKER = """
import os, signal, sys
from feedsvc import create_app
app = create_app({
    "TESTING": True, "CONTENT_DIR": sys.argv[1], "STATE_DIR": sys.argv[2],
    "SITE_URL": sys.argv[3], "WATCH": False, "QUIET_SECONDS": 0,
})
response = app.test_client().get("/feeds/all.rss", headers={"Accept-Encoding": "identity"})
print(response.headers["Last-Modified"], flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no shutdown, no atexit: as an OOM kill
"""


def test_a_worker_killed_before_it_saves_keeps_the_dates_it_gave(
    content_dir: Path,
    state_dir: Path,
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
) -> None:
    five_articles(write_article)
    stop(make_app())  # a state file, as of a first run
    # An edit with a late mtime, seen by a worker that starts, serves it and is killed.
    edit_park(write_article, "Eerste versie.", time.time())
    worker = subprocess.run(
        [sys.executable, "-c", KILLED_WORKER, str(content_dir), str(state_dir), SITE_URL],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    given = worker.stdout.strip()
    assert parse_date(given) is not None, worker.stdout
    # Another edit that adds no newer article date, then the next worker starts.
    edit_park(write_article, "Tweede versie.", time.time())
    status, _, date = get(make_app(), "/feeds/all.rss", since=given)
    assert status == 200, "304 for bytes the killed worker never saw"
    assert parse_date(date) > parse_date(given)

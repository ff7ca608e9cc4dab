"""newsboat, a feed reader people use, reads every item of the RSS and Atom feeds.

Each feed carries a page for people opened in a browser (an XHTML div, see the README's "Feeds in
a browser"); a reader must not see it as an item or lose anything to it. newsboat (Debian package
``newsboat``) fetches the feed from feedsvc on a loopback port into its own cache (SQLite), which
is read back and compared with feedparser's reading of the same bytes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from conftest import BUNDLED_CONTENT, LiveServer

from feedsvc import create_app


def _newsboat() -> str:
    found = shutil.which("newsboat")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("newsboat is missing in CI: scripts/test.sh installs the Debian package")
        pytest.skip("needs newsboat: install the Debian package newsboat")
    return found


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    # The site URL is the server's own, so the links newsboat stores are the ones it fetched from.
    server = LiveServer.start(lambda environ, start: app(environ, start))  # noqa: PLW0108 - app is made below
    url = server.url
    app = create_app({"CONTENT_DIR": str(BUNDLED_CONTENT), "SITE_URL": url, "WATCH": False})
    try:
        yield url
    finally:
        server.stop()


@pytest.mark.parametrize("extension", ["rss", "atom"])
def test_newsboat_reads_every_item(site: str, extension: str, tmp_path: Path) -> None:
    newsboat = _newsboat()
    feed_url = f"{site}/feeds/all.{extension}"
    (tmp_path / "urls").write_text(feed_url + "\n", "utf-8")
    (tmp_path / "config").write_text("", "utf-8")
    environ = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config.d"))
    environ["XDG_DATA_HOME"] = str(tmp_path / "data.d")
    result = subprocess.run(
        [newsboat, "-u", "urls", "-c", "cache.db", "-C", "config", "-x", "reload", "print-unread"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with urllib.request.urlopen(feed_url, timeout=30) as response:
        parsed = feedparser.parse(response.read())
    expected = {(entry.title, entry.link) for entry in parsed.entries}
    assert len(expected) == 35  # every article of the bundled content, each once
    assert result.stdout.strip() == f"{len(expected)} unread articles"
    with sqlite3.connect(tmp_path / "cache.db") as cache:
        items = cache.execute("SELECT title, url, content FROM rss_item").fetchall()
        feeds = cache.execute("SELECT title FROM rss_feed").fetchall()
    assert {(title, url) for title, url, _ in items} == expected
    assert all(content.startswith("<p>") for _, _, content in items)
    assert feeds == [(parsed.feed.title,)]

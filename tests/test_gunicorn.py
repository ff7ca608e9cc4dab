"""Real gunicorn, two workers, as the README serves it: a content change reaches both."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ArticleWriter, free_port
from gunicornlib import start_gunicorn


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        data: dict[str, object] = json.loads(response.read())
        return data


@pytest.fixture
def server(content_dir: Path, write_article: ArticleWriter) -> Iterator[str]:
    write_article("a.txt", title="Eerste bericht")
    port = free_port()
    env = {
        **os.environ,
        "FEEDSVC_CONTENT_DIR": str(content_dir),
        "FEEDSVC_BIND": f"127.0.0.1:{port}",
        "FEEDSVC_WORKERS": "2",
        "FEEDSVC_SITE_URL": "https://nieuws.example.nl",
    }
    process = start_gunicorn(env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            get_json(base + "/healthz")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, stderr = process.communicate()
                pytest.fail(f"gunicorn did not start: {stderr.decode(errors='replace')}")
            time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_a_change_reaches_every_worker(server: str, write_article: ArticleWriter) -> None:
    # Requests spread over the workers as each accepts; ask until both have answered (a
    # worker still starting on a busy machine answers later, not never).
    articles_by_worker: dict[object, object] = {}
    deadline = time.monotonic() + 60  # generous: a correctness check, not a speed one
    while len(articles_by_worker) < 2 and time.monotonic() < deadline:
        health = get_json(server + "/healthz")
        articles_by_worker[health["pid"]] = health["articles"]
    assert len(articles_by_worker) == 2, "only one worker ever answered"
    assert set(articles_by_worker.values()) == {1}

    write_article("b.txt", title="Tweede bericht", published="13-03-2025")
    deadline = time.monotonic() + 60  # generous: a correctness check, not a speed one
    updated: set[object] = set()
    while updated != set(articles_by_worker) and time.monotonic() < deadline:
        health = get_json(server + "/healthz")
        if health["articles"] == 2:
            updated.add(health["pid"])
    assert updated == set(articles_by_worker), f"not every worker reloaded: {updated}"
    with urllib.request.urlopen(server + "/feeds/all.rss", timeout=5) as response:
        assert b"Tweede bericht" in response.read()

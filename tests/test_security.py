"""What the security review (docs/security.md) changed, and what it relies on, as tests.

The bad-input catalogue (tests/test_bad_input.py) covers requests and the content folder; these
are the remaining findings: a policy for XML documents a browser may render, no cookies or
state anywhere, and the WebSub lock file in the shared temporary folder.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUNDLED_CONTENT, ArticleWriter
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from feedsvc.runtime import Runtime
from feedsvc.websub import HubNotifier

XML_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'"


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/feeds/all.rss", "application/rss+xml"),
        ("/feeds/all.atom", "application/atom+xml"),
        ("/feeds/all.atom", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("/feeds/categorie/nieuws.rss", "text/html"),
        ("/feeds.opml", "*/*"),
    ],
)
def test_xml_documents_may_not_run_scripts(client: FlaskClient, url: str, accept: str) -> None:
    """A browser shows feeds as XML (with feed.css): no script may run in one, ever."""
    response = client.get(url, headers={"Accept": accept})
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith(XML_POLICY)
    assert "script-src" not in policy  # default-src 'none' covers scripts
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]
    revalidated = client.get(url, headers={"Accept": accept, "If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.headers["Content-Security-Policy"] == policy


def test_html_pages_keep_their_own_policy(client: FlaskClient) -> None:
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    "url",
    ["/", "/feeds/all.rss", "/feeds/all.json", "/feeds.opml", "/healthz", "/nergens", "/embed.js"],
)
def test_no_cookies_and_nothing_to_forge(client: FlaskClient, url: str) -> None:
    """No sessions, no cookies, no state-changing endpoint: nothing for CSRF or fixation."""
    with client.get(url) as response:
        assert "Set-Cookie" not in response.headers
    assert client.post(url).status_code in (404, 405)


# -- the WebSub lock file in the shared temporary folder --------------------------------------


@pytest.fixture
def hub_app(
    httpserver: HTTPServer, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> Flask:
    write_article("a.txt")
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=204)
    return make_app(WEBSUB_HUB=httpserver.url_for("/hub"))


def notifier_of(app: Flask) -> HubNotifier:
    service: Runtime = app.extensions["feedsvc"]
    assert service.notifier is not None
    return service.notifier


def change_and_ping(app: Flask, write_article: ArticleWriter) -> list[str]:
    write_article("b.txt", published="05-03-2025")
    service: Runtime = app.extensions["feedsvc"]
    changed = service.refresh()
    assert notifier_of(app).join(timeout=10)
    return changed


def test_a_symbolic_link_at_the_lock_path_is_not_followed(
    hub_app: Flask, write_article: ArticleWriter, httpserver: HTTPServer, tmp_path: Path
) -> None:
    notifier = notifier_of(hub_app)
    lock_path = notifier._lock_path
    if lock_path.exists() or lock_path.is_symlink():
        lock_path.unlink()
    target = tmp_path / "elsewhere" / "created-by-feedsvc"
    target.parent.mkdir()
    lock_path.symlink_to(target)
    try:
        changed = change_and_ping(hub_app, write_article)
    finally:
        lock_path.unlink()
    assert not target.exists()  # neither created nor locked through the link
    assert {request.form["hub.url"] for request, _ in httpserver.log} == set(changed)


def test_a_lock_file_of_another_user_does_not_silence_the_pings(
    hub_app: Flask,
    write_article: ArticleWriter,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notifier = notifier_of(hub_app)
    # "Another user" made the file and holds the lock on it, for as long as they like. (The
    # file is ours; to the notifier it looks like someone else's.)
    with notifier._lock_path.open("ab") as squatter:
        fcntl.flock(squatter, fcntl.LOCK_EX | fcntl.LOCK_NB)
        monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 4242)
        changed = change_and_ping(hub_app, write_article)
    assert {request.form["hub.url"] for request, _ in httpserver.log} == set(changed)


def test_the_lock_file_is_private(
    hub_app: Flask, write_article: ArticleWriter, httpserver: HTTPServer
) -> None:
    notifier = notifier_of(hub_app)
    if notifier._lock_path.exists():
        notifier._lock_path.unlink()
    change_and_ping(hub_app, write_article)
    mode = notifier._lock_path.stat().st_mode & 0o777
    assert mode & 0o077 == 0, oct(mode)


def test_one_process_pings_when_the_lock_is_usable(
    make_app: Callable[..., Flask], httpserver: HTTPServer, write_article: ArticleWriter
) -> None:
    """Two services over the same folder and site (two workers): the hub hears it once."""
    write_article("a.txt")
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=204)
    apps = [make_app(WEBSUB_HUB=httpserver.url_for("/hub")) for _ in range(2)]
    write_article("b.txt", published="05-03-2025")
    services: list[Runtime] = [app.extensions["feedsvc"] for app in apps]
    batches: list[list[str]] = []
    for change in ("b.txt", "c.txt"):
        if change != "b.txt":
            write_article(change, published="06-03-2025")
        answers = []
        for app, service in zip(apps, services, strict=True):
            answers.append(service.refresh())
            assert notifier_of(app).join(timeout=30)
        assert answers[0] == answers[1] != []  # both saw the change; one of them pings
        batches.append(answers[0])
    # One thread sends the leader's pings in order, and each process's join() returns only
    # once what it queued was answered, which is after the hub logged it. So a duplicate of
    # the first change, from either process, would stand in the log before the second
    # change's pings, which arrive last: the log is each batch once, in order, and nothing else.
    pinged = [request.form["hub.url"] for request, _ in httpserver.log]
    assert pinged == batches[0] + batches[1]


def test_bundled_content_is_served_without_problems(make_app: Callable[..., Flask]) -> None:
    """The base line for the tests above: the bundled content has no rejected files."""
    client = make_app(BUNDLED_CONTENT).test_client()
    assert client.get("/healthz").get_json()["rejected"] == []

"""WebSub pings against a hub stub that answers as told: what is retried and what is not.

The stub can show what a real hub cannot be made to do on demand: fail, throttle or refuse.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

import pytest
from conftest import ArticleWriter
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from feedsvc.runtime import Runtime
from feedsvc.websub import HubNotifier

TOPIC = "https://nieuws.example.nl/feeds/all.atom"


def answering(*statuses: int) -> tuple[list[Request], Callable[[Request], Response]]:
    """A handler that answers each ping with the next status (the last one from then on)."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        status = statuses[min(len(seen), len(statuses)) - 1]
        return Response("Missing form argument: hub.foo" if status == 400 else "", status=status)

    return seen, handler


def notifier_for(httpserver: HTTPServer, name: str) -> HubNotifier:
    # The lock that elects one pinging process is a file in the machine's temporary folder,
    # held for the life of the process: this process's id keeps another test run going on at
    # the same time (another checkout) from holding it and silencing these pings.
    return HubNotifier(
        httpserver.url_for("/hub"),
        lock_name=f"test-websub-{name}-{os.getpid()}",
        first_backoff=0.01,
    )


def test_a_ping_names_the_topic_both_ways(httpserver: HTTPServer) -> None:
    seen, handler = answering(202)
    httpserver.expect_request("/hub", method="POST").respond_with_handler(handler)
    notifier = notifier_for(httpserver, "both")
    notifier.publish([TOPIC])
    assert notifier.join(timeout=30)
    assert len(seen) == 1
    form = seen[0].form
    assert form["hub.mode"] == "publish"
    assert form["hub.topic"] == TOPIC  # flask-websub, Switchboard
    assert form["hub.url"] == TOPIC  # PubSubHubbub 0.4 hubs


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_a_passing_failure_is_retried_until_accepted(httpserver: HTTPServer, status: int) -> None:
    seen, handler = answering(status, status, 202)
    httpserver.expect_request("/hub", method="POST").respond_with_handler(handler)
    notifier = notifier_for(httpserver, f"retry-{status}")
    notifier.publish([TOPIC])
    assert notifier.join(timeout=30)
    assert len(seen) == 3
    assert {request.form["hub.topic"] for request in seen} == {TOPIC}


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_a_refusal_is_not_retried_and_says_why(
    httpserver: HTTPServer, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    seen, handler = answering(status, 202)
    httpserver.expect_request("/hub", method="POST").respond_with_handler(handler)
    notifier = notifier_for(httpserver, f"refuse-{status}")
    with caplog.at_level(logging.WARNING, logger="feedsvc.websub"):
        notifier.publish([TOPIC])
        assert notifier.join(timeout=30)
    assert len(seen) == 1
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1
    assert f"HTTP {status}" in refused[0]
    assert TOPIC in refused[0]
    if status == 400:
        assert "Missing form argument" in refused[0]  # the hub's own reason


def test_a_hub_that_never_recovers_is_given_up_after_the_attempts(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    seen, handler = answering(503)
    httpserver.expect_request("/hub", method="POST").respond_with_handler(handler)
    notifier = notifier_for(httpserver, "down")
    with caplog.at_level(logging.ERROR, logger="feedsvc.websub"):
        notifier.publish([TOPIC])
        assert notifier.join(timeout=30)
    assert len(seen) == notifier.attempts
    assert any("failed after" in r.getMessage() for r in caplog.records)


def test_a_hub_that_hangs_blocks_neither_reloads_nor_requests(
    httpserver: HTTPServer, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    release = threading.Event()
    reached = threading.Event()

    def hanging(request: Request) -> Response:
        reached.set()
        release.wait(60)
        return Response("", status=202)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(hanging)
    write_article("a.txt")
    app = make_app(WEBSUB_HUB=httpserver.url_for("/hub"))
    service: Runtime = app.extensions["feedsvc"]
    write_article("b.txt", title="Later bericht", published="05-03-2025")
    try:
        assert service.refresh()  # returns although the hub has not answered
        assert reached.wait(30)
        assert not release.is_set()
        response = app.test_client().get("/feeds/all.atom")
        assert response.status_code == 200
        assert b"Later bericht" in response.data
    finally:
        release.set()
    assert service.notifier is not None
    assert service.notifier.join(timeout=60)


def test_a_feed_that_disappears_is_pinged(
    httpserver: HTTPServer, write_article: ArticleWriter, make_app: Callable[..., Flask]
) -> None:
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=202)
    write_article("a.txt", category="Nieuws")
    last = write_article("b.txt", category="Sport", source="Sportclub", published="05-03-2025")
    app = make_app(WEBSUB_HUB=httpserver.url_for("/hub"))
    service: Runtime = app.extensions["feedsvc"]
    last.unlink()
    service.refresh()
    assert service.notifier is not None
    assert service.notifier.join(timeout=60)
    pinged = {request.form["hub.topic"] for request, _ in httpserver.log}
    gone = {
        f"https://nieuws.example.nl/feeds/{path}.{ext}"
        for path in ("categorie/sport", "bron/sportclub")
        for ext in ("rss", "atom", "json")
    }
    assert gone <= pinged
    assert app.test_client().get("/feeds/categorie/sport.atom").status_code == 404

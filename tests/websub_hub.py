"""A real WebSub hub, subscribers and a feedsvc server for the tests, all on loopback.

The hub is flask-websub's (``flask_websub.hub``): its endpoint, intent verification, content
fetching and distribution, signing and storage are the library's own. flask-websub hands that
work to celery tasks; :class:`ThreadRunner` stands in for the celery app with what the hub uses
of one (``task(**options)`` giving ``.delay``, and ``self.request.retries`` / ``self.retry`` for
bound tasks), running each task in a thread as a celery worker would. Celery itself is not used:
celery 5.7 pins python-dateutil 2.9, which conflicts with feedsvc's pin, and it would need a
broker besides.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Flask
from flask_websub.hub import Hub, SQLite3HubStorage
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


class _RetryRequestedError(Exception):
    def __init__(self, countdown: float) -> None:
        self.countdown = countdown


class _TaskContext:
    def __init__(self, retries: int) -> None:
        self.retries = retries


class _BoundTask:
    """What a bound celery task sees as ``self``."""

    def __init__(self, retries: int) -> None:
        self.request = _TaskContext(retries)

    def retry(self, countdown: float = 0.0) -> None:
        raise _RetryRequestedError(countdown)


class ThreadRunner:
    """The part of a celery app that flask-websub's hub uses, running tasks in threads."""

    def __init__(self) -> None:
        self._running = 0
        self._lock = threading.Lock()
        self.failures: list[BaseException] = []

    def task(self, **options: Any) -> Callable[[Callable[..., Any]], Any]:
        runner = self

        def decorate(function: Callable[..., Any]) -> Any:
            class Task:
                def delay(self, *args: Any) -> None:
                    runner._start(function, args, options)

                def s(self, *args: Any) -> None:  # only used by periodic scheduling
                    raise NotImplementedError

            return Task()

        return decorate

    def idle(self) -> bool:
        with self._lock:
            return self._running == 0

    def _start(self, function: Callable[..., Any], args: tuple[Any, ...], options: Any) -> None:
        with self._lock:
            self._running += 1
        threading.Thread(target=self._run, args=(function, args, options), daemon=True).start()

    def _run(self, function: Callable[..., Any], args: tuple[Any, ...], options: Any) -> None:
        try:
            retries = 0
            while True:
                try:
                    if options.get("bind"):
                        function(_BoundTask(retries), *args)
                    else:
                        function(*args)
                    return
                except _RetryRequestedError as retry:
                    retries += 1
                    if retries > options.get("max_retries", 3):
                        return
                    time.sleep(min(retry.countdown, 0.5))
                except Exception as error:  # a task that fails is a finding for the test
                    self.failures.append(error)
                    return
        finally:
            with self._lock:
                self._running -= 1


@contextmanager
def serving(app: Callable[..., Any]) -> Iterator[BaseWSGIServer]:
    """A threaded WSGI server on a free loopback port, for the length of the ``with``."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=30)


def url_of(server: BaseWSGIServer, path: str = "") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


@dataclass
class RealHub:
    hub: Hub
    runner: ThreadRunner
    url: str

    def subscribed(self, topic: str, callback: str) -> bool:
        return any(url == callback for url, _ in self.hub.storage.get_callbacks(topic))


@contextmanager
def real_hub(folder: Path) -> Iterator[RealHub]:
    app = Flask("websub_hub_for_tests")
    app.config["PUBLISH_SUPPORTED"] = True  # accept hub.mode=publish pings
    runner = ThreadRunner()
    hub = Hub(SQLite3HubStorage(str(folder / "hub.sqlite3")), runner, REQUEST_TIMEOUT=10)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    with serving(app) as server:
        yield RealHub(hub, runner, url_of(server, "/hub"))


@dataclass
class Subscriber:
    """A WebSub subscriber: discovers a feed's hub, subscribes, verifies, takes deliveries."""

    secret: str = "geheim-voor-de-test"
    callback: str = ""
    topic: str = ""
    verified: list[str] = field(default_factory=list)
    deliveries: list[bytes] = field(default_factory=list)
    bad_signatures: int = 0

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.method == "GET":
            mode = request.args.get("hub.mode")
            if mode == "subscribe" and request.args.get("hub.topic") == self.topic:
                self.verified.append(self.topic)
                response = Response(request.args["hub.challenge"], content_type="text/plain")
            else:
                response = Response("not mine", status=404)
        else:
            body = request.get_data()
            algorithm, _, signature = request.headers.get("X-Hub-Signature", "").partition("=")
            expected = hmac.new(self.secret.encode(), body, getattr(hashlib, algorithm or "sha1"))
            if hmac.compare_digest(expected.hexdigest(), signature):
                self.deliveries.append(body)
            else:
                self.bad_signatures += 1
            response = Response("", status=204)
        return response(environ, start_response)

    def subscribe(self, feed_url: str) -> str:
        """Discover the hub and the feed's own URL from its Link headers, and subscribe."""
        found = requests.get(feed_url, timeout=30)
        found.raise_for_status()
        hub = found.links["hub"]["url"]
        self.topic = found.links["self"]["url"]
        form = {
            "hub.mode": "subscribe",
            "hub.topic": self.topic,
            "hub.callback": self.callback,
            "hub.secret": self.secret,
        }
        answer = requests.post(
            hub,
            data=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        return hub


def wait_until(condition: Callable[[], bool], seconds: float = 60.0, what: str = "") -> None:
    """Poll until ``condition`` holds; the deadline is generous, this checks correctness only."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)

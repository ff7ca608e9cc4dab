"""feedsvc with a real WebSub hub (flask-websub's) and real subscribers, all on loopback.

A subscriber finds the hub through the feed's Link headers, subscribes, has its intent verified
by the hub, and receives the new content, signed, when an article of its feed is edited; a
subscriber to a feed the edit does not touch receives nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import requests
from conftest import ArticleWriter
from flask import Flask
from websub_hub import RealHub, Subscriber, real_hub, serving, url_of, wait_until

from feedsvc import create_app
from feedsvc.runtime import Runtime

AFFECTED = "/feeds/categorie/nieuws/informatief.atom"
UNAFFECTED = "/feeds/categorie/sport.atom"


@dataclass
class Feedsvc:
    """feedsvc served over HTTP on loopback; ``start`` (re)creates the app, as a restart does."""

    url: str
    content_dir: Path
    state_dir: Path
    hub_url: str
    app: Flask | None = None

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)

    def start(self) -> Runtime:
        self.app = create_app(
            {
                "CONTENT_DIR": str(self.content_dir),
                "SITE_URL": self.url,
                "WEBSUB_HUB": self.hub_url,
                "WATCH": True,
                "STATE_DIR": str(self.state_dir),
                "QUIET_SECONDS": 0.2,
            }
        )
        runtime: Runtime = self.app.extensions["feedsvc"]
        runtime.start_watching()  # as gunicorn's worker start does; no request needed
        return runtime

    def stop(self) -> None:
        if self.app is not None:
            runtime: Runtime = self.app.extensions["feedsvc"]
            runtime.close()


@contextmanager
def feedsvc_with_hub(tmp_path: Path, content_dir: Path) -> Iterator[tuple[Feedsvc, RealHub]]:
    with real_hub(tmp_path) as hub:
        service = Feedsvc("", content_dir, tmp_path / "state", hub.url)
        with serving(service.wsgi) as server:
            service.url = url_of(server)
            try:
                yield service, hub
            finally:
                service.stop()
        assert hub.runner.failures == []


@contextmanager
def subscribed(service: Feedsvc, hub: RealHub, path: str) -> Iterator[Subscriber]:
    subscriber = Subscriber()
    with serving(subscriber.wsgi) as server:
        subscriber.callback = url_of(server, "/websub")
        assert subscriber.subscribe(service.url + path) == hub.url  # found via the Link header
        assert subscriber.topic == service.url + path
        wait_until(lambda: hub.subscribed(subscriber.topic, subscriber.callback), what="verified")
        assert subscriber.verified == [subscriber.topic]
        yield subscriber


def two_feeds(write_article: ArticleWriter, park_text: str, *, written_ago: int = 0) -> None:
    """Write the two articles, as if ``written_ago`` seconds ago (0: now, in place)."""
    park = write_article("park.txt", category="Nieuws -> Informatief", body=(park_text,))
    sport = write_article(
        "sport.txt", title="Derby gewonnen", category="Sport", source="Sportclub", body=("2-1.",)
    )
    if written_ago:
        for path in (park, sport):
            then = time.time() - written_ago
            os.utime(path, (then, then))


def delivered(subscriber: Subscriber, text: str) -> bool:
    return any(text.encode() in body for body in subscriber.deliveries)


def test_an_edit_reaches_the_subscriber_of_its_feed_and_no_other(
    tmp_path: Path, content_dir: Path, write_article: ArticleWriter
) -> None:
    two_feeds(write_article, "Het park gaat zaterdag open.", written_ago=60)
    with feedsvc_with_hub(tmp_path, content_dir) as (service, hub):
        runtime = service.start()
        body = requests.get(service.url + AFFECTED, timeout=30).content
        links = feedparser.parse(body).feed.links
        assert {link.href for link in links if link.rel == "hub"} == {hub.url}  # atom:link too
        with (
            subscribed(service, hub, AFFECTED) as affected,
            subscribed(service, hub, UNAFFECTED) as unaffected,
        ):
            two_feeds(write_article, "Het park gaat pas zondag open.")
            wait_until(lambda: delivered(affected, "pas zondag"), what="the edit delivered")
            assert runtime.notifier is not None
            assert runtime.notifier.join(timeout=60)
            wait_until(hub.runner.idle, what="the hub done")
            latest = feedparser.parse(affected.deliveries[-1])
            assert not latest.bozo
            assert "pas zondag" in latest.entries[0].content[0].value
            assert unaffected.deliveries == []
            assert affected.bad_signatures == 0


def test_an_edit_made_while_down_reaches_the_subscriber_at_start(
    tmp_path: Path, content_dir: Path, write_article: ArticleWriter
) -> None:
    two_feeds(write_article, "Het park gaat zaterdag open.", written_ago=60)
    with feedsvc_with_hub(tmp_path, content_dir) as (service, hub):
        service.start()
        with (
            subscribed(service, hub, AFFECTED) as affected,
            subscribed(service, hub, UNAFFECTED) as unaffected,
        ):
            service.stop()
            two_feeds(write_article, "Het park blijft dicht.", written_ago=30)  # while down
            runtime = service.start()  # no request is made to it from here on but the hub's
            wait_until(lambda: delivered(affected, "blijft dicht"), what="the edit delivered")
            assert runtime.notifier is not None
            assert runtime.notifier.join(timeout=60)
            wait_until(hub.runner.idle, what="the hub done")
            assert unaffected.deliveries == []
            assert len(affected.deliveries) == 1

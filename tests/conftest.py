"""Shared fixtures: an app over a content folder, its test client and CLI runner."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from feedsvc import create_app
from feedsvc.articles.store import ContentStore
from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.live import LiveCatalog
from feedsvc.settings import DEFAULT_DISCLAIMER, Settings

REPO = Path(__file__).resolve().parent.parent
BUNDLED_CONTENT = REPO / "content"
SITE_URL = "https://nieuws.example.nl"
HUB = "https://hub.example.org/"  # the hub exported pages and feeds name; never contacted

settings.register_profile(
    "default", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")

ArticleWriter = Callable[..., Path]


def live_catalog(settings: Settings) -> LiveCatalog:
    """The content folder of ``settings`` with its catalog, not loaded yet: ``.reload()`` it."""
    return LiveCatalog(ContentStore(settings), settings.site_title)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class LiveServer:
    """A WSGI app served on a free loopback port by werkzeug's threaded server."""

    server: BaseWSGIServer
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @classmethod
    def start(cls, app: Callable[..., Any]) -> LiveServer:
        return cls(make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def bundled_small_pages_app() -> Flask:
    """The bundled content with pages of 5 entries, so feeds have several pages, and a hub: the
    site the export and nginx tests export (each module builds one and only reads from it)."""
    return create_app(
        {
            "TESTING": True,
            "CONTENT_DIR": str(BUNDLED_CONTENT),
            "SITE_URL": SITE_URL,
            "WATCH": False,
            "PAGE_SIZE": 5,
            "WEBSUB_HUB": HUB,
        }
    )


def catalog_of(app: Flask) -> Catalog:
    """The catalog an app serves right now."""
    catalog: Catalog = app.extensions["feedsvc"].catalog
    return catalog


def page_of(client: FlaskClient, url: str, mount: str = "") -> lxml.html.HtmlElement:
    """The HTML page at ``url``, parsed; it must be a 200. ``mount``: the app mounted there
    (the request's ``SCRIPT_NAME``)."""
    response = client.get(url, environ_overrides={"SCRIPT_NAME": mount})
    assert response.status_code == 200, url
    return lxml.html.fromstring(response.data)


def environment_without_settings(**variables: str) -> dict[str, str]:
    """This process's environment without its FEEDSVC_* settings, plus ``variables``: what a
    process started by a test sees, whatever the shell that runs the tests has set."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return {**kept, **variables}


def free_port() -> int:
    """A loopback port that nothing listens on right now, for servers the tests start."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def article_text(
    *,
    title: str = "Gemeente opent nieuw park",
    category: str = "Nieuws -> Informatief",
    source: str | None = "Gemeente Amstelveen",
    published: str = "12-03-2025",
    updated: str | None = None,
    body: tuple[str, ...] = ("Eerste alinea van het bericht.", "Tweede alinea."),
    disclaimer: str = DEFAULT_DISCLAIMER,
) -> str:
    """An article in the real file format, with every part overridable."""
    lines: list[str] = []
    if updated is not None:
        lines += [f"Bijgewerkt: {updated}", ""]
    lines += [title, "", category, ""]
    if source is not None:
        lines.append(f"Bron: {source}")
    lines += [published, ""]
    for paragraph in body:
        lines += [paragraph, ""]
    lines.append(disclaimer)
    return "\n".join(lines)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    return folder


@pytest.fixture
def write_article(content_dir: Path) -> ArticleWriter:
    """Write an article file under ``content_dir``: ``write_article("2025/x.txt", title=...)``."""

    def write(relpath: str, data: str | bytes | None = None, **fields: Any) -> Path:
        path = content_dir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = article_text(**fields) if data is None else data
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        path.write_bytes(payload)
        return path

    return write


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(autouse=True)
def _state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps made without a state folder keep theirs in the test's folder, not in the home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def make_app(content_dir: Path, state_dir: Path) -> Callable[..., Flask]:
    """Build an app over ``content_dir`` (or another folder) with test settings."""

    def make(folder: Path | None = None, **config: Any) -> Flask:
        return create_app(
            {
                "TESTING": True,
                "CONTENT_DIR": str(folder or content_dir),
                "SITE_URL": SITE_URL,
                "WATCH": False,  # tests reload explicitly; test_http turns watching on
                "STATE_DIR": str(state_dir),
                "QUIET_SECONDS": 0,  # test_inplace sets it: files here are written whole
                **config,
            }
        )

    return make


@pytest.fixture
def bundled_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(BUNDLED_CONTENT)


@pytest.fixture
def client(bundled_app: Flask) -> FlaskClient:
    return bundled_app.test_client()


@pytest.fixture
def copy_of_bundled_content(content_dir: Path) -> Path:
    shutil.copytree(BUNDLED_CONTENT, content_dir, dirs_exist_ok=True)
    return content_dir

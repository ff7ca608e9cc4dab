"""The generated reverse proxy: nginx (Debian package ``nginx``) in front of a real gunicorn
on a unix socket passes the service's answers through unchanged.

No timing is asserted here; bench/slow_clients.py measures what the proxy is for.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BUNDLED_CONTENT, REPO, SITE_URL, free_port
from flask import Flask
from gunicornlib import GUNICORN, start_gunicorn
from nginxlib import Nginx, nginx_binary, run_nginx
from websub_hub import wait_until

from feedsvc import create_app
from feedsvc.cli import main
from feedsvc.deploy.export import BROWSER_ACCEPT

PASSED_THROUGH = (
    "content-type",
    "content-encoding",
    "etag",
    "last-modified",
    "vary",
    "cache-control",
    "access-control-allow-origin",
    "content-security-policy",
    "x-content-type-options",
    "location",
)


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"TESTING": True, "CONTENT_DIR": str(BUNDLED_CONTENT), "SITE_URL": SITE_URL, "WATCH": False}
    )


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    nginx_binary()
    tmp_path = tmp_path_factory.mktemp("proxy")
    sock = tmp_path / "gunicorn.sock"
    port = free_port()
    config = tmp_path / "proxy.conf"
    result = CliRunner().invoke(
        main,
        ["nginx-proxy", str(config), "--listen", f"127.0.0.1:{port}", "--upstream", f"unix:{sock}"],
        env={"FEEDSVC_SITE_URL": SITE_URL},
    )
    assert result.exit_code == 0, result.output
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDSVC_", "GUNICORN"))}
    env |= {
        "FEEDSVC_CONTENT_DIR": str(BUNDLED_CONTENT),
        "FEEDSVC_SITE_URL": SITE_URL,
        "FEEDSVC_BIND": f"unix:{sock}",
        "FEEDSVC_WORKERS": "1",
        "FEEDSVC_THREADS": "4",
    }
    gunicorn = start_gunicorn(env)

    def socket_made() -> bool:
        assert gunicorn.poll() is None, "gunicorn exited"
        return sock.exists()

    try:
        wait_until(socket_made, what="gunicorn's socket")
        yield from run_nginx(tmp_path, tmp_path, port, config=config)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/feeds/all.rss", {}),
        ("/feeds/all.rss", {"Accept-Encoding": "gzip"}),
        ("/feeds/all.atom", {"Accept-Encoding": "br"}),
        ("/feeds/all.json?page=2", {"Accept": BROWSER_ACCEPT}),
        ("/feeds/all.rss?page=1", {}),
        ("/feeds.opml", {}),
        ("/", {"Accept-Encoding": "gzip"}),
        ("/bestaat-niet", {}),
        ("/feeds/all.rss?page=0", {}),
    ],
)
def test_a_feed_comes_through_unchanged(
    proxy: Nginx, app: Flask, path: str, headers: dict[str, str]
) -> None:
    status, received, body = proxy.get(path, headers)
    direct = app.test_client().get(path, headers=headers)
    assert (status, body) == (direct.status_code, direct.get_data())
    for name in PASSED_THROUGH:
        assert received.get(name) == direct.headers.get(name), name


def test_revalidation_goes_through(proxy: Nginx) -> None:
    _, headers, _ = proxy.get("/feeds/all.rss")
    assert proxy.get("/feeds/all.rss", {"If-None-Match": headers["etag"]})[0] == 304


@pytest.mark.parametrize("upstream", ["0.0.0.0:8000", "nieuws.example.nl:80", 'unix:/a";b'])
def test_the_proxy_refuses_an_upstream_off_loopback(tmp_path: Path, upstream: str) -> None:
    result = CliRunner().invoke(
        main, ["nginx-proxy", str(tmp_path / "p.conf"), "--upstream", upstream]
    )
    assert result.exit_code == 2
    assert not (tmp_path / "p.conf").exists()


def test_gunicorn_listens_on_loopback_without_a_control_socket() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDSVC_", "GUNICORN"))}
    done = subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "--print-config", "wsgi:app"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    settings = {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in done.stdout.splitlines())
    }
    assert settings["bind"] == "['127.0.0.1:8000']"
    assert settings["control_socket_disable"] == "True"

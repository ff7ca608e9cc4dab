"""Debian's nginx on a loopback port, for the tests of the generated configurations."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port
from flask import Flask

from feedsvc.deploy.export import NginxOptions, SiteExporter
from feedsvc.deploy.nginx import BROTLI_MODULE


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing in CI: scripts/test.sh installs the Debian package nginx")
        pytest.skip(
            "needs nginx: install the Debian package nginx (and libnginx-mod-http-brotli-static);"
            " scripts/test.sh does when run as root"
        )
    return found


@dataclass
class Nginx:
    port: int

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, dict[str, str], bytes]:
        """The answer to ``path`` sent as it is written (no normalisation, no quoting)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            connection.close()


def run_nginx(
    outdir: Path, tmp_path: Path, port: int, config: Path | None = None
) -> Iterator[Nginx]:
    """nginx serving ``outdir`` with its generated configuration (or ``config``), on ``port``."""
    binary = nginx_binary()
    run = tmp_path / "nginx-run"
    run.mkdir()
    brotli_module = f"load_module {BROTLI_MODULE};" if BROTLI_MODULE.is_file() else ""
    # As root, nginx would hand its workers to "nobody", who cannot read pytest's private
    # temporary folders; in CI the tests run as root.
    user = "user root;" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"  {name}_temp_path {run / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (run / "nginx.conf").write_text(
        f"""{user}
{brotli_module}
worker_processes 1;
pid {run / "nginx.pid"};
error_log {run / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
{temp_paths}
  include {config or outdir / "nginx" / "feedsvc.conf"};
}}
"""
    )
    process = subprocess.Popen(
        [
            *(binary, "-p", str(run), "-c", str(run / "nginx.conf")),
            *("-e", str(run / "error.log"), "-g", "daemon off;"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Nginx(port)
    deadline = time.monotonic() + 60  # generous: the machine may be busy
    try:
        while True:
            try:
                server.get("/")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    assert process.stderr is not None
                    pytest.fail(f"nginx did not start: {process.stderr.read().decode()}")
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


def run_nginx_over_export(
    app: Flask, tmp_path: Path, before_start: Callable[[Path], None] | None = None
) -> Iterator[Nginx]:
    """nginx serving an export of ``app`` made in ``tmp_path / "out"``, on a free port.

    ``before_start`` gets the export folder after the export, before nginx starts.
    """
    nginx_binary()
    port = free_port()
    outdir = tmp_path / "out"
    SiteExporter(app, outdir, NginxOptions(listen=f"127.0.0.1:{port}")).export()
    if before_start is not None:
        before_start(outdir)
    yield from run_nginx(outdir, tmp_path, port)

"""The baseline for bench/http_bench.py: the least a Flask app can do to serve one feed.

It answers ``/feeds/<path>`` (the same URL rule as feedsvc) with bytes fetched from a running
feedsvc and every header feedsvc sent with them (validators, caching, CORS, security headers;
not Date, Content-Length or the server's own, which Werkzeug and the server add), and a 304
when If-None-Match is exactly the ETag (a plain string compare), for which Werkzeug drops the
entity headers as it does for feedsvc. ``BENCH_BARE_DIR`` names a folder with ``identity``,
``gzip`` and ``headers.json`` (``{"identity": [[name, value], ...], "gzip": [...]}``, written by
http_bench.py and request_cost.py). Served with ``gunicorn bench.bare_app:app``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, Response, request

_DATA = Path(os.environ["BENCH_BARE_DIR"])
_HEADERS = json.loads((_DATA / "headers.json").read_text())
# Headers the response or the server makes for itself.
_NOT_COPIED = {"date", "content-length", "server", "connection", "transfer-encoding"}


def _variant(coding: str) -> tuple[bytes, list[tuple[str, str]], str]:
    headers = [(k, v) for k, v in _HEADERS[coding] if k.lower() not in _NOT_COPIED]
    etag = next(v for k, v in headers if k.lower() == "etag")
    return _DATA.joinpath(coding).read_bytes(), headers, etag


_IDENTITY = _variant("identity")
_GZIP = _variant("gzip")

app = Flask(__name__)


@app.get("/feeds/<path:name>")
def feed(name: str) -> Response:
    body, headers, etag = (
        _GZIP if "gzip" in request.headers.get("Accept-Encoding", "") else _IDENTITY
    )
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers=headers)
    return Response(body, headers=headers)

"""The baseline for bench/http_bench.py: the least a Flask app can do to serve one feed.

It answers ``/feeds/<path>`` (the same URL rule as feedsvc) with bytes fetched from a running
feedsvc, with the same validators and caching headers, and a 304 when If-None-Match is exactly
the ETag (a plain string compare). ``BENCH_BARE_DIR`` names a folder with ``identity``, ``gzip``
and ``headers.json`` (written by http_bench.py). Served with ``gunicorn bench.bare_app:app``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, Response, request

_DATA = Path(os.environ["BENCH_BARE_DIR"])
_META = json.loads((_DATA / "headers.json").read_text())
_CONTENT_TYPE: str = _META["content_type"]
_COMMON = {
    "Last-Modified": _META["last_modified"],
    "Cache-Control": _META["cache_control"],
    "Vary": "Accept-Encoding",
}
_IDENTITY = (_DATA.joinpath("identity").read_bytes(), {**_COMMON, "ETag": _META["etag"]})
_GZIP = (
    _DATA.joinpath("gzip").read_bytes(),
    {**_COMMON, "ETag": _META["gzip_etag"], "Content-Encoding": "gzip"},
)

app = Flask(__name__)


@app.get("/feeds/<path:name>")
def feed(name: str) -> Response:
    body, headers = _GZIP if "gzip" in request.headers.get("Accept-Encoding", "") else _IDENTITY
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return Response(status=304, headers=headers, content_type=_CONTENT_TYPE)
    return Response(body, headers=headers, content_type=_CONTENT_TYPE)

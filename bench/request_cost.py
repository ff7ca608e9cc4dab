"""Per-request cost of feedsvc's feed route without the network, against the bare Flask app.

Calls each WSGI app directly for the three paths http_bench.py drives (a full 200, gzip, a 304
revalidation) and prints microseconds per request and the ratio bare/feedsvc, measured in the
same run. It isolates the application's own work from gunicorn, sockets and wrk:

    .venv/bin/python bench/request_cost.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from werkzeug.test import EnvironBuilder  # noqa: E402

from feedsvc import create_app  # noqa: E402

FEED = "/feeds/all.rss"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def per_request_us(app: WsgiApp, headers: dict[str, str], requests: int) -> float:
    environ = EnvironBuilder(path=FEED, headers=headers).get_environ()

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        pass

    for _ in range(200):  # warm up
        b"".join(app(dict(environ), start_response))
    started = time.perf_counter()
    for _ in range(requests):
        b"".join(app(dict(environ), start_response))
    return (time.perf_counter() - started) / requests * 1e6


def bare_app(feedsvc: Any, folder: Path) -> WsgiApp:
    """bench/bare_app.py, fed the bytes and headers feedsvc serves, as http_bench.py does."""
    client = feedsvc.test_client()
    plain = client.get(FEED, headers={"Accept-Encoding": "identity"})
    gz = client.get(FEED, headers={"Accept-Encoding": "gzip"})
    folder.joinpath("identity").write_bytes(plain.data)
    folder.joinpath("gzip").write_bytes(gz.data)
    meta = {
        "content_type": plain.headers["Content-Type"],
        "last_modified": plain.headers["Last-Modified"],
        "cache_control": plain.headers["Cache-Control"],
        "etag": plain.headers["ETag"],
        "gzip_etag": gz.headers["ETag"],
    }
    folder.joinpath("headers.json").write_text(json.dumps(meta))
    os.environ["BENCH_BARE_DIR"] = str(folder)
    sys.path.insert(0, str(REPO / "bench"))
    import bare_app  # noqa: PLC0415 - reads BENCH_BARE_DIR when imported

    app: WsgiApp = bare_app.app
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="requests per case [20000]")
    args = parser.parse_args()
    feedsvc = create_app({"WATCH": False})
    etag = feedsvc.test_client().get(FEED).headers["ETag"]
    with tempfile.TemporaryDirectory() as tmp:
        bare = bare_app(feedsvc, Path(tmp))
        cases = {
            "200": {},
            "gzip": {"Accept-Encoding": "gzip"},
            "304": {"If-None-Match": etag},
        }
        print(f"{'path':6} {'feedsvc µs':>11} {'bare µs':>9} {'bare/feedsvc':>13}")
        for name, headers in cases.items():
            ours = per_request_us(feedsvc, headers, args.requests)
            theirs = per_request_us(bare, headers, args.requests)
            print(f"{name:6} {ours:11.1f} {theirs:9.1f} {theirs / ours:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-request cost of feedsvc's feed answers without the network, against the bare Flask app.

Calls each WSGI app directly for the three paths http_bench.py drives (a full 200, gzip, a 304
revalidation) and prints microseconds per request: feedsvc as served (its fast path,
feedsvc/web/fastpath.py, before Flask), feedsvc's Flask route alone (what the fast path hands
on to), and bench/bare_app.py with the same bytes and headers. Rounds alternate the apps; the
medians, their range and the ratios bare/feedsvc (how many times as many requests feedsvc
answers in the same CPU time) are printed and saved, with the commit measured, to
``bench/results/request-cost-<date>-<commit>.json``. It isolates the application's own work
from gunicorn, sockets and wrk:

    .venv/bin/python bench/request_cost.py [--requests 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from benchlib import git_commit  # noqa: E402
from werkzeug.datastructures import Headers  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from feedsvc import create_app  # noqa: E402
from feedsvc.web.fastpath import FastPath  # noqa: E402

FEED = "/feeds/all.rss"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def per_request_us(app: WsgiApp, headers: dict[str, str], requests: int) -> float:
    environ = EnvironBuilder(path=FEED, headers=Headers(headers)).get_environ()

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
    meta = {"identity": plain.headers.to_wsgi_list(), "gzip": gz.headers.to_wsgi_list()}
    folder.joinpath("headers.json").write_text(json.dumps(meta))
    os.environ["BENCH_BARE_DIR"] = str(folder)
    import bare_app  # noqa: PLC0415 - reads BENCH_BARE_DIR when imported

    app: WsgiApp = bare_app.app
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per run [5000]")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds [5]")
    parser.add_argument("--json", type=Path, help="results file [bench/results/request-cost-…]")
    args = parser.parse_args()
    started = datetime.now(UTC)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    feedsvc = create_app({"WATCH": False})
    etag = feedsvc.test_client().get(FEED).headers["ETag"]
    cases = {"200": {}, "gzip": {"Accept-Encoding": "gzip"}, "304": {"If-None-Match": etag}}
    runs: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        apps: dict[str, WsgiApp] = {
            "feedsvc": feedsvc,
            # The fast path's fallback (create_app puts a FastPath in front of Flask's wsgi_app).
            "feedsvc-flask-route": cast(FastPath, feedsvc.wsgi_app).flask_app,
            "bare": bare_app(feedsvc, Path(tmp)),
        }
        for number in range(args.rounds):
            for case, headers in cases.items():
                for name, app in apps.items():
                    us = per_request_us(app, headers, args.requests)
                    runs.setdefault(case, {}).setdefault(name, []).append(us)
            print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)
    print(f"µs per request, median of {args.rounds} alternating rounds [range]")
    print(f"{'path':5} {'feedsvc':>20} {'Flask route':>20} {'bare':>20} {'bare/feedsvc':>20}")
    summary = {}
    for case, by_app in runs.items():
        medians = {name: statistics.median(values) for name, values in by_app.items()}
        per_round = [b / f for b, f in zip(by_app["bare"], by_app["feedsvc"], strict=True)]
        summary[case] = {
            "median_us": medians,
            "min_us": {name: min(values) for name, values in by_app.items()},
            "max_us": {name: max(values) for name, values in by_app.items()},
            "bare_over_feedsvc_of_medians": medians["bare"] / medians["feedsvc"],
            "bare_over_feedsvc_per_round": per_round,
        }
        cells = [f"{medians[n]:6.1f} [{min(v):.1f}–{max(v):.1f}]" for n, v in by_app.items()]
        ratio = (
            f"{medians['bare'] / medians['feedsvc']:.2f}"
            f" [{min(per_round):.2f}–{max(per_round):.2f}]"
        )
        print(f"{case:5} {cells[0]:>20} {cells[1]:>20} {cells[2]:>20} {ratio:>20}")
    commit = git_commit()
    report = {
        "benchmark": "request-cost",
        "commit": commit,
        "date": started.isoformat(timespec="seconds"),
        "load_average": load_before,
        "load_average_after": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "requests_per_run": args.requests,
        "rounds": args.rounds,
        "summary": summary,
        "runs_us": runs,
    }
    out = args.json or RESULTS / f"request-cost-{started:%Y%m%d-%H%M}-{commit[:10]}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

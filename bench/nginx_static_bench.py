"""nginx serving the export with its generated configuration, against nginx serving a plain
copy of the same file, on 200 and on 304 (If-None-Match with the file's own ETag).

``python bench/nginx_static_bench.py [-n 300] [--duration 3] [--rounds 3]`` exports a corpus
of ``-n`` articles with this tree, starts one nginx with both servers (the export's
configuration, and a bare ``root`` server holding a copy of ``feeds/all.rss``), and runs
``wrk`` on each in turns (alternating, ``--rounds`` times). Prints medians, spread and the
ratio export/copy; saves the runs to bench/results/ as JSON. Needs the Debian packages
``nginx`` and ``wrk``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import BenchError, extract_revision, find_tool, free_port, short_commit
from corpus import generate
from scale_bench import get, nginx

REPO = Path(__file__).resolve().parent.parent
FEED = "/feeds/all.rss"


def wrk(port: int, headers: dict[str, str], duration: int) -> float:
    tool = find_tool("wrk", "wrk")
    url = f"http://127.0.0.1:{port}{FEED}"
    options = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    done = subprocess.run(
        [tool, "-t2", "-c32", f"-d{duration}s", *options, url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    if "Socket errors" in done.stdout:
        raise BenchError(f"wrk saw errors:\n{done.stdout}")
    for line in done.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise BenchError(f"cannot read wrk's output:\n{done.stdout}")


def etag_of(port: int) -> str:
    import http.client  # noqa: PLC0415

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", FEED, headers={"Accept-Encoding": "identity"})
    response = connection.getresponse()
    response.read()
    etag = response.getheader("ETag")
    if response.status != 200 or etag is None:
        raise BenchError(f"nginx on {port} answered {response.status} without an ETag")
    status = get(port, FEED, {"If-None-Match": etag})[0]
    if status != 304:
        raise BenchError(f"nginx on {port} answered {status} to its own ETag")
    return etag


def measure(
    ports: dict[str, int],
    etags: dict[str, str],
    rates: dict[str, dict[str, list[float]]],
    rounds: int,
    duration: int,
) -> None:
    """``wrk`` on each server in turns, ``rounds`` times: 200 (identity), then 304."""
    for number in range(rounds):
        for kind in rates:
            for name, port in ports.items():
                sent = (
                    {"If-None-Match": etags[name]}
                    if kind == "304"
                    else {"Accept-Encoding": "identity"}
                )
                rate = wrk(port, sent, duration)
                rates[kind][name].append(rate)
                print(f"round {number + 1} {kind} {name}: {rate:.0f} req/s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also serve the export of this git revision (its configuration), in the same turns",
    )
    args = parser.parse_args()
    commit = short_commit()
    with tempfile.TemporaryDirectory(prefix="nginx-bench-") as tmp_name:
        tmp = Path(tmp_name)
        content, out, copy = tmp / "content", tmp / "export", tmp / "plain"
        generate(content, args.n)
        export_port, copy_port = free_port(), free_port()
        trees = {"export": (REPO, out, export_port)}
        if args.baseline:
            base = tmp / "baseline"
            extract_revision(args.baseline, base)
            trees["baseline"] = (base, tmp / "export-baseline", free_port())
        for tree, folder, port in trees.values():
            env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
            env["PYTHONPATH"] = str(tree)
            command = ["-m", "feedsvc", "export", str(folder), "--content", str(content)]
            command += ["--listen", f"127.0.0.1:{port}"]
            subprocess.run(
                [sys.executable, *command], cwd=tree, env=env, check=True, capture_output=True
            )
        (copy / "feeds").mkdir(parents=True)
        shutil.copy2(out / "public" / FEED.lstrip("/"), copy / FEED.lstrip("/"))
        # One nginx per configuration (both define the same map variables), the copy beside
        # this tree's.
        configs = [f"  include {f / 'nginx/feedsvc.conf'};\n" for _, f, _ in trees.values()]
        configs[0] += f"  server {{ listen 127.0.0.1:{copy_port}; root {copy}; }}"
        kinds = {"200": {"Accept-Encoding": "identity"}, "304": {}}
        ports = {name: port for name, (_, _, port) in trees.items()} | {"copy": copy_port}
        rates: dict[str, dict[str, list[float]]] = {
            kind: {name: [] for name in ports} for kind in kinds
        }
        with contextlib.ExitStack() as stack:
            for servers in configs:
                stack.enter_context(nginx(tmp, servers))
            time.sleep(1)
            for name, port in ports.items():
                if get(port, FEED)[1] != (out / "public" / FEED.lstrip("/")).read_bytes():
                    raise BenchError(f"nginx ({name}) does not serve the exported feed")
            etags = {name: etag_of(port) for name, port in ports.items()}
            for port in ports.values():  # warm-up
                wrk(port, kinds["200"], 1)
            measure(ports, etags, rates, args.rounds, args.duration)
    summary = {}
    for kind, by_name in rates.items():
        export_median = statistics.median(by_name["export"])
        copy_median = statistics.median(by_name["copy"])
        ratios = [e / c for e, c in zip(by_name["export"], by_name["copy"], strict=True)]
        summary[kind] = {
            **{
                f"{name}_over_copy": statistics.median(rates_) / copy_median
                for name, rates_ in by_name.items()
                if name != "copy"
            },
            "export_median_rps": export_median,
            "copy_median_rps": copy_median,
            "ratio_of_medians": export_median / copy_median,
            "ratio_per_round": {"min": min(ratios), "max": max(ratios)},
        }
        print(
            f"{kind}: export {export_median:.0f} req/s, copy {copy_median:.0f} req/s: "
            f"{export_median / copy_median:.3f}x (rounds {min(ratios):.3f}-{max(ratios):.3f})"
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = REPO / "bench" / "results" / f"nginx-static-{commit}-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "commit": commit,
                "articles": args.n,
                "duration_s": args.duration,
                "load_before": os.getloadavg(),
                "rates": rates,
                "summary": summary,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)

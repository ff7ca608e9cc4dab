"""Slow-client attack against each documented deployment: how many normal requests get through.

For each deployment, on loopback:

1. a baseline: a normal client alone for ``--baseline`` seconds;
2. the attack: ``--slow`` connections (200) that each send a request line and then one header
   line every ``--interval`` seconds (5), never ending the headers, reconnecting whenever the
   server closes them, for ``--duration`` seconds (30); meanwhile the normal client.

The normal client starts one ``GET /feeds/all.rss`` every ``--every`` seconds (0.25), each on a
new connection and in its own thread, with a 10 s timeout, so a blocked server cannot slow
down the schedule. The figures: requests started, answered (200), answered within 1 s, and the
median, 95th percentile and longest time of the answered ones; the ratio of the share answered
within 1 s under attack to the baseline's.

Deployments (``--deployments``, default all):

- ``gunicorn``: ``gunicorn -c gunicorn.conf.py wsgi:app``, the settings ``feedsvc serve`` (the
  README's command) uses;
- ``gunicorn-sync``: the same with ``--worker-class sync`` (what it was before);
- ``gunicorn-gthread-N`` (not in the default list): with ``--worker-class gthread --threads N``;
- ``nginx-proxy``: nginx with ``python -m feedsvc nginx-proxy``'s configuration in front of that
  gunicorn on a unix socket;
- ``nginx-proxy-sync``: the same with gunicorn's sync workers behind the proxy;
- ``nginx-export``: nginx serving ``python -m feedsvc export``.

``--runs N`` alternates the deployments N times; the summary gives the median and the range.
Raw results go to ``bench/results/slow_clients-<time>.json``. Needs nginx (Debian package).

Usage::

    .venv/bin/python bench/slow_clients.py [--duration 30] [--slow 200] [--runs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import (
    BenchError,
    answering,
    environment_without_settings,
    find_tool,
    free_port,
    nginx_conf,
    run_main,
    terminated_at_exit,
)

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
GUNICORN = Path(sys.executable).with_name("gunicorn")
PATH = "/feeds/all.rss"
DEPLOYMENTS = ("gunicorn", "gunicorn-sync", "nginx-proxy", "nginx-proxy-sync", "nginx-export")
WITHIN = 1.0  # seconds: the bar a normal request must meet


@dataclass
class Phase:
    """What the normal client saw in one phase."""

    started: int = 0
    answered: int = 0
    within: int = 0
    latencies: list[float] = field(default_factory=list)
    slow_connections_opened: int = 0

    def summary(self) -> dict[str, float]:
        answered = sorted(self.latencies)
        return {
            "started": self.started,
            "answered": self.answered,
            "within_1s": self.within,
            "share_within_1s": self.within / self.started if self.started else 0.0,
            "median_s": statistics.median(answered) if answered else float("nan"),
            "p95_s": answered[int(0.95 * (len(answered) - 1))] if answered else float("nan"),
            "max_s": answered[-1] if answered else float("nan"),
        }


def normal_client(port: int, seconds: float, every: float, phase: Phase) -> None:
    lock = threading.Lock()

    def one() -> None:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", PATH, headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            connection.close()
        took = time.monotonic() - started
        with lock:
            if ok:
                phase.answered += 1
                phase.latencies.append(took)
                phase.within += took <= WITHIN

    threads = []
    end = time.monotonic() + seconds
    next_at = time.monotonic()
    while next_at < end:
        time.sleep(max(0.0, next_at - time.monotonic()))
        thread = threading.Thread(target=one, daemon=True)
        thread.start()
        threads.append(thread)
        phase.started += 1
        next_at += every
    for thread in threads:
        thread.join(timeout=15)


async def slow_connection(port: int, end: float, interval: float, phase: Phase) -> None:
    number = 0
    while time.monotonic() < end:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        phase.slow_connections_opened += 1
        try:
            writer.write(f"GET {PATH} HTTP/1.1\r\nHost: localhost\r\n".encode())
            await writer.drain()
            while time.monotonic() < end:
                try:  # a server that answers or closes ends this connection: reconnect
                    data = await asyncio.wait_for(reader.read(4096), timeout=interval)
                    if not data:
                        break
                except TimeoutError:
                    pass
                number += 1
                writer.write(f"X-Slow-{number}: {number}\r\n".encode())
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def attack(port: int, args: argparse.Namespace, phase: Phase) -> threading.Thread:
    end = time.monotonic() + args.duration

    async def all_of_them() -> None:
        await asyncio.gather(
            *(slow_connection(port, end, args.interval, phase) for _ in range(args.slow))
        )

    thread = threading.Thread(target=lambda: asyncio.run(all_of_them()), daemon=True)
    thread.start()
    return thread


# -- the deployments ---------------------------------------------------------------------------


def wait_for(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    def ok() -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", PATH)
            return connection.getresponse().status == 200
        finally:
            connection.close()

    if not answering(ok, process, 60):
        if process.poll() is not None:
            raise BenchError(f"{what} exited with {process.returncode}")
        raise BenchError(f"{what} did not answer within 60 s")


@contextlib.contextmanager
def gunicorn(bind: str, tmp: Path, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDSVC_", "GUNICORN"))}
    env |= {"FEEDSVC_BIND": bind, "FEEDSVC_WATCH": "0"}
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"]
    process = subprocess.Popen(
        [*command, *extra, "wsgi:app"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / f"gunicorn-{time.monotonic_ns()}.log").open("wb"),
    )
    with terminated_at_exit(process):
        yield process


@contextlib.contextmanager
def nginx(include: Path, tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    binary = find_tool("nginx", "nginx")
    run = Path(tempfile.mkdtemp(dir=tmp, prefix="nginx-"))
    (run / "nginx.conf").write_text(nginx_conf(run, "worker_processes 1;", f"  include {include};"))
    process = subprocess.Popen(
        [binary, "-p", str(run), "-c", str(run / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with terminated_at_exit(process):
        yield process


@contextlib.contextmanager
def deployment(name: str, tmp: Path) -> Iterator[int]:
    """Start deployment ``name``; yields the loopback port clients use."""
    port = free_port()
    with contextlib.ExitStack() as stack:
        if name in ("gunicorn", "gunicorn-sync") or name.startswith("gunicorn-gthread-"):
            extra: tuple[str, ...] = ()
            if name == "gunicorn-sync":
                extra = ("--worker-class", "sync", "--threads", "1")
            elif name != "gunicorn":  # gunicorn-gthread-N: N threads per worker
                extra = ("--worker-class", "gthread", "--threads", name.rpartition("-")[2])
            process = stack.enter_context(gunicorn(f"127.0.0.1:{port}", tmp, *extra))
        elif name in ("nginx-proxy", "nginx-proxy-sync"):
            socket_path = tmp / f"gunicorn-{port}.sock"
            extra = ("--worker-class", "sync", "--threads", "1") if name.endswith("sync") else ()
            stack.enter_context(gunicorn(f"unix:{socket_path}", tmp, *extra))
            config = tmp / f"proxy-{port}.conf"
            feedsvc_command(
                "nginx-proxy", str(config), "--listen", f"127.0.0.1:{port}",
                "--upstream", f"unix:{socket_path}",
            )  # fmt: skip
            process = stack.enter_context(nginx(config, tmp))
        elif name == "nginx-export":
            out = tmp / f"export-{port}"
            feedsvc_command("export", str(out), "--listen", f"127.0.0.1:{port}")
            process = stack.enter_context(nginx(out / "nginx" / "feedsvc.conf", tmp))
        else:
            raise BenchError(f"unknown deployment {name!r}; choose from {', '.join(DEPLOYMENTS)}")
        wait_for(port, process, name)
        yield port


def feedsvc_command(*args: str) -> None:
    env = environment_without_settings()
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"feedsvc {args[0]} failed: {done.stderr}")


def measure(name: str, args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    with deployment(name, tmp) as port:
        baseline = Phase()
        normal_client(port, args.baseline, args.every, baseline)
        attacked = Phase()
        slow = attack(port, args, attacked)
        time.sleep(min(2.0, args.interval))  # the slow connections are open before we start
        normal_client(port, args.duration - 2.0, args.every, attacked)
        slow.join(timeout=args.duration + 30)
    base, under = baseline.summary(), attacked.summary()
    ratio = under["share_within_1s"] / base["share_within_1s"] if base["share_within_1s"] else 0
    return {
        "deployment": name,
        "baseline": base,
        "attack": under,
        "slow_connections_opened": attacked.slow_connections_opened,
        "ratio_within_1s_to_baseline": ratio,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--deployments", default=",".join(DEPLOYMENTS))
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--baseline", type=float, default=5.0)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--every", type=float, default=0.25)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    names = [n.strip() for n in args.deployments.split(",") if n.strip()]
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="slow-clients-") as scratch:
        for run in range(args.runs):
            for name in names:
                result = measure(name, args, Path(scratch))
                result["run"] = run + 1
                results.append(result)
                print_line(result)
    print("\nper deployment (median over runs, [min–max]): share of normal requests within 1 s")
    for name in names:
        shares = [share_within(r) for r in results if r["deployment"] == name]
        middle, low, high = statistics.median(shares), min(shares), max(shares)
        print(f"  {name:14} {middle:6.1%}  [{low:.1%}–{high:.1%}]")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"slow_clients-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    document = {
        "benchmark": "slow_clients",
        "settings": vars(args),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "results": results,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"saved {path.relative_to(REPO)}")
    return 0


def share_within(result: dict[str, object]) -> float:
    under: dict[str, float] = result["attack"]  # type: ignore[assignment]
    return under["share_within_1s"]


def print_line(result: dict[str, object]) -> None:
    under: dict[str, float] = result["attack"]  # type: ignore[assignment]
    base: dict[str, float] = result["baseline"]  # type: ignore[assignment]
    print(
        f"run {result['run']} {result['deployment']:14} under attack: "
        f"{under['answered']:.0f}/{under['started']:.0f} answered, "
        f"{under['within_1s']:.0f} within 1 s ({under['share_within_1s']:.1%}), "
        f"median {under['median_s']:.3f} s, p95 {under['p95_s']:.3f} s, "
        f"max {under['max_s']:.3f} s; "
        f"baseline {base['within_1s']:.0f}/{base['started']:.0f} within 1 s; "
        f"ratio {result['ratio_within_1s_to_baseline']:.2f}; "
        f"{result['slow_connections_opened']} slow connections opened",
        flush=True,
    )


if __name__ == "__main__":
    run_main(main)

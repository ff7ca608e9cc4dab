"""HTTP benchmark: feedsvc under gunicorn, a bare Flask app and nginx serving the same feed bytes.

Prints figures; it is not a test. On loopback it drives each server with ``wrk -t2 --latency``
for a bounded time per case, on three paths of ``/feeds/all.rss``: a full 200, the gzip response,
and a 304 revalidation with the server's own ETag.

1. feedsvc as the README serves it: ``gunicorn -c gunicorn.conf.py wsgi:app``;
2. ``bench/bare_app.py``: the same bytes and headers (every one feedsvc sends but Date) from a
   one-route Flask app, under the same gunicorn configuration (the baseline: what Flask and
   gunicorn cost by themselves);
3. nginx serving the same bytes as static files (``etag on``, ``gzip_static on``).

All servers run side by side; only one is loaded at a time, path by path in turn (feedsvc,
bare, nginx on the 200 path, then on gzip, then 304), so slow drift on the machine hits every
server alike. ``other CPU`` is the share of the machine's CPU time used by anything but the
server under test and wrk while it was measured. On a shared machine each case waits for a quiet
second first, and is measured again (``--retries``, default 2) while other load used over 10%;
the report warns when that did not help.

Usage::

    .venv/bin/python bench/http_bench.py [--duration 10] [--connections 32] [--content DIR]
        [--rounds 1] [--retries 2] [--quiet-wait 30] [--close | --connection both]
        [--servers feedsvc,bare,nginx] [--json FILE] [--workers N]
        [--worker-class sync|gthread] [--threads N]

``--workers``/``--worker-class``/``--threads`` override ``gunicorn.conf.py`` on gunicorn's
command line, for both gunicorn servers alike. wrk keeps its connections open where the server
allows (gunicorn's sync worker never does); ``--close`` makes every request a new connection,
as a feed reader polling every few minutes, or nginx proxying without upstream keep-alive, does.
``--connection both`` measures both ways, alternating them within each round.
``--rounds N`` repeats every case N times and reports the round with the median requests/s,
with the range. The raw results, the medians, their spread and the ratios feedsvc/bare go to
``bench/results/http-<date>-<commit>.json`` (or ``--json FILE``), with the commit measured and
the machine's load average before and after.
Needs ``wrk`` and ``nginx`` (Debian packages ``wrk`` and ``nginx``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import FrameType

from benchlib import (
    BenchError,
    answering,
    find_tool,
    free_port,
    git_commit,
    run_main,
    terminated_at_exit,
)

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
GUNICORN = Path(sys.executable).with_name("gunicorn")
FEED = "/feeds/all.rss"
SERVERS = ("feedsvc", "bare", "nginx")
PATHS = ("200", "gzip", "304")
# Targets: feedsvc at least as fast as bare Flask (issue 13), and a p99 below 25 ms.
TARGET_RATIO_BARE = 1.0
CONNECTIONS = {"keep-alive": False, "close": True}  # name -> a new connection per request
TARGET_P99_MS = 25.0
GUNICORN_SETTINGS = (
    "worker_class",
    "workers",
    "threads",
    "keepalive",
    "preload_app",
    "timeout",
    "accesslog",
)
START_TIMEOUT_S = 30.0
# A case during which other processes used more than this share of the CPU is measured again,
# after waiting (at most QUIET_WAIT_S) for the machine to quieten down.
MAX_OTHER_CPU = 0.10
QUIET_WAIT_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Feed:
    """The bytes and headers feedsvc sends, which the other servers are set up to send too."""

    identity: bytes
    gzip: bytes
    etag: str
    gzip_etag: str
    last_modified: str
    cache_control: str
    content_type: str
    identity_headers: list[tuple[str, str]]  # as sent, names as spelt, for bare_app.py
    gzip_headers: list[tuple[str, str]]


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    pid: int  # the master process; its descendants are counted as its CPU time
    etag: str  # its own ETag of the identity response, for the 304 path


@dataclass(frozen=True)
class Case:
    """One path to measure: request headers and what the answer must be."""

    path: str
    headers: dict[str, str]
    status: int
    body: bytes
    connection: str  # "keep-alive" (as the server allows) or "close" (one request each)


@dataclass(frozen=True)
class Result:
    server: str
    path: str
    connection: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    other_cpu: float  # share of all cores used by neither the server nor wrk, 0..1
    errors: str  # wrk's socket errors and non-2xx/3xx count, empty when none


# -- tools and processes ----------------------------------------------------------------------


def request(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One GET on loopback: status, headers (lower-case names) and the raw body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def raw_headers(port: int, path: str, headers: dict[str, str]) -> list[tuple[str, str]]:
    """The response headers of one GET, in order and spelt as sent."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.getheaders()
    finally:
        connection.close()


@contextlib.contextmanager
def running(
    name: str, command: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[int]:
    """Start ``command``, wait until it answers on ``port``, yield its pid, stop it afterwards."""
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # gunicorn's access log ("-"): formatted, then dropped
            stderr=log_file,
        )
        with terminated_at_exit(process, timeout=15):
            if not answering(lambda: request(port, "/"), process, START_TIMEOUT_S):
                raise BenchError(f"{name} did not start on port {port}:\n{_tail(log)}")
            yield process.pid


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# -- CPU accounting ---------------------------------------------------------------------------


def machine_busy_s() -> float:
    """CPU seconds all cores spent on anything but idling (steal included: lost to others)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def tree_cpu_s(root: int) -> float:
    """CPU seconds used so far by process ``root`` and every live descendant."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name may hold spaces; fields after its closing parenthesis are fixed.
            after = stat.read_text().rpartition(")")[2].split()
            pid = int(stat.parent.name)
            parents[pid] = int(after[1])
            times[pid] = (int(after[11]) + int(after[12])) / CLOCK_TICKS  # utime + stime
    tree = {root}
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(children)
        tree |= children
    return sum(times.get(pid, 0.0) for pid in tree)


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- wrk --------------------------------------------------------------------------------------

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def run_wrk(wrk: str, server: Server, case: Case, duration: int, connections: int) -> Result:
    """Load ``server`` with ``case`` for ``duration`` seconds; what wrk saw, and the CPU used."""
    command = [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in case.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{server.port}{FEED}")
    before = (time.monotonic(), machine_busy_s(), tree_cpu_s(server.pid), children_cpu_s())
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 30, check=False
    )
    after = (time.monotonic(), machine_busy_s(), tree_cpu_s(server.pid), children_cpu_s())
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    elapsed, busy, served, driven = (a - b for a, b in zip(after, before, strict=True))
    other = max(0.0, busy - served - driven) / (elapsed * len(os.sched_getaffinity(0)))
    rate, p50, p99 = parse_wrk(done.stdout)
    return Result(
        server.name, case.path, case.connection, rate, p50, p99, other, wrk_errors(done.stdout)
    )


def parse_wrk(output: str) -> tuple[float, float, float]:
    """requests/s, p50 and p99 in ms from ``wrk --latency`` output."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    if rate is None or p50 is None or p99 is None:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    return (
        float(rate.group(1)),
        float(p50.group(1)) * _TIME_UNITS_MS[p50.group(2)],
        float(p99.group(1)) * _TIME_UNITS_MS[p99.group(2)],
    )


def wrk_errors(output: str) -> str:
    errors = []
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors.append(socket_errors.group(1).strip())
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        errors.append(f"non-2xx/3xx {bad.group(1)}")
    return "; ".join(errors)


# -- the servers ------------------------------------------------------------------------------


def cases(feed: Feed, etag: str, *, close: bool = False) -> list[Case]:
    """The three paths, revalidating with ``etag`` (each server's own identity ETag).

    With ``close``, every request asks for its connection to be closed after the answer.
    """
    extra = {"Connection": "close"} if close else {}
    mode = "close" if close else "keep-alive"
    return [
        Case("200", {**extra}, 200, feed.identity, mode),
        Case("gzip", {"Accept-Encoding": "gzip", **extra}, 200, feed.gzip, mode),
        Case("304", {"If-None-Match": etag, **extra}, 304, b"", mode),
    ]


def verify(server: Server, case: Case) -> None:
    """Fail loudly unless the server answers this case with the expected status and bytes."""
    status, headers, body = request(server.port, FEED, case.headers)
    problem = None
    if status != case.status:
        problem = f"status {status}, expected {case.status}"
    elif len(body) != len(case.body):
        problem = f"{len(body)} body bytes, expected {len(case.body)}"
    elif body != case.body:
        problem = "the body differs from feedsvc's"
    elif case.path == "gzip" and headers.get("content-encoding") != "gzip":
        problem = f"Content-Encoding {headers.get('content-encoding')!r}, expected 'gzip'"
    elif "etag" not in headers:
        problem = "no ETag"
    if problem:
        raise BenchError(f"{server.name} {case.path}: {problem}; not measuring a wrong answer")


def gunicorn_command(
    app: str, port: int, args: argparse.Namespace, tmp: Path, config: str = "gunicorn.conf.py"
) -> list[str]:
    command = [str(GUNICORN), "-c", config]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if args.worker_class is not None:
        command += ["--worker-class", args.worker_class]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    # gunicorn >= 25 opens a per-user control socket that the newest master takes over; keep
    # ours private so the benchmark never disturbs another gunicorn on this machine.
    command += ["--control-socket", str(tmp / f"gunicorn-{port}.ctl"), app]
    return command


def gunicorn_env(port: int, args: argparse.Namespace, **extra: str) -> dict[str, str]:
    env = {**os.environ, "FEEDSVC_BIND": f"127.0.0.1:{port}", **extra}
    if args.content is not None:
        env["FEEDSVC_CONTENT_DIR"] = str(args.content)
    return env


BARE_CONFIG = "bench/bare_gunicorn_conf.py"


def gunicorn_settings(
    args: argparse.Namespace, tmp: Path, config: str = "gunicorn.conf.py"
) -> dict[str, str]:
    """The settings gunicorn resolves from the config file and overrides (``--print-config``)."""
    port = free_port()
    command = gunicorn_command("wsgi:app", port, args, tmp, config)
    command.insert(-1, "--print-config")
    done = subprocess.run(
        command,
        cwd=REPO,
        env=gunicorn_env(port, args),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"gunicorn --print-config failed:\n{done.stderr}")
    settings = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in GUNICORN_SETTINGS:
            settings[key.strip()] = value.strip()
    if settings.get("worker_class") == "sync" and int(settings.get("threads", "1")) > 1:
        settings["worker_class"] = "gthread (sync with threads > 1)"
    return settings


def start_feedsvc(
    stack: contextlib.ExitStack, args: argparse.Namespace, tmp: Path
) -> tuple[Server, Feed]:
    port = free_port()
    command = gunicorn_command("wsgi:app", port, args, tmp)
    env = gunicorn_env(port, args)
    pid = stack.enter_context(running("feedsvc", command, port, tmp / "feedsvc.log", env))
    status, headers, identity = request(port, FEED)
    gz_status, gz_headers, gzip_body = request(port, FEED, {"Accept-Encoding": "gzip"})
    if status != 200 or gz_status != 200 or gz_headers.get("content-encoding") != "gzip":
        raise BenchError(f"feedsvc: {FEED} answered {status} / gzip {gz_status}")
    feed = Feed(
        identity=identity,
        gzip=gzip_body,
        etag=headers["etag"],
        gzip_etag=gz_headers["etag"],
        last_modified=headers["last-modified"],
        cache_control=headers["cache-control"],
        content_type=headers["content-type"],
        identity_headers=raw_headers(port, FEED, {}),
        gzip_headers=raw_headers(port, FEED, {"Accept-Encoding": "gzip"}),
    )
    return Server("feedsvc", port, pid, feed.etag), feed


def start_bare(
    stack: contextlib.ExitStack, feed: Feed, args: argparse.Namespace, tmp: Path
) -> Server:
    data = tmp / "bare"
    data.mkdir()
    (data / "identity").write_bytes(feed.identity)
    (data / "gzip").write_bytes(feed.gzip)
    meta = {"identity": feed.identity_headers, "gzip": feed.gzip_headers}
    (data / "headers.json").write_text(json.dumps(meta))
    port = free_port()
    # The same settings, less feedsvc's hook that starts its content watcher.
    command = gunicorn_command("bench.bare_app:app", port, args, tmp, config=BARE_CONFIG)
    env = gunicorn_env(port, args, BENCH_BARE_DIR=str(data))
    pid = stack.enter_context(running("bare Flask", command, port, tmp / "bare.log", env))
    return Server("bare", port, pid, feed.etag)


NGINX_CONF = """\
{user}worker_processes auto;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    etag on;
    gzip_static on;
    gzip_vary on;
    types {{ }}
    default_type "{content_type}";
    client_body_temp_path {tmp}/nginx-tmp/body;
    proxy_temp_path {tmp}/nginx-tmp/proxy;
    fastcgi_temp_path {tmp}/nginx-tmp/fastcgi;
    uwsgi_temp_path {tmp}/nginx-tmp/uwsgi;
    scgi_temp_path {tmp}/nginx-tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
        add_header Cache-Control "{cache_control}";
    }}
}}
"""


def start_nginx(stack: contextlib.ExitStack, feed: Feed, tmp: Path) -> Server:
    nginx = find_tool("nginx", "nginx")
    static = tmp / "www" / FEED.lstrip("/")
    precompressed = static.with_name(static.name + ".gz")
    static.parent.mkdir(parents=True)
    static.write_bytes(feed.identity)
    precompressed.write_bytes(feed.gzip)
    modified = parsedate_to_datetime(feed.last_modified).timestamp()
    for path in (static, precompressed):
        os.utime(path, (modified, modified))  # nginx's Last-Modified (and ETag) come from mtime
    (tmp / "nginx-tmp").mkdir()
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            # As root, nginx would run its workers as "nobody", who cannot read the private
            # temporary folder; as any other user the directive is ignored, so leave it out.
            user="user root;\n" if os.geteuid() == 0 else "",
            tmp=tmp,
            port=port,
            content_type=feed.content_type,
            cache_control=feed.cache_control,
        )
    )
    command = [nginx, "-p", str(tmp), "-e", str(tmp / "nginx-error.log"), "-c", str(conf)]
    pid = stack.enter_context(running("nginx", command, port, tmp / "nginx.log"))
    status, headers, _ = request(port, FEED)
    if status != 200 or "etag" not in headers:
        raise BenchError(f"nginx: {FEED} answered {status} without an ETag: {headers}")
    return Server("nginx", port, pid, headers["etag"])


def measure(wrk: str, server: Server, case: Case, args: argparse.Namespace, label: str) -> Result:
    """One case, measured again (at most ``--retries`` times) while other load disturbs it.

    Each attempt starts once the machine is quiet (or after waiting ``QUIET_WAIT_S``).

    Returns the attempt that other processes disturbed least.
    """
    attempts: list[Result] = []
    for _ in range(1 + args.retries):
        wait_until_quiet(args.quiet_wait)
        result = run_wrk(wrk, server, case, args.duration, args.connections)
        attempts.append(result)
        print(
            f"  {label}: {server.name:8} {case.connection:10} {case.path:5}"
            f" {result.requests_per_s:8.0f} req/s"
            f"  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
            f"  other CPU {result.other_cpu:4.0%}"
        )
        if result.other_cpu <= MAX_OTHER_CPU:
            break
    return min(attempts, key=lambda r: r.other_cpu)


def wait_until_quiet(timeout: float) -> None:
    """Wait (at most ``timeout`` s) for a second in which the machine is nearly idle."""
    cores = len(os.sched_getaffinity(0))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = machine_busy_s()
        time.sleep(1.0)
        if (machine_busy_s() - before) / cores <= MAX_OTHER_CPU:
            return


def measure_all(
    servers: list[Server], feed: Feed, args: argparse.Namespace, wrk: str
) -> list[list[Result]]:
    """Every round of every case, path by path, one server at a time."""
    for server in servers:
        for close in args.connection:
            for case in cases(feed, server.etag, close=close):
                verify(server, case)
    rounds = []
    for number in range(1, args.rounds + 1):
        results = []
        for close in args.connection:
            for index in range(len(PATHS)):
                for server in servers:
                    case = cases(feed, server.etag, close=close)[index]
                    if number == 1 and args.warmup:
                        run_wrk(wrk, server, case, args.warmup, args.connections)  # not reported
                    results.append(measure(wrk, server, case, args, f"round {number}"))
        rounds.append(results)
    return rounds


# -- report -----------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    cores = len(os.sched_getaffinity(0))
    return f"nproc {cores}, CPU {model}; {platform.system()} {platform.release()}"


def median_round(rounds: list[list[Result]]) -> list[Result]:
    """Per server and path, the round with the median requests/s (the lower middle one)."""
    chosen = []
    for position in range(len(rounds[0])):
        runs = sorted((r[position] for r in rounds), key=lambda r: r.requests_per_s)
        chosen.append(runs[(len(runs) - 1) // 2])
    return chosen


def print_report(rounds: list[list[Result]], connections: int) -> None:
    results = median_round(rounds)
    for mode in dict.fromkeys(r.connection for r in results):
        _print_mode(rounds, results, mode, connections)
    if any(r.other_cpu > MAX_OTHER_CPU for r in results):
        print(
            f"\nwarning: other processes used over {MAX_OTHER_CPU:.0%} of the CPU during some"
            " cases even after retrying; these figures are low, rerun on a quieter machine"
        )


def _print_mode(
    rounds: list[list[Result]], results: list[Result], mode: str, connections: int
) -> None:
    print(f"\nConnection: {mode}")
    if len(rounds) > 1:
        print(f"Median of {len(rounds)} rounds (range of req/s in brackets):")
    shown = [r for r in results if r.connection == mode]
    order = sorted(shown, key=lambda r: (SERVERS.index(r.server), PATHS.index(r.path)))
    print(
        f"{'server':8} {'path':5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'other CPU':>9}  notes"
    )
    for r in order:
        position = results.index(r)
        rates = [round_[position].requests_per_s for round_ in rounds]
        spread = f"[{min(rates):.0f}–{max(rates):.0f}] " if len(rounds) > 1 else ""
        notes = spread + (f"wrk errors: {r.errors}" if r.errors else "")
        print(
            f"{r.server:8} {r.path:5} {r.requests_per_s:8.0f} {r.p50_ms:7.2f} {r.p99_ms:7.2f}"
            f" {r.other_cpu:9.0%}  {notes}".rstrip()
        )
    by = {(r.server, r.path): r for r in shown}
    print()
    print(
        f"{'path':5} {'feedsvc/bare':>12} {'feedsvc/nginx':>13}"
        f"  feedsvc ≥ {TARGET_RATIO_BARE}× bare   feedsvc p99 < {TARGET_P99_MS:g} ms"
        f" at {connections} connections"
    )
    ratios = round_ratios(rounds)
    for path in PATHS:
        ours = by.get(("feedsvc", path))
        if ours is None:
            continue
        bare = by.get(("bare", path))
        nginx = by.get(("nginx", path))
        ratio_bare = ours.requests_per_s / bare.requests_per_s if bare else None
        ratio_nginx = ours.requests_per_s / nginx.requests_per_s if nginx else None
        meets_ratio = "-" if ratio_bare is None else _verdict(ratio_bare >= TARGET_RATIO_BARE)
        each = ratios.get((mode, path))
        spread = f" [{min(each):.2f}–{max(each):.2f}]" if each and len(each) > 1 else ""
        print(
            f"{path:5} {_ratio(ratio_bare) + spread:>12} {_ratio(ratio_nginx):>13}"
            f"  {meets_ratio:<19}   {_verdict(ours.p99_ms < TARGET_P99_MS)}"
            f" ({ours.p99_ms:.1f} ms)"
        )


def round_ratios(rounds: list[list[Result]]) -> dict[tuple[str, str], list[float]]:
    """feedsvc/bare per round, by (connection, path): each pair measured side by side."""
    ratios: dict[tuple[str, str], list[float]] = {}
    for results in rounds:
        by = {(r.server, r.connection, r.path): r for r in results}
        for (server, mode, path), ours in by.items():
            bare = by.get(("bare", mode, path))
            if server == "feedsvc" and bare is not None:
                ratio = ours.requests_per_s / bare.requests_per_s
                ratios.setdefault((mode, path), []).append(ratio)
    return ratios


def summary(rounds: list[list[Result]]) -> list[dict[str, object]]:
    """Per connection, server and path: median, range and every round's requests/s, and
    feedsvc/bare as the ratio of the medians and per round."""
    ratios = round_ratios(rounds)
    rows: list[dict[str, object]] = []
    medians: dict[tuple[str, str, str], float] = {}
    for position, chosen in enumerate(median_round(rounds)):
        rates = [results[position].requests_per_s for results in rounds]
        key = (chosen.connection, chosen.server, chosen.path)
        medians[key] = statistics.median(rates)
        rows.append(
            {
                "connection": chosen.connection,
                "server": chosen.server,
                "path": chosen.path,
                "requests_per_s_median": medians[key],
                "requests_per_s_min": min(rates),
                "requests_per_s_max": max(rates),
                "requests_per_s": rates,
                "p99_ms_median": statistics.median(results[position].p99_ms for results in rounds),
            }
        )
    for row in rows:
        bare = medians.get((str(row["connection"]), "bare", str(row["path"])))
        if row["server"] == "feedsvc" and bare:
            each = ratios[(str(row["connection"]), str(row["path"]))]
            row["ratio_to_bare_of_medians"] = float(str(row["requests_per_s_median"])) / bare
            row["ratio_to_bare_per_round"] = each
            row["ratio_to_bare_median"] = statistics.median(each)
    return rows


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per case [10]")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections [32]")
    parser.add_argument(
        "--close",
        action="store_true",
        help="send 'Connection: close': one request per connection, as most feed readers poll",
    )
    parser.add_argument(
        "--connection",
        choices=("keep-alive", "close", "both"),
        help="keep-alive (wrk's default, where the server allows), close (as --close) or both",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=QUIET_WAIT_S,
        help=f"seconds to wait for a quiet machine before each case [{QUIET_WAIT_S:g}]",
    )
    parser.add_argument("--warmup", type=int, default=2, help="unreported seconds first [2]")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every case [1]")
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help=f"re-measure a case while other load uses > {MAX_OTHER_CPU * 100:.0f} percent of CPU",
    )
    parser.add_argument("--content", type=Path, help="article folder [the bundled content/]")
    parser.add_argument("--workers", type=int, help="override gunicorn.conf.py's workers")
    parser.add_argument("--worker-class", help="override gunicorn.conf.py's worker_class")
    parser.add_argument("--threads", type=int, help="override gunicorn.conf.py's threads")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated subset of feedsvc,bare,nginx [all]",
    )
    parser.add_argument(
        "--json", type=Path, help="write the results here [bench/results/http-<date>-<commit>]"
    )
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(args.servers) - set(SERVERS)
    if unknown or not args.servers:
        parser.error(f"--servers: choose from {', '.join(SERVERS)}")
    if (
        min(args.duration, args.rounds, args.connections - 1) < 1
        or min(args.warmup, args.retries) < 0
    ):
        parser.error("need --duration, --rounds ≥ 1, --connections ≥ 2, --warmup, --retries ≥ 0")
    if args.content is not None:
        args.content = args.content.resolve()
    mode = args.connection or ("close" if args.close else "keep-alive")
    modes = list(CONNECTIONS) if mode == "both" else [mode]
    args.connection = [CONNECTIONS[m] for m in modes]  # close, per mode measured
    return args


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the servers


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress as it goes
    signal.signal(signal.SIGTERM, _stop)
    wrk = find_tool("wrk", "wrk")
    if "nginx" in args.servers:
        find_tool("nginx", "nginx")
    with (
        tempfile.TemporaryDirectory(prefix="feedsvc-bench-") as name,
        contextlib.ExitStack() as stack,
    ):
        tmp = Path(name)
        settings = gunicorn_settings(args, tmp)
        bare_settings = gunicorn_settings(args, tmp, BARE_CONFIG)
        if "bare" in args.servers and bare_settings != settings:
            raise BenchError(
                f"{BARE_CONFIG} does not follow gunicorn.conf.py: {bare_settings} against"
                f" {settings}; the comparison needs the same server settings"
            )
        started = datetime.now(UTC)
        load_before = _load_average()
        print(f"machine:  {machine()}; load average {load_before}")
        print(f"date:     {started:%Y-%m-%d %H:%M} UTC, commit {git_commit()}")
        print(f"gunicorn: {', '.join(f'{k}={v}' for k, v in settings.items())}")
        print(
            f"wrk:      -t2 -c{args.connections} -d{args.duration}s --latency on loopback,"
            f" {args.warmup} s warm-up first, {args.rounds} round(s)"
            + ", connection: "
            + " and ".join(m for m, close in CONNECTIONS.items() if close in args.connection)
        )
        # feedsvc always runs: the other servers serve the bytes it renders.
        feedsvc, feed = start_feedsvc(stack, args, tmp)
        print(
            f"feed:     {FEED}: {len(feed.identity)} bytes, gzip {len(feed.gzip)} bytes"
            f" (content: {args.content or REPO / 'content'})"
        )
        servers = [feedsvc] if "feedsvc" in args.servers else []
        if "bare" in args.servers:
            servers.append(start_bare(stack, feed, args, tmp))
        if "nginx" in args.servers:
            servers.append(start_nginx(stack, feed, tmp))
        rounds = measure_all(servers, feed, args, wrk)
    print_report(rounds, args.connections)
    commit = git_commit()
    report = {
        "benchmark": "http",
        "commit": commit,
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average": load_before,
        "load_average_after": _load_average(),
        "gunicorn": settings,
        "wrk": {
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "retries": args.retries,
        },
        "feed": {"path": FEED, "bytes": len(feed.identity), "gzip_bytes": len(feed.gzip)},
        "target_ratio_to_bare": TARGET_RATIO_BARE,
        "summary": summary(rounds),
        "rounds": [[asdict(r) for r in results] for results in rounds],
    }
    out = args.json or RESULTS / f"http-{started:%Y%m%d-%H%M}-{commit[:10]}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nresults: {out}")
    return 0


def _load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    run_main(main)

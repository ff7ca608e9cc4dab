"""nginx serving the export with its generated configuration, against nginx serving a plain
copy of the same file, on 200 and on 304 (If-None-Match with the file's own ETag).

``python bench/nginx_static_bench.py [-n 300] [--duration 3] [--rounds 3]`` exports a corpus
of ``-n`` articles with this tree, starts an nginx with the export's configuration and another
with a bare ``root`` server holding a copy of ``feeds/all.rss`` (the copy's nginx defines none
of the export's variables, which every request of an nginx allocates room for), and runs
``wrk`` on each in turns (alternating, ``--rounds`` times). Both nginx have the same http
block: no access log, ``sendfile`` and ``tcp_nopush`` on, nginx's keep-alive defaults. Prints
medians, spread and the ratio export/copy; saves the runs to bench/results/ as JSON. Needs the
Debian packages ``nginx`` and ``wrk``.

``--tuned-copy`` also serves the copy from a server with the export's own tuning
(``request_pool_size``, see :data:`TUNED_COPY`), in the copy's nginx: how much of the export's
standing against the copy that tuning is, rather than less work per request.

``--variants NAME,...`` also serves the export with this tree's configuration less one
construct (see :data:`VARIANTS`), each from an nginx of its own, in the same turns: what each
construct costs per request is the difference to the configuration as generated.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    BenchError,
    environment_without_settings,
    extract_revision,
    find_tool,
    free_port,
    process_tree,
    run_main,
    short_commit,
    write_results,
)
from corpus import generate
from http_bench import tree_cpu_s
from scale_bench import get, nginx

REPO = Path(__file__).resolve().parent.parent
FEED = "/feeds/all.rss"
# The settings of the export's server block that a bare server could have too.
TUNED_COPY = "request_pool_size 8k;"
_SERVER_DOT_CHECK = re.compile(r"\n    if \(\$request_uri [^\n]*\{\n[^\n]*\n    \}")
_IF_BLOCK = re.compile(r"\n *if \([^\n]*\{\n(?:[^\n]*\n)*? *\}")
_URI_TEST = re.compile(r"\n *if \(\$request_uri != (\"[^\"]*\")\) \{\n(?:[^\n]*\n)*? *\}")
_ACCEPT_HINT = '"text/(?:html|\\*)"'
_ACCEPT_TEST = re.compile(r"\n *if \(\$http_accept ~\* [^\n]*\{\n(?:[^\n]*\n)*? *\}")
_URL_TESTED = re.compile(r'if \(\$request_uri != ("[^"]*")\)')
_DROPPABLE_ON_304 = re.compile(
    r'(add_header (?:Content-Security-Policy|X-Content-Type-Options) )("[^"\n]*");'
)
_FOLDER_LOCATION = re.compile(
    r'\n    location "[^"]*/" \{\n(?:        internal;\n)?        return 404;\n    \}'
)


def _in_feed_location(config: str, change: Callable[[str], str]) -> str:
    """``config`` with ``change`` applied to the location(s) that serve :data:`FEED`."""
    location = re.compile(
        r"\n    location = \"(?:/_feedsvc/[a-z]+)?" + re.escape(FEED) + r"\" \{\n.*?\n    \}", re.S
    )
    if not location.search(config):
        raise BenchError(f"no exact location of {FEED} in the configuration")
    return location.sub(lambda m: change(m.group(0)), config)


def _lines_dropped(pattern: str) -> Callable[[str], str]:
    return lambda block: re.sub(r"\n *(?:" + pattern + r")[^\n]*", "", block)


def _headers_in_server(config: str) -> str:
    found: list[str] = []

    def take(block: str) -> str:
        found.extend(re.findall(r"\n *add_header [^\n]*", block))
        return re.sub(r"\n *add_header [^\n]*", "", block)

    changed = _in_feed_location(config, take)
    moved = "".join("\n    " + line.strip() for line in found)
    return changed.replace("    etag on;\n", "    etag on;" + moved + "\n", 1)


def _uri_map(config: str) -> str:
    """The URL test of every feed's location as one map of ``$request_uri`` whose keys are the
    feeds' URLs, each location testing the map's flag."""
    urls = sorted(set(_URL_TESTED.findall(config)))
    keys = "".join(f"    {url} 0;\n" for url in urls)
    flag = f"map $request_uri $feedsvc_not_plain {{\n    default 1;\n{keys}}}\n"
    tested = _URL_TESTED.sub("if ($feedsvc_not_plain)", config)
    # Keys longer than nginx's default buckets hold; set before the file's first map (this
    # file is included in the http block, where the setting belongs).
    return "map_hash_bucket_size 256;\n" + tested.replace("\nserver {", f"\n{flag}server {{", 1)


def _only_on_200(config: str) -> str:
    """The feed's headers that RFC 9110 (section 15.4.5) does not ask of a 304 (all but
    Cache-Control and Vary, and CORS, which a script's own conditional request needs) from a
    map of ``$status`` that is empty on a 304, so that nginx leaves them off it."""
    maps: list[str] = []

    def change(block: str) -> str:
        def header(match: re.Match[str]) -> str:
            variable = f"$feedsvc_on_200_{len(maps) + 1}"
            maps.append(
                f'map $status {variable} {{\n    default {match.group(2)};\n    304 "";\n}}\n'
            )
            return f"{match.group(1)}{variable};"

        return _DROPPABLE_ON_304.sub(header, block)

    changed = _in_feed_location(config, change)
    return changed.replace("\nserver {", "\n" + "".join(maps) + "server {", 1)


def _root_resolved(config: str) -> str:
    """The export's root (its ``public`` link) written as the folder it points to now."""
    found = re.search(r'\n    root "([^"]*)";', config)
    if found is None:
        raise BenchError("no root in the configuration")
    return config.replace(f'"{found.group(1)}', f'"{os.path.realpath(found.group(1))}')


# Variants of the generated configuration, each less one construct, to find what it costs.
VARIANTS: dict[str, Callable[[str], str]] = {
    # Every if, set and rewrite of the feed's location(s), and a server-level if.
    "no-ifs": lambda config: _in_feed_location(
        _SERVER_DOT_CHECK.sub("", config),
        lambda block: _lines_dropped("set |rewrite ")(_IF_BLOCK.sub("", block)),
    ),
    # The headers the service sends with a feed (add_header), and the charset parameter.
    "no-headers": lambda config: _in_feed_location(config, _lines_dropped("add_header |charset")),
    # Both: what nginx costs serving the file from this tree with these types.
    "bare-location": lambda config: VARIANTS["no-headers"](VARIANTS["no-ifs"](config)),
    # The default request pool (4k) instead of the export's 8k.
    "pool-4k": lambda config: config.replace("    request_pool_size 8k;\n", "", 1),
    # No prefix locations for the folders of feed URLs: one flat tree of exact locations.
    "flat-locations": lambda config: _FOLDER_LOCATION.sub("", config),
    # The feed's location testing for OPTIONS itself, as before error_page 405 did it.
    "options-test": lambda config: _in_feed_location(
        config,
        lambda block: _URI_TEST.sub(
            lambda m: (
                m.group(0)
                + m.group(0).replace("$request_uri != " + m.group(1), "$request_method = OPTIONS")
            ),
            block,
        ),
    ),
    # The browser test (Accept names text/html or text/*) once at server level, setting a flag
    # that each feed's location tests: one expression compiled in all, not one per feed.
    "server-accept": lambda config: _in_feed_location(
        config.replace(
            "    request_pool_size 8k;\n",
            "    request_pool_size 8k;\n    uninitialized_variable_warn off;\n"
            f"    if ($http_accept ~* {_ACCEPT_HINT}) {{\n        set $feedsvc_html 1;\n    }}\n",
            1,
        ),
        lambda block: block.replace(f"if ($http_accept ~* {_ACCEPT_HINT})", "if ($feedsvc_html)"),
    ),
    # The feed location without its browser test (not correct: what the test costs).
    "no-accept-test": lambda config: _in_feed_location(
        config, lambda block: _ACCEPT_TEST.sub("", block)
    ),
    # A request without Accept leaves the rewrite module before the browser expression
    # (`break`); one with Accept tests it as before. Responses unchanged: fewer instructions
    # without Accept, more with one.
    "accept-break": lambda config: _in_feed_location(
        config,
        lambda block: block.replace(
            f"        if ($http_accept ~* {_ACCEPT_HINT})",
            '        if ($http_accept = "") {\n            break;\n        }\n'
            f"        if ($http_accept ~* {_ACCEPT_HINT})",
            1,
        ),
    ),
    # No gzip_static or brotli_static in the feed's location (not correct: what their look at
    # Accept-Encoding costs a request that asks for neither coding).
    "no-static-codings": lambda config: _in_feed_location(
        config,
        lambda block: block.replace(
            "        gzip_vary off;\n",
            "        gzip_vary off;\n        gzip_static off;\n        brotli_static off;\n",
        ),
    ),
    # The feed's headers in the server block instead of its location (not correct for the
    # other locations: whether a header set at a higher level costs a request less).
    "headers-in-server": _headers_in_server,
    # nginx keeping open file descriptors and their stat() results (a second at most).
    "open-file-cache": lambda config: config.replace(
        "    etag on;\n",
        "    etag on;\n    open_file_cache max=1000 inactive=20s;\n    open_file_cache_valid 1s;\n",
        1,
    ),
    # The URL test as a look-up of exact keys (a map of $request_uri) instead of a comparison.
    "uri-map": _uri_map,
    # Content-Security-Policy and X-Content-Type-Options left off a 304 (a map of $status).
    "only-on-200": _only_on_200,
    # Not correct (an export's switch would go unseen): what the path through the link costs.
    "root-resolved": _root_resolved,
    # nginx opening the file's path one folder at a time, refusing links below the root.
    "disable-symlinks": lambda config: config.replace(
        "    etag on;\n", "    etag on;\n    disable_symlinks on from=$document_root;\n", 1
    ),
}


@dataclass(frozen=True)
class Run:
    """One wrk run: requests per second, and nginx's CPU time per request (its master and
    workers), which other load on the machine disturbs far less than the rate."""

    rate: float
    cpu_us: float


def wrk(port: int, headers: dict[str, str], duration: int, pid: int = 0) -> Run:
    tool = find_tool("wrk", "wrk")
    url = f"http://127.0.0.1:{port}{FEED}"
    options = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    cpu_before = tree_cpu_s(pid) if pid else 0.0
    done = subprocess.run(
        [tool, "-t2", "-c32", f"-d{duration}s", *options, url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    cpu = tree_cpu_s(pid) - cpu_before if pid else 0.0
    if "Socket errors" in done.stdout or "Non-2xx" in done.stdout:
        raise BenchError(f"wrk saw errors:\n{done.stdout}")
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.MULTILINE)
    count = re.search(r"^\s*(\d+) requests in", done.stdout, re.MULTILINE)
    if rate is None or count is None:
        raise BenchError(f"cannot read wrk's output:\n{done.stdout}")
    return Run(float(rate.group(1)), cpu / int(count.group(1)) * 1e6)


def memory_kb(master: int) -> dict[str, int]:
    """nginx's memory: the proportional set size of its master and workers together (what the
    configuration costs, its pages shared by all of them counted once), and one worker's
    resident set."""
    pids = process_tree(master)
    found = {"pss_kb": 0, "worker_rss_kb": 0}
    for pid in pids:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        fields = dict(re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.MULTILINE))
        found["pss_kb"] += int(fields["Pss"])
        if pid != master:
            found["worker_rss_kb"] = max(found["worker_rss_kb"], int(fields["Rss"]))
    return found


def response_heads(port: int, etag: str, extra: dict[str, str]) -> dict[str, list[str]]:
    """kind (200, 304) -> the status line and header lines nginx on ``port`` answers with (but
    Date), as the benchmark asks: what each server sends, to compare."""
    heads = {}
    for kind, sent in (("200", {"Accept-Encoding": "identity"}), ("304", {"If-None-Match": etag})):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", FEED, headers=sent | extra)
        response = connection.getresponse()
        response.read()
        connection.close()
        heads[kind] = [f"{response.status} {response.reason}"] + [
            f"{name}: {value}" for name, value in response.getheaders() if name != "Date"
        ]
    return heads


def etag_of(port: int) -> str:
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
    servers: dict[str, tuple[int, int]],
    etags: dict[str, str],
    *,
    rates: dict[str, dict[str, list[float]]],
    cpu_us: dict[str, dict[str, list[float]]],
    rounds: int,
    duration: int,
    extra: dict[str, str],
) -> None:
    """``wrk`` on each server (name -> port, nginx's pid) in turns, ``rounds`` times: 200
    (identity), then 304; every request also sends ``extra``."""
    for number in range(rounds):
        for kind in rates:
            # Every other round in the reverse order, so that no server always follows another.
            order = list(servers.items())
            for name, (port, pid) in order if number % 2 == 0 else reversed(order):
                sent = (
                    {"If-None-Match": etags[name]}
                    if kind == "304"
                    else {"Accept-Encoding": "identity"}
                )
                run = wrk(port, sent | extra, duration, pid)
                rates[kind][name].append(run.rate)
                cpu_us[kind][name].append(run.cpu_us)
                print(
                    f"round {number + 1} {kind} {name}: {run.rate:.0f} req/s,"
                    f" nginx {run.cpu_us:.1f} µs CPU per request",
                    flush=True,
                )


@dataclass(frozen=True)
class Count:
    """nginx's user-space instructions per request, in all and by function (its own or a
    library's; Debian's nginx has no debug symbols, so its static functions are addresses)."""

    total: float
    functions: dict[str, float]


def instructions_per_request(
    config: str, tmp: Path, port: int, headers: dict[str, str], count: int
) -> Count:
    """User-space instructions nginx executes per request (valgrind's count: the same on a
    busy machine as on a quiet one; the kernel's share, the system calls, is not counted):
    the difference between ``count`` and ``2 * count`` requests on one kept-alive connection,
    each in a fresh single-process nginx, so that starting and stopping cancel out."""
    runs = []
    for requests in (count, 2 * count):
        for attempt in range(1, 5):
            try:
                runs.append(_instructions(config, tmp, port, headers, requests))
                break
            except BenchError as error:  # valgrind now and then ends without its count
                if attempt == 4:
                    raise
                print(f"again: {str(error).splitlines()[0]}", file=sys.stderr)
    (once, once_total), (twice, twice_total) = runs
    functions = {
        name: (twice.get(name, 0) - once.get(name, 0)) / count for name in set(once) | set(twice)
    }
    return Count(
        (twice_total - once_total) / count,
        {name: value for name, value in functions.items() if abs(value) >= 1},
    )


def _instructions(
    config: str, tmp: Path, port: int, headers: dict[str, str], requests: int
) -> tuple[dict[str, int], int]:
    """The instructions of one valgrind run of nginx answering ``requests`` requests: by
    function, and in all."""
    stamp = f"{port}-{requests}-{time.monotonic_ns()}"
    log, out = tmp / f"valgrind-{stamp}.log", tmp / f"cachegrind-{stamp}.out"
    wrapper = [
        find_tool("valgrind", "valgrind"),
        "--tool=cachegrind",
        "--cache-sim=no",
        f"--cachegrind-out-file={out}",
        f"--log-file={log}",
    ]
    with nginx(tmp, config, wrapper) as pid:
        wait_for(port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(requests):
            connection.request("GET", FEED, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status not in (200, 304):
                raise BenchError(f"nginx on {port} answered {response.status}")
        connection.close()
        _stop(pid, port)
    found = re.search(r"I\s+refs:\s+([\d,]+)", log.read_text())
    if found is None or not out.exists():
        raise BenchError(f"no instruction count in {log}:\n{log.read_text()[-2000:]}")
    return _by_function(out), int(found.group(1).replace(",", ""))


def _stop(pid: int, port: int, timeout: float = 60.0) -> None:
    """nginx (under valgrind, one process) asked to stop, and woken until it has: valgrind
    delivers a signal at its own moments, and one that comes as nginx goes back to waiting for
    events, with no timer set, left it waiting for good (four runs in ten), killed later
    without its count. A connection ends the wait; nginx then sees that it must stop."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        time.sleep(0.2)


def _by_function(out: Path) -> dict[str, int]:
    """A cachegrind output file's instructions by function (``fn=`` lines, then one line per
    source line: its number and its count), whatever file each function's lines came from."""
    counts: dict[str, int] = {}
    function = ""
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith("fn="):
            function = line[3:]
        elif line[:1].isdigit():
            fields = line.split()
            if len(fields) >= 2:
                counts[function] = counts.get(function, 0) + int(fields[1])
    return counts


def count_instructions(
    alone: dict[str, str],
    ports: dict[str, int],
    etags: dict[str, str],
    tmp: Path,
    count: int,
    *,
    extra: dict[str, str],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]]]:
    """kind -> server -> nginx's user-space instructions per request (``alone``: name -> the
    http block's servers that serve it alone), and each server's count over the copy's; and
    kind -> server -> the functions whose instructions per request differ most from the
    copy's (by at least 10), each with that difference."""
    found: dict[str, dict[str, float]] = {"200": {}, "304": {}}
    functions: dict[str, dict[str, dict[str, float]]] = {"200": {}, "304": {}}
    for kind, counts in found.items():
        by_function = {}
        for name, port in ports.items():
            config = alone[name]
            sent = {"If-None-Match": etags[name]} if kind == "304" else {}
            result = instructions_per_request(
                config, tmp, port, {"Accept-Encoding": "identity", **sent, **extra}, count
            )
            counts[name], by_function[name] = result.total, result.functions
            print(f"{kind}: {name:16} {counts[name]:8.0f} instructions per request", flush=True)
        copy = by_function["copy"]
        for name, own in by_function.items():
            if name == "copy":
                continue
            differences = {f: own.get(f, 0) - copy.get(f, 0) for f in set(own) | set(copy)}
            largest = sorted(differences.items(), key=lambda item: -abs(item[1]))
            functions[kind][name] = {f: round(d) for f, d in largest if abs(d) >= 10}
    for counts in found.values():
        for name in list(counts):
            if name != "copy":
                counts[f"{name}_over_copy"] = counts[name] / counts["copy"]
    return found, functions


def wait_for(port: int, timeout: float = 60.0) -> None:
    """Until nginx (slow under valgrind) accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            get(port, "/")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise BenchError(f"nginx did not answer on {port}") from None
            time.sleep(0.2)


def write_variant(out: Path, variant: str, tmp: Path, ports: tuple[int, int]) -> Path:
    """A folder holding ``nginx/feedsvc.conf``: the export's own (listening on ``ports[0]``),
    changed by ``variant``, listening on ``ports[1]``."""
    generated = (out / "nginx" / "feedsvc.conf").read_text()
    changed = VARIANTS[variant](generated)
    if changed == generated:
        raise BenchError(f"variant {variant} changed nothing in the configuration")
    folder = tmp / f"variant-{variant}"
    (folder / "nginx").mkdir(parents=True)
    (folder / "nginx" / "feedsvc.conf").write_text(
        changed.replace(f"127.0.0.1:{ports[0]};", f"127.0.0.1:{ports[1]};")
    )
    return folder


def summarise(
    rates: dict[str, dict[str, list[float]]], cpu_us: dict[str, dict[str, list[float]]]
) -> dict[str, dict[str, object]]:
    """Per kind (200, 304): each server's median over the copy's, and export/copy per round;
    nginx's CPU per request, median, and the copy's over each server's (the rate nginx could
    serve, relative to the copy, were it alone on the machine)."""
    summary: dict[str, dict[str, object]] = {}
    for kind, by_name in rates.items():
        cpu = cpu_us[kind]
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
            # Each server over the copy measured seconds apart in the same round.
            "over_copy_per_round": {
                name: [r / c for r, c in zip(rates_, by_name["copy"], strict=True)]
                for name, rates_ in by_name.items()
                if name != "copy"
            },
        }
        summary[kind]["cpu_us_per_request_median"] = {
            name: statistics.median(values) for name, values in cpu.items()
        }
        summary[kind]["copy_cpu_over_cpu_per_round"] = {
            name: [c / v for v, c in zip(values, cpu["copy"], strict=True)]
            for name, values in cpu.items()
            if name != "copy"
        }
        for name, rates_ in by_name.items():
            each = [r / c for r, c in zip(rates_, by_name["copy"], strict=True)]
            by_cpu = [c / v for v, c in zip(cpu[name], cpu["copy"], strict=True)]
            print(
                f"{kind}: {name:16} {statistics.median(rates_):8.0f} req/s, over copy: median "
                f"{statistics.median(each):.3f} [{min(each):.3f}-{max(each):.3f}]; "
                f"{statistics.median(cpu[name]):5.1f} µs CPU, copy's over it: median "
                f"{statistics.median(by_cpu):.3f} [{min(by_cpu):.3f}-{max(by_cpu):.3f}]"
            )
        print(
            f"{kind}: export {export_median:.0f} req/s, copy {copy_median:.0f} req/s: "
            f"{export_median / copy_median:.3f}x (rounds {min(ratios):.3f}-{max(ratios):.3f})"
        )
    return summary


def exported(
    content: Path, tmp: Path, port: int, baseline: str | None
) -> dict[str, tuple[Path, Path, int]]:
    """``content`` exported by this tree (listening on ``port``) and by ``baseline``'s: name ->
    (source tree, export folder, port)."""
    trees = {"export": (REPO, tmp / "export", port)}
    if baseline:
        base = tmp / "baseline"
        extract_revision(baseline, base)
        trees["baseline"] = (base, tmp / "export-baseline", free_port())
    for tree, folder, listen in trees.values():
        env = environment_without_settings(PYTHONPATH=str(tree))
        command = ["-m", "feedsvc", "export", str(folder), "--content", str(content)]
        command += ["--listen", f"127.0.0.1:{listen}"]
        subprocess.run(
            [sys.executable, *command], cwd=tree, env=env, check=True, capture_output=True
        )
    return trees


def servers_of(
    trees: dict[str, tuple[Path, Path, int]], copy: Path, copy_port: int, *, tuned_copy: bool
) -> tuple[dict[str, str], dict[str, int]]:
    """name -> the servers of an http block that serve it alone, and name -> port. One nginx
    per configuration (they define the same map variables), and one for the copies: a plain
    copy is served by an nginx that knows nothing of the export."""
    alone = {name: f"  include {f / 'nginx/feedsvc.conf'};\n" for name, (_, f, _) in trees.items()}
    alone["copy"] = f"  server {{ listen 127.0.0.1:{copy_port}; root {copy}; }}\n"
    ports = {name: port for name, (_, _, port) in trees.items()} | {"copy": copy_port}
    if tuned_copy:
        ports["copy-tuned"] = free_port()
        alone["copy-tuned"] = (
            f"  server {{ listen 127.0.0.1:{ports['copy-tuned']}; root {copy}; {TUNED_COPY} }}\n"
        )
    return alone, ports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--variants",
        default="",
        help=f"comma-separated, of: {', '.join(VARIANTS)}",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also serve the export of this git revision (its configuration), in the same turns",
    )
    parser.add_argument(
        "--accept",
        default="",
        metavar="VALUE",
        help="an Accept header every request sends (a feed reader's, say); default none",
    )
    parser.add_argument(
        "--tuned-copy",
        action="store_true",
        help=f"also serve the copy from a server with {TUNED_COPY!r}",
    )
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="N",
        help="also count nginx's instructions per request under valgrind, over N requests",
    )
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"--variants: unknown {', '.join(sorted(unknown))}")
    commit = short_commit()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="nginx-bench-") as tmp_name:
        tmp = Path(tmp_name)
        content, out, copy = tmp / "content", tmp / "export", tmp / "plain"
        generate(content, args.n)
        export_port, copy_port = free_port(), free_port()
        trees = exported(content, tmp, export_port, args.baseline)
        for variant in variants:
            port = free_port()
            trees[variant] = (REPO, write_variant(out, variant, tmp, (export_port, port)), port)
        (copy / "feeds").mkdir(parents=True)
        shutil.copy2(out / "public" / FEED.lstrip("/"), copy / FEED.lstrip("/"))
        alone, ports = servers_of(trees, copy, copy_port, tuned_copy=args.tuned_copy)
        copies = [name for name in ports if name.startswith("copy")]
        configs = [alone[name] for name in trees] + ["".join(alone[name] for name in copies)]
        kinds = {"200": {"Accept-Encoding": "identity"}, "304": {}}
        extra = {"Accept": args.accept} if args.accept else {}
        rates: dict[str, dict[str, list[float]]] = {
            kind: {name: [] for name in ports} for kind in kinds
        }
        cpu_us: dict[str, dict[str, list[float]]] = {
            kind: {name: [] for name in ports} for kind in kinds
        }
        with contextlib.ExitStack() as stack:
            pids = [stack.enter_context(nginx(tmp, servers)) for servers in configs]
            # The copies are served by the last nginx.
            by_name = dict(zip(trees, pids[:-1], strict=True)) | dict.fromkeys(copies, pids[-1])
            time.sleep(1)
            for name, port in ports.items():
                if get(port, FEED)[1] != (out / "public" / FEED.lstrip("/")).read_bytes():
                    raise BenchError(f"nginx ({name}) does not serve the exported feed")
            etags = {name: etag_of(port) for name, port in ports.items()}
            heads = {name: response_heads(port, etags[name], extra) for name, port in ports.items()}
            memory = {name: memory_kb(pid) for name, pid in zip(trees, pids, strict=False)}
            # A feed's own location is the one location that tests the URL as sent.
            feed_locations = {
                name: (folder / "nginx" / "feedsvc.conf").read_text().count("$request_uri != ")
                for name, (_, folder, _) in trees.items()
            }
            for port in ports.values():  # warm-up
                wrk(port, kinds["200"], 1)
            servers = {name: (port, by_name[name]) for name, port in ports.items()}
            measure(
                servers,
                etags,
                rates=rates,
                cpu_us=cpu_us,
                rounds=args.rounds,
                duration=args.duration,
                extra=extra,
            )
        instructions, functions = (
            count_instructions(alone, ports, etags, tmp, args.instructions, extra=extra)
            if args.instructions
            else ({}, {})
        )
    summary = summarise(rates, cpu_us)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = REPO / "bench" / "results" / f"nginx-static-{commit}-{stamp}.json"
    write_results(
        path,
        {
            "commit": commit,
            "articles": args.n,
            "variants": variants,
            "tuned_copy": TUNED_COPY if args.tuned_copy else None,
            "copy_in_own_nginx": True,
            "accept": args.accept,
            "rounds": args.rounds,
            "duration_s": args.duration,
            "load_before": load_before,
            "load_after": os.getloadavg(),
            "rates": rates,
            "nginx_cpu_us_per_request": cpu_us,
            "nginx_instructions_per_request": instructions,
            # kind -> server -> function -> its instructions per request less the copy's.
            "nginx_functions_over_copy": functions,
            # Each configuration's nginx (not the copies'), after its first requests.
            "nginx_memory_kb": memory,
            "feed_locations": feed_locations,
            # What each server answers (status and headers but Date): the copy has no types
            # (text/plain) and none of the headers a feed carries.
            "response_heads": heads,
            "instructions_over_requests": args.instructions,
            "summary": summary,
        },
    )
    return 0


if __name__ == "__main__":
    run_main(main)

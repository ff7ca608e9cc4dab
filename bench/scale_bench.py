"""Scale benchmark: how feedsvc grows with its content, from 100 to 100,000 articles.

Prints figures; it is not a test. Everything is measured in one run, on this machine, against
baselines measured in the same run:

1. **Load**: time to ready-to-serve (the app built and its first ``/feeds/all.rss`` answered)
   and peak RSS (``VmHWM``), at 1,000, 10,000 and 100,000 articles, each in a fresh process,
   beside a baseline process that only reads the same files and splits them into lines and
   paragraphs. Imports are timed apart: they do not grow with the content.
2. **Request rate**: ``wrk`` on ``/feeds/all.rss`` and on a three-level category feed, against
   gunicorn started as the README does (``gunicorn -c gunicorn.conf.py wsgi:app``), at 100 and
   at 100,000 articles.
3. **Change latency**: at 100,000 articles, one article file is edited ten times, each saved by
   rename (a hidden temporary file renamed over it, as editors save); the time until gunicorn
   serves the change (in every answer) and until ``export --watch`` has written it. ``--parts
   change`` measures the served side only; ``export`` or ``static`` add ``export --watch``.
4. **Static path**: nginx serving the export with the generated configuration, against nginx
   serving a plain copy of the same feed file.
5. **Reload** (``--parts reload``): at 100,000 articles, in fresh processes loaded as
   ``feedsvc/wsgi.py`` does, one article file is edited and the runtime reloads it as the watcher
   asks (only the changed path), then renders ``/feeds/all.rss``; and a full rescan. With the
   heap frozen after loading (``freeze_heap``, as ``wsgi.py`` does) against the baseline of the
   same without it, in alternating processes; the garbage collector stays on in both (nothing
   switches it off around a reload), and the time it spent in collections is measured too.
   Also, in a process forked after loading (as a gunicorn worker is), how much of the memory
   it shares with its parent becomes its own in one full collection.

Targets (from the issue): load at 10,000 within 5x the baseline; at 100,000 ready in under 30 s
with peak RSS under 1.5 GB; request rates at 100,000 at least 0.9x those at 100; a change served
and exported within 1 s; the export served at least 0.9x as fast as the plain copy.

Usage::

    .venv/bin/python bench/scale_bench.py [--sizes 1000,10000,100000] [--large 100000]
        [--duration 10] [--parts load,requests,change,static,reload] [--rounds 3] [--json FILE]

Corpora are generated once under /tmp (``bench/corpus.py``) and reused. Needs ``wrk`` and
``nginx`` (Debian packages ``wrk``, ``nginx``, ``libnginx-mod-http-brotli-static``). The full
run takes about 20 minutes, most of it the first export of 100,000 articles.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]
import corpus  # noqa: E402
from benchlib import (  # noqa: E402
    BenchError,
    answering,
    child_result,
    environment_without_settings,
    find_tool,
    first_feed,
    free_port,
    nginx_conf,
    run_main,
    terminated_at_exit,
)

GUNICORN = Path(sys.executable).with_name("gunicorn")
CORPUS_ROOT = Path(tempfile.gettempdir())
SEED = 1
EDITS = 10
SMALL = 100
TARGET_LOAD_RATIO = 5.0
TARGET_READY_S = 30.0
TARGET_RSS_MB = 1536.0
TARGET_RATE_RATIO = 0.9
TARGET_CHANGE_S = 1.0
TARGET_STATIC_RATIO = 0.9


@dataclass
class Results:
    machine: dict[str, str] = field(default_factory=dict)
    load: list[dict[str, float]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    change: dict[str, Any] = field(default_factory=dict)
    static: dict[str, float] = field(default_factory=dict)
    reload: dict[str, Any] = field(default_factory=dict)


# -- the child processes: one measurement each ------------------------------------------------


def own_figure_mb(path: str, name: str) -> float:
    """A figure of this process that ``path`` (in /proc/self) gives in kB, in MB."""
    with open(path, encoding="ascii") as figures:
        for line in figures:
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) / 1024
    raise BenchError(f"no {name} in {path}")


def vm_hwm_mb() -> float:
    return own_figure_mb("/proc/self/status", "VmHWM")


def child_baseline(folder: Path) -> dict[str, float]:
    """Read every article file and split it into lines and paragraphs: the least any loader does."""
    started = time.perf_counter()
    lines = paragraphs = 0
    for directory, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".txt"):
                with open(os.path.join(directory, name), "rb") as handle:
                    text = handle.read().decode("utf-8-sig")
                lines += len(text.splitlines())
                paragraphs += len(text.split("\n\n"))
    return {"seconds": time.perf_counter() - started, "rss_mb": vm_hwm_mb(), "lines": lines}


def child_load(folder: Path) -> dict[str, float]:
    """Build the app as wsgi.py does and answer the first request for the all-feed."""
    _, timings = first_feed(folder)
    return {
        **timings,
        "rss_mb": vm_hwm_mb(),
    }


def run_child(kind: str, folder: Path) -> dict[str, Any]:
    return child_result(__file__, kind, folder)


# -- 1. load ------------------------------------------------------------------------------------


def measure_load(sizes: list[int], results: Results) -> None:
    print("\n== load: ready to serve, and peak RSS (fresh process each)")
    for size in sizes:
        folder = corpus_folder(size)
        repeats = 3 if size <= 10_000 else 1
        run_child("baseline", folder)  # warms the page cache for both
        baselines, loads = [], []
        for _ in range(repeats):
            baselines.append(run_child("baseline", folder))
            loads.append(run_child("load", folder))
        # The least of the repeats: other work on the machine only ever adds time.
        base = min(baselines, key=lambda r: r["seconds"])
        load = min(loads, key=lambda r: r["seconds"])
        row = {
            "articles": size,
            "baseline_s": base["seconds"],
            "baseline_rss_mb": base["rss_mb"],
            "ready_s": load["seconds"],
            "build_s": load["build_s"],
            "first_request_s": load["first_request_s"],
            "cpu_s": load["cpu_s"],
            "import_s": load["import_s"],
            "rss_mb": load["rss_mb"],
            "ratio": load["seconds"] / base["seconds"],
        }
        results.load.append(row)
        print(
            f"  {size:>7} articles: ready {row['ready_s']:6.2f} s (build {row['build_s']:.2f}, "
            f"first request {row['first_request_s']:.2f}; imports {row['import_s']:.2f} apart), "
            f"baseline {row['baseline_s']:.2f} s -> {row['ratio']:.1f}x; peak RSS "
            f"{row['rss_mb']:.0f} MB (baseline {row['baseline_rss_mb']:.0f} MB)"
        )


# -- servers ------------------------------------------------------------------------------------


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextlib.contextmanager
def gunicorn(folder: Path, tmp: Path) -> Iterator[int]:
    """gunicorn as the README starts it, on ``folder``, with watching on (the default)."""
    port = free_port()
    env = {
        **environment_without_settings(),
        "FEEDSVC_CONTENT_DIR": str(folder),
        "FEEDSVC_BIND": f"127.0.0.1:{port}",
    }
    command = [str(GUNICORN), "-c", "gunicorn.conf.py"]
    # gunicorn >= 25 keeps a per-user control socket; a private one leaves others' alone.
    command += ["--control-socket", str(tmp / f"gunicorn-{port}.ctl"), "wsgi:app"]
    with (tmp / f"gunicorn-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        with terminated_at_exit(process):
            if not answering(lambda: get(port, "/feeds/all.rss"), process, 300):
                raise BenchError(f"gunicorn did not start on port {port}")
            yield port


@contextlib.contextmanager
def nginx(
    tmp: Path, servers: str, wrapper: Sequence[str] = (), *, pcre_jit: bool = True
) -> Iterator[int]:
    """nginx with ``servers`` (server blocks, or includes) in its http block; yields its
    master's process id. With a ``wrapper`` command (valgrind), one process without a master,
    stopped with SIGTERM, after which it exits as nginx does. ``pcre_jit``: off is Debian's
    default."""
    binary = find_tool("nginx", "nginx")
    run = Path(tempfile.mkdtemp(dir=tmp, prefix="nginx-"))
    processes = "worker_processes 1;\nmaster_process off;" if wrapper else "worker_processes auto;"
    (run / "nginx.conf").write_text(
        nginx_conf(
            run,
            f"{processes}\npcre_jit {'on' if pcre_jit else 'off'};",
            f"  sendfile on;\n  tcp_nopush on;\n{servers}",
        )
    )
    process = subprocess.Popen(
        [
            *wrapper,
            *(binary, "-p", str(run), "-c", str(run / "nginx.conf")),
            *("-e", str(run / "error.log"), "-g", "daemon off;"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with terminated_at_exit(process, timeout=120):
        time.sleep(0.5)
        if process.poll() is not None:
            raise BenchError(f"nginx did not start: {(run / 'error.log').read_text()}")
        yield process.pid


def wrk(port: int, path: str, duration: int, connections: int = 32) -> float:
    """Requests per second for ``path`` (after a short warm-up), failing on any error."""
    tool = find_tool("wrk", "wrk")
    url = f"http://127.0.0.1:{port}{path}"
    subprocess.run([tool, "-t2", "-c8", "-d2s", url], capture_output=True, check=True)
    done = subprocess.run(
        [tool, "-t2", f"-c{connections}", f"-d{duration}s", url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise BenchError(f"wrk saw errors on {path}:\n{done.stdout}")
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.MULTILINE)
    if rate is None:
        raise BenchError(f"cannot read wrk's output:\n{done.stdout}")
    return float(rate.group(1))


# -- 2. request rate ----------------------------------------------------------------------------


def category_counts(folder: Path) -> dict[str, int]:
    """Articles per three-level category path (as written) in ``folder``."""
    counts: dict[str, int] = {}
    for path in folder.rglob("*.txt"):
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        category = lines[2] if lines[0].lower().startswith("bijgewerkt") else lines[1]
        if category.count("->") == 2:
            counts[category] = counts.get(category, 0) + 1
    if not counts:
        raise BenchError(f"no three-level category in {folder}")
    return counts


def deep_categories(small: Path, large: Path) -> tuple[str, str]:
    """A three-level category feed in each corpus with the same number of articles (the most
    the small corpus has in one), so both answers are of about the same size."""
    from feedsvc.articles.model import slugify  # noqa: PLC0415

    small_counts, large_counts = category_counts(small), category_counts(large)
    wanted = max(small_counts.values())
    chosen = []
    for counts in (small_counts, large_counts):
        best = min(sorted(counts), key=lambda c: (abs(counts[c] - wanted), c))
        slugs = "/".join(slugify(name.strip()) for name in best.split("->"))
        chosen.append(f"/feeds/categorie/{slugs}.rss")
    return chosen[0], chosen[1]


def measure_requests(large: int, duration: int, results: Results, tmp: Path) -> None:
    print(f"\n== request rate: gunicorn as the README starts it, at {SMALL} and {large} articles")
    small_folder, large_folder = corpus_folder(SMALL), corpus_folder(large)
    small_deep, large_deep = deep_categories(small_folder, large_folder)
    cases = {"all": "/feeds/all.rss", "deep category": None}
    rates: dict[tuple[int, str], float] = {}
    sizes: dict[tuple[int, str], int] = {}
    paths: dict[tuple[int, str], str] = {}
    # Both servers run at once and are measured in turns, three rounds, the best of each
    # kept: other work on the machine only ever slows a measurement down, and it should not
    # fall on one corpus more than on the other.
    with gunicorn(small_folder, tmp) as small_port, gunicorn(large_folder, tmp) as large_port:
        servers = ((SMALL, small_port, small_deep), (large, large_port, large_deep))
        for _ in range(3):
            for size, port, deep in servers:
                for case, fixed in cases.items():
                    path = fixed or deep
                    status, body = get(port, path)
                    if status != 200:
                        raise BenchError(f"{path} at {size} articles answered {status}")
                    rate = wrk(port, path, duration)
                    rates[size, case] = max(rate, rates.get((size, case), 0.0))
                    sizes[size, case], paths[size, case] = len(body), path
                    print(
                        f"  {size:>7} articles {path}: {rate:8.0f} req/s "
                        f"({len(body) / 1024:.0f} KiB)"
                    )
    for case in cases:
        results.requests.append(
            {
                "case": case,
                "path": paths[large, case],
                "small_path": paths[SMALL, case],
                "small": SMALL,
                "large": large,
                "small_rps": rates[SMALL, case],
                "large_rps": rates[large, case],
                "small_bytes": sizes[SMALL, case],
                "large_bytes": sizes[large, case],
                "ratio": rates[large, case] / rates[SMALL, case],
            }
        )


# -- 3. change latency and 4. static path --------------------------------------------------------


def newest_article(port: int) -> str:
    status, body = get(port, "/feeds/all.json")
    if status != 200:
        raise BenchError(f"/feeds/all.json answered {status}")
    url: str = json.loads(body)["items"][0]["url"]
    return url.split("/artikelen/", 1)[1].removesuffix(".html")


def wait_watch_established(port: int, workers: int = 2, deadline_s: float = 300) -> None:
    """Until /healthz has said, from ``workers`` distinct workers, that their watch is in
    place, and the last 20 answers all say so."""
    pids: set[int] = set()
    streak = 0
    give_up = time.monotonic() + deadline_s
    while len(pids) < workers or streak < 20:
        if time.monotonic() > give_up:
            raise BenchError(f"the workers' watches were not in place within {deadline_s} s")
        status, body = get(port, "/healthz")
        health = json.loads(body) if status in (200, 503) else {}
        if health.get("watch_established"):
            pids.add(int(health["pid"]))
            streak += 1
        else:
            streak = 0
            time.sleep(0.05)


def export_watch(folder: Path, out: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "FEEDSVC_CONTENT_DIR": str(folder)}
    process = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "export", str(out), "--watch", "--listen", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:  # the first, full export, then "watching ..."
        print(f"  export: {line.rstrip()}")
        if line.startswith("watching "):
            return process
    raise BenchError("export --watch stopped before watching")


def save_by_rename(path: Path, data: bytes) -> None:
    """Save as editors and their tools do: a hidden temporary file, renamed over the article."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def wait_for_edit(
    port: int, feed_file: Path | None, marker: bytes, written: float
) -> tuple[float, float]:
    """Seconds from ``written`` until every worker serves ``marker`` and (unless ``feed_file``
    is None) until the export has written it."""
    served_s: float | None = None
    exported_s: float | None = None if feed_file is not None else 0.0
    streak = 0
    while served_s is None or exported_s is None:
        now = time.perf_counter() - written
        if now > 30:
            raise BenchError(f"{marker!r} not seen within 30 s")
        if served_s is None:
            # Every worker: a few answers in a row must all have it.
            streak = streak + 1 if marker in get(port, "/feeds/all.rss")[1] else 0
            if streak == 4:
                served_s = now
        if exported_s is None and feed_file is not None and marker in feed_file.read_bytes():
            exported_s = now
        time.sleep(0.005)
    return served_s, exported_s


def measure_change_and_static(
    large: int, duration: int, results: Results, tmp: Path, *, export: bool = True
) -> None:
    """Change latency (served, and exported when ``export``), then the static path."""
    folder = corpus_folder(large)
    out = tmp / "export"
    nginx_port, copy_port = free_port(), free_port()
    shape = corpus.CorpusShape.of(large, SEED)
    with gunicorn(folder, tmp) as port:
        # Every worker watches from its start (gunicorn's post_worker_init hook); answering
        # once each warms them up as on a site in use.
        wrk(port, "/feeds/all.rss", 2)
        article_id = newest_article(port)
        index = int(article_id.rsplit("/", 1)[1].split("_", 1)[0])
        path = folder / f"{article_id}.txt"
        print(f"\n== change latency at {large} articles: editing {path.name}")
        watcher = None
        if export:
            started = time.perf_counter()
            watcher = export_watch(folder, out, nginx_port)
            results.change["first_export_s"] = time.perf_counter() - started
        # Each worker rescans the folder once more when its watches are in place; an edit
        # made before that waits for the rescan, which is start-up, not change latency.
        wait_watch_established(port)
        served, exported = [], []
        try:
            for revision in range(1, EDITS + 1):
                marker = f"[Aangepast, versie {revision}]".encode()
                data = corpus.article_file(index, shape, SEED, revision=revision).data
                written = time.perf_counter()
                save_by_rename(path, data)
                feed_file = out / "public/feeds/all.rss" if export else None
                served_s, exported_s = wait_for_edit(port, feed_file, marker, written)
                served.append(served_s)
                exported.append(exported_s)
                print(
                    f"  edit {revision}: served after {served_s:.3f} s"
                    + (f", exported after {exported_s:.3f} s" if export else "")
                )
                time.sleep(1)
        finally:
            save_by_rename(path, corpus.article_file(index, shape, SEED).data)
            time.sleep(1)
            if watcher is not None:
                watcher.send_signal(signal.SIGTERM)
                watcher.wait(timeout=30)
                assert watcher.stdout is not None
                for line in watcher.stdout:
                    print(f"  export: {line.rstrip()}")
                watcher.stdout.close()
        results.change.update({"articles": large, "served_s": served})
        if export:
            results.change["exported_s"] = exported
    if export:
        measure_static(out, (nginx_port, copy_port), duration, results, tmp)


def measure_static(
    out: Path, ports: tuple[int, int], duration: int, results: Results, tmp: Path
) -> None:
    nginx_port, copy_port = ports
    print("\n== static path: nginx with the export's configuration vs a plain copy of the feed")
    copy = tmp / "plain"
    (copy / "feeds").mkdir(parents=True, exist_ok=True)
    shutil.copy2(out / "public/feeds/all.rss", copy / "feeds/all.rss")
    servers = (
        f"  include {out / 'nginx/feedsvc.conf'};\n"
        f"  server {{ listen 127.0.0.1:{copy_port}; root {copy}; }}"
    )
    with nginx(tmp, servers):
        for port in (nginx_port, copy_port):
            status, body = get(port, "/feeds/all.rss")
            if status != 200 or body != (out / "public/feeds/all.rss").read_bytes():
                raise BenchError(f"nginx on {port} does not serve the feed ({status})")
        # Taken in turns, the best of three each: other work on the machine only slows one down.
        export_rps = copy_rps = 0.0
        for _ in range(3):
            export_rps = max(export_rps, wrk(nginx_port, "/feeds/all.rss", duration))
            copy_rps = max(copy_rps, wrk(copy_port, "/feeds/all.rss", duration))
    results.static = {
        "export_rps": export_rps,
        "copy_rps": copy_rps,
        "ratio": export_rps / copy_rps,
        "bytes": (out / "public/feeds/all.rss").stat().st_size,
    }
    print(f"  export {export_rps:8.0f} req/s, plain copy {copy_rps:8.0f} req/s")


# -- 5. reload ----------------------------------------------------------------------------------

RELOAD_EDITS = 5
RELOAD_RESCANS = 2


class GcClock:
    """Time spent in the cyclic garbage collector, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1


def private_dirty_mb() -> float:
    """Memory this process has written to itself: what a forked worker does not share."""
    return own_figure_mb("/proc/self/smaps_rollup", "Private_Dirty")


def forked_full_collection() -> dict[str, float]:
    """In a forked child, as a gunicorn worker is: private memory before and after one full
    collection of the garbage collector (which any long-running worker meets sooner or later)."""
    import gc  # noqa: PLC0415

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without cleaning up the parent's state
        before = private_dirty_mb()
        started = time.perf_counter()
        gc.collect()
        seconds = time.perf_counter() - started
        report = {"before_mb": before, "after_mb": private_dirty_mb(), "collect_s": seconds}
        os.write(write_end, json.dumps(report).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    result: dict[str, float] = json.loads(data)
    return result


def child_reload(folder: Path, frozen: bool) -> dict[str, object]:
    """Load as wsgi.py does (``frozen``: with its ``freeze_heap``), then reload edits."""
    import gc  # noqa: PLC0415

    from feedsvc import create_app  # noqa: PLC0415
    from feedsvc.runtime import Runtime, freeze_heap  # noqa: PLC0415

    app = create_app({"CONTENT_DIR": str(folder), "WATCH": False})
    if frozen:
        freeze_heap()
    runtime: Runtime = app.extensions["feedsvc"]
    client = app.test_client()
    client.get("/feeds/all.rss")
    worker = forked_full_collection()
    shape = corpus.CorpusShape.of(int(json.loads((folder / corpus.MARKER).read_text())["n"]), SEED)
    # The newest article, so that the edit reaches the first page of every feed it is in.
    path = folder / f"{runtime.catalog.articles[0].id}.txt"
    index = int(path.name.split("_", 1)[0])
    original = corpus.article_file(index, shape, SEED).data
    clock = GcClock()
    gc.callbacks.append(clock)
    edits: list[dict[str, float]] = []
    rescans: list[dict[str, float]] = []
    try:
        for revision in range(1, RELOAD_EDITS + 1):
            path.write_bytes(corpus.article_file(index, shape, SEED, revision=revision).data)
            gc_before, started = clock.seconds, time.perf_counter()
            runtime.refresh({str(path)})
            reloaded = time.perf_counter()
            marker = f"[Aangepast, versie {revision}]".encode()
            response = client.get("/feeds/all.rss")
            served = time.perf_counter()
            if response.status_code != 200:
                raise BenchError(f"/feeds/all.rss answered {response.status_code}")
            if marker not in response.data:
                raise BenchError(f"revision {revision} is not in /feeds/all.rss")
            edits.append(
                {
                    "reload_s": reloaded - started,
                    "served_s": served - started,
                    "gc_s": clock.seconds - gc_before,
                }
            )
        for _ in range(RELOAD_RESCANS):
            gc_before, started = clock.seconds, time.perf_counter()
            runtime.refresh(None)
            rescans.append(
                {"reload_s": time.perf_counter() - started, "gc_s": clock.seconds - gc_before}
            )
    finally:
        path.write_bytes(original)
        gc.callbacks.remove(clock)
    return {
        "frozen": frozen,
        "edits": edits,
        "rescans": rescans,
        "collections": clock.collections,
        "forked_full_collection": worker,
    }


def measure_reload(large: int, rounds: int, results: Results) -> None:
    folder = corpus_folder(large)
    print(f"\n== reload at {large} articles: an edit and a full rescan, heap frozen or not")
    runs: dict[str, list[dict[str, Any]]] = {"frozen": [], "unfrozen": []}
    for round_ in range(rounds):
        for kind in ("frozen", "unfrozen"):  # alternating, so a busy moment hits both
            run = run_child(f"reload-{kind}", folder)
            runs[kind].append(run)
            edits = run["edits"]
            middle = statistics.median(e["served_s"] for e in edits)
            print(f"  round {round_ + 1}, {kind}: edit served in {middle:.3f} s (median)")
    summary: dict[str, Any] = {"articles": large, "rounds": rounds, "runs": runs}
    for kind, kind_runs in runs.items():
        for what, key in (("edit", "served_s"), ("edit_reload", "reload_s"), ("edit_gc", "gc_s")):
            # The first edit of a process pays for warming up; the rest are what a site sees.
            values = [e[key] for run in kind_runs for e in run["edits"][1:]]
            summary[f"{kind}_{what}_median_s"] = statistics.median(values)
            summary[f"{kind}_{what}_range_s"] = [min(values), max(values)]
        values = [r["reload_s"] for run in kind_runs for r in run["rescans"]]
        summary[f"{kind}_rescan_median_s"] = statistics.median(values)
        summary[f"{kind}_rescan_range_s"] = [min(values), max(values)]
        gained = [
            run["forked_full_collection"]["after_mb"] - run["forked_full_collection"]["before_mb"]
            for run in kind_runs
        ]
        summary[f"{kind}_worker_gc_unshared_mb_median"] = statistics.median(gained)
        summary[f"{kind}_worker_gc_unshared_mb_range"] = [min(gained), max(gained)]
    summary["edit_ratio"] = summary["frozen_edit_median_s"] / summary["unfrozen_edit_median_s"]
    results.reload = summary


# -- the table -----------------------------------------------------------------------------------


def corpus_folder(size: int) -> Path:
    # The format version in the name: a corpus of another version (another branch) is left alone.
    folder = CORPUS_ROOT / f"feedsvc-corpus-{size}-v{corpus.FORMAT_VERSION}"
    paths = corpus.generate(folder, size, SEED)
    if len(paths) != size:
        raise BenchError(f"{folder} holds {len(paths)} articles, not {size}")
    return folder


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_table(results: Results) -> None:
    print("\n== summary\n")
    print(
        f"machine: {results.machine['cpu']}, {results.machine['cores']} cores, "
        f"{results.machine['memory']}, Python {results.machine['python']}\n"
    )
    print("| measure | figure | baseline (same run) | ratio | target | |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in results.load:
        size = int(row["articles"])
        target = ""
        ok = True
        if size == 10_000:
            target, ok = f"<= {TARGET_LOAD_RATIO:.0f}x", row["ratio"] <= TARGET_LOAD_RATIO
        elif size >= 100_000:
            target = f"< {TARGET_READY_S:.0f} s, < {TARGET_RSS_MB / 1024:.1f} GB"
            ok = row["ready_s"] < TARGET_READY_S and row["rss_mb"] < TARGET_RSS_MB
        print(
            f"| ready to serve, {size:,} articles | {row['ready_s']:.2f} s, peak RSS "
            f"{row['rss_mb']:.0f} MB | read + split {row['baseline_s']:.2f} s | "
            f"{row['ratio']:.1f}x | {target} | {verdict(ok) if target else ''} |"
        )
    for case in results.requests:
        ratio = float(case["ratio"])
        print(
            f"| req/s {case['case']} ({case['path']}, {case['large_bytes'] / 1024:.0f} KiB), "
            f"{case['large']:,} articles | {case['large_rps']:.0f} | {case['small_rps']:.0f} at "
            f"{case['small']} articles ({case['small_bytes'] / 1024:.0f} KiB) | {ratio:.2f}x | "
            f">= {TARGET_RATE_RATIO}x | {verdict(ratio >= TARGET_RATE_RATIO)} |"
        )
    if results.change:
        articles = results.change["articles"]
        for what in ("served", "exported"):
            if f"{what}_s" not in results.change:
                continue
            times: list[float] = results.change[f"{what}_s"]
            middle, worst = statistics.median(times), max(times)
            print(
                f"| change {what}, {articles:,} articles (median of {len(times)}; worst "
                f"{worst:.2f} s) | {middle:.2f} s | | | worst <= {TARGET_CHANGE_S:.0f} s | "
                f"{verdict(worst <= TARGET_CHANGE_S)} |"
            )
    if results.reload:
        r = results.reload
        for kind in ("frozen", "unfrozen"):
            low, high = r[f"{kind}_edit_range_s"]
            print(
                f"| edit reloaded and served, {r['articles']:,} articles, heap {kind} | "
                f"{r[f'{kind}_edit_median_s']:.3f} s ({low:.3f}-{high:.3f}; in GC "
                f"{r[f'{kind}_edit_gc_median_s']:.3f} s) | | "
                f"{r['edit_ratio'] if kind == 'frozen' else 1.0:.2f}x | | |"
            )
            low, high = r[f"{kind}_rescan_range_s"]
            print(
                f"| full rescan, {r['articles']:,} articles, heap {kind} | "
                f"{r[f'{kind}_rescan_median_s']:.3f} s ({low:.3f}-{high:.3f}) | | | | |"
            )
            low, high = r[f"{kind}_worker_gc_unshared_mb_range"]
            print(
                f"| memory a forked worker stops sharing in one full collection, heap {kind} | "
                f"{r[f'{kind}_worker_gc_unshared_mb_median']:.0f} MB ({low:.0f}-{high:.0f}) "
                "| | | | |"
            )
    if results.static:
        ratio = results.static["ratio"]
        print(
            f"| req/s nginx on the export | {results.static['export_rps']:.0f} | "
            f"plain copy {results.static['copy_rps']:.0f} | {ratio:.2f}x | "
            f">= {TARGET_STATIC_RATIO}x | {verdict(ratio >= TARGET_STATIC_RATIO)} |"
        )


def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    return {
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": str(bool(_git("status", "--porcelain", "--untracked-files=no"))),
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        kind, folder = sys.argv[2], Path(sys.argv[3])
        result: dict[str, object]
        if kind == "baseline":
            result = dict(child_baseline(folder))
        elif kind.startswith("reload-"):
            result = child_reload(folder, frozen=kind == "reload-frozen")
        else:
            result = dict(child_load(folder))
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--parts", default="load,requests,change,static,reload")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of --parts reload"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    results = Results(machine=machine())
    with tempfile.TemporaryDirectory(prefix="feedsvc-scale-") as tmp:
        if "load" in parts:
            measure_load([int(s) for s in args.sizes.split(",")], results)
        if "requests" in parts:
            measure_requests(args.large, args.duration, results, Path(tmp))
        if parts & {"change", "export", "static"}:
            export = bool(parts & {"export", "static"})
            measure_change_and_static(args.large, args.duration, results, Path(tmp), export=export)
        if "reload" in parts:
            measure_reload(args.large, args.rounds, results)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(asdict(results), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    run_main(main)

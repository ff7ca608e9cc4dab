"""What the benchmark scripts share: their error type, finding a tool, a free loopback port, the
commit measured, a baseline revision's tree, a measuring child process, the time to a first feed,
an nginx configuration's frame, waiting for a server and stopping it, and running a script's
main."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not imported at run time: first_feed times feedsvc's imports itself
    from flask import Flask

REPO = Path(__file__).resolve().parent.parent
# Debian's libnginx-mod-http-brotli-static: serves the export's .br siblings when installed.
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")


class BenchError(Exception):
    """A benchmark cannot run or measure; the message says why."""


def run_main(main: Callable[[], int]) -> None:
    """Exit with ``main()``'s status; a :class:`BenchError` is one line on stderr and status 1."""
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


def find_tool(name: str, package: str) -> str:
    """The tool's path, looking in sbin too (nginx lives there); raises naming the package."""
    found = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    if found is None:
        raise BenchError(f"{name} not found: install the Debian package: apt-get install {package}")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def git_commit() -> str:
    """The checkout's commit, marked when feedsvc/ has changes not committed (not measured as
    that commit, then)."""
    repo = Path(__file__).resolve().parent.parent
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "feedsvc"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return head + ("+uncommitted changes in feedsvc/" if dirty else "")


def short_commit(revision: str = "HEAD", checkout: Path = REPO) -> str:
    """The abbreviated commit of ``revision`` in ``checkout``, as results files are named."""
    return subprocess.run(
        ["git", "rev-parse", "--short", revision],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def modified(checkout: Path) -> bool:
    """Whether ``checkout`` has tracked files changed since its commit (then it is not
    measured as that commit)."""
    return bool(
        subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )


def extract_revision(revision: str, folder: Path) -> None:
    """The committed tree of ``revision`` written into ``folder`` (made here): a baseline to run."""
    folder.mkdir()
    archive = subprocess.run(
        ["git", "archive", revision], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)


def child_result(script: str, kind: str, folder: Path) -> dict[str, Any]:
    """What ``script --child kind folder`` prints last (JSON), run in a fresh interpreter so
    each measurement starts cold."""
    done = subprocess.run(
        [sys.executable, script, "--child", kind, str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"child {kind} {folder} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def warm_page_cache(folder: Path) -> None:
    """Read every file of ``folder`` here, untimed, so that the next child process reads them
    from the page cache. Once before all runs was not enough on this machine: its kernel
    reclaims page cache that has not been read for a while (DAMON's kdamond), so a load_bench
    child at 100,000 articles found part of the corpus gone since the one before and read it
    from the disk, whose reads count as CPU time here. A read from the disk took 143 us of
    ``os.read`` per file, one from the cache 7 us (cProfile of ``create_app`` over the 100,000
    corpus, 2026-11-30), which made the ratio a measure of the cache, not of the code."""
    for directory, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            with open(os.path.join(directory, name), "rb") as handle:
                handle.read()


def first_feed(folder: Path) -> tuple[Flask, dict[str, float]]:
    """Build the app over ``folder`` as wsgi.py does and answer the first request for the
    all-feed: the app, and the seconds (and CPU seconds) each step took."""
    started = time.perf_counter()
    # Imported first and timed apart: what create_app imports does not grow with the content.
    import feedsvc.web.routes  # noqa: F401, PLC0415
    from feedsvc import create_app  # noqa: PLC0415

    imported = time.perf_counter()
    cpu = time.process_time()
    children = _children_cpu_s()
    app = create_app({"CONTENT_DIR": str(folder), "WATCH": False})
    built = time.perf_counter()
    response = app.test_client().get("/feeds/all.rss")
    if response.status_code != 200:
        raise BenchError(f"/feeds/all.rss answered {response.status_code}")
    ready = time.perf_counter()
    cpu_s = time.process_time() - cpu
    # A first load of many files shares them out with a forked child: its CPU time counts.
    children_cpu_s = _children_cpu_s() - children
    return app, {
        "import_s": imported - started,
        "build_s": built - imported,
        "first_request_s": ready - built,
        "seconds": ready - imported,
        "cpu_s": cpu_s + children_cpu_s,
        "process_cpu_s": cpu_s,
        "children_cpu_s": children_cpu_s,
        "children_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _children_cpu_s() -> float:
    """The CPU time of this process's children that have ended (and been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants, as /proc lists them now."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
    return found


def environment_without_settings(**variables: str) -> dict[str, str]:
    """This process's environment without its FEEDSVC_* settings, plus ``variables``: what a
    process a benchmark starts sees, whatever the shell that runs it has set."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return {**kept, **variables}


def run_driver(tree: Path, driver: str, *args: str) -> dict[str, Any]:
    """Run the Python ``driver`` over the package in ``tree`` with ``args``, outside this
    process's FEEDSVC_ settings; what it printed last, as JSON."""
    env = environment_without_settings(PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, "-c", driver, *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the driver in {tree} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def nginx_conf(run: Path, main: str, http: str) -> str:
    """An nginx.conf for an nginx that keeps its pid, error log and temporary files in ``run``:
    ``main`` in the main context, ``http`` in the http block (no access log), the brotli_static
    module when installed."""
    # As root, nginx's workers would run as nobody, who cannot read the benchmark's files.
    user = "user root;" if os.geteuid() == 0 else ""
    module = f"load_module {BROTLI_MODULE};" if BROTLI_MODULE.is_file() else ""
    temp = "\n".join(
        f"  {n}_temp_path {run / n};" for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}\n{module}\n{main}\npid {run / 'nginx.pid'};\n"
        f"error_log {run / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n  access_log off;\n{temp}\n{http}\n}}\n"
    )


def answering(ask: Callable[[], object], process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether a starting server answers: ``ask`` (one request to it) returns a true value
    before ``process`` exits and within ``timeout`` seconds. A refused or broken connection
    (not listening yet) is asked again."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if ask():
                return True
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def terminated_at_exit(
    process: subprocess.Popen[bytes], timeout: float = 30
) -> Iterator[subprocess.Popen[bytes]]:
    """``process`` for the block, then terminated and waited for, however the block ends;
    killed if it has not ended ``timeout`` seconds after being asked to."""
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def corpus_and_trees(
    tmp: Path, corpus: Path | None, articles: int, baseline: str
) -> tuple[Path, dict[str, Path]]:
    """The corpus of ``articles`` (kept in ``corpus`` if given, else under ``tmp``), and the
    two trees a bench alternates between: ``baseline`` extracted under ``tmp``, and this one."""
    from corpus import generate  # noqa: PLC0415 - only the benches that compare trees need it

    content = corpus or tmp / "content"
    generate(content, articles)
    base = tmp / "baseline"
    extract_revision(baseline, base)
    return content, {"baseline": base, "branch": REPO}


def write_results(out: Path, results: dict[str, Any]) -> None:
    """Save ``results`` as JSON at ``out`` and say where (relative to the repository)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nraw results: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")

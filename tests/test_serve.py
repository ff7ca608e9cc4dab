"""feedsvc as operators run it: gunicorn with feedsvc's settings, its server hooks and error log,
and ``feedsvc serve`` and ``feedsvc check`` from a wheel installed into a fresh virtualenv."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import venv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import feedparser
import pytest
from conftest import (
    BUNDLED_CONTENT,
    REPO,
    ArticleWriter,
    environment_without_settings,
    free_port,
)
from gunicornlib import GUNICORN

# gunicorn's error log format: "[2026-11-30 07:01:02 +0000] [1234] [INFO] message".
LOG_LINE = re.compile(r"\[(?P<time>[^]]+)\] \[(?P<pid>\d+)\] \[(?P<level>[A-Z]+)\] (?P<message>.*)")
LOG_TIME = "%Y-%m-%d %H:%M:%S %z"
DEADLINE = 60.0  # seconds; generous, the machine may be busy
SEED_TITLE = "Mark Rutte over de troepeninzet van de DPRK in Rusland"


def environment(**variables: str) -> dict[str, str]:
    """This environment without FEEDSVC_* settings or PYTHONPATH, plus ``variables``."""
    kept = environment_without_settings()
    kept.pop("PYTHONPATH", None)
    return {**kept, **variables}


def wait_for(
    condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"not within {DEADLINE:.0f} s: {what}")
        time.sleep(0.1)


@contextmanager
def running(
    command: list[str], cwd: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_records(path: Path) -> list[dict[str, str]]:
    """The error log's lines as records; a line that is not one fails the test."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text("utf-8").splitlines():
        match = LOG_LINE.fullmatch(line)
        assert match, f"not a log line with a time stamp and level: {line!r}"
        datetime.strptime(match["time"], LOG_TIME)  # a real time stamp
        records.append(match.groupdict())
    return records


def fetch(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body: bytes = response.read()
            return body
    except OSError:
        return None


# -- gunicorn's server hooks and error log --------------------------------------------------------


def test_workers_watch_from_their_start_and_log_to_the_error_log(
    content_dir: Path, write_article: ArticleWriter, tmp_path: Path
) -> None:
    """No request is made until the end: each worker watches because it started, and feedsvc's
    warnings and INFO lines are in gunicorn's error log, with time stamps."""
    write_article("a.txt", title="Eerste bericht")
    port = free_port()
    error_log, access_log = tmp_path / "error.log", tmp_path / "access.log"
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--error-logfile", str(error_log)]
    command += ["--access-logfile", str(access_log), "wsgi:app"]
    env = environment(
        FEEDSVC_CONTENT_DIR=str(content_dir),
        FEEDSVC_BIND=f"127.0.0.1:{port}",
        FEEDSVC_WORKERS="2",
        FEEDSVC_LOG_LEVEL="INFO",
    )
    with running(command, REPO, env) as process:

        def watching() -> set[str]:
            return {
                record["pid"]
                for record in log_records(error_log)
                if record["level"] == "INFO" and record["message"].startswith("watching ")
            }

        wait_for(lambda: len(watching()) == 2, "both workers log that they watch", process)
        workers = watching()
        write_article("kapot.txt", b"")  # rejected: a warning
        write_article("b.txt", title="Tweede bericht", published="13-03-2025")

        def logged(level: str, fragment: str) -> set[str]:
            return {
                record["pid"]
                for record in log_records(error_log)
                if record["level"] == level and fragment in record["message"]
            }

        wait_for(
            lambda: (
                logged("WARNING", "kapot.txt:1: the file is empty") >= workers
                and logged("INFO", "content changed") >= workers
            ),
            "every worker logs the broken file and the change",
            process,
        )
        assert access_log.read_text("utf-8") == ""  # nothing was asked of the server yet
        body = fetch(f"http://127.0.0.1:{port}/feeds/all.rss")
    assert body is not None
    titles = [entry.title for entry in feedparser.parse(body).entries]
    assert titles == ["Tweede bericht", "Eerste bericht"]


def test_feedsvc_log_level_silences_info_lines(
    content_dir: Path, write_article: ArticleWriter, tmp_path: Path
) -> None:
    write_article("a.txt")
    write_article("kapot.txt", b"")
    port = free_port()
    error_log = tmp_path / "error.log"
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--error-logfile", str(error_log)]
    command += ["--access-logfile", "/dev/null", "wsgi:app"]
    env = environment(
        FEEDSVC_CONTENT_DIR=str(content_dir),
        FEEDSVC_BIND=f"127.0.0.1:{port}",
        FEEDSVC_WORKERS="1",
        FEEDSVC_LOG_LEVEL="WARNING",
    )
    with running(command, REPO, env) as process:
        wait_for(lambda: fetch(f"http://127.0.0.1:{port}/healthz") is not None, "up", process)
    messages = [(r["level"], r["message"]) for r in log_records(error_log)]
    assert ("WARNING", "kapot.txt:1: the file is empty") in messages
    assert not [m for level, m in messages if m.startswith("watching ")]  # INFO, so not shown


# -- installed from a wheel ------------------------------------------------------------------------

# What a build needs from the checkout (what a fresh clone has), copied so that the build's
# by-products (build/, *.egg-info) do not land in the checkout.
BUILD_INPUTS = ("pyproject.toml", "MANIFEST.in", "README.md", "requirements.txt")


def test_every_package_is_listed_for_the_wheel() -> None:
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    packages = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "feedsvc").rglob("__init__.py")
    }
    assert listed == packages | {"feedsvc.sample_content"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel of this checkout installed; returns its bin/.

    The wheel is built without network (``--no-build-isolation``: the pinned setuptools is in
    requirements-dev.txt) and installed with ``--no-index --no-deps``; the dependencies are this
    test environment's, reached through a ``.pth`` file, and ``pip check`` proves they satisfy
    what the wheel requires.
    """
    tmp = tmp_path_factory.mktemp("installed")
    source = tmp / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        shutil.copy2(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "feedsvc", source / "feedsvc", ignore=ignore)
    shutil.copytree(BUNDLED_CONTENT, source / "content", ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    build = ["wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [*pip, *build, "-w", str(tmp / "dist"), str(source)], check=True, env=environment()
    )
    (wheel,) = (tmp / "dist").glob("feedsvc-*.whl")
    target = tmp / "venv"
    venv.create(target, with_pip=False)
    site_packages = target / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    pth = site_packages / "site-packages" / "test-dependencies.pth"
    pth.write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = target / "bin" / "python"
    target_pip = [*pip, "--python", str(python)]
    # --ignore-installed: a feedsvc that the test environment holds (the README's serve command
    # installs one) is neither taken for this one nor uninstalled.
    install = ["install", "-q", "--no-index", "--no-deps", "--ignore-installed", str(wheel)]
    subprocess.run([*target_pip, *install], check=True)
    check = subprocess.run([*target_pip, "check"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    return target / "bin"


def test_the_installed_package_is_the_wheel_with_the_sample_content(
    installed: Path, tmp_path: Path
) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import feedsvc; print(feedsvc.__file__)"],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    package = Path(where.stdout.strip()).parent
    assert package.is_relative_to(installed.parent)
    sample = package / "sample_content"
    packaged = {p.relative_to(sample): p.read_bytes() for p in sample.rglob("*") if p.is_file()}
    bundled = {
        p.relative_to(BUNDLED_CONTENT): p.read_bytes()
        for p in BUNDLED_CONTENT.rglob("*")
        if p.is_file()
    }
    assert packaged == bundled


def test_installed_feedsvc_check_reads_the_sample_content(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed / "feedsvc"), "check"],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    count = sum(1 for _ in BUNDLED_CONTENT.rglob("*.txt"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(
        rf"checked {count} files: {count} articles, 0 rejected, \d+ warnings?",
        done.stdout.splitlines()[-1],
    )


def test_installed_feedsvc_serve_serves_the_sample_feeds(installed: Path, tmp_path: Path) -> None:
    port = free_port()
    env = environment(FEEDSVC_BIND=f"127.0.0.1:{port}")
    command = [
        str(installed / "feedsvc"),
        "serve",
        "--workers",
        "1",
        "--access-logfile",
        "/dev/null",
    ]
    with running(command, tmp_path, env) as process:
        url = f"http://127.0.0.1:{port}/feeds/all.atom"
        wait_for(lambda: fetch(url) is not None, "the feed is served", process)
        body = fetch(url)
    assert body is not None
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    titles = [entry.title for entry in feed.entries]
    assert len(titles) == sum(1 for _ in BUNDLED_CONTENT.rglob("*.txt"))
    assert SEED_TITLE in titles

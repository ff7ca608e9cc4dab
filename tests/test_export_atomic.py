"""Exports are exclusive and atomic: killed at random points, they never leave a mixed site.

An export (``python -m feedsvc export``, a real process) is killed with SIGKILL at random
moments while another process reads the export as nginx does: it follows ``OUTDIR/public``
once per round and reads pages 1 and 2 of a feed from what it found. The content alternates
between two versions, the second with newer articles, so that page 1 of one and page 2 of the
other share items: a reader that ever sees that (or pages out of order, or a feed item whose
article page is missing) has seen a mix of two exports.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import REPO, SITE_URL, article_text, environment_without_settings

from feedsvc.deploy.generations import GENERATIONS_DIR, exclusive

RUNS = 20
READER = textwrap.dedent(
    """
    import json, os, sys, time
    out, stop = sys.argv[1], sys.argv[2]
    rounds = mixed = 0
    problems = []
    while not os.path.exists(stop):
        try:
            site = os.path.realpath(os.path.join(out, "public"))  # once per round, as nginx
            with open(os.path.join(site, "feeds/all.json"), "rb") as f:
                first = json.load(f)
            with open(os.path.join(site, "feeds/all.page2.json"), "rb") as f:
                second = json.load(f)
        except FileNotFoundError:
            if os.path.islink(os.path.join(out, "public")) and os.path.exists(
                os.path.join(out, "public")
            ):
                # a generation that was removed while this round read it: only the one
                # before the current one may be, and only after a switch
                problems.append("file missing in " + site)
            continue
        rounds += 1
        ids1 = [item["id"] for item in first["items"]]
        ids2 = [item["id"] for item in second["items"]]
        dates1 = [item["date_published"] for item in first["items"]]
        dates2 = [item["date_published"] for item in second["items"]]
        if set(ids1) & set(ids2):
            problems.append("pages 1 and 2 share items in " + site)
        if min(dates1) < max(dates2):
            problems.append("pages 1 and 2 out of order in " + site)
        for item in first["items"] + second["items"]:
            page = item["url"].split("/artikelen/", 1)[1]
            if not os.path.exists(os.path.join(site, "artikelen", page)):
                problems.append("article page missing: " + page)
    print(json.dumps({"rounds": rounds, "problems": problems[:20]}))
    """
)


def write_content(folder: Path, count: int) -> None:
    for number in range(count):
        day = 1 + number
        (folder / f"{number:03d}.txt").write_text(
            article_text(title=f"Bericht {number}", published=f"{day}-03-2025"), "utf-8"
        )


def export_process(out: Path, content: Path) -> subprocess.Popen[bytes]:
    env = environment_without_settings(FEEDSVC_SITE_URL=SITE_URL, FEEDSVC_PAGE_SIZE="4")
    return subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "export", str(out), "--content", str(content)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Wait for the export; its exit status and what it printed on stderr."""
    _, errors = process.communicate(timeout=120)
    return process.returncode, errors.decode()


def newest_generation(out: Path) -> int:
    return max((int(n) for n in os.listdir(out / GENERATIONS_DIR) if n.isdigit()), default=0)


def building(out: Path, process: subprocess.Popen[bytes]) -> bool:
    """Wait until ``process`` has begun a new generation (True) or ended (False)."""
    current = int(os.readlink(out / "public").rpartition("/")[2])
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if newest_generation(out) > current:
            return True
        time.sleep(0.005)
    return False


def measure_build(out: Path, content: Path) -> float:
    """How long an export takes from its new generation's folder to its end, here and now."""
    process = export_process(out, content)
    assert building(out, process)
    started = time.monotonic()
    assert finish(process)[0] == 0
    return time.monotonic() - started


def test_killed_exports_never_leave_a_mixed_site(tmp_path: Path) -> None:
    versions = [tmp_path / "a", tmp_path / "b"]
    for folder, count in zip(versions, (40, 46), strict=True):
        folder.mkdir()
        write_content(folder, count)
    out, stop = tmp_path / "out", tmp_path / "stop"
    assert finish(export_process(out, versions[0]))[0] == 0
    build = measure_build(out, versions[1])  # where to kill: anywhere while one is built
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(out), str(stop)], stdout=subprocess.PIPE, text=True
    )
    randomly = random.Random(12)
    finished = killed = 0
    try:
        for run in range(RUNS):
            process = export_process(out, versions[run % 2])
            if building(out, process) and run % 4 != 3:  # every fourth run may finish
                time.sleep(randomly.uniform(0.0, build * 1.2))
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    killed += 1
            returncode, errors = finish(process)
            assert returncode in (0, -signal.SIGKILL), errors
            finished += returncode == 0
    finally:
        stop.touch()
        output, _ = reader.communicate(timeout=60)
    result = json.loads(output)
    assert result["rounds"] > 0
    assert result["problems"] == []
    assert killed > 0
    assert finished > 0
    # The last export completes, and only its generation and the one before are left.
    assert finish(export_process(out, versions[1]))[0] == 0
    assert len(os.listdir(out / GENERATIONS_DIR)) <= 2
    site = out / "public"
    assert site.is_symlink()
    assert len(json.loads((site / "feeds/all.json").read_text())["items"]) == 4


def test_a_second_export_stops_with_a_clear_message(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    write_content(content, 3)
    out = tmp_path / "out"
    with exclusive(out):
        returncode, message = finish(export_process(out, content))
        assert returncode == 1
    assert f"another export (process {os.getpid()}) is writing {out}" in message
    assert not (out / "public").exists()
    # Once the lock is free, it exports.
    assert finish(export_process(out, content)) == (0, "")


@pytest.mark.parametrize("version", ["legacy"])
def test_a_public_folder_of_an_older_export_becomes_a_generation(
    tmp_path: Path, version: str
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    write_content(content, 3)
    out = tmp_path / "out"
    (out / "public").mkdir(parents=True)
    (out / "public" / "eigen-bestand.txt").write_text("User-agent: *\n")
    assert finish(export_process(out, content))[0] == 0, version
    assert (out / "public").is_symlink()
    assert (out / "public" / "eigen-bestand.txt").read_text() == "User-agent: *\n"
    assert (out / "public" / "feeds" / "all.rss").is_file()

"""A first load of many files is shared with a forked helper process: it must load exactly
what a load in one process loads (articles, bodies, problems with their lines, what is logged),
and a helper that fails must cost nothing but time.

The helper only forks when no other thread runs, which a test process cannot promise, so each
load with a helper runs in a fresh interpreter (as a server's master loads); the threshold is
lowered there so a small folder is enough.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, ArticleWriter, article_text

from feedsvc.articles.store import ContentStore
from feedsvc.settings import Settings

# Loads ``sys.argv[1]`` in this fresh process and prints what it loaded, how many processes it
# forked and what it logged. ``sys.argv[2]``: "helper", "sequential" or "failing helper".
SCRIPT = """
import json, logging, os, sys
from pathlib import Path
from feedsvc.articles import store
from feedsvc.settings import Settings

mode = sys.argv[2]
store.HELPER_FROM = 2 if mode != "sequential" else sys.maxsize
if mode == "failing helper":
    store._HELPER_CHUNK = 0  # the helper fails after sending its logs: range() with step 0
forks = []
fork = os.fork
def counted_fork():
    pid = fork()
    if pid:
        forks.append(pid)
    return pid
os.fork = counted_fork
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append([record.levelname, record.getMessage()])
logging.getLogger("feedsvc").addHandler(Keep())
content = store.ContentStore(Settings(content_dir=Path(sys.argv[1])))
content.reload()
snapshot = content.snapshot()
print(json.dumps({"forks": len(forks), "logged": records, "load": [
    [a.id, a.title, list(a.category.names), a.source and a.source.name, a.published.isoformat(),
     a.updated.isoformat(), list(a.paragraphs), a.summary, a.source_path]
    for a in snapshot.articles
], "problems": [[p.path, p.line, p.severity.value, p.message] for p in snapshot.problems]}))
"""


def load_in_fresh_process(folder: Path, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder), mode],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def varied_folder(content_dir: Path, write_article: ArticleWriter) -> Path:
    """Sixty files in nested folders and at the top: good ones, broken ones, ones with
    warnings, each kind on both sides of an every-other-file split."""
    for number in range(60):
        folder = ["", "2024/", "2025/maart/", "2025/april/"][number % 4]
        relpath = f"{folder}bericht-{number:02d}.txt"
        if number % 7 == 3:
            write_article(relpath, data="Titel\nNieuws\nBron: X\ngeen datum\n\nTekst.\n")
        elif number % 7 == 5:
            write_article(relpath, data=article_text(body=(f"Tekst \x07{number}.",)).encode())
        else:
            write_article(
                relpath,
                title=f"Bericht {number}",
                published=f"{number % 28 + 1:02d}-03-2025",
                body=(f"Eerste alinea {number}.", "Tweede alinea."),
            )
    return content_dir


def test_a_helper_loads_what_one_process_loads(varied_folder: Path) -> None:
    with_helper = load_in_fresh_process(varied_folder, "helper")
    alone = load_in_fresh_process(varied_folder, "sequential")
    assert with_helper["forks"] == 1
    assert alone["forks"] == 0
    assert len(alone["load"]) == 60 - 9  # nine files without a date
    assert len(alone["problems"]) == 17  # nine errors, eight warnings
    assert with_helper["load"] == alone["load"]
    assert with_helper["problems"] == alone["problems"]
    assert sorted(with_helper["logged"]) == sorted(alone["logged"])
    assert len(alone["logged"]) == 9  # each broken file, once


def test_a_load_in_this_process_is_the_same_as_in_a_fresh_one(
    varied_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The fresh process's reading is the one the rest of the suite checks: the same here."""
    content = ContentStore(Settings(content_dir=varied_folder))
    with caplog.at_level(logging.WARNING, logger="feedsvc"):
        content.reload()
    snapshot = content.snapshot()
    here = [
        [a.id, a.title, list(a.category.names), a.source and a.source.name]
        for a in snapshot.articles
    ]
    fresh = load_in_fresh_process(varied_folder, "helper")
    assert here == [row[:4] for row in fresh["load"]]
    assert [[p.path, p.line, p.severity.value, p.message] for p in snapshot.problems] == (
        fresh["problems"]
    )


def test_a_failing_helper_costs_only_time(varied_folder: Path) -> None:
    failing = load_in_fresh_process(varied_folder, "failing helper")
    alone = load_in_fresh_process(varied_folder, "sequential")
    assert failing["forks"] == 1
    assert failing["load"] == alone["load"]
    assert failing["problems"] == alone["problems"]
    errors = [message for level, message in failing["logged"] if level == "ERROR"]
    assert len(errors) == 1
    assert errors[0].startswith("the helper process of the first load failed")
    # The helper's share of the broken files is logged once, by the process that read them.
    warnings = sorted(entry for entry in failing["logged"] if entry[0] == "WARNING")
    assert warnings == sorted(alone["logged"])

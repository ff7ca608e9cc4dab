"""Content at and beyond the limits (feedsvc.articles.limits): what ``check`` accepts can be
served, exported and read back; what it refuses, it reports with PATH:LINE, and nothing crashes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import SITE_URL, article_text
from flask import Flask
from lxml import etree, html

from feedsvc.articles.limits import MAX_CATEGORY_DEPTH, MAX_FOLDER_DEPTH, MAX_NAME_BYTES
from feedsvc.cli import main
from feedsvc.deploy.export import SiteExporter

DEEPEST_OK = " -> ".join(f"Niveau {n}" for n in range(MAX_CATEGORY_DEPTH))
LONGEST_NAME = "b" * (MAX_NAME_BYTES - len(".txt")) + ".txt"
NESTED_OK = "/".join(["d"] * MAX_FOLDER_DEPTH)

# relpath -> (line reported, or None when accepted)
CONTENT = {
    "ok/diep.txt": (article_text(category=DEEPEST_OK), None),
    f"ok/{LONGEST_NAME}": (article_text(), None),
    f"{NESTED_OK}/genest.txt": (article_text(title="Diep genest"), None),
    "2025/nieuws.txt": (article_text(title="Nieuws"), None),
    "te/diep250.txt": (article_text(category=" -> ".join(["Niveau"] * 250)), 3),
    "te/diep600.txt": (article_text(category=" -> ".join(f"N{n}" for n in range(600))), 3),
    "te/bron.txt": (article_text(source="Zwemclub " * 40), 5),
    "te/" + "a" * 247 + ".txt": (article_text(), 0),
    "te/categorie-lang.txt": (article_text(category="Nieuws -> " + "lang " * 60), 3),
}
REJECTED_FOLDERS = {
    "2025/nieuws.html": "2025/nieuws.html/vervolg.txt",  # would collide with 2025/nieuws.html
    "/".join(["d"] * (MAX_FOLDER_DEPTH + 1)): "/".join(["d"] * 200) + "/x.txt",
    "c" * (MAX_NAME_BYTES + 1): "c" * (MAX_NAME_BYTES + 1) + "/x.txt",
}


@pytest.fixture
def extremes(content_dir: Path) -> Path:
    for relpath, (text, _) in CONTENT.items():
        (content_dir / relpath).parent.mkdir(parents=True, exist_ok=True)
        (content_dir / relpath).write_text(text, "utf-8")
    for relpath in REJECTED_FOLDERS.values():
        (content_dir / relpath).parent.mkdir(parents=True, exist_ok=True)
        (content_dir / relpath).write_text(article_text(), "utf-8")
    return content_dir


def test_check_reports_each_file_beyond_the_limits(extremes: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(extremes)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    for relpath, (_, line) in CONTENT.items():
        reported = [text for text in lines if text.startswith(f"{relpath}:")]
        if line is None:
            assert not reported, reported
        else:
            assert reported, relpath
            assert reported[0].startswith(f"{relpath}:{line}: error: "), reported
    for folder in REJECTED_FOLDERS:
        assert any(text.startswith(f"{folder}:0: error: ") for text in lines), folder
    assert lines[-1] == f"checked {len(CONTENT) + len(REJECTED_FOLDERS)} files: 4 articles, " + (
        f"{len(CONTENT) - 4 + len(REJECTED_FOLDERS)} rejected, 0 warnings"
    )


def test_what_check_accepts_is_served_and_read_back(
    extremes: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(extremes)
    client = app.test_client()
    for path in ("/", "/feeds.opml", "/feeds-alle.opml", "/feeds/all.rss", "/embed/all.html"):
        response = client.get(path)
        assert response.status_code == 200, path
    opml = etree.fromstring(client.get("/feeds-alle.opml").data)  # every feed, nested
    assert len(opml.xpath("//outline[@xmlUrl]")) > MAX_CATEGORY_DEPTH
    deepest = "/".join(f"niveau-{n}" for n in range(MAX_CATEGORY_DEPTH))
    for path in (f"/categorie/{deepest}.html", f"/feeds/categorie/{deepest}.atom"):
        assert client.get(path).status_code == 200, path
    parsed = feedparser.parse(client.get(f"/feeds/categorie/{deepest}.atom").data)
    assert not parsed.bozo
    assert [entry.title for entry in parsed.entries] == ["Gemeente opent nieuw park"]
    titles = {e.title for e in feedparser.parse(client.get("/feeds/all.atom").data).entries}
    assert {"Diep genest", "Nieuws"} <= titles
    article = client.get(f"/artikelen/ok/{LONGEST_NAME[: -len('.txt')]}.html")
    assert article.status_code == 200
    # The index shows the deepest category nested as deep as it is, in well-formed lists.
    index = html.fromstring(client.get("/").data)
    deepest_name = f"Niveau {MAX_CATEGORY_DEPTH - 1}"
    (link,) = index.xpath(f'//ul[@class="tree"]//a[@class="name"][text()="{deepest_name}"]')
    assert len(link.xpath('ancestor::ul[@class="tree"]')) == MAX_CATEGORY_DEPTH


def test_what_check_accepts_is_exported(
    extremes: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(extremes, SITE_URL=SITE_URL)
    report = SiteExporter(app, tmp_path / "out").export()
    assert report.written > 0
    public = tmp_path / "out" / "public"
    assert (public / "artikelen/2025/nieuws.html").is_file()
    assert (public / f"artikelen/ok/{LONGEST_NAME[: -len('.txt')]}.html").is_file()
    assert (public / f"artikelen/{NESTED_OK}/genest.html").is_file()
    assert (tmp_path / "out/nginx/feedsvc.conf").is_file()

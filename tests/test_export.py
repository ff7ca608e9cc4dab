"""The static export: ``python -m feedsvc export``, its files, and nginx serving them.

The nginx tests run Debian's nginx on a loopback port with the generated configuration and
compare every URL of the site with what the Flask service answers. They need the Debian package
``nginx`` (and ``libnginx-mod-http-brotli-static`` for the .br files), which scripts/test.sh
installs when run as root, as CI does.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import brotli
import pytest
from click.testing import CliRunner
from conftest import (
    BUNDLED_CONTENT,
    REPO,
    SITE_URL,
    article_text,
    bundled_small_pages_app,
    environment_without_settings,
    free_port,
)
from flask import Flask
from flask.testing import FlaskClient
from nginxlib import Nginx, nginx_binary, run_nginx, run_nginx_over_export
from pytest_httpserver import HTTPServer
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request, Response

from feedsvc.cli import main
from feedsvc.deploy.export import (
    BROWSER_ACCEPT,
    ExportError,
    NginxOptions,
    SiteExporter,
    file_for,
    read_manifest,
)
from feedsvc.deploy.nginx import (
    BROTLI_MODULE,
    NginxConfigError,
    NginxSite,
    RouteProfile,
    render_server_config,
)
from feedsvc.deploy.sitemap import (
    NOT_EXPORTED,
    SiteChanges,
    SiteListing,
    SitePage,
    site_pages,
    uncovered_endpoints,
)
from feedsvc.runtime import Runtime

IMAGES = (".png", ".ico")  # compressed already: the export writes no .gz or .br of them

# Headers the service and nginx each make themselves, for their own reasons.
OWN_HEADERS = {
    "date",
    "server",
    "connection",
    "etag",
    "last-modified",
    "content-length",
    "accept-ranges",
    "content-disposition",
    "vary",
    "keep-alive",
}


def fetch(client: FlaskClient, path: str, **options: Any) -> TestResponse:
    """The app's answer, read and closed (static files are sent from an open file)."""
    response = client.get(path, **options)
    response.get_data()
    response.close()
    return response


def service_of(app: Flask) -> Runtime:
    service: Runtime = app.extensions["feedsvc"]
    return service


# -- URLs and files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "file"),
    [
        ("/", 200, "index.html"),
        ("/feeds/all.rss", 200, "feeds/all.rss"),
        (
            "/feeds/categorie/nieuws/politie.atom?page=12",
            200,
            "feeds/categorie/nieuws/politie.page12.atom",
        ),
        ("/artikelen/2024/caf%C3%A9%20%26%20bar.html", 200, "artikelen/2024/café & bar.html"),
        ("/static/style.css", 200, "static/style.css"),
        ("/404.html", 404, "404.html"),
        ("/feeds/all.rss?page=0", 400, "400.html"),
    ],
)
def test_each_url_has_one_file(path: str, status: int, file: str) -> None:
    assert file_for(path, status) == file


@pytest.mark.parametrize(
    "path", ["/artikelen/../../etc/passwd.html", "/artikelen/%2E%2E/x.html", "/a//b", "/x?q=1"]
)
def test_paths_that_are_not_safe_files_are_refused(path: str) -> None:
    with pytest.raises(ExportError):
        file_for(path)


def test_every_route_is_exported_or_excluded_with_a_reason(make_app: Callable[..., Flask]) -> None:
    # Pages small enough that every listing has older pages, and the sitemap needs an index.
    app = make_app(BUNDLED_CONTENT, PAGE_SIZE=10, SITEMAP_LIMIT=40)
    pages = site_pages(app)
    assert uncovered_endpoints(app, pages) == set()
    assert {"feedsvc.healthz", "feedsvc.oembed"} == NOT_EXPORTED.keys()
    paths = {page.path for page in pages}
    assert {"/", "/feeds.opml", "/embed.js", "/embed/all.html", "/feeds/all.json"} <= paths


def test_a_route_reached_only_by_a_later_page_of_a_kind_is_covered(
    make_app: Callable[..., Flask],
) -> None:
    # One page of each kind is matched first; an endpoint those miss is looked for in every page.
    app = make_app(BUNDLED_CONTENT, PAGE_SIZE=10, SITEMAP_LIMIT=40)
    app.add_url_rule("/artikelen/bijzonder.html", "bijzonder", lambda: "")
    pages = site_pages(app)
    assert uncovered_endpoints(app, pages) == {"bijzonder"}
    special = SitePage("/artikelen/bijzonder.html", "special")
    assert uncovered_endpoints(app, [*pages, special]) == set()


def test_a_new_route_without_pages_is_reported(make_app: Callable[..., Flask]) -> None:
    app = make_app(BUNDLED_CONTENT, PAGE_SIZE=10, SITEMAP_LIMIT=40)
    app.add_url_rule("/zoeken", "zoeken", lambda: "")
    assert uncovered_endpoints(app, site_pages(app)) == {"zoeken"}


# -- the exported tree --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled_small_pages() -> Flask:
    """Shared by the tests of this module, which only read from it."""
    return bundled_small_pages_app()


def export(app: Flask, outdir: Path, **options: object) -> SiteExporter:
    exporter = SiteExporter(app, outdir, NginxOptions(**options))  # type: ignore[arg-type]
    exporter.export()
    return exporter


def tree(outdir: Path) -> dict[str, bytes]:
    public = outdir / "public"
    return {
        path.relative_to(public).as_posix(): path.read_bytes()
        for path in public.rglob("*")
        if path.is_file()
    }


def test_every_page_is_a_file_with_the_services_bytes(
    bundled_small_pages: Flask, tmp_path: Path
) -> None:
    export(bundled_small_pages, tmp_path)
    files = tree(tmp_path)
    client = bundled_small_pages.test_client()
    pages = site_pages(bundled_small_pages)
    assert len(pages) > 200
    siblings: set[str] = set()
    for page in pages:
        response = fetch(client, page.path)
        assert response.status_code == page.status
        relpath = file_for(page.path, page.status)
        assert files[relpath] == response.data, page.path
        negotiated = "accept-encoding" in response.headers.get("Vary", "").lower()
        # PNG images (and the icon, a PNG) are not compressed again, nor are pages too small
        # for a compressed copy to save a packet, unless the service itself compresses them;
        # article pages never are (nginx compresses them when asked).
        if relpath.startswith("artikelen/"):
            assert relpath + ".gz" not in files
            assert relpath + ".br" not in files
        elif not relpath.endswith(IMAGES) and (negotiated or len(response.data) >= 1024):
            assert gzip.decompress(files[relpath + ".gz"]) == response.data
            assert brotli.decompress(files[relpath + ".br"]) == response.data
            # No clock in the gzip header (RFC 1952 MTIME, bytes 4-7): every export writes the
            # same bytes, so an unchanged page is linked, not written again.
            assert files[relpath + ".gz"][4:8] == bytes(4), relpath
            siblings |= {relpath + ".gz", relpath + ".br"}
    # Nothing else is in the tree.
    expected = {file_for(p.path, p.status) for p in pages}
    assert set(files) == expected | siblings
    assert any(not f.endswith(IMAGES) and f + ".gz" not in files for f in expected)


def test_compressed_feeds_are_the_services_own_bytes(
    bundled_small_pages: Flask, tmp_path: Path
) -> None:
    export(bundled_small_pages, tmp_path)
    client = bundled_small_pages.test_client()
    for coding, suffix in (("gzip", ".gz"), ("br", ".br")):
        response = fetch(client, "/feeds/all.atom?page=2", headers={"Accept-Encoding": coding})
        assert response.headers["Content-Encoding"] == coding
        assert (tmp_path / "public/feeds/all.page2.atom").with_suffix(
            ".atom" + suffix
        ).read_bytes() == response.data


def test_compressed_html_pages_are_the_services_own_bytes(
    bundled_small_pages: Flask, tmp_path: Path
) -> None:
    """The listing pages' siblings are taken from the page the service cached, not asked for
    in each coding: byte for byte what a request in that coding is sent."""
    export(bundled_small_pages, tmp_path)
    files = tree(tmp_path)
    client = bundled_small_pages.test_client()
    compared = 0
    for page in site_pages(bundled_small_pages):
        relpath = file_for(page.path, page.status)
        if page.status != 200 or not relpath.endswith(".html") or relpath + ".br" not in files:
            continue
        if "accept-encoding" not in fetch(client, page.path).headers.get("Vary", "").lower():
            continue  # compressed by the export (docs/performance.md): not the service's
        for coding, suffix in (("gzip", ".gz"), ("br", ".br")):
            response = fetch(client, page.path, headers={"Accept-Encoding": coding})
            assert response.headers["Content-Encoding"] == coding, page.path
            assert files[relpath + suffix] == response.data, page.path + suffix
            compared += 1
    assert compared > 20


def test_file_times_are_the_feeds_last_modified(bundled_small_pages: Flask, tmp_path: Path) -> None:
    export(bundled_small_pages, tmp_path)
    client = bundled_small_pages.test_client()
    for path in (
        "/feeds/all.rss",
        "/feeds/bron/navo.json",
        "/feeds/all.atom?page=3",
        "/feeds.opml",
    ):
        last_modified = parsedate_to_datetime(fetch(client, path).headers["Last-Modified"])
        for suffix in ("", ".gz", ".br"):
            file = tmp_path / "public" / (file_for(path) + suffix)
            assert file.stat().st_mtime == last_modified.timestamp()


def test_a_second_export_writes_nothing(bundled_small_pages: Flask, tmp_path: Path) -> None:
    first = SiteExporter(bundled_small_pages, tmp_path).export()
    assert (first.written, first.unchanged, first.removed) == (len(tree(tmp_path)), 0, 0)
    stats = {p: p.stat().st_mtime_ns for p in (tmp_path / "public").rglob("*") if p.is_file()}
    # A new process: everything is rendered again, nothing is written.
    again = SiteExporter(bundled_small_pages, tmp_path).export()
    assert (again.written, again.removed, again.unchanged) == (0, 0, first.written)
    assert stats == {p: p.stat().st_mtime_ns for p in stats}
    assert not list(tmp_path.rglob("*.tmp"))


def mtimes(outdir: Path) -> dict[str, int]:
    public = outdir / "public"
    return {
        path.relative_to(public).as_posix(): path.stat().st_mtime_ns
        for path in public.rglob("*")
        if path.is_file()
    }


@dataclass
class Change:
    name: str
    apply: Callable[[Path], None]


def edit_body(folder: Path) -> None:
    path = folder / "2025/003_waternet-vervangt-waterleiding-bovenkerk.txt"
    text = path.read_text("utf-8").replace("Waternet", "Waternet (aangepast)", 1)
    write_later(path, text)


def add_article(folder: Path) -> None:
    write_later(folder / "2026/999_nieuw.txt", article_text(title="Nieuw", published="25-11-2026"))


def delete_newest(folder: Path) -> None:
    (folder / "2026/013_begroting-2027-aangenomen.txt").unlink()


def new_source(folder: Path) -> None:
    write_later(
        folder / "2024/998_bron.txt",
        article_text(title="Van een nieuwe bron", source="Zwemclub De Poel", published="2-2-2024"),
    )


def write_later(path: Path, text: str) -> None:
    """Write ``text`` with an mtime later than the file had, as a real edit a second later."""
    before = path.stat().st_mtime_ns if path.exists() else time.time_ns()
    path.write_text(text, "utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


CHANGES = [
    Change("edit", edit_body),
    Change("add", add_article),
    Change("delete", delete_newest),
    Change("new-source", new_source),
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.name)
def test_an_update_writes_exactly_the_files_whose_bytes_changed(
    change: Change, copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(copy_of_bundled_content, PAGE_SIZE=5)
    exporter = SiteExporter(app, tmp_path / "live")
    exporter.export()
    before = tree(tmp_path / "live")
    mtimes_before = mtimes(tmp_path / "live")

    change.apply(copy_of_bundled_content)
    service_of(app).refresh()
    report = exporter.export()
    after = tree(tmp_path / "live")

    # The same tree as a fresh export of the changed content by a new process.
    fresh = tmp_path / "fresh"
    SiteExporter(make_app(copy_of_bundled_content, PAGE_SIZE=5), fresh).export()
    assert after == tree(fresh)
    changed = {f for f in after if f in before and after[f] != before[f]}
    added = after.keys() - before.keys()
    removed = before.keys() - after.keys()
    assert report.written == len(changed) + len(added)
    assert report.removed == len(removed)
    assert report.unchanged == len(after) - report.written
    assert report.rendered < report.pages  # only what the change touched was rendered
    # A file with new bytes has a new mtime, so nginx's validators change with it.
    mtimes_after = mtimes(tmp_path / "live")
    for relpath in changed:
        assert mtimes_after[relpath] > mtimes_before[relpath], relpath
    for relpath in after.keys() - changed - added:
        assert mtimes_after[relpath] == mtimes_before[relpath], relpath
    # The manifest (with the changes recorded since) lists exactly the files of the tree.
    assert read_manifest(tmp_path / "live")[0] == set(after)


def test_a_changed_file_gets_a_later_mtime_even_in_a_new_process(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    export(make_app(copy_of_bundled_content), tmp_path)
    feed = tmp_path / "public/feeds/all.rss"
    before = feed.stat().st_mtime
    delete_newest(copy_of_bundled_content)  # the feed's newest date moves back in time
    report = SiteExporter(make_app(copy_of_bundled_content), tmp_path).export()
    assert report.removed > 0
    assert feed.stat().st_mtime > before


def test_only_files_the_export_wrote_are_removed(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    export(make_app(copy_of_bundled_content), tmp_path)
    mine = tmp_path / "public/google0123456789abcdef.html"  # a site-verification file
    mine.write_text("User-agent: *\n")
    article = tmp_path / "public/artikelen/2026/013_begroting-2027-aangenomen.html"
    assert article.is_file()
    delete_newest(copy_of_bundled_content)
    SiteExporter(make_app(copy_of_bundled_content), tmp_path).export()
    assert not article.exists()
    assert not Path(str(article) + ".gz").exists()
    assert mine.read_text() == "User-agent: *\n"


def test_a_file_changed_on_disk_is_put_right(bundled_small_pages: Flask, tmp_path: Path) -> None:
    export(bundled_small_pages, tmp_path)
    feed = tmp_path / "public/feeds/all.json"
    good = feed.read_bytes()
    feed.write_bytes(b"{}")
    report = SiteExporter(bundled_small_pages, tmp_path).export()
    assert report.written == 1
    assert feed.read_bytes() == good


def test_a_page_the_app_cannot_serve_stops_the_export(
    bundled_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = export(bundled_app, tmp_path)
    before = tree(tmp_path)
    config = (tmp_path / "nginx/feedsvc.conf").read_bytes()

    listed = SiteListing.changes

    def broken(self: SiteListing) -> SiteChanges:
        changes = listed(self)
        changes.pages.append(SitePage("/feeds/bestaat-niet.rss", "x"))
        return changes

    monkeypatch.setattr(SiteListing, "changes", broken)
    with pytest.raises(ExportError, match=r"bestaat-niet\.rss: the app answered 404"):
        exporter.export()
    # What was exported stays in place, and nothing is lost track of.
    assert tree(tmp_path) == before
    assert (tmp_path / "nginx/feedsvc.conf").read_bytes() == config
    monkeypatch.undo()
    report = exporter.export()
    assert (report.written, report.removed) == (0, 0)


# -- the command ----------------------------------------------------------------------------------


def test_export_command(tmp_path: Path) -> None:
    env = {"FEEDSVC_SITE_URL": SITE_URL, "FEEDSVC_PAGE_SIZE": "10"}
    args = ["export", str(tmp_path / "out"), "--content", str(BUNDLED_CONTENT)]
    args += ["--listen", "127.0.0.1:8080", "--no-brotli"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("exported ")
    assert " 0 unchanged, 0 removed" in result.output
    config = (tmp_path / "out/nginx/feedsvc.conf").read_text()
    assert "listen 127.0.0.1:8080;" in config
    assert "brotli_static" not in config
    assert "server_name nieuws.example.nl;" in config
    again = CliRunner().invoke(main, args, env=env)
    assert " 0 files written," in again.output


def test_export_command_with_a_bad_setting_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", str(tmp_path)], env={"FEEDSVC_PAGE_SIZE": "nul"})
    assert result.exit_code == 2
    assert "FEEDSVC_PAGE_SIZE" in result.output


@contextlib.contextmanager
def export_watching(content: Path, out: Path, **settings: str) -> Iterator[LineReader]:
    """``feedsvc export OUT --watch`` running over ``content`` (``settings``: more
    ``FEEDSVC_`` variables), its first export done; a reader of its further lines. Stopped
    with SIGTERM on leaving, which it must exit 0 for."""
    env = environment_without_settings(FEEDSVC_SITE_URL=SITE_URL, **settings)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "feedsvc", "export", str(out), "--watch"),
            *("--content", str(content)),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    read_line = LineReader(process)
    try:
        assert read_line().startswith("exported ")
        assert read_line().startswith("watching ")
        yield read_line
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        read_line.close()
    assert process.returncode == 0


def test_export_watch_follows_the_content(copy_of_bundled_content: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with export_watching(copy_of_bundled_content, out) as read_line:
        add_article(copy_of_bundled_content)
        line = read_line()  # the next export
        assert line.startswith("exported "), line
        assert (out / "public/artikelen/2026/999_nieuw.html").is_file()
        assert b"Nieuw" in (out / "public/feeds/all.rss").read_bytes()


def test_export_watch_saves_the_dates_of_its_first_export_before_watching(
    copy_of_bundled_content: Path, tmp_path: Path
) -> None:
    """The dates the first export gave are in the state file before the first edit comes, so
    that edit does not wait for the whole file to be written."""
    out, state = tmp_path / "out", tmp_path / "state"
    with export_watching(copy_of_bundled_content, out, FEEDSVC_STATE_DIR=str(state)):
        saved = json.loads((state / "published.json").read_text("utf-8"))
        assert not (state / "published.journal").exists()
    # With the date of the bytes it wrote: the all-feed's RSS, say (its ETag is their digest).
    rows = {(path, ext, page): (etag, date) for path, ext, page, etag, date in saved["published"]}
    etag, date = rows[("all", "rss", 1)]
    digest = hashlib.sha256((out / "public/feeds/all.rss").read_bytes()).hexdigest()
    assert etag == f'"{digest[:32]}"'
    mtime = (out / "public/feeds/all.rss").stat().st_mtime
    assert mtime == datetime.fromisoformat(date).timestamp()


class LineReader:
    """The lines a process prints, read in a thread, so that waiting for one can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._stdout = process.stdout
        self._lines: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._stdout:
            for line in self._stdout:
                self._lines.put(line)

    def __call__(self) -> str:
        try:
            # Generous: a first export of the bundled content took over 15 s on a busy machine.
            return self._lines.get(timeout=60)
        except queue.Empty:
            pytest.fail("no output within 60 s")

    def close(self) -> None:
        """After the process ended: the rest of its output is read, the pipe closed."""
        self._thread.join(timeout=10)


# -- the nginx configuration ----------------------------------------------------------------------


def profile(**headers: str) -> RouteProfile:
    return RouteProfile("x", "/x/<path:name>", headers, None, {"html": "text/html; charset=utf-8"})


@pytest.mark.parametrize(
    "value",
    ['say "hi"', "costs $5", "new\nline", "back\\slash"],
    ids=["quote", "dollar", "lf", "bs"],
)
def test_header_values_nginx_would_misread_are_refused(value: str) -> None:
    site = NginxSite(
        root=Path("/srv/site"),
        listen="80",
        server_name="example.nl",
        brotli=False,
        routes=(profile(**{"X-Test": value}),),
        error_profile=profile(),
        feed_endpoint="feed",
        feed_prefix="/feeds/",
        feed_extensions=("rss",),
        error_pages={404: "/404.html"},
    )
    with pytest.raises(NginxConfigError):
        render_server_config(site)


# -- nginx serving the export ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(bundled_small_pages: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """nginx serving an export of ``bundled_small_pages``, for the tests of this module."""
    yield from run_nginx_over_export(bundled_small_pages, tmp_path_factory.mktemp("served"))


def assert_same_headers(path: str, flask: dict[str, str], nginx: dict[str, str]) -> None:
    """Every header the service sends for the route, nginx sends too, with the same value."""
    for name, value in flask.items():
        if name.lower() not in OWN_HEADERS:
            assert nginx.get(name.lower()) == value, f"{path}: {name}"
    if "vary" in flask:
        assert nginx["vary"] == flask["vary"], path
    extra = nginx.keys() - {k.lower() for k in flask} - OWN_HEADERS - {"content-encoding"}
    assert not extra, f"{path}: nginx adds {extra}"


def test_nginx_serves_every_url_as_the_service_does(
    served: Nginx, bundled_small_pages: Flask
) -> None:
    client = bundled_small_pages.test_client()
    pages = [page for page in site_pages(bundled_small_pages) if page.status == 200]
    for page in pages:
        flask = fetch(client, page.path)
        status, headers, body = served.get(page.path, {"Accept-Encoding": "identity"})
        assert (status, body) == (200, flask.data), page.path
        assert headers["content-type"] == flask.headers["Content-Type"], page.path
        assert_same_headers(page.path, dict(flask.headers), headers)

        # Revalidation with nginx's own validators.
        etag, last_modified = headers["etag"], headers["last-modified"]
        assert served.get(page.path, {"If-None-Match": etag})[0] == 304, page.path
        assert served.get(page.path, {"If-Modified-Since": last_modified})[0] == 304, page.path
        if "Last-Modified" in flask.headers:
            assert last_modified == flask.headers["Last-Modified"], page.path

        status, coded, data = served.get(page.path, {"Accept-Encoding": "gzip"})
        negotiated = "accept-encoding" in flask.headers.get("Vary", "").lower()
        if page.path.endswith(IMAGES) or (not negotiated and len(flask.data) < 1024):
            # Images are compressed already; a page this small has no compressed copy.
            assert "content-encoding" not in coded
            assert data == flask.data
            continue
        assert coded["content-encoding"] == "gzip", page.path
        assert gzip.decompress(data) == flask.data
        assert coded["etag"] != etag  # every coding has its own validator
        # Article pages have no .br sibling: nginx compresses them with gzip only.
        if BROTLI_MODULE.is_file() and not page.path.startswith("/artikelen/"):
            _, coded, data = served.get(page.path, {"Accept-Encoding": "br, gzip"})
            assert coded["content-encoding"] == "br", page.path
            assert brotli.decompress(data) == flask.data


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/all.rss?page=0",
        "/feeds/all.rss?page=x",
        "/feeds/all.rss?page=",
        "/feeds/all.rss?page",
        "/feeds/all.json?page=2&page=3",
        "/feeds/bestaat-niet.atom?page=-1",
    ],
)
def test_a_bad_page_number_is_400_with_the_services_page(
    served: Nginx, client_small: FlaskClient, path: str
) -> None:
    flask = fetch(client_small, path)
    status, headers, body = served.get(path)
    assert (status, body) == (400, flask.data) == (flask.status_code, body)
    assert headers["content-type"] == flask.headers["Content-Type"]
    assert_same_headers(path, dict(flask.headers), headers)


@pytest.mark.parametrize(
    "path",
    [
        "/404.html",
        "/bestaat-niet",
        "/feeds/bestaat-niet.rss",
        "/feeds/bestaat-niet.rss?page=1",
        "/feeds/all.xml",
        "/feeds/all.rss?page=999",
        "/feeds/all.page2.rss",
        "/feeds/all.rss.gz",
        "/feeds//all.rss",
        "/feeds/categorie//nieuws.rss",
        "/artikelen/2024/",
        "/artikelen/2024/bestaat-niet.html",
        "/index.html",
        "/_feedsvc/browser/feeds/all.rss",
    ],
)
def test_what_the_service_does_not_serve_is_404(
    served: Nginx, client_small: FlaskClient, path: str
) -> None:
    assert fetch(client_small, path).status_code == 404
    status, headers, body = served.get(path)
    assert status == 404
    assert body == fetch(client_small, "/404.html").data
    assert_same_headers(path, dict(fetch(client_small, "/404.html").headers), headers)


@pytest.mark.parametrize(
    "path", ["/feeds/all.rss?page=1", "/feeds/categorie/nieuws.json?page=1&x=y"]
)
def test_page_1_redirects_to_the_url_without_it(
    served: Nginx, client_small: FlaskClient, path: str
) -> None:
    flask = fetch(client_small, path)
    status, headers, _ = served.get(path)
    assert (
        (status, headers["location"])
        == (301, flask.headers["Location"])
        == (
            flask.status_code,
            headers["location"],
        )
    )


@pytest.mark.parametrize(
    "path", ["/feeds/all.rss", "/feeds/bron/navo.atom?page=1", "/feeds/all.json?page=2"]
)
def test_browsers_get_feeds_labelled_as_the_service_labels_them(
    served: Nginx, client_small: FlaskClient, path: str
) -> None:
    headers = {"Accept": BROWSER_ACCEPT}
    flask = fetch(client_small, path, headers=headers, follow_redirects=True)
    status, nginx_headers, body = served.get(path, headers)
    if status == 301:
        status, nginx_headers, body = served.get(nginx_headers["location"], headers)
    assert (status, body) == (200, flask.data)
    assert nginx_headers["content-type"] == flask.headers["Content-Type"]
    if not path.startswith("/feeds/all.json"):  # the page for people that XML feeds carry
        assert b'<div xmlns="http://www.w3.org/1999/xhtml" class="feedsvc-browser"' in body
    # Feed readers, whatever they accept, get the feed's own type.
    for accept in ("*/*", "application/rss+xml, application/atom+xml, text/xml;q=0.9, */*;q=0.1"):
        reader = fetch(client_small, "/feeds/all.atom", headers={"Accept": accept})
        _, nginx_headers, _ = served.get("/feeds/all.atom", {"Accept": accept})
        assert nginx_headers["content-type"] == reader.headers["Content-Type"]


def test_feeds_name_the_hub_and_themselves(served: Nginx, client_small: FlaskClient) -> None:
    for path in ("/feeds/all.rss", "/feeds/categorie/nieuws.atom?page=2"):
        _, headers, _ = served.get(path)
        assert headers["link"] == fetch(client_small, path).headers["Link"]


@pytest.fixture(scope="module")
def client_small(bundled_small_pages: Flask) -> FlaskClient:
    return bundled_small_pages.test_client()


def test_nginx_sees_an_update_without_a_reload(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    nginx_binary()
    port = free_port()
    app = make_app(copy_of_bundled_content)
    exporter = export(app, tmp_path / "out", listen=f"127.0.0.1:{port}")
    for server in run_nginx(tmp_path / "out", tmp_path, port):
        _, headers, before = server.get("/feeds/all.rss")
        edit_body(copy_of_bundled_content)
        service_of(app).refresh()
        exporter.export()
        status, _, after = server.get("/feeds/all.rss", {"If-None-Match": headers["etag"]})
        assert status == 200
        assert after == app.test_client().get("/feeds/all.rss").data != before
        digest = hashlib.sha256(after).hexdigest()
        assert digest != hashlib.sha256(before).hexdigest()


# -- syncing and WebSub ---------------------------------------------------------------------------


def test_the_hub_hears_of_changed_feeds_after_the_sync(
    copy_of_bundled_content: Path, tmp_path: Path, httpserver: HTTPServer
) -> None:
    out, marker = tmp_path / "out", tmp_path / "synced"
    pinged: list[tuple[str, bool]] = []

    def hub(request: Request) -> Response:
        pinged.append((request.form["hub.url"], marker.exists()))
        return Response("", status=204)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(hub)
    env = {"FEEDSVC_SITE_URL": SITE_URL, "FEEDSVC_WEBSUB_HUB": httpserver.url_for("/hub")}
    args = ["export", str(out), "--content", str(copy_of_bundled_content)]
    args += ["--sync", f"touch {marker}"]
    first = CliRunner().invoke(main, args, env=env)
    assert first.exit_code == 0, first.output
    assert pinged == []  # new feeds have no subscribers yet
    marker.unlink()

    edit_body(copy_of_bundled_content)
    second = CliRunner().invoke(main, args, env=env)
    assert second.exit_code == 0, second.output
    urls = {url for url, _ in pinged}
    assert f"{SITE_URL}/feeds/all.rss" in urls
    assert f"{SITE_URL}/feeds/bron/waternet.atom" in urls
    # Only feeds are topics: the pages for people that changed with them are not.
    assert all(url.startswith(f"{SITE_URL}/feeds/") for url in urls), sorted(urls)
    assert all("?page=" not in url for url in urls)  # subscribers follow first pages
    assert all(synced for _, synced in pinged)  # only once the sync had run


def test_a_failing_sync_tells_no_hub_and_fails(
    copy_of_bundled_content: Path, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=204)
    env = {"FEEDSVC_SITE_URL": SITE_URL, "FEEDSVC_WEBSUB_HUB": httpserver.url_for("/hub")}
    args = ["export", str(tmp_path / "out"), "--content", str(copy_of_bundled_content)]
    assert CliRunner().invoke(main, args, env=env).exit_code == 0
    edit_body(copy_of_bundled_content)
    result = CliRunner().invoke(main, [*args, "--sync", "exit 3"], env=env)
    assert result.exit_code == 1
    assert "--sync exited with 3" in result.output
    assert not httpserver.log
    # Nothing changed since, but the next export syncs all the same.
    marker = tmp_path / "synced"
    again = CliRunner().invoke(main, [*args, "--sync", f"touch {marker}"], env=env)
    assert again.exit_code == 0
    assert marker.exists()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027])
def test_exported_files_are_readable_by_the_web_server_whatever_the_umask(
    bundled_small_pages: Flask, tmp_path: Path, umask: int
) -> None:
    before = os.umask(umask)
    try:
        export(bundled_small_pages, tmp_path)
    finally:
        os.umask(before)
    public = tmp_path / "public"
    modes = {
        path.relative_to(public).as_posix(): path.stat().st_mode & 0o777
        for path in public.rglob("*")
        if path.is_file()
    }
    assert len(modes) > 200
    assert {relpath for relpath, mode in modes.items() if mode != 0o644} == set()

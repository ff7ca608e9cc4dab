"""The static export dates its files as the service dates their resources, across exports.

nginx derives Last-Modified (and its ETag) from each file's mtime; the export sets it to the
service's Last-Modified. Two exports by two processes (a restart in between) over the same
content and state folder, with an edit, a delete and a new category with an old date made in
between: served by Debian's nginx, a client that sends only ``If-Modified-Since`` never gets a
304 for changed bytes, and files whose bytes did not change keep their Last-Modified.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from conftest import article_text, free_port
from flask import Flask
from nginxlib import Nginx, nginx_binary, run_nginx
from test_export import IMAGES, delete_newest, edit_body, export, fetch, service_of, write_later
from websub_hub import wait_until
from werkzeug.http import parse_date

from feedsvc.deploy.export import MIN_SIBLING_BYTES, NginxOptions, SiteExporter, file_for
from feedsvc.deploy.sitemap import site_pages

CODINGS = ("identity", "gzip")  # the plain file and its .gz sibling, each with its own mtime


def new_category_with_an_old_date(folder: Path) -> None:
    write_later(
        folder / "2024/001_archief.txt",
        article_text(title="Uit het archief", category="Archief", published="01-01-2001"),
    )


def reload_nginx(server: Nginx, tmp_path: Path) -> None:
    """What the export's report asks of an operator: nginx reads the new configuration."""
    pid = int((tmp_path / "nginx-run" / "nginx.pid").read_text())
    os.kill(pid, signal.SIGHUP)
    wait_until(lambda: server.get("/feeds/categorie/archief.rss")[0] == 200, what="nginx reloaded")


def served_pages(app: Flask) -> list[str]:
    return [page.path for page in site_pages(app) if page.status == 200]


def snapshot(
    server: Nginx, paths: list[str], public: Path
) -> dict[tuple[str, str], tuple[bytes, str]]:
    """Body and Last-Modified of every page in every coding it is exported in, as nginx serves
    them (small pages and images have no .gz sibling: nginx sends them as they are)."""
    seen = {}
    for path in paths:
        has_sibling = (public / (file_for(path) + ".gz")).is_file()
        for coding in CODINGS if has_sibling else ("identity",):
            status, headers, body = server.get(path, {"Accept-Encoding": coding})
            assert status == 200, path
            assert headers.get("content-encoding", "identity") == coding, (path, coding)
            seen[(path, coding)] = (body, headers["last-modified"])
    return seen


def test_nginx_dates_the_files_as_the_service_across_exports_and_a_restart(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    nginx_binary()
    port, outdir = free_port(), tmp_path / "out"
    first = make_app(copy_of_bundled_content, PAGE_SIZE=5)
    export(first, outdir, listen=f"127.0.0.1:{port}")
    before_paths = served_pages(first)
    service_of(first).close()  # as the export command at its end: the state is saved

    for server in run_nginx(outdir, tmp_path, port):
        before = snapshot(server, before_paths, outdir / "public")
        edit_body(copy_of_bundled_content)
        delete_newest(copy_of_bundled_content)
        new_category_with_an_old_date(copy_of_bundled_content)
        second = make_app(copy_of_bundled_content, PAGE_SIZE=5)
        options = NginxOptions(listen=f"127.0.0.1:{port}")
        report = SiteExporter(second, outdir, options).export()
        assert report.nginx_changed  # a new feed: its location is new
        reload_nginx(server, tmp_path)

        changed, kept = 0, 0
        for (path, coding), (old_body, old_date) in before.items():
            status, headers, body = server.get(
                path, {"Accept-Encoding": coding, "If-Modified-Since": old_date}
            )
            if status == 404:
                continue  # the deleted article's page, the feed pages it took along
            if status == 304:
                # Only for the same bytes, which keep their date.
                _, headers, body = server.get(path, {"Accept-Encoding": coding})
                assert body == old_body, f"{path} ({coding}): 304 for changed bytes"
                assert headers["last-modified"] == old_date, (path, coding)
                kept += 1
                continue
            assert status == 200, (path, coding)
            assert body != old_body, f"{path} ({coding}): the same bytes dated otherwise"
            changed += 1
            assert parse_date(headers["last-modified"]) > parse_date(old_date), path
        assert changed > 0
        assert kept > 0

        # Every file of the new export is dated as the service dates its resource.
        client = second.test_client()
        for path in served_pages(second):
            response = fetch(client, path)
            _, headers, body = server.get(path, {"Accept-Encoding": "identity"})
            assert body == response.data, path
            if "Last-Modified" in response.headers:
                assert headers["last-modified"] == response.headers["Last-Modified"], path
                stamp = parse_date(response.headers["Last-Modified"])
                assert stamp is not None
                plain = outdir / "public" / file_for(path)
                siblings = [plain.with_name(plain.name + s) for s in (".gz", ".br")]
                big = len(body) >= MIN_SIBLING_BYTES and not path.endswith(IMAGES)
                if big and not path.startswith("/artikelen/"):  # articles: none (nginx gzips)
                    assert all(file.exists() for file in siblings), path
                siblings = [file for file in siblings if file.exists()]
                for file in (plain, *siblings):
                    assert file.stat().st_mtime == stamp.timestamp(), file
        assert client.get("/categorie/archief.html").status_code == 200
        service_of(second).close()


def test_a_file_dated_otherwise_than_the_service_is_dated_again(
    copy_of_bundled_content: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """As after an export by a feedsvc that did not date pages: the same bytes, another mtime."""
    export(make_app(copy_of_bundled_content), tmp_path)
    page = tmp_path / "public" / "index.html"
    sibling = page.with_name("index.html.gz")
    for file in (page, sibling):
        os.utime(file, (1_000_000_000, 1_000_000_000))
    app = make_app(copy_of_bundled_content)
    report = SiteExporter(app, tmp_path).export()
    stamp = parse_date(fetch(app.test_client(), "/").headers["Last-Modified"])
    assert stamp is not None
    assert page.stat().st_mtime == sibling.stat().st_mtime == stamp.timestamp()
    assert report.written == 2
    assert report.changed_feeds == []  # no bytes changed: nothing to tell a hub

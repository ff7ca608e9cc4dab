"""The generated nginx configuration under attack: open redirects, header injection, traversal.

nginx runs (Debian package ``nginx``) with the export's configuration; every payload is sent as
written. Whatever nginx answers, no ``Location`` leaves the site, no header carries request
text, and nothing outside ``public/`` is ever served.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SITE_URL, bundled_small_pages_app
from flask import Flask
from nginxlib import Nginx, run_nginx_over_export

# Files beside the public tree: the configuration and the manifest must never be served.
SECRETS = (b"feedsvc_page", b"export-manifest", b"server_name", b'"files"')


@pytest.fixture(scope="module")
def app() -> Flask:
    return bundled_small_pages_app()


@pytest.fixture(scope="module")
def nginx(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    def plant_a_secret(outdir: Path) -> None:
        (outdir / "secret.txt").write_text("feedsvc_page export-manifest")

    yield from run_nginx_over_export(app, tmp_path_factory.mktemp("attacks"), plant_a_secret)


def assert_stays_on_site(headers: dict[str, str]) -> None:
    location = headers.get("location")
    if location is not None:
        assert location.startswith("/"), location
        assert not location.startswith("//"), location
        assert "evil" not in location, location


REDIRECTS = [
    "//evil.example/x%2F..%2F..%2F..%2Ffeeds/all.rss?page=1",
    "//evil.example/../feeds/all.rss?page=1",
    "/%2Fevil.example/..%2F..%2Ffeeds/all.rss?page=1",
    "/feeds/%2E%2E/%2E%2E/feeds/all.rss?page=1",
    "/feeds/./all.rss?page=1",
    "/feeds/x/../all.rss?page=1",
    "/\\evil.example/../feeds/all.rss?page=1",
    "/feeds/all.rss?page=1&next=//evil.example/",
]


@pytest.mark.parametrize("path", REDIRECTS)
def test_no_redirect_leaves_the_site(nginx: Nginx, path: str) -> None:
    status, headers, _ = nginx.get(path)
    assert_stays_on_site(headers)
    if status == 301:  # only ever the canonical URL of the feed
        assert headers["location"] == "/feeds/all.rss", path


def test_page_1_redirects_to_the_literal_canonical_url(nginx: Nginx) -> None:
    status, headers, _ = nginx.get("/feeds/categorie/nieuws.atom?page=1&x=%0d%0aSet-Cookie:a")
    assert (status, headers["location"]) == (301, "/feeds/categorie/nieuws.atom")
    assert "set-cookie" not in headers


@pytest.mark.parametrize(
    "path",
    [
        '/feeds/a>;rel="next"/../all.rss',
        "/feeds/a%3E;rel=%22next%22/..%2Fall.rss",
        '/feeds/a>;rel="next"/%2e%2e/all.rss?page=2',
        "/feeds/all.rss?page=2&x=>;rel=next",
    ],
)
def test_no_header_carries_request_text(nginx: Nginx, app: Flask, path: str) -> None:
    status, headers, _ = nginx.get(path)
    for name, value in headers.items():
        assert "next" not in value, (path, name, value)
    if status == 200:  # only the feed's own canonical URL, as the service names it
        response = app.test_client().get("/feeds/all.rss?page=2")
        response.close()
        assert headers["link"] == response.headers["Link"]
        assert f'<{SITE_URL}/feeds/all.rss?page=2>; rel="self"' in headers["link"]
    else:
        assert status == 404, path


TRAVERSAL = [
    "/../secret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/static/../../secret.txt",
    "/static/%2e%2e/%2e%2e/secret.txt",
    "/static/..%2f..%2fsecret.txt",
    "/static/..%5c..%5csecret.txt",
    "/static\\..\\..\\secret.txt",
    "/artikelen/..%252F..%252Fsecret.txt",
    "/artikelen/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt",
    "/artikelen/.%2e/.%2e/nginx/feedsvc.conf",
    "/feeds/../../nginx/feedsvc.conf",
    "/feeds/..%2f..%2fexport-manifest.json",
    "/feeds/all.rss%00.html",
    "/feeds/all.rss%00",
    "/artikelen/%00/../../secret.txt",
    "//secret.txt",
    "///nginx/feedsvc.conf",
    "/static//style.css",
    "/static/style.css/.",
    "/static/style.css/..",
    "/static/style.css%2f",
    "/index.html/",
    "/_feedsvc/browser/../../secret.txt",
    "/_feedsvc/browser/feeds/all.rss",
    "/feeds/all.page2.rss",
    "/feeds/all.rss.gz",
    "/feeds/all.rss.br",
    "/artikelen/" + "a" * 3000 + ".html",
    "/feeds/" + "a/" * 1500 + "all.rss",
    "/feeds/" + "../" * 200 + "secret.txt",
    "/feeds/" + "%2e%2e/" * 200 + "secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSAL, ids=range(len(TRAVERSAL)))
def test_no_path_reaches_outside_the_tree(nginx: Nginx, path: str) -> None:
    status, headers, body = nginx.get(path)
    assert status in (400, 404, 414), (path, status)
    assert not any(secret in body for secret in SECRETS), path
    assert_stays_on_site(headers)

"""The export's nginx configuration for many feeds: what each feed adds to it (each `if` block
and location costs nginx memory, bench/nginx_memory_bench.py), and that every feed's careful
requests (a query, a browser, another spelling) reach that feed's own files and headers through
the careful location that all feeds of its type share."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from bench_modules import load
from conftest import SITE_URL, bundled_small_pages_app
from nginxlib import Nginx, nginx_binary, run_nginx_over_export

from feedsvc.deploy.nginx import (
    BROTLI_MODULE,
    FeedLocation,
    NginxSite,
    RouteProfile,
    render_server_config,
)

FEED_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def site_with_feeds(count: int) -> NginxSite:
    feed = RouteProfile(
        "feed",
        "/feeds/<path:name>",
        {"Cache-Control": "public, max-age=300"},
        "Accept, Accept-Encoding",
        FEED_TYPES,
        browser_types=dict.fromkeys(FEED_TYPES, "text/plain; charset=utf-8"),
    )
    page = RouteProfile("page", "/<path:name>", {}, None, {"html": "text/html; charset=utf-8"})
    folders = ("/feeds/categorie/", "/feeds/bron/")
    paths = ["/feeds/all.rss"] + [
        f"{folders[n % 2]}feed-{n}.{list(FEED_TYPES)[n % 3]}" for n in range(count - 1)
    ]
    feeds = tuple(FeedLocation(path, SITE_URL + quote(path), quote(path)) for path in paths)
    return NginxSite(
        root=Path("/srv/site"),
        listen="80",
        server_name="example.nl",
        brotli=False,
        routes=(feed, page),
        error_profile=page,
        feed_endpoint="feed",
        feed_prefix="/feeds/",
        feed_extensions=tuple(FEED_TYPES),
        error_pages={404: "/404.html"},
        feeds=feeds,
    )


def directives(config: str) -> dict[str, int]:
    """How many locations, `if` blocks and `if` blocks with a regular expression ``config``
    has (comments left out)."""
    lines = [line.strip() for line in config.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    return {
        "locations": sum(line.startswith("location ") for line in lines),
        "ifs": sum(line.startswith("if (") for line in lines),
        "regex_ifs": sum(bool(re.match(r"if \(\$\w+ !?~\*? ", line)) for line in lines),
        "careful": sum(line.startswith('location = "/_feedsvc/feed/') for line in lines),
    }


def test_a_feed_adds_one_location_with_two_tests() -> None:
    """Each feed has its own location (its URL, the browser test); what else a feed's requests
    need is in one careful location per feed type, whatever the number of feeds."""
    few, many = (
        directives(render_server_config(site_with_feeds(30))),
        directives(render_server_config(site_with_feeds(330))),
    )
    assert many["locations"] - few["locations"] == 300
    assert many["ifs"] - few["ifs"] == 600
    assert many["regex_ifs"] - few["regex_ifs"] == 300
    assert few["careful"] == many["careful"] == len(FEED_TYPES)


def test_the_memory_bench_adds_feeds_of_their_own() -> None:
    """bench/nginx_memory_bench.py's configuration with more feeds: one more location each,
    every location a name of its own."""
    config = render_server_config(site_with_feeds(30))
    grown = load("nginx_memory_bench").with_feeds(config, 25)
    assert directives(grown)["locations"] - directives(config)["locations"] == 25
    exact = re.findall(r"^ *location = (\"[^\"]*\")", grown, re.MULTILINE)
    assert len(exact) == len(set(exact))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Nginx, Path]]:
    folder = tmp_path_factory.mktemp("feeds")
    for nginx in run_nginx_over_export(bundled_small_pages_app(), folder):
        yield nginx, folder / "out" / "public"


def first_pages(public: Path) -> list[Path]:
    files = sorted((public / "feeds").rglob("*"))
    return [
        f
        for f in files
        if f.suffix.lstrip(".") in FEED_TYPES and not re.search(r"\.page\d+$", f.stem)
    ]


def test_every_feed_is_its_own_on_the_careful_path(served: tuple[Nginx, Path]) -> None:
    """For every feed, a query, a browser and ?page=N go through the careful location of its
    type and still get this feed's files, self link and redirect."""
    nginx, public = served
    feeds = first_pages(public)
    assert len(feeds) > 20
    seen_second_pages = 0
    for file in feeds:
        url = "/" + quote(str(file.relative_to(public)))
        reader_type = nginx.get(url, {"Accept-Encoding": "identity"})[1]["content-type"]
        status, headers, body = nginx.get(url + "?", {"Accept-Encoding": "identity"})
        assert (status, body, headers["content-type"]) == (200, file.read_bytes(), reader_type)
        assert f'<{SITE_URL}{url}>; rel="self"' in headers["link"], url
        status, headers, body = nginx.get(url, {"Accept": "text/html", "Accept-Encoding": ""})
        assert (status, body) == (200, file.read_bytes()), url
        assert headers["content-type"] != reader_type, url
        status, headers, _ = nginx.get(url + "?page=1")
        assert (status, headers["location"]) == (301, url)
        second = file.with_name(f"{file.stem}.page2{file.suffix}")
        status, headers, body = nginx.get(url + "?page=2", {"Accept-Encoding": "identity"})
        if second.exists():
            seen_second_pages += 1
            assert (status, body) == (200, second.read_bytes()), url
            assert f'<{SITE_URL}{url}?page=2>; rel="self"' in headers["link"], url
        else:
            assert status == 404, url
    assert seen_second_pages > 3


def test_every_variant_of_the_static_bench_is_a_configuration_nginx_accepts(
    served: tuple[Nginx, Path], tmp_path: Path
) -> None:
    """bench/nginx_static_bench.py counts what a construct costs by serving the export's
    configuration less (or with) it: each variant must change the configuration and still be
    one that nginx loads (``nginx -t``), or the bench fails half-way through its runs."""
    bench = load("nginx_static_bench")
    generated = (served[1].parent / "nginx" / "feedsvc.conf").read_text()
    binary = nginx_binary()
    brotli = f"load_module {BROTLI_MODULE};" if BROTLI_MODULE.is_file() else ""
    for name, variant in bench.VARIANTS.items():
        changed = variant(generated)
        assert changed != generated, name
        folder = tmp_path / name
        folder.mkdir()
        (folder / "feedsvc.conf").write_text(changed)
        (folder / "nginx.conf").write_text(
            f"{brotli}\npid {folder / 'nginx.pid'};\nevents {{}}\n"
            f"http {{\n  include {folder / 'feedsvc.conf'};\n}}\n"
        )
        checked = subprocess.run(
            [binary, "-t", "-q", "-p", str(folder), "-c", str(folder / "nginx.conf")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, (name, checked.stderr)

"""The export takes a feed page's every coding from the service's fast path in one look-up
(feedsvc.deploy.export, ``SiteExporter._render_feed``), not from a request through the app for
each: the files it writes, their dates and the nginx configuration it learns from the headers
are what the export writes asking Flask's routes (the fast path left out) for every coding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import bundled_small_pages_app

from feedsvc.deploy import export as export_module
from feedsvc.deploy.export import NginxOptions, SiteExporter
from feedsvc.deploy.sitemap import site_pages
from feedsvc.feeds.urls import FEEDS_PREFIX
from feedsvc.web.fastpath import FastPath

NGINX = NginxOptions(root=Path("/srv/feedsvc"), brotli=True)


def exported(outdir: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the export with its modification time, and the nginx configuration."""
    public = outdir / "public"
    files = {
        p.relative_to(public).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in public.rglob("*")
        if p.is_file()
    }
    files["nginx"] = ((outdir / "nginx/feedsvc.conf").read_bytes(), 0)
    return files


def test_feed_pages_are_the_files_the_routes_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "POOL_MIN_PAGES", 10**9)  # requests seen in this process
    app = bundled_small_pages_app()
    fast = app.wsgi_app
    assert isinstance(fast, FastPath)
    asked: list[tuple[str, str | None]] = []
    answer = SiteExporter._answer

    def noted(exporter: SiteExporter, environ: dict[str, Any]) -> Any:
        if environ["PATH_INFO"].startswith(FEEDS_PREFIX):
            asked.append((environ["PATH_INFO"], environ.get("HTTP_ACCEPT_ENCODING")))
        return answer(exporter, environ)

    monkeypatch.setattr(SiteExporter, "_answer", noted)
    SiteExporter(app, tmp_path / "fast", NGINX).export()
    feed_pages = [page for page in site_pages(app) if page.path.startswith(FEEDS_PREFIX)]
    assert len(feed_pages) > 50
    # A few requests (what browsers are sent, once per format), none for a compressed coding.
    assert len(asked) < len(feed_pages) // 10
    assert not [request for request in asked if request[1] in ("gzip", "br")]
    app.wsgi_app = fast.flask_app  # type: ignore[method-assign]
    SiteExporter(app, tmp_path / "routes", NGINX).export()
    fast_files, route_files = exported(tmp_path / "fast"), exported(tmp_path / "routes")
    assert any(name.endswith(".rss.br") for name in fast_files)
    assert fast_files.keys() == route_files.keys()
    for name, (data, mtime) in fast_files.items():
        assert data == route_files[name][0], name
        if name.startswith("feeds/"):  # dated by the feed's Last-Modified (others: when written)
            assert mtime == route_files[name][1], name

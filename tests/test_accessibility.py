"""Every kind of page, and both widgets, checked by axe-core (npm, pinned in package.json)
in Debian's Chromium at a phone's and a desktop's width, with a screenshot of each for a person
to look at in tests/artifacts/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from test_browser import (  # noqa: F401 - fixtures, shared with the other browser tests
    REPO,
    WATCH_SCRIPT,
    Host,
    Site,
    bare_host_page,
    browser,
    host,
    offered_code,
    screenshot,
    site,
)

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
LIGHTHOUSE = REPO / "node_modules" / ".bin" / "lighthouse"
WIDTHS = (390, 1280)
# The rules of WCAG 2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PAGES = {
    "voorpagina": "/",
    "categorie": "/categorie/nieuws.html",
    "subcategorie": "/categorie/nieuws/gemeente/verkeer.html",
    "bron": "/bron/navo.html",
    "alle-berichten": "/berichten/pagina-1.html",
    "artikel": "/artikelen/2024/000_3a5bf95db61d80b1.html",
    "op-je-eigen-site": "/insluiten/categorie/nieuws.html",
    "fout-404": "/feeds/categorie/nieuwss.rss",
    "widget-iframe": "/embed/categorie/nieuws.html",
    "widget-iframe-compact": "/embed/categorie/nieuws.html?stijl=compact&aantal=3",
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        message = f"the accessibility tests need axe-core in {AXE.parent}: npm ci (scripts/test.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text("utf-8")


def violations(page: Page, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "tags => axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"{v['id']}: {v['help']} ({', '.join(json.dumps(n['target']) for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def wide_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:  # noqa: F811
    width = request.param
    mobile = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": 844 if mobile else 900},
        is_mobile=mobile,
        has_touch=mobile,
        locale="nl-NL",
        bypass_csp=True,  # lets axe's script in; the pages' own CSP is tested elsewhere
    )
    context.add_init_script(WATCH_SCRIPT)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_kind_of_page_has_no_accessibility_violations(
    wide_page: Page,
    site: Site,  # noqa: F811
    axe_source: str,
    name: str,
) -> None:
    wide_page.goto(site.abs(PAGES[name]))
    wide_page.wait_for_load_state("networkidle")
    width = wide_page.viewport_size["width"] if wide_page.viewport_size else 0
    screenshot(wide_page, f"a11y-{name}-{width}.png")
    assert violations(wide_page, axe_source) == []


def test_the_script_widget_on_another_site_has_no_violations(
    wide_page: Page,
    site: Site,  # noqa: F811
    host: Host,  # noqa: F811
    axe_source: str,
) -> None:
    code = offered_code(site, site.feed("categorie/nieuws"))
    url = bare_host_page(
        host,
        "/a11y-script.html",
        "<h1>Buren</h1>" + code.script + "<h2>Met iframe</h2>" + code.iframe + code.resize,
    )
    wide_page.goto(url)
    wide_page.locator("feedsvc-nieuws .fw-item").first.wait_for()
    wide_page.frame_locator("iframe").locator(".fw-item").first.wait_for()
    width = wide_page.viewport_size["width"] if wide_page.viewport_size else 0
    screenshot(wide_page, f"a11y-widgets-op-andere-site-{width}.png")
    assert violations(wide_page, axe_source) == []


def test_lighthouse_scores_100_for_accessibility_best_practices_and_seo(tmp_path: Path) -> None:
    """bench/lighthouse.py --check on the front page, a category page and an article page.
    Lighthouse's performance score depends on the machine: reported by the script, not checked.
    """
    if not LIGHTHOUSE.exists():
        message = f"this test needs Lighthouse in {LIGHTHOUSE.parent}: npm ci (scripts/test.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    results = tmp_path / "lighthouse.json"
    finished = subprocess.run(
        [sys.executable, str(REPO / "bench" / "lighthouse.py"), "--check", "--json", str(results)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    scores = json.loads(results.read_text("utf-8"))["scores"]
    assert set(scores) == {"voorpagina", "categorie", "artikel"}
    for page in scores.values():
        assert page["accessibility"] == page["best-practices"] == page["seo"] == 100

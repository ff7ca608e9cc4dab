"""Lighthouse scores of the site's main kinds of page: the front page, a category page and an
article page, in Debian's chromium (npm ``lighthouse``, pinned in package.json; scripts/test.sh
installs it with ``npm ci``).

Prints the accessibility, best-practices and SEO scores, which must be 100 (``--check`` exits 1
when one is not), and the performance score, which depends on the machine and is only
reported. A run that cannot measure (no chromium, no Lighthouse) says why in one line on
stderr and exits 1 as well. Raw scores go to bench/results/lighthouse.json (``--json`` to change).

Usage::

    .venv/bin/python bench/lighthouse.py [--check] [--json FILE] [--content DIR]

feedsvc runs in this process, served by Werkzeug's threaded server on a loopback port, over
the bundled content (or ``--content``); its site URL is that server's address.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import BenchError, find_tool, run_main
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feedsvc import create_app  # noqa: E402 - after the repository is on the path

LIGHTHOUSE = REPO / "node_modules" / ".bin" / "lighthouse"
PAGES = {
    "voorpagina": "/",
    "categorie": "/categorie/nieuws.html",
    "artikel": "/artikelen/2024/000_3a5bf95db61d80b1.html",
}
CHECKED = ("accessibility", "best-practices", "seo")
REPORTED = ("performance",)
RESULTS = REPO / "bench" / "results" / "lighthouse.json"


def lighthouse_version() -> str:
    package = REPO / "node_modules" / "lighthouse" / "package.json"
    version: str = json.loads(package.read_text("utf-8"))["version"]
    return version


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def run_lighthouse(url: str, chromium: str, output: Path) -> dict[str, float]:
    """The category scores (0-100) of one Lighthouse run on ``url``."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={output}",
        f"--only-categories={','.join((*CHECKED, *REPORTED))}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
    ]
    env = {**os.environ, "CHROME_PATH": chromium}
    finished = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=300
    )
    if finished.returncode != 0:
        raise BenchError(f"lighthouse failed on {url}: {finished.stderr.strip()[-2000:]}")
    report = json.loads(output.read_text("utf-8"))
    scores = {name: round(c["score"] * 100) for name, c in report["categories"].items()}
    failing = [
        f"{audit['id']} ({audit.get('title', '')})"
        for audit in report["audits"].values()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "numeric")
        and any(
            ref["id"] == audit["id"]
            for name in CHECKED
            for ref in report["categories"].get(name, {}).get("auditRefs", [])
            if ref.get("weight", 0) > 0
        )
    ]
    if failing:
        print(f"  failing audits: {', '.join(failing)}", file=sys.stderr)
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 unless checked scores are 100")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the scores")
    parser.add_argument("--content", type=Path, default=REPO / "content")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise BenchError(f"{LIGHTHOUSE} not found: npm ci (scripts/test.sh does it)")
    chromium = find_tool("chromium", "chromium")

    apps: list[Flask] = []

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        # The app's site URL is the server's address, known only once it listens.
        return apps[0](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    apps.append(create_app({"CONTENT_DIR": str(args.content), "SITE_URL": base, "WATCH": False}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, path in PAGES.items():
                scores = run_lighthouse(base + path, chromium, Path(tmp) / f"{name}.json")
                results[name] = scores
                shown = "  ".join(f"{key} {scores[key]:>3}" for key in (*CHECKED, *REPORTED))
                print(f"{name:<11} {path:<45} {shown}", flush=True)
    finally:
        server.shutdown()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "measured": datetime.now(UTC).isoformat(timespec="seconds"),
                "lighthouse": lighthouse_version(),
                "pages": PAGES,
                "scores": results,
            },
            indent=2,
        )
        + "\n"
    )
    below = [
        f"{name} {key} {scores[key]}"
        for name, scores in results.items()
        for key in CHECKED
        if scores[key] < 100
    ]
    if below:
        print("below 100: " + ", ".join(below), file=sys.stderr)
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    run_main(main)

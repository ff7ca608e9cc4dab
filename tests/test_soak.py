"""The load-and-soak run of ``bench/soak.py``, short: feedsvc under gunicorn while files change.

The long run (60 s, 64 connections) is described in docs/soak.md; this runs the same code for a
few seconds with fewer connections, so a regression in consistency under load (an article lost
during a reload, an ETag that is not its body's, a 500, a body cut short) fails CI. The soak's
checks are first shown to catch each kind of broken response, so its passing means something.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bench_modules import load
from conftest import BUNDLED_CONTENT
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

soak = load("soak")


# -- the checks catch what they are for ----------------------------------------------------------


class FakeResponse:
    """The part of http.client.HTTPResponse the soak's checks read."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


@pytest.fixture
def soak_client(content_dir: Path, make_app: Callable[..., Flask]) -> FlaskClient:
    """feedsvc over the soak's content, configured as the soak configures gunicorn."""
    soak.make_content(content_dir, BUNDLED_CONTENT)
    app = make_app(content_dir, SITE_URL=soak.SITE_URL, PAGE_SIZE=soak.PAGE_SIZE)
    return app.test_client()


def check(
    target: Any,
    body: bytes,
    headers: dict[str, str],
    *,
    status: int = 200,
    sent: dict[str, str] | None = None,
    coding: str = "identity",
) -> str | None:
    thread = soak.ClientThread(
        port=1, targets=[target], deadline=0.0, budget=soak.Budget(0), seed=1
    )
    request = soak.Sent("GET", coding, {"Accept-Encoding": coding, **(sent or {})}, None)
    if sent and "If-None-Match" in sent:
        request = soak.Sent("GET", coding, request.headers, sent["If-None-Match"])
    problem: str | None = thread._check(target, request, FakeResponse(status, headers), body)
    return problem


def served(
    client: FlaskClient, path: str, coding: str = "identity"
) -> tuple[bytes, dict[str, str]]:
    response = client.get(path, headers={"Accept": soak.ACCEPT, "Accept-Encoding": coding})
    assert response.status_code == 200
    return response.data, dict(response.headers)


ALL_FEEDS = [soak.Target("all-feed", f"/feeds/all.{ext}", ext) for ext in soak.FEED_EXTENSIONS]


@pytest.mark.parametrize("target", ALL_FEEDS, ids=lambda t: t.extension)
def test_real_responses_pass_the_checks(soak_client: FlaskClient, target: Any) -> None:
    for coding in soak.CODINGS:
        body, headers = served(soak_client, target.path, coding)
        assert check(target, body, headers, coding=coding) is None


def is_stable(item_id: str | None) -> bool:
    return bool(item_id) and "/artikelen/stabiel/" in str(item_id)


def without_one_stable_item(body: bytes, extension: str) -> bytes:
    if extension == "json":
        document = json.loads(body)
        items = document["items"]
        items.remove(next(item for item in items if is_stable(item["id"])))
        return json.dumps(document).encode()
    root = etree.fromstring(body)
    item = next(
        element
        for element in root.iter("item", "{http://www.w3.org/2005/Atom}entry")
        if is_stable(element.findtext("guid") or element.findtext("{*}id"))
    )
    parent = item.getparent()
    assert parent is not None
    parent.remove(item)
    return etree.tostring(root)


@pytest.mark.parametrize("target", ALL_FEEDS, ids=lambda t: t.extension)
def test_an_all_feed_without_a_stable_article_fails(soak_client: FlaskClient, target: Any) -> None:
    body, headers = served(soak_client, target.path)
    broken = without_one_stable_item(body, target.extension)
    headers["ETag"] = soak.expected_etag(broken, "identity")  # a consistent, but wrong, response
    headers["Content-Length"] = str(len(broken))
    problem = check(target, broken, headers)
    assert problem is not None
    assert "stable article(s) missing" in problem


def test_a_changed_stable_title_fails(soak_client: FlaskClient) -> None:
    target = ALL_FEEDS[2]
    body, headers = served(soak_client, target.path)
    document = json.loads(body)
    item = next(item for item in document["items"] if is_stable(item["id"]))
    item["title"] = item["title"].replace("&", "&amp;")
    broken = json.dumps(document).encode()
    headers.update(
        ETag=soak.expected_etag(broken, "identity"), **{"Content-Length": str(len(broken))}
    )
    assert "stable title changed" in (check(target, broken, headers) or "")


def test_the_stable_category_feed_must_be_exactly_the_stable_articles(
    soak_client: FlaskClient,
) -> None:
    target = soak.Target(
        "stable-feed", f"/feeds/categorie/{soak.STABLE_CATEGORY_SLUG}.json", "json"
    )
    body, headers = served(soak_client, target.path)
    assert check(target, body, headers) is None
    all_body, _ = served(soak_client, "/feeds/all.json")  # the stable ones and others
    headers.update(
        ETag=soak.expected_etag(all_body, "identity"), **{"Content-Length": str(len(all_body))}
    )
    assert "not the stable set" in (check(target, all_body, headers) or "")


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("etag", "is not that of the body"),
        ("length", "Content-Length"),
        ("xml", "not well-formed XML"),
        ("status", "status 500"),
        ("coding", "asked for gzip, got identity"),
        ("gzip", "does not decode"),
    ],
)
def test_broken_responses_fail(soak_client: FlaskClient, breakage: str, expected: str) -> None:
    target = ALL_FEEDS[0]
    coding = "gzip" if breakage in ("coding", "gzip") else "identity"
    body, headers = served(soak_client, target.path, coding)
    status = 200
    if breakage == "etag":
        headers["ETag"] = headers["ETag"].replace('"', '"0', 1)[:34] + '"'
    elif breakage == "length":
        body = body[:-10]  # a body cut short
    elif breakage == "xml":
        body = body.replace(b"</rss>", b"")
        headers.update(
            ETag=soak.expected_etag(body, "identity"), **{"Content-Length": str(len(body))}
        )
    elif breakage == "status":
        status = 500
    elif breakage == "coding":
        body = gzip.decompress(body)
        del headers["Content-Encoding"]
        headers["Content-Length"] = str(len(body))
    elif breakage == "gzip":
        body = body[:20] + b"\x00" * 20 + body[40:]
    problem = check(target, body, headers, status=status, coding=coding)
    assert problem is not None
    assert expected in problem


def test_a_304_needs_a_validator_and_the_etag_sent(soak_client: FlaskClient) -> None:
    target = ALL_FEEDS[0]
    _, headers = served(soak_client, target.path)
    etag = headers["ETag"]
    assert check(target, b"", {"ETag": etag}, status=304, sent={"If-None-Match": etag}) is None
    assert "without a validator" in (check(target, b"", {"ETag": etag}, status=304) or "")
    other = {"If-None-Match": '"0123"'}
    assert "304 with ETag" in (check(target, b"", {"ETag": etag}, status=304, sent=other) or "")


def test_memory_that_keeps_growing_in_the_second_half_is_a_problem() -> None:
    levelling_off = {"7": {"start": 40_000, "halfway": 90_000, "end": 100_000}}
    assert soak._memory_problems(levelling_off) == []
    leaking = {"7": {"start": 40_000, "halfway": 90_000, "end": 190_000}}
    assert soak._memory_problems(leaking) == [
        "worker 7 grew from 87.9 MiB halfway to 185.5 MiB at the end"
    ]


# -- the soak itself -------------------------------------------------------------------------------


def test_short_soak_under_gunicorn_while_files_change(tmp_path: Path) -> None:
    # Long enough for the halfway memory sample to come after a worker's caches and the history
    # of what it served have filled (the first seconds of the run, longer on a slower machine):
    # the check is that memory levels off in the second half, not that it stays low.
    config = soak.SoakConfig(
        duration=16.0,
        connections=16,
        client_processes=2,
        workers=2,
        edit_interval=0.04,
        keep_log=tmp_path / "gunicorn.log",
    )
    result = soak.run(config)
    # Correctness only: how many requests fit in the run depends on the machine, so no count
    # is asked for beyond "it happened" (bench/soak.py measures the rates).
    assert result.ok, result.summary()
    assert result.requests > 0, result.summary()
    assert set(result.statuses) <= {"200", "304"}
    assert result.not_modified > 0
    assert result.editor_ops.get("break", 0) > 0
    assert result.editor_ops.get("delete", 0) > 0
    assert result.all_feed_versions > 1, "the clients did not see the content change"
    assert len(result.worker_rss_kib) == 2
    for rss in result.worker_rss_kib.values():
        assert rss["start"]
        assert rss["halfway"]
        assert rss["end"]

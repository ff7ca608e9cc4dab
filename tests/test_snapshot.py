"""One snapshot per request: a reload that lands between two reads of the catalog in one
request must not turn a page into a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import ArticleWriter
from flask import Flask

from feedsvc.feeds.catalog import Catalog
from feedsvc.runtime import Runtime


@pytest.mark.parametrize(
    "url",
    [
        "/artikelen/a.html",
        "/categorie/nieuws/informatief.html",
        "/bron/gemeente-amstelveen.html",
        "/feeds/categorie/nieuws/informatief.atom",
        "/embed/categorie/nieuws/informatief.html",
        "/",
    ],
)
def test_a_reload_after_the_first_read_never_gives_a_500(
    write_article: ArticleWriter,
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    article = write_article("a.txt", category="Nieuws -> Informatief")
    app = make_app()
    service: Runtime = app.extensions["feedsvc"]
    before = service.publication
    article.unlink()  # the reload takes the article, its category and its source away
    assert service.refresh()
    after = service.publication
    assert "categorie/nieuws/informatief" not in after.catalog.feeds
    service.publication = before
    reads: list[Catalog] = []

    def catalog_then_reload(self: Runtime) -> Catalog:
        catalog = self.publication.catalog
        reads.append(catalog)
        self.publication = after  # the reload lands right after this read
        return catalog

    monkeypatch.setattr(Runtime, "catalog", property(catalog_then_reload))
    response = app.test_client().get(url)
    assert response.status_code == 200
    assert b"Gemeente opent nieuw park" in response.data

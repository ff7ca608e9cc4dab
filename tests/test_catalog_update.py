"""``update_catalog``: the catalog made from the previous one and a change is the catalog a full
build makes of the same articles, with the feeds the change did not touch kept as they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import BUNDLED_CONTENT, live_catalog
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.articles.model import Article, Category, Source
from feedsvc.feeds.catalog import Catalog, CategoryNode, build_catalog, update_catalog
from feedsvc.settings import Settings

TITLE = "Amstelveenweb"


def bundled_articles() -> list[Article]:
    store = live_catalog(Settings(content_dir=BUNDLED_CONTENT, watch_content=False))
    return list(store.reload().catalog.articles)


ARTICLES = bundled_articles()


def shape(catalog: Catalog) -> object:
    """Everything a catalog says, in a form that compares by value."""

    def tree(nodes: tuple[CategoryNode, ...]) -> list[object]:
        return [(node.feed.path, tree(node.children)) for node in nodes]

    return (
        catalog.articles,
        catalog.problems,
        [
            (path, f.kind, f.slug, f.name, f.title, f.description, f.articles, f.category, f.source)
            for path, f in catalog.feeds.items()
        ],
        # The newest update, against an independent reading of the feed's articles (an update
        # carries it over from the feed before rather than looking at every article).
        [
            (path, f.updated, max((a.updated for a in f.articles), default=None))
            for path, f in catalog.feeds.items()
        ],
        dict(catalog.by_id),
        tree(catalog.category_tree),
        [f.path for f in catalog.source_feeds],
    )


def newest_known(catalog: Catalog) -> None:
    """Have every feed of ``catalog`` find its newest update, as pages and sitemaps do, so an
    update made from it has that to carry over (and get wrong)."""
    for feed in catalog.feeds.values():
        assert feed.updated is not None


def variant(article: Article, number: int) -> Article:
    """Another article like ``article``: new id, other date, maybe other category or source."""
    category = Category((*article.category.names[:1], f"Nieuw {number % 3}"))
    source = Source(f"Bron {number % 4}") if number % 2 else article.source
    return replace(
        article,
        id=f"nieuw/{number}",
        source_path=f"nieuw/{number}.txt",
        published=article.published + timedelta(hours=number),
        updated=article.updated + timedelta(hours=number),
        category=category if number % 5 else article.category,
        source=source,
        title=f"{article.title} ({number})",
    )


@given(
    removed=st.sets(st.integers(0, len(ARTICLES) - 1), max_size=6),
    added=st.sets(st.integers(0, 200), max_size=6),
    edited=st.sets(st.integers(0, len(ARTICLES) - 1), max_size=3),
)
def test_an_update_is_the_full_build_of_the_same_articles(
    removed: set[int], added: set[int], edited: set[int]
) -> None:
    before = build_catalog(TITLE, ARTICLES)
    newest_known(before)
    gone = [ARTICLES[i] for i in removed | edited]
    new = [variant(ARTICLES[i % len(ARTICLES)], i) for i in added]
    new += [replace(ARTICLES[i], title=ARTICLES[i].title + " (bijgewerkt)") for i in edited]
    remaining = [a for i, a in enumerate(ARTICLES) if i not in removed | edited]

    updated = update_catalog(before, gone, new)

    assert updated is not None
    fresh = build_catalog(TITLE, [*remaining, *new])
    assert shape(updated) == shape(fresh)
    # What the update removed, as a publication asks it, without comparing every id.
    ids_removed = {ARTICLES[i].id for i in removed - edited}
    assert set(updated.removed_since(before)) == ids_removed
    assert set(fresh.removed_since(before)) == ids_removed  # not made by an update
    assert set(updated.removed_since(fresh)) == set()
    touched = {a.category for a in gone + new} | {a.source for a in gone + new}
    for path, feed in before.feeds.items():
        untouched = feed.category not in touched and feed.source not in touched
        if feed.category is not None and untouched:
            untouched = not any(
                c == feed.category for a in gone + new for c in a.category.lineage()
            )
        if untouched and path in updated.feeds and path != "all":
            assert updated.feeds[path] is feed, path


def test_a_change_of_the_most_common_spelling_needs_a_full_build() -> None:
    nieuws = [a for a in ARTICLES if a.category.names[0] == "Nieuws"]
    before = build_catalog(TITLE, ARTICLES)
    shouting = [replace(a, category=Category(("NIEUWS", *a.category.names[1:]))) for a in nieuws]
    assert update_catalog(before, nieuws, shouting) is None
    one = [shouting[0]]
    updated = update_catalog(before, nieuws[:1], one)
    assert updated is not None  # one odd spelling: the common one stays
    assert updated.by_id[nieuws[0].id].category.names[0] == "Nieuws"


def test_an_id_that_is_taken_needs_a_full_build() -> None:
    before = build_catalog(TITLE, ARTICLES)
    twin = replace(ARTICLES[1], id=ARTICLES[0].id, title="Tweeling")
    assert update_catalog(before, [], [twin]) is None


@pytest.mark.parametrize("hours", [-1, 0, 1])
def test_the_newest_update_follows_an_edit_of_the_newest_article(hours: int) -> None:
    """The all-feed's and its feeds' newest update after the newest article is edited to an
    older, the same or a newer date: looked for again where the newest one left."""
    before = build_catalog(TITLE, ARTICLES)
    newest_known(before)
    newest = before.articles[0]
    ordered = sorted(a.updated for a in ARTICLES)
    older = ordered[-2] + (ordered[-1] - ordered[-2]) / 2 if hours < 0 else None
    when = older if older is not None else newest.updated + timedelta(hours=hours)
    edited = replace(
        newest,
        published=min(newest.published, when),
        updated=when,
        title=newest.title + " (bijgewerkt)",
    )

    updated = update_catalog(before, [newest], [edited])

    assert updated is not None
    assert updated.all_feed.updated == max(a.updated for a in updated.articles)
    for feed in updated.feeds.values():
        assert feed.updated == max(a.updated for a in feed.articles), feed.path


@pytest.mark.parametrize("count", [0, 1, len(ARTICLES)])
def test_removing_articles_removes_feeds_that_become_empty(count: int) -> None:
    before = build_catalog(TITLE, ARTICLES)
    updated = update_catalog(before, ARTICLES[:count], [])
    assert updated is not None
    assert shape(updated) == shape(build_catalog(TITLE, ARTICLES[count:]))


def test_a_long_run_of_updates_is_the_full_build_of_the_same_articles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Articles by id stay right however many updates come, across the points where they
    are made into one dict again (every few updates, here)."""
    monkeypatch.setattr("feedsvc.feeds.catalog.BY_ID_LAYER_LIMIT", 5)
    current = build_catalog(TITLE, ARTICLES)
    articles = {a.id: a for a in ARTICLES}
    for number in range(12):
        existing = current.by_id[ARTICLES[number].id]
        if number % 3 == 0:  # one added
            gone, new = [], [variant(existing, number)]
        elif number % 3 == 1:  # one edited
            gone, new = [existing], [replace(existing, title=f"Versie {number}")]
        else:  # one removed
            gone, new = [existing], []
        newest_known(current)
        updated = update_catalog(current, gone, new)
        assert updated is not None
        for article in gone:
            del articles[article.id]
        articles.update((a.id, a) for a in new)
        fresh = build_catalog(TITLE, articles.values())
        assert shape(updated) == shape(fresh), number
        assert len(updated.by_id) == len(fresh.by_id) == len(articles)
        if number % 3 == 2:
            assert existing.id not in updated.by_id
            assert updated.by_id.get(existing.id) is None
            with pytest.raises(KeyError):
                updated.by_id[existing.id]
        current = updated

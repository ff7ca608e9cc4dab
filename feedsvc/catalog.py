"""What goes in each feed: the immutable snapshot of all articles, grouped into feeds.

A :class:`Catalog` is built from parsed articles in one go and never changes afterwards, so a
reload can swap a whole new catalog in atomically. It knows nothing of files, formats or HTTP.
"""

from __future__ import annotations

import enum
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from feedsvc.errors import ContentProblem, Severity
from feedsvc.model import Article, Category, Source, slugify

# A feed with no articles still needs an updated date; a fixed one keeps output reproducible.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FeedKind(enum.Enum):
    ALL = "all"
    CATEGORY = "categorie"
    SOURCE = "bron"


@dataclass(frozen=True, slots=True, eq=False)
class Feed:
    """One feed: a named, ordered (newest first) selection of articles."""

    kind: FeedKind
    slug: str  # "" for the all-feed, "nieuws/informatief" for a category, "navo" for a source
    name: str  # "Nieuws -> Informatief", "NAVO"; the site title for the all-feed
    title: str
    description: str
    articles: tuple[Article, ...] = field(repr=False)
    category: Category | None = None
    source: Source | None = None

    @property
    def path(self) -> str:
        """``all``, ``categorie/nieuws/informatief`` or ``bron/navo``: unique among feeds."""
        return "all" if self.kind is FeedKind.ALL else f"{self.kind.value}/{self.slug}"

    @property
    def updated(self) -> datetime:
        return newest_update(self.articles)

    def page_count(self, page_size: int) -> int:
        return max(1, math.ceil(len(self.articles) / page_size))

    def page(self, number: int, page_size: int) -> FeedPage:
        """Page ``number`` (1-based); raises :class:`PageOutOfRangeError` past the last page."""
        count = self.page_count(page_size)
        if not 1 <= number <= count:
            raise PageOutOfRangeError(f"feed {self.path!r} has pages 1 to {count}, not {number}")
        start = (number - 1) * page_size
        return FeedPage(self, number, count, self.articles[start : start + page_size])


class PageOutOfRangeError(LookupError):
    """A page number outside 1..page_count."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of a feed (RFC 5005 paging): page 1 holds the newest articles."""

    feed: Feed
    number: int
    count: int
    articles: tuple[Article, ...] = field(repr=False)

    @property
    def updated(self) -> datetime:
        """The newest update on this page, so a page's bytes and dates change together."""
        return newest_update(self.articles)


def newest_update(articles: Iterable[Article]) -> datetime:
    return max((article.updated for article in articles), default=EPOCH)


@dataclass(frozen=True, slots=True)
class CategoryNode:
    """A category in the tree, with its feed and its sub-categories (sorted by name)."""

    feed: Feed
    children: tuple[CategoryNode, ...]


@dataclass(frozen=True, eq=False)
class Catalog:
    """Every article and every feed, as loaded at one moment."""

    site_title: str
    articles: tuple[Article, ...] = field(repr=False)  # newest first
    problems: tuple[ContentProblem, ...] = field(default=(), repr=False)
    feeds: Mapping[str, Feed] = field(init=False, repr=False)
    by_id: Mapping[str, Article] = field(init=False, repr=False)
    category_tree: tuple[CategoryNode, ...] = field(init=False, repr=False)
    source_feeds: tuple[Feed, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Derived once here, since a catalog is read by every request and never changes.
        set_ = object.__setattr__
        set_(self, "by_id", {article.id: article for article in self.articles})
        all_feed = Feed(
            FeedKind.ALL,
            "",
            self.site_title,
            self.site_title,
            f"Alle berichten van {self.site_title}",
            self.articles,
        )
        category_feeds = self._category_feeds()
        source_feeds = self._source_feeds()
        feeds = {all_feed.path: all_feed}
        feeds.update((feed.path, feed) for feed in category_feeds)
        feeds.update((feed.path, feed) for feed in source_feeds)
        set_(self, "feeds", feeds)
        set_(self, "category_tree", _tree(category_feeds))
        set_(self, "source_feeds", tuple(sorted(source_feeds, key=lambda f: f.name.casefold())))

    @property
    def all_feed(self) -> Feed:
        return self.feeds["all"]

    @property
    def rejected(self) -> tuple[ContentProblem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    def _category_feeds(self) -> list[Feed]:
        members: defaultdict[Category, list[Article]] = defaultdict(list)
        for article in self.articles:  # newest first, so each list is too
            for category in article.category.lineage():
                members[category].append(article)
        return [
            Feed(
                FeedKind.CATEGORY,
                category.slug_path,
                category.label,
                f"{self.site_title}: {category.label}",
                f"Berichten in de categorie {category.label} van {self.site_title}",
                tuple(articles),
                category=category,
            )
            for category, articles in members.items()
        ]

    def _source_feeds(self) -> list[Feed]:
        members: defaultdict[Source, list[Article]] = defaultdict(list)
        for article in self.articles:
            if article.source is not None:
                members[article.source].append(article)
        return [
            Feed(
                FeedKind.SOURCE,
                source.slug,
                source.name,
                f"{self.site_title}: {source.name}",
                f"Berichten van {source.name} op {self.site_title}",
                tuple(articles),
                source=source,
            )
            for source, articles in members.items()
        ]


def build_catalog(
    site_title: str, articles: Iterable[Article], problems: Iterable[ContentProblem] = ()
) -> Catalog:
    """Sort the articles and merge categories and sources that differ only in spelling.

    Names that give the same slug ("nieuws" and "Nieuws") are one category or source, shown with
    their most common spelling, so a typo in case never splits a feed in two.
    """
    articles = list(articles)
    category_names = _canonical_category_names(articles)
    source_names = _canonical_names(a.source.name for a in articles if a.source is not None)
    canonical = [_canonicalize(a, category_names, source_names) for a in articles]
    canonical.sort(key=lambda article: article.sort_key)
    ordered_problems = sorted(problems, key=lambda p: (p.path, p.line, p.message))
    return Catalog(site_title, tuple(canonical), tuple(ordered_problems))


def _canonical_names(names: Iterable[str]) -> dict[str, str]:
    """For each slug, its most common spelling (ties: the alphabetically first)."""
    spellings: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for name in names:
        spellings[slugify(name)][name] += 1
    return {
        slug: min(counts, key=lambda name: (-counts[name], name))
        for slug, counts in spellings.items()
    }


def _canonical_category_names(articles: list[Article]) -> dict[tuple[str, ...], str]:
    spellings: defaultdict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for article in articles:
        slugs = article.category.slugs
        for depth, name in enumerate(article.category.names, start=1):
            spellings[slugs[:depth]][name] += 1
    return {
        slugs: min(counts, key=lambda name: (-counts[name], name))
        for slugs, counts in spellings.items()
    }


def _canonicalize(
    article: Article, category_names: dict[tuple[str, ...], str], source_names: dict[str, str]
) -> Article:
    slugs = article.category.slugs
    names = tuple(category_names[slugs[:depth]] for depth in range(1, len(slugs) + 1))
    changes: dict[str, object] = {}
    if names != article.category.names:
        changes["category"] = Category(names)
    if article.source is not None:
        source_name = source_names[article.source.slug]
        if source_name != article.source.name:
            changes["source"] = Source(source_name)
    return replace(article, **changes) if changes else article  # type: ignore[arg-type]


def _tree(category_feeds: list[Feed]) -> tuple[CategoryNode, ...]:
    children: defaultdict[Category | None, list[Feed]] = defaultdict(list)
    for feed in category_feeds:
        assert feed.category is not None
        children[feed.category.parent()].append(feed)

    def nodes(parent: Category | None) -> tuple[CategoryNode, ...]:
        feeds = sorted(children.get(parent, []), key=lambda f: f.name.casefold())
        return tuple(CategoryNode(feed, nodes(feed.category)) for feed in feeds)

    return nodes(None)

"""What goes in each feed: the immutable snapshot of all articles, grouped into feeds.

A :class:`Catalog` is built from parsed articles in one go and never changes afterwards, so a
reload can swap a whole new catalog in atomically. It knows nothing of files, formats or HTTP.

:func:`build_catalog` makes one from all articles; :func:`update_catalog` makes the same catalog
from the previous one and the articles that changed, in time that grows with the change rather
than with the site (at 100,000 articles a full build takes half a second), and keeps the feeds
the change did not touch, so everything derived from them can be kept too.
"""

from __future__ import annotations

import bisect
import enum
import math
import weakref
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import InitVar, dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from feedsvc.articles.model import SORT_KEY, Article, Category, Source, slugify
from feedsvc.errors import ContentProblem, Severity

_K = TypeVar("_K")
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
    # The newest update of its articles, found on first use: the all-feed's is asked for by
    # several pages of each edit, and finding it looks at every article of the site.
    _updated: datetime | None = field(default=None, init=False, repr=False)

    @property
    def path(self) -> str:
        """``all``, ``categorie/nieuws/informatief`` or ``bron/navo``: unique among feeds."""
        return "all" if self.kind is FeedKind.ALL else f"{self.kind.value}/{self.slug}"

    @property
    def updated(self) -> datetime:
        updated = self._updated
        if updated is None:
            updated = newest_update(self.articles)
            object.__setattr__(self, "_updated", updated)
        return updated

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


@dataclass(frozen=True, slots=True)
class _Spellings:
    """How often each category and source is written each way, before the spellings are merged:
    what the canonical names are chosen from."""

    categories: Counter[Category]
    sources: Counter[str]
    category_names: dict[tuple[str, ...], str]
    source_names: dict[str, str]

    @classmethod
    def of(cls, categories: Counter[Category], sources: Counter[str]) -> _Spellings:
        categories = +categories  # without the spellings no article uses any more
        sources = +sources
        return cls(
            categories, sources, _canonical_category_names(categories), _canonical_names(sources)
        )


# Ids an updated catalog's by_id holds apart from the dict it shares with the catalogs before
# (see _LayeredIds); beyond this many, it is made into one dict again.
BY_ID_LAYER_LIMIT = 1024
_GONE = None  # in a layer: the id is not in the catalog, whatever the shared dict says


class _LayeredIds(Mapping[str, Article]):
    """Articles by id: a dict shared with the catalogs before (never changed), and the ids
    that changed since it was made. An update makes a new small layer, not a new dict of every
    article: at 100,000 articles, copying the dict (touching every article) and the collector's
    walks over the new one were the largest part of an edit's catalog update."""

    __slots__ = ("_base", "_layer", "_len")

    def __init__(self, base: dict[str, Article], layer: dict[str, Article | None]) -> None:
        self._base = base
        self._layer = layer
        self._len = len(base) + sum(
            (value is not _GONE) - (key in base) for key, value in layer.items()
        )

    def __getitem__(self, key: str) -> Article:
        layer = self._layer
        found = layer[key] if key in layer else self._base[key]
        if found is None:
            raise KeyError(key)
        return found

    def get(self, key: str, default: Article | None = None) -> Article | None:  # type: ignore[override]
        layer = self._layer
        found = layer[key] if key in layer else self._base.get(key, default)
        return default if found is None else found

    def __contains__(self, key: object) -> bool:
        layer = self._layer
        if key in layer:
            return layer[key] is not _GONE
        return key in self._base

    def __iter__(self) -> Iterator[str]:
        layer = self._layer
        yield from (key for key in self._base if key not in layer)
        yield from (key for key, value in layer.items() if value is not _GONE)

    def __len__(self) -> int:
        return self._len


def _updated_ids(
    previous: Mapping[str, Article], gone: list[Article], new: list[Article]
) -> Mapping[str, Article]:
    """``previous`` without ``gone`` and with ``new``, sharing what it can with it."""
    if isinstance(previous, _LayeredIds):
        base, layer = previous._base, dict(previous._layer)
    else:
        base, layer = dict(previous) if not isinstance(previous, dict) else previous, {}
    for article in gone:
        layer[article.id] = _GONE
    for article in new:
        layer[article.id] = article
    if len(layer) <= BY_ID_LAYER_LIMIT:
        return _LayeredIds(base, layer)
    merged = dict(base)  # now and then: a new dict, and the layers start again
    for key, value in layer.items():
        if value is _GONE:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True, slots=True)
class _Prebuilt:
    """Category and source feeds made beforehand, by :func:`update_catalog`."""

    category_feeds: list[Feed]
    source_feeds: list[Feed]
    # The previous catalog's, updated (see _LayeredIds).
    by_id: Mapping[str, Article]
    # The all-feed's newest update, when the update could tell it without looking at every
    # article (see _updated_after).
    all_updated: datetime | None = None


@dataclass(frozen=True, eq=False)
class Catalog:
    """Every article and every feed, as loaded at one moment."""

    site_title: str
    articles: tuple[Article, ...] = field(repr=False)  # newest first
    problems: tuple[ContentProblem, ...] = field(default=(), repr=False)
    prebuilt: InitVar[_Prebuilt | None] = None
    feeds: Mapping[str, Feed] = field(init=False, repr=False)
    by_id: Mapping[str, Article] = field(init=False, repr=False)
    category_tree: tuple[CategoryNode, ...] = field(init=False, repr=False)
    source_feeds: tuple[Feed, ...] = field(init=False, repr=False)
    # Set by build_catalog and update_catalog: what the next update_catalog starts from.
    spellings: _Spellings | None = field(default=None, init=False, repr=False)
    # Set by update_catalog: the catalog it started from, and the ids of its articles that
    # this one does not have (see removed_since).
    _removed: tuple[weakref.ref[Catalog], frozenset[str]] | None = field(
        default=None, init=False, repr=False
    )

    def __post_init__(self, prebuilt: _Prebuilt | None) -> None:
        # Derived once here, since a catalog is read by every request and never changes.
        set_ = object.__setattr__
        if prebuilt is None:
            set_(self, "by_id", {article.id: article for article in self.articles})
        else:
            set_(self, "by_id", prebuilt.by_id)
        all_feed = Feed(
            FeedKind.ALL,
            "",
            self.site_title,
            self.site_title,
            f"Alle berichten van {self.site_title}",
            self.articles,
        )
        if prebuilt is None:
            category_feeds = self._category_feeds()
            source_feeds = self._source_feeds()
        else:
            category_feeds, source_feeds = prebuilt.category_feeds, prebuilt.source_feeds
        if prebuilt is not None and prebuilt.all_updated is not None:
            set_(all_feed, "_updated", prebuilt.all_updated)
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
    def category_rows(self) -> list[tuple[CategoryNode, int]]:
        """:attr:`category_tree` in reading order with each node's depth (see tree_rows)."""
        return tree_rows(self.category_tree)

    def removed_since(self, before: Catalog) -> Collection[str]:
        """The ids of ``before``'s articles that this catalog does not have: what the update
        that made this catalog from ``before`` removed, or else found by comparing every id."""
        removed = self._removed
        if removed is not None and removed[0]() is before:
            return removed[1]
        return before.by_id.keys() - self.by_id.keys()

    @property
    def rejected(self) -> tuple[ContentProblem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    def _category_feeds(self) -> list[Feed]:
        members: defaultdict[Category, list[Article]] = defaultdict(list)
        lineages: dict[Category, tuple[Category, ...]] = {}  # a few hundred, for 100,000s
        for article in self.articles:  # newest first, so each list is too
            lineage = lineages.get(article.category)
            if lineage is None:
                lineage = lineages[article.category] = article.category.lineage()
            for category in lineage:
                members[category].append(article)
        return [
            _category_feed(self.site_title, category, tuple(articles))
            for category, articles in members.items()
        ]

    def _source_feeds(self) -> list[Feed]:
        members: defaultdict[Source, list[Article]] = defaultdict(list)
        for article in self.articles:
            if article.source is not None:
                members[article.source].append(article)
        return [
            _source_feed(self.site_title, source, tuple(articles))
            for source, articles in members.items()
        ]


def _category_feed(site_title: str, category: Category, articles: tuple[Article, ...]) -> Feed:
    return Feed(
        FeedKind.CATEGORY,
        category.slug_path,
        category.label,
        f"{site_title}: {category.label}",
        f"Berichten in de categorie {category.label} van {site_title}",
        articles,
        category=category,
    )


def _source_feed(site_title: str, source: Source, articles: tuple[Article, ...]) -> Feed:
    return Feed(
        FeedKind.SOURCE,
        source.slug,
        source.name,
        f"{site_title}: {source.name}",
        f"Berichten van {source.name} op {site_title}",
        articles,
        source=source,
    )


def build_catalog(
    site_title: str, articles: Iterable[Article], problems: Iterable[ContentProblem] = ()
) -> Catalog:
    """Sort the articles and merge categories and sources that differ only in spelling.

    Names that give the same slug ("nieuws" and "Nieuws") are one category or source, shown with
    their most common spelling, so a typo in case never splits a feed in two.
    """
    articles = list(articles)
    # Spellings are counted per distinct category and source (a few hundred), not per article.
    spellings = _Spellings.of(
        Counter(article.category for article in articles),
        Counter(article.source.name for article in articles if article.source is not None),
    )
    categories = {
        category: _canonical_category(category, spellings.category_names)
        for category in spellings.categories
    }
    # Most articles are written the common way: kept as they are, told by identity and a set.
    source_names = set(spellings.source_names.values())
    canonical = [
        article
        if categories[article.category] is article.category
        and (article.source is None or article.source.name in source_names)
        else _canonicalize(article, categories, spellings.source_names)
        for article in articles
    ]
    canonical.sort(key=SORT_KEY)
    catalog = Catalog(site_title, tuple(canonical), _ordered(problems))
    object.__setattr__(catalog, "spellings", spellings)
    return catalog


def update_catalog(
    previous: Catalog,
    removed: Iterable[Article],
    added: Iterable[Article],
    problems: Iterable[ContentProblem] = (),
) -> Catalog | None:
    """The catalog of ``previous``'s articles without ``removed`` and with ``added`` (both as
    given to the catalog, before their spellings were merged), or None when only a full build
    can make it: when the change makes another spelling of a category or source the most
    common one (every article that uses it changes), or when article ids would clash.

    The result is the catalog :func:`build_catalog` would make of the same articles; feeds the
    change does not touch are the same objects as in ``previous``.
    """
    before = previous.spellings
    if before is None:
        return None
    removed, added = list(removed), list(added)
    categories, sources = before.categories.copy(), before.sources.copy()
    for sign, articles in ((-1, removed), (1, added)):
        for article in articles:
            categories[article.category] += sign
            if article.source is not None:
                sources[article.source.name] += sign
    spellings = _Spellings.of(categories, sources)
    if _renamed(before.category_names, spellings.category_names) or _renamed(
        before.source_names, spellings.source_names
    ):
        return None
    old = [previous.by_id.get(article.id) for article in removed]
    canonical_categories = {
        category: _canonical_category(category, spellings.category_names)
        for category in {article.category for article in added}
    }
    new = [_canonicalize(a, canonical_categories, spellings.source_names) for a in added]
    old_ids = {article.id for article in old if article is not None}
    new_ids = {article.id for article in new}
    if (
        None in old
        or len(new_ids) != len(new)
        or any(i in previous.by_id and i not in old_ids for i in new_ids)
    ):
        return None
    gone = [article for article in old if article is not None]
    site_title = previous.site_title
    changes: defaultdict[str, tuple[list[Article], list[Article]]] = defaultdict(lambda: ([], []))
    for index, articles in ((0, gone), (1, new)):
        for article in articles:
            for category in article.category.lineage():
                changes[f"{FeedKind.CATEGORY.value}/{category.slug_path}"][index].append(article)
            if article.source is not None:
                changes[f"{FeedKind.SOURCE.value}/{article.source.slug}"][index].append(article)
    feeds = {path: feed for path, feed in previous.feeds.items() if feed.kind is not FeedKind.ALL}
    for path, (leaving, coming) in changes.items():
        feed = feeds.get(path)
        members = _changed(feed.articles if feed is not None else (), leaving, coming)
        if not members:
            feeds.pop(path, None)
        elif feed is not None:
            feeds[path] = replace(feed, articles=members)
            _carry_updated(feeds[path], feed, leaving, coming)
        elif path.startswith(f"{FeedKind.CATEGORY.value}/"):
            lineage = members[0].category.lineage()
            category = next(
                c for c in lineage if f"{FeedKind.CATEGORY.value}/{c.slug_path}" == path
            )
            feeds[path] = _category_feed(site_title, category, members)
        else:
            source = members[0].source
            assert source is not None
            feeds[path] = _source_feed(site_title, source, members)
    # In the order a full build finds them: by their newest article, outer categories first.
    category_feeds = sorted(
        (f for f in feeds.values() if f.kind is FeedKind.CATEGORY),
        key=lambda f: (f.articles[0].sort_key, f.category.depth if f.category else 0),
    )
    source_feeds = sorted(
        (f for f in feeds.values() if f.kind is FeedKind.SOURCE),
        key=lambda f: f.articles[0].sort_key,
    )
    by_id = _updated_ids(previous.by_id, gone, new)
    everyone = _changed(previous.articles, gone, new)
    all_updated = _updated_after(previous.all_feed, gone, new) if everyone else None
    catalog = Catalog(
        site_title,
        everyone,
        _ordered(problems),
        _Prebuilt(category_feeds, source_feeds, by_id, all_updated),
    )
    object.__setattr__(catalog, "spellings", spellings)
    removed_ids = frozenset(article.id for article in gone) - new_ids
    object.__setattr__(catalog, "_removed", (weakref.ref(previous), removed_ids))
    return catalog


def _updated_after(before: Feed, leaving: list[Article], coming: list[Article]) -> datetime | None:
    """The newest update of ``before``'s articles without ``leaving`` and with ``coming``,
    from ``before``'s if it was found already; None when only looking at every article can
    tell (one that leaves may have been the newest). At 100,000 articles, finding the
    all-feed's again took tens of milliseconds of every edit."""
    newest = before._updated
    if newest is None or any(article.updated >= newest for article in leaving):
        return None
    return max([newest, *(article.updated for article in coming)])


def _carry_updated(feed: Feed, before: Feed, leaving: list[Article], coming: list[Article]) -> None:
    """Give ``feed`` (``before`` after the change) its newest update, if it can be told."""
    newest = _updated_after(before, leaving, coming)
    if newest is not None:
        object.__setattr__(feed, "_updated", newest)


def _renamed(before: Mapping[_K, str], after: Mapping[_K, str]) -> bool:
    """Whether a slug that is in both is written another way now."""
    return any(after.get(slug, name) != name for slug, name in before.items())


def _changed(
    articles: tuple[Article, ...], leaving: list[Article], coming: list[Article]
) -> tuple[Article, ...]:
    """``articles`` (newest first) without ``leaving`` and with ``coming``, in order."""
    members = list(articles)
    for article in leaving:
        index = bisect.bisect_left(members, article.sort_key, key=SORT_KEY)
        if index < len(members) and members[index] is article:
            del members[index]
    for article in coming:
        bisect.insort(members, article, key=SORT_KEY)
    return tuple(members)


def _ordered(problems: Iterable[ContentProblem]) -> tuple[ContentProblem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.path, p.line, p.message)))


def _canonical_names(names: Counter[str]) -> dict[str, str]:
    """For each slug, its most common spelling (ties: the alphabetically first)."""
    spellings: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for name, count in names.items():
        spellings[slugify(name)][name] += count
    return {
        slug: min(counts, key=lambda name: (-counts[name], name))
        for slug, counts in spellings.items()
    }


def _canonical_category_names(categories: Counter[Category]) -> dict[tuple[str, ...], str]:
    spellings: defaultdict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for category, count in categories.items():
        slugs = category.slugs
        for depth, name in enumerate(category.names, start=1):
            spellings[slugs[:depth]][name] += count
    return {
        slugs: min(counts, key=lambda name: (-counts[name], name))
        for slugs, counts in spellings.items()
    }


def _canonical_category(category: Category, names: dict[tuple[str, ...], str]) -> Category:
    slugs = category.slugs
    canonical = tuple(names[slugs[:depth]] for depth in range(1, len(slugs) + 1))
    return category if canonical == category.names else Category(canonical)


def _canonicalize(
    article: Article, categories: dict[Category, Category], source_names: dict[str, str]
) -> Article:
    category = categories[article.category]
    changes: dict[str, object] = {}
    if category.names != article.category.names:
        changes["category"] = category
    if article.source is not None:
        source_name = source_names[article.source.slug]
        if source_name != article.source.name:
            changes["source"] = Source(source_name)
    return replace(article, **changes) if changes else article  # type: ignore[arg-type]


def _tree(category_feeds: list[Feed]) -> tuple[CategoryNode, ...]:
    """The category feeds as a tree, each level sorted by name.

    Built bottom-up, deepest categories first, without recursion: the depth is the content's.
    """
    pending: defaultdict[Category | None, list[CategoryNode]] = defaultdict(list)
    for feed in sorted(category_feeds, key=lambda f: -len(f.category.names if f.category else ())):
        assert feed.category is not None
        children = _by_name(pending.pop(feed.category, []))
        pending[feed.category.parent()].append(CategoryNode(feed, children))
    return _by_name(pending.get(None, []))


def _by_name(nodes: list[CategoryNode]) -> tuple[CategoryNode, ...]:
    return tuple(sorted(nodes, key=lambda node: node.feed.name.casefold()))


def tree_rows(nodes: tuple[CategoryNode, ...]) -> list[tuple[CategoryNode, int]]:
    """The nodes of a tree in reading order, each with its depth (0 at the top), without
    recursion: what a template renders nested lists from."""
    rows: list[tuple[CategoryNode, int]] = []
    stack = [(node, 0) for node in reversed(nodes)]
    while stack:
        node, depth = stack.pop()
        rows.append((node, depth))
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return rows

"""Catalog and settings in, :mod:`feedsvc.feeds.document` values out: every URL, title and date a
feed or an OPML list holds is decided here, once, so the writers only write.

:func:`build_document` makes the document of one feed page in one format (a page's links point to
its own format); :func:`build_opml` makes either OPML list.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from feedsvc import __version__
from feedsvc.articles.dates import format_dutch_date
from feedsvc.articles.model import Article
from feedsvc.feeds.catalog import Catalog, CategoryNode, Feed, FeedPage, newest_update
from feedsvc.feeds.document import (
    BrowserView,
    DocumentCategory,
    DocumentEntry,
    DocumentSource,
    FeedDocument,
    IdentityCache,
    Link,
    OpmlDocument,
    Outline,
)
from feedsvc.feeds.urls import (
    CATEGORY_SCHEME_PATH,
    article_path,
    feed_page_path,
    feed_path,
    source_feed_path,
)
from feedsvc.feeds.writers import FORMATS, RSS
from feedsvc.settings import Settings

GENERATOR_NAME = "feedsvc"
LANGUAGE = "nl"
ICON_PATH = "/static/icon.png"  # 512x512, for JSON Feed's icon
FAVICON_PATH = "/static/favicon.png"  # 64x64: Atom icon, RSS image, JSON Feed favicon
FAVICON_SIZE = 64
# CSS that makes RSS and Atom readable when opened in a browser (no XSLT: browsers dropped it).
FEED_STYLESHEET_PATH = "/static/feed.css"
RSS_DOCS = "https://www.rssboard.org/rss-specification"
OPML_DOCS = "http://opml.org/spec2.opml"
# Where the "_bron" and "_categorie" JSON Feed extensions are explained, as JSON Feed asks.
EXTENSIONS_ABOUT_PATH = "/#json-feed"
# Articles whose feed entries are kept (one per format), about 5-10 KB each with the body's HTML.
# An article's feeds (all, its category's levels, its source) are rendered near one another,
# and a page's three formats one after the other.
ENTRY_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _ArticleParts:
    """What an article's entries share in every format: made once per article."""

    settings: Settings
    link: str  # the article's page, absolute: its entries' id and link in every format
    content_html: str
    published_text: str
    category: DocumentCategory
    entries: dict[str, DocumentEntry]  # by format extension, filled as formats are asked for


_parts: IdentityCache[Article, _ArticleParts] = IdentityCache(ENTRY_CACHE_SIZE)


def keep_entries_at_most(limit: int) -> None:
    """From now on, this process keeps what it made of at most ``limit`` articles for their
    feed entries (the body as HTML, an entry per format), whatever it keeps of anything else
    (:meth:`IdentityCache.keep_at_most`)."""
    _parts.keep_here_at_most(limit)


def build_document(page: FeedPage, extension: str, settings: Settings) -> FeedDocument:
    """The document of ``page`` in the format with URL extension ``extension``."""
    fmt = FORMATS[extension]
    feed = page.feed

    def url(number: int) -> str:
        return settings.url(feed_path(feed, extension, number))

    paged = page.count > 1
    previous_url = url(page.number - 1) if page.number > 1 else None
    next_url = url(page.number + 1) if page.number < page.count else None
    return FeedDocument(
        extension=extension,
        media_type=fmt.media_type,
        id=url(1),
        title=feed.title,
        description=feed.description,
        language=LANGUAGE,
        rights=f"© {settings.site_title}",
        author_name=settings.site_title,
        author_url=settings.url("/"),
        self_url=url(page.number),
        alternate_url=settings.url(feed_page_path(feed)),
        first_url=url(1) if paged else None,
        previous_url=previous_url,
        next_url=next_url,
        last_url=url(page.count) if paged else None,
        hub_url=settings.websub_hub,
        generator_name=GENERATOR_NAME,
        generator_version=__version__,
        icon_url=settings.url(ICON_PATH),
        favicon_url=settings.url(FAVICON_PATH),
        favicon_size=FAVICON_SIZE,
        stylesheet_url=settings.url(FEED_STYLESHEET_PATH),
        docs_url=RSS_DOCS,
        extensions_about_url=settings.url(EXTENSIONS_ABOUT_PATH),
        updated=page.updated,
        ttl_minutes=max(1, settings.cache_max_age // 60),
        entries=tuple(_entry(article, extension, settings) for article in page.articles),
        browser_view=BrowserView(
            home=Link(f"Naar {settings.site_title}", settings.url("/")),
            notice="Dit is een nieuwsfeed.",
            explanation=(
                "Met een feedlezer (zoals Feedly, Inoreader of NetNewsWire) krijg je nieuwe "
                "berichten vanzelf binnen, zonder steeds de website te bezoeken."
            ),
            subscribe=Link("Volg deze feed in je feedlezer", settings.url(feed_page_path(feed))),
            copy_hint="Of kopieer dit adres en plak het in je feedlezer:",
            address=url(1),
            source_label="Bron",
            newer=None if previous_url is None else Link("Nieuwere berichten", previous_url),
            older=None if next_url is None else Link("Oudere berichten", next_url),
        ),
    )


def _entry(article: Article, extension: str, settings: Settings) -> DocumentEntry:
    """The entry of ``article`` in the format ``extension``: the same object on every page of
    every feed it is on (while cached), so writers can reuse what they make of it too."""
    parts = _parts.get(article)
    if parts is None or parts.settings is not settings:
        parts = _ArticleParts(
            settings=settings,
            link=settings.url(article_path(article.id)),
            content_html=body_html(article),
            published_text=format_dutch_date(article.published),
            category=_category(article, settings),
            entries={},
        )
        _parts.put(article, parts)
    entry = parts.entries.get(extension)
    if entry is None:
        entry = parts.entries.setdefault(extension, _new_entry(article, extension, parts))
    return entry


def _category(article: Article, settings: Settings) -> DocumentCategory:
    category = article.category
    return DocumentCategory(
        names=category.names,
        path=category.path,
        label=category.label,
        scheme=settings.url(CATEGORY_SCHEME_PATH),
        # The label, as editors write it and the site shows it: "Nieuws -> Informatief".
        # The slug path it replaced ("nieuws/informatief") is an identifier, not a name.
        display=category.label,
    )


def _new_entry(article: Article, extension: str, parts: _ArticleParts) -> DocumentEntry:
    settings = parts.settings
    link = parts.link
    source = None
    if article.source is not None:
        source = DocumentSource(
            name=article.source.name,
            feed_url=settings.url(source_feed_path(article.source, extension)),
            updated=article.updated,
        )
    return DocumentEntry(
        id=link,
        link=link,
        title=article.title,
        summary=article.summary,
        content_html=parts.content_html,
        published=article.published,
        updated=article.updated,
        published_text=parts.published_text,
        category=parts.category,
        source=source,
    )


def body_html(article: Article) -> str:
    """The article body as HTML paragraphs; line breaks inside a paragraph become ``<br />``."""
    return "\n".join(
        "<p>" + "<br />\n".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in article.paragraphs
    )


def build_opml(catalog: Catalog, settings: Settings, *, directory: bool = False) -> OpmlDocument:
    """An OPML list: by default the subscription list, every article once (each top-level
    category's feed; every article has a category); with ``directory`` every feed of the site.

    Folders are plain outlines and each category with sub-categories is a folder holding its
    own feed beside theirs, so no feed outline is also a folder.
    """
    outlines: tuple[Outline, ...]
    if directory:
        title = f"Alle feeds van {settings.site_title}"
        outlines = (
            Outline(
                "Alle berichten",
                children=(_feed_outline(catalog.all_feed, "Alle berichten", settings),),
            ),
            Outline(
                "Categorieën",
                children=tuple(_category_outline(node, settings) for node in catalog.category_tree),
            ),
            Outline(
                "Bronnen",
                children=tuple(
                    _feed_outline(feed, feed.name, settings) for feed in catalog.source_feeds
                ),
            ),
        )
    else:
        title = f"Feeds van {settings.site_title}"
        outlines = (
            Outline(
                "Categorieën",
                children=tuple(
                    _feed_outline(node.feed, _category_name(node), settings)
                    for node in catalog.category_tree
                ),
            ),
        )
    return OpmlDocument(
        title=title,
        created=newest_update(catalog.articles),
        owner_name=settings.site_title,
        owner_url=settings.url("/"),
        docs_url=OPML_DOCS,
        language=LANGUAGE,
        outlines=outlines,
    )


def _category_name(node: CategoryNode) -> str:
    assert node.feed.category is not None
    return node.feed.category.name


def _category_outline(node: CategoryNode, settings: Settings) -> Outline:
    name = _category_name(node)
    if not node.children:
        return _feed_outline(node.feed, name, settings)
    own = _feed_outline(node.feed, f"Alles in {name}", settings)
    children = tuple(_category_outline(child, settings) for child in node.children)
    return Outline(name, children=(own, *children))


def _feed_outline(feed: Feed, text: str, settings: Settings) -> Outline:
    return Outline(
        text,
        title=feed.title,
        xml_url=settings.url(feed_path(feed, RSS.extension)),
        html_url=settings.url(feed_page_path(feed)),
    )

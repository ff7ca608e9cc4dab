"""Catalog and settings in, :mod:`feedsvc.feeds.document` values out: every URL, title and date a
feed or an OPML list holds is decided here, once, so the writers only write.

:func:`build_document` makes the document of one feed page in one format (a page's links point to
its own format); :func:`build_opml` makes either OPML list.
"""

from __future__ import annotations

import html

from feedsvc import __version__
from feedsvc.articles.model import Article
from feedsvc.feeds.catalog import Catalog, CategoryNode, Feed, FeedPage, newest_update
from feedsvc.feeds.document import (
    DocumentCategory,
    DocumentEntry,
    DocumentSource,
    FeedDocument,
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


def build_document(page: FeedPage, extension: str, settings: Settings) -> FeedDocument:
    """The document of ``page`` in the format with URL extension ``extension``."""
    fmt = FORMATS[extension]
    feed = page.feed

    def url(number: int) -> str:
        return settings.url(feed_path(feed, extension, number))

    paged = page.count > 1
    scheme = settings.url(CATEGORY_SCHEME_PATH)
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
        previous_url=url(page.number - 1) if page.number > 1 else None,
        next_url=url(page.number + 1) if page.number < page.count else None,
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
        entries=tuple(_entry(article, extension, scheme, settings) for article in page.articles),
    )


def _entry(article: Article, extension: str, scheme: str, settings: Settings) -> DocumentEntry:
    link = settings.url(article_path(article.id))
    category = article.category
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
        content_html=body_html(article),
        published=article.published,
        updated=article.updated,
        category=DocumentCategory(
            names=category.names,
            path=category.path,
            label=category.label,
            scheme=scheme,
            # The label, as editors write it and the site shows it: "Nieuws -> Informatief".
            # The slug path it replaced ("nieuws/informatief") is an identifier, not a name.
            display=category.label,
        ),
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

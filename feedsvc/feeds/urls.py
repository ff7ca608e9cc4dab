"""Every site path feedsvc publishes, built in one place; absolute URLs come from Settings.url."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, unquote

from feedsvc.articles.model import Source
from feedsvc.feeds.catalog import Catalog, Feed, FeedKind

FEEDS_PREFIX = "/feeds/"
ARTICLES_PREFIX = "/artikelen/"
OPML_PATH = "/feeds.opml"  # the subscription list: every article once
OPML_DIRECTORY_PATH = "/feeds-alle.opml"  # every feed of the site
CATEGORY_SCHEME_PATH = "/categorie/"
EMBED_PREFIX = "/embed/"
EMBED_SCRIPT_PATH = "/embed.js"


def article_path(article_id: str) -> str:
    """``/artikelen/2024/mijn-bericht.html`` for the article with id ``2024/mijn-bericht``."""
    return ARTICLES_PREFIX + quote(article_id, safe="/") + ".html"


def feed_path(feed: Feed, extension: str, page: int = 1) -> str:
    """``/feeds/categorie/nieuws.rss``; later pages add ``?page=N`` (RFC 5005 paging)."""
    return _feed_path(feed.path, extension, page)


def feed_path_of(path: str, extension: str, page: int = 1) -> str:
    """:func:`feed_path` by the feed's path (``categorie/nieuws``) rather than the feed."""
    return _feed_path(path, extension, page)


def source_feed_path(source: Source, extension: str) -> str:
    """The first page of the feed of everything from ``source``: ``/feeds/bron/navo.rss``."""
    return _feed_path(f"{FeedKind.SOURCE.value}/{source.slug}", extension, 1)


def _feed_path(path: str, extension: str, page: int) -> str:
    url = FEEDS_PREFIX + _quoted(path) + "." + extension
    return url if page == 1 else f"{url}?page={page}"


def feed_page_path(feed: Feed) -> str:
    """The HTML page of a feed: ``/``, ``/categorie/nieuws.html``, ``/bron/navo.html``."""
    if feed.kind is FeedKind.ALL:
        return "/"
    return "/" + _quoted(feed.path) + ".html"


# Feeds are few (hundreds at 10,000 articles) and their paths are quoted for every link of every
# page of theirs and of every source an entry names, in each format: quoted once each.
@lru_cache(maxsize=4096)
def _quoted(path: str) -> str:
    return quote(path, safe="/")


def embed_path(feed: Feed) -> str:
    """The iframe widget of a feed: ``/embed/all.html``, ``/embed/categorie/nieuws.html``."""
    return EMBED_PREFIX + quote(feed.path, safe="/") + ".html"


ALL_ARTICLES_PREFIX = "/berichten/"
LISTING_PAGE_PREFIX = "pagina-"


def listing_path(feed: Feed, page: int = 1) -> str:
    """Page ``page`` of a feed's articles on the site: the category or source page
    (``/categorie/nieuws.html``, then ``/categorie/nieuws/pagina-2.html``), and for the
    all-feed the "Alle berichten" pages (``/berichten/pagina-1.html``, ``…/pagina-2.html``:
    one route for all of them, so that it always has pages to export)."""
    if feed.kind is FeedKind.ALL:
        return f"{ALL_ARTICLES_PREFIX}{LISTING_PAGE_PREFIX}{page}.html"
    if page == 1:
        return feed_page_path(feed)
    return f"/{quote(feed.path, safe='/')}/{LISTING_PAGE_PREFIX}{page}.html"


EMBED_PAGE_PREFIX = "/insluiten/"


def embed_page_path(feed: Feed) -> str:
    """The webmasters' page of a feed's widgets: ``/insluiten/categorie/nieuws.html``."""
    return EMBED_PAGE_PREFIX + quote(feed.path, safe="/") + ".html"


def is_html_page(catalog: Catalog, path: str, page_size: int) -> bool:
    """Whether ``path`` is an HTML page of ``catalog``'s site as the functions above build them:
    the front page, an article's page, or a page of a feed's listing.

    For dropping what is remembered of pages that are gone; answered by building the path
    again from what it names, so it agrees with the paths the site links. A feed's widget
    (with its options as a query) and its webmasters' page count as pages too.
    """
    if path == "/":
        return True
    for prefix, build in ((EMBED_PREFIX, embed_path), (EMBED_PAGE_PREFIX, embed_page_path)):
        stem = path.partition("?")[0] if prefix == EMBED_PREFIX else path
        if stem.startswith(prefix) and stem.endswith(".html"):
            feed = catalog.feeds.get(unquote(stem[len(prefix) : -len(".html")]))
            return feed is not None and build(feed) == stem
    if not path.endswith(".html"):
        return False
    if path.startswith(ARTICLES_PREFIX):
        found = catalog.by_id.get(unquote(path[len(ARTICLES_PREFIX) : -len(".html")]))
        return found is not None and article_path(found.id) == path
    stem = unquote(path[1 : -len(".html")])
    shown, number = catalog.feeds.get(stem), 1
    if shown is None or shown.kind is FeedKind.ALL:
        head, _, tail = stem.rpartition("/" + LISTING_PAGE_PREFIX)
        if not (tail.isascii() and tail.isdigit()):
            return False
        number = int(tail)
        if head == ALL_ARTICLES_PREFIX.strip("/"):
            shown = catalog.all_feed
        else:
            shown = catalog.feeds.get(head)
    if shown is None or not 1 <= number <= shown.page_count(page_size):
        return False
    return listing_path(shown, number) == path

"""Limits on what content may be, so that everything ``check`` accepts can be served, exported
and read back.

Each limit comes from a component that fails beyond it, with a margin:

- a file or folder name is at most :data:`MAX_NAME_BYTES` bytes: the export writes an
  article's page as ``NAME.html.br`` (and file systems allow 255 bytes per name);
- a URL path is at most :data:`MAX_URL_PATH` characters, percent-encoded: gunicorn refuses
  request lines over 4,094 bytes (414), and some clients and proxies go no further than 2,000;
- folders nest at most :data:`MAX_FOLDER_DEPTH` deep and categories have at most
  :data:`MAX_CATEGORY_DEPTH` levels: every level is a folder of the export, a nested outline of
  the OPML (lxml refuses documents nested deeper than 256) and a level of the category tree on
  the pages;
- no folder name ends in ``.html``: an article ``nieuws.txt`` is exported as ``nieuws.html``,
  which a folder ``nieuws.html/`` beside it would collide with.

Each function returns the message for the content error, or None.
"""

from __future__ import annotations

import functools
from urllib.parse import quote

from feedsvc.articles.model import slugify

MAX_NAME_BYTES = 200
MAX_URL_PATH = 2000
MAX_FOLDER_DEPTH = 32
MAX_CATEGORY_DEPTH = 20
PAGE_FOLDER_SUFFIX = ".html"
# The longest a site path gets around an article's id or a feed's slug path.
_ARTICLE_PATH_EXTRA = len("/artikelen/.html")
_FEED_PATH_EXTRA = len("/feeds/categorie/.atom?page=999999999")
# The most characters one character becomes in a URL: four UTF-8 bytes, each as %XX.
_MAX_QUOTED_CHAR = 12


def folder_problem(relfolder: str, depth: int) -> str | None:
    """For a folder ``depth`` levels below the content folder: why its files cannot be read."""
    name = relfolder.rpartition("/")[2]
    if depth > MAX_FOLDER_DEPTH:
        return f"folders nest more than {MAX_FOLDER_DEPTH} deep here; its files are not read"
    if name.endswith(PAGE_FOLDER_SUFFIX):
        return (
            f"a folder name may not end in {PAGE_FOLDER_SUFFIX!r} (an article's page has that "
            "name); its files are not read"
        )
    return _name_problem(name, "folder")


def file_problem(relpath: str) -> str | None:
    """For an article file: why its name cannot be an article's page."""
    if len(relpath) <= MAX_NAME_BYTES and relpath.isascii():
        # Most paths: a name of at most as many bytes, and an id whose URL (three characters
        # for each quoted ASCII one) is far shorter than MAX_URL_PATH.
        return None
    problem = _name_problem(relpath.rpartition("/")[2], "file")
    if problem is not None:
        return problem
    article_id = relpath[: -len(".txt")]
    if len(article_id) * _MAX_QUOTED_CHAR + _ARTICLE_PATH_EXTRA <= MAX_URL_PATH:
        return None  # too short to be too long, however it is quoted (most ids, not quoted)
    length = len(quote(article_id, safe="/")) + _ARTICLE_PATH_EXTRA
    if length > MAX_URL_PATH:
        return f"the article's URL would be {length:,} characters long; at most {MAX_URL_PATH:,}"
    return None


# A few hundred categories and sources serve 100,000s of articles: each is checked once.
@functools.lru_cache(maxsize=8192)
def category_problem(names: tuple[str, ...]) -> str | None:
    """For a category path (its levels' names): why it cannot be a feed."""
    if len(names) > MAX_CATEGORY_DEPTH:
        return f"the category path has {len(names)} levels; at most {MAX_CATEGORY_DEPTH}"
    slugs = [slugify(name) for name in names]
    for name, slug in zip(names, slugs, strict=True):
        problem = _name_problem(slug, f"category {name[:40]!r}: its")
        if problem is not None:
            return problem
    length = len(quote("/".join(slugs), safe="/")) + _FEED_PATH_EXTRA
    if length > MAX_URL_PATH:
        return f"the category's feed URL would be {length:,} characters; at most {MAX_URL_PATH:,}"
    return None


@functools.lru_cache(maxsize=8192)
def source_problem(name: str) -> str | None:
    """For a Bron name: why it cannot be a feed."""
    return _name_problem(slugify(name), f"source {name[:40]!r}: its")


def _name_problem(name: str, what: str) -> str | None:
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_NAME_BYTES:
        return f"{what} name is {size} bytes long; at most {MAX_NAME_BYTES}"
    return None

"""The article model: small frozen values, no I/O, no knowledge of files, formats or HTTP."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

_NON_WORD = re.compile(r"[\W_]+")
# Characters XML 1.0 cannot carry (C0 controls but tab, LF and CR; lone surrogates; U+FFFE and
# U+FFFF) or discourages and feed readers stumble over (DEL, the C1 controls). The parser drops
# them from article text and the store refuses file names with them; the model refuses them
# outright, so no feed writer can ever be handed a character it cannot write.
XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def check_xml_safe(what: str, text: str) -> None:
    """Raise ``ValueError`` naming ``what`` if ``text`` holds a character XML cannot carry."""
    # Every such character is a control, a surrogate or a noncharacter, so printable text has
    # none; isprintable() says so in half the time of the search (it counts at 100,000 files).
    if text.isprintable():
        return
    if found := XML_UNSAFE.search(text):
        raise ValueError(f"{what} contains {found[0]!r}, which XML cannot carry")


@functools.lru_cache(maxsize=65536)
def slugify(name: str) -> str:
    """A lowercase URL segment for a name: accents folded, punctuation collapsed to ``-``.

    Letters of other scripts are kept (they are percent-encoded in URLs); a name made of
    punctuation only gets a short stable hash, so every name has a non-empty slug. Cached: the
    same few hundred category and source names are slugged again for every article.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = _NON_WORD.sub("-", folded.casefold()).strip("-")
    if slug:
        return slug
    return "x-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Category:
    """A category path such as ``Nieuws -> Informatief``: one or more levels, outermost first."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.names or not all(self.names):
            raise ValueError(f"a category needs one or more non-empty levels, got {self.names!r}")
        for name in self.names:
            check_xml_safe("a category name", name)

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(slugify(name) for name in self.names)

    @property
    def slug_path(self) -> str:
        """``nieuws/informatief``: the category's identity and its place in URLs."""
        return "/".join(self.slugs)

    @property
    def label(self) -> str:
        """``Nieuws -> Informatief``, as editors write it."""
        return " -> ".join(self.names)

    @property
    def path(self) -> str:
        """``Nieuws/Informatief``: the slash-separated hierarchy RSS 2.0 ``<category>`` expects."""
        return "/".join(self.names)

    @property
    def name(self) -> str:
        """The innermost level's name."""
        return self.names[-1]

    @property
    def depth(self) -> int:
        return len(self.names)

    def lineage(self) -> tuple[Category, ...]:
        """This category and each of its ancestors, outermost first."""
        return tuple(Category(self.names[: i + 1]) for i in range(len(self.names)))

    def parent(self) -> Category | None:
        return Category(self.names[:-1]) if len(self.names) > 1 else None


@dataclass(frozen=True, slots=True)
class Source:
    """The organisation an article's text comes from (its ``Bron:`` line)."""

    name: str

    def __post_init__(self) -> None:
        check_xml_safe("a source name", self.name)

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass(frozen=True, slots=True)
class Article:
    """One parsed article. Dates are timezone-aware; ``updated`` is never before ``published``;
    no text (id included) holds a character XML cannot carry (:data:`XML_UNSAFE`)."""

    id: str  # path relative to the content folder, without ``.txt``, "/"-separated
    title: str
    category: Category
    source: Source | None
    published: datetime
    updated: datetime
    paragraphs: tuple[str, ...] = field(repr=False)
    summary: str = field(repr=False)
    source_path: str = field(compare=False)  # relative file path, for messages

    def __post_init__(self) -> None:
        if self.published.tzinfo is None or self.updated.tzinfo is None:
            raise ValueError(f"article {self.id!r} has a naive date; dates must carry a zone")
        if self.updated < self.published:
            raise ValueError(f"article {self.id!r} is updated before it was published")
        check_xml_safe("the article id", self.id)
        for what, text in (("title", self.title), ("summary", self.summary)):
            check_xml_safe(f"the {what} of article {self.id!r}", text)
        for paragraph in self.paragraphs:
            check_xml_safe(f"the body of article {self.id!r}", paragraph)

    @property
    def sort_key(self) -> tuple[float, str]:
        """Newest first, ties broken by id so the order never depends on the file system."""
        return (-self.published.timestamp(), self.id)

"""The article model: small frozen values, no I/O, no knowledge of files, formats or HTTP."""

from __future__ import annotations

import functools
import hashlib
import operator
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import ClassVar

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
    # Its hash, kept: a catalog build looks each article's category up several times, and a
    # dataclass's own __hash__ makes and hashes a tuple in Python each time.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.names or not all(self.names):
            raise ValueError(f"a category needs one or more non-empty levels, got {self.names!r}")
        for name in self.names:
            check_xml_safe("a category name", name)
        object.__setattr__(self, "_hash", hash(self.names))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Callable[[tuple[str, ...]], Category], tuple[tuple[str, ...]]]:
        # Made again where unpickled: a string's hash differs between processes. Once per
        # process for each path: a store's first load takes thousands of articles from a forked
        # child (see feedsvc.articles.store), a few hundred categories among them.
        return (_category_named, (self.names,))

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
    _hash: int = field(init=False, repr=False, compare=False)  # as Category's

    def __post_init__(self) -> None:
        check_xml_safe("a source name", self.name)
        object.__setattr__(self, "_hash", hash(self.name))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Callable[[str], Source], tuple[str]]:
        return (_source_named, (self.name,))

    @property
    def slug(self) -> str:
        return slugify(self.name)


@functools.lru_cache(maxsize=8192)
def _category_named(names: tuple[str, ...]) -> Category:
    """An unpickled :class:`Category`: one per path in a process."""
    return Category(names)


@functools.lru_cache(maxsize=8192)
def _source_named(name: str) -> Source:
    """An unpickled :class:`Source`: one per name in a process."""
    return Source(name)


class Body:
    """An article's body: its paragraphs, and its summary (the first paragraph, shortened).

    A load reads every file but a page shows the bodies of a few dozen articles, so the parser
    hands over the body's text, checked (no character XML cannot carry) but not yet split into
    paragraphs; :meth:`lazy` keeps it, as UTF-8 (half the memory of Dutch text held as a str,
    which a single "€" makes two bytes a character), and the paragraphs are read from it when
    first asked for. The text is never read from the file again: the file may have changed.
    """

    __slots__ = ("_parsed", "_read", "_start", "_summary", "_text")
    # Set by keep_parsed(n): the paragraphs of the n lazy bodies read last, by id, instead of on
    # each body for good.
    _recent: ClassVar[dict[int, tuple[Body, tuple[tuple[str, ...], str]]] | None] = None
    _recent_limit: ClassVar[int] = 0

    def __init__(
        self,
        parsed: tuple[tuple[str, ...], str] | None,
        text: bytes | None = None,
        read: Callable[[str], tuple[tuple[str, ...], str]] | None = None,
        start: int = 0,
    ) -> None:
        self._parsed = parsed
        # Kept when the paragraphs are not (keep_parsed): a listing page shows the summaries of
        # 50 articles, and each article is on the pages of several feeds; reading the whole
        # body again for each summary is what made them cost in an export's renderer.
        self._summary: str | None = None
        self._text = text  # from byte ``start`` on
        self._read = read
        self._start = start

    @classmethod
    def of(cls, paragraphs: tuple[str, ...], summary: str, whose: str = "") -> Body:
        """A body of these paragraphs and summary; ``ValueError`` if they hold a character
        XML cannot carry (``whose``, such as " of article 'x'", goes into its message)."""
        check_xml_safe(f"the summary{whose}", summary)
        for paragraph in paragraphs:
            check_xml_safe(f"the body{whose}", paragraph)
        return cls((tuple(paragraphs), summary))

    @classmethod
    def lazy(cls, text: str, read: Callable[[str], tuple[tuple[str, ...], str]]) -> Body:
        """A body whose paragraphs and summary are ``read(text)``, made when first asked for.

        The caller has checked that ``text`` holds no character of :data:`XML_UNSAFE`
        (the parser does, over the whole file, as it reads the header).
        """
        return cls(None, text.encode("utf-8"), read)

    @classmethod
    def lazy_utf8(
        cls, text: bytes, read: Callable[[str], tuple[tuple[str, ...], str]], start: int = 0
    ) -> Body:
        """:meth:`lazy` of the text that is ``text[start:]``, given as UTF-8 (the file's own
        bytes, the header before ``start`` kept with them rather than copying the rest)."""
        return cls(None, text, read, start)

    @classmethod
    def keep_parsed(cls, limit: int) -> None:
        """From now on, in this process, keep the paragraphs of only the ``limit`` lazy bodies
        read last, and read the others' text again when they are asked for.

        For a process that reads every body once or a few times, close together, and must not
        keep them all: an export's forked renderer, whose every body kept parsed would be a
        private copy of the whole content (the text it replaces is shared with the parent).
        """
        cls._recent, cls._recent_limit = {}, limit

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return self._parts()[0]

    @property
    def summary(self) -> str:
        summary = self._summary
        return summary if summary is not None else self._parts()[1]

    def _parts(self) -> tuple[tuple[str, ...], str]:
        parsed = self._parsed
        if parsed is not None:
            return parsed
        recent = Body._recent
        if recent is not None and (found := recent.get(id(self))) is not None:
            return found[1]
        text, read = self._text, self._read
        if text is None or read is None:  # read by another thread just now
            assert self._parsed is not None
            return self._parsed
        # From the body's first byte, without copying the bytes first (a memoryview's slice).
        decoded = str(memoryview(text)[self._start :], "utf-8") if self._start else text.decode()
        paragraphs, summary = read(decoded)
        # What the caller checked, checked again where it matters: before a writer sees it.
        checked = Body.of(paragraphs, summary)._parsed
        assert checked is not None
        if recent is not None:  # the body itself is kept with them: its id is not reused
            recent[id(self)] = (self, checked)
            self._summary = checked[1]
            while len(recent) > Body._recent_limit:
                del recent[next(iter(recent))]
            return checked
        # The paragraphs replace the text (set first, so another thread never finds neither).
        self._parsed = checked
        self._text = self._read = None
        return checked

    def __reduce__(self) -> tuple[type[Body], tuple[object, ...]]:
        # As it is: a lazy body goes as its text (the file's bytes), not read into paragraphs.
        parsed, text, read, start = self._parsed, self._text, self._read, self._start
        if parsed is not None or text is None or read is None:
            return (Body, (self._parts(),))
        return (Body, (None, text, read, start))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Body):
            return NotImplemented
        return self is other or self._parts() == other._parts()

    def __hash__(self) -> int:
        return hash(self._parts())

    def __repr__(self) -> str:
        return "Body(...)" if self._parsed is None else f"Body({self._parsed[0]!r})"


@dataclass(frozen=True, slots=True, init=False)
class Article:
    """One parsed article. Dates are timezone-aware; ``updated`` is never before ``published``;
    no text (id included) holds a character XML cannot carry (:data:`XML_UNSAFE`).

    Made with ``paragraphs`` and ``summary``, or with a :class:`Body` (which the parser makes
    lazy: see there); either way :attr:`paragraphs` and :attr:`summary` read the same.
    """

    id: str  # path relative to the content folder, without ``.txt``, "/"-separated
    title: str
    category: Category
    source: Source | None
    published: datetime
    updated: datetime
    body: Body = field(repr=False)
    source_path: str = field(compare=False)  # relative file path, for messages

    def __init__(  # by name only, as dataclasses.replace makes a copy
        self,
        *,
        id: str,
        title: str,
        category: Category,
        source: Source | None,
        published: datetime,
        updated: datetime,
        paragraphs: tuple[str, ...] = (),
        summary: str = "",
        source_path: str,
        body: Body | None = None,
    ) -> None:
        if published.tzinfo is None or updated.tzinfo is None:
            raise ValueError(f"article {id!r} has a naive date; dates must carry a zone")
        if updated < published:
            raise ValueError(f"article {id!r} is updated before it was published")
        if not (id.isprintable() and title.isprintable()):  # the usual case, told at once
            check_xml_safe("the article id", id)
            check_xml_safe(f"the title of article {id!r}", title)
        if body is None:
            body = Body.of(paragraphs, summary, f" of article {id!r}")
        set_ = object.__setattr__
        set_(self, "id", id)
        set_(self, "title", title)
        set_(self, "category", category)
        set_(self, "source", source)
        set_(self, "published", published)
        set_(self, "updated", updated)
        set_(self, "body", body)
        set_(self, "source_path", source_path)

    def __reduce__(self) -> tuple[Callable[..., Article], tuple[object, ...]]:
        # By its fields, made again by __init__ (checked again, in C mostly), rather than by
        # the slots' state, which sets each field in Python.
        return (_article_of, (tuple(getattr(self, name) for name in _ARTICLE_FIELDS),))

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return self.body.paragraphs

    @property
    def summary(self) -> str:
        return self.body.summary

    @property
    def sort_key(self) -> tuple[float, str]:
        """Newest first, ties broken by id so the order never depends on the file system."""
        return (-self.published.timestamp(), self.id)


# An article's place in every list (newest first) as a key function: the property itself,
# without a function of ours around it (one call fewer per article a sort or a bisect looks at).
SORT_KEY: Callable[[Article], tuple[float, str]] = operator.attrgetter("sort_key")


_ARTICLE_FIELDS = tuple(each.name for each in fields(Article))


def _article_of(values: tuple[object, ...]) -> Article:
    """An unpickled :class:`Article` (see its ``__reduce__``): its fields, in order."""
    return Article(**dict(zip(_ARTICLE_FIELDS, values, strict=True)))  # type: ignore[arg-type]

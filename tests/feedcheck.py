"""Validation helpers for tests of the feeds feedsvc publishes.

Two layers per format, each raising ``AssertionError`` that lists every problem
found (with line numbers for XML):

* ``validate_atom`` / ``validate_rss`` / ``validate_json_feed`` parse a document
  and validate it against the schema in ``tests/schemas/``:
  ``atom.rng`` (RFC 4287 Appendix B), ``rss2.rng`` (RSS 2.0 specification) and
  ``jsonfeed-1.1.schema.json`` (JSON Feed 1.1).
* ``check_atom_rules`` / ``check_rss_rules`` / ``check_json_feed_rules`` make the
  checks of the W3C Feed Validation Service that a schema cannot express: the
  Schematron rules and prose requirements of RFC 4287, the RSS Best Practices
  Profile, the feed's self link matching the URL it was served from, absolute
  URLs, dates, unique ids, plain text without raw markup.

``assert_valid_atom`` / ``assert_valid_rss`` / ``assert_valid_json_feed`` run
both layers; most tests only need those::

    from feedcheck import assert_valid_rss

    root = assert_valid_rss(response.data, "http://localhost/feeds/all.rss")
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from html.entities import name2codepoint
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import jsonschema  # type: ignore[import-untyped, unused-ignore]
from lxml import etree

__all__ = [
    "ATOM_NS",
    "CONTENT_NS",
    "DC_NS",
    "assert_valid_atom",
    "assert_valid_json_feed",
    "assert_valid_rss",
    "check_atom_rules",
    "check_json_feed_rules",
    "check_rss_rules",
    "feed_url_of",
    "looks_like_html",
    "parse_rfc3339",
    "validate_atom",
    "validate_json_feed",
    "validate_rss",
]

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XML_NS = "http://www.w3.org/XML/1998/namespace"

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

_NS = {"atom": ATOM_NS, "content": CONTENT_NS}


# --------------------------------------------------------------------------
# Schema layer
# --------------------------------------------------------------------------


@functools.cache
def _relaxng(name: str) -> etree.RelaxNG:
    """Load (once) the RELAX NG grammar ``tests/schemas/<name>``."""
    return etree.RelaxNG(etree.parse(str(SCHEMA_DIR / name), _xml_parser()))


@functools.cache
def _json_feed_validator() -> jsonschema.protocols.Validator:
    """Load (once) the JSON Feed 1.1 schema, with format checking switched on."""
    schema = json.loads((SCHEMA_DIR / "jsonfeed-1.1.schema.json").read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=_format_checker())


def _xml_parser() -> etree.XMLParser:
    """A parser that never fetches anything nor expands entities."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse ``data`` (which must be bytes) or fail listing the syntax errors."""
    assert isinstance(data, bytes), f"{what}: expected bytes, got {type(data).__name__}"
    try:
        return etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as exc:
        log = cast("Iterable[etree._LogEntry]", exc.error_log)
        lines = [f"  line {e.line}: {e.message}" for e in log] or [f"  {exc}"]
        raise AssertionError(f"{what} is not well-formed XML:\n" + "\n".join(lines)) from None


def _validate_xml(data: bytes, schema_name: str, what: str) -> etree._Element:
    root = _parse_xml(data, what)
    schema = _relaxng(schema_name)
    if not schema.validate(root):
        lines = [f"  line {e.line}: {e.message}" for e in schema.error_log]
        raise AssertionError(
            f"{what} does not match tests/schemas/{schema_name}:\n" + "\n".join(lines)
        )
    return root


def validate_atom(data: bytes) -> etree._Element:
    """Parse an Atom 1.0 document and validate it against ``atom.rng``.

    Returns the root element (``atom:feed`` or ``atom:entry``).
    """
    return _validate_xml(data, "atom.rng", "Atom document")


def validate_rss(data: bytes) -> etree._Element:
    """Parse an RSS 2.0 document and validate it against ``rss2.rng``.

    Returns the root ``rss`` element.
    """
    return _validate_xml(data, "rss2.rng", "RSS document")


def validate_json_feed(data: bytes) -> dict[str, Any]:
    """Parse a JSON Feed 1.1 document and validate it against its JSON Schema.

    ``format`` keywords (``date-time``, ``uri``) are enforced. Returns the
    decoded document.
    """
    assert isinstance(data, bytes), f"JSON Feed: expected bytes, got {type(data).__name__}"
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AssertionError(f"JSON Feed is not UTF-8 JSON: {exc}") from None
    errors = sorted(_json_feed_validator().iter_errors(doc), key=lambda e: e.json_path)
    if errors:
        lines = [f"  at {e.json_path}: {e.message}" for e in errors]
        raise AssertionError(
            "JSON Feed does not match tests/schemas/jsonfeed-1.1.schema.json:\n" + "\n".join(lines)
        )
    assert isinstance(doc, dict)
    return doc


# --------------------------------------------------------------------------
# Shared value checks
# --------------------------------------------------------------------------

# RFC 3339 date-time with upper-case "T" and "Z", as RFC 4287 section 3.3
# requires for Atom. Also used for JSON Feed's date-time format, where it is
# stricter than RFC 3339 (which allows lower case).
_RFC3339_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?P<frac>\.\d+)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})"
)

# RFC 822 section 5 date-time (two- or four-digit year, as RSS allows) with a
# NUMERIC zone only. RFC 822 also allows "UT", "GMT", "EST", ... and military
# letters, and the W3C validator accepts them, but it recommends numeric zones
# and feedsvc emits numeric zones only: named zones are rejected on purpose.
_RFC822_RE = re.compile(
    r"(?:(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(?P<day>\d{1,2}) "
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?P<year>\d{4}|\d{2}) "
    r"(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2}))? (?P<zone>[+-]\d{4})"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# scheme ":" rest, no white space: an absolute IRI (RFC 3987), e.g. tag: or urn:.
_ABSOLUTE_IRI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")


def parse_rfc3339(value: str) -> datetime | None:
    """Return the instant an RFC 3339 date-time denotes, or None if it is not one.

    Requires a zone (``Z`` or ``±hh:mm``) and upper-case ``T``/``Z``, and a
    real calendar date and time (a leap second ``:60`` is accepted).
    """
    match = _RFC3339_RE.fullmatch(value)
    if not match:
        return None
    hour, minute, second = (int(match[k]) for k in ("h", "m", "s"))
    try:
        day = datetime.strptime(match["date"], "%Y-%m-%d")
        if hour > 23 or minute > 59 or second > 60:
            return None
        zone: timezone = UTC
        if match["zone"] != "Z":
            sign = 1 if match["zone"][0] == "+" else -1
            zh, zm = int(match["zone"][1:3]), int(match["zone"][4:6])
            if zh > 23 or zm > 59:
                return None
            zone = timezone(sign * timedelta(hours=zh, minutes=zm))
    except ValueError:
        return None
    return day.replace(hour=hour, minute=minute, tzinfo=zone) + timedelta(seconds=second)


def _rfc822_problem(value: str) -> str | None:
    """Why ``value`` is not an RFC 822 date-time with a numeric zone, or None."""
    match = _RFC822_RE.fullmatch(value)
    if not match:
        return (
            "is not an RFC 822 date-time with a numeric zone like 'Mon, 28 Oct 2024 00:00:00 +0100'"
        )
    year = int(match["year"])
    if len(match["year"]) == 2:  # RFC 2822 section 4.3 reading of two-digit years
        year += 2000 if year < 50 else 1900
    zone = match["zone"]
    if int(zone[1:3]) > 23 or int(zone[3:5]) > 59:
        return f"has an impossible zone offset {zone}"
    try:
        moment = datetime(
            year,
            _MONTHS.index(match["mon"]) + 1,
            int(match["day"]),
            int(match["h"]),
            int(match["m"]),
            min(int(match["s"] or 0), 59),
        )
    except ValueError:
        return "is not a real calendar date and time"
    if int(match["s"] or 0) > 60:
        return "has an impossible number of seconds"
    if match["dow"] and _DAYS[moment.weekday()] != match["dow"]:
        return f"says {match['dow']} but that date is a {_DAYS[moment.weekday()]}"
    return None


def _is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host and no white space."""
    if not value or value != value.strip() or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_absolute_iri(value: str) -> bool:
    """True for an absolute IRI of any scheme (http:, tag:, urn:, ...)."""
    return bool(_ABSOLUTE_IRI_RE.fullmatch(value))


# --------------------------------------------------------------------------
# Problem collection
# --------------------------------------------------------------------------


class _Problems:
    """Collects rule violations and raises them all at once."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.items: list[str] = []

    def add(self, node: etree._Element | None, message: str) -> None:
        where = f"line {node.sourceline}: " if node is not None and node.sourceline else ""
        self.items.append(f"  {where}{message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise AssertionError(
                f"{self.what} breaks {len(self.items)} rule(s):\n" + "\n".join(self.items)
            )


def _name(el: etree._Element) -> str:
    """A readable name such as ``atom:link`` or ``item`` for messages."""
    qname = etree.QName(el)
    prefix = {ATOM_NS: "atom:", CONTENT_NS: "content:", DC_NS: "dc:"}.get(qname.namespace or "", "")
    return prefix + qname.localname


# What the W3C Feed Validation Service takes for HTML in text (its ``nonhtml`` check): an end
# tag, or "&" and a word that is an HTML entity name or starts a numeric reference ("&amp",
# "&#38"), whether or not a ";" follows.
_END_TAG_RE = re.compile(r"</(\w+)>")
_ENTITY_RE = re.compile(r"&(#?\w+)")


def looks_like_html(text: str) -> str | None:
    """The first thing in ``text`` the W3C validator takes for HTML, or None.

    In a ``type="text"`` Atom construct it warns "should not contain HTML unless declared in
    the type attribute"; text like that belongs in a ``type="xhtml"`` construct (or, escaped,
    ``type="html"``).
    """
    if match := _END_TAG_RE.search(text):
        return match[0]
    for match in _ENTITY_RE.finditer(text):
        name = match[1]
        if name in name2codepoint or name == "apos" or not name.isalpha():
            return match[0]
    return None


def _check_plain_text(problems: _Problems, el: etree._Element, label: str) -> None:
    """Plain text must not contain raw markup, i.e. child elements.

    Escaped markup (``&lt;b&gt;``) is text and fine: article titles may really
    contain "<" or "&". (The W3C validator only warns about such text.)
    """
    children = list(el.iterchildren(etree.Element))
    if children:
        problems.add(el, f"{label} is plain text but contains the element <{_name(children[0])}>")


def _check_url(problems: _Problems, node: etree._Element, label: str, value: str | None) -> None:
    if value is not None and not _is_http_url(value):
        problems.add(node, f"{label} must be an absolute http(s) URL, got {value!r}")


def _check_self_link(
    problems: _Problems, parent: etree._Element, served_url: str, media_type: str
) -> None:
    """Exactly one ``atom:link rel="self"``; its href is the URL the feed is served at."""
    selves = parent.findall("atom:link[@rel='self']", _NS)
    if len(selves) != 1:
        problems.add(
            parent,
            f'{_name(parent)} must have exactly one atom:link rel="self", found {len(selves)}',
        )
    for link in selves:
        if link.get("href") != served_url:
            problems.add(
                link,
                f'atom:link rel="self" href {link.get("href")!r} is not the URL the feed '
                f"is served at, {served_url!r}",
            )
        if link.get("type") not in (None, media_type):
            problems.add(
                link,
                f'atom:link rel="self" type should be {media_type!r}, not {link.get("type")!r}',
            )


def _duplicates(values: Iterable[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


# --------------------------------------------------------------------------
# Atom
# --------------------------------------------------------------------------


def _atom(local: str) -> str:
    return f"{{{ATOM_NS}}}{local}"


def _is_alternate(link: etree._Element) -> bool:
    return link.get("rel", "alternate") == "alternate"


def _check_atom_links(problems: _Problems, parent: etree._Element) -> None:
    """RFC 4287 4.1.1/4.1.2: at most one alternate link per (type, hreflang)."""
    seen = Counter(
        (link.get("type"), link.get("hreflang"))
        for link in parent.findall("atom:link", _NS)
        if _is_alternate(link)
    )
    for (type_, hreflang), count in seen.items():
        if count > 1:
            problems.add(
                parent,
                f"{_name(parent)} has {count} alternate links with type={type_!r} "
                f"hreflang={hreflang!r}; at most one is allowed",
            )


def _check_atom_entry(problems: _Problems, entry: etree._Element, feed_has_author: bool) -> None:
    # Schematron rule 1 of atomEntry.
    has_alternate = any(_is_alternate(link) for link in entry.findall("atom:link", _NS))
    content = entry.find("atom:content", _NS)
    if not has_alternate and content is None:
        problems.add(entry, "atom:entry must have an atom:content or an alternate atom:link")
    # Schematron rule 2 of atomEntry.
    if (
        entry.find("atom:author", _NS) is None
        and not feed_has_author
        and entry.find("atom:source/atom:author", _NS) is None
    ):
        problems.add(entry, "atom:entry must have an atom:author if its feed does not")
    # RFC 4287 4.1.3.1 and 4.1.2: no composite type; an atom:summary when the
    # content is out of line (src) or Base64 encoded (a media type that is
    # neither text/* nor XML).
    if content is not None:
        ctype = content.get("type", "text").lower()
        if ctype.startswith(("multipart/", "message/")):
            problems.add(content, f"atom:content type must not be a composite type, got {ctype!r}")
        out_of_line = content.get("src") is not None
        base64 = (
            "/" in ctype and not ctype.startswith("text/") and not ctype.endswith(("/xml", "+xml"))
        )
        if (out_of_line or base64) and entry.find("atom:summary", _NS) is None:
            kind = "out-of-line content (src)" if out_of_line else f"Base64 content ({ctype})"
            problems.add(entry, f"atom:entry with {kind} needs an atom:summary")
    _check_atom_links(problems, entry)


def _check_text_construct(problems: _Problems, el: etree._Element, local: str) -> None:
    """A text construct holds no raw markup, and nothing the W3C validator takes for HTML:
    neither in type="text" ("should not contain HTML unless declared in the type attribute")
    nor in an XHTML div that holds text only ("claims to be inline, but may contain html")."""
    kind = el.get("type", "text")
    if kind == "text":
        _check_plain_text(problems, el, f"atom:{local}")
        html_like = looks_like_html(el.text or "")
        if html_like is not None:
            problems.add(
                el,
                f"atom:{local} is type='text' but contains {html_like!r}, which reads as "
                "HTML (W3C: should not contain HTML unless declared in the type "
                "attribute); write such text as type='html', escaped, or in XHTML",
            )
    elif kind == "xhtml":
        div = el.find("{http://www.w3.org/1999/xhtml}div")
        if div is not None and len(div) == 0:
            html_like = looks_like_html(div.text or "")
            if html_like is not None:
                problems.add(
                    el,
                    f"atom:{local} is type='xhtml' but its div holds only text with "
                    f"{html_like!r} (W3C: claims to be inline, but may contain html)",
                )


def check_atom_rules(root: etree._Element, served_url: str) -> None:
    """Check an Atom feed for what ``atom.rng`` cannot express.

    ``root`` is the ``atom:feed`` returned by :func:`validate_atom`. Checks:

    * the Schematron rules of RFC 4287 Appendix B: the feed has an
      atom:author unless every entry has one; every entry has an atom:author
      (its own, its source's or the feed's) and an atom:content or an alternate
      link;
    * RFC 4287 prose: no two alternate links with the same type and hreflang
      (feed and entries); an entry whose content has ``src`` or is Base64
      encoded (a non-XML, non-text media type) has an atom:summary; content
      type is not composite (multipart/*, message/*);
    * atom:id, category/@scheme and IRI-valued link/@rel are absolute IRIs;
      entry ids are unique;
    * link/@href, content/@src, generator/@uri, atom:uri, atom:icon,
      atom:logo and xml:base are absolute http(s) URLs;
    * atom:updated and atom:published are RFC 3339 with a zone and upper-case
      T/Z (RFC 4287 section 3.3);
    * exactly one ``rel="self"`` link on the feed, whose href is ``served_url``;
    * plain-text constructs (title, subtitle, summary, rights without
      ``type`` or with ``type="text"``) contain no raw markup (child
      elements) and no text the W3C validator takes for HTML (an end tag,
      an entity such as ``&amp;``: :func:`looks_like_html`), nor does the
      div of a ``type="xhtml"`` construct that holds text only;
    * every atom:source has an atom:id, atom:title and atom:updated
      (RFC 4287 4.2.11, the W3C validator's "Missing source element").

    Raises AssertionError listing every violation.
    """
    problems = _Problems("Atom feed")
    if root.tag != _atom("feed"):
        problems.add(root, f"root element must be atom:feed, not {_name(root)}")
        problems.raise_if_any()

    entries = root.findall("atom:entry", _NS)
    feed_has_author = root.find("atom:author", _NS) is not None
    # Schematron rule of atomFeed.
    if not feed_has_author and any(e.find("atom:author", _NS) is None for e in entries):
        problems.add(root, "atom:feed must have an atom:author unless all its entries have one")
    _check_atom_links(problems, root)
    _check_self_link(problems, root, served_url, "application/atom+xml")
    for entry in entries:
        _check_atom_entry(problems, entry, feed_has_author)
    for dup in _duplicates(e.findtext("atom:id", "", _NS) for e in entries):
        problems.add(root, f"several entries share the atom:id {dup!r}")

    for el in root.iter(etree.Element):
        base = el.get(f"{{{XML_NS}}}base")
        _check_url(problems, el, "xml:base", base)
        if etree.QName(el).namespace != ATOM_NS:
            continue
        local = etree.QName(el).localname
        text = el.text or ""
        if local == "id" and not _is_absolute_iri(text):
            problems.add(el, f"atom:id must be an absolute IRI, got {text!r}")
        elif local in ("icon", "logo", "uri"):
            _check_url(problems, el, f"atom:{local}", text)
        elif local in ("updated", "published") and parse_rfc3339(text) is None:
            problems.add(el, f"atom:{local} {text!r} is not an RFC 3339 date-time with a zone")
        elif local in ("title", "subtitle", "summary", "rights"):
            if etree.QName(el.getparent()).namespace == ATOM_NS:
                _check_text_construct(problems, el, local)
        elif local == "source":
            missing = [
                f"atom:{child}"
                for child in ("id", "title", "updated")
                if el.find(f"atom:{child}", _NS) is None
            ]
            if missing:
                problems.add(
                    el,
                    f"atom:source should carry {', '.join(missing)} (RFC 4287 4.2.11; W3C: "
                    "Missing source element)",
                )
        elif local == "link":
            _check_url(problems, el, "atom:link href", el.get("href"))
            rel = el.get("rel", "")
            if ":" in rel and not _is_absolute_iri(rel):
                problems.add(el, f"atom:link rel {rel!r} is neither a name nor an absolute IRI")
        elif local == "content":
            _check_url(problems, el, "atom:content src", el.get("src"))
        elif local == "generator":
            _check_url(problems, el, "atom:generator uri", el.get("uri"))
        elif local == "category":
            scheme = el.get("scheme")
            if scheme is not None and not _is_absolute_iri(scheme):
                problems.add(el, f"atom:category scheme must be an absolute IRI, got {scheme!r}")
    problems.raise_if_any()


def assert_valid_atom(data: bytes, served_url: str) -> etree._Element:
    """:func:`validate_atom` then :func:`check_atom_rules`; returns the root."""
    root = validate_atom(data)
    check_atom_rules(root, served_url)
    return root


# --------------------------------------------------------------------------
# RSS
# --------------------------------------------------------------------------


def check_rss_rules(root: etree._Element, served_url: str) -> None:
    """Check an RSS 2.0 feed for what ``rss2.rng`` cannot express.

    ``root`` is the ``rss`` element returned by :func:`validate_rss`. Checks
    (RSS Best Practices Profile and W3C Feed Validation Service):

    * the channel has exactly one ``atom:link rel="self"``, whose href is
      ``served_url`` (and whose type, if any, is application/rss+xml);
    * the channel has a ``language``;
    * in every item with ``content:encoded``, a ``description`` comes first
      (the validator's "Ensure description precedes content:encoded");
    * a guid that is a permalink (``isPermaLink`` absent or "true") is an
      absolute http(s) URL; no two items share a guid;
    * pubDate and lastBuildDate are real RFC 822 dates with a numeric zone and
      a matching day of week;
    * every URL (RSS URL elements and attributes, atom:link/@href) is an
      absolute http(s) URL;
    * titles (channel, item, image, textInput) and category values are plain
      text: no raw markup (child elements; escaped markup is just text).

    Raises AssertionError listing every violation.
    """
    problems = _Problems("RSS feed")
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        problems.add(root, "root element must be rss with a channel")
        problems.raise_if_any()
    assert channel is not None

    _check_self_link(problems, channel, served_url, "application/rss+xml")
    if not (channel.findtext("language") or "").strip():
        problems.add(channel, "channel must have a language")

    items = channel.findall("item")
    for item in items:
        children = list(item.iterchildren(etree.Element))
        encoded = item.find("content:encoded", _NS)
        description = item.find("description")
        if encoded is not None and (
            description is None or children.index(description) > children.index(encoded)
        ):
            problems.add(encoded, "content:encoded must come after the item's description")
        guid = item.find("guid")
        if guid is not None and guid.get("isPermaLink", "true") == "true":
            _check_url(problems, guid, 'guid (a permalink unless isPermaLink="false")', guid.text)
    for dup in _duplicates(g.text or "" for g in channel.findall("item/guid")):
        problems.add(channel, f"several items share the guid {dup!r}")

    url_elements = {"link", "docs", "comments", "url"}
    url_attributes = {"enclosure": "url", "source": "url"}
    for el in channel.iter(etree.Element):
        qname = etree.QName(el)
        if qname.namespace == ATOM_NS and qname.localname == "link":
            _check_url(problems, el, "atom:link href", el.get("href"))
        if qname.namespace:  # not an RSS element
            continue
        local = qname.localname
        parent = el.getparent()
        if parent is None or etree.QName(parent).namespace:  # not inside RSS
            continue
        if local in url_elements:
            _check_url(problems, el, f"{_name(parent)}/{local}", el.text)
        elif local in url_attributes:
            _check_url(
                problems, el, f"{local}/@{url_attributes[local]}", el.get(url_attributes[local])
            )
        elif local in ("pubDate", "lastBuildDate"):
            problem = _rfc822_problem(el.text or "")
            if problem:
                problems.add(el, f"{local} {el.text!r} {problem}")
        elif local in ("title", "category"):
            _check_plain_text(problems, el, f"{_name(parent)}/{local}")
    problems.raise_if_any()


def assert_valid_rss(data: bytes, served_url: str) -> etree._Element:
    """:func:`validate_rss` then :func:`check_rss_rules`; returns the root."""
    root = validate_rss(data)
    check_rss_rules(root, served_url)
    return root


# --------------------------------------------------------------------------
# JSON Feed
# --------------------------------------------------------------------------

_JSON_URL_KEYS = frozenset(
    {"home_page_url", "feed_url", "next_url", "icon", "favicon", "url", "external_url",
     "image", "banner_image", "avatar"}
)  # fmt: skip


def _json_urls(node: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    """Yield (json path, value) for every URL-valued member outside extensions."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key.startswith("_"):
                continue  # extension objects are the publisher's business
            if key in _JSON_URL_KEYS:
                yield f"{path}.{key}", value
            else:
                yield from _json_urls(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _json_urls(value, f"{path}[{index}]")


def check_json_feed_rules(doc: Mapping[str, Any], served_url: str) -> None:
    """Check a JSON Feed for what its JSON Schema cannot express.

    ``doc`` is the dict returned by :func:`validate_json_feed`. Checks:
    ``feed_url`` is ``served_url`` without its ``page`` parameter (JSON Feed's
    ``feed_url`` is the feed's own URL, the same on every page; pages chain
    with ``next_url``); every URL member (feed, authors, hubs, items,
    attachments; not inside ``_`` extensions) is an absolute http(s) URL;
    item ids are unique.

    Raises AssertionError listing every violation.
    """
    problems = _Problems("JSON Feed")
    own_url = feed_url_of(served_url)
    if doc.get("feed_url") != own_url:
        problems.add(
            None,
            f"feed_url {doc.get('feed_url')!r} is not the URL the feed is served at, "
            f"{own_url!r} (the feed's own URL: its first page, also on later pages)",
        )
    for path, value in _json_urls(doc):
        if not isinstance(value, str) or not _is_http_url(value):
            problems.add(None, f"{path} must be an absolute http(s) URL, got {value!r}")
    items = doc.get("items") or []
    ids = [item.get("id") for item in items if isinstance(item, Mapping)]
    for dup in _duplicates(str(i) for i in ids):
        problems.add(None, f"several items share the id {dup!r}")
    problems.raise_if_any()


def feed_url_of(served_url: str) -> str:
    """``served_url`` without a ``page`` query parameter: the URL of the feed's first page."""
    parts = urlsplit(served_url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("page="))
    return urlunsplit(parts._replace(query=query))


def assert_valid_json_feed(data: bytes, served_url: str) -> dict[str, Any]:
    """:func:`validate_json_feed` then :func:`check_json_feed_rules`; returns the document."""
    doc = validate_json_feed(data)
    check_json_feed_rules(doc, served_url)
    return doc


# --------------------------------------------------------------------------
# Format checker for the JSON Schema
# --------------------------------------------------------------------------


@functools.cache
def _format_checker() -> jsonschema.FormatChecker:
    """A FormatChecker whose ``date-time`` and ``uri`` checks really run.

    jsonschema only checks these formats when optional packages
    (rfc3339-validator, rfc3987) are installed and silently passes otherwise;
    registering our own makes the schema's ``format`` keywords bite everywhere.
    """
    checker = jsonschema.FormatChecker()

    def date_time(value: object) -> bool:
        return not isinstance(value, str) or parse_rfc3339(value) is not None

    def uri(value: object) -> bool:
        return not isinstance(value, str) or _is_absolute_iri(value)

    checker.checks("date-time")(date_time)
    checker.checks("uri")(uri)
    return checker

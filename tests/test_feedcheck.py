"""Tests of the feed schemas in tests/schemas/ and of the checks in feedcheck.py.

Every valid sample in tests/samples/ must pass both layers (schema and rules)
and be read by feedparser without ``bozo``. Every invalid document is a valid
sample with one targeted change; the helpers assert that the change really
applies, and the tests assert which layer rejects it and why.
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedcheck
import feedparser
import pytest
from feedcheck import (
    ATOM_NS,
    assert_valid_atom,
    assert_valid_json_feed,
    assert_valid_rss,
    check_atom_rules,
    check_json_feed_rules,
    check_rss_rules,
    validate_atom,
    validate_json_feed,
    validate_rss,
)
from lxml import etree

SAMPLES = Path(__file__).resolve().parent / "samples"

ATOM_URL = "https://example.org/feeds/all.atom"
ATOM_RICH_URL = "https://example.org/feeds/all.atom?page=2"
RSS_URL = "https://example.org/feeds/all.rss"
RSS_RICH_URL = "https://example.org/feeds/all.rss?page=2"
JSON_URL = "https://example.org/feeds/all.json"
JSON_RICH_URL = "https://example.org/feeds/all.json?page=2"


def sample(name: str) -> bytes:
    """The bytes of tests/samples/<name>."""
    return (SAMPLES / name).read_bytes()


def mutate(name: str, *edits: tuple[str, str]) -> bytes:
    """Sample ``name`` with each (old, new) edit applied exactly once.

    Fails if ``old`` does not occur exactly once, so a test cannot silently
    pass on an unchanged document.
    """
    text = sample(name).decode("utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {name}"
        text = text.replace(old, new)
    return text.encode("utf-8")


def mutate_json(name: str, edit: Callable[[dict[str, Any]], object]) -> bytes:
    """JSON sample ``name`` after ``edit`` modified a deep copy of it in place."""
    doc = copy.deepcopy(json.loads(sample(name)))
    edit(doc)
    return json.dumps(doc).encode("utf-8")


# --------------------------------------------------------------------------
# Valid documents
# --------------------------------------------------------------------------

VALID = [
    pytest.param("atom-minimal.xml", assert_valid_atom, ATOM_URL, "atom10", 1, id="atom-minimal"),
    pytest.param("atom-rich.xml", assert_valid_atom, ATOM_RICH_URL, "atom10", 3, id="atom-rich"),
    pytest.param("rss-minimal.xml", assert_valid_rss, RSS_URL, "rss20", 1, id="rss-minimal"),
    pytest.param("rss-rich.xml", assert_valid_rss, RSS_RICH_URL, "rss20", 2, id="rss-rich"),
    pytest.param(
        "jsonfeed-minimal.json", assert_valid_json_feed, JSON_URL, None, 1, id="json-minimal"
    ),
    pytest.param(
        "jsonfeed-rich.json", assert_valid_json_feed, JSON_RICH_URL, None, 2, id="json-rich"
    ),
]


@pytest.mark.parametrize(("name", "check", "served_url", "version", "entries"), VALID)
def test_valid_sample_passes_schema_and_rules(
    name: str,
    check: Callable[[bytes, str], object],
    served_url: str,
    version: str | None,
    entries: int,
) -> None:
    check(sample(name), served_url)
    with pytest.raises(AssertionError, match="is not the URL the feed is served at"):
        check(sample(name), served_url + "&other")


# feedparser 6.0 reads RSS and Atom only (JSON Feed support is not released).
XML_VALID = [p for p in VALID if str(p.values[0]).endswith(".xml")]


@pytest.mark.parametrize(("name", "check", "served_url", "version", "entries"), XML_VALID)
def test_valid_xml_sample_is_read_by_feedparser(
    name: str,
    check: Callable[[bytes, str], object],
    served_url: str,
    version: str | None,
    entries: int,
) -> None:
    parsed = feedparser.parse(sample(name))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == version
    assert len(parsed.entries) == entries


def test_rich_atom_sample_has_the_features_feedsvc_emits() -> None:
    root = validate_atom(sample("atom-rich.xml"))
    ns = {"a": ATOM_NS}
    rels = {link.get("rel") for link in root.findall("a:link", ns)}
    assert {"self", "alternate", "first", "previous", "next", "last", "hub"} <= rels
    entry = root.find("a:entry", ns)
    assert entry is not None
    category = entry.find("a:category", ns)
    assert category is not None
    assert category.get("scheme")
    assert category.get("label")
    assert entry.find("a:summary[@type='text']", ns) is not None
    assert entry.find("a:content[@type='html']", ns) is not None
    assert entry.find("a:source/a:id", ns) is not None


def test_rich_rss_sample_has_the_features_feedsvc_emits() -> None:
    root = validate_rss(sample("rss-rich.xml"))
    ns = {"atom": ATOM_NS, "content": feedcheck.CONTENT_NS, "dc": feedcheck.DC_NS}
    rels = {link.get("rel") for link in root.findall("channel/atom:link", ns)}
    assert {"self", "first", "previous", "next", "last", "hub"} <= rels
    item = root.find("channel/item", ns)
    assert item is not None
    for path in ("content:encoded", "dc:creator", "source[@url]", "category[@domain]"):
        assert item.find(path, ns) is not None, path
    assert item.findtext("guid[@isPermaLink='true']") is not None


def test_parsed_json_feed_keeps_extensions() -> None:
    doc = validate_json_feed(sample("jsonfeed-rich.json"))
    assert doc["_feedsvc"]["page"] == 2
    assert doc["items"][0]["_feedsvc"]["categories"] == ["food/fish"]


# --------------------------------------------------------------------------
# Atom: rejected by the schema (atom.rng, RFC 4287 Appendix B)
# --------------------------------------------------------------------------

ATOM_SCHEMA_INVALID = [
    pytest.param(
        mutate("atom-minimal.xml", ("  <id>https://example.org/</id>\n", "")), id="feed-without-id"
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<title>Hello</title>", "")), id="entry-without-title"
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            ("  <updated>2024-10-28T00:00:00Z</updated>\n  <author>", "  <author>"),
        ),
        id="feed-without-updated",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<title>Example</title>", "<title>A</title><title>B</title>")),
        id="two-feed-titles",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            (
                "<updated>2024-10-28T00:00:00Z</updated>\n  <author>",
                "<updated>2024-10-28</updated>\n  <author>",
            ),
        ),
        id="date-without-time",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            (
                "<updated>2024-10-28T00:00:00Z</updated>\n  <author>",
                "<updated>2024-10-28t00:00:00z</updated>\n  <author>",
            ),
        ),
        id="lower-case-t-and-z",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<link href=", "<link hreff=")), id="link-without-href"
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<link href=", "<link foo='bar' href=")),
        id="undefined-unqualified-attribute",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<title>Hello</title>", "<title>Hello</title><foo>x</foo>")),
        id="unknown-atom-element",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<title>Hello</title>", "<title><b>Hello</b></title>")),
        id="raw-markup-in-text-title",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<title>Hello</title>", '<title type="xhtml">Hello</title>')),
        id="xhtml-title-without-div",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            ("<name>Example Editors</name>", "<name>E</name><email>nobody</email>"),
        ),
        id="email-without-at",
    ),
    pytest.param(
        mutate(
            "atom-rich.xml",
            (
                'src="https://example.org/files/report.pdf"/>',
                'src="https://example.org/r.pdf">x</content>',
            ),
        ),
        id="out-of-line-content-not-empty",
    ),
    pytest.param(sample("rss-minimal.xml"), id="rss-is-not-atom"),
]


@pytest.mark.parametrize("data", ATOM_SCHEMA_INVALID)
def test_atom_schema_rejects(data: bytes) -> None:
    with pytest.raises(
        AssertionError, match=r"does not match tests/schemas/atom\.rng:\n  line \d+"
    ):
        validate_atom(data)


def test_atom_schema_error_names_the_line() -> None:
    data = mutate("atom-minimal.xml", ("<title>Hello</title>", "<title><b>Hello</b></title>"))
    with pytest.raises(AssertionError) as info:
        validate_atom(data)
    assert "\n  line 10: Element title has extra content: b\n" in str(info.value)


def test_not_well_formed_xml_is_rejected() -> None:
    with pytest.raises(AssertionError, match=r"not well-formed XML:\n  line 2"):
        validate_atom(b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><id>')
    with pytest.raises(AssertionError, match="expected bytes"):
        validate_rss(sample("rss-minimal.xml").decode())  # type: ignore[arg-type]


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    data = mutate(
        "atom-minimal.xml",
        ("<feed xmlns", f'<!DOCTYPE feed [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n<feed xmlns'),
        ("<title>Example</title>", "<title>&x;</title>"),
    )
    # A parser that resolves external entities reads the file into the title ...
    assert b"SECRET" in etree.tostring(
        etree.fromstring(data, etree.XMLParser(resolve_entities=True))
    )
    # ... feedcheck's does not, and the unexpanded entity fails the grammar.
    assert b"SECRET" not in etree.tostring(feedcheck._parse_xml(data, "Atom document"))
    with pytest.raises(AssertionError, match="does not match") as info:
        validate_atom(data)
    assert "SECRET" not in str(info.value)


# --------------------------------------------------------------------------
# Atom: schema-valid, rejected by check_atom_rules
# --------------------------------------------------------------------------

AUTHOR = "  <author><name>Example Editors</name></author>\n"

ATOM_RULE_INVALID = [
    pytest.param(
        mutate("atom-minimal.xml", (AUTHOR, "")),
        ATOM_URL,
        "atom:feed must have an atom:author",
        id="no-author-anywhere",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<link href=", '<link rel="related" href=')),
        ATOM_URL,
        "must have an atom:content or an alternate atom:link",
        id="entry-without-content-or-alternate",
    ),
    pytest.param(
        mutate(
            "atom-rich.xml",
            ('hreflang="de" href="https://example.org/de/"', 'href="https://example.org/de/"'),
        ),
        ATOM_RICH_URL,
        "2 alternate links with type='text/html' hreflang=None",
        id="duplicate-alternate-links",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            ('<link href="https://example.org/posts/hello"/>', '<link href="/posts/hello"/>'),
        ),
        ATOM_URL,
        "atom:link href must be an absolute http(s) URL, got '/posts/hello'",
        id="relative-href",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml", ("<id>https://example.org/posts/hello</id>", "<id>posts/hello</id>")
        ),
        ATOM_URL,
        "atom:id must be an absolute IRI",
        id="relative-id",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            (
                "<updated>2024-10-28T00:00:00Z</updated>\n  <author>",
                "<updated>2024-10-28T00:00:00</updated>\n  <author>",
            ),
        ),
        ATOM_URL,
        "is not an RFC 3339 date-time with a zone",
        id="date-without-zone",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            (
                "<updated>2024-10-28T00:00:00Z</updated>\n  <author>",
                "<updated>12024-10-28T00:00:00Z</updated>\n  <author>",
            ),
        ),
        ATOM_URL,
        "is not an RFC 3339 date-time with a zone",
        id="five-digit-year",
    ),
    pytest.param(
        sample("atom-minimal.xml"),
        "https://example.org/feeds/other.atom",
        "is not the URL the feed is served at",
        id="self-link-mismatch",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ('rel="self"', 'rel="via"')),
        ATOM_URL,
        'exactly one atom:link rel="self", found 0',
        id="no-self-link",
    ),
    pytest.param(
        mutate("atom-rich.xml", ("<summary>The content lives elsewhere.</summary>", "")),
        ATOM_RICH_URL,
        "out-of-line content (src) needs an atom:summary",
        id="out-of-line-content-without-summary",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            (
                "<title>Hello</title>",
                '<title>Hello</title><content type="image/png">iVBORw0K</content>',
            ),
        ),
        ATOM_URL,
        "Base64 content (image/png) needs an atom:summary",
        id="base64-content-without-summary",
    ),
    pytest.param(
        mutate(
            "atom-rich.xml",
            ('type="application/pdf" src=', 'type="multipart/mixed" src='),
        ),
        ATOM_RICH_URL,
        "atom:content type must not be a composite type, got 'multipart/mixed'",
        id="composite-content-type",
    ),
    pytest.param(
        mutate(
            "atom-rich.xml",
            (
                'scheme="https://example.org/categories/" label="News"',
                'scheme="categories" label="News"',
            ),
        ),
        ATOM_RICH_URL,
        "atom:category scheme must be an absolute IRI",
        id="relative-category-scheme",
    ),
    pytest.param(
        mutate(
            "atom-rich.xml", ("<icon>https://example.org/icon.png</icon>", "<icon>icon.png</icon>")
        ),
        ATOM_RICH_URL,
        "atom:icon must be an absolute http(s) URL",
        id="relative-icon",
    ),
    pytest.param(
        mutate(
            "atom-rich.xml",
            ("<uri>https://example.org/people/jane</uri>", "<uri>/people/jane</uri>"),
        ),
        ATOM_RICH_URL,
        "atom:uri must be an absolute http(s) URL, got '/people/jane'",
        id="relative-person-uri",
    ),
    pytest.param(
        mutate("atom-rich.xml", ("      <updated>2024-10-26T00:00:00Z</updated>\n", "")),
        ATOM_RICH_URL,
        "atom:source should carry atom:updated (RFC 4287 4.2.11",
        id="source-without-updated",
    ),
    pytest.param(
        mutate(
            "atom-rich.xml",
            ('<summary type="text">A short summary.', '<summary type="text">Fish &amp;amp; chips'),
        ),
        ATOM_RICH_URL,
        "atom:summary is type='text' but contains '&amp', which reads as HTML",
        id="text-summary-with-an-entity",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            (
                "<title>Hello</title>",
                '<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
                "Tom &amp;amp; Jerry</div></title>",
            ),
        ),
        ATOM_URL,
        "atom:title is type='xhtml' but its div holds only text with '&amp'",
        id="xhtml-div-with-only-an-entity",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ("<title>Hello</title>", "<title>a &lt;/b&gt; b</title>")),
        ATOM_URL,
        "atom:title is type='text' but contains '</b>'",
        id="text-title-with-an-end-tag",
    ),
    pytest.param(
        mutate("atom-rich.xml", ('rel="hub"', 'rel="my:rel with space"')),
        ATOM_RICH_URL,
        "is neither a name nor an absolute IRI",
        id="bad-rel-iri",
    ),
    pytest.param(
        mutate("atom-minimal.xml", ('type="application/atom+xml"', 'type="application/rss+xml"')),
        ATOM_URL,
        "type should be 'application/atom+xml'",
        id="self-link-wrong-type",
    ),
    pytest.param(
        mutate(
            "atom-minimal.xml",
            (
                '<feed xmlns="http://www.w3.org/2005/Atom">',
                '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/">',
            ),
        ),
        ATOM_URL,
        "xml:base must be an absolute http(s) URL, got '/'",
        id="relative-xml-base",
    ),
    pytest.param(
        mutate(
            "atom-rich.xml",
            (
                "<id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>",
                "<id>tag:example.org,2024:posts/xhtml</id>",
            ),
        ),
        ATOM_RICH_URL,
        "several entries share the atom:id 'tag:example.org,2024:posts/xhtml'",
        id="duplicate-entry-ids",
    ),
]


@pytest.mark.parametrize(("data", "served_url", "message"), ATOM_RULE_INVALID)
def test_atom_rules_reject(data: bytes, served_url: str, message: str) -> None:
    root = validate_atom(data)  # the grammar alone lets it through ...
    with pytest.raises(AssertionError, match=r"Atom feed breaks \d+ rule") as info:
        check_atom_rules(root, served_url)  # ... the rules do not
    assert message in str(info.value)


def test_atom_rules_list_every_problem_with_line_numbers() -> None:
    data = mutate(
        "atom-minimal.xml",
        (AUTHOR, ""),
        ('<link href="https://example.org/posts/hello"/>', '<link href="/posts/hello"/>'),
    )
    with pytest.raises(AssertionError, match="breaks 3 rule") as info:
        assert_valid_atom(data, ATOM_URL)
    assert "\n  line 2: atom:feed must have an atom:author" in str(info.value)
    assert "\n  line 7: atom:entry must have an atom:author" in str(info.value)
    assert "\n  line 10: atom:link href" in str(info.value)


RAW_B = '<b xmlns="http://www.w3.org/1999/xhtml">Hello</b>'
ESCAPED = "Tom &amp; Jerry &lt;b&gt;vet&lt;/b&gt; &amp;amp; ]]&gt;"


def test_plain_text_with_child_elements_is_rejected_by_the_rules_too() -> None:
    # The grammars already reject these; the rule functions must not rely on that.
    atom = etree.fromstring(
        mutate("atom-minimal.xml", ("<title>Hello</title>", f"<title>{RAW_B}</title>"))
    )
    with pytest.raises(
        AssertionError, match="atom:title is plain text but contains the element <b>"
    ):
        check_atom_rules(atom, ATOM_URL)
    rss = etree.fromstring(
        mutate("rss-minimal.xml", ("<title>Hello</title>", f"<title>{RAW_B}</title>"))
    )
    with pytest.raises(
        AssertionError, match="item/title is plain text but contains the element <b>"
    ):
        check_rss_rules(rss, RSS_URL)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Tom &amp; Jerry", "&amp"),
        ("&#38; and &#x26;", "&#38"),
        ("a </p> b", "</p>"),
        ("&copy 2024", "&copy"),
        ("Tom & Jerry", None),
        ("AT&T, R&D, B&B", None),
        ("3 < 4 > 2 <b>", None),  # the validator looks for end tags only
    ],
)
def test_what_reads_as_html(text: str, found: str | None) -> None:
    assert feedcheck.looks_like_html(text) == found


def test_escaped_markup_in_plain_text_is_fine() -> None:
    # Titles may really contain "<" and "&"; escaped, they are text. In Atom, text the W3C
    # validator takes for HTML is written as type="html", escaped once more.
    xhtml = f'<div xmlns="http://www.w3.org/1999/xhtml"><span>{ESCAPED}</span></div>'
    rich = mutate(
        "atom-rich.xml",
        (
            '<summary type="text">A short summary.</summary>',
            f'<summary type="xhtml">{xhtml}</summary>',
        ),
    )
    assert_valid_atom(rich, ATOM_RICH_URL)
    atom = mutate(
        "atom-minimal.xml",
        ("<title>Hello</title>", f'<title type="html">{html.escape(ESCAPED)}</title>'),
        ("<title>Example</title>", "<title>Tom &amp; Jerry &lt;b&gt; 3 &lt; 4</title>"),
    )
    assert_valid_atom(atom, ATOM_URL)
    rss = mutate(
        "rss-minimal.xml",
        ("<title>Hello</title>", f"<title>{ESCAPED}</title><category>{ESCAPED}</category>"),
    )
    assert_valid_rss(rss, RSS_URL)


def test_atom_authors_on_every_entry_are_enough() -> None:
    data = mutate(
        "atom-minimal.xml",
        (AUTHOR, ""),
        ("<title>Hello</title>", "<title>Hello</title><author><name>J</name></author>"),
    )
    assert_valid_atom(data, ATOM_URL)


def test_atom_rules_want_a_feed_document() -> None:
    entry = b"""<entry xmlns="http://www.w3.org/2005/Atom"><id>tag:x,2024:1</id><title>t</title>
      <updated>2024-10-28T00:00:00Z</updated><content>c</content></entry>"""
    root = validate_atom(entry)  # RFC 4287 Entry Documents match the grammar
    with pytest.raises(AssertionError, match="root element must be atom:feed, not atom:entry"):
        check_atom_rules(root, ATOM_URL)


# --------------------------------------------------------------------------
# RSS: rejected by the schema (rss2.rng)
# --------------------------------------------------------------------------

RSS_SCHEMA_INVALID = [
    pytest.param(
        mutate("rss-minimal.xml", ("    <description>News from example.org</description>\n", "")),
        id="channel-without-description",
    ),
    pytest.param(
        mutate("rss-minimal.xml", ("    <link>https://example.org/</link>\n", "")),
        id="channel-without-link",
    ),
    pytest.param(
        mutate("rss-minimal.xml", ("<title>Example</title>", "<title>A</title><title>B</title>")),
        id="two-channel-titles",
    ),
    pytest.param(
        mutate("rss-minimal.xml", ("<title>Hello</title>", "")),
        id="item-without-title-or-description",
    ),
    pytest.param(
        mutate(
            "rss-minimal.xml",
            ("<link>https://example.org/posts/hello</link>", "<link>/posts/hello</link>"),
        ),
        id="relative-item-link",
    ),
    pytest.param(
        mutate("rss-rich.xml", ("<comments>https://example.org/", "<comments>//example.org/")),
        id="scheme-relative-comments",
    ),
    pytest.param(
        mutate(
            "rss-rich.xml",
            ("<pubDate>Sun, 27 Oct 2024 08:00:00 -0500</pubDate>", "<pubDate>2024-10-28</pubDate>"),
        ),
        id="iso-date-in-pubDate",
    ),
    # RFC 822 and the W3C validator accept "GMT"; feedsvc emits numeric zones
    # only, so the schema forbids named zones on purpose.
    pytest.param(
        mutate(
            "rss-rich.xml",
            (
                "<pubDate>Sun, 27 Oct 2024 08:00:00 -0500</pubDate>",
                "<pubDate>Sun, 27 Oct 2024 13:00:00 GMT</pubDate>",
            ),
        ),
        id="named-zone-GMT",
    ),
    pytest.param(
        mutate("rss-minimal.xml", ('version="2.0"', 'version="0.91"')), id="wrong-version"
    ),
    pytest.param(
        mutate("rss-rich.xml", (' length="1234" type="audio/mpeg"', ' type="audio/mpeg"')),
        id="enclosure-without-length",
    ),
    pytest.param(
        mutate("rss-minimal.xml", ('isPermaLink="true"', 'isPermaLink="yes"')), id="bad-isPermaLink"
    ),
    pytest.param(
        mutate("rss-minimal.xml", ("<title>Hello</title>", "<title><b>Hello</b></title>")),
        id="raw-markup-in-title",
    ),
    pytest.param(
        mutate("rss-minimal.xml", ("<title>Hello</title>", "<title>Hello</title><foo>x</foo>")),
        id="unknown-unqualified-element",
    ),
    pytest.param(mutate("rss-rich.xml", ("<ttl>60</ttl>", "<ttl>-1</ttl>")), id="negative-ttl"),
    pytest.param(
        mutate("rss-rich.xml", ("<width>144</width>", "<width>145</width>")), id="image-too-wide"
    ),
    pytest.param(
        mutate("rss-rich.xml", ('<source url="https://partner.example.com/feed.rss">', "<source>")),
        id="source-without-url",
    ),
    pytest.param(sample("atom-minimal.xml"), id="atom-is-not-rss"),
]


@pytest.mark.parametrize("data", RSS_SCHEMA_INVALID)
def test_rss_schema_rejects(data: bytes) -> None:
    with pytest.raises(
        AssertionError, match=r"does not match tests/schemas/rss2\.rng:\n  line \d+"
    ):
        validate_rss(data)


# --------------------------------------------------------------------------
# RSS: schema-valid, rejected by check_rss_rules
# --------------------------------------------------------------------------

ENCODED = (
    '      <content:encoded><![CDATA[<p>Fish &amp; <a href="https://example.org/chips">chips</a>.'
    "</p>]]></content:encoded>\n"
)

RSS_RULE_INVALID = [
    pytest.param(
        mutate(
            "rss-minimal.xml",
            (
                '    <atom:link rel="self" type="application/rss+xml" href="https://example.org/feeds/all.rss"/>\n',
                "",
            ),
        ),
        RSS_URL,
        'exactly one atom:link rel="self", found 0',
        id="no-self-link",
    ),
    pytest.param(
        sample("rss-minimal.xml"),
        "http://localhost/feeds/all.rss",
        "is not the URL the feed is served at, 'http://localhost/feeds/all.rss'",
        id="self-link-mismatch",
    ),
    pytest.param(
        mutate(
            "rss-rich.xml",
            (
                "      <description>A short summary.</description>\n" + ENCODED,
                ENCODED + "      <description>A short summary.</description>\n",
            ),
        ),
        RSS_RICH_URL,
        "content:encoded must come after the item's description",
        id="content-encoded-before-description",
    ),
    pytest.param(
        mutate("rss-rich.xml", ("      <description>A short summary.</description>\n", "")),
        RSS_RICH_URL,
        "content:encoded must come after the item's description",
        id="content-encoded-without-description",
    ),
    pytest.param(
        mutate(
            "rss-minimal.xml",
            (
                '<guid isPermaLink="true">https://example.org/posts/hello</guid>',
                "<guid>posts/hello</guid>",
            ),
        ),
        RSS_URL,
        'guid (a permalink unless isPermaLink="false") must be an absolute http(s) URL',
        id="permalink-guid-not-a-url",
    ),
    pytest.param(
        mutate(
            "rss-rich.xml",
            ("tag:example.org,2024:posts/untitled", "https://example.org/posts/2024/10/rich"),
        ),
        RSS_RICH_URL,
        "several items share the guid 'https://example.org/posts/2024/10/rich'",
        id="duplicate-guids",
    ),
    pytest.param(
        mutate("rss-minimal.xml", ("    <language>en</language>\n", "")),
        RSS_URL,
        "channel must have a language",
        id="no-language",
    ),
    pytest.param(
        mutate(
            "rss-rich.xml", ("Sun, 27 Oct 2024 08:00:00 -0500", "Fri, 30 Feb 2024 08:00:00 -0500")
        ),
        RSS_RICH_URL,
        "is not a real calendar date and time",
        id="february-30",
    ),
    pytest.param(
        mutate(
            "rss-rich.xml", ("Sun, 27 Oct 2024 08:00:00 -0500", "Mon, 27 Oct 2024 08:00:00 -0500")
        ),
        RSS_RICH_URL,
        "says Mon but that date is a Sun",
        id="wrong-day-of-week",
    ),
    pytest.param(
        mutate(
            "rss-rich.xml",
            (
                'rel="next" href="https://example.org/feeds/all.rss?page=3"',
                'rel="next" href="all.rss?page=3"',
            ),
        ),
        RSS_RICH_URL,
        "atom:link href must be an absolute http(s) URL, got 'all.rss?page=3'",
        id="relative-next-link",
    ),
    pytest.param(
        mutate("rss-minimal.xml", ('type="application/rss+xml"', 'type="application/atom+xml"')),
        RSS_URL,
        "type should be 'application/rss+xml'",
        id="self-link-wrong-type",
    ),
]


@pytest.mark.parametrize(("data", "served_url", "message"), RSS_RULE_INVALID)
def test_rss_rules_reject(data: bytes, served_url: str, message: str) -> None:
    root = validate_rss(data)
    with pytest.raises(AssertionError, match=r"RSS feed breaks \d+ rule") as info:
        check_rss_rules(root, served_url)
    assert message in str(info.value)


def test_rss_rules_want_an_rss_document() -> None:
    with pytest.raises(AssertionError, match="root element must be rss with a channel"):
        check_rss_rules(etree.fromstring(b'<rss version="2.0"/>'), RSS_URL)


def test_rss_guid_that_is_not_a_permalink_may_be_anything() -> None:
    data = mutate(
        "rss-minimal.xml",
        (
            '<guid isPermaLink="true">https://example.org/posts/hello</guid>',
            '<guid isPermaLink="false">42</guid>',
        ),
    )
    assert_valid_rss(data, RSS_URL)


# --------------------------------------------------------------------------
# JSON Feed: rejected by the schema (jsonfeed-1.1.schema.json)
# --------------------------------------------------------------------------


def _first_item(doc: dict[str, Any]) -> dict[str, Any]:
    item = doc["items"][0]
    assert isinstance(item, dict)
    return item


JSON_SCHEMA_INVALID = [
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: d.pop("items")),
        "'items' is a required",
        id="no-items",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: d.pop("title")),
        "'title' is a required",
        id="no-title",
    ),
    pytest.param(
        mutate_json(
            "jsonfeed-minimal.json", lambda d: d.update(version="https://jsonfeed.org/version/1")
        ),
        "'https://jsonfeed.org/version/1.1' was expected",
        id="wrong-version",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: _first_item(d).pop("id")),
        "'id' is a required",
        id="item-without-id",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: _first_item(d).update(id=1)),
        "1 is not of type 'string'",
        id="numeric-id",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: _first_item(d).pop("content_text")),
        "is not valid under any of the given schemas",
        id="item-without-content",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: d.update(titel="typo")),
        "'titel' does not match any of the regexes: '^_[A-Za-z]'",
        id="unknown-top-level-key",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: _first_item(d).update(summery="typo")),
        "'summery' does not match any of the regexes: '^_[A-Za-z]'",
        id="unknown-item-key",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: d.update(_1feedsvc={})),
        "'_1feedsvc' does not match any of the regexes: '^_[A-Za-z]'",
        id="extension-name-not-underscore-letter",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: d.update(_feedsvc=3)),
        "3 is not of type 'object'",
        id="extension-not-an-object",
    ),
    pytest.param(
        mutate_json(
            "jsonfeed-minimal.json", lambda d: _first_item(d).update(date_published="2024-10-28")
        ),
        "'2024-10-28' is not a 'date-time'",
        id="date-without-time",
    ),
    pytest.param(
        mutate_json(
            "jsonfeed-minimal.json",
            lambda d: _first_item(d).update(date_modified="2024-10-28T00:00:00"),
        ),
        "'2024-10-28T00:00:00' is not a 'date-time'",
        id="date-without-zone",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: _first_item(d).update(url="/posts/hello")),
        "'/posts/hello' is not a 'uri'",
        id="relative-url",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: d.update(authors=[{}])),
        "is not valid under any of the given schemas",
        id="empty-author",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: _first_item(d).update(tags=["a", 2])),
        "2 is not of type 'string'",
        id="non-string-tag",
    ),
    pytest.param(
        mutate_json(
            "jsonfeed-rich.json", lambda d: _first_item(d)["attachments"][0].pop("mime_type")
        ),
        "'mime_type' is a required",
        id="attachment-without-mime-type",
    ),
    pytest.param(
        mutate_json("jsonfeed-rich.json", lambda d: d["hubs"][0].pop("type")),
        "'type' is a required",
        id="hub-without-type",
    ),
    pytest.param(b'{"version": ', "not UTF-8 JSON", id="not-json"),
]


@pytest.mark.parametrize(("data", "message"), JSON_SCHEMA_INVALID)
def test_json_feed_schema_rejects(data: bytes, message: str) -> None:
    with pytest.raises(AssertionError) as info:
        validate_json_feed(data)
    assert message in str(info.value)


def test_json_feed_schema_lists_every_error_with_its_path() -> None:
    data = mutate_json(
        "jsonfeed-minimal.json",
        lambda d: (d.update(titel="typo"), _first_item(d).pop("id")),
    )
    with pytest.raises(AssertionError) as info:
        validate_json_feed(data)
    assert "  at $: " in str(info.value)
    assert "  at $.items[0]: 'id' is a required property" in str(info.value)


# --------------------------------------------------------------------------
# JSON Feed: schema-valid, rejected by check_json_feed_rules
# --------------------------------------------------------------------------

JSON_RULE_INVALID = [
    pytest.param(
        sample("jsonfeed-minimal.json"),
        "http://localhost/feeds/all.json",
        "is not the URL the feed is served at",
        id="feed-url-mismatch",
    ),
    pytest.param(
        mutate_json("jsonfeed-minimal.json", lambda d: d.pop("feed_url")),
        JSON_URL,
        "feed_url None is not the URL the feed is served at",
        id="no-feed-url",
    ),
    pytest.param(
        mutate_json(
            "jsonfeed-rich.json", lambda d: _first_item(d).update(image="ftp://example.org/i.jpg")
        ),
        JSON_RICH_URL,
        "$.items[0].image must be an absolute http(s) URL",
        id="non-http-url",
    ),
    pytest.param(
        mutate_json(
            "jsonfeed-rich.json",
            lambda d: d["authors"][0].update(avatar="mailto:editors@example.org"),
        ),
        JSON_RICH_URL,
        "$.authors[0].avatar must be an absolute http(s) URL",
        id="non-http-avatar",
    ),
    pytest.param(
        mutate_json("jsonfeed-rich.json", lambda d: d["items"][1].update(id=d["items"][0]["id"])),
        JSON_RICH_URL,
        "several items share the id 'https://example.org/posts/2024/10/rich'",
        id="duplicate-ids",
    ),
    pytest.param(
        mutate_json("jsonfeed-rich.json", lambda d: d["hubs"][0].update(url="urn:example:hub")),
        JSON_RICH_URL,
        "$.hubs[0].url must be an absolute http(s) URL",
        id="non-http-hub-url",
    ),
]


@pytest.mark.parametrize(("data", "served_url", "message"), JSON_RULE_INVALID)
def test_json_feed_rules_reject(data: bytes, served_url: str, message: str) -> None:
    doc = validate_json_feed(data)
    with pytest.raises(AssertionError, match=r"JSON Feed breaks \d+ rule") as info:
        check_json_feed_rules(doc, served_url)
    assert message in str(info.value)


def test_json_feed_extensions_are_not_checked_for_urls() -> None:
    data = mutate_json("jsonfeed-minimal.json", lambda d: d.update(_feedsvc={"url": "/x"}))
    assert_valid_json_feed(data, JSON_URL)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-10-28T00:00:00Z", True),
        ("2024-10-28T00:00:00.123+01:00", True),
        ("2016-12-31T23:59:60Z", True),
        ("2024-10-28T00:00:00", False),
        ("2024-10-28 00:00:00Z", False),
        ("2024-02-30T00:00:00Z", False),
        ("2024-10-28T24:00:00Z", False),
        ("2024-10-28T00:00:00+0100", False),
    ],
)
def test_parse_rfc3339(value: str, ok: bool) -> None:
    assert (feedcheck.parse_rfc3339(value) is not None) is ok


def test_schemas_are_loaded_once() -> None:
    assert feedcheck._relaxng("atom.rng") is feedcheck._relaxng("atom.rng")
    assert feedcheck._json_feed_validator() is feedcheck._json_feed_validator()

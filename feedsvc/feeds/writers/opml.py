"""OPML 2.0 subscription lists, written with lxml: feedgen writes feeds, not OPML."""

from __future__ import annotations

from lxml import etree

from feedsvc.feeds.document import OpmlDocument, Outline
from feedsvc.feeds.writers.common import rfc822

CONTENT_TYPE = "text/x-opml; charset=utf-8"


def render_opml(document: OpmlDocument) -> bytes:
    """``document`` as OPML 2.0 (UTF-8 bytes); feed outlines are ``type="rss"``."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    _text(head, "title", document.title)
    created = rfc822(document.created)
    _text(head, "dateCreated", created)
    _text(head, "dateModified", created)
    _text(head, "ownerName", document.owner_name)
    _text(head, "docs", document.docs_url)
    _text(head, "ownerId", document.owner_url)
    body = etree.SubElement(root, "body")
    for outline in document.outlines:
        _outline(body, outline, document.language)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def _outline(parent: etree._Element, outline: Outline, language: str) -> None:
    if outline.xml_url is None:  # a folder: text only, as readers expect of folders
        element = etree.SubElement(parent, "outline", text=outline.text)
        for child in outline.children:
            _outline(element, child, language)
        return
    element = etree.SubElement(parent, "outline", type="rss", text=outline.text)
    if outline.title is not None:
        element.set("title", outline.title)
    element.set("xmlUrl", outline.xml_url)
    if outline.html_url is not None:
        element.set("htmlUrl", outline.html_url)
    element.set("language", language)
    element.set("version", "RSS2")


def _text(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, tag).text = text

"""The one publication a request is answered from.

A reload swaps the runtime's publication at any moment; a request that read it twice could mix
two catalogs (a feed listed by one and missing from the other is a KeyError, a 500). Every view,
decorator and template helper asks here instead, and gets the publication the request first saw.
"""

from __future__ import annotations

from flask import current_app, g

from feedsvc.feeds.catalog import Catalog
from feedsvc.feeds.publication import Publication
from feedsvc.runtime import Runtime


def runtime() -> Runtime:
    """The app's :class:`Runtime` (settings, publication, watcher, hub notifier)."""
    service: Runtime = current_app.extensions["feedsvc"]
    return service


def publication() -> Publication:
    """The publication of this request: read from the runtime once, then kept in ``g``."""
    current: Publication | None = g.get("feedsvc_publication")
    if current is None:
        current = g.feedsvc_publication = runtime().publication
    return current


def catalog() -> Catalog:
    """The catalog of this request's publication."""
    return publication().catalog

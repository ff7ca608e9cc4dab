"""feedsvc: publishes a folder of Dutch news articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1.

Layers, each a folder, importing only downwards: ``articles`` (files to articles), ``feeds``
(articles to feed documents to bytes), ``web`` (the only Flask code) and ``deploy`` (site map,
static export, nginx configuration); ``settings``, ``errors``, the ``runtime``, ``websub`` and
the ``cli`` sit beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app (see :func:`feedsvc.web.app.create_app`).

    Imported lazily so the parser, store and feed writers can be used without Flask.
    """
    from feedsvc.web.app import create_app as create

    return create(test_config)

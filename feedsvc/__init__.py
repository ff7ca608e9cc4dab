"""feedsvc: publishes a folder of Dutch news articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration from ``FEEDSVC_*`` variables, then ``test_config``.

    Raises :class:`feedsvc.errors.ConfigError` when a setting is invalid, so the service never
    starts half-configured. Flask is imported here, not at package level, so the parser, store
    and feed writers can be used without it.
    """
    from flask import Flask

    from feedsvc import web
    from feedsvc.service import FeedService
    from feedsvc.settings import Settings
    from feedsvc.store import ContentStore

    app = Flask(__name__)
    app.config.from_prefixed_env("FEEDSVC")
    if test_config is not None:
        app.config.update(test_config)
    settings = Settings.from_mapping(app.config)
    store = ContentStore(settings)
    store.reload()
    web.init_app(app, FeedService(settings, store))
    return app

"""The Flask app factory: settings from ``FEEDSVC_*``, the content loaded, routes wired."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from feedsvc.articles.store import ContentStore
from feedsvc.feeds.live import LiveCatalog
from feedsvc.runtime import Runtime
from feedsvc.settings import Settings
from feedsvc.web import routes


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration from ``FEEDSVC_*`` variables, then ``test_config``.

    Raises :class:`feedsvc.errors.ConfigError` when a setting is invalid, so the service never
    starts half-configured.
    """
    # Named after this package, so Flask finds templates/ and static/ beside this module.
    app = Flask(__name__.rpartition(".")[0])
    app.config.from_prefixed_env("FEEDSVC")
    if test_config is not None:
        app.config.update(test_config)
    settings = Settings.from_mapping(app.config)
    # Files being written in place are held back only where a watcher reloads them later.
    quiet_seconds = settings.quiet_seconds if settings.watch_content else 0.0
    content = LiveCatalog(ContentStore(settings, quiet_seconds=quiet_seconds), settings.site_title)
    content.reload()
    routes.init_app(app, Runtime(settings, content))
    return app

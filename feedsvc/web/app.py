"""The Flask app factory: settings from ``FEEDSVC_*``, the content loaded, routes wired.

The factory starts no thread: the server starts the content watcher where it will run, in
each gunicorn worker (:mod:`feedsvc.gunicorn_conf`) or once in a single-process server
(:func:`create_watching_app`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

from flask import Flask, Response
from flask.templating import Environment

from feedsvc.articles.store import ContentStore
from feedsvc.feeds.live import LiveCatalog
from feedsvc.runtime import Runtime
from feedsvc.settings import ENV_PREFIX, Settings
from feedsvc.web import fastpath, routes


class TemplateEnvironment(Environment):
    """Flask's Jinja environment, with each template's globals one dict.

    Jinja gives every template a ``ChainMap`` of its globals over the environment's, and
    flattens it into a new dict (a Python-level look-up per name, about 30 here) each time a
    template is rendered, a fixed cost of every page (bench/html_pages_bench.py). A dict made
    when the template is loaded holds the same names; Jinja asks that globals are not changed
    once templates are loaded (``Environment.make_globals``), and ``create_app`` sets them all
    before the first page is rendered.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


class FeedsvcFlask(Flask):
    jinja_environment = TemplateEnvironment

    def make_default_options_response(self) -> Response:
        """Flask's answer to OPTIONS, with the methods of ``Allow`` in a fixed order."""
        response = super().make_default_options_response()
        response.headers["Allow"] = routes.allow_header(response.allow)
        return response


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration from ``FEEDSVC_*`` variables, then ``test_config``.

    Raises :class:`feedsvc.errors.ConfigError` when a setting is invalid, so the service never
    starts half-configured.
    """
    # Named after this package, so Flask finds templates/ and static/ beside this module.
    app = FeedsvcFlask(__name__.rpartition(".")[0])
    app.config.from_prefixed_env(ENV_PREFIX)
    if test_config is not None:
        app.config.update(test_config)
    settings = Settings.from_mapping(app.config)
    logging.getLogger("feedsvc").setLevel(settings.log_level)
    # Files being written in place are held back only where a watcher reloads them later: the
    # quiet period is turned on with the watcher (Runtime.watcher_for).
    content = LiveCatalog(ContentStore(settings), settings.site_title)
    content.reload()
    service = Runtime(settings, content)
    routes.init_app(app, service)
    # Feeds and OPML lists are answered before Flask's routing, from responses made once per
    # rendering (Flask's documented place for WSGI middleware; mypy sees a method replaced).
    app.wsgi_app = fastpath.FastPath(app, service)  # type: ignore[method-assign]
    return app


def start_watching(app: object) -> None:
    """Start watching the content folder in this process, if the app's settings say to watch.

    ``app`` is what a server loaded (gunicorn's ``worker.wsgi``), so it is checked to be ours.
    """
    if not isinstance(app, Flask) or "feedsvc" not in app.extensions:
        raise TypeError(f"not an app made by feedsvc's create_app: {app!r}")
    runtime(app).start_watching()


def runtime(app: Flask) -> Runtime:
    """The :class:`Runtime` behind ``app``: its settings, publication, watcher and notifier."""
    found: Runtime = app.extensions["feedsvc"]
    return found


def create_watching_app() -> Flask:
    """An app that watches its content from this process: for one-process servers such as
    Flask's development server (``flask --app feedsvc.web.app:create_watching_app run``)."""
    app = create_app()
    start_watching(app)
    return app

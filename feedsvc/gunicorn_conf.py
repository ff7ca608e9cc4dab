"""gunicorn settings for serving feedsvc: what ``feedsvc serve`` runs
(``gunicorn -c python:feedsvc.gunicorn_conf feedsvc.wsgi:app``); the checkout's
``gunicorn.conf.py`` imports them.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS. Besides the
settings: feedsvc's log lines go to gunicorn's error log (:class:`Logger`), and each worker starts
watching the content folder as soon as it has started (:func:`post_worker_init`).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from gunicorn.glogging import Logger as GunicornLogger

if TYPE_CHECKING:
    from gunicorn.workers.base import Worker

__all__ = [
    "accesslog",
    "bind",
    "keepalive",
    "logger_class",
    "post_worker_init",
    "preload_app",
    "timeout",
    "worker_class",
    "workers",
]

bind = os.environ.get("FEEDSVC_BIND", "127.0.0.1:8000")
# sync workers, one per core, chosen by measurement (bench/http_bench.py; docs/performance.md).
# On 2 cores with wrk -c32, one request per connection as feed readers poll: sync x2 served
# 5,150-5,900 requests/s at p99 7-8 ms, gthread x2 (2 or 4 threads) 4,200-4,600 at p99 16-19 ms;
# 3 or 4 sync workers no more than 2. gthread is ahead (10-20%) only for clients that keep their
# connection open, at a higher p99. sync wants a buffering proxy (nginx) before slow clients.
workers = int(os.environ.get("FEEDSVC_WORKERS", os.cpu_count() or 2))
worker_class = "sync"
# Load the content once in the master, before forking, so workers share its memory.
preload_app = True
timeout = 30
keepalive = 5  # used by threaded workers only (--threads > 1); sync closes every connection
accesslog = "-"


class Logger(GunicornLogger):
    """gunicorn's logger, which also sends the ``feedsvc`` loggers' lines to the error log.

    With gunicorn's own format (time stamp, process id, level) and wherever ``--error-logfile``
    or syslog sends it. Not ``logconfig_dict``: that replaces the error log's handlers with
    gunicorn's defaults, so ``--error-logfile`` would be lost. The level is FEEDSVC_LOG_LEVEL
    (set by the app factory, see :mod:`feedsvc.settings`). Runs again when gunicorn reloads its
    configuration (SIGHUP), which makes new handlers.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        feedsvc_log = logging.getLogger("feedsvc")
        for handler in list(feedsvc_log.handlers):
            if getattr(handler, "_gunicorn", False):  # gunicorn's mark on its own handlers
                feedsvc_log.removeHandler(handler)
        for handler in self.error_log.handlers:
            feedsvc_log.addHandler(handler)
        feedsvc_log.propagate = False  # written once, here, whatever the root logger does


logger_class = Logger


def post_worker_init(worker: Worker) -> None:
    """Start watching the content folder in this worker, before it takes its first request.

    Threads do not survive the fork from the master, so each worker starts its own watcher;
    gunicorn calls this right after the worker has loaded the app.
    """
    from feedsvc.web.app import start_watching  # noqa: PLC0415 - Flask only once serving

    start_watching(worker.wsgi)

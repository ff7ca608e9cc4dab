"""gunicorn settings for serving feedsvc: what ``feedsvc serve`` runs
(``gunicorn -c python:feedsvc.gunicorn_conf feedsvc.wsgi:app``); the checkout's
``gunicorn.conf.py`` imports them.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS. Besides the
settings: feedsvc's log lines go to gunicorn's error log (:class:`Logger`), and each worker starts
watching the content folder as soon as it has started (:func:`post_worker_init`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
from typing import TYPE_CHECKING, Any

from gunicorn.glogging import Logger as GunicornLogger

from feedsvc.errors import ConfigError
from feedsvc.settings import server_counts

if TYPE_CHECKING:
    from gunicorn.workers.base import Worker

__all__ = [
    "accesslog",
    "bind",
    "control_socket_disable",
    "keepalive",
    "logger_class",
    "post_fork",
    "post_worker_init",
    "preload_app",
    "threads",
    "timeout",
    "worker_class",
    "workers",
]

# Loopback only by default: in front of the internet belongs nginx (``feedsvc nginx-proxy``;
# docs/deploy.md), with gunicorn on loopback or a unix socket (unix:/PATH).
bind = os.environ.get("FEEDSVC_BIND", "127.0.0.1:8000")
try:
    workers, threads = server_counts(os.environ, os.cpu_count() or 2)
except ConfigError as error:
    # gunicorn would show the traceback of this module's import; the message is what counts.
    raise SystemExit(f"Error: invalid configuration: {error}") from None
# gthread with many threads, chosen by measurement against slow clients (bench/slow_clients.py,
# docs/deploy.md): a gunicorn worker reads a request's headers in the thread that will serve
# it, so a client that sends them slowly holds that thread. With 2 sync workers, 200 such
# connections let 3 of 112 normal requests through within 1 s; with 2 gthread workers of 256
# threads each, all 112. Idle threads cost next to nothing (they are started as connections
# need them). The price is throughput: with one request per connection, about half what sync
# workers serve (docs/deploy.md). More slow connections than threads would still starve it: a
# public site runs behind nginx (which reads whole requests), where `--worker-class sync
# --threads 1` is safe and faster.
worker_class = "gthread"
# Load the content once in the master, before forking, so workers share its memory.
preload_app = True
timeout = 30
keepalive = 5  # idle kept-alive connections wait in the worker's poller, not in a thread
accesslog = "-"
# gunicorn's control socket (gunicornc: worker counts, reloads) only when asked for, at the
# path given: no one else on the machine should be able to steer the server.
control_socket_disable = "FEEDSVC_CONTROL_SOCKET" not in os.environ
if not control_socket_disable:
    control_socket = os.environ["FEEDSVC_CONTROL_SOCKET"]
    __all__ += ["control_socket"]


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


# glibc's mallopt parameter for the most malloc arenas a process keeps (M_ARENA_MAX).
_M_ARENA_MAX = -8
WORKER_MALLOC_ARENAS = 2


def post_fork(server: Any, worker: Worker) -> None:
    """Let the worker's threads share :data:`WORKER_MALLOC_ARENAS` malloc arenas.

    glibc gives threads arenas of their own, up to 8 per core, and an arena keeps what it once
    held: with gthread's many threads a worker's memory grew by half in a short soak without
    leaking anything (tests/test_soak.py), and stayed level with two arenas. Not the
    MALLOC_ARENA_MAX variable: it must be set before the process starts, which an installed
    ``feedsvc serve`` cannot ask of its users. Runs in the new worker, before any thread.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, WORKER_MALLOC_ARENAS)


def post_worker_init(worker: Worker) -> None:
    """Start watching the content folder in this worker, before it takes its first request.

    Threads do not survive the fork from the master, so each worker starts its own watcher;
    gunicorn calls this right after the worker has loaded the app.
    """
    from feedsvc.web.app import start_watching  # noqa: PLC0415 - Flask only once serving

    start_watching(worker.wsgi)

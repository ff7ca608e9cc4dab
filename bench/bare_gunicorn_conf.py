"""gunicorn settings for bench/bare_app.py: feedsvc's own (feedsvc/gunicorn_conf.py, which the
README's serve command uses), without the hook that starts feedsvc's content watcher in each
worker: the bare app has no content to watch, and the hook refuses an app feedsvc did not make.
"""

from __future__ import annotations

from typing import Any

from feedsvc.gunicorn_conf import *  # noqa: F403


# Replaces the hook the star import brought in: that is this file's point.
def post_worker_init(worker: Any) -> None:  # type: ignore[no-redef]
    """Nothing to start: the bare app serves bytes it read at import."""

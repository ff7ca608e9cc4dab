"""The WSGI entry point: ``gunicorn -c python:feedsvc.gunicorn_conf feedsvc.wsgi:app``, which is
what ``feedsvc serve`` runs.

The content folder is watched by each worker, started from gunicorn's ``post_worker_init`` hook
(:mod:`feedsvc.gunicorn_conf`), not here: this module is imported in the master before it forks.
"""

from feedsvc import create_app
from feedsvc.runtime import freeze_heap

app = create_app()
# The content is loaded here, in the master (preload_app), and read by every worker for the
# process's lifetime: frozen, the cyclic collector never walks it again and never writes to its
# pages, so the workers keep sharing them (the fork-without-exec use the gc.freeze docs give).
freeze_heap()

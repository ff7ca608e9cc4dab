"""gunicorn settings for the checkout's serve command: ``gunicorn -c gunicorn.conf.py wsgi:app``.

They live in :mod:`feedsvc.gunicorn_conf`, where ``feedsvc serve`` finds them too.
"""

from feedsvc.gunicorn_conf import *  # noqa: F403

"""gunicorn settings for serving feedsvc: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import os

bind = os.environ.get("FEEDSVC_BIND", "127.0.0.1:8000")
# One worker per core: feed responses are CPU-light byte copies, so more workers only add memory.
workers = int(os.environ.get("FEEDSVC_WORKERS", os.cpu_count() or 2))
worker_class = "sync"
# Load the content once in the master, before forking, so workers share its memory.
preload_app = True
timeout = 30
keepalive = 5
accesslog = "-"

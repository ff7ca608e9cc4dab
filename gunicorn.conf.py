"""gunicorn settings for serving feedsvc: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import os

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

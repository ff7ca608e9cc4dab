"""gunicorn settings for serving feedsvc: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import os

# Loopback only by default: in front of the internet belongs nginx (``python -m feedsvc
# nginx-proxy``; docs/deploy.md), with gunicorn on loopback or a unix socket (unix:/PATH).
bind = os.environ.get("FEEDSVC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("FEEDSVC_WORKERS", os.cpu_count() or 2))
# gthread with many threads, chosen by measurement against slow clients (bench/slow_clients.py,
# docs/deploy.md): a gunicorn worker reads a request's headers in the thread that will serve
# it, so a client that sends them slowly holds that thread. With 2 sync workers, 200 such
# connections let no normal request through within 1 s; with 2 gthread workers of 256 threads
# each, they hold at most 200 threads and the rest serve everyone else. Idle threads cost
# next to nothing (they are started as connections need them). The price is throughput: with
# one request per connection, about half what sync workers serve (docs/deploy.md). More slow
# connections than threads would still starve it: a public site runs behind nginx (which reads
# whole requests), where `--worker-class sync --threads 1` is safe and faster.
worker_class = "gthread"
threads = int(os.environ.get("FEEDSVC_THREADS", "256"))
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

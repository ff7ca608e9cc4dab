"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from feedsvc import create_app
from feedsvc.runtime import freeze_heap

app = create_app()
freeze_heap()  # the loaded content lives as long as the process, shared by gunicorn's workers

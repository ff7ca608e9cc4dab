"""``gunicorn wsgi:app`` from the checkout; the app is :mod:`feedsvc.wsgi`'s."""

from feedsvc.wsgi import app

__all__ = ["app"]

"""Configuration, checked once at start-up into one frozen object.

Values come from a mapping: a :class:`flask.Config` filled from ``FEEDSVC_*`` environment
variables by ``from_prefixed_env(ENV_PREFIX)``, in the app and in the command line alike. A bad
value raises :class:`ConfigError` naming the variable and what would fix it, so the service
never starts half-configured.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc.articles.model import XML_UNSAFE
from feedsvc.errors import ConfigError

# What RFC 3986 leaves out of URIs besides non-ASCII: controls, space and "<>\"{}|\\^`.
_URL_UNSAFE = re.compile(r'[\x00-\x20\x7f"<>{}|\\^`]')
ENV_PREFIX = "FEEDSVC"  # FEEDSVC_PAGE_SIZE=20 is the setting PAGE_SIZE
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_DISCLAIMER = (
    "Amstelveenweb.com is niet verantwoordelijk voor de inhoud van de nieuwsberichten."
)


def bundled_content_dir() -> Path:
    """The sample articles: the checkout's ``content/`` when running from a checkout (the
    folder the editors' format is kept in), else the copy an installed package carries."""
    package = Path(str(resources.files("feedsvc")))
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "content").is_dir():
        return checkout / "content"
    return package / "sample_content"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything feedsvc can be configured with, validated."""

    content_dir: Path = field(default_factory=bundled_content_dir)
    site_url: str = "http://localhost:8000"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))
    page_size: int = 50
    site_title: str = "Amstelveenweb"
    site_description: str = "Lokaal nieuws uit Amstelveen en omgeving"
    disclaimer: str = DEFAULT_DISCLAIMER
    cache_max_age: int = 300
    websub_hub: str | None = None
    watch_content: bool = True  # reload when files change (off in most tests)
    log_level: int = logging.INFO  # of feedsvc's own loggers
    # Where what was last published is remembered across restarts (see feedsvc/feeds/state.py);
    # None: the default folder for this content folder and site, see default_state_dir().
    state_dir: Path | None = None
    # A file written in place is published once it has not changed for this long.
    quiet_seconds: float = 1.0
    # /healthz: "summary" (counts and the first few problems), "full" (every problem), "off".
    healthz: str = "summary"

    def url(self, path: str) -> str:
        """The absolute URL of a site path ("/feeds/all.rss"): the one place URLs are built."""
        return self.site_url + "/" + path.lstrip("/")

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> Settings:
        """Read and validate settings from Flask-style keys (``SITE_URL``, ``PAGE_SIZE``, ...)."""
        defaults = cls()
        return cls(
            content_dir=_content_dir(config.get("CONTENT_DIR", defaults.content_dir)),
            site_url=_site_url(config.get("SITE_URL", defaults.site_url), "SITE_URL"),
            timezone=_timezone(config.get("TIMEZONE", defaults.timezone.key)),
            page_size=_positive_int(config.get("PAGE_SIZE", defaults.page_size), "PAGE_SIZE", 1000),
            site_title=_text(config.get("SITE_TITLE", defaults.site_title), "SITE_TITLE"),
            site_description=_text(
                config.get("SITE_DESCRIPTION", defaults.site_description), "SITE_DESCRIPTION"
            ),
            disclaimer=_text(config.get("DISCLAIMER", defaults.disclaimer), "DISCLAIMER"),
            cache_max_age=_positive_int(
                config.get("CACHE_MAX_AGE", defaults.cache_max_age),
                "CACHE_MAX_AGE",
                365 * 24 * 3600,
                allow_zero=True,
            ),
            websub_hub=_optional_url(config.get("WEBSUB_HUB"), "WEBSUB_HUB"),
            watch_content=_flag(config.get("WATCH", defaults.watch_content), "WATCH"),
            log_level=_log_level(config.get("LOG_LEVEL", logging.getLevelName(defaults.log_level))),
            state_dir=_state_dir(config.get("STATE_DIR")),
            healthz=_choice(config.get("HEALTHZ", defaults.healthz), "HEALTHZ", HEALTHZ_MODES),
            quiet_seconds=_seconds(
                config.get("QUIET_SECONDS", defaults.quiet_seconds), "QUIET_SECONDS", 60.0
            ),
        )

    def resolved_state_dir(self) -> Path:
        """``state_dir``, or by default a folder of its own for this content folder and site
        under ``$XDG_STATE_HOME`` (``~/.local/state``): ``feedsvc/<digest>``."""
        if self.state_dir is not None:
            return self.state_dir
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        key = f"{self.content_dir}|{self.site_url}".encode("utf-8", "surrogateescape")
        return Path(base) / "feedsvc" / hashlib.sha256(key).hexdigest()[:16]


# gunicorn's settings that feedsvc takes from FEEDSVC_* (feedsvc/gunicorn_conf.py), checked as
# the service's are: generous bounds, which only catch what is not a count at all.
MAX_WORKERS = 1024
MAX_THREADS = 65536
DEFAULT_THREADS = 256  # why so many: the comment on worker_class in feedsvc/gunicorn_conf.py


def server_counts(environ: Mapping[str, str], cores: int) -> tuple[int, int]:
    """gunicorn's workers and threads per worker: ``FEEDSVC_WORKERS`` (default one per core)
    and ``FEEDSVC_THREADS``; :class:`ConfigError` naming the variable for a bad value."""
    workers = environ.get(f"{ENV_PREFIX}_WORKERS", cores)
    threads = environ.get(f"{ENV_PREFIX}_THREADS", DEFAULT_THREADS)
    return (
        _positive_int(workers, "WORKERS", MAX_WORKERS),
        _positive_int(threads, "THREADS", MAX_THREADS),
    )


def _fail(name: str, message: str) -> ConfigError:
    return ConfigError(f"FEEDSVC_{name}: {message}")


def _content_dir(value: object) -> Path:
    path = Path(str(value)).expanduser()
    if not path.is_dir():
        raise _fail(
            "CONTENT_DIR", f"{str(path)!r} is not a directory; point it at the article folder"
        )
    # Absolute, but symbolic links left in place: a release-folder deploy swaps the link
    # ``current`` to another folder, and the store and the watcher follow it there.
    return Path(os.path.abspath(path))


def _site_url(value: object, name: str) -> str:
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(name, f"{text!r} is not an absolute http(s) URL, e.g. https://www.example.nl")
    # The URL goes into HTTP headers (Link), which carry ASCII only, and into every href.
    if not text.isascii() or _URL_UNSAFE.search(text):
        raise _fail(
            name,
            f"{text!r} must be plain ASCII without spaces, quotes or <>: write a host such as "
            "ämstelveen.nl as xn--mstelveen-u2a.nl and percent-encode other characters",
        )
    if parts.query or parts.fragment:
        raise _fail(name, f"{text!r} must not have a query or fragment")
    return text.rstrip("/")


def _optional_url(value: object, name: str) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    return _site_url(value, name)


HEALTHZ_MODES = ("summary", "full", "off")


def _choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise _fail(name, f"{value!r} is not one of {', '.join(choices)}")
    return text


def _state_dir(value: object) -> Path | None:
    if value is None or str(value).strip() == "":
        return None
    path = Path(str(value)).expanduser()
    if path.exists() and not path.is_dir():
        raise _fail("STATE_DIR", f"{str(path)!r} is not a directory")
    return path.absolute()


def _seconds(value: object, name: str, maximum: float) -> float:
    try:
        number = float(str(value)) if not isinstance(value, bool) else math.nan
    except ValueError:
        number = math.nan
    if not 0 <= number <= maximum:  # also false for NaN
        raise _fail(name, f"{value!r} is not a number of seconds from 0 to {maximum:g}")
    return number


def _timezone(value: object) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            "TIMEZONE", f"{value!r} is not an IANA time zone name such as Europe/Amsterdam"
        ) from None


def _positive_int(value: object, name: str, maximum: int, *, allow_zero: bool = False) -> int:
    minimum = 0 if allow_zero else 1
    try:
        number = int(str(value)) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not minimum <= number <= maximum:
        raise _fail(name, f"{value!r} is not a whole number from {minimum} to {maximum}")
    return number


def _flag(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise _fail(name, f"{value!r} is not a yes/no value; use true or false")


def _log_level(value: object) -> int:
    name = str(value).strip().upper()
    if name not in _LOG_LEVELS:
        raise _fail(
            "LOG_LEVEL", f"{value!r} is not a log level; use one of {', '.join(_LOG_LEVELS)}"
        )
    return logging.getLevelNamesMapping()[name]


def _text(value: object, name: str) -> str:
    text = " ".join(str(value).split())
    if not text:
        raise _fail(name, "must not be empty")
    # Tab and line breaks are gone with the split; lone surrogates come from environment values
    # that are not valid UTF-8.
    if XML_UNSAFE.search(text):
        raise _fail(name, "must not contain control characters or bytes that are not UTF-8")
    return text

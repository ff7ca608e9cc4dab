"""gunicorn as the README serves the checkout (its gunicorn.conf.py and wsgi.py), for the tests
that run the real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

GUNICORN = Path(sys.executable).with_name("gunicorn")


def start_gunicorn(
    env: dict[str, str], stderr: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """gunicorn serving the checkout with ``env`` as its whole environment; no access log."""
    return subprocess.Popen(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null", "wsgi:app"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )

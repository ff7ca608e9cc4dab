"""What the benchmark scripts share: their error type, finding a tool, a free loopback port."""

from __future__ import annotations

import shutil
import socket


class BenchError(Exception):
    """A benchmark cannot run or measure; the message says why."""


def find_tool(name: str, package: str) -> str:
    """The tool's path, looking in sbin too (nginx lives there); raises naming the package."""
    found = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    if found is None:
        raise BenchError(f"{name} not found: install the Debian package: apt-get install {package}")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port

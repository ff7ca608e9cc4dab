"""Draw the feed icons in feedsvc/web/static/ (a white feed symbol on the site's red), with no
image library: PNG is small enough to write with zlib. Run once after changing the design."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

RED = (200, 16, 46)
WHITE = (255, 255, 255)
STATIC = Path(__file__).resolve().parent.parent / "feedsvc" / "web" / "static"


def pixel(x: float, y: float) -> tuple[int, int, int]:
    """The colour at (x, y) in a unit square: a dot and two arcs around the lower-left corner."""
    cx, cy = 0.22, 0.78
    distance = math.hypot(x - cx, y - cy)
    in_quadrant = x >= cx - 0.08 and y <= cy + 0.08
    if distance <= 0.09:
        return WHITE
    for radius in (0.36, 0.58):
        if in_quadrant and radius - 0.075 <= distance <= radius + 0.075 and x >= cx and y <= cy:
            return WHITE
    return RED


def png(size: int) -> bytes:
    rows = bytearray()
    for j in range(size):
        rows.append(0)  # filter type: none
        for i in range(size):
            rows.extend(pixel((i + 0.5) / size, (j + 0.5) / size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def ico(image: bytes, size: int) -> bytes:
    """An ICO file holding one PNG image (allowed since Windows Vista; every browser reads it),
    for clients that ask for /favicon.ico without reading the page's icon link."""
    header = struct.pack("<HHH", 0, 1, 1)  # reserved, type 1 (icon), one image
    entry = struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(image), 6 + 16)
    return header + entry + image


if __name__ == "__main__":
    (STATIC / "icon.png").write_bytes(png(512))
    (STATIC / "favicon.png").write_bytes(png(64))
    (STATIC / "favicon.ico").write_bytes(ico(png(32), 32))

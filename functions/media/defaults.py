"""The images shown when nothing was uploaded: ``users/default.png``, ``events/default.png``, ``default.png``.

The reference uploaded them to the bucket on first use; here they are built once per process (a flat PNG per
kind), so a fresh bucket needs no seeding and a read never writes.
"""
from __future__ import annotations

import functools
import struct
import zlib

SIZE = 256
COLOURS = {"users": (0x9e, 0x9e, 0xb8), "events": (0x3b, 0x2a, 0x5c)}  # avatar grey-blue, poster night purple
NEUTRAL = (0xcc, 0xcc, 0xcc)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.cache
def default_png(prefix: str) -> bytes:
    """A SIZE×SIZE flat PNG in the colour of the key's first path segment."""
    rgb = bytes(COLOURS.get(prefix, NEUTRAL))
    rows = b"".join(b"\x00" + rgb * SIZE for _ in range(SIZE))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9))
            + _chunk(b"IEND", b""))

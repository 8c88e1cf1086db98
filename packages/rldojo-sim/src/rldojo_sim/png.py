"""A minimal PNG encoder for camera observations (8-bit RGB, no filtering, fast zlib).

Unity's camera sensors encode PNG natively; Pillow's PNG writer costs about 0.4 ms per small image
through its plugin machinery, an order of magnitude more than this direct encoding. Python decodes
these images with Pillow (mlagents_envs ``process_pixels``), which the tests rely on.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGB_COLOR_TYPE = 2
COMPRESSION_LEVEL = 1


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_rgb(pixels: np.ndarray) -> bytes:
    """The PNG file of a uint8 [H, W, 3] image."""
    height, width, _ = pixels.shape
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row: filter type 0, then RGB bytes
    rows[:, 1:] = pixels.reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, RGB_COLOR_TYPE, 0, 0, 0)
    return b"".join(
        [
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), COMPRESSION_LEVEL)),
            _chunk(b"IEND", b""),
        ]
    )

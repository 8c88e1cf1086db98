"""Reads a W&B transaction log (``run-<id>.wandb``), the file wandb writes for every run (offline too).

The file is a 7-byte header (``:W&B``, a 2-byte magic, a version byte) followed by LevelDB-log
framed records: 32 KiB blocks, each record chunk a 7-byte header (CRC32, little-endian length,
type FULL/FIRST/MIDDLE/LAST) and its bytes. Each whole record is a ``wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import struct
from pathlib import Path

from wandb.proto import wandb_internal_pb2

BLOCK_SIZE = 32 * 1024
FILE_HEADER = 7
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def read_records(path: Path) -> list[wandb_internal_pb2.Record]:
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    records, pending, offset = [], b"", FILE_HEADER
    while offset + CHUNK_HEADER <= len(data):
        room = BLOCK_SIZE - offset % BLOCK_SIZE
        if room < CHUNK_HEADER:  # block trailer padding
            offset += room
            continue
        _crc, length, kind = struct.unpack_from("<IHB", data, offset)
        chunk = data[offset + CHUNK_HEADER : offset + CHUNK_HEADER + length]
        offset += CHUNK_HEADER + length
        if kind == 0 and length == 0:
            offset += room - CHUNK_HEADER  # zero padding up to the next block
            continue
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records

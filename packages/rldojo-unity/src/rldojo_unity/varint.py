"""Protobuf's base-128 varints, as used for field lengths and for length-delimited message streams."""

from __future__ import annotations

__all__ = ["decode_varint", "encode_varint"]


def encode_varint(value: int) -> bytes:
    """The varint bytes of a non-negative ``value``."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes, position: int) -> tuple[int, int]:
    """The varint starting at ``data[position]`` and the position after it; IndexError if truncated."""
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7

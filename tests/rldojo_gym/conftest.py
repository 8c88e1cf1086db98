"""Helpers for the rldojo-gym tests: env checks that tolerate only the warnings Unity spaces must raise."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

# Unity vector observations are unbounded; SB3 suggests uint8 for images kept as CHW floats on purpose;
# mlagents_envs compares versions with distutils.
EXPECTED_WARNINGS = (
    "infinity",
    "is an image but",
    "minimal resolution for an image",
    "distutils Version classes are deprecated",
)


@contextmanager
def only_expected_warnings() -> Iterator[None]:
    """Fail on any warning except those that Unity's spaces are expected to raise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    unexpected = [
        str(w.message) for w in caught if not any(text in str(w.message) for text in EXPECTED_WARNINGS)
    ]
    if unexpected:
        pytest.fail(f"unexpected warnings: {unexpected}")

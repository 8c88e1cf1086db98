"""Fixtures for launching rldojo-sim builds with the real ``UnityEnvironment`` on leased ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mlagents_envs.environment import UnityEnvironment
from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel


@pytest.fixture
def launch(base_port: int) -> Iterator[Callable[..., UnityEnvironment]]:
    """``launch(build, **kwargs)`` -> a ``UnityEnvironment`` running ``build``, closed after the test."""
    opened: list[UnityEnvironment] = []

    def open_env(build: Path, **kwargs: Any) -> UnityEnvironment:
        kwargs.setdefault("timeout_wait", 30)
        # a trainer always listens for stats; mlagents_envs floods the log when nobody does
        kwargs.setdefault("side_channels", [StatsSideChannel()])
        env = UnityEnvironment(str(build), base_port=base_port, no_graphics=True, **kwargs)
        opened.append(env)
        return env

    yield open_env
    for env in opened:
        env._close(timeout=5)

"""Fixtures for launching rldojo-sim builds with the real ``UnityEnvironment`` on leased ports."""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mlagents_envs.environment import UnityEnvironment
from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel


class UnityEnvironmentClosedOnFailure(UnityEnvironment):
    """The real ``UnityEnvironment``, except that a start that fails closes what it launched at once:
    mlagents-envs leaves that to the ``atexit`` hook it registers first, which would run (and log) after
    pytest has closed its output streams."""

    def __init__(self, *args: Any, **kwargs: Any):
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            if hasattr(self, "_communicator"):
                self._close(0)
            atexit.unregister(self._close)
            raise


@pytest.fixture
def launch(base_port: int) -> Iterator[Callable[..., UnityEnvironment]]:
    """``launch(build, **kwargs)`` -> a ``UnityEnvironment`` running ``build``, closed after the test."""
    opened: list[UnityEnvironment] = []

    def open_env(build: Path, **kwargs: Any) -> UnityEnvironment:
        kwargs.setdefault("timeout_wait", 30)
        # a trainer always listens for stats; mlagents_envs floods the log when nobody does
        kwargs.setdefault("side_channels", [StatsSideChannel()])
        env = UnityEnvironmentClosedOnFailure(str(build), base_port=base_port, no_graphics=True, **kwargs)
        opened.append(env)
        return env

    yield open_env
    for env in opened:
        env._close(timeout=5)

"""``make_env``: a simulated scene as an in-process BaseEnv."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlagents_envs.side_channel.side_channel import SideChannel

from rldojo_sim.academy import Academy
from rldojo_sim.in_process import SimEnv, VectorSimEnv, reports_vector_steps


def make_env(
    name: str, seed: int = 0, side_channels: Sequence[SideChannel] = (), **scene_args: Any
) -> SimEnv:
    """Create scene ``name`` (see ``scene_names()``) in process, seeded like a build given ``seed``.

    ``scene_args`` are the scene's options (``num_areas``, ``max_steps``, ...); ``side_channels``
    are served exactly as a Unity player serves them. A scene with one plain agent per area gives a
    ``VectorSimEnv``, which also reports its steps as arrays.
    """
    academy = Academy(name, seed, **scene_args)
    if reports_vector_steps(academy.scene):
        return VectorSimEnv(academy, side_channels)
    return SimEnv(academy, side_channels)

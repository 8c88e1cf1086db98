"""Fixtures shared by every package's tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sim_build(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``sim_build(name)`` -> path of the rldojo-sim build of scene ``name``, for ``UnityEnvironment``.

    Builds are written once per test session into a temporary folder (``<Name>/<Name>.x86_64``).
    """
    import rldojo_sim

    root = tmp_path_factory.mktemp("unity_builds")
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = rldojo_sim.build(name, root / name)
        return built[name]

    return get

"""Scene catalogs: packages of simulated scenes that get ``rldojo/<Scene>-v0`` ids (and PettingZoo envs).

rldojo-gym depends on no scene package. A package offers its scenes in the entry-point group
``rldojo.gym_scenes``; the entry point loads an object (a module is fine) with

- ``scene_names() -> list[str]``;
- ``make_env(name, seed=0, side_channels=(), **options) -> BaseEnv``: the scene in process, where
  ``options`` are the scene's options and include ``num_areas`` (the number of training areas);
- ``build(name, out_dir) -> Path``: writes an executable that ``UnityEnvironment(file_name=...)``
  launches and that takes the scene options as ``--kebab-case`` arguments.

An in-process env that also has ``render() -> uint8 [H, W, 3]`` can be rendered (``render_mode="rgb_array"``).
rldojo-sim registers itself as ``sim = "rldojo_sim"``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from mlagents_envs.base_env import BaseEnv
from mlagents_envs.side_channel import SideChannel

from rldojo_gym.errors import GymEnvError

__all__ = ["SCENE_CATALOG_GROUP", "SceneCatalog", "catalog_of", "scene_catalogs"]

SCENE_CATALOG_GROUP = "rldojo.gym_scenes"


class SceneCatalog(Protocol):
    """What a ``rldojo.gym_scenes`` entry point loads."""

    def scene_names(self) -> list[str]: ...

    def make_env(
        self, name: str, seed: int = 0, side_channels: Sequence[SideChannel] = (), **options: Any
    ) -> BaseEnv: ...

    def build(self, name: str, out_dir: str | Path) -> Path: ...


@functools.cache
def scene_catalogs() -> dict[str, SceneCatalog]:
    """Scene name -> the catalog offering it, from every installed ``rldojo.gym_scenes`` entry point.

    A catalog that fails to load is reported with a warning naming it and the cause; its scenes
    get no ids. When two catalogs offer a scene of the same name, the first (by entry-point name) wins.
    """
    scenes: dict[str, SceneCatalog] = {}
    for entry_point in sorted(entry_points(group=SCENE_CATALOG_GROUP), key=lambda ep: ep.name):
        try:
            catalog = entry_point.load()
            names = catalog.scene_names()
        except Exception as error:
            warnings.warn(
                f"scene catalog {entry_point.name!r} ({entry_point.value}) of group {SCENE_CATALOG_GROUP} "
                f"failed to load, so its scenes have no rldojo/ ids: {type(error).__name__}: {error}",
                stacklevel=2,
            )
            continue
        for name in names:
            scenes.setdefault(name, catalog)
    return scenes


def catalog_of(scene: str) -> SceneCatalog:
    """The catalog offering ``scene``; a clear error when no installed package offers it."""
    try:
        return scene_catalogs()[scene]
    except KeyError:
        known = ", ".join(sorted(scene_catalogs())) or "none: install rldojo-sim"
        raise GymEnvError(f"no installed scene catalog offers scene {scene!r} (scenes: {known})") from None

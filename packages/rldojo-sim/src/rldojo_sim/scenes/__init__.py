"""The scene registry: scene name -> Scene class, and scene options from keywords."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from rldojo_sim.errors import SceneOptionError, UnknownSceneError
from rldojo_sim.scenes.ball3d import Ball3D
from rldojo_sim.scenes.base import Scene, SceneOptions
from rldojo_sim.scenes.basic import Basic
from rldojo_sim.scenes.gridworld import GridWorld
from rldojo_sim.scenes.tennis import Tennis

SCENES: dict[str, type[Scene]] = {scene.name: scene for scene in (Basic, Ball3D, GridWorld, Tennis)}


def scene_names() -> list[str]:
    """The names of all simulated scenes, e.g. ``["3DBall", "Basic", ...]``."""
    return sorted(SCENES)


def scene_class(name: str) -> type[Scene]:
    """The Scene class called ``name``; raises UnknownSceneError naming the close matches."""
    try:
        return SCENES[name]
    except KeyError:
        close = difflib.get_close_matches(name, SCENES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownSceneError(
            f"Unknown sim scene {name!r}.{hint} Available scenes: {', '.join(scene_names())}."
        ) from None


def scene_options(scene: type[Scene], **values: Any) -> SceneOptions:
    """Build ``scene``'s options from keywords, rejecting unknown names and wrongly typed values."""
    fields = {field.name: field for field in dataclasses.fields(scene.Options)}
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise SceneOptionError(
                f"Scene {scene.name} has no option {key!r}; its options are: {', '.join(fields)}."
            )
        expected = type(fields[key].default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not expected:
            raise SceneOptionError(
                f"Scene {scene.name} option {key!r} must be of type {expected.__name__}, got {value!r}."
            )
        checked[key] = value
    return scene.Options(**checked)

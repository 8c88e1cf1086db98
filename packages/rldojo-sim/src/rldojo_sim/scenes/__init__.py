"""The scene registry: scene name -> Scene class, and scene options from keywords."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
from collections.abc import Sequence
from typing import Any, NoReturn

from rldojo_sim.errors import SceneOptionError, UnknownSceneError
from rldojo_sim.scenes.ball3d import Ball3D
from rldojo_sim.scenes.base import Scene, SceneOptions
from rldojo_sim.scenes.basic import Basic
from rldojo_sim.scenes.dungeon_escape import DungeonEscape
from rldojo_sim.scenes.gridworld import GridWorld
from rldojo_sim.scenes.hallway import Hallway
from rldojo_sim.scenes.pyramids import Pyramids
from rldojo_sim.scenes.strikers_vs_goalie import StrikersVsGoalie
from rldojo_sim.scenes.tennis import Tennis

SCENES: dict[str, type[Scene]] = {
    scene.name: scene
    for scene in (Basic, Ball3D, GridWorld, Tennis, Pyramids, Hallway, DungeonEscape, StrikersVsGoalie)
}


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


def _truth(text: str) -> bool:
    """A bool option's value: ``true`` or ``false`` (also ``1`` / ``0``, ``yes`` / ``no``)."""
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


class _SceneOptionParser(argparse.ArgumentParser):
    """Reports a bad value as :class:`SceneOptionError` (one line) instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise SceneOptionError(f"Scene {self.prog}: {message}.")


def parse_scene_options(scene: type[Scene], argv: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """``--kebab-case`` scene options in ``argv`` as keywords, and the arguments that are not options;
    :class:`SceneOptionError` for a bad value."""
    parser = _SceneOptionParser(prog=scene.name, allow_abbrev=False)
    for field in dataclasses.fields(scene.Options):
        kind = type(field.default)
        parser.add_argument(
            f"--{field.name.replace('_', '-')}", dest=field.name, type=_truth if kind is bool else kind
        )
    options, rest = parser.parse_known_args(argv)
    return {key: value for key, value in vars(options).items() if value is not None}, rest

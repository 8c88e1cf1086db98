"""A launched build of rldojo-sim's Tennis whose two teams are two behaviors, TennisLeft and TennisRight.

rldojo-sim's Tennis names both teams ``Tennis`` (``?team=0`` / ``?team=1``), which rldojo trains as one
behavior, as ML-Agents does. Renamed, each team can have its own trainer type. Run as a script, this
file is the player (``write_build`` writes the launcher that ``UnityEnvironment`` starts).
"""

from __future__ import annotations

import stat
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from mlagents_envs.base_env import ActionTuple

from rldojo_sim.scenes.base import Outcome
from rldojo_sim.scenes.tennis import TEAMS, Tennis

NAME = "TennisTwoBehaviors"
BEHAVIORS = ("TennisLeft", "TennisRight")
RENAMED = {team: f"{behavior}?team=0" for team, behavior in zip(TEAMS, BEHAVIORS, strict=True)}
ORIGINAL = {renamed: team for team, renamed in RENAMED.items()}


class TennisTwoBehaviors(Tennis):
    """Tennis with each team under its own behavior name."""

    name = NAME
    behavior_specs = {RENAMED[team]: spec for team, spec in Tennis.behavior_specs.items()}

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        outcome = super().act({ORIGINAL[name]: action for name, action in actions.items()})
        groups = outcome.group_rewards or {}
        return Outcome(
            {RENAMED[team]: reward for team, reward in outcome.rewards.items()},
            outcome.terminated,
            {RENAMED[team]: reward for team, reward in groups.items()},
        )

    def observe(self) -> dict[str, list[np.ndarray]]:
        return {RENAMED[team]: obs for team, obs in super().observe().items()}

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        return Tennis.heuristic(ORIGINAL[behavior], obs)

    def group_ids(self, behavior: str) -> np.ndarray:
        return super().group_ids(ORIGINAL[behavior])


def write_build(out_dir: Path) -> Path:
    """The launcher of this scene, for ``env_settings.env_path``."""
    launcher = out_dir / f"{NAME}.x86_64"
    player = str(Path(__file__).resolve())
    launcher.write_text(
        f"#!{sys.executable}\nimport runpy\nrunpy.run_path({player!r}, run_name='__main__')\n"
    )
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    return launcher


if __name__ == "__main__":
    from rldojo_sim.player import main
    from rldojo_sim.scenes import SCENES

    SCENES[NAME] = TennisTwoBehaviors
    sys.exit(main(["--scene", NAME, *sys.argv[1:]]))

"""3DBall: keep a ball on a plate by tilting it around two axes.

Like ML-Agents' 3DBall: 12 areas, 8 observations (plate rotation z and x as quaternion components,
ball position relative to the plate, ball velocity), 2 continuous actions (tilt rates around z and
x), +0.1 per decision while the ball is on the plate, -1 when it falls. A decision spans five 20 ms
physics steps. The ball rolls under the tilt (a solid sphere accelerates at 5/7 g sin(angle)) and
feels air drag proportional to its cross-section over its mass, so the environment parameters
``gravity``, ``mass`` and ``scale`` (read when an episode begins) all change the dynamics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec

from rldojo_sim.drawing import Canvas
from rldojo_sim.scenes.base import Outcome, Scene, SceneOptions, Stat, clamp, vector_observation

BEHAVIOR = "3DBall?team=0"
PHYSICS_DT = 0.02
SUBSTEPS = 5
TILT_PER_SUBSTEP = np.deg2rad(2.0)
MAX_TILT = np.deg2rad(25.0)
START_TILT = np.deg2rad(10.0)
START_OFFSET = 1.5
PLATE_EDGE = 3.0
ROLLING = 5.0 / 7.0
DRAG = 0.5
ALIVE_REWARD, DROP_REWARD = 0.1, -1.0
SLOPE_SIGN = np.array([-1.0, 1.0])  # a positive tilt around z lowers the +x side; around x, the -z side


@dataclass(frozen=True)
class Ball3DOptions(SceneOptions):
    num_areas: int = 12
    max_steps: int = 1000


class Ball3D(Scene):
    """Balance a ball on a tilting plate: 12 areas, 8 observations, 2 continuous actions."""

    name = "3DBall"
    Options = Ball3DOptions
    behavior_specs = {
        BEHAVIOR: BehaviorSpec([vector_observation(8, "VectorSensor_size8")], ActionSpec(2, ()))
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        n = self.num_areas
        self.tilt = np.zeros((n, 2))  # radians around z (rolls the ball along x) and around x (along z)
        self.position = np.zeros((n, 2))  # ball x, z on the plate
        self.velocity = np.zeros((n, 2))
        self.gravity = np.full(n, 9.81)
        self.mass = np.ones(n)
        self.scale = np.ones(n)

    def reset_areas(self, areas: np.ndarray) -> None:
        count = int(areas.sum())
        self.tilt[areas] = self.rng.uniform(-START_TILT, START_TILT, (count, 2))
        self.position[areas] = self.rng.uniform(-START_OFFSET, START_OFFSET, (count, 2))
        self.velocity[areas] = 0.0
        self.gravity[areas] = self.parameters.get("gravity", 9.81)
        self.mass[areas] = self.parameters.get("mass", 1.0)
        self.scale[areas] = self.parameters.get("scale", 1.0)

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        tilt_rate = clamp(actions[BEHAVIOR].continuous, -1.0, 1.0) * TILT_PER_SUBSTEP
        # velocity change per substep: rolling under the slope minus air drag (area over mass)
        slope_kick = ROLLING * PHYSICS_DT * self.gravity[:, None] * SLOPE_SIGN
        drag_factor = 1.0 - PHYSICS_DT * (DRAG * self.scale**2 / self.mass)[:, None]
        for _ in range(SUBSTEPS):
            self.tilt = clamp(self.tilt + tilt_rate, -MAX_TILT, MAX_TILT)
            self.velocity = self.velocity * drag_factor + slope_kick * np.sin(self.tilt)
            self.position += self.velocity * PHYSICS_DT
        dropped = _off_plate(self.position)
        reward = np.where(dropped, DROP_REWARD, ALIVE_REWARD).astype(np.float32)
        return Outcome({BEHAVIOR: reward}, dropped)

    def observe(self) -> dict[str, list[np.ndarray]]:
        n = self.num_areas
        obs = np.empty((n, 8), dtype=np.float32)
        obs[:, 0:2] = np.sin(self.tilt / 2.0)  # quaternion z and x components of the plate rotation
        obs[:, 2] = self.position[:, 0]
        obs[:, 3] = 0.5 * self.scale  # the ball rests on the plate: its centre is one radius above
        obs[:, 4] = self.position[:, 1]
        obs[:, 5] = self.velocity[:, 0]
        obs[:, 6] = 0.0
        obs[:, 7] = self.velocity[:, 1]
        return {BEHAVIOR: [obs]}

    def draw(self, area: int) -> np.ndarray:
        """The plate from above (redder / bluer as it tilts around z / x) and the ball on it."""
        tint = np.clip(self.tilt[area] / MAX_TILT, -1.0, 1.0) * 80
        plate = (int(120 + tint[0]), 120, int(120 + tint[1]))
        half = 0.8
        canvas = Canvas().rectangle(-half, -half, half, half, plate)
        x, z = np.clip(self.position[area] / PLATE_EDGE * half, -0.95, 0.95)
        return canvas.disk(x, z, 0.12 * float(self.scale[area]), (220, 60, 50)).pixels

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        """Tilt towards the plate angle that pushes the ball back to the centre (a PD controller)."""
        vector = obs[0]
        tilt = 2.0 * np.arcsin(vector[:, 0:2])
        target = 0.3 * np.stack(
            [vector[:, 2] + 0.6 * vector[:, 5], -(vector[:, 4] + 0.6 * vector[:, 7])], axis=1
        )
        return ActionTuple(
            continuous=np.clip((target - tilt) / np.deg2rad(10.0), -1.0, 1.0).astype(np.float32)
        )

    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        dropped = _off_plate(self.position[ended])
        return [Stat("3DBall/Ball Dropped", float(d)) for d in dropped]


def _off_plate(position: np.ndarray) -> np.ndarray:
    """bool [n]: the ball's centre is past an edge of the plate."""
    return np.asarray((np.abs(position) > PLATE_EDGE).any(axis=1))

"""Pyramids: press a switch, then reach the pyramid it reveals; the only reward is at the pyramid.

Modelled on ML-Agents' Pyramids, the sparse-reward scene where curiosity and RND help: a square
room of ``room_size`` x ``room_size`` cells, the agent starting in the middle, a switch on a random
cell. Stepping on the switch reveals a pyramid on another random cell; reaching it gives +1 and
ends the episode. Nothing else is rewarded, so a policy that does not explore finds nothing to
learn from. Observations: one-hot agent row and column, switch row and column, a switch-pressed
flag, and pyramid row and column (zeros until the switch is pressed): ``6 * room_size + 1``
floats. With ``state_sensor``, a second vector observation: the one-hot of the agent's state (its
cell, and whether the switch is pressed: ``2 * room_size ** 2`` floats), which tells every state
apart. Actions: one branch of 5 (0 stay, 1 up, 2 down, 3 left, 4 right).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec

from rldojo_sim.drawing import Canvas
from rldojo_sim.errors import SceneOptionError
from rldojo_sim.scenes.base import (
    Outcome,
    Scene,
    SceneOptions,
    Stat,
    check_minimum,
    clamp,
    vector_observation,
)

BEHAVIOR = "Pyramids?team=0"
MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])  # row, column deltas
GOAL_REWARD = 1.0
PLACEMENTS = ("random", "corners")


@dataclass(frozen=True)
class PyramidsOptions(SceneOptions):
    num_areas: int = 4
    max_steps: int = 100
    room_size: int = 11
    """Cells per side of the square room (at least 3)."""
    placement: str = "random"
    """Where each episode puts the switch and the pyramid: ``random`` (two random cells) or ``corners`` (the
    switch in the top-left corner, the pyramid in the opposite one: the longest way there)."""
    state_sensor: bool = False
    """Also observe the agent's state (its cell, and whether the switch is pressed) as a one-hot, a second
    vector observation of ``2 * room_size ** 2`` floats: a novelty signal such as RND then sees each state as
    one of its own, not as a row, a column and a flag that other states share."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_minimum("room_size", self.room_size, 3)
        if self.placement not in PLACEMENTS:
            raise SceneOptionError(
                f"placement must be one of {', '.join(PLACEMENTS)}, got {self.placement!r}."
            )


class Pyramids(Scene):
    """Press the switch, then reach the pyramid: +1 at the pyramid and no other reward (sparse)."""

    name = "Pyramids"
    Options = PyramidsOptions

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.options, PyramidsOptions)
        self.size = self.options.room_size
        self.placement = self.options.placement
        self.state_sensor = self.options.state_sensor
        sensors = [vector_observation(6 * self.size + 1, "VectorSensor")]
        if self.state_sensor:
            sensors.append(vector_observation(2 * self.size * self.size, "StateSensor"))
        self.behavior_specs = {BEHAVIOR: BehaviorSpec(sensors, ActionSpec.create_discrete((5,)))}
        n = self.num_areas
        self.agent = np.zeros((n, 2), dtype=np.int64)
        self.switch = np.zeros((n, 2), dtype=np.int64)
        self.pyramid = np.zeros((n, 2), dtype=np.int64)
        self.pressed = np.zeros(n, dtype=bool)
        self.reached = np.zeros(n, dtype=bool)

    def reset_areas(self, areas: np.ndarray) -> None:
        self.agent[areas] = self.size // 2
        self.pressed[areas] = False
        self.reached[areas] = False
        if self.placement == "corners":
            self.switch[areas] = 0
            self.pyramid[areas] = self.size - 1
            return
        count = int(areas.sum())
        cells = self.size * self.size
        centre = (self.size // 2) * self.size + self.size // 2
        # two distinct cells other than the centre: switch and pyramid
        scores = self.rng.random((count, cells))
        scores[:, centre] = np.inf
        picks = np.argsort(scores, axis=1)[:, :2]
        self.switch[areas] = np.stack([picks[:, 0] // self.size, picks[:, 0] % self.size], axis=1)
        self.pyramid[areas] = np.stack([picks[:, 1] // self.size, picks[:, 1] % self.size], axis=1)

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        self.agent = clamp(self.agent + MOVES[actions[BEHAVIOR].discrete[:, 0]], 0, self.size - 1)
        self.reached = self.pressed & (self.agent == self.pyramid).all(axis=1)
        self.pressed |= (self.agent == self.switch).all(axis=1)
        reward = np.where(self.reached, np.float32(GOAL_REWARD), np.float32(0.0))
        return Outcome({BEHAVIOR: reward}, self.reached.copy())

    def observe(self) -> dict[str, list[np.ndarray]]:
        n, size = self.num_areas, self.size
        areas = np.arange(n)
        obs = np.zeros((n, 6 * size + 1), dtype=np.float32)
        obs[areas, self.agent[:, 0]] = 1.0
        obs[areas, size + self.agent[:, 1]] = 1.0
        obs[areas, 2 * size + self.switch[:, 0]] = 1.0
        obs[areas, 3 * size + self.switch[:, 1]] = 1.0
        obs[:, 4 * size] = self.pressed
        shown = areas[self.pressed]
        obs[shown, 4 * size + 1 + self.pyramid[shown, 0]] = 1.0
        obs[shown, 5 * size + 1 + self.pyramid[shown, 1]] = 1.0
        if not self.state_sensor:
            return {BEHAVIOR: [obs]}
        states = np.zeros((n, 2 * size * size), dtype=np.float32)
        states[areas, (self.pressed * size + self.agent[:, 0]) * size + self.agent[:, 1]] = 1.0
        return {BEHAVIOR: [obs, states]}

    def draw(self, area: int) -> np.ndarray:
        """The room from above: switch (red, green once pressed), pyramid once shown (gold), agent (blue)."""
        canvas = Canvas(background=(60, 50, 40))
        cell = 2.0 / self.size

        def square(cell_at: np.ndarray, color: tuple[int, int, int], shrink: float = 0.1) -> None:
            row, column = cell_at
            left, top = -1.0 + column * cell, 1.0 - row * cell
            canvas.rectangle(left + shrink * cell, top - (1 - shrink) * cell, left + (1 - shrink) * cell,
                             top - shrink * cell, color)  # fmt: skip

        square(self.switch[area], (60, 200, 60) if self.pressed[area] else (220, 60, 50))
        if self.pressed[area]:
            square(self.pyramid[area], (230, 190, 40))
        square(self.agent[area], (70, 130, 240), shrink=0.25)
        return canvas.pixels

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        """Walk to the switch, then to the pyramid: rows first, then columns."""
        vector = obs[0]
        size = (vector.shape[1] - 1) // 6

        def cell(first: int) -> np.ndarray:  # the (row, column) one-hot pair starting at ``first``
            return np.stack(
                [
                    vector[:, first : first + size].argmax(1),
                    vector[:, first + size : first + 2 * size].argmax(1),
                ],
                1,
            )

        agent, switch, pyramid = cell(0), cell(2 * size), cell(4 * size + 1)
        target = np.where(vector[:, 4 * size, None] > 0, pyramid, switch)
        delta = target - agent
        action = np.select(
            [delta[:, 0] < 0, delta[:, 0] > 0, delta[:, 1] < 0, delta[:, 1] > 0], [1, 2, 3, 4], default=0
        )
        return ActionTuple(discrete=action[:, None].astype(np.int32))

    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        return [
            *(Stat("Pyramids/Switch Pressed", float(p)) for p in self.pressed[ended]),
            *(Stat("Pyramids/Goal Reached", float(r)) for r in self.reached[ended]),
        ]

"""DungeonEscape: a group of three escapes through a door that opens once one of them slays the dragon.

Modelled on ML-Agents' DungeonEscape, the cooperative scene for POCA. Each area is a corridor of
``corridor_length`` cells holding one agent group of three (behavior ``DungeonEscape?team=0``,
group id ``1 + area``): a dragon at cell 0, a locked door at the last cell. An agent that walks
into the living dragon slays it and dies: its episode ends (reward 0) and it leaves the group; a
new agent (a new agent id) joins the group in its place in the middle of the corridor. The dead
dragon unlocks the door; when any agent stands on the open door the group escapes: every member's
episode ends with group reward +1. Agents earn no individual reward, so only the group reward
tells the one that sacrificed itself that it helped. The group's episode is interrupted after
``max_steps`` decisions, counted for the group (a member that joined late is interrupted with it).
Observations: one-hot position (``corridor_length``), dragon alive (1), one-hot slot in the group
(3). Actions: one branch of 3 (0 stay, 1 left, 2 right). Agent rows are area-major: rows
``3 * area .. 3 * area + 2`` form the group of ``area``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec

from rldojo_sim.drawing import Canvas
from rldojo_sim.scenes.base import (
    Outcome,
    Scene,
    SceneOptions,
    Stat,
    check_minimum,
    clamp,
    vector_observation,
)

BEHAVIOR = "DungeonEscape?team=0"
GROUP_SIZE = 3
MOVES = np.array([0, -1, 1])
ESCAPE_GROUP_REWARD = 1.0


@dataclass(frozen=True)
class DungeonEscapeOptions(SceneOptions):
    num_areas: int = 2
    """Corridors, each with one group of three agents."""
    max_steps: int = 40
    corridor_length: int = 7
    """Cells from the dragon to the door (at least 5)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_minimum("corridor_length", self.corridor_length, 5)


class DungeonEscape(Scene):
    """A group of three: one slays the dragon (and dies), the others escape; group reward +1."""

    name = "DungeonEscape"
    Options = DungeonEscapeOptions

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.options, DungeonEscapeOptions)
        self.length = self.options.corridor_length
        self.behavior_specs = {
            BEHAVIOR: BehaviorSpec(
                [vector_observation(self.length + 1 + GROUP_SIZE, "VectorSensor")],
                ActionSpec.create_discrete((3,)),
            )
        }
        groups = self.options.num_areas
        self.group_of = np.repeat(np.arange(groups), GROUP_SIZE)  # row -> area
        self.position = np.zeros(self.num_areas, dtype=np.int64)
        self.dragon_alive = np.ones(groups, dtype=bool)
        self.group_steps = np.zeros(groups, dtype=np.int64)
        self.escaped = np.zeros(groups, dtype=bool)
        self.slain = np.zeros(self.num_areas, dtype=bool)  # the agent died slaying the dragon this step

    @property
    def num_areas(self) -> int:
        """Agent rows: three per area (the Academy runs one episode per agent)."""
        return self.options.num_areas * GROUP_SIZE

    def reset_areas(self, areas: np.ndarray) -> None:
        whole_groups = areas.reshape(-1, GROUP_SIZE).all(axis=1)
        self.dragon_alive[whole_groups] = True
        self.group_steps[whole_groups] = 0
        self.escaped[whole_groups] = False
        # new groups and agents joining a running group start in the middle of the corridor
        self.position[areas] = self.rng.integers(2, self.length - 2, int(areas.sum()))
        self.slain[areas] = False

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        self.position = clamp(self.position + MOVES[actions[BEHAVIOR].discrete[:, 0]], 0, self.length - 1)
        self.slain = (self.position == 0) & self.dragon_alive[self.group_of]
        self.dragon_alive &= ~np.bitwise_or.reduceat(self.slain, np.arange(0, self.num_areas, GROUP_SIZE))
        self.position[self.position == 0] = 1  # the dragon's cell: a slain dragon's body blocks it
        at_door = (self.position == self.length - 1) & ~self.dragon_alive[self.group_of]
        self.escaped = np.bitwise_or.reduceat(at_door, np.arange(0, self.num_areas, GROUP_SIZE))
        self.group_steps += 1
        all_dead = self.slain.reshape(-1, GROUP_SIZE).all(axis=1)
        group_ends = self.escaped | all_dead
        terminated = group_ends[self.group_of] | self.slain
        max_steps = self.options.max_steps
        out_of_time = (max_steps > 0) & (self.group_steps >= max_steps) & ~group_ends
        group_reward = np.where(self.escaped[self.group_of], np.float32(ESCAPE_GROUP_REWARD), np.float32(0))
        return Outcome(
            {BEHAVIOR: np.zeros(self.num_areas, dtype=np.float32)},
            terminated,
            {BEHAVIOR: group_reward},
            interrupted=out_of_time[self.group_of] & ~self.slain,
        )

    def observe(self) -> dict[str, list[np.ndarray]]:
        rows = np.arange(self.num_areas)
        obs = np.zeros((self.num_areas, self.length + 1 + GROUP_SIZE), dtype=np.float32)
        obs[rows, self.position] = 1.0
        obs[:, self.length] = self.dragon_alive[self.group_of]
        obs[rows, self.length + 1 + rows % GROUP_SIZE] = 1.0
        return {BEHAVIOR: [obs]}

    def draw(self, area: int) -> np.ndarray:
        """The corridor from the left: the dragon (red) while it lives, the door (brown, green once open)
        and the group's three agents (blue, one lane each)."""
        canvas = Canvas().rectangle(-1.0, -0.5, 1.0, 0.5, (90, 90, 90))
        cell = 2.0 / self.length
        door = (60, 200, 60) if not self.dragon_alive[area] else (140, 90, 50)
        canvas.rectangle(1.0 - cell, -0.5, 1.0, 0.5, door)
        if self.dragon_alive[area]:
            canvas.disk(-1.0 + 0.5 * cell, 0.0, 0.4 * cell, (220, 50, 40))
        for slot in range(GROUP_SIZE):
            x = -1.0 + (self.position[area * GROUP_SIZE + slot] + 0.5) * cell
            canvas.disk(x, 0.3 - 0.3 * slot, 0.1, (70, 130, 240))
        return canvas.pixels

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        """The first member of each group goes for the dragon while it lives; everybody else to the door."""
        vector = obs[0]
        length = vector.shape[1] - 1 - GROUP_SIZE
        hunter = (vector[:, length] > 0) & (vector[:, length + 1] > 0)
        return ActionTuple(discrete=np.where(hunter, 1, 2)[:, None].astype(np.int32))

    def group_ids(self, behavior: str) -> np.ndarray:
        return (1 + self.group_of).astype(np.int32)

    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        ended_groups = ended.reshape(-1, GROUP_SIZE).all(axis=1)
        return [Stat("DungeonEscape/Escaped", float(e)) for e in self.escaped[ended_groups]]

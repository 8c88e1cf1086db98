"""Basic: walk along a line of 20 cells to the small goal (+0.1) or the large goal (+1.0).

Mirrors ML-Agents' Basic example: one-hot position of size 20, start at 10, one branch of three
actions (0 stay, 1 left, 2 right), -0.01 per step, episode ends at cell 7 or 17. Optimal return 0.93.
The environment parameter ``step_penalty`` (default 0.01) sets the per-step cost of new episodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec

from rldojo_sim.drawing import Canvas
from rldojo_sim.scenes.base import Outcome, Scene, SceneOptions, Stat, clamp, vector_observation

BEHAVIOR = "Basic?team=0"
CELLS = 20
START = 10
SMALL_GOAL, LARGE_GOAL = 7, 17
SMALL_REWARD, LARGE_REWARD, STEP_PENALTY = 0.1, 1.0, 0.01
MOVES = np.array([0, -1, 1])


@dataclass(frozen=True)
class BasicOptions(SceneOptions):
    num_areas: int = 1
    max_steps: int = 100


class Basic(Scene):
    """Walk a line of 20 cells to the small (+0.1) or large (+1.0) goal; optimal return 0.93."""

    name = "Basic"
    Options = BasicOptions
    behavior_specs = {
        BEHAVIOR: BehaviorSpec([vector_observation(CELLS, "Basic")], ActionSpec.create_discrete((3,)))
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.position = np.full(self.num_areas, START)
        self.step_penalty = np.full(self.num_areas, STEP_PENALTY, dtype=np.float32)

    def reset_areas(self, areas: np.ndarray) -> None:
        self.position[areas] = START
        self.step_penalty[areas] = self.parameters.get("step_penalty", STEP_PENALTY)

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        self.position = clamp(self.position + MOVES[actions[BEHAVIOR].discrete[:, 0]], 0, CELLS - 1)
        reward = -self.step_penalty
        reward[self.position == SMALL_GOAL] += SMALL_REWARD
        reward[self.position == LARGE_GOAL] += LARGE_REWARD
        terminated = (self.position == SMALL_GOAL) | (self.position == LARGE_GOAL)
        return Outcome({BEHAVIOR: reward}, terminated)

    def observe(self) -> dict[str, list[np.ndarray]]:
        one_hot = np.zeros((self.num_areas, CELLS), dtype=np.float32)
        one_hot[np.arange(self.num_areas), self.position] = 1.0
        return {BEHAVIOR: [one_hot]}

    def draw(self, area: int) -> np.ndarray:
        """The line of cells from the left: small goal (green), large goal (gold), agent (blue)."""
        canvas = Canvas().rectangle(-1.0, -0.1, 1.0, 0.1, (70, 70, 70))
        center = (np.arange(CELLS) + 0.5) / CELLS * 2.0 - 1.0
        canvas.disk(center[SMALL_GOAL], 0.0, 0.06, (60, 200, 60))
        canvas.disk(center[LARGE_GOAL], 0.0, 0.12, (230, 190, 40))
        return canvas.disk(center[self.position[area]], 0.0, 0.08, (70, 130, 240)).pixels

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        return ActionTuple(discrete=np.full((len(obs[0]), 1), 2, dtype=np.int32))  # right, to the large goal

    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        reached = self.position[ended] == LARGE_GOAL
        return [Stat("Basic/Large Goal Reached", float(hit)) for hit in reached]

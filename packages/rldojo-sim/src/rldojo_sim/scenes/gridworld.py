"""GridWorld: reach the goal named by the goal signal on a small grid seen from above.

Like ML-Agents' GridWorld: each area has an agent, a green "plus" goal and a red "cross" goal. The
agent sees a [3, H, W] top-down picture (red channel: cross, green: plus, blue: agent, on a grey
floor) and a one-hot goal signal (GOAL_SIGNAL observation: [1, 0] = reach green, [0, 1] = reach
red). Actions: one branch of 5 (0 stay, 1 up, 2 down, 3 left, 4 right); moves into a wall are
masked. Reward -0.01 per step, +1 at the signalled goal, -1 at the other; both end the episode.
The environment parameter ``step_penalty`` (default 0.01) sets the per-step cost of new episodes.
The grid is deliberately not square so that a transposed [C, W, H] image is caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec

from rldojo_sim.scenes.base import (
    Outcome,
    Scene,
    SceneOptions,
    Stat,
    clamp,
    goal_signal,
    visual_observation,
)

BEHAVIOR = "GridWorld?team=0"
MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])  # row, column deltas
FLOOR = 60
STEP_PENALTY, GOAL_REWARD, WRONG_GOAL_REWARD = 0.01, 1.0, -1.0
GREEN, RED = 0, 1


@dataclass(frozen=True)
class GridWorldOptions(SceneOptions):
    num_areas: int = 9
    max_steps: int = 50
    grid_rows: int = 5
    grid_columns: int = 6
    cell_pixels: int = 6


class GridWorld(Scene):
    """Reach the goal the goal signal names: [3, H, W] camera view, 5 masked discrete actions."""

    name = "GridWorld"
    Options = GridWorldOptions

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        options = self.options
        assert isinstance(options, GridWorldOptions)
        self.rows, self.columns, self.cell = options.grid_rows, options.grid_columns, options.cell_pixels
        self.behavior_specs = {
            BEHAVIOR: BehaviorSpec(
                [
                    visual_observation(3, self.rows * self.cell, self.columns * self.cell, "CameraSensor"),
                    goal_signal(2, "GoalSensor"),
                ],
                ActionSpec.create_discrete((5,)),
            )
        }
        n = self.num_areas
        self.agent = np.zeros((n, 2), dtype=np.int64)
        self.goals = np.zeros((n, 2, 2), dtype=np.int64)  # [area, GREEN/RED, row/column]
        self.target = np.zeros(n, dtype=np.int64)
        self.reached = np.full(n, -1)  # goal reached in the last step, -1 for none
        self.step_penalty = np.full(n, STEP_PENALTY, dtype=np.float32)

    def reset_areas(self, areas: np.ndarray) -> None:
        count = int(areas.sum())
        cells = self.rows * self.columns
        # three distinct cells per area: agent, green goal, red goal
        picks = np.argsort(self.rng.random((count, cells)), axis=1)[:, :3]
        positions = np.stack([picks // self.columns, picks % self.columns], axis=-1)
        self.agent[areas] = positions[:, 0]
        self.goals[areas] = positions[:, 1:]
        self.target[areas] = self.rng.integers(0, 2, count)
        self.reached[areas] = -1
        self.step_penalty[areas] = self.parameters.get("step_penalty", STEP_PENALTY)

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        move = MOVES[actions[BEHAVIOR].discrete[:, 0]]
        limits = np.array([self.rows - 1, self.columns - 1])
        self.agent = clamp(self.agent + move, 0, limits)
        on_goal = (self.agent[:, None, :] == self.goals).all(axis=2)  # [area, GREEN/RED]
        self.reached = np.where(on_goal.any(axis=1), on_goal.argmax(axis=1), -1)
        reward = -self.step_penalty
        reward[self.reached == self.target] += GOAL_REWARD
        reward[(self.reached >= 0) & (self.reached != self.target)] += WRONG_GOAL_REWARD
        return Outcome({BEHAVIOR: reward}, self.reached >= 0)

    def observe(self) -> dict[str, list[np.ndarray]]:
        n = self.num_areas
        areas = np.arange(n)
        cells = np.full((n, 3, self.rows, self.columns), FLOOR, dtype=np.uint8)
        cells[areas, 0, self.goals[:, RED, 0], self.goals[:, RED, 1]] = 255
        cells[areas, 1, self.goals[:, GREEN, 0], self.goals[:, GREEN, 1]] = 255
        cells[areas, 2, self.agent[:, 0], self.agent[:, 1]] = 255
        pixels = cells.repeat(self.cell, axis=2).repeat(self.cell, axis=3)
        signal = np.zeros((n, 2), dtype=np.float32)
        signal[areas, self.target] = 1.0
        return {BEHAVIOR: [pixels.astype(np.float32) / 255.0, signal]}

    def action_masks(self) -> dict[str, np.ndarray]:
        row, column = self.agent[:, 0], self.agent[:, 1]
        stay = np.zeros(self.num_areas, dtype=bool)
        masks = np.stack(
            [stay, row == 0, row == self.rows - 1, column == 0, column == self.columns - 1], axis=1
        )
        return {BEHAVIOR: masks}

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        """Follow a shortest path to the signalled goal that avoids the other goal."""
        image, signal = obs
        n, areas = len(image), np.arange(len(image))
        cell = _cell_pixels(image[0, 2])
        rows, columns = image.shape[2] // cell, image.shape[3] // cell
        wanted = np.where(signal[:, GREEN] > 0, 1, 0)  # the green goal is drawn in channel 1, red in 0
        agent = _brightest(image[:, 2], cell)
        goal = _brightest(image[areas, wanted], cell)
        other = _brightest(image[areas, 1 - wanted], cell)
        # distance to the goal of every cell, by relaxation (the other goal is a wall), padded by a wall
        distance = np.full((n, rows + 2, columns + 2), np.inf)
        distance[areas, goal[:, 0] + 1, goal[:, 1] + 1] = 0.0
        for _ in range(rows * columns):
            neighbours = np.stack([np.roll(distance, shift, axis) for shift in (1, -1) for axis in (1, 2)])
            distance[:, 1:-1, 1:-1] = np.minimum(distance, neighbours.min(axis=0) + 1)[:, 1:-1, 1:-1]
            distance[areas, other[:, 0] + 1, other[:, 1] + 1] = np.inf
        landing = agent[:, None, :] + MOVES[None, 1:] + 1  # [area, up/down/left/right, padded row/column]
        cost = distance[areas[:, None], landing[..., 0], landing[..., 1]]
        return ActionTuple(discrete=(cost.argmin(axis=1) + 1)[:, None].astype(np.int32))

    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        correct = self.reached[ended] == self.target[ended]
        return [Stat("GridWorld/Correct Goal", float(c)) for c in correct]


def _cell_pixels(channel: np.ndarray) -> int:
    """The side of a grid cell in pixels: an object fills one cell-sized square of a channel."""
    return round(float(np.sqrt((channel == channel.max()).sum())))


def _brightest(channel: np.ndarray, cell: int) -> np.ndarray:
    """[n, H, W] -> [n, 2] (row, column) grid cell of each picture's brightest square."""
    flat = channel.reshape(len(channel), -1).argmax(axis=1)
    return np.stack([flat // channel.shape[2], flat % channel.shape[2]], axis=1) // cell

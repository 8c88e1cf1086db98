"""StrikersVsGoalie: a striker shoots at a goal a goalie defends; two behaviors with different specs.

Modelled on ML-Agents' StrikersVsGoalie, the asymmetric two-behavior game. Each area has a
striker (behavior ``Striker?team=0``) at x=-1 and a goalie (``Goalie?team=1``) on the goal line at
x=+1, both sliding along y in [-1, 1]. The striker holds the ball until it kicks; the ball then
flies straight along x and reaches the goal line after 8 decisions. The goalie saves it when within
0.2 of the ball's y, otherwise it is a goal. A goal gives the striker +1 and the goalie -1, a save
the reverse; either ends the episode. The striker is faster than the goalie, so it scores by
getting far enough away from the goalie before it shoots.

- Striker: observations own y, goalie y, ball x, ball y (4); actions two discrete branches,
  move (0 stay, 1 up, 2 down) and kick (0 no, 1 yes).
- Goalie: observations own y, striker y, ball x, ball y, ball speed along x (5); one continuous
  action, its velocity along y.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec

from rldojo_sim.drawing import Canvas
from rldojo_sim.scenes.base import Outcome, Scene, SceneOptions, Stat, clamp, vector_observation

STRIKER, GOALIE = "Striker?team=0", "Goalie?team=1"
STRIKER_SPEED, GOALIE_SPEED = 0.1, 0.04
BALL_SPEED = 0.25
GOALIE_REACH = 0.2
SCORE_REWARD = 1.0
STRIKER_MOVES = np.array([0.0, 1.0, -1.0])
SHOOTING_GAP = 0.55
"""Separation from the goalie at which the scripted striker shoots (the goalie covers 0.52 in flight)."""


@dataclass(frozen=True)
class StrikersVsGoalieOptions(SceneOptions):
    num_areas: int = 4
    max_steps: int = 60


class StrikersVsGoalie(Scene):
    """A striker (discrete actions) shoots, a goalie (continuous action) saves: two behaviors."""

    name = "StrikersVsGoalie"
    Options = StrikersVsGoalieOptions
    behavior_specs = {
        STRIKER: BehaviorSpec(
            [vector_observation(4, "VectorSensor_size4")], ActionSpec.create_discrete((3, 2))
        ),
        GOALIE: BehaviorSpec([vector_observation(5, "VectorSensor_size5")], ActionSpec.create_continuous(1)),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        n = self.num_areas
        self.striker = np.zeros(n)
        self.goalie = np.zeros(n)
        self.ball = np.zeros((n, 2))  # x, y
        self.kicked = np.zeros(n, dtype=bool)
        self.scored = np.zeros(n, dtype=bool)

    def reset_areas(self, areas: np.ndarray) -> None:
        count = int(areas.sum())
        self.striker[areas] = self.rng.uniform(-0.5, 0.5, count)
        self.goalie[areas] = self.rng.uniform(-0.5, 0.5, count)
        self.ball[areas] = np.stack([np.full(count, -1.0), self.striker[areas]], axis=1)
        self.kicked[areas] = False
        self.scored[areas] = False

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        striker = actions[STRIKER].discrete
        held = ~self.kicked
        self.striker = np.where(
            held, clamp(self.striker + STRIKER_SPEED * STRIKER_MOVES[striker[:, 0]], -1.0, 1.0), self.striker
        )
        self.goalie = clamp(
            self.goalie + GOALIE_SPEED * clamp(actions[GOALIE].continuous[:, 0], -1, 1), -1, 1
        )
        self.ball[held, 1] = self.striker[held]
        self.ball[self.kicked, 0] += BALL_SPEED
        self.kicked |= striker[:, 1] == 1
        arrived = self.ball[:, 0] >= 1.0
        saved = arrived & (np.abs(self.ball[:, 1] - self.goalie) <= GOALIE_REACH)
        self.scored = arrived & ~saved
        striker_reward = np.where(self.scored, SCORE_REWARD, np.where(saved, -SCORE_REWARD, 0.0))
        return Outcome(
            {STRIKER: striker_reward.astype(np.float32), GOALIE: (-striker_reward).astype(np.float32)},
            arrived,
        )

    def observe(self) -> dict[str, list[np.ndarray]]:
        ball_x, ball_y = self.ball[:, 0], self.ball[:, 1]
        speed = np.where(self.kicked, BALL_SPEED, 0.0)
        return {
            STRIKER: [np.stack([self.striker, self.goalie, ball_x, ball_y], axis=1).astype(np.float32)],
            GOALIE: [np.stack([self.goalie, self.striker, ball_x, ball_y, speed], axis=1).astype(np.float32)],
        }

    def draw(self, area: int) -> np.ndarray:
        """The pitch from above: the striker (blue) on the left, the goal line and goalie (red) on the
        right, the ball (white)."""
        scale = 0.9
        canvas = Canvas(background=(40, 110, 50)).rectangle(0.92, -1.0, 0.95, 1.0, (220, 220, 220))
        canvas.disk(-scale, scale * self.striker[area], 0.08, (70, 130, 240))
        goalie_y = scale * self.goalie[area]
        canvas.rectangle(
            0.85, goalie_y - scale * GOALIE_REACH, 0.92, goalie_y + scale * GOALIE_REACH, (230, 70, 60)
        )
        ball_x, ball_y = scale * self.ball[area]
        return canvas.disk(ball_x, ball_y, 0.05, (245, 245, 245)).pixels

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        """Striker: run away from the goalie; shoot when far enough apart or at the wall. Goalie: follow
        the ball."""
        vector = obs[0]
        own, other, ball_y = vector[:, 0], vector[:, 1], vector[:, 3]
        if behavior == GOALIE:
            return ActionTuple(continuous=clamp((ball_y - own) / GOALIE_SPEED, -1.0, 1.0)[:, None])
        up = own >= other
        at_wall = np.where(up, own >= 1.0, own <= -1.0)
        shoot = (np.abs(own - other) >= SHOOTING_GAP) | at_wall
        move = np.where(shoot, 0, np.where(up, 1, 2))
        return ActionTuple(discrete=np.stack([move, shoot], axis=1).astype(np.int32))

    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        return [Stat("StrikersVsGoalie/Goal Scored", float(s)) for s in self.scored[ended]]

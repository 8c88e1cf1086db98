"""Tennis: two paddles, one per team, keep a ball in play (two behaviors, agent groups).

A flat court from x=-1 (team 0) to x=+1 (team 1); each paddle slides along y in [-1, 1] at its
baseline. The ball flies across and bounces off the side walls; a paddle returns it when within
reach (+0.1 to the hitter), otherwise the rally ends: -0.1 to the player who missed, and group
rewards +1 to the scoring team's group and -1 to the other. Behaviors ``Tennis?team=0`` and
``Tennis?team=1`` see the court mirrored so that each plays from the left: own y, opponent y, ball
x and y, ball velocity x and y. One continuous action moves the paddle. Each team's agent is in a
group of its own (group id ``1 + 2 * area + team``). The environment parameter ``ball_speed``
(default 0.1 court units per step) sets how fast the serve of a new rally crosses the court.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec

from rldojo_sim.drawing import Canvas
from rldojo_sim.scenes.base import Outcome, Scene, SceneOptions, Stat, clamp, vector_observation

TEAMS = ("Tennis?team=0", "Tennis?team=1")
PADDLE_SPEED = 0.1
PADDLE_REACH = 0.2
BALL_SPEED_X = 0.1
BALL_SPIN = 0.5
MAX_BALL_SPEED_Y = 0.08
HIT_REWARD, MISS_REWARD, GROUP_REWARD = 0.1, -0.1, 1.0


@dataclass(frozen=True)
class TennisOptions(SceneOptions):
    num_areas: int = 2
    max_steps: int = 300


class Tennis(Scene):
    """Two teams (two behaviors) rally a ball; agent groups with group rewards."""

    name = "Tennis"
    Options = TennisOptions
    behavior_specs = {
        team: BehaviorSpec([vector_observation(6, "VectorSensor_size6")], ActionSpec.create_continuous(1))
        for team in TEAMS
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        n = self.num_areas
        self.paddle = np.zeros((n, 2))  # y of team 0 and team 1
        self.ball = np.zeros((n, 2))  # x, y
        self.velocity = np.zeros((n, 2))
        self.hits = np.zeros(n, dtype=np.int64)

    def reset_areas(self, areas: np.ndarray) -> None:
        count = int(areas.sum())
        self.paddle[areas] = 0.0
        self.ball[areas] = np.stack([np.zeros(count), self.rng.uniform(-0.5, 0.5, count)], axis=1)
        serve = self.rng.choice([-1.0, 1.0], count) * self.parameters.get("ball_speed", BALL_SPEED_X)
        self.velocity[areas] = np.stack([serve, self.rng.uniform(-0.05, 0.05, count)], axis=1)
        self.hits[areas] = 0

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        moves = np.concatenate([clamp(actions[team].continuous, -1.0, 1.0) for team in TEAMS], axis=1)
        self.paddle = clamp(self.paddle + PADDLE_SPEED * moves, -1.0, 1.0)
        self.ball += self.velocity
        wall = np.abs(self.ball[:, 1]) > 1.0
        self.ball[wall, 1] = np.sign(self.ball[wall, 1]) * 2.0 - self.ball[wall, 1]
        self.velocity[wall, 1] *= -1.0
        at_baseline = np.abs(self.ball[:, 0]) >= 1.0
        team = (self.ball[:, 0] > 0).astype(np.int64)  # whose baseline the ball reached
        offset = self.ball[:, 1] - self.paddle[np.arange(self.num_areas), team]
        hit = at_baseline & (np.abs(offset) <= PADDLE_REACH)
        miss = at_baseline & ~hit
        self.velocity[hit, 0] *= -1.0
        self.velocity[hit, 1] = clamp(
            self.velocity[hit, 1] + BALL_SPIN * offset[hit] * BALL_SPEED_X,
            -MAX_BALL_SPEED_Y,
            MAX_BALL_SPEED_Y,
        )
        self.ball[hit, 0] = np.sign(self.ball[hit, 0])
        self.hits += hit
        rewards, group_rewards = {}, {}
        for index, name in enumerate(TEAMS):
            mine = team == index
            reward = np.zeros(self.num_areas, dtype=np.float32)
            reward[hit & mine] = HIT_REWARD
            reward[miss & mine] = MISS_REWARD
            rewards[name] = reward
            group = np.zeros(self.num_areas, dtype=np.float32)
            group[miss] = np.where(mine[miss], -GROUP_REWARD, GROUP_REWARD)
            group_rewards[name] = group
        return Outcome(rewards, miss, group_rewards)

    def observe(self) -> dict[str, list[np.ndarray]]:
        observations = {}
        for index, name in enumerate(TEAMS):
            mirror = 1.0 if index == 0 else -1.0
            obs = np.stack(
                [
                    self.paddle[:, index],
                    self.paddle[:, 1 - index],
                    mirror * self.ball[:, 0],
                    self.ball[:, 1],
                    mirror * self.velocity[:, 0],
                    self.velocity[:, 1],
                ],
                axis=1,
            ).astype(np.float32)
            observations[name] = [obs]
        return observations

    def draw(self, area: int) -> np.ndarray:
        """The court from above: team 0's paddle on the left (blue), team 1's on the right (red), the ball."""
        scale = 0.9  # keeps the baselines inside the picture
        canvas = Canvas(background=(40, 90, 50)).rectangle(-0.01, -1.0, 0.01, 1.0, (200, 200, 200))
        for side, color in ((-1.0, (70, 130, 240)), (1.0, (230, 70, 60))):
            x, y = side * scale, scale * self.paddle[area, int(side > 0)]
            canvas.rectangle(x - 0.05, y - scale * PADDLE_REACH, x + 0.05, y + scale * PADDLE_REACH, color)
        ball_x, ball_y = scale * self.ball[area]
        return canvas.disk(ball_x, ball_y, 0.06, (240, 230, 60)).pixels

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        """Follow the ball along y."""
        own_y, ball_y = obs[0][:, 0], obs[0][:, 3]
        return ActionTuple(continuous=np.clip((ball_y - own_y) / PADDLE_SPEED, -1.0, 1.0)[:, None])

    def group_ids(self, behavior: str) -> np.ndarray:
        return (1 + 2 * np.arange(self.num_areas) + TEAMS.index(behavior)).astype(np.int32)

    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        return [Stat("Tennis/Hits Per Rally", float(h)) for h in self.hits[ended]]

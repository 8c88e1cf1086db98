"""Hallway: a cue seen only at the start says which door at the end of the hallway is right.

Modelled on ML-Agents' Hallway, the scene for LSTM memory: the agent starts at cell 0 of a hallway
of ``hallway_length`` cells and sees a two-valued cue (one-hot) in its first observation only;
later observations show zeros there. At the last cell it takes the left or the right door: +1 if
the door matches the cue, -1 otherwise, and the episode ends. -0.01 per decision. A policy without
memory cannot do better than a coin toss at the door (mean door reward 0); one that remembers the
cue earns 1 - 0.01 * hallway_length. Observations: one-hot position (``hallway_length``) and the
cue (2). Actions: one branch of 4 (0 stay, 1 forward, 2 left door, 3 right door; doors only open
at the last cell).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec, DecisionSteps

from rldojo_sim.drawing import Canvas
from rldojo_sim.scenes.base import (
    Outcome,
    Scene,
    SceneOptions,
    ScriptedPolicy,
    Stat,
    check_minimum,
    vector_observation,
)

BEHAVIOR = "Hallway?team=0"
STAY, FORWARD, LEFT_DOOR, RIGHT_DOOR = range(4)
STEP_PENALTY, RIGHT_DOOR_REWARD, WRONG_DOOR_REWARD = 0.01, 1.0, -1.0


@dataclass(frozen=True)
class HallwayOptions(SceneOptions):
    num_areas: int = 4
    max_steps: int = 30
    hallway_length: int = 5
    """Cells from the start to the doors (at least 2)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_minimum("hallway_length", self.hallway_length, 2)


class Hallway(Scene):
    """Remember the cue shown at the start to take the right door at the end (memory needed)."""

    name = "Hallway"
    Options = HallwayOptions

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.options, HallwayOptions)
        self.length = self.options.hallway_length
        self.behavior_specs = {
            BEHAVIOR: BehaviorSpec(
                [vector_observation(self.length + 2, "VectorSensor")], ActionSpec.create_discrete((4,))
            )
        }
        n = self.num_areas
        self.position = np.zeros(n, dtype=np.int64)
        self.cue = np.zeros(n, dtype=np.int64)  # 0: the left door is right, 1: the right door
        self.cue_visible = np.zeros(n, dtype=bool)
        self.door = np.full(n, -1)  # door taken in the last step: -1 none, 0 left, 1 right

    def reset_areas(self, areas: np.ndarray) -> None:
        self.position[areas] = 0
        self.cue[areas] = self.rng.integers(0, 2, int(areas.sum()))
        self.cue_visible[areas] = True
        self.door[areas] = -1

    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        action = actions[BEHAVIOR].discrete[:, 0]
        at_end = self.position == self.length - 1
        self.position = np.minimum(self.position + (action == FORWARD), self.length - 1)
        self.door = np.where(at_end & (action >= LEFT_DOOR), action - LEFT_DOOR, -1)
        self.cue_visible[:] = False
        reward = np.full(self.num_areas, -STEP_PENALTY, dtype=np.float32)
        reward[self.door == self.cue] += RIGHT_DOOR_REWARD
        reward[(self.door >= 0) & (self.door != self.cue)] += WRONG_DOOR_REWARD
        return Outcome({BEHAVIOR: reward}, self.door >= 0)

    def observe(self) -> dict[str, list[np.ndarray]]:
        areas = np.arange(self.num_areas)
        obs = np.zeros((self.num_areas, self.length + 2), dtype=np.float32)
        obs[areas, self.position] = 1.0
        shown = areas[self.cue_visible]
        obs[shown, self.length + self.cue[shown]] = 1.0
        return {BEHAVIOR: [obs]}

    def draw(self, area: int) -> np.ndarray:
        """The hallway from the left: the cue (orange: left door, purple: right door) while it shows, the
        agent (blue), and the left (top) and right (bottom) doors at the far end."""
        canvas = Canvas().rectangle(-1.0, -0.3, 1.0, 0.3, (90, 90, 90))
        cell = 2.0 / (self.length + 1)
        end = -1.0 + self.length * cell
        canvas.rectangle(end, 0.3, 1.0, 0.7, (160, 110, 60)).rectangle(end, -0.7, 1.0, -0.3, (160, 110, 60))
        if self.cue_visible[area]:
            cue_color = (240, 150, 40) if self.cue[area] == 0 else (160, 60, 200)
            canvas.rectangle(-1.0, 0.3, -1.0 + cell, 0.6, cue_color)
        return canvas.disk(-1.0 + (self.position[area] + 0.5) * cell, 0.0, 0.2, (70, 130, 240)).pixels

    @staticmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        """Without memory: walk forward and take the left door (right half of the time by chance)."""
        vector = obs[0]
        at_end = vector[:, vector.shape[1] - 3] > 0
        return ActionTuple(discrete=np.where(at_end, LEFT_DOOR, FORWARD)[:, None].astype(np.int32))

    @classmethod
    def scripted_policy(cls) -> ScriptedPolicy:
        """Remember each agent's cue from its first observation and take that door at the end."""
        cues: dict[int, int] = {}

        def policy(behavior: str, decisions: DecisionSteps) -> ActionTuple:
            vector = decisions.obs[0]
            length = vector.shape[1] - 2
            actions = np.full(len(decisions), FORWARD, dtype=np.int32)
            for row, agent in enumerate(decisions.agent_id.tolist()):
                if vector[row, length:].any():
                    cues[agent] = int(vector[row, length:].argmax())
                if vector[row, length - 1] > 0:
                    actions[row] = LEFT_DOOR + cues.pop(agent, 0)
            return ActionTuple(discrete=actions[:, None])

        return policy

    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        correct = self.door[ended] == self.cue[ended]
        return [Stat("Hallway/Correct Door", float(c)) for c in correct]

"""AgentProcessor: turns the batched steps of one behavior into per-agent trajectories.

Row t of a trajectory pairs the observation an action was taken on with the reward reported at the next
step. A trajectory is emitted when the episode ends or when it reaches ``time_horizon`` steps. This is the one
place that counts each episode's length and return; trajectories carry them to the trainer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from mlagents_envs.base_env import DecisionSteps, TerminalSteps
from mlagents_envs.side_channel.stats_side_channel import EnvironmentStats

from rldojo.policy import ActionInfo
from rldojo.stats import StatsAggregationMethod, StatsReporter
from rldojo.trajectory import Trajectory

__all__ = ["AgentProcessor"]


@dataclass
class _AgentSteps:
    """Completed steps of one agent's current trajectory, and the decision it is waiting to hear back on."""

    obs: list[list[np.ndarray]] = field(default_factory=list)
    continuous: list[np.ndarray] = field(default_factory=list)
    discrete: list[np.ndarray] = field(default_factory=list)
    log_probs: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    episode_length: int = 0
    episode_return: float = 0.0
    # the last decision: its observation, then (once acted on) the action's row in ActionInfo
    pending_obs: list[np.ndarray] | None = None
    pending_action: tuple[ActionInfo, int] | None = None

    def complete_pending(self, reward: float) -> None:
        """The agent got ``reward`` for its pending decision: that decision becomes a step."""
        assert self.pending_obs is not None and self.pending_action is not None
        action, row = self.pending_action
        self.obs.append(self.pending_obs)
        self.masks.append(action.action_masks[row])
        self.continuous.append(action.continuous[row])
        self.discrete.append(action.discrete[row])
        self.log_probs.append(action.log_probs[row])
        self.rewards.append(reward)
        self.episode_length += 1
        self.episode_return += reward
        self.pending_obs = self.pending_action = None


class AgentProcessor:
    """Builds trajectories for every agent of one behavior (all env workers) and hands them on."""

    def __init__(
        self,
        behavior_id: str,
        stats_reporter: StatsReporter,
        max_trajectory_length: int,
        on_trajectory: Callable[[Trajectory], None],
    ):
        self.behavior_id = behavior_id
        self.stats_reporter = stats_reporter
        self.max_trajectory_length = max_trajectory_length
        self.on_trajectory = on_trajectory
        self._agents: dict[str, _AgentSteps] = {}

    def add_steps(self, decision_steps: DecisionSteps, terminal_steps: TerminalSteps, worker_id: int) -> None:
        """Record what the environment reported: finished episodes first, then agents awaiting a decision."""
        for row, agent_id in enumerate(terminal_steps.agent_id):
            key = f"agent_{worker_id}-{agent_id}"
            agent = self._agents.pop(key, None)
            if agent is None or agent.pending_action is None:
                continue
            agent.complete_pending(float(terminal_steps.reward[row]))
            next_obs = [obs[row : row + 1] for obs in terminal_steps.obs]
            self._emit(agent, key, next_obs, done=True, truncated=bool(terminal_steps.interrupted[row]))
            self.stats_reporter.add_stat("Environment/Episode Length", agent.episode_length)

        for row, agent_id in enumerate(decision_steps.agent_id):
            key = f"agent_{worker_id}-{agent_id}"
            agent = self._agents.setdefault(key, _AgentSteps())
            obs_row = [obs[row] for obs in decision_steps.obs]
            if agent.pending_action is not None:
                agent.complete_pending(float(decision_steps.reward[row]))
                if len(agent.rewards) >= self.max_trajectory_length:
                    self._emit(agent, key, [obs[None] for obs in obs_row], done=False, truncated=False)
            agent.pending_obs = obs_row

    def add_actions(self, action_info: ActionInfo, worker_id: int) -> None:
        """Remember which action each agent took on its pending decision."""
        for row, agent_id in enumerate(action_info.agent_ids):
            self._agents[f"agent_{worker_id}-{agent_id}"].pending_action = (action_info, row)
        if len(action_info.entropy):
            self.stats_reporter.add_stat("Policy/Entropy", float(np.mean(action_info.entropy)))

    def record_environment_stats(self, env_stats: EnvironmentStats) -> None:
        """Forward values the environment sent through the StatsSideChannel."""
        for key, values in env_stats.items():
            for value, aggregation in values:
                if aggregation == StatsAggregationMethod.MOST_RECENT:
                    self.stats_reporter.set_stat(key, value)
                else:
                    self.stats_reporter.add_stat(key, value, aggregation)

    def _emit(
        self, agent: _AgentSteps, key: str, next_obs: list[np.ndarray], done: bool, truncated: bool
    ) -> None:
        trajectory = Trajectory(
            obs=[np.stack(column) for column in zip(*agent.obs, strict=True)],
            next_obs=next_obs,
            continuous_actions=np.stack(agent.continuous),
            discrete_actions=np.stack(agent.discrete),
            log_probs=np.stack(agent.log_probs),
            action_masks=np.stack(agent.masks),
            rewards=np.asarray(agent.rewards, dtype=np.float32),
            done_reached=done,
            truncated=truncated,
            episode_return=agent.episode_return,
            episode_length=agent.episode_length,
            agent_id=key,
            behavior_id=self.behavior_id,
        )
        agent.obs, agent.continuous, agent.discrete, agent.log_probs, agent.masks, agent.rewards = (
            [],
            [],
            [],
            [],
            [],
            [],
        )
        self.on_trajectory(trajectory)

    def end_episodes(self, worker_id: int) -> None:
        """Forget the partial trajectories of worker ``worker_id``'s agents (its env was restarted)."""
        prefix = f"agent_{worker_id}-"
        for key in [key for key in self._agents if key.startswith(prefix)]:
            del self._agents[key]

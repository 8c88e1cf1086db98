"""AgentProcessor: turns the batched steps of one behavior into per-agent trajectories.

Row t of a trajectory pairs the observation an action was taken on with the reward reported at the next
step. A trajectory is emitted when the episode ends or when it reaches ``time_horizon`` steps. This is the one
place that counts each episode's length and return; trajectories carry them to the trainer.

Agents with a group id (ML-Agents' ``SimpleMultiAgentGroup``) also record, per step, their group reward and
the groupmates that acted on the same step (their observations and actions), for centralized critics
(POCA); a trajectory that ends says whether the rest of the group is still playing.

For a policy with memory it also keeps each agent's memory from decision to decision: zeros when the agent
starts (or restarts) an episode, carried across trajectories of the same episode. An agent that joins or
leaves a group mid-episode ends its trajectory there (not its episode) and starts with zero memory; its
next trajectory says so (``memory_reset``), so that trainers restart their critics' memories too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from mlagents_envs.base_env import DecisionSteps, TerminalSteps
from mlagents_envs.side_channel.stats_side_channel import EnvironmentStats

from rldojo.policy import ActionInfo
from rldojo.stats import StatsAggregationMethod, StatsReporter
from rldojo.trajectory import GroupSteps, Trajectory

__all__ = ["AgentProcessor", "TrajectoryProcessor"]


def _numbers(column: np.ndarray | Sequence[Any]) -> list[Any]:
    """A per-agent column as Python numbers: one conversion per step, not one numpy scalar per agent."""
    return list(np.asarray(column).tolist())


@dataclass(eq=False)
class TrajectoryProcessor:
    """What every processor of one behavior's steps has: where its trajectories go, where they are cut and
    where stats are reported (:class:`AgentProcessor`, and the lean
    :class:`~rldojo.vector_agent_processor.VectorAgentProcessor`)."""

    behavior_id: str
    stats_reporter: StatsReporter
    max_trajectory_length: int
    """Trajectories are cut at this many steps (``time_horizon``)."""
    on_trajectory: Callable[[Trajectory], None]
    rollout_length: int | None = None
    """When set, every ``rollout_length`` steps of a worker all its agents' trajectories are cut
        together (SB3's rollouts; see the ``rollout_cuts`` hyperparameter)."""

    def record_environment_stats(self, env_stats: EnvironmentStats) -> None:
        """Report the values the environment sent through the StatsSideChannel, each as it asks."""
        for key, values in env_stats.items():
            for value, aggregation in values:
                if aggregation == StatsAggregationMethod.MOST_RECENT:
                    self.stats_reporter.set_stat(key, value)
                else:
                    self.stats_reporter.add_stat(key, value, aggregation)


@dataclass
class _Mate:
    """A groupmate's decision on one step: its observation and the action it took."""

    obs: list[np.ndarray]
    continuous: np.ndarray
    discrete: np.ndarray


@dataclass
class _AgentSteps:
    """Completed steps of one agent's current trajectory, and the decision it is waiting to hear back on."""

    obs: list[list[np.ndarray]] = field(default_factory=list)
    continuous: list[np.ndarray] = field(default_factory=list)
    discrete: list[np.ndarray] = field(default_factory=list)
    log_probs: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    group_rewards: list[float] = field(default_factory=list)
    mates: list[list[_Mate]] = field(default_factory=list)
    memories: list[np.ndarray] = field(default_factory=list)
    memory: np.ndarray | None = None  # the memory for the next decision; None: the episode's start
    changed_group: bool = False  # the current trajectory starts after a group change (memories from zeros)
    episode_length: int = 0
    episode_return: float = 0.0
    episode_group_return: float = 0.0
    group_id: int = 0  # the group of the pending decision (0: none)
    # the last decision: its observation, then (once acted on) the action's row in ActionInfo
    pending_obs: list[np.ndarray] | None = None
    pending_action: tuple[ActionInfo, int] | None = None

    def pending_mate(self) -> _Mate:
        """The pending decision as a groupmate sees it."""
        assert self.pending_obs is not None and self.pending_action is not None
        action, row = self.pending_action
        return _Mate(self.pending_obs, action.continuous[row], action.discrete[row])

    def complete_pending(
        self, reward: float, group_reward: float = 0.0, mates: list[_Mate] | None = None
    ) -> None:
        """The agent got ``reward`` (and ``group_reward``) for its pending decision, taken alongside
        ``mates``: that decision becomes a step."""
        assert self.pending_obs is not None and self.pending_action is not None
        action, row = self.pending_action
        self.obs.append(self.pending_obs)
        self.masks.append(action.action_masks[row])
        self.continuous.append(action.continuous[row])
        self.discrete.append(action.discrete[row])
        self.log_probs.append(action.log_probs[row])
        if action.memories is not None:
            self.memories.append(action.memories[row])
        self.rewards.append(reward)
        self.episode_length += 1
        self.episode_return += reward
        if self.group_id:
            self.group_rewards.append(group_reward)
            self.mates.append(mates or [])
            self.episode_group_return += group_reward
        self.pending_obs = self.pending_action = None

    def group_steps(self, next_mate_obs: list[np.ndarray], all_done: bool) -> GroupSteps:
        """The recorded group columns, groupmates padded to the most of any step."""
        width = max(len(mates) for mates in self.mates)
        steps = len(self.mates)
        # groupmates share the agent's behavior: its own first step gives their shapes
        mate_obs = [np.zeros((steps, width, *obs.shape), dtype=obs.dtype) for obs in self.obs[0]]
        continuous = np.zeros((steps, width, *self.continuous[0].shape), dtype=self.continuous[0].dtype)
        discrete = np.zeros((steps, width, *self.discrete[0].shape), dtype=self.discrete[0].dtype)
        present = np.zeros((steps, width), dtype=np.float32)
        for t, mates in enumerate(self.mates):
            for slot, mate in enumerate(mates):
                for column, obs in zip(mate_obs, mate.obs, strict=True):
                    column[t, slot] = obs
                continuous[t, slot], discrete[t, slot], present[t, slot] = mate.continuous, mate.discrete, 1.0
        return GroupSteps(
            rewards=np.asarray(self.group_rewards, dtype=np.float32),
            mate_obs=mate_obs,
            mate_continuous_actions=continuous,
            mate_discrete_actions=discrete,
            mates_present=present,
            next_mate_obs=next_mate_obs,
            all_done=all_done,
            episode_group_return=self.episode_group_return,
        )


@dataclass
class _GroupStep:
    """One group on the step now reported: the members that acted on it and what became of them."""

    decision_steps: DecisionSteps
    decision_rows: dict[str, int]  # agent key -> row in decision_steps
    ending: set[str]  # agent keys whose episode ended on this step
    members: dict[str, _Mate] = field(default_factory=dict)

    def mates_of(self, key: str) -> list[_Mate]:
        return [mate for member, mate in self.members.items() if member != key]

    def _playing_on(self, key: str) -> list[str]:
        """The other members whose episode goes on after this step."""
        return [member for member in self.members if member != key and member not in self.ending]

    def all_done(self, key: str) -> bool:
        """Every other member's episode ended on this step too."""
        return not self._playing_on(key)

    def next_mate_obs(self, key: str, template: list[np.ndarray]) -> list[np.ndarray]:
        """Per observation [M', *shape]: the members playing on that asked for their next decision."""
        rows = [self.decision_rows[m] for m in self._playing_on(key) if m in self.decision_rows]
        if not rows:
            return [np.zeros((0, *obs.shape), dtype=obs.dtype) for obs in template]
        return [obs[rows] for obs in self.decision_steps.obs]


@dataclass(eq=False)
class AgentProcessor(TrajectoryProcessor):
    """Builds trajectories for every agent of one behavior (all env workers) and hands them on."""

    reports_policy: Callable[[], bool] = lambda: True
    """Whether the agents now act with the trainer's policy: when not (a self-play ghost acts), their actions
    and episodes feed no ``Policy/Entropy`` or episode-length stats."""

    def __post_init__(self) -> None:
        self._agents: dict[str, _AgentSteps] = {}
        self._worker_steps: dict[int, int] = {}  # steps reported per worker since its (re)start

    def add_steps(self, decision_steps: DecisionSteps, terminal_steps: TerminalSteps, worker_id: int) -> None:
        """Record what the environment reported: finished episodes first, then agents awaiting a decision."""
        groups = self._groups(decision_steps, terminal_steps, worker_id)
        rollout_ends = self._count_step(worker_id)
        reports_policy = self.reports_policy()
        rewards, group_rewards = _numbers(terminal_steps.reward), _numbers(terminal_steps.group_reward)
        for row, agent_id in enumerate(_numbers(terminal_steps.agent_id)):
            key = f"agent_{worker_id}-{agent_id}"
            agent = self._agents.pop(key, None)
            if agent is None or agent.pending_action is None:
                continue
            group = self._complete(agent, key, groups, rewards[row], group_rewards[row])
            next_obs = [obs[row : row + 1] for obs in terminal_steps.obs]
            self._emit(
                agent, key, next_obs, done=True, truncated=bool(terminal_steps.interrupted[row]), group=group
            )
            if reports_policy:
                self.stats_reporter.add_stat("Environment/Episode Length", agent.episode_length)

        rewards, group_rewards = _numbers(decision_steps.reward), _numbers(decision_steps.group_reward)
        group_ids = _numbers(decision_steps.group_id)
        for row, agent_id in enumerate(_numbers(decision_steps.agent_id)):
            key = f"agent_{worker_id}-{agent_id}"
            agent = self._agents.get(key)
            if agent is None:
                agent = self._agents[key] = _AgentSteps()
            obs_row = [obs[row] for obs in decision_steps.obs]
            group_id = group_ids[row]
            if agent.pending_action is not None:
                group = self._complete(agent, key, groups, rewards[row], group_rewards[row])
                changes_group = group_id != agent.group_id
                if rollout_ends or changes_group or len(agent.rewards) >= self.max_trajectory_length:
                    next_obs = [obs[None] for obs in obs_row]
                    self._emit(agent, key, next_obs, done=False, truncated=False, group=group)
                if changes_group:
                    agent.memory, agent.changed_group = None, True
            agent.pending_obs = obs_row
            agent.group_id = group_id

    @staticmethod
    def _complete(
        agent: _AgentSteps, key: str, groups: dict[int, _GroupStep], reward: float, group_reward: float
    ) -> _GroupStep | None:
        """Complete the pending decision of ``agent`` (``key``); returns its group on this step, if any."""
        group = groups.get(agent.group_id) if agent.group_id else None
        agent.complete_pending(reward, group_reward, group.mates_of(key) if group else None)
        return group

    def _count_step(self, worker_id: int) -> bool:
        """Count a step of worker ``worker_id`` (its first report, the reset, is step 0); whether it ends a
        rollout."""
        step = self._worker_steps.get(worker_id, -1) + 1
        self._worker_steps[worker_id] = step
        return self.rollout_length is not None and step > 0 and step % self.rollout_length == 0

    def _groups(
        self, decision_steps: DecisionSteps, terminal_steps: TerminalSteps, worker_id: int
    ) -> dict[int, _GroupStep]:
        """Group id -> the members that acted on the step now reported, before any of them is completed
        (nothing when the behavior has no groups)."""
        if not (any(decision_steps.group_id) or any(terminal_steps.group_id)):  # lists (or arrays)
            return {}
        prefix = f"agent_{worker_id}-"
        decision_rows = {f"{prefix}{agent_id}": row for row, agent_id in enumerate(decision_steps.agent_id)}
        ending = {f"{prefix}{agent_id}" for agent_id in terminal_steps.agent_id}
        groups: dict[int, _GroupStep] = {}
        for key, agent in self._agents.items():
            if agent.group_id and agent.pending_action is not None and key.startswith(prefix):
                group = groups.setdefault(agent.group_id, _GroupStep(decision_steps, decision_rows, ending))
                group.members[key] = agent.pending_mate()
        return groups

    def memories(self, decision_steps: DecisionSteps, worker_id: int, memory_size: int) -> np.ndarray:
        """[n, memory_size]: the memory of each agent of ``decision_steps`` (zeros at an episode's start)."""
        memories = np.zeros((len(decision_steps), memory_size), dtype=np.float32)
        for row, agent_id in enumerate(decision_steps.agent_id):
            agent = self._agents.get(f"agent_{worker_id}-{agent_id}")
            if agent is not None and agent.memory is not None:
                memories[row] = agent.memory
        return memories

    def add_actions(self, action_info: ActionInfo, worker_id: int) -> None:
        """Remember which action each agent took on its pending decision (and its next memory)."""
        for row, agent_id in enumerate(_numbers(action_info.agent_ids)):
            agent = self._agents[f"agent_{worker_id}-{agent_id}"]
            agent.pending_action = (action_info, row)
            if action_info.next_memories is not None:
                agent.memory = action_info.next_memories[row]
        if len(action_info.entropy) and self.reports_policy():
            self.stats_reporter.add_stat("Policy/Entropy", float(action_info.entropy.mean()))

    def _emit(
        self,
        agent: _AgentSteps,
        key: str,
        next_obs: list[np.ndarray],
        done: bool,
        truncated: bool,
        group: _GroupStep | None,
    ) -> None:
        group_steps = None
        if agent.mates:
            next_mate_obs = group.next_mate_obs(key, agent.obs[0]) if group else [obs[:0] for obs in next_obs]
            group_steps = agent.group_steps(next_mate_obs, all_done=group is None or group.all_done(key))
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
            group=group_steps,
            memories=np.stack(agent.memories) if agent.memories else None,
            memory_reset=agent.changed_group,
        )
        agent.changed_group = False
        agent.obs, agent.continuous, agent.discrete, agent.log_probs, agent.masks = [], [], [], [], []
        agent.rewards, agent.memories, agent.group_rewards, agent.mates = [], [], [], []
        self.on_trajectory(trajectory)

    def cut_trajectories(self) -> list[str]:
        """Emit the completed steps of every agent that awaits a decision as a trajectory that goes on (its
        pending observation is the next one), as ``time_horizon`` does; returns the agents whose completed
        steps stay (their next decision is not asked for yet)."""
        uncut = []
        for key, agent in self._agents.items():
            if not agent.rewards:
                continue
            if agent.pending_obs is None or agent.pending_action is not None:
                uncut.append(key)
                continue
            next_obs = [obs[None] for obs in agent.pending_obs]
            self._emit(agent, key, next_obs, done=False, truncated=False, group=None)
        return uncut

    def end_episodes(self, worker_id: int) -> None:
        """Forget the partial trajectories of worker ``worker_id``'s agents (its env was restarted)."""
        prefix = f"agent_{worker_id}-"
        for key in [key for key in self._agents if key.startswith(prefix)]:
            del self._agents[key]
        self._worker_steps.pop(worker_id, None)

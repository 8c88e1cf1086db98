"""``ActingEnvRunner``: an env runner that acts itself (``ray.acting: runner``).

It holds a CPU copy of each behavior's policy, brought up to the version the learner published last, acts
with its own random generators (seeded with the runner's seed, the run seed + its worker id), builds
trajectories with rldojo's agent processing, and after ``time_horizon`` env steps sends every trajectory
piece with the policy version that acted it, and the stats of those steps.

A runner fetches a behavior's whole policy (:class:`PublishedPolicy`'s ``policy``) once, when it has none;
after that, each new version's weights only (``weights``, a :class:`PolicyWeights`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import ray
import torch
from mlagents_envs.base_env import DecisionSteps

from rldojo.acting import choose_actions
from rldojo.agent_processor import AgentProcessor
from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.runner_acting import ActedPiece, ActingPolicy, RunnerReport
from rldojo.envs.worker import WorkerReport, report_steps
from rldojo.policy import Policy
from rldojo.settings.run import behavior_name_of
from rldojo.stats import StatsReporter
from rldojo.trajectory import Trajectory
from rldojo_ray.runner import EnvRunner

__all__ = ["ActingEnvRunner", "PolicyWeights", "PublishedPolicy"]


@dataclass
class PolicyWeights:
    """One version of a policy without its network's structure: the network's state dict (CPU tensors) and
    what else the policy keeps (a DQN's epsilon)."""

    state: dict[str, torch.Tensor]
    attributes: dict[str, Any]

    @classmethod
    def of(cls, policy: Policy[Any]) -> PolicyWeights:
        state = {name: tensor.detach().cpu() for name, tensor in policy.actor.state_dict().items()}
        attributes = {name: value for name, value in vars(policy).items() if name not in ("actor", "device")}
        return cls(state, attributes)

    def load_into(self, policy: Policy[Any]) -> None:
        policy.actor.load_state_dict(self.state)
        vars(policy).update(self.attributes)


@dataclass
class PublishedPolicy:
    """A version of a behavior's policy as runners fetch it: object references to the whole CPU policy
    (put once per behavior) and to this version's :class:`PolicyWeights` (put once per version)."""

    version: int
    time_horizon: int
    policy: ray.ObjectRef
    weights: ray.ObjectRef


class ActingEnvRunner(EnvRunner):
    """Env ``worker_id`` of ``launcher``, acting with the policies :meth:`collect` brings."""

    def __init__(self, launcher: EnvLauncher, worker_id: int):
        super().__init__(launcher, worker_id)
        self.worker_id = worker_id  # also names its agents in trajectories, apart from other runners' agents
        seed = launcher.seed + worker_id
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        torch.set_num_threads(1)
        self.policies: dict[str, ActingPolicy] = {}
        self.stats = StatsReporter()
        self.processors: dict[str, AgentProcessor] = {}
        self.awaiting: dict[str, DecisionSteps] = {}
        self.unrecorded: WorkerReport | None = None
        self.pieces: list[ActedPiece] = []
        self.first_versions: dict[str, int] = {}
        """Per agent with steps left uncut by an earlier piece: the policy version that acted the first."""

    def reset(self) -> WorkerReport:
        """Reset the env; unfinished trajectories are dropped. Its steps are recorded by the next
        :meth:`collect`, which brings the policies."""
        report = super().reset()
        self.processors.clear()
        self.awaiting.clear()
        self.first_versions.clear()
        self.unrecorded = report
        return report

    def collect(self, policies: Mapping[str, ActingPolicy | PublishedPolicy]) -> RunnerReport:
        """Act ``time_horizon`` env steps with ``policies`` (by behavior id); every piece acted so far."""
        for behavior_id, published in policies.items():
            self.policies[behavior_id] = self._adopt(behavior_id, published)
        if self.unrecorded is not None:
            self._record(self.unrecorded)
            self.unrecorded = None
        for _ in range(max(policy.time_horizon for policy in self.policies.values())):
            for behavior_id, decision_steps in self.awaiting.items():
                acting = self.policies[behavior_id]
                processor = self._processor(behavior_id)
                actions = choose_actions(acting.policy, processor, [(self.worker_id, decision_steps)])
                self.env.set_actions(behavior_id, actions[self.worker_id])
            self.env.step()
            self._record(report_steps(self.env, self.stats_channel))
        for behavior_id, processor in self.processors.items():
            for agent in processor.cut_trajectories():
                self.first_versions.setdefault(agent, self.policies[behavior_id].version)
        pieces, self.pieces = self.pieces, []
        stats = {name: self.stats.for_category(name).take_pending() for name in self._categories()}
        return RunnerReport(self.worker_id, pieces, stats)

    def _adopt(self, behavior_id: str, published: ActingPolicy | PublishedPolicy) -> ActingPolicy:
        """The policy to act with: ``published`` itself, or this runner's copy at ``published``'s version
        (fetching the whole policy only when it has none, else only the new weights)."""
        if isinstance(published, ActingPolicy):
            return published
        held = self.policies.get(behavior_id)
        if held is not None and held.version == published.version:
            return held
        policy = held.policy if held is not None else ray.get(published.policy)
        ray.get(published.weights).load_into(policy)
        return ActingPolicy(published.version, policy, published.time_horizon)

    def _categories(self) -> set[str]:
        return {behavior_name_of(behavior_id) for behavior_id in self.processors}

    def _processor(self, behavior_id: str) -> AgentProcessor:
        if behavior_id not in self.processors:

            def add_piece(trajectory: Trajectory) -> None:
                version = self.first_versions.pop(trajectory.agent_id, self.policies[behavior_id].version)
                self.pieces.append(ActedPiece(behavior_id, version, trajectory))

            self.processors[behavior_id] = AgentProcessor(
                behavior_id,
                self.stats.for_category(behavior_name_of(behavior_id)),
                self.policies[behavior_id].time_horizon,
                add_piece,
            )
        return self.processors[behavior_id]

    def _record(self, report: WorkerReport) -> None:
        """Hand the env's steps to the agent processors; keep who awaits a decision."""
        self.awaiting.clear()
        for behavior_id, (decision_steps, terminal_steps) in report.steps.items():
            processor = self._processor(behavior_id)
            processor.add_steps(decision_steps, terminal_steps, self.worker_id)
            if len(decision_steps) > 0:
                self.awaiting[behavior_id] = decision_steps
        recorded = set()
        for behavior_id, processor in self.processors.items():  # once per trainer, as on the learner
            if behavior_name_of(behavior_id) not in recorded:
                processor.record_environment_stats(report.env_stats)
                recorded.add(behavior_name_of(behavior_id))

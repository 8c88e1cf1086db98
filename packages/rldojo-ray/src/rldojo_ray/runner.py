"""``EnvRunner``: the Ray actor that owns one env on its node (a launched Unity build, ``sim:``, ``gym:``)."""

from __future__ import annotations

from collections.abc import Mapping

import ray
from mlagents_envs.base_env import ActionTuple
from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.side_channels import environment_parameters_channel, queue_environment_parameters
from rldojo.envs.worker import WorkerReport, report_steps
from rldojo.settings.environment_parameters import SamplerSettings

__all__ = ["EnvRunner"]


class EnvRunner:
    """Env ``worker_id`` of ``launcher`` (seed: run seed + worker id), reset and stepped on request."""

    def __init__(self, launcher: EnvLauncher, worker_id: int):
        launcher.log_folder.mkdir(parents=True, exist_ok=True)  # player logs stay on this runner's node
        self.stats_channel = StatsSideChannel()
        self.parameters_channel = environment_parameters_channel(launcher.environment_parameters)
        self.env = launcher(worker_id, [self.parameters_channel, self.stats_channel])

    def node_id(self) -> str:
        return str(ray.get_runtime_context().get_node_id())

    def reset(self) -> WorkerReport:
        self.env.reset()
        return report_steps(self.env, self.stats_channel)

    def step(self, actions: Mapping[str, ActionTuple]) -> WorkerReport:
        for behavior_id, action in actions.items():
            self.env.set_actions(behavior_id, action)
        self.env.step()
        return report_steps(self.env, self.stats_channel)

    def set_environment_parameters(self, values: Mapping[str, SamplerSettings]) -> None:
        queue_environment_parameters(self.parameters_channel, values)

    def close(self) -> None:
        self.env.close()

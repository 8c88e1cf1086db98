"""SACTrainer."""

from __future__ import annotations

from mlagents_envs.base_env import BehaviorSpec

from rldojo.networks import default_device
from rldojo.policy import Policy
from rldojo.trainers.off_policy import OffPolicyTrainer
from rldojo.trainers.sac.networks import SACActor
from rldojo.trainers.sac.optimizer import SACOptimizer
from rldojo.trainers.sac.settings import TRAINER_NAME, SACSettings
from rldojo.trajectory import Trajectory

__all__ = ["SACTrainer"]


class SACTrainer(OffPolicyTrainer):
    """Soft actor-critic for continuous, discrete (masked, multi-branch) and hybrid actions."""

    optimizer: SACOptimizer
    hyperparameters: SACSettings

    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> Policy:
        network = self.trainer_settings.network_settings
        actor = SACActor(behavior_spec.observation_specs, network, behavior_spec.action_spec)
        return Policy(behavior_spec, actor, default_device(), deterministic=network.deterministic)  # type: ignore[arg-type]

    def create_optimizer(self) -> SACOptimizer:
        assert self.policy is not None
        return SACOptimizer(self.policy, self.trainer_settings)

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        super()._process_trajectory(trajectory)
        assert self.policy is not None
        if self.is_training:
            self.optimizer.update_normalization(self.policy.to_tensors(trajectory.obs))
        signal = self.trainer_settings.reward_signals["extrinsic"]
        self._add_episode_reward("extrinsic", trajectory, trajectory.rewards.sum() * signal.strength)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME

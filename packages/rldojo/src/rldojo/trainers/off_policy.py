"""OffPolicyTrainer: a replay buffer of transitions and ``steps_per_update`` environment steps per update."""

from __future__ import annotations

from typing import Any

from rldojo.buffer import ReplayBuffer, as_tensors, next_obs_key, obs_key
from rldojo.trainers.rl_trainer import RLTrainer
from rldojo.trajectory import Trajectory

__all__ = ["OffPolicyTrainer"]


class OffPolicyTrainer(RLTrainer):
    """Base of off-policy trainers (SAC, DQN). Transitions go to a preallocated :class:`ReplayBuffer`
    (saved in checkpoints when ``save_replay_buffer``); once ``buffer_init_steps`` are collected, the
    optimizer gets one sampled minibatch per ``steps_per_update`` steps."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.replay_buffer = ReplayBuffer(self.hyperparameters.buffer_size)
        self.update_steps = 1

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        super()._process_trajectory(trajectory)
        assert self.policy is not None
        if self.is_training:
            self.policy.update_normalization(trajectory.obs)
            self.replay_buffer.add(self.transitions(trajectory))

    @staticmethod
    def transitions(trajectory: Trajectory) -> dict[str, Any]:
        """Replay-buffer columns of one trajectory: obs, next obs, actions, masks, rewards and dones."""
        columns = {obs_key(i): obs for i, obs in enumerate(trajectory.obs)}
        columns |= {next_obs_key(i): obs for i, obs in enumerate(trajectory.next_observations())}
        return columns | {
            "continuous_actions": trajectory.continuous_actions,
            "discrete_actions": trajectory.discrete_actions,
            "action_masks": trajectory.action_masks,
            "rewards": trajectory.rewards,
            "dones": trajectory.dones(),
        }

    def _is_ready_update(self) -> bool:
        return (
            self.replay_buffer.num_experiences >= self.hyperparameters.batch_size
            and self._step >= self.hyperparameters.buffer_init_steps
        )

    def _update_policy(self) -> bool:
        assert self.policy is not None and self.optimizer is not None
        hp = self.hyperparameters
        stats = []
        while (self._step - hp.buffer_init_steps) / self.update_steps > hp.steps_per_update:
            batch = as_tensors(self.replay_buffer.sample(hp.batch_size), self.policy.device)
            stats.append(self.optimizer.update(batch, self._step))
            self.update_steps += 1
        self._report_update_stats(stats)
        return bool(stats)

    def _trainer_state(self) -> dict[str, Any]:
        buffer = self.replay_buffer.state_dict() if self.hyperparameters.save_replay_buffer else None
        return {"update_steps": self.update_steps, "replay_buffer": buffer}

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        self.update_steps = int(state["update_steps"])
        if state.get("replay_buffer") is not None:
            self.replay_buffer.load_state_dict(state["replay_buffer"])

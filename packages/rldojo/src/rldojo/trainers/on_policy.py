"""OnPolicyTrainer: gathers ``buffer_size`` steps, then trains ``num_epoch`` epochs of minibatches on them."""

from __future__ import annotations

from typing import Any

import torch

from rldojo.buffer import AgentBuffer, as_tensors
from rldojo.trainers.rl_trainer import RLTrainer

__all__ = ["OnPolicyTrainer"]


class OnPolicyTrainer(RLTrainer):
    """Base of on-policy trainers (PPO, A2C). ``_process_trajectory`` fills :attr:`update_buffer` with
    columns including ``advantages``; this class does the minibatch loop and calls ``optimizer.update``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.update_buffer = AgentBuffer()

    def _is_ready_update(self) -> bool:
        return self.update_buffer.num_experiences > self.hyperparameters.buffer_size

    def _update_policy(self) -> bool:
        assert self.policy is not None and self.optimizer is not None
        batch = as_tensors(self.update_buffer.arrays(), self.policy.device)
        advantages = batch["advantages"]
        batch["advantages"] = (advantages - advantages.mean()) / (advantages.std() + 1e-10)
        size = self.update_buffer.num_experiences
        batch_size = min(self.hyperparameters.batch_size, size)
        stats = []
        for _ in range(self.hyperparameters.num_epoch):
            order = torch.randperm(size, device=self.policy.device)
            for start in range(0, size - batch_size + 1, batch_size):
                indices = order[start : start + batch_size]
                minibatch = {key: column[indices] for key, column in batch.items()}
                stats.append(self.optimizer.update(minibatch, self._step))
        self._report_update_stats(stats)
        self.update_buffer.clear()
        return True

"""The ``extrinsic`` reward signal: the environment's own reward (the agent's plus its group's)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from rldojo.reward_signals.base import RewardSignal
from rldojo.settings import RewardSignalSettings

__all__ = ["ExtrinsicRewardSignal"]


class ExtrinsicRewardSignal(RewardSignal[RewardSignalSettings]):
    """The rewards the environment gave, each agent's own plus its group's (as ML-Agents' extrinsic signal
    adds them, for every trainer type); learns nothing."""

    def rewards(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        group_rewards = batch.get("group_rewards")  # batches built by hand may leave it out
        return batch["rewards"] if group_rewards is None else batch["rewards"] + group_rewards

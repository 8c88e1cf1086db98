"""The ``extrinsic`` reward signal: the environment's own reward."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from rldojo.reward_signals.base import RewardSignal
from rldojo.settings import RewardSignalSettings

__all__ = ["ExtrinsicRewardSignal"]


class ExtrinsicRewardSignal(RewardSignal[RewardSignalSettings]):
    """The rewards the environment gave; learns nothing."""

    def rewards(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return batch["rewards"]

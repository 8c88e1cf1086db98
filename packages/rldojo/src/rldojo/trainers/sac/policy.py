"""SAC's policy: a :class:`~rldojo.policy.Policy` that acts through :meth:`SACActor.act`."""

from __future__ import annotations

import torch

from rldojo.networks import ActionSample
from rldojo.policy import Policy
from rldojo.trainers.sac.networks import SACActor

__all__ = ["SACPolicy"]


class SACPolicy(Policy[SACActor]):
    """Acts through :meth:`SACActor.act <rldojo.trainers.sac.networks.SACActor.act>`: the sample calling the
    actor gives, without a module call per layer where the actor is a plain MLP."""

    def sample_actions(
        self, observations: list[torch.Tensor], masks: torch.Tensor | None, deterministic: bool
    ) -> ActionSample:
        return self.actor.act(observations, masks, deterministic)

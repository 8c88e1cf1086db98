"""Expert demonstrations on the policy's device, for behavioral cloning and GAIL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from rldojo.policy import Policy
from rldojo_unity.demonstrations import check_demonstration_spec, read_demonstrations

__all__ = ["ExpertDemonstration", "load_expert_demonstration"]


@dataclass
class ExpertDemonstration:
    """The decisions of a demonstration as tensors, row ``i`` of each field belonging to decision ``i``."""

    observations: list[torch.Tensor]
    """One [n, *shape] tensor per observation spec."""
    continuous_actions: torch.Tensor
    """[n, continuous_size], as the environment received them (in [-1, 1])."""
    discrete_actions: torch.Tensor
    """[n, num_branches] int64."""
    dones: torch.Tensor
    """[n] 1.0 where the decision ended the episode."""

    def __len__(self) -> int:
        return len(self.dones)

    def rows(self, indices: torch.Tensor) -> ExpertDemonstration:
        """The decisions at ``indices``."""
        return ExpertDemonstration(
            [obs[indices] for obs in self.observations],
            self.continuous_actions[indices],
            self.discrete_actions[indices],
            self.dones[indices],
        )


def load_expert_demonstration(
    demo_path: str | Path, policy: Policy[torch.nn.Module], behavior_name: str
) -> ExpertDemonstration:
    """Read ``demo_path`` (a ``.demo`` file or a folder of them) for ``policy``'s behavior; a
    DemonstrationError (exit 2) names the files when their observations or actions do not match it."""
    demo = read_demonstrations(demo_path)
    check_demonstration_spec(demo, policy.behavior_spec, behavior_name)
    device = policy.device
    return ExpertDemonstration(
        observations=policy.to_tensors(demo.observations),
        continuous_actions=torch.as_tensor(demo.actions.continuous, dtype=torch.float32, device=device),
        discrete_actions=torch.as_tensor(demo.actions.discrete, dtype=torch.int64, device=device),
        dones=torch.as_tensor(demo.dones, dtype=torch.float32, device=device),
    )

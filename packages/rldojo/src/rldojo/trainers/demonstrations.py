"""Expert demonstrations on a device, for behavioral cloning and GAIL; checked against the behavior first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from mlagents_envs.base_env import BehaviorSpec

from rldojo_unity.demonstrations import check_demonstration_spec, read_demonstrations

__all__ = ["ExpertDemonstration", "check_demonstrations", "load_expert_demonstration"]


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
    """[n] 1.0 where the decision ended the episode (not where the episode was cut at its step limit)."""

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


def check_demonstrations(demo_paths: list[str], behavior_spec: BehaviorSpec, behavior_name: str) -> None:
    """DemonstrationError (exit 2) naming the files and ``behavior_name`` when the observations or actions
    of a demonstration differ from the behavior's."""
    for demo_path in demo_paths:
        check_demonstration_spec(read_demonstrations(demo_path), behavior_spec, behavior_name)


def load_expert_demonstration(demo_path: str | Path, device: torch.device) -> ExpertDemonstration:
    """The decisions of ``demo_path`` (a ``.demo`` file or a folder of them); episodes that were cut at
    their step limit do not count as done."""
    demo = read_demonstrations(demo_path)
    return ExpertDemonstration(
        observations=[torch.as_tensor(obs, dtype=torch.float32, device=device) for obs in demo.observations],
        continuous_actions=torch.as_tensor(demo.actions.continuous, dtype=torch.float32, device=device),
        discrete_actions=torch.as_tensor(demo.actions.discrete, dtype=torch.int64, device=device),
        dones=torch.as_tensor(demo.dones & ~demo.interrupted, dtype=torch.float32, device=device),
    )

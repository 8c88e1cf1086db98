"""The Q-network: observations -> one Q-value per action of every discrete branch."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec
from torch import nn

from rldojo.networks import ObservationEncoder
from rldojo.settings import NetworkSettings

__all__ = ["QNetwork"]

_FUNCTIONS: dict[type[nn.Module], Callable[[torch.Tensor], torch.Tensor]] = {
    nn.ReLU: torch.relu,
    nn.Tanh: torch.tanh,
    nn.SiLU: nn.functional.silu,
}
"""What an activation module computes, as a plain function."""


def _plain(layer: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """``layer`` as a function of its input: Linear and activations as plain tensor operations (on the
    layer's parameters themselves, which updates and checkpoint loads change in place), others as called."""
    if type(layer) is nn.Linear:
        return functools.partial(nn.functional.linear, weight=layer.weight, bias=layer.bias)
    return _FUNCTIONS.get(type(layer), layer)


class QNetwork(nn.Module):
    """Observations -> Q-values [batch, sum(branch sizes)]; each branch is its own action dimension.
    A :class:`~rldojo.value_based_policy.ValueBasedPolicy` acts with it."""

    def __init__(
        self, observation_specs: Sequence[ObservationSpec], settings: NetworkSettings, action_spec: ActionSpec
    ):
        super().__init__()
        self.branch_sizes = tuple(int(size) for size in action_spec.discrete_branches)
        self.encoder = ObservationEncoder(observation_specs, settings)
        self.q_head = nn.Linear(self.encoder.output_size, sum(self.branch_sizes))

    def forward(self, observations: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.q_head(self.encoder(observations))

    def acting_forward(self) -> Callable[[Sequence[torch.Tensor]], torch.Tensor]:
        """:meth:`forward` as plain tensor operations, for acting: the same values, without the module call
        per layer that costs more than a small layer does on a batch of one."""
        processors = [processor.forward for processor in self.encoder.processors]
        layers = [_plain(layer) for layer in [*self.encoder.body, self.q_head]]

        def q_values(observations: Sequence[torch.Tensor]) -> torch.Tensor:
            encoded = [process(obs) for process, obs in zip(processors, observations, strict=True)]
            values = encoded[0] if len(encoded) == 1 else torch.cat(encoded, dim=1)
            for layer in layers:
                values = layer(values)
            return values

        return q_values

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)

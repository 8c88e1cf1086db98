"""The network body: one processor per observation, concatenated, then ``num_layers`` dense layers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import torch
from mlagents_envs.base_env import ObservationSpec
from torch import nn

from rldojo.errors import ConfigError
from rldojo.networks.normalizer import RunningNormalizer
from rldojo.networks.visual import make_visual_encoder
from rldojo.settings import Activation, NetworkSettings

__all__ = ["ObservationEncoder", "dense_stack"]


ACTIVATIONS: dict[Activation, type[nn.Module]] = {
    Activation.SWISH: nn.SiLU,
    Activation.TANH: nn.Tanh,
    Activation.RELU: nn.ReLU,
}


def dense_stack(
    input_size: int, hidden_units: int, num_layers: int, activation: Activation = Activation.SWISH
) -> nn.Sequential:
    """``num_layers`` x (Linear(hidden_units) + activation); with Swish, ML-Agents' ``LinearEncoder``."""
    layers: list[nn.Module] = []
    for _ in range(num_layers):
        layers += [nn.Linear(input_size, hidden_units), ACTIVATIONS[activation]()]
        input_size = hidden_units
    return nn.Sequential(*layers)


class _VectorProcessor(nn.Module):
    """Flattens one vector observation, optionally through a running normaliser."""

    def __init__(self, size: int, normalize: bool, clip: float):
        super().__init__()
        self.size = size
        self.normalizer = RunningNormalizer(size, clip) if normalize else None

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        flat = obs.reshape(obs.shape[0], self.size)
        return self.normalizer(flat) if self.normalizer is not None else flat

    def update_normalization(self, obs: torch.Tensor) -> None:
        if self.normalizer is not None:
            self.normalizer.update(obs.reshape(obs.shape[0], self.size))


class _VisualProcessor(nn.Module):
    def __init__(self, kind: str, shape: tuple[int, int, int], output_size: int):
        super().__init__()
        self.size = output_size
        self.encoder = make_visual_encoder(kind, shape, output_size)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.encoder(obs)

    def update_normalization(self, obs: torch.Tensor) -> None:
        """Pixels are already in [0, 1]; nothing to track."""


class ObservationEncoder(nn.Module):
    """Encodes the list of observations of one agent batch into ``hidden_units`` features; ``extra_inputs``
    more features (a discriminator's actions) may join the processed observations before the dense layers."""

    def __init__(
        self, observation_specs: Sequence[ObservationSpec], settings: NetworkSettings, extra_inputs: int = 0
    ):
        super().__init__()
        kind = settings.vis_encode_type.value
        processors: list[_VectorProcessor | _VisualProcessor] = []
        for index, spec in enumerate(observation_specs):
            shape = tuple(spec.shape)
            if len(shape) == 3:
                processors.append(
                    _VisualProcessor(kind, (shape[0], shape[1], shape[2]), settings.hidden_units)
                )
            elif len(shape) in (1, 3):
                processors.append(_VectorProcessor(math.prod(shape), settings.normalize, settings.clip_obs))
            else:
                raise ConfigError(
                    f"not supported yet: observation {index} of shape {list(shape)} "
                    "(variable-length observations need an attention encoder)"
                )
        self.processors = nn.ModuleList(processors)
        self.vector_only = all(isinstance(processor, _VectorProcessor) for processor in processors)
        self.extra_inputs = extra_inputs
        input_size = sum(processor.size for processor in processors) + extra_inputs
        self.body = dense_stack(input_size, settings.hidden_units, settings.num_layers, settings.activation)
        self.output_size = settings.hidden_units

    def forward(
        self, observations: Sequence[torch.Tensor], extra: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.body(self.body_inputs(observations, extra))

    def body_inputs(
        self, observations: Sequence[torch.Tensor], extra: torch.Tensor | None = None
    ) -> torch.Tensor:
        """What the dense layers take: the processed observations (and ``extra``) side by side."""
        encoded = [processor(obs) for processor, obs in zip(self.processors, observations, strict=True)]
        if extra is not None:
            encoded.append(extra)
        return encoded[0] if len(encoded) == 1 else torch.cat(encoded, dim=1)

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        for processor, obs in zip(self.processors, observations, strict=True):
            cast(_VectorProcessor | _VisualProcessor, processor).update_normalization(obs)

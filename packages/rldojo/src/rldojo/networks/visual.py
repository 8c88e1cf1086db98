"""Visual encoders for ``vis_encode_type``, as ML-Agents builds them (inputs [N, C, H, W]).

``simple``, ``nature_cnn``, ``resnet``, ``match3`` (small boards, e.g. Match-3 grids) and
``fully_connected`` (no convolution), each ending in one dense layer to ``output_size`` features.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from rldojo.errors import ConfigError

__all__ = ["VISUAL_ENCODERS", "make_visual_encoder"]


def _conv_output_size(body: nn.Module, shape: tuple[int, int, int]) -> int:
    with torch.no_grad():
        return int(body(torch.zeros(1, *shape)).numel())


class _FlattenedConvEncoder(nn.Module):
    """A convolutional body followed by one dense layer to ``output_size`` features."""

    def __init__(self, body: nn.Sequential, shape: tuple[int, int, int], output_size: int):
        super().__init__()
        self.body = body
        self.dense = nn.Sequential(nn.Linear(_conv_output_size(body, shape), output_size), nn.LeakyReLU())

    def forward(self, visual: torch.Tensor) -> torch.Tensor:
        return self.dense(torch.flatten(self.body(visual), start_dim=1))


def simple_encoder(shape: tuple[int, int, int], output_size: int) -> nn.Module:
    """Two convolutions (8x8 stride 4, 4x4 stride 2); needs at least 20x20 pixels."""
    body = nn.Sequential(
        nn.Conv2d(shape[0], 16, 8, stride=4), nn.LeakyReLU(), nn.Conv2d(16, 32, 4, stride=2), nn.LeakyReLU()
    )
    return _FlattenedConvEncoder(body, shape, output_size)


def match3_encoder(shape: tuple[int, int, int], output_size: int) -> nn.Module:
    """Two 3x3 stride-1 convolutions (35 and 144 channels) for boards of a few cells; needs 5x5 pixels.

    ML-Agents' ``SmallVisualEncoder``, after the network King uses for Candy Crush playtesting.
    """
    body = nn.Sequential(
        nn.Conv2d(shape[0], 35, 3, stride=1), nn.LeakyReLU(), nn.Conv2d(35, 144, 3, stride=1), nn.LeakyReLU()
    )
    return _FlattenedConvEncoder(body, shape, output_size)


def fully_connected_encoder(shape: tuple[int, int, int], output_size: int) -> nn.Module:
    """No convolution: the flattened pixels through the dense layer; any size."""
    return _FlattenedConvEncoder(nn.Sequential(), shape, output_size)


def nature_cnn_encoder(shape: tuple[int, int, int], output_size: int) -> nn.Module:
    """The DQN Nature paper's three convolutions; needs at least 36x36 pixels."""
    body = nn.Sequential(
        nn.Conv2d(shape[0], 32, 8, stride=4),
        nn.LeakyReLU(),
        nn.Conv2d(32, 64, 4, stride=2),
        nn.LeakyReLU(),
        nn.Conv2d(64, 64, 3, stride=1),
        nn.LeakyReLU(),
    )
    return _FlattenedConvEncoder(body, shape, output_size)


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


def resnet_encoder(shape: tuple[int, int, int], output_size: int) -> nn.Module:
    """IMPALA-style stacks (conv, max-pool, two residual blocks) of 16, 32, 32 channels; needs 15x15."""
    layers: list[nn.Module] = []
    channels = shape[0]
    for out_channels in (16, 32, 32):
        layers += [
            nn.Conv2d(channels, out_channels, 3, padding=1),
            nn.MaxPool2d(3, stride=2, padding=1),
            _ResidualBlock(out_channels),
            _ResidualBlock(out_channels),
        ]
        channels = out_channels
    layers.append(nn.SiLU())
    return _FlattenedConvEncoder(nn.Sequential(*layers), shape, output_size)


VisualEncoderFactory = Callable[[tuple[int, int, int], int], nn.Module]

#: encoder name -> (factory, minimum height and width in pixels)
VISUAL_ENCODERS: dict[str, tuple[VisualEncoderFactory, int]] = {
    "simple": (simple_encoder, 20),
    "nature_cnn": (nature_cnn_encoder, 36),
    "resnet": (resnet_encoder, 15),
    "match3": (match3_encoder, 5),
    "fully_connected": (fully_connected_encoder, 1),
}


def make_visual_encoder(kind: str, shape: tuple[int, int, int], output_size: int) -> nn.Module:
    """Build the ``kind`` encoder for observations of ``shape`` (C, H, W), with a clear error if it cannot."""
    if kind not in VISUAL_ENCODERS:
        raise ConfigError(
            f"not supported yet: vis_encode_type {kind!r} (supported: {', '.join(VISUAL_ENCODERS)})"
        )
    factory, min_size = VISUAL_ENCODERS[kind]
    if min(shape[1:]) < min_size:
        raise ConfigError(
            f"vis_encode_type {kind!r} needs visual observations of at least {min_size}x{min_size} pixels, "
            f"got {shape[1]}x{shape[2]}; choose a smaller encoder or a larger observation"
        )
    return factory(shape, output_size)

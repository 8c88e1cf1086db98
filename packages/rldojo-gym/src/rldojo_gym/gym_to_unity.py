"""A Gymnasium env's spaces as an ML-Agents ``BehaviorSpec``, with the observation and action conversions.

Observations: an image (``uint8`` ``[H, W, C]`` Box) becomes a visual observation ``[C, H, W]`` in
``[0, 1]``; a ``Dict`` becomes one observation per key; anything else is flattened to one vector
(``Discrete`` one-hot, ``Box`` raveled, ...) with ``gymnasium.spaces.flatten``.
Actions: ``Discrete`` -> one branch, ``MultiDiscrete`` -> branches, ``Box`` -> continuous actions.
ML-Agents policies emit continuous actions in ``[-1, 1]``; they are rescaled to a bounded Box.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from mlagents_envs.base_env import (
    ActionSpec,
    BehaviorSpec,
    DimensionProperty,
    ObservationSpec,
    ObservationType,
)

from rldojo_gym.errors import GymEnvError

__all__ = ["GymActionDecoder", "GymObservationEncoder", "behavior_spec_of"]

_VECTOR_DIMENSIONS = (DimensionProperty.NONE,)
_VISUAL_DIMENSIONS = (
    DimensionProperty.NONE,
    DimensionProperty.TRANSLATIONAL_EQUIVARIANCE,
    DimensionProperty.TRANSLATIONAL_EQUIVARIANCE,
)


def _is_image(space: spaces.Space) -> bool:
    return isinstance(space, spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


class GymObservationEncoder:
    """Turns observations of a Gymnasium space into ML-Agents observations (one array per sensor)."""

    def __init__(self, space: spaces.Space):
        self.space = space
        parts = dict(space.spaces) if isinstance(space, spaces.Dict) else {"": space}
        self._parts: list[tuple[str, spaces.Space]] = list(parts.items())
        self.specs = [self._spec(key, part) for key, part in self._parts]

    @staticmethod
    def _spec(key: str, space: spaces.Space) -> ObservationSpec:
        if _is_image(space):
            height, width, channels = space.shape  # type: ignore[misc]
            return ObservationSpec(
                (channels, height, width), _VISUAL_DIMENSIONS, ObservationType.DEFAULT, key or "CameraSensor"
            )
        size = spaces.flatdim(space)
        return ObservationSpec((size,), _VECTOR_DIMENSIONS, ObservationType.DEFAULT, key or "VectorSensor")

    def encode(self, observation: Any) -> list[np.ndarray]:
        """One float32 array per observation spec, for one agent."""
        encoded = []
        for key, space in self._parts:
            value = observation[key] if key else observation
            if _is_image(space):
                encoded.append(np.asarray(value, dtype=np.float32).transpose(2, 0, 1) / 255.0)
            elif isinstance(space, spaces.Box):  # what spaces.flatten does to a Box, without its dispatch
                encoded.append(np.asarray(value, dtype=space.dtype).astype(np.float32).reshape(-1))
            else:
                encoded.append(np.asarray(spaces.flatten(space, value), dtype=np.float32))
        return encoded

    def encode_batch(self, observations: list[Any]) -> list[np.ndarray]:
        """Per observation spec, the rows of every observation in ``observations`` stacked: [n, *shape]."""
        if not observations:
            return [np.zeros((0, *spec.shape), dtype=np.float32) for spec in self.specs]
        if isinstance(self.space, spaces.Box) and not _is_image(self.space):  # one vector: one conversion
            stacked = np.asarray(observations, dtype=self.space.dtype).astype(np.float32)
            return [stacked.reshape(len(observations), -1)]
        return [np.stack(column) for column in zip(*map(self.encode, observations), strict=True)]


class GymActionDecoder:
    """Turns one agent's ML-Agents action (continuous and discrete rows) into a Gymnasium action."""

    def __init__(self, space: spaces.Space):
        self.space = space
        if isinstance(space, spaces.Discrete):
            self.spec = ActionSpec.create_discrete((int(space.n),))
        elif isinstance(space, spaces.MultiDiscrete) and space.nvec.ndim == 1:
            self.spec = ActionSpec.create_discrete(tuple(int(n) for n in space.nvec))
        elif isinstance(space, spaces.Box):
            self.spec = ActionSpec.create_continuous(int(np.prod(space.shape)))
        else:
            raise GymEnvError(
                f"gym: envs need a Discrete, 1-D MultiDiscrete or Box action space, not {space}; "
                "wrap the env in a gymnasium.ActionWrapper that exposes one of those"
            )

    def decode_batch(self, continuous: np.ndarray, discrete: np.ndarray) -> list[Any]:
        """One Gymnasium action per row of ``continuous`` [n, size] and ``discrete`` [n, branches]."""
        if isinstance(self.space, spaces.Discrete):  # one conversion for all rows
            return list((int(self.space.start) + discrete[:, 0].astype(np.int64)).tolist())
        return [self.decode(c, d) for c, d in zip(continuous, discrete, strict=True)]

    def decode(self, continuous: np.ndarray, discrete: np.ndarray) -> Any:
        space = self.space
        if isinstance(space, spaces.Discrete):
            return space.start + int(discrete[0])
        if isinstance(space, spaces.MultiDiscrete):
            return (space.start + discrete).astype(space.dtype)
        assert isinstance(space, spaces.Box)
        unit = np.clip(continuous, -1.0, 1.0).reshape(space.shape)
        if space.is_bounded():
            unit = space.low + (unit + 1.0) * 0.5 * (space.high - space.low)
        return unit.astype(space.dtype)


def behavior_spec_of(encoder: GymObservationEncoder, decoder: GymActionDecoder) -> BehaviorSpec:
    """The ``BehaviorSpec`` that agents of a Gymnasium env have."""
    return BehaviorSpec(encoder.specs, decoder.spec)

"""Environment creation from an env spec: ``<scheme>:<name>`` via a registered provider, else a build path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlagents_envs.base_env import BaseEnv
from mlagents_envs.side_channel.side_channel import SideChannel

from rldojo.envs.unity_build import launch_unity_build
from rldojo.errors import ConfigError
from rldojo.plugins import EnvFactory, env_provider_registry, env_providers

__all__ = ["create_env", "env_provider"]


def env_provider(spec: str) -> tuple[EnvFactory, str] | None:
    """``(factory, name)`` when ``spec`` is ``<scheme>:<name>`` with an installed provider for ``scheme``."""
    scheme, separator, name = spec.partition(":")
    factory = env_providers().get(scheme) if separator else None
    return (factory, name) if factory is not None else None


def create_env(
    spec: str | None,
    *,
    worker_id: int = 0,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    **options: Any,
) -> BaseEnv:
    """Build worker ``worker_id``'s environment for ``spec``.

    ``options`` (``log_folder``, ``timeout_wait``, ``no_graphics``, ``additional_args``, ``base_port``) go
    to the provider or to ``UnityEnvironment``; providers ignore those that do not apply to them.
    """
    if not spec:
        raise ConfigError(
            "no environment given: pass --env <scheme>:<name> (e.g. sim:3DBall) or a path to a build"
        )
    provider = env_provider(spec)
    if provider is not None:
        factory, name = provider
        return factory(name, worker_id=worker_id, seed=seed, side_channels=side_channels, **options)
    scheme, separator, _ = spec.partition(":")
    if separator and not Path(spec).exists() and len(scheme) > 1:
        schemes = ", ".join(f"{s}:" for s in sorted(env_providers())) or "none installed"
        raise ConfigError(
            f"unknown env scheme '{scheme}:' in {spec!r} (installed schemes: {schemes}); "
            f"or give the path to a Unity build{env_provider_registry().broken_hint()}"
        )
    return launch_unity_build(
        Path(spec), worker_id=worker_id, seed=seed, side_channels=side_channels, **options
    )

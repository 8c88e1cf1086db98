"""Environment creation from an env spec: ``<scheme>:<name>`` via a registered provider, else a build path."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlagents_envs.base_env import BaseEnv
from mlagents_envs.side_channel.side_channel import SideChannel

from rldojo.errors import ConfigError
from rldojo.plugins import EnvFactory, env_provider_registry, env_providers

__all__ = ["CHECK_ARGS_ATTRIBUTE", "CHECK_NAME_ATTRIBUTE", "check_env_spec", "create_env", "env_provider"]

CHECK_NAME_ATTRIBUTE = "check_name"
"""A provider factory may carry ``check_name(name)``: a cheap check that raises an exception (one line)
for a name it cannot build, so a bad spec is refused before any worker starts."""
CHECK_ARGS_ATTRIBUTE = "check_args"
"""A provider factory may carry ``check_args(name, env_args)``: the same for ``env_settings.env_args``."""
PROGRAM_MAGIC = (b"\x7fELF", b"#!", b"MZ", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
"""How a file the OS can run starts: ELF, a script, Windows and macOS (Mach-O, universal) executables."""


def env_provider(spec: str) -> tuple[EnvFactory, str] | None:
    """``(factory, name)`` when ``spec`` is ``<scheme>:<name>`` with an installed provider for ``scheme``."""
    scheme, separator, name = spec.partition(":")
    factory = env_providers().get(scheme) if separator else None
    return (factory, name) if factory is not None else None


def check_env_spec(spec: str, env_args: Sequence[str] = ()) -> None:
    """ConfigError when a provider's ``check_name`` refuses the name of ``spec`` (or its ``check_args`` the
    ``env_args``), or when ``spec`` is a path that cannot be a Unity build (a folder, a file that is not
    executable)."""
    provider = env_provider(spec)
    if provider is not None:
        factory, name = provider
        checks = [(CHECK_NAME_ATTRIBUTE, (name,)), (CHECK_ARGS_ATTRIBUTE, (name, list(env_args)))]
        for attribute, arguments in checks:
            check = getattr(factory, attribute, None)
            if check is None:
                continue
            try:
                check(*arguments)
            except Exception as error:
                problem = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise ConfigError(f"--env {spec}: {problem}") from None
        return
    path = Path(spec)
    if not path.is_file():
        return  # a build folder or name that mlagents-envs resolves
    with path.open("rb") as stream:
        magic = stream.read(4)
    if not magic.startswith(PROGRAM_MAGIC):
        raise ConfigError(
            f"--env {spec}: this file is not a program, so it is not a Unity build; "
            "give the build's player executable, or an env spec such as sim:3DBall"
        )
    if not os.access(path, os.X_OK):
        raise ConfigError(
            f"--env {spec}: this file is not executable; run chmod +x on it, or give an env spec such as "
            "sim:3DBall"
        )


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
    from rldojo.envs.unity_build import launch_unity_build  # mlagents-envs' gRPC side: only where it runs

    return launch_unity_build(
        Path(spec), worker_id=worker_id, seed=seed, side_channels=side_channels, **options
    )

"""Registry of installed plugins, read from entry points (``importlib.metadata.entry_points(group=...)``).

Groups and what an entry point names:

- ``rldojo.trainer_type``: ``get_type_and_setting() -> ({name: TrainerClass}, {name: SettingsClass})``
- ``rldojo.stats_writer``: ``fn(run_options) -> list[StatsWriter]``
- ``rldojo.env``: ``fn() -> {scheme: factory}``, a factory building a ``BaseEnv`` from an env spec

A plugin that fails to load, or two plugins claiming one name, is a :class:`PluginError` naming the
distributions and entry points involved; nothing is skipped silently.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from rldojo.errors import RldojoError

TRAINER_TYPE_GROUP = "rldojo.trainer_type"
STATS_WRITER_GROUP = "rldojo.stats_writer"
ENV_GROUP = "rldojo.env"

EnvFactory = Callable[..., Any]
"""``factory(name, *, worker_id=0, seed=0, side_channels=(), **options) -> mlagents_envs BaseEnv``."""

StatsWriterFactory = Callable[[Any], list[Any]]
"""``factory(run_options) -> list[StatsWriter]``."""


class PluginError(RldojoError):
    """An installed plugin cannot be used: it fails to load, returns the wrong thing, or clashes."""


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin comes from: its distribution and its entry point."""

    distribution: str
    entry_point: str

    @classmethod
    def of(cls, entry_point: metadata.EntryPoint) -> PluginSource:
        distribution = entry_point.dist.name if entry_point.dist is not None else "unknown distribution"
        return cls(distribution, f"{entry_point.name} = {entry_point.value}")

    def __str__(self) -> str:
        return f"{self.distribution} (entry point '{self.entry_point}')"


@dataclass(frozen=True)
class TrainerTypeEntry:
    """One trainer type: its trainer class, its hyperparameter settings class and where it comes from."""

    name: str
    trainer_class: type
    settings_class: type
    source: PluginSource


@dataclass(frozen=True)
class StatsWriterEntry:
    """One stats-writer plugin: ``factory(run_options)`` returns the writers it adds to a run."""

    name: str
    factory: StatsWriterFactory
    source: PluginSource


@dataclass(frozen=True)
class EnvProviderEntry:
    """One env-spec scheme (``sim`` in ``sim:3DBall``) and the factory that builds its envs."""

    scheme: str
    factory: EnvFactory
    source: PluginSource


def _loaded(group: str) -> Iterator[tuple[Any, PluginSource]]:
    """Each entry point of ``group``, loaded and called if needed by the caller; load errors named."""
    for entry_point in sorted(metadata.entry_points(group=group), key=lambda ep: (ep.name, ep.value)):
        source = PluginSource.of(entry_point)
        try:
            yield entry_point.load(), source
        except Exception as error:
            raise PluginError(
                f"plugin {source} in group {group} failed to load: {_describe(error)}"
            ) from error


def _call(function: Any, source: PluginSource, group: str) -> Any:
    try:
        return function()
    except Exception as error:
        raise PluginError(
            f"plugin {source} in group {group} raised while registering: {_describe(error)}"
        ) from error


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0]


def _claim(registry: dict[str, Any], name: str, entry: Any, what: str) -> None:
    if name in registry:
        raise PluginError(
            f"{what} '{name}' is registered twice: by {registry[name].source} and by {entry.source}; "
            "uninstall one of them"
        )
    registry[name] = entry


@functools.cache
def trainer_types() -> dict[str, TrainerTypeEntry]:
    """Installed trainer types by name (``trainer_type:`` in the YAML)."""
    from rldojo.settings import HyperparamSettings

    registry: dict[str, TrainerTypeEntry] = {}
    for function, source in _loaded(TRAINER_TYPE_GROUP):
        result = _call(function, source, TRAINER_TYPE_GROUP)
        if not (isinstance(result, tuple) and len(result) == 2 and all(isinstance(d, dict) for d in result)):
            raise PluginError(
                f"plugin {source}: get_type_and_setting() must return (trainer classes, settings "
                f"classes), two dicts keyed by trainer type; got {type(result).__name__}"
            )
        trainers, settings = result
        if set(trainers) != set(settings):
            raise PluginError(
                f"plugin {source}: trainer types {sorted(trainers)} and settings "
                f"{sorted(settings)} do not name the same types"
            )
        for name, trainer_class in trainers.items():
            settings_class = settings[name]
            if not (isinstance(settings_class, type) and issubclass(settings_class, HyperparamSettings)):
                raise PluginError(
                    f"plugin {source}: settings class for '{name}' must derive from "
                    "rldojo.settings.OnPolicyHyperparamSettings or OffPolicyHyperparamSettings"
                )
            _claim(
                registry, name, TrainerTypeEntry(name, trainer_class, settings_class, source), "trainer type"
            )
    return registry


@functools.cache
def stats_writer_factories() -> dict[str, StatsWriterEntry]:
    """Installed stats-writer plugins by entry-point name."""
    registry: dict[str, StatsWriterEntry] = {}
    for factory, source in _loaded(STATS_WRITER_GROUP):
        if not callable(factory):
            raise PluginError(f"plugin {source}: must name a function fn(run_options) -> list[StatsWriter]")
        name = source.entry_point.partition(" = ")[0]
        _claim(registry, name, StatsWriterEntry(name, factory, source), "stats writer")
    return registry


@functools.cache
def env_provider_entries() -> dict[str, EnvProviderEntry]:
    """Installed env-spec schemes with their factories and sources."""
    registry: dict[str, EnvProviderEntry] = {}
    for function, source in _loaded(ENV_GROUP):
        providers = _call(function, source, ENV_GROUP)
        if not isinstance(providers, dict):
            raise PluginError(f"plugin {source}: must return a dict of scheme -> env factory")
        for scheme, factory in providers.items():
            _claim(registry, scheme, EnvProviderEntry(scheme, factory, source), "env scheme")
    return registry


def env_providers() -> dict[str, EnvFactory]:
    """Installed env factories by scheme (``sim`` resolves ``sim:3DBall``)."""
    return {scheme: entry.factory for scheme, entry in env_provider_entries().items()}


def clear_cache() -> None:
    """Forget what was loaded, so entry points installed since are seen (for tests and notebooks)."""
    for cached in (trainer_types, stats_writer_factories, env_provider_entries):
        cached.cache_clear()

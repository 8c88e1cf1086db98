"""Registry of installed plugins, read from entry points (``importlib.metadata.entry_points(group=...)``).

Groups and what an entry point names:

- ``rldojo.trainer_type``: ``get_type_and_setting() -> ({name: TrainerClass}, {name: SettingsClass})``;
  a trainer class may be given as its import path (``"package.module:Class"``) so that it, and torch,
  load only when a trainer is built
- ``rldojo.stats_writer``: ``fn(run_options) -> list[StatsWriter]``
- ``rldojo.env``: ``fn() -> {scheme: factory}``, a factory building a ``BaseEnv`` from an env spec
- ``rldojo.reward_signal``: ``fn() -> {name: (RewardSignalClass, SettingsClass)}``, a signal under
  ``reward_signals:``; like a trainer class, a signal class may be given as its import path
- ``rldojo.cli``: ``add_parser(subparsers)``, adding one ``rldojo`` subcommand

The registry is lazy: entry points are listed without importing them, and a trainer type is looked up
in the entry point of the same name (or one named by its prefix, ``sb3`` for ``sb3_ppo``) before any
other is loaded; so is a reward signal. A plugin that fails to load, or returns the wrong shape, is
recorded as broken with its cause and named (distribution and entry point) by every run that needs it;
runs that do not need it go on. ``rldojo plugins`` lists the broken ones with the rest.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Generic, TypeVar, cast

from rldojo.errors import RldojoError

__all__ = [
    "CLI_GROUP",
    "ENV_GROUP",
    "REWARD_SIGNAL_GROUP",
    "STATS_WRITER_GROUP",
    "TRAINER_TYPE_GROUP",
    "BrokenPlugin",
    "EnvFactory",
    "EnvProviderEntry",
    "PluginError",
    "PluginSource",
    "Registry",
    "RewardSignalEntry",
    "StatsWriterEntry",
    "StatsWriterFactory",
    "TrainerTypeEntry",
    "clear_cache",
    "cli_plugins",
    "env_provider_registry",
    "env_providers",
    "plugin_distributions",
    "reward_signal",
    "reward_signal_class",
    "reward_signal_registry",
    "run_plugin_sources",
    "run_stats_writers",
    "stats_writer_factories",
    "stats_writer_registry",
    "trainer_class",
    "trainer_type",
    "trainer_type_registry",
    "trainer_types",
    "uninstalled_plugins",
]

TRAINER_TYPE_GROUP = "rldojo.trainer_type"
STATS_WRITER_GROUP = "rldojo.stats_writer"
ENV_GROUP = "rldojo.env"
CLI_GROUP = "rldojo.cli"
REWARD_SIGNAL_GROUP = "rldojo.reward_signal"
MLAGENTS_GROUPS = {"mlagents.trainer_type": TRAINER_TYPE_GROUP, "mlagents.stats_writer": STATS_WRITER_GROUP}
"""ML-Agents' entry-point groups, which rldojo does not read, and the rldojo group each maps to."""
PORTING_SECTION = "docs/plugins.md#porting-an-ml-agents-plugin"

EnvFactory = Callable[..., Any]
"""``factory(name, *, worker_id=0, seed=0, side_channels=(), **options) -> mlagents_envs BaseEnv``."""

StatsWriterFactory = Callable[[Any], list[Any]]
"""``factory(run_options) -> list[StatsWriter]``."""

logger = logging.getLogger(__name__)


class PluginError(RldojoError):
    """An installed plugin cannot be used: it fails to load, returns the wrong thing, or clashes."""


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin comes from: its distribution (with its version), its entry point and its group."""

    distribution: str
    entry_point: str
    group: str = field(default="", compare=False)
    version: str = field(default="", compare=False)

    @classmethod
    def of(cls, entry_point: metadata.EntryPoint) -> PluginSource:
        described = f"{entry_point.name} = {entry_point.value}"
        if entry_point.dist is None:
            return cls("unknown distribution", described, entry_point.group)
        fields = entry_point.dist.metadata  # parsed once: dist.name and dist.version would each parse it
        return cls(fields["Name"], described, entry_point.group, fields["Version"])

    @property
    def name(self) -> str:
        """The entry point's name (``ppo`` in ``ppo = rldojo.trainers.ppo.settings:get_type_and_setting``)."""
        return self.entry_point.partition(" = ")[0]

    def __str__(self) -> str:
        return f"{self.distribution} (entry point '{self.entry_point}')"


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that cannot be used, and why (one line naming it)."""

    source: PluginSource
    message: str


def _class_path(cls: type | str) -> str:
    if isinstance(cls, str):
        return cls.replace(":", ".")
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_class(cls: type | str, what: str, name: str, source: PluginSource) -> type:
    """``cls``, imported now if it is a ``module:Class`` path; checked to be a complete class."""
    found: Any = cls
    if isinstance(cls, str):
        module, _, qualified_name = cls.partition(":")
        try:
            found = functools.reduce(getattr, qualified_name.split("."), importlib.import_module(module))
        except Exception as error:
            raise PluginError(
                f"plugin {source}: {what} class {cls} of '{name}' failed to load: {_describe(error)}"
            ) from error
    _check_class(found, what, name, source)
    checked: type = found
    return checked


@dataclass(frozen=True)
class TrainerTypeEntry:
    """One trainer type: its settings class, its trainer class (or that class's import path), its source."""

    name: str
    trainer: type | str
    settings_class: type
    source: PluginSource

    @property
    def trainer_path(self) -> str:
        """``package.module.Class`` of the trainer, without importing it."""
        return _class_path(self.trainer)

    @property
    def trainer_class(self) -> type:
        """The trainer class, imported now if it was registered by path; checked to be complete."""
        return _import_class(self.trainer, "trainer", self.name, self.source)


@dataclass(frozen=True)
class RewardSignalEntry:
    """One reward signal (a key under ``reward_signals:``): its settings class, its class (or that class's
    import path) and its source."""

    name: str
    signal: type | str
    settings_class: type
    source: PluginSource

    @property
    def signal_path(self) -> str:
        """``package.module.Class`` of the signal, without importing it."""
        return _class_path(self.signal)

    @property
    def signal_class(self) -> type:
        """The signal class, imported now if it was registered by path; checked to be complete."""
        return _import_class(self.signal, "reward signal", self.name, self.source)


@dataclass(frozen=True)
class StatsWriterEntry:
    """One stats-writer plugin: ``factory(run_options)`` returns the writers it adds to a run."""

    name: str
    factory: StatsWriterFactory
    source: PluginSource

    def writers(self, run_options: Any) -> list[Any]:
        """The writers the factory adds to a run; anything but a list is an error naming the plugin."""
        writers = self.factory(run_options)
        if not isinstance(writers, list):
            raise PluginError(
                f"plugin {self.source}: the writer factory must return a list of StatsWriter, "
                f"got {type(writers).__name__}; wrap a single writer as [writer]"
            )
        return writers


@dataclass(frozen=True)
class EnvProviderEntry:
    """One env-spec scheme (``sim`` in ``sim:3DBall``) and the factory that builds its envs."""

    scheme: str
    factory: EnvFactory
    source: PluginSource


Entry = TypeVar("Entry", TrainerTypeEntry, StatsWriterEntry, EnvProviderEntry, RewardSignalEntry)


@dataclass
class Registry(Generic[Entry]):
    """What a group's loaded plugins registered, by name, and the plugins that are broken."""

    group: str
    what: str
    """What a name is (``trainer type``), for messages."""
    entries: dict[str, Entry] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)
    clashes: dict[str, str] = field(default_factory=dict)
    """Names registered by two plugins, with the message naming both."""

    def add(self, name: str, entry: Entry) -> None:
        if name in self.clashes:
            return
        if name in self.entries:
            first = self.entries.pop(name)
            self.clashes[name] = (
                f"{self.what} '{name}' is registered twice: by {first.source} and by {entry.source}; "
                "uninstall one of them"
            )
            return
        self.entries[name] = entry

    def get(self, name: str) -> Entry | None:
        """The entry of ``name``; PluginError if two plugins claim it."""
        if name in self.clashes:
            raise PluginError(self.clashes[name])
        return self.entries.get(name)

    def broken_hint(self) -> str:
        """``; plugin X ... failed to load: ...`` for each broken plugin, to append to a not-found message."""
        return "".join(f"; {broken.message}" for broken in self.broken)


@functools.cache
def _installed_entry_points() -> metadata.EntryPoints:
    """Every installed entry point, read once per process: each ``metadata.entry_points(group=...)`` reads
    the metadata of every installed distribution again (milliseconds per call, and a run asks for six
    groups). Before Python 3.12 this is a ``SelectableGroups``, whose ``select(group=...)`` is the same."""
    return cast(metadata.EntryPoints, metadata.entry_points())


def _entry_points(group: str) -> list[metadata.EntryPoint]:
    return sorted(_installed_entry_points().select(group=group), key=lambda ep: (ep.name, ep.value))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0]


def _load(entry_point: metadata.EntryPoint, source: PluginSource) -> Any:
    try:
        return entry_point.load()
    except Exception as error:
        raise PluginError(
            f"plugin {source} in group {source.group} failed to load: {_describe(error)}"
        ) from error


def _call(function: Any, source: PluginSource) -> Any:
    try:
        return function()
    except Exception as error:
        raise PluginError(
            f"plugin {source} in group {source.group} raised while registering: {_describe(error)}"
        ) from error


def _register(
    registry: Registry[Any], entry_points: Iterable[metadata.EntryPoint], add: Callable[..., None]
) -> None:
    """Load each entry point and ``add(registry, loaded, source)``; a failure marks that plugin broken."""
    for entry_point in entry_points:
        source = PluginSource.of(entry_point)
        try:
            add(registry, _load(entry_point, source), source)
        except PluginError as error:
            logger.debug("plugin %s is broken", source, exc_info=True)
            registry.broken.append(BrokenPlugin(source, str(error)))


def _check_class(cls: Any, what: str, name: str, source: PluginSource) -> None:
    if not isinstance(cls, type):
        raise PluginError(f"plugin {source}: the {what} for '{name}' must be a class, got {cls!r}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise PluginError(
            f"plugin {source}: {what} class {_class_path(cls)} of '{name}' does not implement {missing}"
        )


def _check_class_or_path(cls: Any, what: str, name: str, source: PluginSource) -> None:
    """A class, or a ``module:Class`` path to import later."""
    if not isinstance(cls, str):
        _check_class(cls, what, name, source)
    elif ":" not in cls:
        raise PluginError(f"plugin {source}: {what} path '{cls}' of '{name}' must be 'module:Class'")


def _add_trainer_types(registry: Registry[TrainerTypeEntry], function: Any, source: PluginSource) -> None:
    result = _call(function, source)
    if not (isinstance(result, tuple) and len(result) == 2 and all(isinstance(d, dict) for d in result)):
        raise PluginError(
            f"plugin {source}: get_type_and_setting() must return (trainer classes, settings "
            f"classes), two dicts keyed by trainer type; got {type(result).__name__}"
        )
    trainers, settings = result
    if set(trainers) != set(settings):
        raise PluginError(
            f"plugin {source}: trainer types {sorted(trainers)} and settings {sorted(settings)} do not "
            "name the same types"
        )
    for name, trainer in trainers.items():
        _check_class_or_path(trainer, "trainer", name, source)
        if not isinstance(settings[name], type):
            raise PluginError(f"plugin {source}: the settings for '{name}' must be a class")
    for name, trainer in trainers.items():
        registry.add(name, TrainerTypeEntry(name, trainer, settings[name], source))


def _add_reward_signals(registry: Registry[RewardSignalEntry], function: Any, source: PluginSource) -> None:
    signals = _call(function, source)
    if not (
        isinstance(signals, dict)
        and all(isinstance(pair, tuple) and len(pair) == 2 for pair in signals.values())
    ):
        raise PluginError(
            f"plugin {source}: must return {{name: (RewardSignalClass, SettingsClass)}}; "
            f"got {type(signals).__name__}"
        )
    for name, (signal, settings_class) in signals.items():
        _check_class_or_path(signal, "reward signal", name, source)
        if not isinstance(settings_class, type):
            raise PluginError(f"plugin {source}: the settings for reward signal '{name}' must be a class")
    for name, (signal, settings_class) in signals.items():
        registry.add(name, RewardSignalEntry(name, signal, settings_class, source))


def _add_stats_writer(registry: Registry[StatsWriterEntry], factory: Any, source: PluginSource) -> None:
    if not callable(factory):
        raise PluginError(f"plugin {source}: must name a function fn(run_options) -> list[StatsWriter]")
    registry.add(source.name, StatsWriterEntry(source.name, factory, source))


def _add_env_providers(registry: Registry[EnvProviderEntry], function: Any, source: PluginSource) -> None:
    providers = _call(function, source)
    if not isinstance(providers, dict) or not all(callable(factory) for factory in providers.values()):
        raise PluginError(f"plugin {source}: must return a dict of scheme -> env factory")
    for scheme, factory in providers.items():
        registry.add(scheme, EnvProviderEntry(scheme, factory, source))


@functools.cache
def _warn_about_mlagents_plugins() -> None:
    """One warning naming the plugins registered under ML-Agents' groups, which rldojo does not read."""
    found = [
        f"{PluginSource.of(entry_point)} in {group}"
        for group in MLAGENTS_GROUPS
        for entry_point in _entry_points(group)
    ]
    if found:
        logger.warning(
            "ignoring ML-Agents plugin(s) %s: rldojo reads the groups %s; see %s to port them",
            "; ".join(found),
            " and ".join(MLAGENTS_GROUPS.values()),
            PORTING_SECTION,
        )


def _provides(entry_point_name: str, trainer_type_name: str) -> bool:
    return trainer_type_name == entry_point_name or trainer_type_name.startswith(entry_point_name + "_")


@functools.cache
def _trainer_type_registry(names: frozenset[str] | None) -> Registry[TrainerTypeEntry]:
    _warn_about_mlagents_plugins()
    registry: Registry[TrainerTypeEntry] = Registry(TRAINER_TYPE_GROUP, "trainer type")
    entry_points = _entry_points(TRAINER_TYPE_GROUP)
    if names is not None:
        entry_points = [ep for ep in entry_points if any(_provides(ep.name, name) for name in names)]
    _register(registry, entry_points, _add_trainer_types)
    return registry


def trainer_type_registry() -> Registry[TrainerTypeEntry]:
    """Every installed trainer type, loading every ``rldojo.trainer_type`` plugin."""
    return _trainer_type_registry(None)


def trainer_types() -> dict[str, TrainerTypeEntry]:
    """Installed trainer types by name (``trainer_type:`` in the YAML); broken plugins left out."""
    return trainer_type_registry().entries


def trainer_type(name: str) -> TrainerTypeEntry | None:
    """The trainer type ``name``, loading only the plugins whose entry-point name could provide it first.

    None when no plugin provides it. PluginError (naming the plugin) when the plugin whose entry point
    has that name, or the only candidates, are broken, or when two plugins claim ``name``.
    """
    return _candidate_first(name, _trainer_type_registry(frozenset([name])), trainer_type_registry)


def _candidate_first(
    name: str, candidates: Registry[Entry], everything: Callable[[], Registry[Entry]]
) -> Entry | None:
    """``name`` from the registry of its candidate plugins, else (none of them broken) from ``everything``."""
    entry = candidates.get(name)
    if entry is not None:
        return entry
    if candidates.broken:
        raise PluginError(f"{candidates.what} '{name}' is not available: {candidates.broken[0].message}")
    return everything().get(name)


def trainer_class(name: str) -> type:
    """The trainer class of trainer type ``name``, imported now; PluginError naming what is missing."""
    entry = trainer_type(name)
    if entry is None:
        raise PluginError(f"trainer type '{name}' is not installed; see `rldojo plugins`")
    return entry.trainer_class


@functools.cache
def _reward_signal_registry(name: str | None) -> Registry[RewardSignalEntry]:
    registry: Registry[RewardSignalEntry] = Registry(REWARD_SIGNAL_GROUP, "reward signal")
    entry_points = _entry_points(REWARD_SIGNAL_GROUP)
    if name is not None:
        entry_points = [ep for ep in entry_points if ep.name == name]
    _register(registry, entry_points, _add_reward_signals)
    return registry


def reward_signal_registry() -> Registry[RewardSignalEntry]:
    """Every installed reward signal, loading every ``rldojo.reward_signal`` plugin."""
    return _reward_signal_registry(None)


def reward_signal(name: str) -> RewardSignalEntry | None:
    """The reward signal ``name``, loading the plugin whose entry point has that name first.

    None when no plugin provides it; PluginError (naming the plugin) when that plugin is broken or two
    plugins claim ``name``.
    """
    return _candidate_first(name, _reward_signal_registry(name), reward_signal_registry)


def reward_signal_class(name: str) -> type:
    """The class of reward signal ``name``, imported now; PluginError naming what is missing."""
    entry = reward_signal(name)
    if entry is None:
        raise PluginError(f"reward signal '{name}' is not installed; see `rldojo plugins`")
    return entry.signal_class


@functools.cache
def stats_writer_registry() -> Registry[StatsWriterEntry]:
    """Installed stats-writer plugins by entry-point name, and the broken ones."""
    _warn_about_mlagents_plugins()
    registry: Registry[StatsWriterEntry] = Registry(STATS_WRITER_GROUP, "stats writer")
    _register(registry, _entry_points(STATS_WRITER_GROUP), _add_stats_writer)
    return registry


def stats_writer_factories() -> dict[str, StatsWriterEntry]:
    """Installed stats-writer plugins by entry-point name; broken plugins left out."""
    return stats_writer_registry().entries


def run_stats_writers(run_options: Any) -> list[tuple[Any, PluginSource]]:
    """The writers every installed stats-writer plugin adds to a run, each with that plugin.

    A broken writer plugin that the run does not list under ``stats_writers:`` (config validation
    stops a run that does) gets one warning and the run goes on without it.
    """
    registry = stats_writer_registry()
    for broken in registry.broken:
        logger.warning("%s; the run goes on without it", broken.message)
    entries = registry.entries.values()
    return [(writer, entry.source) for entry in entries for writer in entry.writers(run_options)]


@functools.cache
def env_provider_registry() -> Registry[EnvProviderEntry]:
    """Installed env-spec schemes with their factories and sources, and the broken providers."""
    registry: Registry[EnvProviderEntry] = Registry(ENV_GROUP, "env scheme")
    _register(registry, _entry_points(ENV_GROUP), _add_env_providers)
    return registry


def env_providers() -> dict[str, EnvFactory]:
    """Installed env factories by scheme (``sim`` resolves ``sim:3DBall``); broken providers left out."""
    return {scheme: entry.factory for scheme, entry in env_provider_registry().entries.items()}


def cli_plugins() -> list[tuple[PluginSource, Callable[[Any], None] | BrokenPlugin]]:
    """Each ``rldojo.cli`` plugin with its ``add_parser(subparsers)``, or why it cannot be loaded."""
    found: list[tuple[PluginSource, Callable[[Any], None] | BrokenPlugin]] = []
    for entry_point in _entry_points(CLI_GROUP):
        source = PluginSource.of(entry_point)
        try:
            found.append((source, _load(entry_point, source)))
        except PluginError as error:
            found.append((source, BrokenPlugin(source, str(error))))
    return found


def run_plugin_sources(run_options: Any) -> list[PluginSource]:
    """The plugins a run uses: its behaviors' trainer types and reward signals, every stats writer, its env
    scheme."""
    behaviors = [run_options.default_settings, *run_options.behaviors.values()]
    settings = [behavior for behavior in behaviors if behavior is not None]
    types = {behavior.trainer_type for behavior in settings}
    signals = {name for behavior in settings for name in behavior.reward_signals}
    sources = [entry.source for entry in map(trainer_type, sorted(types)) if entry is not None]
    sources += [entry.source for entry in map(reward_signal, sorted(signals)) if entry is not None]
    sources += [entry.source for entry in stats_writer_registry().entries.values()]
    scheme, colon, _ = (run_options.env_settings.env_path or "").partition(":")
    provider = env_provider_registry().entries.get(scheme) if colon else None
    return sources + ([provider.source] if provider is not None else [])


def plugin_distributions(sources: Iterable[PluginSource]) -> list[dict[str, str]]:
    """The plugins a run uses, for its manifest: group, name, distribution and version, in a stable order."""
    records = {
        (source.group, source.name, source.distribution): {
            "group": source.group,
            "name": source.name,
            "entry_point": source.entry_point,
            "distribution": source.distribution,
            "version": source.version,
        }
        for source in sources
    }
    return [records[key] for key in sorted(records)]


def uninstalled_plugins(manifest: Mapping[str, Any]) -> list[str]:
    """For each trainer type a run's manifest records from a distribution that is not installed now:
    ``trainer_type 'vpg' came from rldojo-plugin-example 0.1.0; install rldojo-plugin-example``."""
    hints = []
    for record in manifest.get("plugins") or []:
        if record.get("group") != TRAINER_TYPE_GROUP:
            continue
        try:
            metadata.distribution(record["distribution"])
        except metadata.PackageNotFoundError:
            version = f" {record['version']}" if record.get("version") else ""
            hints.append(
                f"trainer_type '{record['name']}' came from {record['distribution']}{version}, which is not "
                f"installed; install {record['distribution']}"
            )
    return hints


def clear_cache() -> None:
    """Forget what was loaded, so entry points installed since are seen (for tests and notebooks)."""
    for cached in (
        _trainer_type_registry,
        _reward_signal_registry,
        stats_writer_registry,
        env_provider_registry,
        _installed_entry_points,
    ):
        cached.cache_clear()
    _warn_about_mlagents_plugins.cache_clear()

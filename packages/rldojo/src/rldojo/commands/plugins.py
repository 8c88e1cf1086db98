"""``rldojo plugins``: list the installed trainer types, reward signals, stats writers, env providers and
commands.

Trainer and reward-signal classes are listed by their import path, not imported; a plugin that cannot be
loaded is listed as broken with its cause, and the command then exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rldojo import plugins


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list installed trainer types, reward signals, stats writers, env providers and commands",
        description="List the installed plugins, each with the distribution that provides it; "
        "broken plugins are listed with their cause (exit 1).",
    )
    parser.add_argument("--debug", action="store_true", help="log the traceback of a plugin that fails")
    parser.set_defaults(command_function=run)


UNITY_BUILDS = "any other --env is a path to a Unity build"


def _qualified_name(obj: object) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as aligned lines; the last column is not padded."""
    if not rows:
        return ["  (none installed)"]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def _broken(broken: Sequence[plugins.BrokenPlugin], clashes: Sequence[str] = ()) -> list[str]:
    return [f"  BROKEN: {plugin.message}" for plugin in broken] + [f"  BROKEN: {clash}" for clash in clashes]


def _class_rows(entries: Mapping[str, Any], class_path: Callable[[Any], str]) -> list[tuple[str, ...]]:
    """Rows of plugins registered as a class (by import path, not imported) with a settings class."""
    return [
        (name, class_path(entry), f"settings {_qualified_name(entry.settings_class)}",
         f"from {entry.source.distribution}")
        for name, entry in sorted(entries.items())
    ]  # fmt: skip


def _section(heading: str, rows: Sequence[tuple[str, ...]], registry: Any) -> list[str]:
    """A plugin group's heading, its rows, then its broken and clashing plugins."""
    return [heading, *_table(rows), *_broken(registry.broken, list(registry.clashes.values()))]


def run(args: argparse.Namespace) -> int:
    """Print each plugin group; exit 1 when a plugin is broken."""
    trainer_types = plugins.trainer_type_registry()
    trainers = _class_rows(trainer_types.entries, lambda entry: entry.trainer_path)
    signal_registry = plugins.reward_signal_registry()
    signals = _class_rows(signal_registry.entries, lambda entry: entry.signal_path)
    writer_registry = plugins.stats_writer_registry()
    writers = [
        (name, _qualified_name(entry.factory), f"from {entry.source.distribution}")
        for name, entry in sorted(writer_registry.entries.items())
    ]
    env_registry = plugins.env_provider_registry()
    envs = [
        (f"{scheme}:", _qualified_name(entry.factory), f"from {entry.source.distribution}")
        for scheme, entry in sorted(env_registry.entries.items())
    ]
    cli_plugins = plugins.cli_plugins()
    commands = [
        (source.name, source.entry_point.partition(" = ")[2], f"from {source.distribution}")
        for source, add_parser in cli_plugins
        if not isinstance(add_parser, plugins.BrokenPlugin)
    ]
    broken_commands = [found for _, found in cli_plugins if isinstance(found, plugins.BrokenPlugin)]
    lines = [
        *_section(f"Trainer types ({plugins.TRAINER_TYPE_GROUP}):", trainers, trainer_types),
        *_section(f"Reward signals ({plugins.REWARD_SIGNAL_GROUP}):", signals, signal_registry),
        *_section(f"Stats writers ({plugins.STATS_WRITER_GROUP}):", writers, writer_registry),
        *_section(f"Env providers ({plugins.ENV_GROUP}; {UNITY_BUILDS}):", envs, env_registry),
        f"Commands ({plugins.CLI_GROUP}):",
        *_table(commands),
        *_broken(broken_commands),
    ]
    print("\n".join(lines))
    broken = sum(line.startswith("  BROKEN: ") for line in lines)
    if broken:
        print(f"rldojo: error: {broken} plugin(s) broken (listed above)", file=sys.stderr)
        return 1
    return 0

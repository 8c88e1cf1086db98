"""``rldojo plugins``: list the trainer types, stats writers and env providers that are installed."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rldojo import plugins


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list installed trainer types, stats writers and env providers",
        description="List the installed plugins, each with the distribution that provides it.",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of a plugin that fails")
    parser.set_defaults(command_function=run)


def _qualified_name(obj: object) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as aligned lines; the last column is not padded."""
    if not rows:
        return ["  (none installed)"]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Print the three plugin groups; a plugin that fails to load raises PluginError (exit 1)."""
    trainers = [
        (name, _qualified_name(entry.trainer_class), f"settings {_qualified_name(entry.settings_class)}",
         f"from {entry.source.distribution}")
        for name, entry in sorted(plugins.trainer_types().items())
    ]  # fmt: skip
    writers = [
        (name, _qualified_name(entry.factory), f"from {entry.source.distribution}")
        for name, entry in sorted(plugins.stats_writer_factories().items())
    ]
    envs = [
        (f"{scheme}:", _qualified_name(entry.factory), f"from {entry.source.distribution}")
        for scheme, entry in sorted(plugins.env_provider_entries().items())
    ]
    lines = [f"Trainer types ({plugins.TRAINER_TYPE_GROUP}):", *_table(trainers)]
    lines += [f"Stats writers ({plugins.STATS_WRITER_GROUP}):", *_table(writers)]
    lines += [
        f"Env providers ({plugins.ENV_GROUP}; any other --env is a path to a Unity build):",
        *_table(envs),
    ]
    print("\n".join(lines))
    return 0

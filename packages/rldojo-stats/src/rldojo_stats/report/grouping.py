"""Which runs are seeds of one experiment: named by ``--group NAME=RUN_GLOB``, else the same resolved config.

Run ids are never parsed: ``ball1`` and ``ball_s1`` are one group only when their configs agree.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from rldojo.errors import ConfigError
from rldojo.run_directory import CONFIGURATION_FILE

__all__ = ["PER_RUN_KEYS", "group_runs"]

PER_RUN_KEYS = (
    ("checkpoint_settings",),
    ("env_settings", "seed"),
    ("env_settings", "base_port"),
    ("torch_settings",),
    ("stats_writers",),
    ("debug",),
)
"""Configuration keys that differ between seeds of one experiment, left out when comparing configs."""


def _experiment_config(run_dir: Path) -> str:
    """The run's resolved configuration without its per-run keys, as comparable text."""
    path = run_dir / CONFIGURATION_FILE
    if not path.is_file():
        raise ConfigError(
            f"{run_dir}: no {CONFIGURATION_FILE} to group it by; name its group with --group NAME=RUN_GLOB"
        )
    config: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    for keys in PER_RUN_KEYS:
        section = config
        for key in keys[:-1]:
            section = section.get(key) or {}
        if isinstance(section, dict):
            section.pop(keys[-1], None)
    return yaml.safe_dump(config, sort_keys=True)


def _name_of(run_dirs: Sequence[Path], taken: set[str]) -> str:
    """A display name for a config group: its runs' common id prefix, else the first id."""
    ids = [run_dir.name for run_dir in run_dirs]
    shared = itertools.takewhile(lambda chars: len(set(chars)) == 1, zip(*ids, strict=False))
    prefix = "".join(chars[0] for chars in shared).rstrip("-_. ")
    name = prefix or ids[0]
    suffix = 2
    while name in taken:
        name, suffix = f"{prefix or ids[0]} ({suffix})", suffix + 1
    return name


def group_runs(run_dirs: Sequence[Path], groups: Sequence[tuple[str, str]] = ()) -> dict[str, list[Path]]:
    """Group name -> run folders: the explicit globs first, every other run by its resolved config."""
    grouped: dict[str, list[Path]] = {}
    left = list(run_dirs)
    for name, pattern in groups:
        members = [run_dir for run_dir in left if fnmatch.fnmatchcase(run_dir.name, pattern)]
        if not members:
            names = ", ".join(run_dir.name for run_dir in run_dirs)
            raise ConfigError(f"--group {name}={pattern}: matches none of the runs given ({names})")
        grouped.setdefault(name, []).extend(members)
        left = [run_dir for run_dir in left if run_dir not in members]
    by_config: dict[str, list[Path]] = {}
    for run_dir in left:
        by_config.setdefault(_experiment_config(run_dir), []).append(run_dir)
    for members in by_config.values():
        grouped[_name_of(members, set(grouped))] = members
    return grouped

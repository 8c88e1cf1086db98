"""Reading a YAML config file strictly: a size limit, UTF-8 only, and duplicate keys as errors.

PyYAML keeps the last of two equal keys, so a typo'd copy of a section silently replaces the first;
here it is a :class:`~rldojo.errors.ConfigError` naming both lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rldojo.errors import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "read_strict_yaml"]

MAX_CONFIG_BYTES = 1 << 20
"""Largest config file read (1 MiB); ML-Agents' biggest example configs are a few KiB."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats a key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in first_line:
                raise ConfigError(
                    f"duplicate key '{key}' at line {line} (first at line {first_line[key]}); "
                    "keep only one of them"
                )
            if isinstance(key, (str, int, float, bool)):
                first_line[key] = line
        return super().construct_mapping(node, deep=deep)


def read_strict_yaml(path: Path) -> Any:
    """The YAML document in ``path``; every problem with the file is one ConfigError naming it."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder; give the path of a YAML config file") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_CONFIG_BYTES // 1024} KiB, too large for a run config; "
            "check that it is the right file"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {error.start}); save the config as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: YAML syntax error{where}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{path}: the YAML is nested too deeply to be a run config") from None

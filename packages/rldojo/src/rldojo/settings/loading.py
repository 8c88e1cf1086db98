"""From a YAML file and command-line overrides to validated ``RunOptions``, or one clear ConfigError."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rldojo.errors import ConfigError
from rldojo.settings.base import NOT_SUPPORTED, UNKNOWN_KEY, closest, error_path
from rldojo.settings.environment_parameters import yaml_location
from rldojo.settings.run import RunOptions
from rldojo.settings.strict_yaml import read_strict_yaml
from rldojo.settings.trainer import TrainerSettings


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML config file; a missing, oversized or malformed file is a ConfigError."""
    data = read_strict_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping (behaviors:, env_settings:, ...)")
    return data


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` merged onto ``base``, mappings merged key by key (ML-Agents' default_settings rule)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def format_path(path: tuple[str | int, ...]) -> str:
    """``behaviors.3DBall.hyperparameters``, with list indices as ``[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def config_error(
    error: ValidationError,
    source: str,
    prefix: tuple[str | int, ...] = (),
    flags: Mapping[str, str] | None = None,
    data: Mapping[str, Any] | None = None,
) -> ConfigError:
    """The first problem of a validation error as one line naming the YAML path (and the flag that set it).

    ``data`` is the mapping that was validated, to spell paths as they are written in it.
    """
    first = error.errors(include_url=False)[0]
    path = format_path(yaml_location((*prefix, *error_path(first)), data or {}))
    flag = (flags or {}).get(path)
    if flag is None and first["type"] == UNKNOWN_KEY:  # an unknown section named by a longer flag path
        flag = next((name for dotted, name in (flags or {}).items() if dotted.startswith(f"{path}.")), None)
    if first["type"] == NOT_SUPPORTED:
        return ConfigError(f"{first['msg']} (in {flag or f'{source}: {path}'})")
    return ConfigError(f"{flag or f'{source}: {path}'}: {first['msg']}")


def run_options_from_dict(
    data: Mapping[str, Any],
    source: str,
    context: dict[str, Any] | None = None,
    flags: Mapping[str, str] | None = None,
) -> RunOptions:
    """Validate a config mapping; ``default_settings`` is merged into every behavior first.

    ``source`` names the config in messages and ``flags`` the command-line flag that set a YAML path;
    ``context`` may carry ``trainer_settings`` (name -> hyperparameter class) instead of the installed
    plugins.
    """
    data = dict(data)
    defaults = data.get("default_settings") or {}
    behaviors = data.get("behaviors") or {}
    if not isinstance(defaults, Mapping):
        raise ConfigError(f"{source}: default_settings: must be a mapping of trainer settings")
    if not isinstance(behaviors, Mapping):
        raise ConfigError(f"{source}: behaviors: must be a mapping of behavior name to trainer settings")
    if defaults:
        data["default_settings"] = _trainer_settings(defaults, source, ("default_settings",), context, flags)
    for name, own in behaviors.items():
        if own is not None and not isinstance(own, Mapping):
            raise ConfigError(f"{source}: behaviors.{name}: must be a mapping of trainer settings")
    data["behaviors"] = {
        str(name): _trainer_settings(
            deep_merge(defaults, own or {}), source, ("behaviors", name), context, flags
        )
        for name, own in behaviors.items()
    }
    try:
        return RunOptions.model_validate(data, context=context)
    except ValidationError as error:
        raise config_error(error, source, flags=flags, data=data) from None


def _trainer_settings(
    data: Any,
    source: str,
    prefix: tuple[Any, ...],
    context: dict[str, Any] | None,
    flags: Mapping[str, str] | None,
) -> TrainerSettings:
    try:
        return TrainerSettings.model_validate(data, context=context)
    except ValidationError as error:
        raise config_error(error, source, prefix, flags) from None


def load_run_options(
    config_path: Path, overrides: Mapping[str, Any] | None = None, flags: Mapping[str, str] | None = None
) -> RunOptions:
    """Read a config file and apply command-line overrides on top of it.

    ``overrides`` maps dotted YAML paths (``env_settings.seed``, ``behaviors.3DBall.max_steps``) to the
    values of the flags that were given explicitly, so a flag left out never replaces what the file says;
    ``flags`` maps those paths to flag names for error messages.
    """
    data = read_yaml(config_path)
    for dotted, value in (overrides or {}).items():
        _set_path(data, dotted, value, (flags or {}).get(dotted) or f"{config_path}: {dotted}")
    return run_options_from_dict(data, str(config_path), flags=flags)


def _set_path(data: dict[str, Any], dotted: str, value: Any, where: str) -> None:
    """Set ``data[a][b][c] = value`` for ``a.b.c``; a behavior the file does not have is a ConfigError."""
    *sections, key = dotted.split(".")
    behaviors = data.get("behaviors") or {}
    if sections[:1] == ["behaviors"] and len(sections) > 1 and isinstance(behaviors, Mapping):
        name = sections[1]
        if name not in behaviors:
            suggestion = closest(name, [str(behavior) for behavior in behaviors])
            hint = f"did you mean '{suggestion}'?" if suggestion else "add it under behaviors: in the file"
            raise ConfigError(f"{where}: the config has no behavior '{name}', {hint}")
    target = data
    for depth, section in enumerate(sections):
        if not isinstance(target.get(section) or {}, Mapping):
            above = ".".join(sections[: depth + 1])
            raise ConfigError(f"{where}: {above} is {target[section]!r}, not a mapping of keys")
        target[section] = target = dict(target.get(section) or {})
    target[key] = value

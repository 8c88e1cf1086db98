"""The ``stats_writers:`` section: opt-in stats-writer plugins of a run, each with its options.

```yaml
stats_writers:
  wandb: {project: my-project, mode: offline}
  csv:
```

A name must be an installed ``rldojo.stats_writer`` plugin. A plugin's factory may carry an
``options_model`` attribute (a pydantic model class); the options are validated into it here, so a
typo is reported with the config's other errors, and stored back as plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from rldojo.settings.base import closest, error_path

STATS_PACKAGE_WRITERS = ("wandb", "csv", "jsonl")
"""Writers the rldojo-stats package provides, named in the error when it is not installed."""


def _installed_writers() -> tuple[dict[str, type[BaseModel] | None], dict[str, str]]:
    """Options model per installed writer, and the message of each broken writer plugin by its name."""
    from rldojo.plugins import stats_writer_registry

    registry = stats_writer_registry()
    installed = {
        name: getattr(entry.factory, "options_model", None) for name, entry in registry.entries.items()
    }
    broken = {plugin.source.name: plugin.message for plugin in registry.broken}
    return installed, {**broken, **registry.clashes}


def unknown_stats_writer_error(name: str, installed: list[str]) -> PydanticCustomError:
    listing = ", ".join(sorted(installed)) or "none"
    if name in STATS_PACKAGE_WRITERS:
        hint = "; it comes from the rldojo-stats package: pip install rldojo-stats"
    else:
        suggestion = closest(name, installed)
        hint = f"; did you mean '{suggestion}'?" if suggestion else "; see `rldojo plugins`"
    return PydanticCustomError(
        "unknown_stats_writer",
        "unknown stats writer '{name}' (installed stats writers: {listing}){hint}",
        {"name": name, "listing": listing, "hint": hint, "at": (name,)},
    )


def validate_stats_writers(value: Any) -> Any:
    """Check each writer name against the installed plugins and its options against its model."""
    if not value:
        return {}  # no plugin is loaded for a run that lists no writer
    if not isinstance(value, Mapping):
        return value  # the field's type reports it
    installed, broken = _installed_writers()
    validated: dict[str, dict[str, Any]] = {}
    for name, options in value.items():
        if name in broken:
            raise PydanticCustomError("broken_plugin", "{error}", {"error": broken[name], "at": (name,)})
        if name not in installed:
            raise unknown_stats_writer_error(str(name), list(installed))
        options = {} if options is None else options
        model = installed[name]
        if model is None:
            if options:
                raise PydanticCustomError(
                    "stats_writer_options",
                    "stats writer '{name}' takes no options",
                    {"name": name, "at": (name,)},
                )
            validated[name] = {}
            continue
        try:
            validated[name] = model.model_validate(options).model_dump(mode="json")
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            ctx = {**first.get("ctx", {}), "at": (name, *error_path(first))}
            raise PydanticCustomError(first["type"], first["msg"], ctx) from None
    return validated

"""Building blocks shared by every settings model: strict keys, YAML-friendly numbers, feature gates."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

# Error types raised by the validators below; `rldojo.settings.loading` formats NOT_SUPPORTED its own way.
UNKNOWN_KEY = "unknown_key"
NOT_SUPPORTED = "not_supported"


def closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice most similar to ``word`` (difflib, ignoring case), or None when nothing is close."""
    by_lower = {choice.lower(): choice for choice in choices}
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[matches[0]] if matches else None


def unknown_key_error(key: str, valid: Sequence[str], what: str = "key") -> PydanticCustomError:
    """An error for ``key`` that names the closest valid key (or all of them when none is close)."""
    suggestion = closest(key, valid)
    hint = f"did you mean '{suggestion}'?" if suggestion else "valid: " + ", ".join(sorted(valid))
    return PydanticCustomError(
        UNKNOWN_KEY, "unknown {what} '{key}', {hint}", {"what": what, "key": key, "hint": hint, "at": (key,)}
    )


def not_supported_error(feature: str, *at: str | int) -> PydanticCustomError:
    """An error for a valid ML-Agents feature that rldojo does not implement yet.

    ``at`` is the YAML path below the model (or field) being validated.
    """
    return PydanticCustomError(NOT_SUPPORTED, "not supported yet: {feature}", {"feature": feature, "at": at})


def is_folder_name(name: str) -> bool:
    """Whether ``name`` names one folder inside its parent (no separator, not ``.`` or ``..``)."""
    return name not in ("", ".", "..") and not any(char in name for char in "/\\\0") and name.isprintable()


def error_path(error: Any) -> tuple[str | int, ...]:
    """Full YAML path of one pydantic error (an ``ErrorDetails``): its location plus the ``at`` we add."""
    return (*error["loc"], *error.get("ctx", {}).get("at", ()))


class SettingsModel(BaseModel):
    """Base of all settings models: unknown keys are errors naming the closest valid key; finite numbers."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    raise unknown_key_error(str(key), list(cls.model_fields))
        return data


MAX_YAML_INT = 2**53
"""Largest int a setting may hold: beyond it floats such as ``1e300`` lose their meaning as counts."""


def _number_from_yaml(value: Any) -> Any:
    """Accept numbers PyYAML leaves as strings (``1.0e7``, ``5e5``), as ML-Agents does with ``float(v)``;
    refuse ``true``/``false`` and counts beyond :data:`MAX_YAML_INT`."""
    if isinstance(value, bool):
        raise PydanticCustomError(
            "bool_is_not_int", "must be a whole number, not {value}", {"value": str(value).lower()}
        )
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and abs(value) > MAX_YAML_INT:
        raise PydanticCustomError(
            "int_too_large", "{value} is too large; use a number of at most 2**53", {"value": f"{value:.3g}"}
        )
    return value


YamlInt = Annotated[int, BeforeValidator(_number_from_yaml)]
"""An int that may be written as ``5.0e5`` (which PyYAML reads as a string); never a bool."""

YamlFloat = float
"""A float; pydantic already parses the strings PyYAML leaves for ``3.0e-4``. Named for symmetry."""

"""``environment_parameters``: constants, samplers and curricula sent to the environment on reset."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rldojo.settings.base import SettingsModel, YamlFloat, YamlInt, unknown_key_error

SAMPLER_TYPES = ("constant", "uniform", "gaussian", "multirangeuniform")


class _Sampler(SettingsModel):
    """Written back to YAML in ML-Agents' ``{sampler_type, sampler_parameters}`` form."""

    @model_serializer(mode="wrap")
    def _nested_parameters(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        fields = handler(self)
        return {"sampler_type": fields.pop("sampler_type"), "sampler_parameters": fields}


class ConstantSettings(_Sampler):
    """A fixed value."""

    sampler_type: Literal["constant"] = "constant"
    seed: YamlInt = -1
    value: YamlFloat = 0.0


class UniformSettings(_Sampler):
    """A value drawn uniformly from ``[min_value, max_value]`` on each reset."""

    sampler_type: Literal["uniform"] = "uniform"
    seed: YamlInt = -1
    min_value: YamlFloat = 0.0
    max_value: YamlFloat = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> UniformSettings:
        if self.min_value > self.max_value:
            raise PydanticCustomError("range", "min_value must not be greater than max_value")
        return self


class GaussianSettings(_Sampler):
    """A value drawn from a normal distribution on each reset."""

    sampler_type: Literal["gaussian"] = "gaussian"
    seed: YamlInt = -1
    mean: YamlFloat = 1.0
    st_dev: YamlFloat = Field(default=1.0, ge=0.0)


class MultiRangeUniformSettings(_Sampler):
    """A value drawn uniformly from one of several ``[min, max]`` intervals on each reset."""

    sampler_type: Literal["multirangeuniform"] = "multirangeuniform"
    seed: YamlInt = -1
    intervals: list[tuple[YamlFloat, YamlFloat]] = Field(default_factory=lambda: [(0.0, 1.0)], min_length=1)

    @field_validator("intervals")
    @classmethod
    def _ordered(cls, intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for low, high in intervals:
            if low > high:
                raise PydanticCustomError(
                    "range", "interval [{low}, {high}] has min > max", {"low": low, "high": high}
                )
        return intervals


def _flatten_sampler(value: Any) -> Any:
    """Turn a YAML number or ``{sampler_type, sampler_parameters}`` into one sampler mapping."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return {"sampler_type": "constant", "value": value}
    if isinstance(value, dict) and "sampler_type" in value:
        for key in value:
            if key not in ("sampler_type", "sampler_parameters"):
                raise unknown_key_error(str(key), ["sampler_type", "sampler_parameters"])
        if not isinstance(value.get("sampler_parameters") or {}, Mapping):
            raise PydanticCustomError(
                "sampler_parameters", "sampler_parameters must be a mapping", {"at": ("sampler_parameters",)}
            )
        if value["sampler_type"] not in SAMPLER_TYPES:
            error = unknown_key_error(str(value["sampler_type"]), SAMPLER_TYPES, what="sampler_type")
            raise PydanticCustomError(error.type, error.message(), {"at": ("sampler_type",)})
        return {"sampler_type": value["sampler_type"], **(value.get("sampler_parameters") or {})}
    if not isinstance(value, (dict, _Sampler)):
        raise PydanticCustomError(
            "parameter_value",
            "must be a number or a sampler {sampler_type, sampler_parameters}",
        )
    return value


SamplerSettings = Annotated[
    Annotated[ConstantSettings, Tag("constant")]
    | Annotated[UniformSettings, Tag("uniform")]
    | Annotated[GaussianSettings, Tag("gaussian")]
    | Annotated[MultiRangeUniformSettings, Tag("multirangeuniform")],
    Discriminator(
        lambda value: (
            value.get("sampler_type") if isinstance(value, dict) else getattr(value, "sampler_type", None)
        )
    ),
]


class MeasureType(str, Enum):
    """What a lesson's completion threshold is compared with."""

    REWARD = "reward"
    PROGRESS = "progress"


class CompletionCriteria(SettingsModel):
    """When a curriculum moves on to its next lesson."""

    behavior: str
    measure: MeasureType = MeasureType.REWARD
    min_lesson_length: YamlInt = Field(default=0, ge=0)
    signal_smoothing: bool = True
    threshold: YamlFloat = 0.0
    require_reset: bool = False

    @model_validator(mode="after")
    def _progress_is_a_fraction(self) -> CompletionCriteria:
        if self.measure == MeasureType.PROGRESS and not 0.0 <= self.threshold <= 1.0:
            raise PydanticCustomError(
                "range", "threshold must be between 0 and 1 when measure is progress", {"at": ("threshold",)}
            )
        return self


class Lesson(SettingsModel):
    """One curriculum lesson: a value and (except for the last lesson) when it is complete."""

    name: str
    value: SamplerSettings
    completion_criteria: CompletionCriteria | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _sampler(cls, value: Any) -> Any:
        return _flatten_sampler(value)


class EnvironmentParameterSettings(SettingsModel):
    """One environment parameter; a constant or a sampler is a curriculum of one lesson."""

    curriculum: list[Lesson] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _as_curriculum(cls, value: Any) -> Any:
        if isinstance(value, dict) and "curriculum" in value:
            return value
        if isinstance(value, list):
            raise PydanticCustomError(
                "parameter_value",
                "must be a number, a sampler {sampler_type, sampler_parameters} or {curriculum: [lessons]}",
            )
        return {"curriculum": [{"name": "Lesson0", "value": value}]}

    @field_validator("curriculum")
    @classmethod
    def _lessons_end(cls, lessons: list[Lesson]) -> list[Lesson]:
        for index, lesson in enumerate(lessons[:-1]):
            if lesson.completion_criteria is None:
                raise PydanticCustomError(
                    "missing",
                    "lesson '{name}' needs completion_criteria (only the last lesson may omit it)",
                    {"name": lesson.name, "at": (index,)},
                )
        return lessons


def yaml_location(path: tuple[str | int, ...], data: Mapping[str, Any]) -> tuple[str | int, ...]:
    """Translate a validation path inside ``environment_parameters`` back to how the YAML spells it.

    A constant or a sampler written without ``curriculum:`` was validated as lesson 0 of a curriculum,
    and samplers are validated flat, so their fields sit under ``sampler_parameters``.
    """
    if path[:1] != ("environment_parameters",) or "value" not in path[2:]:
        return path
    written = (data.get("environment_parameters") or {}).get(path[1])
    if not (isinstance(written, Mapping) and "curriculum" in written):
        head, rest = path[:2], path[5:]
    else:
        split = path.index("value", 2) + 1
        head, rest = path[:split], path[split:]
        lesson = written["curriculum"][path[3]] if isinstance(path[3], int) else {}
        written = lesson.get("value") if isinstance(lesson, Mapping) else None
    if rest and rest[0] in SAMPLER_TYPES:
        return (*head, "sampler_parameters", *rest[1:]) if isinstance(written, Mapping) else head
    return (*head, *rest)

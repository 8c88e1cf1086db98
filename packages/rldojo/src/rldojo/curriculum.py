"""``EnvironmentParameterManager``: the current lesson of every environment parameter, and when it moves on.

A parameter's lesson completes when its ``completion_criteria`` hold for the named behavior:

* ``progress``: the behavior's trainer step / ``max_steps`` reached ``threshold``;
* ``reward``: the mean of the behavior's last ``min_lesson_length`` episode rewards (all of the lesson's
  episodes when it is 0) reached ``threshold``; with ``signal_smoothing`` that mean is smoothed at every
  check as ML-Agents does (``0.25 * previous + 0.75 * mean``);

and, for both, at least ``min_lesson_length`` episodes ended since the lesson began. The last lesson never
completes. Lesson numbers are kept as ``{<parameter>: {"lesson_num": n}}`` in ``training_status.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from rldojo.run_directory import TRAINING_STATUS_FILE, TrainingStatus
from rldojo.settings import CompletionCriteria, ConstantSettings, EnvironmentParameterSettings, MeasureType
from rldojo.settings.environment_parameters import SamplerSettings

__all__ = ["BehaviorProgress", "EnvironmentParameterManager", "LessonUpdate", "save_lessons", "saved_lessons"]

logger = logging.getLogger(__name__)

LESSON_KEY = "lesson_num"


@dataclass(frozen=True)
class BehaviorProgress:
    """What completion criteria look at for one behavior."""

    progress: float
    """Trainer step / ``max_steps``."""
    episode_rewards: Sequence[float]
    """Rewards of the episodes that ended since the current lessons began, oldest first."""


@dataclass(frozen=True)
class LessonUpdate:
    """The outcome of :meth:`EnvironmentParameterManager.update_lessons`."""

    changed: bool = False
    """Some parameter moved to its next lesson: its new value must reach the envs."""
    must_reset: bool = False
    """A completed lesson has ``require_reset``: the envs must be reset."""


@dataclass
class _Curriculum:
    settings: EnvironmentParameterSettings
    lesson: int
    smoothed_reward: float = 0.0

    @property
    def criteria(self) -> CompletionCriteria | None:
        """The current lesson's completion criteria (the last lesson has none)."""
        return self.settings.curriculum[self.lesson].completion_criteria

    def lesson_complete(
        self, criteria: CompletionCriteria, behaviors: Mapping[str, BehaviorProgress]
    ) -> bool:
        if criteria.behavior not in behaviors:
            return False
        behavior = behaviors[criteria.behavior]
        rewards = behavior.episode_rewards
        if len(rewards) < criteria.min_lesson_length:
            return False
        if criteria.measure == MeasureType.PROGRESS:
            return behavior.progress >= criteria.threshold
        if not rewards:
            return False
        window = criteria.min_lesson_length or len(rewards)
        measure = sum(islice(reversed(rewards), window)) / window
        if criteria.signal_smoothing:
            measure = self.smoothed_reward = 0.25 * self.smoothed_reward + 0.75 * measure
        return measure >= criteria.threshold


class EnvironmentParameterManager:
    """Tracks the lesson of every parameter in ``environment_parameters`` (a constant or a sampler is a
    curriculum of one lesson).

    Sampler seeds left at -1 become ``run_seed + k``, counting those lessons in the order they are written
    (as ML-Agents does). ``lessons`` gives the starting lesson per parameter (from :func:`saved_lessons`).
    """

    def __init__(
        self,
        parameters: Mapping[str, EnvironmentParameterSettings] | None,
        run_seed: int,
        lessons: Mapping[str, int] | None = None,
    ):
        lessons = lessons or {}
        self._values: dict[str, list[SamplerSettings]] = {}
        self._curricula: dict[str, _Curriculum] = {}
        offset = 0
        for name, settings in (parameters or {}).items():
            values = []
            for lesson in settings.curriculum:
                value = lesson.value
                if value.seed == -1:
                    value, offset = value.model_copy(update={"seed": run_seed + offset}), offset + 1
                values.append(value)
            self._values[name] = values
            curriculum = _Curriculum(settings, min(lessons.get(name, 0), len(settings.curriculum) - 1))
            self._curricula[name] = curriculum
            if curriculum.lesson > 0:
                lesson_name = settings.curriculum[curriculum.lesson].name
                logger.info("Parameter '%s' resumes in lesson %d '%s'", name, curriculum.lesson, lesson_name)
        self.curriculum_parameters = [
            name for name, c in self._curricula.items() if len(c.settings.curriculum) > 1
        ]
        """The parameters with more than one lesson."""

    def lesson_numbers(self) -> dict[str, int]:
        """The current lesson (0-based) of every parameter."""
        return {name: curriculum.lesson for name, curriculum in self._curricula.items()}

    def current_values(self) -> dict[str, SamplerSettings]:
        """The value or sampler (seed resolved) of every parameter's current lesson."""
        return {name: self._values[name][c.lesson] for name, c in self._curricula.items()}

    def minimum_reward_buffer_size(self, behavior: str) -> int:
        """How many episode rewards of ``behavior`` the completion criteria need to see."""
        return max(
            (
                lesson.completion_criteria.min_lesson_length
                for curriculum in self._curricula.values()
                for lesson in curriculum.settings.curriculum
                if lesson.completion_criteria is not None and lesson.completion_criteria.behavior == behavior
            ),
            default=0,
        )

    def update_lessons(self, behaviors: Mapping[str, BehaviorProgress]) -> LessonUpdate:
        """Move every parameter whose current lesson is complete on to its next lesson (one step per call)."""
        changed = must_reset = False
        for name, curriculum in self._curricula.items():
            criteria = curriculum.criteria
            if criteria is None or not curriculum.lesson_complete(criteria, behaviors):
                continue
            curriculum.lesson += 1
            changed, must_reset = True, must_reset or criteria.require_reset
            lesson = curriculum.settings.curriculum[curriculum.lesson]
            logger.info(
                "Parameter '%s' is now in lesson %d '%s' (value %s)",
                name,
                curriculum.lesson,
                lesson.name,
                _describe(self._values[name][curriculum.lesson]),
            )
        return LessonUpdate(changed, must_reset)


def _describe(value: SamplerSettings) -> str:
    if isinstance(value, ConstantSettings):
        return f"{value.value:g}"
    return f"{value.sampler_type} sampler {value.model_dump()['sampler_parameters']}"


def saved_lessons(run_logs_dir: Path) -> dict[str, int]:
    """The lesson numbers recorded in a run's ``training_status.json`` (empty when there are none)."""
    data = TrainingStatus(run_logs_dir / TRAINING_STATUS_FILE).data
    return {
        name: int(entry[LESSON_KEY])
        for name, entry in data.items()
        if isinstance(entry, dict) and LESSON_KEY in entry
    }


def save_lessons(run_logs_dir: Path, lessons: Mapping[str, int]) -> None:
    """Record ``lessons`` in the run's ``training_status.json``, keeping what else it holds."""
    if not lessons:
        return
    status = TrainingStatus(run_logs_dir / TRAINING_STATUS_FILE)
    for name, lesson in lessons.items():
        status.data.setdefault(name, {})[LESSON_KEY] = lesson
    status.save()

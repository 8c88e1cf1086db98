"""Curriculum lessons: completion criteria, seeds, training_status.json, and lessons in real training runs."""

from __future__ import annotations

import json
import logging
import os
import re
import signal

import numpy as np
import pytest
from mlagents_envs.base_env import ActionTuple

from rldojo.curriculum import BehaviorProgress, EnvironmentParameterManager, save_lessons, saved_lessons
from rldojo.envs import EnvLauncher, SubprocessEnvManager
from rldojo.errors import ConfigError
from rldojo.settings import ConstantSettings, EnvironmentParameterSettings, RunOptions, load_run_options

from .training_runs import CONFIGS, train

LESSON_STAT = "Environment/Lesson Number/step_penalty"


def curriculum(*criteria: dict, last_value: object = 3.0) -> EnvironmentParameterSettings:
    """Lessons valued 1.0, 2.0, ... with the given completion criteria, then a last lesson."""
    lessons = [
        {"name": f"L{index}", "value": float(index + 1), "completion_criteria": {"behavior": "B", **c}}
        for index, c in enumerate(criteria)
    ]
    lessons.append({"name": "last", "value": last_value})
    return EnvironmentParameterSettings.model_validate({"curriculum": lessons})


def progress(fraction: float = 0.0, rewards: tuple[float, ...] = ()) -> dict[str, BehaviorProgress]:
    return {"B": BehaviorProgress(fraction, rewards)}


@pytest.mark.smoke
def test_progress_lessons_advance_one_at_a_time_and_the_last_never_completes():
    manager = EnvironmentParameterManager(
        {
            "p": curriculum(
                {"measure": "progress", "threshold": 0.5}, {"measure": "progress", "threshold": 0.5}
            )
        },
        run_seed=0,
    )
    assert not manager.update_lessons(progress(0.49)).changed
    assert manager.update_lessons(progress(0.5)).changed
    assert manager.lesson_numbers() == {"p": 1}  # one lesson per check, though lesson 1 is complete too
    assert manager.current_values()["p"] == ConstantSettings(value=2.0, seed=1)
    assert manager.update_lessons(progress(1.0)).changed
    assert not manager.update_lessons(progress(1.0)).changed
    assert manager.lesson_numbers() == {"p": 2}
    assert not manager.update_lessons({}).changed  # the behavior has not appeared yet


@pytest.mark.smoke
def test_reward_is_smoothed_at_every_check_as_ml_agents_does():
    smoothed = EnvironmentParameterManager({"p": curriculum({"threshold": 0.8})}, run_seed=0)
    assert not smoothed.update_lessons(progress(rewards=(1.0,))).changed  # 0.25 * 0 + 0.75 * 1.0 = 0.75
    assert smoothed.update_lessons(progress(rewards=(1.0,))).changed  # 0.25 * 0.75 + 0.75 * 1.0 = 0.9375
    raw = EnvironmentParameterManager({"p": curriculum({"threshold": 0.8, "signal_smoothing": False})}, 0)
    assert not raw.update_lessons(progress(rewards=())).changed  # no episode yet
    assert raw.update_lessons(progress(rewards=(1.0,))).changed


@pytest.mark.smoke
def test_min_lesson_length_counts_episodes_and_sets_the_reward_window():
    criteria = {"threshold": 0.5, "min_lesson_length": 3, "signal_smoothing": False}
    manager = EnvironmentParameterManager({"p": curriculum(criteria)}, run_seed=0)
    assert not manager.update_lessons(progress(rewards=(1.0, 1.0))).changed  # only 2 episodes
    assert not manager.update_lessons(progress(rewards=(1.0, 1.0, 1.0, -10.0))).changed
    assert manager.update_lessons(progress(rewards=(-10.0, 1.0, 1.0, 1.0))).changed  # the last 3 count
    progress_criteria = {"measure": "progress", "threshold": 0.1, "min_lesson_length": 2}
    manager = EnvironmentParameterManager({"p": curriculum(progress_criteria)}, run_seed=0)
    assert not manager.update_lessons(progress(1.0, (0.0,))).changed
    assert manager.update_lessons(progress(1.0, (0.0, 0.0))).changed
    assert manager.minimum_reward_buffer_size("B") == 2 and manager.minimum_reward_buffer_size("other") == 0


@pytest.mark.smoke
def test_require_reset_of_the_completed_lesson_asks_for_an_env_reset():
    manager = EnvironmentParameterManager(
        {
            "p": curriculum({"measure": "progress", "threshold": 0.5, "require_reset": True}),
            "q": curriculum({"measure": "progress", "threshold": 0.2}),
        },
        run_seed=0,
    )
    first = manager.update_lessons(progress(0.3))
    assert (first.changed, first.must_reset) == (True, False)
    second = manager.update_lessons(progress(0.6))
    assert (second.changed, second.must_reset) == (True, True)
    assert manager.curriculum_parameters == ["p", "q"]


@pytest.mark.smoke
def test_unseeded_samplers_get_the_run_seed_plus_their_position():
    uniform = {"sampler_type": "uniform", "sampler_parameters": {"min_value": 1, "max_value": 2}}
    seeded = {"sampler_type": "gaussian", "sampler_parameters": {"mean": 1, "st_dev": 1, "seed": 77}}
    parameters = {
        "constant": EnvironmentParameterSettings.model_validate(4.0),
        "seeded": EnvironmentParameterSettings.model_validate(seeded),
        "lessons": curriculum({"measure": "progress", "threshold": 0.5}, last_value=uniform),
    }
    manager = EnvironmentParameterManager(parameters, run_seed=100, lessons={"lessons": 9})
    values = manager.current_values()
    assert manager.lesson_numbers() == {"constant": 0, "seeded": 0, "lessons": 1}  # 9 is past the last
    assert [values[name].seed for name in ("constant", "seeded", "lessons")] == [100, 77, 102]
    assert manager.curriculum_parameters == ["lessons"]


@pytest.mark.smoke
def test_lessons_are_kept_in_training_status_beside_the_checkpoints(tmp_path):
    status = tmp_path / "training_status.json"
    status.write_text(json.dumps({"Basic": {"checkpoints": [{"steps": 5}]}}))
    assert saved_lessons(tmp_path) == {}
    save_lessons(tmp_path, {"wall": 2, "gravity": 0})
    data = json.loads(status.read_text())
    assert data["Basic"] == {"checkpoints": [{"steps": 5}]}
    assert data["wall"] == {"lesson_num": 2}
    assert saved_lessons(tmp_path) == {"wall": 2, "gravity": 0}


def test_new_values_reach_every_worker_and_restarted_ones(tmp_path):
    options = RunOptions.model_validate(
        {"env_settings": {"env_path": "sim:3DBall", "seed": 1, "num_envs": 2}, "environment_parameters": {}}
    )
    manager = SubprocessEnvManager(EnvLauncher.from_options(options, 1, tmp_path), options.env_settings)
    try:
        manager.reset()
        manager.set_environment_parameters({"scale": ConstantSettings(value=3.0)})
        ball_heights = [step.steps["3DBall?team=0"][0].obs[0][:, 3] for step in manager.reset()]
        assert np.all(np.concatenate(ball_heights) == 1.5)  # half the ball's scale
        os.kill(manager._workers[0].process.pid, signal.SIGKILL)
        actions = ActionTuple(continuous=np.zeros((12, 2), np.float32))
        (restarted, _) = manager.step({w: {"3DBall?team=0": actions} for w in (0, 1)})
        assert restarted.restarted
        assert np.all(restarted.steps["3DBall?team=0"][0].obs[0][:, 3] == 1.5)
    finally:
        manager.close()


STEP_PENALTY = {  # Basic's per-step cost: 0 (returns 0.1 or 1.0), then 0.01, then 0.5 (returns <= -1.4)
    "curriculum": [
        {
            "name": "free",
            "value": 0.0,
            "completion_criteria": {"behavior": "Basic", "measure": "progress", "threshold": 0.25},
        },
        {
            "name": "cheap",
            "value": 0.01,
            "completion_criteria": {
                "behavior": "Basic",
                "measure": "reward",
                "threshold": -1.0,
                "min_lesson_length": 5,
                "require_reset": True,
            },
        },
        {"name": "costly", "value": 0.5},
    ]
}


def lesson_of_return(episode_return: float) -> int:
    """Which step_penalty an episode of Basic was played with, told from its return."""
    if min(abs(episode_return - free) for free in (0.0, 0.1, 1.0)) < 1e-5:
        return 0
    return 1 if episode_return >= -1.0 - 1e-5 else 2


def test_lessons_advance_in_training_and_survive_resume(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="rldojo.curriculum")
    settings = {
        "env_settings.seed": 2,
        "environment_parameters": {"step_penalty": STEP_PENALTY},
        "behaviors.Basic.max_steps": 1000,
        "behaviors.Basic.summary_freq": 100,
    }
    first = train(CONFIGS / "basic_ppo.yaml", tmp_path, "lessons", **settings)
    lessons = [summary.mean for summary in first.summaries[LESSON_STAT].values()]
    assert lessons[0] == 0 and lessons[-1] == 2 and lessons == sorted(lessons)
    played = [lesson_of_return(r) for _, r in first.episodes]  # the env received each lesson's value:
    assert {lesson_of_return(r) for step, r in first.episodes if step < 250} == {0}  # before progress 0.25
    assert 1 in played and played[-5:] == [2] * 5
    assert "Parameter 'step_penalty' is now in lesson 1 'cheap' (value 0.01)" in caplog.text
    status = json.loads((tmp_path / "lessons" / "run_logs" / "training_status.json").read_text())
    assert status["step_penalty"] == {"lesson_num": 2}

    resumed = train(
        CONFIGS / "basic_ppo.yaml",
        tmp_path,
        "lessons",
        **{**settings, "checkpoint_settings.resume": True, "behaviors.Basic.max_steps": 1300},
    )
    assert "Parameter 'step_penalty' resumes in lesson 2 'costly'" in caplog.text
    assert {s.mean for s in resumed.summaries[LESSON_STAT].values()} == {2}
    assert resumed.episodes and {lesson_of_return(r) for _, r in resumed.episodes} == {2}


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ("[1, 2]", "environment_parameters.mass: must be a number, a sampler {sampler_type, "
         "sampler_parameters} or {curriculum: [lessons]}"),
        ("{curriculum: [{name: A, value: [1]}]}", "environment_parameters.mass.curriculum[0].value: "
         "must be a number or a sampler {sampler_type, sampler_parameters}"),
    ],
)  # fmt: skip
def test_a_list_where_a_value_belongs_is_one_config_error(tmp_path, parameter, message):
    config = tmp_path / "config.yaml"
    config.write_text(f"behaviors: {{Basic: {{}}}}\nenvironment_parameters:\n  mass: {parameter}\n")
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{config}: {message}')}$"):
        load_run_options(config)

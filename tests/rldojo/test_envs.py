"""Env specs: registered schemes, build paths and the errors for specs that name nothing."""

from __future__ import annotations

import pytest

from rldojo.envs import InProcessEnvManager, create_env
from rldojo.envs.launcher import EnvLauncher
from rldojo.errors import ConfigError
from rldojo.settings import EngineSettings
from rldojo_sim.side_channels import EngineConfiguration

pytestmark = pytest.mark.smoke


def test_registered_scheme_builds_the_provider_env():
    manager = InProcessEnvManager(
        lambda worker, channels: create_env("sim:Basic", seed=1, side_channels=channels)
    )
    try:
        (step,) = manager.reset()
        assert step.worker_id == 0 and list(step.steps) == ["Basic?team=0"]
        assert len(step.steps["Basic?team=0"][0]) == 1
    finally:
        manager.close()


def test_engine_settings_reach_the_env_as_engine_configuration(tmp_path):
    settings = EngineSettings(width=32, height=24, quality_level=2, time_scale=7.0, target_frame_rate=30)
    launcher = EnvLauncher("sim:Basic", 1, settings, {}, tmp_path)
    env = launcher(worker_id=0)
    try:
        received = env.academy.side_channels.engine_configuration  # what the simulated player applied
        assert received == EngineConfiguration()  # nothing arrives before the first reset, as in Unity
        env.reset()
    finally:
        env.close()
    assert received == EngineConfiguration(
        width=32, height=24, quality_level=2, time_scale=7.0, target_frame_rate=30, capture_frame_rate=60
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nosuch:Basic", r"^unknown env scheme 'nosuch:' in 'nosuch:Basic' \(installed schemes: .*sim:.*\)"),
        ("builds/Missing/Missing.x86_64", r"^environment build not found: builds/Missing/Missing.x86_64 "),
        (None, r"^no environment given: pass --env"),
    ],
)
def test_specs_that_name_nothing_are_one_line_config_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        create_env(spec)

"""Env specs: registered schemes, build paths and the errors for specs that name nothing."""

from __future__ import annotations

import pytest

from rldojo.envs import InProcessEnvManager, create_env
from rldojo.envs.side_channels import engine_configuration_channel
from rldojo.errors import ConfigError
from rldojo.settings import EngineSettings

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


def test_engine_settings_reach_the_env_as_engine_configuration():
    channel = engine_configuration_channel(EngineSettings(time_scale=7.0, width=32))
    env = create_env("sim:Basic", side_channels=[channel])
    try:
        env.reset()  # queued engine configuration is delivered with the first reset; the env accepts it
    finally:
        env.close()


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

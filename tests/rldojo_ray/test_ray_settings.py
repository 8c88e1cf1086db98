"""The ``ray:`` section of a run config and ``--ray``: validated like the rest, one line per problem."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rldojo.commands.learn import add_parser, overrides_from
from rldojo.errors import ConfigError
from rldojo.settings import load_run_options

CONFIG = Path(__file__).parents[2] / "configs" / "ppo.yaml"

pytestmark = pytest.mark.smoke


def test_without_ray_settings_no_ray_is_used():
    assert load_run_options(CONFIG).ray.address is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"ray.num_runners": 0}, "num_runners"), ({"ray.adress": "auto"}, "address")],
)
def test_bad_ray_settings_are_one_line_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message) as raised:
        load_run_options(CONFIG, overrides)
    assert len(str(raised.value).splitlines()) == 1


@pytest.mark.parametrize(
    ("flags", "address"), [(["--ray"], "local"), (["--ray", "auto"], "auto"), ([], None)]
)
def test_the_ray_flag_sets_the_address_alone_local(flags, address):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["learn", str(CONFIG), *flags, "--num-runners", "3"])
    options = load_run_options(CONFIG, overrides_from(args))
    assert options.ray.address == address and options.ray.num_runners == 3


def test_acting_and_policy_lag_flags():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["learn", str(CONFIG), "--ray", "--ray-acting", "runner", "--policy-lag", "2"])
    options = load_run_options(CONFIG, overrides_from(args))
    assert (options.ray.acting, options.ray.policy_lag) == ("runner", 2)
    with pytest.raises(ConfigError, match=r"ray.acting: runner needs Ray: set ray.address too \(--ray"):
        load_run_options(CONFIG, {"ray.acting": "runner"})
    assert (load_run_options(CONFIG).ray.acting, load_run_options(CONFIG).ray.policy_lag) == ("learner", 0)


@pytest.mark.parametrize(
    ("overrides", "feature"),
    [
        ({"behaviors.3DBall.network_settings.memory": {"memory_size": 32}}, "network_settings.memory"),
        ({"behaviors.3DBall.self_play": {}}, "self-play"),
    ],
)
def test_runner_acting_refuses_what_it_cannot_serve_in_one_line(overrides, feature):
    message = f"ray.acting: runner does not serve {feature}.*use ray.acting: learner$"
    with pytest.raises(ConfigError, match=message) as raised:
        load_run_options(CONFIG, {**overrides, "ray.acting": "runner", "ray.address": "auto"})
    assert len(str(raised.value).splitlines()) == 1
    assert load_run_options(CONFIG, overrides).ray.acting == "learner"  # acting on the learner serves it

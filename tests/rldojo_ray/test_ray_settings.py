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

"""``rldojo learn CONFIG``: train with an ML-Agents YAML config and mlagents-learn's flags.

A flag overrides the YAML only when it is given; each flag is stored under the YAML path it sets
(``--seed`` -> ``env_settings.seed``), so the file and the command line merge in one place.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
from pathlib import Path
from typing import Any

from rldojo.errors import ConfigError
from rldojo.plugins import env_providers
from rldojo.run_directory import RunDirectory, as_yaml_data, build_manifest, config_differences
from rldojo.settings import RunOptions, load_run_options
from rldojo.settings.run import DEVICE_HELP, DEVICE_PATTERN

logger = logging.getLogger(__name__)

OVERRIDE = "override:"
"""Prefix of the argparse ``dest`` of flags that set a YAML path."""


def _device(value: str) -> str:
    if not re.fullmatch(DEVICE_PATTERN, value):
        raise argparse.ArgumentTypeError(f"invalid device '{value}' (use {DEVICE_HELP})")
    return value


def _setting(group: argparse._ArgumentGroup, *flags: str, path: str, **kwargs: Any) -> None:
    """A flag that sets YAML ``path`` when given (and leaves the file's value alone otherwise)."""
    if kwargs.get("action") != "store_true":
        kwargs.setdefault("metavar", path.rpartition(".")[2].upper())
    group.add_argument(*flags, dest=OVERRIDE + path, default=argparse.SUPPRESS, **kwargs)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "learn",
        help="train agents from an ML-Agents YAML config (mlagents-learn's flags)",
        description="Train agents from an ML-Agents YAML config. Flags override the config only when given.",
    )
    parser.add_argument("config", type=Path, metavar="CONFIG", help="ML-Agents-style YAML run configuration")
    env = parser.add_argument_group("environment")
    _setting(
        env,
        "--env",
        path="env_settings.env_path",
        metavar="SPEC",
        help="env spec: <scheme>:<name> of an installed provider (sim:3DBall, gym:CartPole-v1) "
        "or a path to a Unity build",
    )
    _setting(
        env, "--seed", path="env_settings.seed", type=int, help="random seed (-1: pick one and record it)"
    )
    _setting(env, "--num-envs", path="env_settings.num_envs", type=int, help="number of env workers")
    _setting(env, "--num-areas", path="env_settings.num_areas", type=int, help="training areas per env")
    _setting(
        env, "--base-port", path="env_settings.base_port", type=int, help="first gRPC port of Unity builds"
    )
    _setting(
        env,
        "--timeout-wait",
        path="env_settings.timeout_wait",
        type=int,
        help="seconds to wait for a Unity build to connect",
    )
    _setting(env, "--max-lifetime-restarts", path="env_settings.max_lifetime_restarts", type=int)
    _setting(env, "--restarts-rate-limit-n", path="env_settings.restarts_rate_limit_n", type=int)
    _setting(
        env, "--restarts-rate-limit-period-s", path="env_settings.restarts_rate_limit_period_s", type=int
    )
    _setting(
        env,
        "--env-args",
        path="env_settings.env_args",
        nargs=argparse.REMAINDER,
        metavar="ARG",
        help="arguments passed to the Unity build (must come last)",
    )
    checkpoints = parser.add_argument_group("run and checkpoints")
    _setting(
        checkpoints, "--run-id", path="checkpoint_settings.run_id", help="name of the run's results folder"
    )
    _setting(
        checkpoints,
        "--results-dir",
        path="checkpoint_settings.results_dir",
        help="folder holding run folders",
    )
    _setting(
        checkpoints,
        "--resume",
        path="checkpoint_settings.resume",
        action="store_true",
        help="continue the run from its last checkpoint",
    )
    _setting(
        checkpoints,
        "--force",
        path="checkpoint_settings.force",
        action="store_true",
        help="delete an existing run with this id and start over",
    )
    _setting(
        checkpoints,
        "--initialize-from",
        path="checkpoint_settings.initialize_from",
        metavar="RUN_ID",
        help="start a new run from the weights of another run in the results folder",
    )
    _setting(
        checkpoints,
        "--inference",
        path="checkpoint_settings.inference",
        action="store_true",
        help="run the policy without training",
    )
    _setting(
        checkpoints, "--load", path="checkpoint_settings.resume", action="store_true", help=argparse.SUPPRESS
    )
    parser.add_argument("--train", action="store_true", help=argparse.SUPPRESS)  # deprecated no-op
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="take the most likely action instead of sampling (all behaviors)",
    )
    engine = parser.add_argument_group("Unity engine")
    _setting(engine, "--width", path="engine_settings.width", type=int)
    _setting(engine, "--height", path="engine_settings.height", type=int)
    _setting(engine, "--quality-level", path="engine_settings.quality_level", type=int)
    _setting(engine, "--time-scale", path="engine_settings.time_scale", type=float)
    _setting(engine, "--target-frame-rate", path="engine_settings.target_frame_rate", type=int)
    _setting(engine, "--capture-frame-rate", path="engine_settings.capture_frame_rate", type=int)
    _setting(engine, "--no-graphics", path="engine_settings.no_graphics", action="store_true")
    _setting(engine, "--no-graphics-monitor", path="engine_settings.no_graphics_monitor", action="store_true")
    _setting(
        parser,
        "--device",
        "--torch-device",
        path="torch_settings.device",
        type=_device,
        help="auto (CUDA when present), cpu, cuda or cuda:<index>",
    )
    _setting(parser, "--debug", path="debug", action="store_true", help="show tracebacks and debug logs")
    flag_of_path = {
        action.dest.removeprefix(OVERRIDE): action.option_strings[0]
        for action in parser._actions
        if action.dest.startswith(OVERRIDE)
    }
    flag_of_path["checkpoint_settings.resume"] = "--resume"
    parser.set_defaults(command_function=run, flag_of_path=flag_of_path)


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """The YAML paths set by flags that were given, with their values."""
    return {
        dest.removeprefix(OVERRIDE): value for dest, value in vars(args).items() if dest.startswith(OVERRIDE)
    }


def env_build_path(spec: str | None) -> Path | None:
    """The Unity build an env spec names, or None for a provider scheme (``sim:3DBall``).

    A spec whose scheme no installed provider serves must be an existing build, else ConfigError.
    """
    if not spec:
        raise ConfigError(
            "no environment given: pass --env SPEC (e.g. sim:3DBall) or set env_settings.env_path"
        )
    scheme, colon, _ = spec.partition(":")
    providers = env_providers()
    if colon and scheme in providers:
        return None
    from mlagents_envs.env_utils import validate_environment_path

    launch = validate_environment_path(spec)
    if launch is None:
        schemes = ", ".join(f"{name}:" for name in sorted(providers)) or "none installed"
        raise ConfigError(
            f"--env '{spec}': no such Unity build, and not an env spec of an installed provider "
            f"({schemes}); see `rldojo plugins`"
        )
    return Path(launch)


def _resolve_seed(options: RunOptions, saved: dict[str, Any] | None) -> None:
    """Replace seed -1 by the seed of the run being resumed, or by a fresh random one (recorded)."""
    if options.env_settings.seed != -1:
        return
    saved_seed = ((saved or {}).get("env_settings") or {}).get("seed", -1)
    options.env_settings.seed = saved_seed if saved_seed != -1 else random.randrange(10000)


def run(args: argparse.Namespace) -> int:
    """Build the run options and results folder, then train."""
    options = load_run_options(args.config, overrides_from(args), args.flag_of_path)
    args.debug = options.debug  # `debug: true` in the YAML shows tracebacks too
    if options.debug:
        logging.getLogger().setLevel(logging.DEBUG)
    if args.train:
        logger.warning(
            "--train is deprecated and has no effect: rldojo learn trains unless --inference is given"
        )
    if args.deterministic:
        for settings in (options.default_settings, *options.behaviors.values()):
            if settings is not None:
                settings.network_settings.deterministic = True
    env_build = env_build_path(options.env_settings.env_path)
    device = options.torch_settings.resolve_device()
    run_dir = RunDirectory.prepare(options)
    saved = run_dir.saved_options() if run_dir.resume else None
    _resolve_seed(options, saved)
    if saved is not None:
        changes = config_differences(saved, as_yaml_data(options))
        print(f"Resuming run '{options.checkpoint_settings.run_id}'; changes since its last launch:")
        print("\n".join(f"  {line}" for line in changes) if changes else "  (none)")
    run_dir.write_configuration(options)
    run_dir.write_manifest(build_manifest(options, args.command_line, device, env_build))
    print(
        f"Run '{options.checkpoint_settings.run_id}' in {run_dir.path} (seed {options.env_settings.seed}, "
        f"device {device})"
    )
    from rldojo.training import run_training

    run_training(options, run_dir)
    return 0

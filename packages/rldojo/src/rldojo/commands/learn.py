"""``rldojo learn CONFIG``: train with an ML-Agents YAML config and mlagents-learn's flags.

A flag overrides the YAML only when it is given; each flag is stored under the YAML path it sets
(``--seed`` -> ``env_settings.seed``), so the file and the command line merge in one place.
``--set PATH=VALUE`` reaches any other YAML path (``behaviors.3DBall.max_steps=1000``).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
from pathlib import Path
from typing import Any

import yaml

from rldojo.envs.capacity import check_num_envs
from rldojo.envs.factory import check_env_spec
from rldojo.envs.selection import steps_in_process
from rldojo.errors import ConfigError
from rldojo.plugins import env_providers, uninstalled_plugins
from rldojo.run_directory import (
    MANIFEST_FILE,
    RunDirectory,
    as_yaml_data,
    build_manifest,
    config_differences,
    saved_steps,
)
from rldojo.run_lock import run_lock
from rldojo.settings import RunOptions, load_run_options, read_yaml
from rldojo.settings.run import DEVICE_HELP, DEVICE_PATTERN

logger = logging.getLogger(__name__)

OVERRIDE = "override:"
"""Prefix of the argparse ``dest`` of flags that set a YAML path."""


def _device(value: str) -> str:
    if not re.fullmatch(DEVICE_PATTERN, value):
        raise argparse.ArgumentTypeError(f"invalid device '{value}' (use {DEVICE_HELP})")
    return value


def _in_process(value: str) -> str | bool:
    choices: dict[str, str | bool] = {"auto": "auto", "true": True, "false": False}
    if value not in choices:
        raise argparse.ArgumentTypeError(f"invalid value '{value}' (use auto, true or false)")
    return choices[value]


def _setting(text: str) -> tuple[str, Any]:
    """``behaviors.3DBall.max_steps=1000`` -> (dotted YAML path, value parsed as YAML)."""
    path, equals, value = text.partition("=")
    if not equals or not path or any(not part for part in path.split(".")):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not PATH=VALUE (e.g. --set behaviors.3DBall.max_steps=1000)"
        )
    try:
        return path, yaml.safe_load(value)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"'{text}': the value is not valid YAML") from None


SWITCH: dict[str, Any] = {"action": "store_true"}

SETTING_FLAGS: dict[str, list[tuple[tuple[str, ...], str, dict[str, Any]]]] = {
    # group title: (flags, YAML path the flag sets, argparse options)
    "environment": [
        (("--env",), "env_settings.env_path", {"metavar": "SPEC", "help": "env spec: <scheme>:<name> of an "
         "installed provider (sim:3DBall, gym:CartPole-v1) or a path to a Unity build"}),
        (("--seed",), "env_settings.seed", {"type": int, "help": "random seed (-1: pick one and record it)"}),
        (("--num-envs",), "env_settings.num_envs", {"type": int, "help": "number of env workers"}),
        (("--num-areas",), "env_settings.num_areas", {"type": int, "help": "training areas per env"}),
        (("--base-port",), "env_settings.base_port", {"type": int, "help": "first gRPC port for builds"}),
        (("--timeout-wait",), "env_settings.timeout_wait",
         {"type": int, "help": "seconds an env may take to start (a Unity build to connect)"}),
        (("--step-timeout",), "env_settings.step_timeout",
         {"type": int, "help": "seconds a started env may take for one step before it is restarted"}),
        (("--in-process",), "env_settings.in_process", {"type": _in_process, "metavar": "auto|true|false",
         "help": "step the env in the trainer's process (true) or in worker processes (false); auto "
         "(default): in process for one sim: or gym: env"}),
        (("--max-lifetime-restarts",), "env_settings.max_lifetime_restarts", {"type": int}),
        (("--restarts-rate-limit-n",), "env_settings.restarts_rate_limit_n", {"type": int}),
        (("--restarts-rate-limit-period-s",), "env_settings.restarts_rate_limit_period_s", {"type": int}),
        (("--ray",), "ray.address", {"nargs": "?", "const": "local", "metavar": "ADDRESS",
         "help": "run the env workers as Ray actors (rldojo-ray): on a local Ray instance, or on the "
         "cluster at ADDRESS (auto: the one this machine belongs to)"}),
        (("--num-runners",), "ray.num_runners", {"type": int, "help": "env runners (Ray actors) with --ray"}),
        (("--ray-acting",), "ray.acting", {"choices": ["learner", "runner"],
         "help": "with --ray, who acts: the learner for every runner (default) or each runner itself"}),
        (("--policy-lag",), "ray.policy_lag", {"type": int,
         "help": "with --ray-acting runner: updates an on-policy trainer's pieces may lag (default 0)"}),
        (("--env-args",), "env_settings.env_args", {"nargs": argparse.REMAINDER, "metavar": "ARG",
         "help": "arguments passed to the Unity build (must come last)"}),
    ],
    "run and checkpoints": [
        (("--run-id",), "checkpoint_settings.run_id", {"help": "name of the run folder"}),
        (("--results-dir",), "checkpoint_settings.results_dir", {"help": "folder holding run folders"}),
        (("--resume",), "checkpoint_settings.resume", {**SWITCH, "help": "continue this run"}),
        (("--force",), "checkpoint_settings.force", {**SWITCH, "help": "delete an earlier run of this id"}),
        (("--initialize-from",), "checkpoint_settings.initialize_from",
         {"metavar": "RUN_ID", "help": "start a new run from the weights of another run"}),
        (("--inference",), "checkpoint_settings.inference", {**SWITCH, "help": "run without training"}),
        (("--load",), "checkpoint_settings.resume", {**SWITCH, "help": argparse.SUPPRESS}),  # old --resume
    ],
    "Unity engine": [
        (("--width",), "engine_settings.width", {"type": int}),
        (("--height",), "engine_settings.height", {"type": int}),
        (("--quality-level",), "engine_settings.quality_level", {"type": int}),
        (("--time-scale",), "engine_settings.time_scale", {"type": float}),
        (("--target-frame-rate",), "engine_settings.target_frame_rate", {"type": int}),
        (("--capture-frame-rate",), "engine_settings.capture_frame_rate", {"type": int}),
        (("--no-graphics",), "engine_settings.no_graphics", SWITCH),
        (("--no-graphics-monitor",), "engine_settings.no_graphics_monitor", SWITCH),
    ],
    "Weights & Biases (stats writer from rldojo-stats)": [
        (("--wandb-project",), "stats_writers.wandb.project", {"help": "log this run to W&B project"}),
        (("--wandb-entity",), "stats_writers.wandb.entity", {"help": "W&B user or team"}),
        (("--wandb-mode",), "stats_writers.wandb.mode",
         {"choices": ("online", "offline", "disabled"), "help": "online, offline or disabled"}),
        (("--wandb-tags",), "stats_writers.wandb.tags", {"nargs": "+", "metavar": "TAG"}),
    ],
    "torch and diagnostics": [
        (("--device", "--torch-device"), "torch_settings.device",
         {"type": _device, "help": f"{DEVICE_HELP} (auto: CUDA when present)"}),
        (("--debug",), "debug", {**SWITCH, "help": "show tracebacks and debug logs"}),
    ],
}  # fmt: skip
"""Flags of mlagents-learn that set a YAML value; given flags override the file, others leave it alone."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "learn",
        help="train agents from an ML-Agents YAML config (mlagents-learn's flags)",
        description="Train agents from an ML-Agents YAML config. Flags override the config only when given.",
    )
    parser.add_argument("config", type=Path, metavar="CONFIG", help="ML-Agents-style YAML run configuration")
    parser.add_argument(
        "--deterministic", action="store_true", help="take the most likely action (all behaviors)"
    )
    parser.add_argument("--train", action="store_true", help=argparse.SUPPRESS)  # deprecated no-op
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        type=_setting,
        default=[],
        metavar="PATH=VALUE",
        help="set any YAML key by its dotted path, value parsed as YAML; repeatable "
        "(--set behaviors.3DBall.max_steps=1000 --set behaviors.3DBall.hyperparameters.learning_rate=1e-4)",
    )
    flag_of_path: dict[str, str] = {}
    for title, flags in SETTING_FLAGS.items():
        group = parser.add_argument_group(title)
        for names, path, options in flags:
            if options.get("action") != "store_true":
                options = {"metavar": path.rpartition(".")[2].upper(), **options}
            group.add_argument(*names, dest=OVERRIDE + path, default=argparse.SUPPRESS, **options)
            flag_of_path.setdefault(path, names[0])
    parser.set_defaults(command_function=run, flag_of_path=flag_of_path)


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """The YAML paths set by flags that were given, with their values; ``--set`` comes last and wins."""
    overrides = {
        dest.removeprefix(OVERRIDE): value for dest, value in vars(args).items() if dest.startswith(OVERRIDE)
    }
    return {**overrides, **dict(args.settings)}


def flags_of(args: argparse.Namespace) -> dict[str, str]:
    """The flag to name in an error about each YAML path set on the command line."""
    return {**args.flag_of_path, **{path: f"--set {path}" for path, _ in args.settings}}


def env_build_path(spec: str | None) -> Path | None:
    """The Unity build an env spec names, or None for a provider scheme (``sim:3DBall``).

    A spec whose scheme no installed provider serves must be an existing build, else ConfigError.
    """
    if not spec:
        raise ConfigError(
            "no environment given: pass --env SPEC (e.g. sim:3DBall) or set env_settings.env_path"
        )
    scheme, colon, _ = spec.partition(":")
    if colon and scheme in env_providers():  # providers are loaded only for a spec that may name one
        return None
    from mlagents_envs.env_utils import validate_environment_path

    launch = validate_environment_path(spec)
    if launch is None:
        schemes = ", ".join(f"{name}:" for name in sorted(env_providers())) or "none installed"
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


def _uninstalled_plugins_of_resumed_run(config: Path, overrides: dict[str, Any]) -> list[str]:
    """What the manifest of the run that ``--resume`` names used and is no longer installed."""
    if not overrides.get("checkpoint_settings.resume"):
        return []
    try:
        saved = (read_yaml(config).get("checkpoint_settings") or {}) | {
            path.partition(".")[2]: value
            for path, value in overrides.items()
            if path.startswith("checkpoint_")
        }
        run_folder = Path(saved.get("results_dir", "results")) / saved.get("run_id", "ppo")
        manifest = json.loads((run_folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError, ConfigError, AttributeError, TypeError):
        return []
    return uninstalled_plugins(manifest)


NETWORK_SETTING = r"(behaviors\.[^.]+|default_settings)\.(trainer_type|network_settings\.(?!deterministic))"
"""Config lines that change the shape of the networks a checkpoint holds."""


def _check_resumable(options: RunOptions, run_dir: RunDirectory, saved: dict[str, Any]) -> None:
    """ConfigError, before any env starts, when resuming cannot train: every behavior already reached
    ``max_steps``, or a behavior's network (or trainer type) differs from the one its checkpoints hold."""
    steps = saved_steps(run_dir.run_logs_dir)
    if steps and all(step >= options.behavior_settings(name).max_steps for name, step in steps.items()):
        reached = ", ".join(f"{name} at step {step}" for name, step in sorted(steps.items()))
        raise ConfigError(
            f"--resume: run '{options.checkpoint_settings.run_id}' already reached max_steps ({reached}); "
            "raise max_steps in the config to train it further"
        )
    structural = [
        line for line in config_differences(saved, as_yaml_data(options)) if re.match(NETWORK_SETTING, line)
    ]
    if structural:
        raise ConfigError(
            f"--resume: the checkpoints of run '{options.checkpoint_settings.run_id}' hold another network "
            f"({'; '.join(structural)}); undo the change, or start a new run (another --run-id, or --force)"
        )


def check_demonstrations(options: RunOptions) -> None:
    """ConfigError, before anything is written, when a ``demo_path`` names no ``.demo`` file (whether they
    match the behavior is checked once its spec is known)."""
    from rldojo_unity.demonstrations import demonstration_paths

    for settings in (options.default_settings, *options.behaviors.values()):
        for path in settings.demo_paths() if settings is not None else ():
            demonstration_paths(path)


def run(args: argparse.Namespace) -> int:
    """Build the run options and results folder, then train."""
    overrides = overrides_from(args)
    try:
        options = load_run_options(args.config, overrides, flags_of(args))
    except ConfigError as error:
        hints = _uninstalled_plugins_of_resumed_run(args.config, overrides)
        if not hints:
            raise
        raise ConfigError(f"{str(error).splitlines()[0]}; {'; '.join(hints)}") from None
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
    if not options.behaviors and options.default_settings is None:
        raise ConfigError(
            f"{args.config}: sets up no behavior; add its settings under behaviors: <BehaviorName>: "
            "(or default_settings:)"
        )
    env_build = env_build_path(options.env_settings.env_path)
    check_env_spec(str(options.env_settings.env_path), options.env_settings.env_args or ())
    check_num_envs(options.env_settings.num_envs)
    steps_in_process(options.env_settings, options.ray)  # refuses in_process: true where it cannot be
    check_demonstrations(options)
    device = options.torch_settings.resolve_device()
    with run_lock(options.checkpoint_settings.write_path):
        run_dir = RunDirectory.prepare(options)
        saved = run_dir.saved_options() if run_dir.resume else None
        _resolve_seed(options, saved)
        if saved is not None:
            _check_resumable(options, run_dir, saved)
            changes = config_differences(saved, as_yaml_data(options))
            print(f"Resuming run '{options.checkpoint_settings.run_id}'; changes since its last launch:")
            print("\n".join(f"  {line}" for line in changes) if changes else "  (none)")
        run_dir.write_configuration(options)
        run_dir.write_manifest(build_manifest(options, args.command_line, device, env_build))
        print(
            f"Run '{options.checkpoint_settings.run_id}' in {run_dir.path} "
            f"(seed {options.env_settings.seed}, device {device})"
        )
        from rldojo.training_run import run_training

        run_training(options, run_dir)
    if not options.checkpoint_settings.inference:
        for model in sorted(run_dir.path.glob("*.onnx")):
            print(f"ONNX model: {model}")
    return 0

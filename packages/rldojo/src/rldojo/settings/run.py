"""Run-wide settings: the top-level sections of an ML-Agents YAML file besides ``behaviors``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from rldojo.errors import ConfigError
from rldojo.settings.base import SettingsModel, YamlFloat, YamlInt, is_folder_name
from rldojo.settings.environment_parameters import EnvironmentParameterSettings
from rldojo.settings.stats_writers import validate_stats_writers
from rldojo.settings.trainer import TrainerSettings

DEFAULT_BASE_PORT = 5005
"""mlagents-learn's ``--base-port`` default; for it the Unity bridge leases a free port from there on."""
DEVICE_PATTERN = r"auto|cpu|cuda(:\d+)?"
MAX_AREAS = 1024
"""Most training areas per env: each is a copy of the scene with its own agents."""
MAX_SEED = 2**32 - 1
"""The largest seed ``numpy.random.seed`` accepts (torch accepts more)."""
DEVICE_HELP = "auto, cpu, cuda or cuda:<index>"


def behavior_name_of(behavior_id: str) -> str:
    """The ``behavior_name`` (the YAML key, "3DBall") of a ``behavior_id``: the full name an environment
    gives the behavior of one team ("3DBall?team=0"). A ``behavior_name`` stays as it is."""
    return behavior_id.partition("?")[0]


class EnvironmentSettings(SettingsModel):
    """Which environment to run and how to launch and restart it."""

    env_path: str | None = None
    """An env spec: ``<scheme>:<name>`` for a registered provider (``sim:3DBall``) or a path to a build."""
    env_args: list[str] | None = None
    base_port: YamlInt = Field(default=DEFAULT_BASE_PORT, ge=1, le=65535)
    num_envs: YamlInt = Field(default=1, ge=1)
    num_areas: YamlInt = Field(default=1, ge=1, le=MAX_AREAS)
    timeout_wait: YamlInt = Field(default=60, gt=0)
    """Seconds an env may take to start (a Unity build to connect); a worker's first answer gets this long."""
    step_timeout: YamlInt = Field(default=60, gt=0)
    """Seconds a started env may take to answer one step before its worker is restarted."""
    seed: YamlInt = Field(default=-1, ge=-1, le=MAX_SEED)
    """-1 picks a seed; otherwise within the range numpy's and torch's seeding accept."""
    max_lifetime_restarts: YamlInt = Field(default=10, ge=-1)
    restarts_rate_limit_n: YamlInt = Field(default=1, ge=-1)
    restarts_rate_limit_period_s: YamlInt = Field(default=60, ge=-1)
    in_process: Literal["auto"] | bool = "auto"
    """Step the env in the trainer's process (``true``) or in a worker process (``false``); ``auto``: in
    process for one env (``num_envs: 1``) of a provider that can (``sim:``, ``gym:``), else workers. In
    process there is no crash isolation: an env that fails ends the run (checkpoints saved), no restart, no
    ``step_timeout``. A Unity build always runs in its own process."""

    @field_validator("in_process", mode="before")
    @classmethod
    def _in_process_choice(cls, value: Any) -> Any:
        if value != "auto" and not isinstance(value, bool):
            raise PydanticCustomError(
                "in_process", "must be auto, true or false, not {value}", {"value": value}
            )
        return value


class EngineSettings(SettingsModel):
    """Settings sent to the Unity engine through the EngineConfiguration side channel."""

    width: YamlInt = Field(default=84, gt=0)
    height: YamlInt = Field(default=84, gt=0)
    quality_level: YamlInt = Field(default=5, ge=0)
    time_scale: YamlFloat = Field(default=20.0, gt=0.0)
    target_frame_rate: YamlInt = -1
    capture_frame_rate: YamlInt = 60
    no_graphics: bool = False
    no_graphics_monitor: bool = False


class CheckpointSettings(SettingsModel):
    """Where results go and whether a run starts fresh, resumes or starts from another run."""

    run_id: str = "ppo"
    initialize_from: str | None = None
    load_model: bool = False
    resume: bool = False
    force: bool = False
    train_model: bool = False
    inference: bool = False
    results_dir: str = "results"

    @property
    def write_path(self) -> Path:
        """``<results_dir>/<run_id>``: the run's folder."""
        return Path(self.results_dir) / self.run_id

    @property
    def run_logs_dir(self) -> Path:
        """``<write_path>/run_logs``: timers, training status and player logs."""
        return self.write_path / "run_logs"

    @property
    def maybe_init_path(self) -> Path | None:
        """The run folder named by ``initialize_from``, under the same results folder."""
        return Path(self.results_dir) / self.initialize_from if self.initialize_from else None

    @field_validator("run_id", "initialize_from")
    @classmethod
    def _one_folder_name(cls, value: str | None) -> str | None:
        if value is not None:
            check_folder_name(value)
        return value

    @model_validator(mode="after")
    def _resume_or_initialize(self) -> CheckpointSettings:
        if self.load_model:  # ML-Agents' deprecated --load means --resume
            self.resume, self.load_model = True, False
        if self.resume and self.initialize_from is not None:
            raise PydanticCustomError(
                "resume_and_initialize",
                "--resume and --initialize-from cannot be used together: resume continues this run, "
                "initialize-from starts a new one from another run's weights",
            )
        if self.initialize_from == self.run_id:
            raise PydanticCustomError(
                "initialize_from_itself",
                "initialize_from names this run ('{run_id}'); use --resume to continue it",
                {"run_id": self.run_id, "at": ("initialize_from",)},
            )
        if self.resume and self.force:
            raise PydanticCustomError(
                "resume_and_force", "--resume and --force cannot be used together: --force deletes the run"
            )
        return self


def check_folder_name(name: str) -> None:
    """Raise a pydantic error unless ``name`` is one folder name inside the results folder."""
    if not is_folder_name(name):
        raise PydanticCustomError(
            "folder_name",
            "'{name}' is not a single folder name: leave out / and \\ and control characters, "
            "and do not use . or ..",
            {"name": name},
        )


class TorchSettings(SettingsModel):
    """Where the networks run: ``auto`` picks CUDA when present, else the CPU."""

    device: str = Field(default="auto", pattern=f"^({DEVICE_PATTERN})$")

    @field_validator("device", mode="before")
    @classmethod
    def _none_is_auto(cls, value: Any) -> Any:
        return "auto" if value is None else value

    def resolve_device(self) -> str:
        """The torch device string to use; raises ConfigError when CUDA is asked for but absent.

        Imports torch only where a GPU may be present (:func:`rldojo.torch_startup.cuda_available`).
        """
        from rldojo.torch_startup import cuda_available

        if self.device == "auto":
            return "cuda" if cuda_available() else "cpu"
        if self.device.startswith("cuda"):
            if not cuda_available():
                raise ConfigError(
                    f"device '{self.device}' was requested but CUDA is not available here; "
                    "use --device cpu or --device auto"
                )
            import torch

            index = int(self.device.partition(":")[2] or 0)
            if index >= torch.cuda.device_count():
                raise ConfigError(
                    f"device '{self.device}' does not exist: {torch.cuda.device_count()} CUDA device(s) found"
                )
        return self.device


class EvaluationSettings(SettingsModel):
    """Evaluation during training (RL Zoo's EvalCallback; ML-Agents has none): every ``interval`` trainer
    steps, ``episodes`` episodes per behavior in a separate environment, reported as ``Eval/*`` stats,
    the best policy kept as ``<Behavior>-best.pt`` / ``<Behavior>-best.onnx``."""

    interval: YamlInt = Field(default=10000, ge=1)
    """Trainer steps between evaluations (per behavior)."""
    episodes: YamlInt = Field(default=5, ge=1)
    """Finished episodes per behavior in each evaluation."""
    deterministic: bool = True
    """Take the most likely action (RL Zoo's default) rather than sampling."""
    seed: YamlInt = Field(default=-1, ge=-1)
    """Seed of the evaluation environment; -1: the run's seed + 10000, apart from the training workers'."""


class RaySettings(SettingsModel):
    """Env runners as Ray actors across a cluster (needs rldojo-ray); without ``address`` no Ray is used."""

    address: str | None = None
    """``local`` starts a Ray instance on this machine; ``auto`` or ``HOST:PORT`` joins a running cluster."""
    num_runners: YamlInt = Field(default=2, ge=1)
    """Env runners (Ray actors), each owning one env (``num_areas`` areas) on the node Ray places it on."""
    num_cpus_per_runner: YamlFloat = Field(default=1.0, gt=0.0)
    acting: Literal["learner", "runner"] = "learner"
    """Who chooses the actions: ``learner`` (one round trip per env step, every config) or ``runner`` (each
    runner acts with a CPU copy of the policy and sends ``time_horizon``-step trajectory pieces)."""
    policy_lag: YamlInt = Field(default=0, ge=0)
    """With ``acting: runner``: on-policy trainers drop pieces acted by a policy more than this many updates
    old (0: the learner waits for fresh pieces after each update); off-policy trainers take every piece."""

    @model_validator(mode="after")
    def _runners_need_ray(self) -> RaySettings:
        if self.acting == "runner" and self.address is None:
            raise PydanticCustomError(
                "runner_acting_without_ray",
                "runner needs Ray: set ray.address too (--ray [ADDRESS])",
                {"at": ("acting",)},
            )
        return self


def runner_acting_refusal(settings: TrainerSettings) -> str | None:
    """What of ``settings`` ``ray.acting: runner`` cannot serve yet (None: nothing); such runs act on the
    learner."""
    if settings.self_play is not None:
        return "self-play"
    if settings.network_settings.memory is not None:
        return "network_settings.memory (LSTM)"
    if settings.trainer_type == "poca" or settings.trainer_type.startswith("sb3_"):
        return f"trainer_type {settings.trainer_type}"
    return None


class RunOptions(SettingsModel):
    """Everything one ``rldojo learn`` run needs, as in an ML-Agents YAML file plus its CLI flags."""

    default_settings: TrainerSettings | None = None
    behaviors: dict[str, TrainerSettings] = Field(default_factory=dict)
    env_settings: EnvironmentSettings = Field(default_factory=EnvironmentSettings)
    engine_settings: EngineSettings = Field(default_factory=EngineSettings)
    environment_parameters: dict[str, EnvironmentParameterSettings] | None = None
    checkpoint_settings: CheckpointSettings = Field(default_factory=CheckpointSettings)
    torch_settings: TorchSettings = Field(default_factory=TorchSettings)
    debug: bool = False
    stats_writers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Opt-in stats-writer plugins (``wandb``, ``csv``, ``jsonl`` from rldojo-stats) and their options."""
    eval_settings: EvaluationSettings | None = None
    """Evaluation during training; left out: none."""
    ray: RaySettings = Field(default_factory=RaySettings)
    """Env runners as Ray actors (``--ray``, rldojo-ray)."""

    @field_validator("stats_writers", mode="before")
    @classmethod
    def _installed_stats_writers(cls, value: Any) -> Any:
        return validate_stats_writers(value)

    def behavior_settings(self, name: str) -> TrainerSettings:
        """Settings for a behavior reported by the environment; ``name`` may carry ``?team=N``.

        A behavior missing from ``behaviors`` gets ``default_settings``, as in ML-Agents.
        """
        name = behavior_name_of(name)
        if name in self.behaviors:
            return self.behaviors[name]
        if self.default_settings is not None:
            return self.default_settings.model_copy(deep=True)
        configured = ", ".join(sorted(self.behaviors)) or "none"
        raise ConfigError(
            f"the environment has a behavior '{name}' that the configuration does not set up "
            f"(configured: {configured}); add it under behaviors: or set default_settings"
        )

    @model_validator(mode="after")
    def _runner_acting_serves_the_behaviors(self) -> RunOptions:
        if self.ray.acting != "runner":
            return self
        named = dict(self.behaviors)
        if self.default_settings is not None:
            named["default_settings"] = self.default_settings
        for name, settings in named.items():
            refusal = runner_acting_refusal(settings)
            if refusal is not None:
                raise PydanticCustomError(
                    "runner_acting_refused",
                    "runner does not serve {feature} yet (behavior {name}); use ray.acting: learner",
                    {"feature": refusal, "name": name, "at": ("ray", "acting")},
                )
        return self

    @model_validator(mode="after")
    def _curriculum_behaviors_exist(self) -> RunOptions:
        for parameter, settings in (self.environment_parameters or {}).items():
            for index, lesson in enumerate(settings.curriculum):
                criteria = lesson.completion_criteria
                if criteria is not None and criteria.behavior not in self.behaviors:
                    if self.default_settings is not None:
                        continue
                    raise PydanticCustomError(
                        "unknown_behavior",
                        "completion_criteria names behavior '{behavior}', which is not under behaviors:",
                        {
                            "behavior": criteria.behavior,
                            "at": (
                                "environment_parameters",
                                parameter,
                                "curriculum",
                                index,
                                "completion_criteria",
                                "behavior",
                            ),
                        },
                    )
        return self

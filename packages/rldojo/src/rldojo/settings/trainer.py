"""Per-behavior settings (the entries under ``behaviors:`` and ``default_settings:``), ML-Agents names."""

from __future__ import annotations

from enum import Enum
from importlib import metadata
from typing import Any, ClassVar

from pydantic import Field, SerializeAsAny, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from rldojo.settings.base import (
    SettingsModel,
    YamlFloat,
    YamlInt,
    closest,
    error_path,
    not_supported_error,
    unknown_key_error,
)

TRAINER_TYPE_PREFIXES = {"sb3_": "rldojo-sb3"}
"""Trainer-type name prefixes and the distribution that provides them."""

PLANNED_REWARD_SIGNALS: tuple[str, ...] = ()
"""ML-Agents reward signals that rldojo means to ship but which are not installed yet."""

MEMORYLESS_TRAINER_TYPES = ("dqn", "sb3_")
"""Trainer types (``sb3_``: a prefix) that do not train an LSTM memory (``network_settings.memory``) yet."""


MAX_HIDDEN_UNITS = 4096
MAX_LAYERS = 16
"""Network size limits: beyond them a network no longer fits in the memory of a typical machine."""


class ScheduleType(str, Enum):
    """How a hyperparameter changes over ``max_steps``."""

    CONSTANT = "constant"
    LINEAR = "linear"


class EncoderType(str, Enum):
    """Visual observation encoder (``network_settings.vis_encode_type``)."""

    FULLY_CONNECTED = "fully_connected"
    MATCH3 = "match3"
    SIMPLE = "simple"
    NATURE_CNN = "nature_cnn"
    RESNET = "resnet"


class Activation(str, Enum):
    """Nonlinearity of the dense layers (``network_settings.activation``, an rldojo extension)."""

    SWISH = "swish"  # ML-Agents' only choice
    TANH = "tanh"  # SB3's and CleanRL's on-policy default
    RELU = "relu"  # SB3's DQN default


class ConditioningType(str, Enum):
    """How goal-signal observations condition the network."""

    HYPER = "hyper"
    NONE = "none"


class MemorySettings(SettingsModel):
    """Recurrent memory (LSTM) of a network."""

    sequence_length: YamlInt = Field(default=64, gt=0)
    memory_size: YamlInt = Field(default=128, gt=0, multiple_of=2)


class CriticSize(SettingsModel):
    """``network_settings.critic``: the value networks' own size (SB3's ``net_arch=dict(pi=..., vf=...)``)."""

    hidden_units: YamlInt | None = Field(default=None, gt=0, le=MAX_HIDDEN_UNITS)
    """None: the policy's ``hidden_units``."""
    num_layers: YamlInt | None = Field(default=None, gt=0, le=MAX_LAYERS)
    """None: the policy's ``num_layers``."""


class NetworkSettings(SettingsModel):
    """Shape of the policy and critic networks."""

    normalize: bool = False
    hidden_units: YamlInt = Field(default=128, gt=0, le=MAX_HIDDEN_UNITS)
    num_layers: YamlInt = Field(default=2, gt=0, le=MAX_LAYERS)
    activation: Activation = Activation.SWISH
    vis_encode_type: EncoderType = EncoderType.SIMPLE
    memory: MemorySettings | None = None
    goal_conditioning_type: ConditioningType = ConditioningType.HYPER
    deterministic: bool = False
    clip_obs: YamlFloat = Field(default=5.0, gt=0.0)
    """With ``normalize``: normalised observations are clipped to [-clip_obs, clip_obs] (ML-Agents: 5;
    SB3's VecNormalize: 10)."""
    critic: CriticSize | None = None
    """Size of the value networks (PPO/A2C critic, SAC Q and value networks) when it differs from the
    policy's; None: the same as the policy's."""
    ortho_init: bool = False
    """SB3's initialisation of the policy and critic (ppo, a2c): orthogonal weights with gain sqrt(2) in the
    body, 0.01 for the action outputs and 1 for the value heads, zero biases."""
    log_std_init: YamlFloat = 0.0
    """Initial log standard deviation of a Gaussian policy's continuous actions (ppo, a2c)."""

    def critic_settings(self) -> NetworkSettings:
        """These settings with the critic's own ``hidden_units`` and ``num_layers``, where given."""
        if self.critic is None:
            return self
        sizes = self.critic.model_dump(exclude_none=True)
        return self.model_copy(update={**sizes, "critic": None})


class RewardSignalSettings(SettingsModel):
    """What every reward signal has (``extrinsic``'s settings); a signal's own settings class extends it."""

    gamma: YamlFloat = Field(default=0.99, ge=0.0, le=1.0)
    strength: YamlFloat = 1.0
    network_settings: NetworkSettings = Field(default_factory=NetworkSettings)


def default_reward_signals() -> dict[str, RewardSignalSettings]:
    return {"extrinsic": RewardSignalSettings()}


class HyperparamSettings(SettingsModel):
    """Hyperparameters every trainer has; trainer types extend one of the two subclasses below."""

    batch_size: YamlInt = Field(default=1024, gt=0)
    buffer_size: YamlInt = Field(default=10240, gt=0)
    learning_rate: YamlFloat = Field(default=3.0e-4, gt=0.0)
    learning_rate_schedule: ScheduleType = ScheduleType.CONSTANT
    builds_actor_critic: ClassVar[bool] = True
    """Whether the trainer's networks are :class:`~rldojo.networks.Actor` and ``Critic`` (which take
    ``network_settings.ortho_init`` and ``log_std_init``)."""
    extrinsic_reward_only: ClassVar[str | None] = None
    """Set (to what to use instead) by trainer types that learn from the extrinsic reward alone: other
    ``reward_signals`` and ``behavioral_cloning`` are then config errors."""

    @model_validator(mode="after")
    def _batch_fits_buffer(self) -> HyperparamSettings:
        batch_size, buffer_size = self.batch_size, self.buffer_size
        if batch_size is not None and buffer_size is not None and batch_size > buffer_size:
            raise PydanticCustomError(
                "batch_larger_than_buffer",
                "batch_size {batch_size} is larger than buffer_size {buffer_size}; "
                "make batch_size at most buffer_size",
                {"batch_size": self.batch_size, "buffer_size": self.buffer_size, "at": ("batch_size",)},
            )
        return self


class AdvantageNormalization(str, Enum):
    """Over what on-policy advantages are normalised to mean 0 and std 1 before the loss."""

    BUFFER = "buffer"  # ML-Agents: the whole update buffer at once
    MINIBATCH = "minibatch"  # SB3's normalize_advantage=True: each minibatch on its own
    NONE = "none"  # SB3's normalize_advantage=False


class CoreHyperparamSettings(HyperparamSettings):
    """Hyperparameters of the bases of rldojo's own trainers (on- and off-policy) beyond ML-Agents' schema."""

    adam_eps: YamlFloat = Field(default=1.0e-8, gt=0.0)
    """Adam's epsilon (torch's and ML-Agents' 1e-8; SB3's PPO and A2C use 1e-5)."""
    norm_reward: bool = False
    """Divide rewards by the running standard deviation of the discounted return (``extrinsic``'s gamma),
    as SB3's VecNormalize does; episode returns are reported as received."""
    clip_reward: YamlFloat = Field(default=10.0, gt=0.0)
    """With ``norm_reward``: normalised rewards are clipped to [-clip_reward, clip_reward]."""


class OnPolicyHyperparamSettings(CoreHyperparamSettings):
    """Hyperparameters of on-policy trainers (PPO, A2C)."""

    num_epoch: YamlInt = Field(default=3, gt=0)
    lambd: YamlFloat = Field(default=0.95, ge=0.0, le=1.0)
    """GAE lambda: how far advantages look ahead before trusting the critic (1.0: Monte Carlo returns)."""
    advantage_normalization: AdvantageNormalization = AdvantageNormalization.BUFFER
    """``buffer`` (ML-Agents), ``minibatch`` (SB3's ``normalize_advantage: true``) or ``none``."""
    rollout_cuts: bool = False
    """SB3's rollouts: every ``time_horizon`` steps of an env worker all its agents' trajectories are cut
    together, and an update starts once the buffer holds ``buffer_size`` rows (RL Zoo's ``n_steps`` is
    ``time_horizon``, ``n_envs * n_steps`` is ``buffer_size``: each update sees exactly one rollout). Off
    (ML-Agents): an agent's trajectory is cut ``time_horizon`` steps after its own last cut, and an update
    starts once the buffer holds more than ``buffer_size`` rows."""


class TrainFrequencyUnit(str, Enum):
    """What ``train_freq`` counts."""

    STEP = "step"
    EPISODE = "episode"


class TrainFrequency(SettingsModel):
    """``train_freq``: a burst of ``gradient_steps`` updates every ``every`` steps or episodes. YAML may also
    give it as SB3 does: ``256`` (steps) or ``[1, episode]``."""

    every: YamlInt = Field(gt=0)
    unit: TrainFrequencyUnit = TrainFrequencyUnit.STEP

    @model_validator(mode="before")
    @classmethod
    def _sb3_forms(cls, data: Any) -> Any:
        if isinstance(data, int | str) and not isinstance(data, bool):
            return {"every": data}
        if isinstance(data, list | tuple) and len(data) == 2:
            return {"every": data[0], "unit": data[1]}
        if not isinstance(data, dict | TrainFrequency):
            raise PydanticCustomError(
                "train_freq_form",
                "train_freq is a number of steps (256), a pair ([1, episode]) or a mapping ({every: 1, unit: "
                "episode}), not {value}",
                {"value": str(data)},
            )
        return data


class OffPolicyHyperparamSettings(CoreHyperparamSettings):
    """Hyperparameters of off-policy trainers (SAC, DQN)."""

    batch_size: YamlInt = Field(default=128, gt=0)
    buffer_size: YamlInt = Field(default=50000, gt=0)
    buffer_init_steps: YamlInt = Field(default=0, ge=0)
    steps_per_update: YamlFloat = Field(default=1.0, gt=0.0)
    train_freq: TrainFrequency | None = None
    """SB3's update cadence, replacing ``steps_per_update`` when given: ``gradient_steps`` updates after
    every ``train_freq`` environment steps (over all agents) or episodes past ``buffer_init_steps``."""
    gradient_steps: YamlInt | None = Field(default=None, ge=-1)
    """Updates per ``train_freq`` period (default 1); -1: as many as environment steps in the period."""
    save_replay_buffer: bool = False
    reward_signal_steps_per_update: YamlFloat = Field(default=4.0, gt=0.0)

    @model_validator(mode="after")
    def _gradient_steps_need_train_freq(self) -> OffPolicyHyperparamSettings:
        if self.gradient_steps is not None and (self.train_freq is None or self.gradient_steps == 0):
            raise PydanticCustomError(
                "gradient_steps_without_train_freq",
                "gradient_steps {value} needs train_freq (the period it counts updates in) and must be -1 "
                "or at least 1",
                {"value": self.gradient_steps, "at": ("gradient_steps",)},
            )
        return self


class SelfPlaySettings(SettingsModel):
    """Self-play (ML-Agents' ghost trainer): the learning team plays past snapshots of the policy.

    Steps are the learning behavior's steps; ``swap_steps`` counts the opponents' steps. ``team_change``
    defaults to ``5 * save_steps`` as in ML-Agents.
    """

    save_steps: YamlInt = Field(default=20000, gt=0)
    team_change: YamlInt = Field(default=100000, gt=0)
    swap_steps: YamlInt = Field(default=2000, gt=0)
    window: YamlInt = Field(default=10, gt=0)
    play_against_latest_model_ratio: YamlFloat = Field(default=0.5, ge=0.0, le=1.0)
    initial_elo: YamlFloat = 1200.0

    @model_validator(mode="after")
    def _team_change_follows_save_steps(self) -> SelfPlaySettings:
        if "team_change" not in self.model_fields_set:
            self.team_change = 5 * self.save_steps
        return self


class BehavioralCloningSettings(SettingsModel):
    """Behavioral cloning: after each policy update, a supervised loss that pulls the policy towards the
    actions of ``demo_path`` (a ``.demo`` file or a folder of them), ML-Agents' semantics."""

    demo_path: str
    steps: YamlInt = Field(default=0, ge=0)
    """Steps over which ``strength`` anneals linearly to 0; 0 keeps it constant."""
    strength: YamlFloat = Field(default=1.0, ge=0.0)
    """Its learning rate relative to the trainer's ``learning_rate``."""
    samples_per_update: YamlInt = Field(default=0, ge=0)
    """Demonstration samples per epoch of one update at most; 0: the whole demonstration."""
    num_epoch: YamlInt | None = Field(default=None, gt=0)
    """Passes over the demonstration per update; default 3."""
    batch_size: YamlInt | None = Field(default=None, gt=0)
    """Demonstration samples per gradient step; default: the trainer's ``batch_size``."""


def _settings_class(name: str, info: ValidationInfo) -> type[HyperparamSettings]:
    """The hyperparameters class of trainer type ``name``: from the validation context, else its plugin.

    Only the plugin that provides ``name`` is loaded (see :func:`rldojo.plugins.trainer_type`).
    """
    if info.context and "trainer_settings" in info.context:
        installed: dict[str, type[HyperparamSettings]] = info.context["trainer_settings"]
        if name not in installed:
            raise unknown_trainer_type_error(name, list(installed))
        return installed[name]
    from rldojo import plugins

    try:
        entry = plugins.trainer_type(name)
    except plugins.PluginError as error:
        raise PydanticCustomError(
            "broken_plugin", "{error}", {"error": str(error), "at": ("trainer_type",)}
        ) from None
    if entry is None:
        registry = plugins.trainer_type_registry()
        raise unknown_trainer_type_error(name, list(registry.entries), registry.broken_hint())
    settings_class = entry.settings_class
    if not issubclass(settings_class, HyperparamSettings):
        raise PydanticCustomError(
            "broken_plugin",
            "plugin {source}: settings class for '{name}' must derive from "
            "rldojo.settings.OnPolicyHyperparamSettings or OffPolicyHyperparamSettings",
            {"source": str(entry.source), "name": name, "at": ("trainer_type",)},
        )
    return settings_class


def _reward_signal_settings_class(name: str) -> type[RewardSignalSettings]:
    """The settings class of reward signal ``name``, from the plugin that provides it (loaded now)."""
    from rldojo import plugins

    try:
        entry = plugins.reward_signal(name)
    except plugins.PluginError as error:
        raise PydanticCustomError("broken_plugin", "{error}", {"error": str(error), "at": (name,)}) from None
    if entry is None:
        if name in PLANNED_REWARD_SIGNALS:
            raise not_supported_error(f"reward signal {name}", name)
        registry = plugins.reward_signal_registry()
        unknown = unknown_key_error(name, [*registry.entries, *PLANNED_REWARD_SIGNALS], what="reward signal")
        if not registry.broken:
            raise unknown
        context = {"message": str(unknown), "hint": registry.broken_hint(), "at": (name,)}
        raise PydanticCustomError(unknown.type, "{message}{hint}", context)
    settings_class = entry.settings_class
    if not issubclass(settings_class, RewardSignalSettings):
        raise PydanticCustomError(
            "broken_plugin",
            "plugin {source}: settings class of reward signal '{name}' must derive from "
            "rldojo.settings.RewardSignalSettings",
            {"source": str(entry.source), "name": name, "at": (name,)},
        )
    return settings_class


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def unknown_trainer_type_error(name: str, installed: list[str], broken_hint: str = "") -> PydanticCustomError:
    """Error for a trainer type no installed plugin provides, naming the package that would.

    ``broken_hint`` names the trainer-type plugins that failed to load (one of them may provide ``name``).
    """
    listing = ", ".join(sorted(installed)) or "none"
    at = ("trainer_type",)
    for prefix, distribution in TRAINER_TYPE_PREFIXES.items():
        if name.startswith(prefix):
            state = "is installed but does not provide it" if _installed(distribution) else "is not installed"
            return PydanticCustomError(
                "trainer_type_not_installed",
                "trainer_type '{name}' comes from the {distribution} package, which {state} "
                "(installed trainer types: {listing})",
                {"name": name, "distribution": distribution, "state": state, "listing": listing, "at": at},
            )
    suggestion = closest(name, installed)
    hint = (f"; did you mean '{suggestion}'?" if suggestion else "") + broken_hint
    return PydanticCustomError(
        "unknown_trainer_type",
        "unknown trainer_type '{name}' (installed trainer types: {listing}; see `rldojo plugins`){hint}",
        {"name": name, "listing": listing, "hint": hint, "at": at},
    )


class TrainerSettings(SettingsModel):
    """Settings of one behavior. ``hyperparameters`` is validated into the trainer type's own class."""

    trainer_type: str = "ppo"
    hyperparameters: SerializeAsAny[HyperparamSettings] = Field(default_factory=HyperparamSettings)
    network_settings: NetworkSettings = Field(default_factory=NetworkSettings)
    reward_signals: dict[str, SerializeAsAny[RewardSignalSettings]] = Field(
        default_factory=default_reward_signals, min_length=1
    )
    init_path: str | None = None
    keep_checkpoints: YamlInt = Field(default=5, ge=1)
    even_checkpoints: bool = False
    checkpoint_interval: YamlInt = Field(default=500000, gt=0)
    max_steps: YamlInt = Field(default=500000, ge=0)
    time_horizon: YamlInt = Field(default=64, gt=0)
    summary_freq: YamlInt = Field(default=50000, gt=0)
    threaded: bool = False
    self_play: SelfPlaySettings | None = None
    behavioral_cloning: BehavioralCloningSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _trainer_hyperparameters(cls, data: Any, info: ValidationInfo) -> Any:
        """Resolve ``trainer_type`` against the installed plugins and build its hyperparameters class."""
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if key != "framework"}  # deprecated, ignored
        name = data.get("trainer_type", "ppo")
        if not isinstance(name, str):
            return data  # the field validator reports the type error
        settings_class = _settings_class(name, info)
        hyperparameters = data.get("hyperparameters") or {}
        if isinstance(hyperparameters, HyperparamSettings) and not isinstance(
            hyperparameters, settings_class
        ):
            raise PydanticCustomError(
                "hyperparameters_class",
                "trainer_type '{name}' takes {expected} hyperparameters, not {given}",
                {"name": name, "expected": settings_class.__name__, "given": type(hyperparameters).__name__,
                 "at": ("hyperparameters",)},
            )  # fmt: skip
        if isinstance(hyperparameters, dict):
            try:
                data["hyperparameters"] = settings_class.model_validate(hyperparameters, context=info.context)
            except ValidationError as error:
                first = error.errors()[0]
                ctx = {**first.get("ctx", {}), "at": ("hyperparameters", *error_path(first))}
                raise PydanticCustomError(first["type"], first["msg"], ctx) from None
        return data

    @field_validator("reward_signals", mode="before")
    @classmethod
    def _reward_signal_settings(cls, value: Any, info: ValidationInfo) -> Any:
        """Validate each signal's settings with the settings class of the plugin that provides it."""
        if not isinstance(value, dict):
            return value
        signals = {}
        for name, settings in value.items():
            settings_class = _reward_signal_settings_class(str(name))
            if isinstance(settings, RewardSignalSettings) and isinstance(settings, settings_class):
                signals[name] = settings
                continue
            try:
                signals[name] = settings_class.model_validate(settings or {}, context=info.context)
            except ValidationError as error:
                first = error.errors()[0]
                ctx = {**first.get("ctx", {}), "at": (name, *error_path(first))}
                raise PydanticCustomError(first["type"], first["msg"], ctx) from None
        return signals

    @field_validator("threaded")
    @classmethod
    def _threaded_is_built(cls, value: bool) -> bool:
        if value:
            raise not_supported_error("threaded trainers")
        return value

    def demo_paths(self) -> list[str]:
        """The demonstrations this behavior reads: behavioral cloning's and any reward signal's."""
        signals = [getattr(signal, "demo_path", None) for signal in self.reward_signals.values()]
        cloning = [self.behavioral_cloning.demo_path] if self.behavioral_cloning else []
        return cloning + [path for path in signals if path]

    @model_validator(mode="after")
    def _policy_initialisation_is_used(self) -> TrainerSettings:
        network = self.network_settings
        given = [key for key in ("ortho_init", "log_std_init") if getattr(network, key)]  # not off / 0.0
        if given and not self.hyperparameters.builds_actor_critic:
            raise PydanticCustomError(
                "policy_initialisation_unused",
                "network_settings.{key} sets up the policy and critic of ppo and a2c; trainer_type {name} "
                "does not use it, so remove it",
                {"key": given[0], "name": self.trainer_type, "at": ("network_settings", given[0])},
            )
        return self

    @model_validator(mode="after")
    def _reward_signals_are_used(self) -> TrainerSettings:
        instead = self.hyperparameters.extrinsic_reward_only
        unused = [name for name in self.reward_signals if name != "extrinsic"]
        at = ("reward_signals", unused[0]) if unused else ("behavioral_cloning",)
        if instead is not None and (unused or self.behavioral_cloning is not None):
            raise PydanticCustomError(
                "reward_signal_unused",
                "trainer_type {name} learns from the extrinsic reward alone and would ignore this; remove "
                "it or {instead}",
                {"name": self.trainer_type, "instead": instead, "at": at},
            )
        return self

    @model_validator(mode="after")
    def _memory_is_built(self) -> TrainerSettings:
        memory, trainer_type = self.network_settings.memory, self.trainer_type
        if memory is not None and trainer_type.startswith(MEMORYLESS_TRAINER_TYPES):
            feature = f"memory with trainer_type {trainer_type} (use ppo, a2c, sac or poca)"
            raise not_supported_error(feature, "network_settings", "memory")
        return self

    @model_validator(mode="after")
    def _checkpoints_evenly(self) -> TrainerSettings:
        if self.even_checkpoints:
            self.checkpoint_interval = max(1, self.max_steps // self.keep_checkpoints)
        return self

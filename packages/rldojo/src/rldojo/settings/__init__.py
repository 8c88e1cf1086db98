"""Run configuration: ML-Agents' YAML schema as pydantic models, with defaults in one place.

Load a file with :func:`load_run_options`; every problem becomes one :class:`~rldojo.errors.ConfigError`
line naming the YAML path.
"""

from rldojo.settings.base import YamlFloat, YamlInt
from rldojo.settings.environment_parameters import (
    CompletionCriteria,
    ConstantSettings,
    EnvironmentParameterSettings,
    GaussianSettings,
    Lesson,
    MeasureType,
    MultiRangeUniformSettings,
    UniformSettings,
)
from rldojo.settings.loading import load_run_options, read_yaml, run_options_from_dict
from rldojo.settings.run import (
    CheckpointSettings,
    EngineSettings,
    EnvironmentSettings,
    EvaluationSettings,
    RaySettings,
    RunOptions,
    TorchSettings,
)
from rldojo.settings.trainer import (
    Activation,
    AdvantageNormalization,
    BehavioralCloningSettings,
    ConditioningType,
    CoreHyperparamSettings,
    CriticSize,
    EncoderType,
    HyperparamSettings,
    MemorySettings,
    NetworkSettings,
    OffPolicyHyperparamSettings,
    OnPolicyHyperparamSettings,
    RewardSignalSettings,
    ScheduleType,
    SelfPlaySettings,
    TrainerSettings,
    TrainFrequency,
    TrainFrequencyUnit,
)

__all__ = [
    "Activation",
    "AdvantageNormalization",
    "BehavioralCloningSettings",
    "CheckpointSettings",
    "CompletionCriteria",
    "ConditioningType",
    "ConstantSettings",
    "CoreHyperparamSettings",
    "CriticSize",
    "EncoderType",
    "EngineSettings",
    "EnvironmentParameterSettings",
    "EnvironmentSettings",
    "EvaluationSettings",
    "GaussianSettings",
    "HyperparamSettings",
    "Lesson",
    "MeasureType",
    "MemorySettings",
    "MultiRangeUniformSettings",
    "NetworkSettings",
    "OffPolicyHyperparamSettings",
    "OnPolicyHyperparamSettings",
    "RaySettings",
    "RewardSignalSettings",
    "RunOptions",
    "ScheduleType",
    "SelfPlaySettings",
    "TorchSettings",
    "TrainFrequency",
    "TrainFrequencyUnit",
    "TrainerSettings",
    "UniformSettings",
    "YamlFloat",
    "YamlInt",
    "load_run_options",
    "read_yaml",
    "run_options_from_dict",
]

"""DQN hyperparameters: ML-Agents' DQN plugin names and defaults, plus the knobs DQN users expect."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from rldojo.settings import OffPolicyHyperparamSettings, ScheduleType, YamlFloat, YamlInt

__all__ = ["TRAINER_NAME", "DQNSettings", "get_type_and_setting"]

TRAINER_NAME = "dqn"


class DQNSettings(OffPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: dqn`` behavior.

    The discount is ``reward_signals.extrinsic.gamma``, as for every ML-Agents trainer.
    """

    builds_actor_critic: ClassVar[bool] = False

    exploration_schedule: ScheduleType = ScheduleType.LINEAR
    """How epsilon goes from ``exploration_initial_eps`` to ``exploration_final_eps``. Before
    ``buffer_init_steps`` every action is uniformly random (SB3's ``learning_starts``), whatever epsilon."""
    exploration_initial_eps: YamlFloat = Field(0.1, ge=0.0, le=1.0)
    """Probability of a random (allowed) action at step 0."""
    exploration_final_eps: YamlFloat = Field(0.05, ge=0.0, le=1.0)
    """Probability of a random action from ``exploration_steps`` on."""
    exploration_steps: YamlInt = Field(20000, gt=0)
    """Environment steps over which epsilon decays (ML-Agents hard-codes 20000)."""
    tau: YamlFloat = Field(0.005, gt=0.0, le=1.0)
    """Target network update: target <- tau * online + (1 - tau) * target; 1.0 is a hard copy."""
    target_update_interval: YamlInt | None = Field(None, gt=0)
    """Environment steps (over all agents) between target network updates, as SB3 counts them; none: after
    every gradient update (ML-Agents' DQN plugin reads no such key). Before rldojo counted environment steps
    here, it counted gradient updates: a config with ``steps_per_update`` other than 1 that sets it should
    multiply it by ``steps_per_update`` to keep its cadence."""
    double_dqn: bool = True
    """Pick the next action with the online network and value it with the target network."""
    max_grad_norm: YamlFloat = Field(10.0, gt=0.0)
    """Gradient clipping: the largest L2 norm of one update's gradient."""
    save_replay_buffer: bool = True
    """Keep the replay buffer in checkpoints so --resume does not restart from an empty buffer
    (ML-Agents' default is false)."""


def get_type_and_setting() -> tuple[dict[str, str], dict[str, type[DQNSettings]]]:
    """Registration function named by the core's ``rldojo.trainer_type`` entry point ``dqn``.

    The trainer class is given by its import path: it (and torch) load only when a trainer is built.
    """
    return {TRAINER_NAME: "rldojo.trainers.dqn.trainer:DQNTrainer"}, {TRAINER_NAME: DQNSettings}

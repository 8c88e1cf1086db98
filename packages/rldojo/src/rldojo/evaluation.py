"""Evaluation during training (``eval_settings``): the trainers' current policies in an environment of
their own, every ``interval`` trainer steps; the best policy of each behavior is kept.

Stats go to every writer as ``Eval/Cumulative Reward`` and ``Eval/Episode Length`` (one value per
episode, so a summary has their mean and std) with the behavior's next summary. The best policy so far
(highest mean evaluation return) is the checkpoint ``<behavior folder>/<Behavior>-best.pt`` and the model
``<run folder>/<Behavior>-best.onnx``. The evaluation env is created at the first evaluation with its own
seed, and reset before each evaluation, so its episodes never mix with training's; its random draws (sampled
actions) come from copies of the run's random streams, so evaluating does not change what a run learns.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from mlagents_envs.base_env import BaseEnv
from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

from rldojo.checkpoint import atomic_write
from rldojo.commands.evaluate import ActFunction, policy_act_function, run_episodes
from rldojo.envs import create_env
from rldojo.random_streams import training_streams_untouched
from rldojo.run_directory import RunDirectory, model_file
from rldojo.saving import save_trainer
from rldojo.settings import EvaluationSettings
from rldojo.settings.run import behavior_name_of
from rldojo.trainers import RLTrainer

__all__ = ["EVAL_LENGTH_KEY", "EVAL_REWARD_KEY", "EVAL_SEED_OFFSET", "Evaluator"]

logger = logging.getLogger(__name__)

SelfPlayState = Callable[[str], dict[str, Any] | None]

EVAL_REWARD_KEY = "Eval/Cumulative Reward"
EVAL_LENGTH_KEY = "Eval/Episode Length"
EVAL_SEED_OFFSET = 10000
"""The evaluation env's default seed is the run's seed plus this, apart from the training workers'."""


@contextlib.contextmanager
def _acting(trainers: Mapping[str, RLTrainer], deterministic: bool) -> Iterator[None]:
    """Every policy takes its most likely action (or samples) for the duration, then acts as before."""
    policies = [trainer.policy for trainer in trainers.values() if trainer.policy is not None]
    before = [policy.deterministic for policy in policies]
    for policy in policies:
        policy.deterministic = deterministic
    try:
        yield
    finally:
        for policy, previous in zip(policies, before, strict=True):
            policy.deterministic = previous


class Evaluator:
    """Runs ``settings.episodes`` evaluation episodes per behavior whenever a trainer passes its next
    multiple of ``settings.interval`` steps."""

    def __init__(self, settings: EvaluationSettings, env_spec: str, run_seed: int, run_dir: RunDirectory):
        self.settings = settings
        self.env_spec = env_spec
        self.seed = settings.seed if settings.seed != -1 else run_seed + EVAL_SEED_OFFSET
        self.run_dir = run_dir
        self.env: BaseEnv | None = None
        self.next_step: dict[str, int] = {}
        self.best: dict[str, float] = {}

    def _due(self, name: str, trainer: RLTrainer) -> bool:
        """Whether the trajectories waiting for ``trainer`` take it to its next evaluation step: evaluating
        before they are processed puts the stats in the summary written at that step."""
        if name not in self.next_step:
            self.next_step[name] = self._following(trainer.get_step)
        waiting = sum(len(trajectory) for trajectory in trainer.trajectory_queue)
        return trainer.get_step + waiting >= self.next_step[name]

    def _following(self, step: int) -> int:
        return (step // self.settings.interval + 1) * self.settings.interval

    def maybe_evaluate(
        self, trainers: Mapping[str, RLTrainer], self_play: SelfPlayState = lambda name: None
    ) -> None:
        """Evaluate if any trainer is due (call it before the trainers advance); every behavior of the env
        acts, the due ones are reported. ``self_play(name)`` is the self-play state a checkpoint of
        behavior ``name`` keeps (None without self-play)."""
        due = [name for name, trainer in trainers.items() if self._due(name, trainer)]
        if not due:
            return
        if self.env is None:
            channels = [
                StatsSideChannel()
            ]  # the env's custom stats are not evaluated; the channel takes them
            self.env = create_env(self.env_spec, seed=self.seed, side_channels=channels, no_graphics=True)
        self.env.reset()
        act_functions = self._act_functions(self.env, trainers)
        if act_functions is None:  # a behavior of the env has no policy yet: try at the next step
            return
        with _acting(trainers, self.settings.deterministic), training_streams_untouched():
            results = run_episodes(self.env, act_functions, self.settings.episodes)
        for name in due:
            trainer = trainers[name]
            returns, lengths = results[name]
            for episode_return, length in zip(returns, lengths, strict=True):
                trainer.stats_reporter.add_stat(EVAL_REWARD_KEY, episode_return)
                trainer.stats_reporter.add_stat(EVAL_LENGTH_KEY, length)
            mean_return = float(np.mean(returns))
            if mean_return > self.best.get(name, -np.inf):
                self.best[name] = mean_return
                self._keep_best(name, trainer, mean_return, self_play(name))
            self.next_step[name] = self._following(self.next_step[name])

    @staticmethod
    def _act_functions(env: BaseEnv, trainers: Mapping[str, RLTrainer]) -> dict[str, ActFunction] | None:
        functions: dict[str, ActFunction] = {}
        for behavior_id in env.behavior_specs:
            trainer = trainers.get(behavior_name_of(behavior_id))
            if trainer is None or trainer.policy is None:
                return None
            functions[behavior_id] = policy_act_function(trainer.get_policy(behavior_id))
        return functions

    def _keep_best(
        self, name: str, trainer: RLTrainer, mean_return: float, self_play: dict[str, Any] | None
    ) -> None:
        """Checkpoint the trainer now and copy that checkpoint and its model to the ``-best`` files."""
        checkpoint = save_trainer(self.run_dir, name, trainer, self_play=self_play)
        best_checkpoint = self.run_dir.best_checkpoint_file(name)
        _copy(checkpoint, best_checkpoint)
        model = model_file(checkpoint)
        if model.is_file():  # export is best effort: its failure is already reported
            _copy(model, self.run_dir.best_model_file(name))
        logger.info(
            "%s: best evaluation so far (mean return %.3f at step %d): %s",
            name,
            mean_return,
            trainer.get_step,
            best_checkpoint,
        )

    def close(self) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None


def _copy(source: Path, target: Path) -> None:
    data = source.read_bytes()
    atomic_write(target, lambda file: file.write(data))

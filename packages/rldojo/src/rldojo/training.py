"""``run_training``: one whole training run (env workers, one trainer per behavior, stats, checkpoints).

Ctrl-C and SIGTERM stop the loop at the next step; the state is then saved and
:class:`~rldojo.errors.TrainingInterrupted` raised (exit code 130).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import torch
from mlagents_envs import timers
from mlagents_envs.base_env import ActionTuple, BehaviorSpec, DecisionSteps
from mlagents_envs.exception import UnityException

from rldojo.agent_processor import AgentProcessor
from rldojo.checkpoint import LATEST_CHECKPOINT, atomic_write, load_latest_checkpoint
from rldojo.curriculum import BehaviorProgress, EnvironmentParameterManager, save_lessons, saved_lessons
from rldojo.envs import EnvironmentStep, EnvLauncher, EnvManager, create_env_manager
from rldojo.envs.batching import concatenate_decision_steps
from rldojo.errors import RldojoError, TrainingInterrupted
from rldojo.evaluation import Evaluator
from rldojo.networks import set_default_device
from rldojo.plugins import run_stats_writers, trainer_class
from rldojo.policy import ActionInfo
from rldojo.run_directory import RunDirectory
from rldojo.run_lock import run_lock
from rldojo.saving import save_trainer
from rldojo.self_play import SelfPlay
from rldojo.settings import RunOptions
from rldojo.stats import StatsReporter, StatsWriter
from rldojo.torch_startup import import_dynamo_in_background, keep_dynamo_unloaded
from rldojo.trainers import RLTrainer

__all__ = ["TrainerController", "run_training", "train_run"]

REWARD_BUFFER_CAPACITY = 100


def torch_threads() -> int:
    """Half the cores (at least one): the env worker and the trainer each keep a core busy."""
    return max(1, (os.cpu_count() or 1) // 2)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _action_rows(action_info: ActionInfo, rows: slice) -> ActionInfo:
    """The part of ``action_info`` that belongs to ``rows`` of its batch."""
    action = action_info.env_action
    return dataclasses.replace(
        action_info,
        env_action=ActionTuple(continuous=action.continuous[rows], discrete=action.discrete[rows]),
        continuous=action_info.continuous[rows],
        discrete=action_info.discrete[rows],
        log_probs=action_info.log_probs[rows],
        action_masks=action_info.action_masks[rows],
        entropy=action_info.entropy[rows],
        agent_ids=action_info.agent_ids[rows],
    )


@dataclass
class Interval:
    """A step count due every ``every`` steps; ``next_step`` is the next multiple of ``every``."""

    every: int
    next_step: int

    @classmethod
    def after(cls, step: int, every: int) -> Interval:
        return cls(every, step + every - step % every)

    def crossed(self, step: int, step_after: int) -> int | None:
        """The multiple passed when going from ``step`` to ``step_after`` (None if none, or at step 0);
        the interval then counts from ``step_after``."""
        if step_after < self.next_step:
            return None
        passed = self.next_step
        self.next_step = step_after + self.every - step_after % self.every
        return passed if step != 0 else None


@dataclass
class TrainerSchedule:
    """When a trainer's summaries and checkpoints are due: as in ML-Agents, when a trajectory crosses
    ``summary_freq`` / ``checkpoint_interval``, before its steps are counted."""

    summary: Interval
    checkpoint: Interval

    @classmethod
    def of(cls, trainer: RLTrainer[Any, Any]) -> TrainerSchedule:
        settings = trainer.trainer_settings
        return cls(
            Interval.after(trainer.get_step, settings.summary_freq),
            Interval.after(trainer.get_step, settings.checkpoint_interval),
        )


class StopRequest:
    """Turns the first SIGINT/SIGTERM into a flag the training loop polls; a second one aborts."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def __bool__(self) -> bool:
        return self.signal_name is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequest]:
        signals = (signal.SIGINT, signal.SIGTERM)
        try:
            previous = {signum: signal.signal(signum, self._handle) for signum in signals}
        except ValueError:  # not the main thread: leave signals alone
            yield self
            return
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


class TrainerController:
    """The loop: env steps -> agent processors -> batched actions; trainers advance while the env steps."""

    def __init__(
        self,
        options: RunOptions,
        run_dir: RunDirectory,
        env_manager: EnvManager,
        seed: int,
        parameters: EnvironmentParameterManager,
        stats_reporter: StatsReporter,
        evaluator: Evaluator | None = None,
    ):
        self.options = options
        self.stats_reporter = stats_reporter
        self.run_dir = run_dir
        self.env_manager = env_manager
        self.seed = seed
        self.parameters = parameters
        self.evaluator = evaluator
        self.training = not options.checkpoint_settings.inference
        self.trainers: dict[str, RLTrainer[Any, Any]] = {}
        self.schedules: dict[str, TrainerSchedule] = {}
        self.processors: dict[str, AgentProcessor] = {}
        self.self_play = SelfPlay()

    def _create_trainer(self, name: str) -> RLTrainer[Any, Any]:
        settings = self.options.behavior_settings(name)
        if self.run_dir.initialize_from is not None and settings.init_path is None:
            init_path = self.run_dir.initialize_from / name / LATEST_CHECKPOINT
            settings = settings.model_copy(update={"init_path": str(init_path)})
        return trainer_class(settings.trainer_type)(
            name,
            max(REWARD_BUFFER_CAPACITY, self.parameters.minimum_reward_buffer_size(name)),
            settings,
            self.training,
            self.run_dir.resume,
            self.seed,
            self.run_dir.behavior_dir(name),
            stats_reporter=self.stats_reporter.for_category(name),
        )

    def _add_behavior(self, behavior_id: str, spec: BehaviorSpec) -> AgentProcessor:
        """One trainer per behavior name; every ``?team=N`` of it shares that trainer's policy, or with
        ``self_play`` takes turns with the other teams to learn (see :mod:`rldojo.self_play`)."""
        name = behavior_id.partition("?")[0]
        if name not in self.trainers:
            trainer = self._create_trainer(name)
            trainer.add_policy(behavior_id, trainer.create_policy(behavior_id, spec))
            self.trainers[name] = trainer
            self.schedules[name] = TrainerSchedule.of(trainer)
        trainer = self.trainers[name]
        if trainer.trainer_settings.self_play is not None:
            self.self_play.add(behavior_id, trainer, spec, self._saved_self_play(name))
        processor = AgentProcessor(
            behavior_id,
            trainer.stats_reporter,
            trainer.trainer_settings.time_horizon,
            trainer.trajectory_queue.append,
        )
        self.processors[behavior_id] = processor
        return processor

    def _saved_self_play(self, name: str) -> dict[str, Any] | None:
        """The self-play state the checkpoint of ``name`` kept, when resuming."""
        if not self.run_dir.resume:
            return None
        state: dict[str, Any] | None = load_latest_checkpoint(self.run_dir.behavior_dir(name)).get(
            "self_play"
        )
        return state

    def _processor(self, behavior_id: str) -> AgentProcessor:
        return self.processors.get(behavior_id) or self._add_behavior(
            behavior_id, self.env_manager.behavior_specs[behavior_id]
        )

    def _act(self, env_steps: Sequence[EnvironmentStep]) -> dict[int, dict[str, ActionTuple]]:
        """Record every worker's steps, then choose actions for all agents awaiting a decision with one
        forward pass per behavior over all workers."""
        awaiting: dict[str, list[tuple[int, DecisionSteps]]] = {}
        for env_step in env_steps:
            if env_step.restarted:  # the worker's partial trajectories end with its old env
                for processor in self.processors.values():
                    processor.end_episodes(env_step.worker_id)
            stats_recorded = set()
            for behavior_id, (decision_steps, terminal_steps) in env_step.steps.items():
                processor = self._processor(behavior_id)
                processor.add_steps(decision_steps, terminal_steps, env_step.worker_id)
                self.self_play.record_games(behavior_id, terminal_steps)
                if processor.stats_reporter.category not in stats_recorded:  # once per trainer
                    processor.record_environment_stats(env_step.env_stats)
                    stats_recorded.add(processor.stats_reporter.category)
                if len(decision_steps) > 0:
                    awaiting.setdefault(behavior_id, []).append((env_step.worker_id, decision_steps))
        actions: dict[int, dict[str, ActionTuple]] = {}
        for behavior_id, worker_steps in awaiting.items():
            policy = self.self_play.policy(behavior_id, self.trainers[behavior_id.partition("?")[0]])
            action_info = policy.get_action(concatenate_decision_steps([steps for _, steps in worker_steps]))
            start = 0
            for worker_id, steps in worker_steps:
                worker_info = _action_rows(action_info, slice(start, start + len(steps)))
                start += len(steps)
                self.processors[behavior_id].add_actions(worker_info, worker_id)
                actions.setdefault(worker_id, {})[behavior_id] = worker_info.env_action
        return actions

    def _update_lessons(self, env_steps: list[EnvironmentStep]) -> list[EnvironmentStep]:
        """Report each curriculum's lesson and move on those whose lesson is complete: the new values go to
        the envs, which are reset (their episodes dropped) when a completed lesson has require_reset."""
        for name, lesson in self.parameters.lesson_numbers().items():
            if name in self.parameters.curriculum_parameters:
                for trainer in self.trainers.values():
                    trainer.stats_reporter.set_stat(f"Environment/Lesson Number/{name}", lesson)
        update = self.parameters.update_lessons(
            {
                name: BehaviorProgress(t.get_step / max(t.get_max_steps, 1), t.reward_buffer)
                for name, t in self.trainers.items()
            }
        )
        if not update.changed:
            return env_steps
        for trainer in self.trainers.values():  # the next lesson is judged on its own episodes
            trainer.reward_buffer.clear()
        save_lessons(self.run_dir.run_logs_dir, self.parameters.lesson_numbers())
        self.env_manager.set_environment_parameters(self.parameters.current_values())
        if not update.must_reset:
            return env_steps
        return [dataclasses.replace(step, restarted=True) for step in self.env_manager.reset()]

    def _finished(self) -> bool:
        return bool(self.trainers) and all(t.get_step >= t.get_max_steps for t in self.trainers.values())

    def run(self, stop: StopRequest) -> None:
        """Step until every trainer reached ``max_steps`` or a stop was requested."""
        with timers.hierarchical_timer("env_reset"):
            env_steps = self.env_manager.reset()
        while True:
            with timers.hierarchical_timer("act"):
                actions = self._act(env_steps)
            self.env_manager.start_step(actions)  # the workers step while the trainers advance
            if self.evaluator is not None:
                with timers.hierarchical_timer("evaluate"):
                    self.evaluator.maybe_evaluate(self.trainers, self.self_play.state)
            with timers.hierarchical_timer("trainer_advance"):
                for name, trainer in self.trainers.items():
                    self._advance(name, trainer)
            if self._finished() or stop:
                return
            with timers.hierarchical_timer("env_step"):
                env_steps = self.env_manager.finish_step()
            if self.parameters.curriculum_parameters:
                env_steps = self._update_lessons(env_steps)

    def _advance(self, name: str, trainer: RLTrainer[Any, Any]) -> None:
        """Hand the trainer its new trajectories, writing summaries and checkpoints as they fall due, then
        let it update its policy."""
        schedule = self.schedules[name]
        while trainer.trajectory_queue:
            trajectory = trainer.trajectory_queue.popleft()
            if not self.self_play.trains_on(trajectory):
                continue
            step, step_after = trainer.get_step, trainer.get_step + len(trajectory)
            summary_step = schedule.summary.crossed(step, step_after)
            if summary_step is not None:
                trainer.write_summary(summary_step)
            if schedule.checkpoint.crossed(step, step_after) is not None and self.training:
                save_trainer(self.run_dir, name, trainer, self_play=self.self_play.state(name))
            trainer.process_trajectory(trajectory)
        trainer.update_when_ready()
        self.self_play.advance(name)

    def save_models(self) -> None:
        """The final checkpoint and ONNX model of every trainer (when training)."""
        if self.training:
            for name, trainer in self.trainers.items():
                save_trainer(self.run_dir, name, trainer, final=True, self_play=self.self_play.state(name))


def _run_stats_reporter(options: RunOptions, extra_writers: Sequence[StatsWriter]) -> StatsReporter:
    """The run's reporter: the writers of every stats-writer plugin (each named by its plugin should it
    fail), then ``extra_writers``."""
    reporter = StatsReporter()
    for writer, source in run_stats_writers(options):
        reporter.add_writer(writer, f"plugin {source}")
    for writer in extra_writers:
        reporter.add_writer(writer)
    return reporter


def _evaluator(options: RunOptions, seed: int, run_dir: RunDirectory) -> Evaluator | None:
    """The evaluation of ``eval_settings``, when set and the run trains."""
    if options.eval_settings is None or options.checkpoint_settings.inference:
        return None
    return Evaluator(options.eval_settings, options.env_settings.env_path or "", seed, run_dir)


def _write_timers(path: Path) -> None:
    text = json.dumps(timers.get_timer_tree(), indent=4).encode()
    atomic_write(path, lambda file: file.write(text))


def train_run(options: RunOptions, writers: Sequence[StatsWriter] = ()) -> RunDirectory:
    """Lock and prepare the run folder of ``options``, write its configuration and :func:`run_training`, with
    ``writers`` added to the configured stats writers (for scripts and tests)."""
    with run_lock(options.checkpoint_settings.write_path):
        run_dir = RunDirectory.prepare(options)
        run_dir.write_configuration(options)
        run_training(options, run_dir, writers)
    return run_dir


def run_training(options: RunOptions, run_dir: RunDirectory, writers: Sequence[StatsWriter] = ()) -> None:
    """Train every behavior of ``options.env_settings.env_path`` into ``run_dir``, publishing stats to the
    configured stats writers and ``writers``.

    Raises TrainingInterrupted after saving when stopped by SIGINT/SIGTERM, RldojoError when the
    environment fails (checkpoints are still saved).
    """
    seed = options.env_settings.seed if options.env_settings.seed != -1 else random.randrange(10000)
    seed_everything(seed)
    torch.set_num_threads(torch_threads())
    keep_dynamo_unloaded()
    import_dynamo_in_background()
    set_default_device(options.torch_settings.resolve_device())
    run_dir.run_logs_dir.mkdir(parents=True, exist_ok=True)
    timers.reset_timers()
    reporter = _run_stats_reporter(options, writers)
    stop = StopRequest()
    try:
        with stop.installed():
            lessons = saved_lessons(run_dir.run_logs_dir) if run_dir.resume else {}
            parameters = EnvironmentParameterManager(options.environment_parameters, seed, lessons)
            save_lessons(run_dir.run_logs_dir, parameters.lesson_numbers())
            launcher = EnvLauncher.from_options(
                options, seed, run_dir.run_logs_dir, parameters.current_values()
            )
            env_manager = create_env_manager(launcher, options.env_settings, options.ray)
            evaluator = _evaluator(options, seed, run_dir)
            controller = TrainerController(
                options, run_dir, env_manager, seed, parameters, reporter, evaluator
            )
            try:
                controller.run(stop)
            except UnityException as error:
                raise RldojoError(f"the environment failed: {error}".splitlines()[0]) from error
            finally:
                try:
                    controller.save_models()
                finally:  # even when saving failed (a full disk): workers left running block the exit
                    env_manager.close()
                    if evaluator is not None:
                        evaluator.close()
    finally:
        try:
            _write_timers(run_dir.run_logs_dir / "timers.json")
        finally:
            reporter.close_writers()
    if stop:
        steps = ", ".join(f"{name} at step {t.get_step}" for name, t in controller.trainers.items())
        raise TrainingInterrupted(
            f"training stopped by {stop.signal_name} after saving ({steps or 'no steps taken'}); "
            "continue with --resume"
        )

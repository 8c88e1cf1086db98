"""``TrainerController``: the loop of a run (env steps -> agent processors -> trainers -> actions), and the
schedule of each trainer's summaries and checkpoints. :mod:`rldojo.training_run` starts and ends the run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlagents_envs import timers
from mlagents_envs.base_env import ActionTuple, BehaviorSpec, DecisionSteps

from rldojo.acting import choose_actions
from rldojo.agent_processor import AgentProcessor
from rldojo.checkpoint import load_latest_checkpoint
from rldojo.curriculum import BehaviorProgress, EnvironmentParameterManager, save_lessons
from rldojo.envs import EnvironmentStep, EnvManager
from rldojo.evaluation import Evaluator
from rldojo.plugins import trainer_class
from rldojo.run_directory import RunDirectory, latest_checkpoint_file
from rldojo.saving import save_trainer
from rldojo.self_play import SelfPlay
from rldojo.settings import OnPolicyHyperparamSettings, RunOptions
from rldojo.settings.run import behavior_name_of
from rldojo.stats import StatsReporter
from rldojo.trainers import RLTrainer
from rldojo.training_run import StopRequest, run_training, train_run
from rldojo.vector_agent_processor import VectorAgentProcessor

__all__ = ["TrainerController", "run_training", "train_run"]
"""``run_training`` and ``train_run`` live in the torch-free :mod:`rldojo.training_run`; scripts and tests
import them from here too."""

REWARD_BUFFER_CAPACITY = 100


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


class _LoopTimer:
    """``timers.hierarchical_timer(name)`` for a block the loop enters on every step, made once: the same
    entries in timers.json, without a generator-based context manager built per step."""

    __slots__ = ("name", "node", "stack", "started")

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> None:
        self.stack = timers._get_thread_timer()  # what hierarchical_timer uses
        self.node = self.stack.push(self.name)
        self.started = time.perf_counter()

    def __exit__(self, *exception: object) -> None:
        self.node.add_time(time.perf_counter() - self.started)
        self.stack.pop()


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
        self.vector_processors: dict[str, VectorAgentProcessor] = {}
        """Behaviors whose env reports its steps as arrays and that need nothing else (no memory, no
        self-play): their trajectories are built by the lean :class:`VectorAgentProcessor`."""
        self.self_play = SelfPlay()

    def _create_trainer(self, name: str) -> RLTrainer[Any, Any]:
        settings = self.options.behavior_settings(name)
        if self.run_dir.initialize_from is not None and settings.init_path is None:
            init_path = latest_checkpoint_file(self.run_dir.initialize_from / name)
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

    def _add_behavior(
        self, behavior_id: str, spec: BehaviorSpec, vector: bool
    ) -> AgentProcessor | VectorAgentProcessor:
        """One trainer per behavior name; every ``?team=N`` of it shares that trainer's policy, or with
        ``self_play`` takes turns with the other teams to learn (see :mod:`rldojo.self_play`). A behavior
        whose env reports ``vector`` steps gets a :class:`VectorAgentProcessor` when its policy has no
        memory and it plays no self-play."""
        name = behavior_name_of(behavior_id)
        trainer = self._trainer(behavior_id, spec)
        if trainer.trainer_settings.self_play is not None:
            self.self_play.add(behavior_id, trainer, spec, self._saved_self_play(name))
        settings = trainer.trainer_settings
        hp = settings.hyperparameters
        rollout_cuts = isinstance(hp, OnPolicyHyperparamSettings) and hp.rollout_cuts
        rollout_length = settings.time_horizon if rollout_cuts else None
        receiver = (
            behavior_id,
            trainer.stats_reporter,
            settings.time_horizon,
            trainer.trajectory_queue.append,
        )
        if vector and settings.self_play is None and not trainer.get_policy(behavior_id).memory_size:
            vector_processor = VectorAgentProcessor(*receiver, rollout_length=rollout_length)
            self.vector_processors[behavior_id] = vector_processor
            return vector_processor
        processor = AgentProcessor(
            *receiver,
            rollout_length=rollout_length,
            reports_policy=lambda: self.self_play.learns(behavior_id),  # ghosts' play is not the learner's
        )
        self.processors[behavior_id] = processor
        return processor

    def _trainer(self, behavior_id: str, spec: BehaviorSpec) -> RLTrainer[Any, Any]:
        """The trainer of ``behavior_id``'s behavior name, created with its policy on first use."""
        name = behavior_name_of(behavior_id)
        if name not in self.trainers:
            trainer = self._create_trainer(name)
            trainer.add_policy(behavior_id, trainer.create_policy(behavior_id, spec))
            self.trainers[name] = trainer
            self.schedules[name] = TrainerSchedule.of(trainer)
        return self.trainers[name]

    def _saved_self_play(self, name: str) -> dict[str, Any] | None:
        """The self-play state the checkpoint of ``name`` kept, when resuming."""
        if not self.run_dir.resume:
            return None
        state: dict[str, Any] | None = load_latest_checkpoint(self.run_dir.behavior_dir(name)).get(
            "self_play"
        )
        return state

    def _processor(self, behavior_id: str, vector: bool) -> AgentProcessor | VectorAgentProcessor:
        return (
            self.vector_processors.get(behavior_id)
            or self.processors.get(behavior_id)
            or self._add_behavior(behavior_id, self.env_manager.behavior_specs[behavior_id], vector)
        )

    def _act(self, env_steps: Sequence[EnvironmentStep]) -> dict[int, dict[str, ActionTuple]]:
        """Record every worker's steps, then choose actions for all agents awaiting a decision with one
        forward pass per behavior over all workers."""
        awaiting: dict[str, list[tuple[int, DecisionSteps]]] = {}
        awaiting_vector: dict[str, tuple[int, VectorAgentProcessor]] = {}
        processor: AgentProcessor | VectorAgentProcessor
        for env_step in env_steps:
            if env_step.restarted:  # the worker's partial trajectories end with its old env
                restarted: list[AgentProcessor | VectorAgentProcessor] = [
                    *self.processors.values(),
                    *self.vector_processors.values(),
                ]
                for processor in restarted:
                    processor.end_episodes(env_step.worker_id)
            stats_recorded = set()
            for behavior_id in env_step.steps:
                vector_steps = env_step.vector_steps.get(behavior_id)
                processor = self._processor(behavior_id, vector=vector_steps is not None)
                if isinstance(processor, VectorAgentProcessor):
                    assert vector_steps is not None, f"{behavior_id} stopped reporting vector steps"
                    processor.add_vector_steps(vector_steps, env_step.worker_id)
                    awaiting_vector[behavior_id] = (env_step.worker_id, processor)
                else:
                    decision_steps, terminal_steps = env_step.steps[behavior_id]
                    processor.add_steps(decision_steps, terminal_steps, env_step.worker_id)
                    self.self_play.record_games(behavior_id, terminal_steps)
                    if len(decision_steps) > 0:
                        awaiting.setdefault(behavior_id, []).append((env_step.worker_id, decision_steps))
                category = processor.stats_reporter.category
                if env_step.env_stats and category not in stats_recorded:  # once per trainer
                    processor.record_environment_stats(env_step.env_stats)
                    stats_recorded.add(category)
        actions: dict[int, dict[str, ActionTuple]] = {}
        for behavior_id, worker_steps in awaiting.items():
            policy = self.self_play.policy(behavior_id, self.trainers[behavior_name_of(behavior_id)])
            chosen = choose_actions(policy, self.processors[behavior_id], worker_steps)
            for worker_id, action in chosen.items():
                actions.setdefault(worker_id, {})[behavior_id] = action
        for behavior_id, (worker_id, vector_processor) in awaiting_vector.items():
            policy = self.self_play.policy(behavior_id, self.trainers[behavior_name_of(behavior_id)])
            actions.setdefault(worker_id, {})[behavior_id] = vector_processor.act(policy)
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

    def run(self, stop: StopRequest, env_steps: list[EnvironmentStep]) -> None:
        """Step from ``env_steps`` (of the envs' reset) until every trainer reached ``max_steps`` or a stop
        was requested."""
        timed = {name: _LoopTimer(name) for name in ("act", "evaluate", "trainer_advance", "env_step")}
        while True:
            with timed["act"]:
                actions = self._act(env_steps)
            self.env_manager.start_step(actions)  # the workers step while the trainers advance
            if self.evaluator is not None:
                with timed["evaluate"]:
                    self.evaluator.maybe_evaluate(self.trainers, self.self_play.state)
            with timed["trainer_advance"]:
                for name, trainer in self.trainers.items():
                    self._advance(name, trainer)
            if self._finished() or stop:
                return
            with timed["env_step"]:
                env_steps = self.env_manager.finish_step()
            if self.parameters.curriculum_parameters:
                env_steps = self._update_lessons(env_steps)

    def _advance(self, name: str, trainer: RLTrainer[Any, Any]) -> bool:
        """Hand the trainer its new trajectories, writing summaries and checkpoints as they fall due, then
        let it update its policy; whether the policy changed."""
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
        updated = trainer.update_when_ready()
        self.self_play.advance(name)
        return updated

    def save_models(self) -> None:
        """The final checkpoint and ONNX model of every trainer (when training)."""
        if self.training:
            for name, trainer in self.trainers.items():
                save_trainer(self.run_dir, name, trainer, final=True, self_play=self.self_play.state(name))

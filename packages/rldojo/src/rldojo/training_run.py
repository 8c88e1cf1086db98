"""``run_training``: one whole training run (env workers, one trainer per behavior, stats, checkpoints).

The environments start while torch imports in the background: the two longest steps of a run's start do
not wait for each other. This module imports no torch; :class:`rldojo.training.TrainerController`, which
does, is imported once the environments have reset and torch is in.

Ctrl-C and SIGTERM stop the loop at the next step; the state is then saved and
:class:`~rldojo.errors.TrainingInterrupted` raised (exit code 130).
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np
from mlagents_envs import timers
from mlagents_envs.exception import UnityException

from rldojo.curriculum import EnvironmentParameterManager, save_lessons, saved_lessons
from rldojo.envs import EnvLauncher, create_env_manager
from rldojo.errors import RldojoError, TrainingInterrupted
from rldojo.files import atomic_write
from rldojo.plugins import run_stats_writers
from rldojo.run_directory import RunDirectory
from rldojo.run_lock import run_lock
from rldojo.settings import RunOptions
from rldojo.stats import StatsReporter, StatsWriter
from rldojo.torch_startup import configure_torch, import_torch_in_background

if TYPE_CHECKING:
    from rldojo.evaluation import Evaluator
    from rldojo.trainers import RLTrainer
    from rldojo.training import TrainerController

__all__ = ["StopRequest", "run_training", "train_run"]


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
    from rldojo.evaluation import Evaluator

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
    random.seed(seed)
    np.random.seed(seed)
    device = options.torch_settings.resolve_device()
    torch_imported = import_torch_in_background("rldojo.training")
    run_dir.run_logs_dir.mkdir(parents=True, exist_ok=True)
    timers.reset_timers()
    reporter = _run_stats_reporter(options, writers)
    stop = StopRequest()
    try:
        with stop.installed():
            trainers = _start_and_train(options, run_dir, seed, device, reporter, stop, torch_imported)
    finally:
        try:
            _write_timers(run_dir.run_logs_dir / "timers.json")
        finally:
            reporter.close_writers()
    if stop:
        steps = ", ".join(f"{name} at step {t.get_step}" for name, t in trainers.items())
        raise TrainingInterrupted(
            f"training stopped by {stop.signal_name} after saving ({steps or 'no steps taken'}); "
            "continue with --resume"
        )


def _start_and_train(
    options: RunOptions,
    run_dir: RunDirectory,
    seed: int,
    device: str,
    reporter: StatsReporter,
    stop: StopRequest,
    torch_imported: Future[None],
) -> Mapping[str, RLTrainer[Any, Any]]:
    """Start and reset the envs (while torch imports), then train until done or stopped; returns the
    trainers. The final checkpoints are saved and the envs closed whatever happens."""
    lessons = saved_lessons(run_dir.run_logs_dir) if run_dir.resume else {}
    parameters = EnvironmentParameterManager(options.environment_parameters, seed, lessons)
    save_lessons(run_dir.run_logs_dir, parameters.lesson_numbers())
    launcher = EnvLauncher.from_options(options, seed, run_dir.run_logs_dir, parameters.current_values())
    env_manager = create_env_manager(launcher, options.env_settings, options.ray)
    controller: TrainerController | None = None
    evaluator: Evaluator | None = None
    try:
        with timers.hierarchical_timer("env_reset"):
            env_steps = env_manager.reset()
        torch_imported.result()
        from rldojo.runner_training import controller_class

        configure_torch(seed, device)
        evaluator = _evaluator(options, seed, run_dir)
        controller = controller_class(env_manager)(
            options, run_dir, env_manager, seed, parameters, reporter, evaluator
        )
        controller.run(stop, env_steps)
    except UnityException as error:
        raise RldojoError(f"the environment failed: {error}".splitlines()[0]) from error
    finally:
        try:
            if controller is not None:
                controller.save_models()
        finally:  # even when saving failed (a full disk): workers left running block the exit
            env_manager.close()
            if evaluator is not None:
                evaluator.close()
    return controller.trainers

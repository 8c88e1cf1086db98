"""``run_sweep``: an Optuna study over a sweep's search space; each trial's runs (one per seed) are ordinary
``rldojo learn`` runs, as local processes, stopped early when the pruner says so (with ``ray``: Ray Tune
trials, see :mod:`rldojo_ray.sweep.tune_trials`).
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from rldojo.errors import ConfigError
from rldojo.settings import load_run_options
from rldojo_ray.sweep.runs import RunSpec, checkpoint_rewards, run_process, trial_runs
from rldojo_ray.sweep.settings import EarlyStopping, Sampler, SweepSettings
from rldojo_ray.sweep.table import TrialResult, write_results

__all__ = ["run_sweep"]

logger = logging.getLogger(__name__)

POLL_S = 0.5  # how soon a stopped trial's runs hear of it
RunLauncher = Callable[[RunSpec], "concurrent.futures.Future[int]"]


def _create_study(settings: SweepSettings) -> optuna.Study:
    """A study whose sampler follows ``settings``; a grid is enqueued point by point, in order (Optuna's
    GridSampler stops the study itself, which only works inside ``study.optimize``)."""
    seed = settings.seeds[0]
    sampler: optuna.samplers.BaseSampler
    if settings.sampler == Sampler.TPE:
        sampler = optuna.samplers.TPESampler(seed=seed)
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=_pruner(settings))
    if settings.sampler == Sampler.GRID:
        for point in settings.grid_points():
            study.enqueue_trial(point)
    return study


def _pruner(settings: SweepSettings) -> optuna.pruners.BasePruner:
    if settings.early_stopping == EarlyStopping.MEDIAN:
        return optuna.pruners.MedianPruner(n_startup_trials=1)
    if settings.early_stopping == EarlyStopping.ASHA:
        # the first rung at the first checkpoint, so the first trial's rewards are there to compare against
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=settings.checkpoint_steps()[0])
    return optuna.pruners.NopPruner()


def _suggest(trial: optuna.Trial, settings: SweepSettings) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, space in settings.search_space.items():
        if space.values is not None:
            values[key] = trial.suggest_categorical(key, space.values)
        elif space.integer:
            values[key] = trial.suggest_int(key, int(space.low or 0), int(space.high or 0), log=space.log)
        else:
            values[key] = trial.suggest_float(
                key, float(space.low or 0), float(space.high or 0), log=space.log
            )
    return values


@dataclass
class _Trial:
    trial: optuna.Trial
    overrides: dict[str, Any]
    runs: list[RunSpec]
    futures: list[concurrent.futures.Future[int]] = field(default_factory=list)
    reported_steps: set[int] = field(default_factory=set)

    def report_progress(self) -> bool:
        """Report the mean reward of the seeds at each checkpoint step all of them passed; True to prune."""
        per_run = [checkpoint_rewards(run.run_dir) for run in self.runs]
        common = set.intersection(*(set(rewards) for rewards in per_run)) - self.reported_steps
        for step in sorted(common):
            self.trial.report(sum(rewards[step] for rewards in per_run) / len(per_run), step)
            self.reported_steps.add(step)
            if self.trial.should_prune():
                return True
        return False


_STATES = {
    "complete": optuna.trial.TrialState.COMPLETE,
    "pruned": optuna.trial.TrialState.PRUNED,
    "fail": optuna.trial.TrialState.FAIL,
}


def _run_trial(study: optuna.Study, settings: SweepSettings, launch: RunLauncher) -> TrialResult:
    trial = study.ask()
    overrides = _suggest(trial, settings)
    load_run_options(settings.base, {**settings.fixed, **overrides})  # a bad key fails before any run
    specs = trial_runs(settings, f"{trial.number:03d}", overrides)
    current = _Trial(trial, overrides, specs, [launch(spec) for spec in specs])
    pruned = False
    while not all(future.done() for future in current.futures):
        time.sleep(POLL_S)
        if not pruned and current.report_progress():
            pruned = True
            logger.info("trial %d stopped early (%s)", trial.number, settings.early_stopping.value)
            for spec in specs:
                spec.stop_file.touch()
    failed = any(future.result() != 0 for future in current.futures)
    result = TrialResult.of_runs(trial.number, overrides, specs, failed)
    study.tell(trial, result.reward if result.state == "complete" else None, state=_STATES[result.state])
    return result


def _tune_sweep(settings: SweepSettings) -> list[TrialResult]:
    try:
        from rldojo_ray.sweep.tune_trials import run_tune_sweep
    except ImportError:
        raise ConfigError(
            "ray: a sweep on Ray runs Ray Tune trials, which need: pip install 'rldojo-ray[tune]'"
        ) from None
    from rldojo_ray.cluster import connect

    connected_here = connect(settings.ray or "")
    try:
        return list(run_tune_sweep(settings))
    finally:
        if connected_here:
            import ray

            ray.shutdown()


def run_sweep(settings: SweepSettings) -> list[TrialResult]:
    """Run up to ``trial_budget`` trials (as Ray Tune trials with ``ray``), writing the results table (best
    first) after each; the results."""
    settings.sweep_dir.mkdir(parents=True, exist_ok=True)
    if settings.ray:
        return _tune_sweep(settings)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = _create_study(settings)
    results: list[TrialResult] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(settings.seeds)) as executor:
        for _ in range(settings.trial_budget):
            results.append(_run_trial(study, settings, lambda spec: executor.submit(run_process, spec)))
            write_results(settings.sweep_dir, results)
            logger.info("trial %d: %s", results[-1].number, results[-1].state)
    return results

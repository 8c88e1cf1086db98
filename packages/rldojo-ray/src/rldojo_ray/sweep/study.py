"""``run_sweep``: an Optuna study over a sweep's search space; each trial's runs (one per seed) are ordinary
``rldojo learn`` runs, as local processes or as Ray tasks on a cluster, stopped early when the pruner says so.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from rldojo.settings import load_run_options
from rldojo_ray.sweep.runs import RunSpec, checkpoint_rewards, final_reward, run_process
from rldojo_ray.sweep.settings import EarlyStopping, Sampler, SweepSettings
from rldojo_ray.sweep.table import TrialResult, write_results

__all__ = ["run_sweep"]

logger = logging.getLogger(__name__)

POLL_S = 2.0
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
        keys = list(settings.search_space)
        for point in itertools.product(*(settings.search_space[key].values or () for key in keys)):
            study.enqueue_trial(dict(zip(keys, point, strict=True)))
    return study


def _pruner(settings: SweepSettings) -> optuna.pruners.BasePruner:
    if settings.early_stopping == EarlyStopping.MEDIAN:
        return optuna.pruners.MedianPruner(n_startup_trials=1)
    if settings.early_stopping == EarlyStopping.ASHA:
        return optuna.pruners.SuccessiveHalvingPruner()
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


def _run_trial(study: optuna.Study, settings: SweepSettings, launch: RunLauncher) -> TrialResult:
    trial = study.ask()
    overrides = _suggest(trial, settings)
    run_overrides = {**settings.fixed, **overrides}
    load_run_options(settings.base, run_overrides)  # a key the base config cannot take fails before any run
    runs_dir = settings.sweep_dir.resolve() / "runs"
    specs = [
        RunSpec(settings.base, run_overrides, seed, runs_dir, f"trial-{trial.number:03d}-seed-{seed}")
        for seed in settings.seeds
    ]
    current = _Trial(trial, overrides, specs, [launch(spec) for spec in specs])
    pruned = False
    while not all(future.done() for future in current.futures):
        time.sleep(POLL_S)
        if not pruned and current.report_progress():
            pruned = True
            logger.info("trial %d stopped early (%s)", trial.number, settings.early_stopping.value)
            for spec in specs:
                spec.stop_file.touch()
    exit_codes = [future.result() for future in current.futures]
    rewards = [final_reward(spec.run_dir) for spec in specs]
    if pruned:
        state = optuna.trial.TrialState.PRUNED
    elif any(code != 0 for code in exit_codes) or None in rewards:
        state = optuna.trial.TrialState.FAIL
    else:
        state = optuna.trial.TrialState.COMPLETE
    value = sum(r for r in rewards if r is not None) / len(rewards) if None not in rewards else None
    study.tell(trial, value if state == optuna.trial.TrialState.COMPLETE else None, state=state)
    return TrialResult(trial.number, overrides, state.name.lower(), value, rewards, [s.run_id for s in specs])


def _local_launcher(executor: concurrent.futures.Executor) -> RunLauncher:
    return lambda spec: executor.submit(run_process, spec)


def _ray_launcher() -> RunLauncher:
    import ray

    remote_run = ray.remote(num_cpus=1)(run_process)
    return lambda spec: remote_run.remote(spec).future()


def run_sweep(settings: SweepSettings) -> list[TrialResult]:
    """Run up to ``trial_budget`` trials, then write the results table (best first); the results."""
    settings.sweep_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = _create_study(settings)
    results: list[TrialResult] = []
    connected_here = False
    if settings.ray:
        from rldojo_ray.cluster import connect

        connected_here = connect(settings.ray)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(settings.seeds)) as executor:
            launch = _ray_launcher() if settings.ray else _local_launcher(executor)
            for _ in range(settings.trial_budget):
                results.append(_run_trial(study, settings, launch))
                write_results(settings.sweep_dir, results)
                logger.info("trial %d: %s", results[-1].number, results[-1].state)
    finally:
        if connected_here:
            import ray

            ray.shutdown()
    return results

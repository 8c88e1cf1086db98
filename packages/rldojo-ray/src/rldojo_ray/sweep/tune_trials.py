"""``rldojo sweep --ray``: the sweep as Ray Tune trials on a cluster. Each trial is a Tune trainable that runs
the trial's ordinary rldojo runs (one per seed) on its node and reports their mean reward at each checkpoint
step; Tune's searchers and schedulers choose the trials and stop the bad ones early."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Sequence
from typing import Any

import ray
from ray import tune
from ray.tune.experiment import Trial
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, MedianStoppingRule, TrialScheduler
from ray.tune.search import BasicVariantGenerator, ConcurrencyLimiter, Searcher
from ray.tune.search.optuna import OptunaSearch

from rldojo.errors import ConfigError
from rldojo_ray.sweep.runs import checkpoint_rewards, run_process, trial_runs
from rldojo_ray.sweep.settings import EarlyStopping, ParameterSpace, Sampler, SweepSettings
from rldojo_ray.sweep.table import TrialResult, write_results

__all__ = ["SweepTrial", "run_tune_sweep"]

REWARD = "reward"
"""The metric Tune maximizes: the seeds' mean reward at a checkpoint step, the trial's score at the end."""
STEPS = "agent_steps"
"""Tune's time attribute: the checkpoint step the reward belongs to."""
EXIT_CODES = "exit_codes"
TUNE_DIR = "tune"
"""Tune's experiment folder, inside the sweep folder."""
POLL_S = 0.5  # how soon a stopped trial's runs hear of it


class SweepTrial(tune.Trainable):
    """One trial: its runs (one per seed) as processes on this node. Each ``step`` waits for the next
    checkpoint step all seeds passed and reports their mean reward there; the last one reports the trial's
    score (``done``). A trial Tune stops early has its runs stopped (SIGTERM: they save) in ``cleanup``."""

    def setup(self, config: dict[Any, Any], settings: SweepSettings | None = None) -> None:
        assert settings is not None, "build it with tune.with_parameters(SweepTrial, settings=...)"
        self.runs = trial_runs(settings, self.trial_id, config)
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=len(self.runs))
        self.futures = [self.executor.submit(run_process, run) for run in self.runs]
        self.reported: set[int] = set()

    def step(self) -> dict[str, Any]:
        while True:
            ended = all(future.done() for future in self.futures)  # before reading: then nothing is missed
            per_run = [checkpoint_rewards(run.run_dir) for run in self.runs]
            passed = set.intersection(*(set(rewards) for rewards in per_run)) - self.reported
            if passed:
                step = min(passed)
                self.reported.add(step)
                return {REWARD: sum(rewards[step] for rewards in per_run) / len(per_run), STEPS: step}
            if ended:
                break
            time.sleep(POLL_S)
        exit_codes = [future.result() for future in self.futures]
        result = TrialResult.of_runs(self.trial_id, self.config, self.runs, failed=any(exit_codes))
        if result.reward is None:
            raise RuntimeError(
                f"runs {' '.join(result.run_ids)} ended without a final reward: see their logs"
            )
        return {
            REWARD: result.reward,
            STEPS: max((step for rewards in per_run for step in rewards), default=0),  # the last checkpoint
            EXIT_CODES: exit_codes,
            "done": True,
        }

    def cleanup(self) -> None:
        if not all(future.done() for future in self.futures):
            for run in self.runs:
                run.stop_file.touch()
        concurrent.futures.wait(self.futures)
        self.executor.shutdown()


class _ResultsTable(tune.Callback):
    """Rewrites the sweep's results table whenever a trial ends (a stopped trial's runs may still be saving:
    :func:`run_tune_sweep` writes the table once more when Tune is done)."""

    def __init__(self, settings: SweepSettings):
        self.settings = settings
        self.ended: dict[str, tuple[dict[str, Any], bool]] = {}

    def on_trial_complete(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any) -> None:
        self._ended(trial, failed=any((trial.last_result or {}).get(EXIT_CODES, ())))

    def on_trial_error(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any) -> None:
        self._ended(trial, failed=True)

    def _ended(self, trial: Trial, failed: bool) -> None:
        self.ended[trial.trial_id] = ({key: trial.config[key] for key in self.settings.search_space}, failed)
        write_results(self.settings.sweep_dir, self.results())

    def results(self) -> list[TrialResult]:
        return [
            TrialResult.of_runs(trial_id, overrides, trial_runs(self.settings, trial_id, overrides), failed)
            for trial_id, (overrides, failed) in self.ended.items()
        ]


def _distribution(space: ParameterSpace) -> Any:
    if space.values is not None:
        return tune.choice(space.values)
    low, high = float(space.low or 0), float(space.high or 0)
    if space.integer:  # Tune's integer ranges leave out the upper end
        return (tune.lograndint if space.log else tune.randint)(int(low), int(high) + 1)
    return (tune.loguniform if space.log else tune.uniform)(low, high)


def _search(settings: SweepSettings) -> tuple[dict[str, Any], Searcher | BasicVariantGenerator, int]:
    """Tune's search space, search algorithm (holding at most ``max_concurrent_trials`` trials at once) and
    number of samples for the sweep's sampler."""
    seed = settings.seeds[0]
    # Tune ignores TuneConfig.max_concurrent_trials for a search algorithm passed in: each one carries it
    at_once = settings.max_concurrent_trials or 0
    if settings.sampler == Sampler.GRID:
        values = {key: list(space.values or ()) for key, space in settings.search_space.items()}
        if settings.trial_budget == settings.grid_size:
            grid = {key: tune.grid_search(v) for key, v in values.items()}
            return grid, BasicVariantGenerator(max_concurrent=at_once), 1
        first_points = settings.grid_points()[: settings.trial_budget]
        choices = {key: tune.choice(v) for key, v in values.items()}
        search = BasicVariantGenerator(points_to_evaluate=first_points, max_concurrent=at_once)
        return choices, search, settings.trial_budget
    space = {key: _distribution(parameter) for key, parameter in settings.search_space.items()}
    if settings.sampler == Sampler.TPE:
        import optuna

        searcher: Searcher = OptunaSearch(sampler=optuna.samplers.TPESampler(seed=seed))
        if at_once:
            searcher = ConcurrencyLimiter(searcher, max_concurrent=at_once)
        return space, searcher, settings.trial_budget
    return space, BasicVariantGenerator(random_state=seed, max_concurrent=at_once), settings.trial_budget


def _scheduler(settings: SweepSettings) -> TrialScheduler:
    if settings.early_stopping == EarlyStopping.NONE:
        return FIFOScheduler()
    if settings.early_stopping == EarlyStopping.MEDIAN:
        return MedianStoppingRule(time_attr=STEPS, grace_period=0, min_samples_required=1)
    first_checkpoint, max_steps = settings.checkpoint_steps()
    # max_t beyond the budget: ASHA never stops a trial whose runs reached their end (the last checkpoint
    # step can pass max_steps by a few steps)
    return ASHAScheduler(time_attr=STEPS, max_t=2 * max_steps, grace_period=first_checkpoint)


def _check_nodes_fit(num_seeds: int) -> None:
    largest = max((node["Resources"].get("CPU", 0.0) for node in ray.nodes() if node["Alive"]), default=0.0)
    if largest < num_seeds:
        raise ConfigError(
            f"a trial runs its {num_seeds} seeds on one node (1 CPU each), and the largest node of the Ray "
            f"cluster has {largest:g} CPUs: use fewer seeds or larger nodes"
        )


def run_tune_sweep(settings: SweepSettings) -> Sequence[TrialResult]:
    """Run the sweep as Ray Tune trials on the connected cluster, up to ``max_concurrent_trials`` at once;
    Tune's files go to ``<sweep folder>/tune``. The trials' results, as the local sweep gives them."""
    _check_nodes_fit(len(settings.seeds))
    space, search, num_samples = _search(settings)
    table = _ResultsTable(settings)
    trainable = tune.with_resources(
        tune.with_parameters(SweepTrial, settings=settings), {"cpu": len(settings.seeds)}
    )
    tuner = tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune.TuneConfig(
            metric=REWARD,
            mode="max",
            search_alg=search,
            scheduler=_scheduler(settings),
            num_samples=num_samples,
        ),
        run_config=tune.RunConfig(
            name=TUNE_DIR,
            storage_path=str(settings.sweep_dir.resolve()),
            callbacks=[table],
            # the runs save their own checkpoints; a trial is not restored from Tune's
            checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False),
            verbose=1,
        ),
    )
    tuner.fit()
    results = table.results()
    write_results(settings.sweep_dir, results)
    return results

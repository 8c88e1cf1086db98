"""rldojo sweep: a 2 x 2 grid with 2 seeds per trial, as local processes and as Ray Tune trials on a two-node
cluster (loopback only); every run an ordinary run folder, the table best first, report grouping by trial;
early stopping (median, ASHA) stops a trial that cannot learn."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rldojo.errors import ConfigError
from rldojo.settings import read_yaml
from rldojo_ray.loopback import loopback_unavailable_reason, run_in_loopback_namespace
from rldojo_ray.sweep import TrialResult, format_table, load_sweep_settings, run_sweep

CONFIGS = Path(__file__).parents[2] / "configs"
LEARNING_RATE = "behaviors.Basic.hyperparameters.learning_rate"
BATCH_SIZE = "behaviors.Basic.hyperparameters.batch_size"
RLDOJO = [sys.executable, "-c", "from rldojo.cli import main; raise SystemExit(main())"]


def write_sweep(tmp_path: Path, **changes: object) -> Path:
    sweep = {
        "base": str(CONFIGS / "basic_ppo.yaml"),
        "sweep_id": "grid",
        "results_dir": str(tmp_path / "results"),
        "seeds": [1, 2],
        "fixed": {"behaviors.Basic.max_steps": 400, "behaviors.Basic.summary_freq": 200},
        "search_space": {LEARNING_RATE: {"values": [0.003, 0.0003]}, BATCH_SIZE: {"values": [32, 64]}},
        **changes,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep))
    return path


def check_grid_results(sweep_dir: Path) -> None:
    """Four complete trials, best first, each run an ordinary run folder with the trial's config."""
    with (sweep_dir / "results.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [row["state"] for row in rows] == ["complete"] * 4, rows
    rewards = [float(row["reward"]) for row in rows]
    assert rewards == sorted(rewards, reverse=True)
    configurations = {(row[LEARNING_RATE], row[BATCH_SIZE]) for row in rows}
    assert configurations == {(lr, bs) for lr in ("0.003", "0.0003") for bs in ("32", "64")}
    for row in rows:
        for run_id, seed in zip(row["runs"].split(), (1, 2), strict=True):
            run_dir = sweep_dir / "runs" / run_id
            config = read_yaml(run_dir / "configuration.yaml")
            hyperparameters = config["behaviors"]["Basic"]["hyperparameters"]
            assert str(hyperparameters["learning_rate"]) == row[LEARNING_RATE]
            assert str(hyperparameters["batch_size"]) == row[BATCH_SIZE]
            assert config["env_settings"]["seed"] == seed
            assert (run_dir / "run_manifest.json").is_file()


def check_report_groups_the_trials(sweep_dir: Path, out: Path) -> None:
    """``rldojo report`` over the sweep's runs: four groups (one per trial) of two seeds each."""
    print((sweep_dir / "results.md").read_text())
    report = subprocess.run(
        [*RLDOJO, "report", *map(str, sorted((sweep_dir / "runs").glob("trial-*/"))), "--out", str(out),
         "--format", "svg"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    summary = (out / "summary.md").read_text()
    print(summary)
    groups = next(line for line in summary.splitlines() if line.startswith("Groups:"))
    assert groups.count("=") == 4 and groups.count("seed-") == 8, groups


def sweep_on_two_nodes(sweep_file: Path, timeout_s: float) -> None:
    """Run the sweep as Ray Tune trials on a two-node cluster in a loopback-only namespace (else skip)."""
    reason = loopback_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    finished = run_in_loopback_namespace(
        [sys.executable, str(Path(__file__).with_name("two_node_sweep.py")), str(sweep_file)],
        timeout_s=timeout_s,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_grid_sweep_runs_locally_and_report_groups_its_trials(tmp_path):
    settings = load_sweep_settings(write_sweep(tmp_path))
    results = run_sweep(settings)
    assert len(results) == 4
    check_grid_results(settings.sweep_dir)
    assert "| rank | trial |" in (settings.sweep_dir / "results.md").read_text()
    check_report_groups_the_trials(settings.sweep_dir, tmp_path / "report")


@pytest.mark.slow
@pytest.mark.xdist_group("ray_cluster")  # one cluster at a time on a small machine
@pytest.mark.timeout(1800)  # about 3 minutes on an idle 2-core machine; much more under load
def test_grid_sweep_runs_as_ray_tune_trials_on_two_nodes(tmp_path):
    sweep_on_two_nodes(write_sweep(tmp_path), timeout_s=1500)
    sweep_dir = tmp_path / "results" / "grid"
    check_grid_results(sweep_dir)
    trial_results = sorted((sweep_dir / "tune").glob("SweepTrial_*/result.json"))
    assert len(trial_results) == 4, "Tune's experiment files are in the sweep folder"
    check_report_groups_the_trials(sweep_dir, tmp_path / "report")


def final_checkpoint(run_dir: Path) -> dict:
    return json.loads((run_dir / "run_logs" / "training_status.json").read_text())["Basic"][
        "final_checkpoint"
    ]


EARLY_STOPPING_MAX_STEPS = 20_000
"""The bad trial is stopped at its first checkpoint (step 1000); its run goes on until the stop arrives. An
in-process Basic run steps 1,000-2,500 times a second, and a 3,000-step budget was sometimes over before
Tune's stop reached it: 19,000 steps leave several seconds."""


def write_early_stopping_sweep(tmp_path: Path, early_stopping: str, **changes: object) -> Path:
    """Learning rate 0.003 learns Basic; 1e-7 keeps the random policy. The good trial runs first."""
    return write_sweep(
        tmp_path,
        sweep_id=early_stopping,
        seeds=[1],
        early_stopping=early_stopping,
        fixed={
            "behaviors.Basic.max_steps": EARLY_STOPPING_MAX_STEPS,
            "behaviors.Basic.checkpoint_interval": 1000,
        },
        search_space={LEARNING_RATE: {"values": [0.003, 1.0e-7]}},
        **changes,
    )


def check_the_bad_trial_stopped_early(sweep_dir: Path) -> None:
    """The good trial ran to the end; the bad one was stopped before max_steps, and its run saved."""
    with (sweep_dir / "results.csv").open() as file:
        good, bad = csv.DictReader(file)
    good_end = final_checkpoint(sweep_dir / "runs" / good["runs"])
    bad_end = final_checkpoint(sweep_dir / "runs" / bad["runs"])
    print(f"{sweep_dir.name}: lr {bad[LEARNING_RATE]} stopped at step {bad_end['steps']} "
          f"(reward {bad['reward']}); lr {good[LEARNING_RATE]} ran to step {good_end['steps']} "
          f"(reward {good['reward']})")  # fmt: skip
    assert (good[LEARNING_RATE], good["state"]) == ("0.003", "complete"), good
    assert (bad[LEARNING_RATE], bad["state"]) == ("1e-07", "pruned"), bad
    assert good_end["steps"] >= EARLY_STOPPING_MAX_STEPS
    assert bad_end["steps"] < EARLY_STOPPING_MAX_STEPS, bad_end
    assert Path(bad_end["file_path"]).is_file(), "the stopped run saved a checkpoint"


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("early_stopping", ["median", "asha"])
def test_early_stopping_stops_the_trial_that_cannot_learn_and_keeps_the_one_that_does(
    tmp_path, early_stopping
):
    settings = load_sweep_settings(write_early_stopping_sweep(tmp_path, early_stopping))
    run_sweep(settings)
    check_the_bad_trial_stopped_early(settings.sweep_dir)


@pytest.mark.slow
@pytest.mark.xdist_group("ray_cluster")  # one cluster at a time on a small machine
@pytest.mark.timeout(1200)
def test_tunes_asha_stops_the_trial_that_cannot_learn_on_two_nodes(tmp_path):
    # one trial at a time: the good one first
    sweep_on_two_nodes(write_early_stopping_sweep(tmp_path, "asha", max_concurrent_trials=1), timeout_s=1000)
    check_the_bad_trial_stopped_early(tmp_path / "results" / "asha")


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"search_space": {LEARNING_RATE: {"low": 0.0001, "high": 0.01}}}, "the grid sampler needs values"),
        ({"sampler": "tpe"}, "num_trials is needed"),
        ({"search_space": {LEARNING_RATE: {"values": [1], "low": 1}}}, "give either values"),
        ({"serch_space": {}}, "serch_space"),
    ],
)
def test_a_bad_sweep_file_is_one_line_naming_the_key(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        load_sweep_settings(write_sweep(tmp_path, **changes))
    assert len(str(raised.value).splitlines()) == 1


def test_rldojo_sweep_reports_a_bad_base_config_key_in_one_line_exit_2(tmp_path):
    misspelt = "behaviors.Basic.hyperparameters.learning_rat"
    sweep_file = write_sweep(tmp_path, fixed={misspelt: 0.1})
    finished = subprocess.run(
        [*RLDOJO, "sweep", str(sweep_file)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert finished.returncode == 2, finished.stderr
    assert "learning_rat" in finished.stderr.splitlines()[-1], finished.stderr
    assert not list((tmp_path / "results" / "grid" / "runs").glob("*/")), "no run starts"


@pytest.mark.smoke
def test_the_table_lists_complete_trials_best_first_then_stopped_and_failed_ones():
    def trial(number: int, state: str, reward: float | None) -> TrialResult:
        return TrialResult(number, {LEARNING_RATE: number}, state, reward, [reward], [f"trial-{number}"])

    table = format_table(
        [
            trial(0, "pruned", 9.0),
            trial(1, "complete", 1.0),
            trial(2, "fail", None),
            trial(3, "complete", 5.0),
        ]
    )
    ranked = [line.split(" | ")[1] for line in table.splitlines()[2:]]
    assert ranked == ["3", "1", "0", "2"], table


@pytest.mark.smoke
@pytest.mark.parametrize(
    "changes",
    [
        {},  # the whole grid
        {"num_trials": 3},  # part of the grid
        {"sampler": "random", "num_trials": 3, "search_space": {LEARNING_RATE: {"low": 1e-4, "high": 1e-2}}},
        {"sampler": "tpe", "num_trials": 3, "search_space": {LEARNING_RATE: {"low": 1e-4, "high": 1e-2}}},
    ],
)
def test_every_tune_search_holds_max_concurrent_trials(tmp_path, changes):
    # Tune ignores TuneConfig.max_concurrent_trials when it is given a search algorithm
    from rldojo_ray.sweep.tune_trials import _search

    _, search, _ = _search(load_sweep_settings(write_sweep(tmp_path, max_concurrent_trials=1, **changes)))
    assert search.max_concurrent == 1


@pytest.mark.smoke
def test_tune_ranges_cover_the_same_values_as_the_local_sampler():
    from rldojo_ray.sweep.settings import ParameterSpace
    from rldojo_ray.sweep.tune_trials import _distribution

    integers = _distribution(ParameterSpace(low=16, high=18, integer=True))
    logs = _distribution(ParameterSpace(low=1e-4, high=1e-2, log=True))
    assert {integers.sample() for _ in range(200)} == {16, 17, 18}, "both ends included, as Optuna's"
    assert all(1e-4 <= logs.sample() <= 1e-2 for _ in range(200))

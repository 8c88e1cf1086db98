"""The W&B writer on a real offline run: config, metrics at the trainer's steps, artifacts, resume."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import logging
from pathlib import Path

import pytest

from rldojo.settings import run_options_from_dict
from rldojo.stats import StatsAggregationMethod, StatsSummary
from rldojo_stats.wandb_writer import RUN_ID_FILE, WandbOptions, WandbWriter, metric_name

from .conftest import FAKE_API_KEY, SUMMARY_FREQ, TrainedRuns
from .wandb_log import read_records

REWARD = "Environment/Cumulative Reward"


def wandb_launches(runs: TrainedRuns, run_id: str) -> list[list]:
    """The records of each offline W&B run (one per launch) of an rldojo run, oldest first."""
    wandb_id = (runs.folder(run_id) / RUN_ID_FILE).read_text().strip()
    logs = sorted(runs.wandb_dir.glob(f"offline-run-*-{wandb_id}/run-{wandb_id}.wandb"))
    return [read_records(path) for path in logs]


def of_type(records: list, kind: str) -> list:
    return [getattr(record, kind) for record in records if record.WhichOneof("record_type") == kind]


def history(records: list) -> list[dict]:
    """Each logged row as {key: value}; histograms come back as their JSON parts."""
    rows = []
    for row in of_type(records, "history"):
        values: dict = {}
        for item in row.item:
            key = item.key or "/".join(item.nested_key)
            values[key] = json.loads(item.value_json)
        rows.append(values)
    return rows


def csv_rewards(folder: Path) -> dict[int, float]:
    with (folder / "summaries.csv").open(newline="") as stream:
        return {int(row["step"]): float(row[f"{REWARD}/mean"]) for row in csv.DictReader(stream)}


def test_offline_run_has_config_metrics_and_model_artifacts(trained_runs):
    first, _ = wandb_launches(trained_runs, "basic_s1")
    run = of_type(first, "run")[0]
    assert run.display_name == "basic_s1" and run.project == "rldojo-tests"
    assert list(run.tags) == ["basic", "s1"] and run.run_group == "basic"
    config = {item.key: json.loads(item.value_json) for item in run.config.update}
    assert config["behaviors"]["Basic"]["summary_freq"] == SUMMARY_FREQ
    assert config["env_settings"]["env_path"] == "sim:Basic"
    assert config["stats_writers"]["wandb"]["project"] == "rldojo-tests"
    assert config["run_manifest"]["seed"] == 1 and "--wandb-mode" in config["run_manifest"]["command_line"]

    rows = history(first)
    assert [row["Basic/step"] for row in rows] == [300, 600, 900, 1200, 1500]
    rewards = csv_rewards(trained_runs.folder("basic_s1"))
    for row in rows:
        assert row[f"Basic/{REWARD}"] == pytest.approx(rewards[row["Basic/step"]], rel=1e-6)
        assert row[f"Basic/{REWARD} histogram/_type"] == "histogram"
        assert "Basic/Losses/Policy Loss" in row and "Basic/Step" not in row
    metrics = {metric.glob_name or metric.name: metric.step_metric for metric in of_type(first, "metric")}
    assert metrics["Basic/*"] == "Basic/step"

    artifacts = {artifact.name: artifact for artifact in of_type(first, "artifact")}
    assert set(artifacts) == {"basic_s1-checkpoint", "basic_s1-onnx"}
    assert [entry.path for entry in artifacts["basic_s1-onnx"].manifest.contents] == ["Basic.onnx"]
    assert [entry.path for entry in artifacts["basic_s1-checkpoint"].manifest.contents] == [
        "Basic/checkpoint.pt"
    ]


def test_resume_continues_the_same_wandb_run_and_uploads_the_onnx_model(trained_runs):
    first, resumed = wandb_launches(trained_runs, "basic_s1")
    assert of_type(resumed, "run")[0].run_id == of_type(first, "run")[0].run_id
    assert [row["Basic/step"] for row in history(resumed)] == [1800, 2100]
    artifacts = {artifact.name: artifact for artifact in of_type(resumed, "artifact")}
    assert artifacts["basic_s1-onnx"].type == "model"
    (entry,) = artifacts["basic_s1-onnx"].manifest.contents
    onnx_bytes = (trained_runs.folder("basic_s1") / "Basic.onnx").read_bytes()
    assert entry.path == "Basic.onnx"
    assert entry.digest == base64.b64encode(hashlib.md5(onnx_bytes).digest()).decode()
    assert artifacts["basic_s1-checkpoint"].type == "checkpoint"


def test_wandb_mode_comes_from_the_environment_and_the_key_is_never_written(trained_runs):
    (launch,) = wandb_launches(trained_runs, "basic_s2")
    assert of_type(launch, "run")[0].display_name == "basic_s2"
    written = [path for root in (trained_runs.results, trained_runs.wandb_dir) for path in root.rglob("*")]
    leaking = [path for path in written if path.is_file() and FAKE_API_KEY.encode() in path.read_bytes()]
    assert leaking == []


@pytest.mark.smoke
def test_a_wandb_failure_is_one_warning_and_logging_stops(tmp_path, monkeypatch, caplog):
    """Online mode without an API key (or network) fails in wandb.init; the writer warns once."""
    for name in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    options = run_options_from_dict({"checkpoint_settings": {"results_dir": str(tmp_path)}}, "test")
    writer = WandbWriter(WandbOptions(mode="online", init_timeout=5), options)
    summary = {REWARD: StatsSummary([1.0], StatsAggregationMethod.HISTOGRAM)}
    with caplog.at_level(logging.WARNING):
        writer.write_stats("Basic", summary, 100)
        writer.write_stats("Basic", summary, 200)
        writer.close()
    warnings = [record.getMessage() for record in caplog.records if record.name.startswith("rldojo_stats")]
    assert len(warnings) == 1 and "training continues" in warnings[0], warnings


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("Environment/Cumulative Reward", "3DBall/Environment/Cumulative Reward"),
        ("3DBall/Ball Dropped", "3DBall/Ball Dropped"),
    ],
)
def test_wandb_metric_names_are_prefixed_by_the_behavior_once(key, name):
    assert metric_name("3DBall", key) == name

"""CSV and JSONL writers: the same summaries the console and a third-party writer saw, plus episodes."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from rldojo.stats import StatsAggregationMethod, StatsSummary
from rldojo_stats.tables import CsvWriter, TableOptions

from .conftest import SUMMARY_FREQ

REWARD = "Environment/Cumulative Reward"
CONSOLE_LINE = re.compile(
    r"^Basic\. Step: (\d+)\. Time Elapsed: [\d.]+ s\. Mean Reward: (-?[\d.]+)\. Std of Reward: (-?[\d.]+)\.",
    re.MULTILINE,
)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("run_id", ["basic_s1", "basic_s2"])
def test_summaries_match_the_console_lines(trained_runs, run_id):
    folder = trained_runs.folder(run_id)
    console = [(int(s), float(m), float(d)) for s, m, d in CONSOLE_LINE.findall(trained_runs.console[run_id])]
    rows = csv_rows(folder / "summaries.csv")
    records = jsonl(folder / "summaries.jsonl")
    assert len(console) >= 5
    assert [int(row["step"]) for row in rows] == [step for step, _, _ in console]
    assert [record["step"] for record in records] == [step for step, _, _ in console]
    for (_, mean, std), row, record in zip(console, rows, records, strict=True):
        assert row["behavior"] == record["behavior"] == "Basic"
        assert round(float(row[f"{REWARD}/mean"]), 3) == pytest.approx(mean, abs=1e-3)
        assert round(float(row[f"{REWARD}/std"]), 3) == pytest.approx(std, abs=1e-3)
        for key, fields in record["stats"].items():  # JSONL and CSV carry the same numbers
            for field in ("mean", "std", "count"):
                assert float(row[f"{key}/{field}"]) == pytest.approx(fields[field], rel=1e-9)
        assert "Losses/Policy Loss" in record["stats"] and record["stats"]["Step"]["count"] == 1


def test_episode_stream_adds_up_to_the_summaries(trained_runs):
    folder = trained_runs.folder("basic_s2")
    episodes = csv_rows(folder / "episodes.csv")
    same_fields = [
        {key: str(value) for key, value in record.items() if key != "wall_time"}
        for record in jsonl(folder / "episodes.jsonl")
    ]
    assert [
        {key: value for key, value in row.items() if key != "wall_time"} for row in episodes
    ] == same_fields
    assert len({row["agent"] for row in episodes}) >= 1
    assert all(re.fullmatch(r"agent_0-\d+", row["agent"]) for row in episodes)
    previous = 0
    for summary in jsonl(folder / "summaries.jsonl"):  # the summary at step S is written before the
        step = summary["step"]  # episode that brought the trainer to S is counted
        returns = [float(row["return"]) for row in episodes if previous <= int(row["step"]) < step]
        assert len(returns) == summary["stats"][REWARD]["count"]
        assert sum(returns) / len(returns) == pytest.approx(summary["stats"][REWARD]["mean"], abs=1e-6)
        previous = step
    for row in episodes:  # Basic: -0.01 per step, and +0.1 or +1 for reaching a goal
        bonus = float(row["return"]) + 0.01 * int(row["length"])
        assert min(abs(bonus - goal) for goal in (0.0, 0.1, 1.0)) < 1e-5, row


def test_third_party_writer_receives_the_same_summaries(trained_runs):
    """The plugin guide's reward_log writer, installed beside rldojo-stats, logs the same numbers."""
    for run_id in ("basic_s1", "basic_s2"):
        folder = trained_runs.folder(run_id)
        logged = [line.split("\t") for line in (folder / "reward_log.tsv").read_text().splitlines()[1:]]
        rows = csv_rows(folder / "summaries.csv")
        assert [(int(step), behavior) for step, behavior, _, _ in logged] == [
            (int(row["step"]), row["behavior"]) for row in rows
        ]
        for (_, _, mean, episodes), row in zip(logged, rows, strict=True):
            assert float(mean) == pytest.approx(float(row[f"{REWARD}/mean"]), abs=5e-5)
            assert int(episodes) == int(row[f"{REWARD}/count"])


def test_resumed_run_appends_to_the_same_files(trained_runs):
    folder = trained_runs.folder("basic_s1")
    steps = [int(row["step"]) for row in csv_rows(folder / "summaries.csv")]
    assert steps == list(range(SUMMARY_FREQ, 2100 + 1, SUMMARY_FREQ))
    assert [record["step"] for record in jsonl(folder / "summaries.jsonl")] == steps


def average(*values: float) -> StatsSummary:
    return StatsSummary(list(values), StatsAggregationMethod.AVERAGE)


@pytest.mark.smoke
def test_csv_widens_when_a_stat_first_appears_and_a_reopened_file_keeps_its_columns(tmp_path):
    writer = CsvWriter(tmp_path, TableOptions())
    writer.write_stats("Basic", {"A": average(1.0, 3.0)}, 10)
    writer.write_stats("Basic", {"A": average(2.0), "B": average(5.0)}, 20)
    writer.on_episode_end("Basic", "agent_0-3", 0.5, 7, 20)
    rows = csv_rows(tmp_path / "summaries.csv")
    assert list(rows[0]) == [
        "behavior", "step", "wall_time", "A/mean", "A/std", "A/count", "B/mean", "B/std", "B/count"
    ]  # fmt: skip
    assert (rows[0]["A/mean"], rows[0]["A/std"], rows[0]["A/count"], rows[0]["B/mean"]) == (
        "2.0",
        "1.0",
        "2",
        "",
    )
    assert (rows[1]["A/mean"], rows[1]["B/mean"], rows[1]["B/count"]) == ("2.0", "5.0", "1")

    reopened = CsvWriter(tmp_path, TableOptions(episodes=False))
    reopened.write_stats("Basic", {"B": average(4.0)}, 30)
    reopened.on_episode_end("Basic", "agent_0-3", 0.1, 2, 30)
    rows = csv_rows(tmp_path / "summaries.csv")
    assert (rows[2]["step"], rows[2]["A/mean"], rows[2]["B/mean"]) == ("30", "", "4.0")
    (episode,) = csv_rows(tmp_path / "episodes.csv")
    assert float(episode.pop("wall_time")) > 0
    assert episode == {
        "behavior": "Basic",
        "agent": "agent_0-3",
        "step": "20",
        "return": "0.5",
        "length": "7",
    }

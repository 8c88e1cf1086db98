"""CSV and JSONL writers: one row per summary per behavior, and one row per finished episode.

Files in the run folder:

- ``summaries.csv`` / ``summaries.jsonl``: ``behavior, step, wall_time`` and, for every stat,
  its mean, std and count (CSV columns ``<stat>/mean``, ``<stat>/std``, ``<stat>/count``).
- ``episodes.csv`` / ``episodes.jsonl``: ``behavior, agent, step, wall_time, return, length`` per
  finished episode of every agent.

A resumed run appends to the same files. ``wall_time`` is seconds since the Unix epoch.
"""

from __future__ import annotations

import abc
import csv
import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from rldojo.settings import RunOptions
from rldojo.stats import StatsSummary, StatsWriter

__all__ = [
    "CsvWriter",
    "JsonlWriter",
    "TableOptions",
    "get_csv_writers",
    "get_jsonl_writers",
    "summary_record",
]

STAT_FIELDS = ("mean", "std", "count")
EPISODE_COLUMNS = ("behavior", "agent", "step", "wall_time", "return", "length")


class TableOptions(BaseModel):
    """Options of ``stats_writers: csv:`` and ``jsonl:``."""

    model_config = ConfigDict(extra="forbid")

    episodes: bool = True
    """Also write the per-episode stream (one row per finished episode)."""


def summary_record(category: str, values: dict[str, StatsSummary], step: int) -> dict[str, Any]:
    """One summary as plain data: behavior, step, wall time and every stat's mean, std and count."""
    return {
        "behavior": category,
        "step": step,
        "wall_time": time.time(),
        "stats": {
            key: {"mean": summary.mean, "std": summary.std, "count": summary.num}
            for key, summary in sorted(values.items())
        },
    }


def episode_record(category: str, agent_id: str, episode_return: float, length: int, step: int) -> dict:
    values = (category, agent_id, step, time.time(), episode_return, length)
    return dict(zip(EPISODE_COLUMNS, values, strict=True))


class TableWriter(StatsWriter):
    """Shared part of the CSV and JSONL writers: which records to write, and where."""

    summaries_name: str
    episodes_name: str

    def __init__(self, run_folder: Path, options: TableOptions):
        self.summaries_path = run_folder / self.summaries_name
        self.episodes_path = run_folder / self.episodes_name if options.episodes else None
        run_folder.mkdir(parents=True, exist_ok=True)

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        self.append_summary(summary_record(category, values, step))

    def on_episode_end(
        self, category: str, agent_id: str, episode_return: float, episode_length: int, step: int
    ) -> None:
        if self.episodes_path is not None:
            self.append_episode(episode_record(category, agent_id, episode_return, episode_length, step))

    @abc.abstractmethod
    def append_summary(self, record: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def append_episode(self, record: dict[str, Any]) -> None: ...


class JsonlWriter(TableWriter):
    """One JSON object per line: summaries as ``summary_record``, episodes as flat objects."""

    summaries_name = "summaries.jsonl"
    episodes_name = "episodes.jsonl"

    @staticmethod
    def _append(path: Path, record: dict[str, Any]) -> None:
        with path.open("a") as stream:
            stream.write(json.dumps(record) + "\n")

    def append_summary(self, record: dict[str, Any]) -> None:
        self._append(self.summaries_path, record)

    def append_episode(self, record: dict[str, Any]) -> None:
        assert self.episodes_path is not None
        self._append(self.episodes_path, record)


class CsvWriter(TableWriter):
    """Wide CSV: a column per stat and field; a stat seen for the first time widens the file."""

    summaries_name = "summaries.csv"
    episodes_name = "episodes.csv"

    def __init__(self, run_folder: Path, options: TableOptions):
        super().__init__(run_folder, options)
        self.columns = self._existing_columns(self.summaries_path)

    @staticmethod
    def _existing_columns(path: Path) -> list[str]:
        if not path.is_file():
            return []
        with path.open(newline="") as stream:
            return next(csv.reader(stream), [])

    def append_summary(self, record: dict[str, Any]) -> None:
        row = {"behavior": record["behavior"], "step": record["step"], "wall_time": record["wall_time"]}
        for key, fields in record["stats"].items():
            row.update({f"{key}/{field}": fields[field] for field in STAT_FIELDS})
        new_columns = [column for column in row if column not in self.columns]
        if new_columns:
            self._widen(new_columns)
        with self.summaries_path.open("a", newline="") as stream:
            csv.DictWriter(stream, self.columns).writerow(row)

    def _widen(self, new_columns: list[str]) -> None:
        """Rewrite the file with the extra columns (earlier rows leave them empty)."""
        rows: list[dict[str, str]] = []
        if self.summaries_path.is_file():
            with self.summaries_path.open(newline="") as stream:
                rows = list(csv.DictReader(stream))
        self.columns = [*self.columns, *new_columns]
        partial = self.summaries_path.with_name(self.summaries_path.name + ".partial")
        with partial.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, self.columns)
            writer.writeheader()
            writer.writerows(rows)
        partial.replace(self.summaries_path)

    def append_episode(self, record: dict[str, Any]) -> None:
        assert self.episodes_path is not None
        new_file = not self.episodes_path.is_file()
        with self.episodes_path.open("a", newline="") as stream:
            writer = csv.DictWriter(stream, EPISODE_COLUMNS)
            if new_file:
                writer.writeheader()
            writer.writerow(record)


def _writers(kind: type[TableWriter], name: str, run_options: RunOptions) -> list[StatsWriter]:
    if name not in run_options.stats_writers:
        return []
    options = TableOptions.model_validate(run_options.stats_writers[name])
    return [kind(run_options.checkpoint_settings.write_path, options)]


def get_csv_writers(run_options: RunOptions) -> list[StatsWriter]:
    """The ``csv`` entry point: a writer only when the run's ``stats_writers:`` asks for one."""
    return _writers(CsvWriter, "csv", run_options)


def get_jsonl_writers(run_options: RunOptions) -> list[StatsWriter]:
    """The ``jsonl`` entry point: a writer only when the run's ``stats_writers:`` asks for one."""
    return _writers(JsonlWriter, "jsonl", run_options)


get_csv_writers.options_model = TableOptions  # type: ignore[attr-defined]
get_jsonl_writers.options_model = TableOptions  # type: ignore[attr-defined]

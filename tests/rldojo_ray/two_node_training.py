"""Run inside a loopback-only network namespace by the cluster tests: a two-node Ray cluster, then one run
after another on it with env runners on both nodes, the worker node removed in a run once its trainer
passes a step. Writes, per run, the mean reward per summary step, the policy lag of every trained piece
(runners that act), the node ids and the run's cluster record to a JSON file.

Usage: python two_node_training.py RUNS_JSON OUTPUT_JSON
RUNS_JSON: a list of {"config": PATH, "overrides": {KEY: VALUE}, "kill_at": STEP (-1: none)}
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import ray

from rldojo.runner_training import PIECE_LAG_KEY
from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
from rldojo.training import train_run
from rldojo_ray.loopback import start_local_cluster


class NodeKiller(StatsWriter):
    """Records the mean reward of each summary and the piece lags; removes ``node`` at the first summary
    from ``kill_at`` on."""

    def __init__(self, cluster: object, node: object, kill_at: int):
        self.cluster, self.node, self.kill_at = cluster, node, kill_at
        self.rewards: dict[int, float] = {}
        self.piece_lags: list[float] = []
        self.killed_at: int | None = None

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        if "Environment/Cumulative Reward" in values:
            self.rewards[step] = values["Environment/Cumulative Reward"].mean
        if PIECE_LAG_KEY in values:
            self.piece_lags.extend(values[PIECE_LAG_KEY].full_dist)
        if self.kill_at >= 0 and self.killed_at is None and step >= self.kill_at:
            self.killed_at = step
            threading.Thread(target=self.cluster.remove_node, args=(self.node,)).start()  # type: ignore[attr-defined]


def main(runs_json: str, output: str) -> None:
    cluster = start_local_cluster(num_nodes=2, cpus_per_node=2)
    worker_node = cluster.list_all_nodes()[1]
    nodes = {"head": cluster.head_node.node_id, "worker": worker_node.node_id}
    results: list[dict[str, Any]] = []
    for run in json.loads(runs_json):
        overrides = {**run["overrides"], "ray.address": cluster.address}
        options = load_run_options(Path(run["config"]), overrides)
        killer = NodeKiller(cluster, worker_node, run["kill_at"])
        run_dir = train_run(options, [killer])
        record = json.loads((run_dir.run_logs_dir / "ray_cluster.json").read_text())
        results.append(
            {
                "rewards": killer.rewards,
                "piece_lags": killer.piece_lags,
                "killed_at": killer.killed_at,
                "nodes": nodes,
                "ray": record,
            }
        )
    Path(output).write_text(json.dumps(results))
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])

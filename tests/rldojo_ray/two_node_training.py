"""Run inside a loopback-only network namespace by test_cluster_training.py: a two-node Ray cluster, PPO on
a launched build with env runners on both nodes, and (optionally) the worker node removed once the
trainer passes a step. Writes the mean reward per summary step and the node ids to a JSON file.

Usage: python two_node_training.py CONFIG OVERRIDES_JSON KILL_AT_STEP OUTPUT_JSON
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import ray

from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
from rldojo.training import train_run
from rldojo_ray.loopback import start_local_cluster


class NodeKiller(StatsWriter):
    """Records the mean reward of each summary; removes ``node`` at the first summary from ``kill_at`` on."""

    def __init__(self, cluster: object, node: object, kill_at: int):
        self.cluster, self.node, self.kill_at = cluster, node, kill_at
        self.rewards: dict[int, float] = {}
        self.killed_at: int | None = None

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        if "Environment/Cumulative Reward" in values:
            self.rewards[step] = values["Environment/Cumulative Reward"].mean
        if self.kill_at >= 0 and self.killed_at is None and step >= self.kill_at:
            self.killed_at = step
            threading.Thread(target=self.cluster.remove_node, args=(self.node,)).start()  # type: ignore[attr-defined]


def main(config: str, overrides_json: str, kill_at: str, output: str) -> None:
    cluster = start_local_cluster(num_nodes=2, cpus_per_node=2)
    worker_node = cluster.list_all_nodes()[1]
    nodes = {"head": cluster.head_node.node_id, "worker": worker_node.node_id}
    options = load_run_options(Path(config), {**json.loads(overrides_json), "ray.address": cluster.address})
    killer = NodeKiller(cluster, worker_node, int(kill_at))
    run_dir = train_run(options, [killer])
    record = json.loads((run_dir.run_logs_dir / "ray_cluster.json").read_text())
    Path(output).write_text(
        json.dumps({"rewards": killer.rewards, "killed_at": killer.killed_at, "nodes": nodes, "ray": record})
    )
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])

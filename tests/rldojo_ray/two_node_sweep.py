"""Run inside a loopback-only network namespace by test_sweep.py: a two-node Ray cluster, and a sweep whose
trials are Ray Tune trials on it. Usage: python two_node_sweep.py SWEEP_FILE"""

from __future__ import annotations

import sys
from pathlib import Path

import ray

from rldojo_ray.loopback import start_local_cluster
from rldojo_ray.sweep import load_sweep_settings, run_sweep


def main(sweep_file: str) -> None:
    cluster = start_local_cluster(num_nodes=2, cpus_per_node=2)  # a trial runs its 2 seeds on one node
    settings = load_sweep_settings(Path(sweep_file), {"ray": cluster.address})
    run_sweep(settings)
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])

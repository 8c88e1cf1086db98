"""Joining a Ray cluster, and what a run records about it (nodes, runners and their seeds, replacements)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ray

from rldojo.checkpoint import atomic_write
from rldojo.run_directory import MANIFEST_FILE

__all__ = ["LOCAL", "RAY_ENVIRONMENT", "cluster_nodes", "connect", "record_cluster"]

LOCAL = "local"
"""The address that starts a Ray instance on this machine instead of joining a cluster."""

RAY_ENVIRONMENT = {
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage reports leave the machine
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",  # workers use this interpreter, not a fresh `uv run` environment
}
CLUSTER_RECORD = "ray_cluster.json"


def connect(address: str) -> bool:
    """Join the Ray cluster at ``address`` (``local``: start one here, without dashboard); True when this
    call connected, False when this process was connected already."""
    for name, value in RAY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if ray.is_initialized():
        return False
    if address == LOCAL:
        ray.init(include_dashboard=False, logging_level=logging.WARNING)
    else:
        ray.init(address=address, logging_level=logging.WARNING)
    return True


def cluster_nodes() -> list[dict[str, Any]]:
    """Every node the cluster knows: id, address, whether it is alive, its CPUs."""
    return [
        {
            "node_id": node["NodeID"],
            "address": node["NodeManagerAddress"],
            "alive": bool(node["Alive"]),
            "cpus": node.get("Resources", {}).get("CPU", 0.0),
        }
        for node in ray.nodes()
    ]


def record_cluster(run_logs_dir: Path, record: Mapping[str, Any]) -> None:
    """Write ``record`` to ``run_logs/ray_cluster.json`` and under ``ray`` in the run manifest (if any)."""
    text = json.dumps(record, indent=2) + "\n"
    atomic_write(run_logs_dir / CLUSTER_RECORD, lambda file: file.write(text.encode()))
    manifest_file = run_logs_dir.parent / MANIFEST_FILE
    if manifest_file.is_file():
        manifest = {**json.loads(manifest_file.read_text()), "ray": record}
        manifest_text = json.dumps(manifest, indent=2) + "\n"
        atomic_write(manifest_file, lambda file: file.write(manifest_text.encode()))

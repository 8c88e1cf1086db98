"""A Ray cluster of several nodes on this machine, kept on loopback, for tests and benchmarks.

Ray advertises the machine's primary address and some of its services listen on 0.0.0.0, so the
cluster is started inside a new network namespace that has only ``lo`` (``unshare --net``, as root):
every node then runs on 127.0.0.1 and nothing is reachable from outside.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from rldojo_ray.cluster import RAY_ENVIRONMENT

__all__ = [
    "CLUSTER_START_FAILED",
    "local_cluster",
    "loopback_unavailable_reason",
    "run_in_loopback_namespace",
    "run_script_in_loopback_namespace",
    "start_local_cluster",
]

CLUSTER_START_FAILED = 75
"""Exit status of a script whose cluster did not start (Ray gives a node 30 s to register, which a busy
small machine can miss); :func:`run_in_loopback_namespace` runs such a script again."""
START_ATTEMPTS = 3
INSIDE = "RLDOJO_INSIDE_LOOPBACK_NAMESPACE"


def _namespace_command(argv: Sequence[str]) -> list[str]:
    quoted = " ".join(f"'{arg}'" for arg in argv)
    return ["unshare", "--net", "sh", "-c", f"ip link set lo up && exec {quoted}"]


def loopback_unavailable_reason() -> str | None:
    """Why no loopback-only network namespace can be made here (None when it can)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare (util-linux) and ip (iproute2) to make a loopback-only network namespace"
    probe = subprocess.run(_namespace_command(["true"]), capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"cannot make a loopback-only network namespace ({probe.stderr.strip() or 'not root?'})"
    return None


def run_in_loopback_namespace(
    argv: Sequence[str], timeout_s: float, env_extra: Mapping[str, str] | None = None, **options: Any
) -> subprocess.CompletedProcess:
    """Run ``argv`` in a new network namespace with only ``lo`` up, with Ray's usage stats off (and
    ``env_extra`` added to the environment), again when it exits with :data:`CLUSTER_START_FAILED`;
    ``options`` go to ``subprocess.run``."""
    for _ in range(START_ATTEMPTS):
        finished = subprocess.run(
            _namespace_command(argv),
            env={**os.environ, **RAY_ENVIRONMENT, **(env_extra or {})},
            timeout=timeout_s,
            check=False,
            **options,
        )
        if finished.returncode != CLUSTER_START_FAILED:
            break
    return finished


def run_script_in_loopback_namespace(main: Callable[[], None], script: str) -> None:
    """For scripts: ``main()`` when this process runs in the loopback-only namespace, else run this script
    again (same arguments) inside a new one and exit with its status, or with why none can be made."""
    if os.environ.get(INSIDE):
        main()
        return
    reason = loopback_unavailable_reason()
    if reason is not None:
        sys.exit(f"{script}: {reason}")
    inside = run_in_loopback_namespace(
        [sys.executable, *sys.argv], timeout_s=24 * 3600, env_extra={INSIDE: "1"}
    )
    sys.exit(inside.returncode)


def start_local_cluster(num_nodes: int, cpus_per_node: int) -> Any:
    """A ``ray.cluster_utils.Cluster`` of ``num_nodes`` nodes (the first is the head), no dashboard,
    connected to; call inside :func:`run_in_loopback_namespace`. A node that does not start ends the
    process with :data:`CLUSTER_START_FAILED` (its half-started processes end with it)."""
    for name, value in RAY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    import ray
    from ray.cluster_utils import Cluster

    try:
        cluster = Cluster(
            initialize_head=True, head_node_args={"num_cpus": cpus_per_node, "include_dashboard": False}
        )
        for _ in range(num_nodes - 1):
            cluster.add_node(num_cpus=cpus_per_node)
        cluster.wait_for_nodes()
    except Exception as error:  # Ray raises a bare Exception when a node misses its start-up deadline
        print(f"the Ray cluster did not start: {error}", file=sys.stderr)
        sys.exit(CLUSTER_START_FAILED)
    ray.init(address=cluster.address, logging_level=logging.WARNING)
    return cluster


@contextlib.contextmanager
def local_cluster(num_nodes: int, cpus_per_node: int) -> Iterator[Any]:
    """:func:`start_local_cluster`, disconnected and shut down at the end (for scripts)."""
    cluster = start_local_cluster(num_nodes, cpus_per_node)
    try:
        yield cluster
    finally:
        import ray

        ray.shutdown()  # Cluster refuses to remove a head node this driver is still connected to
        cluster.shutdown()

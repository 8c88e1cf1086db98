"""Two training runs at once on one host with default ports: both finish, each on ports of its own, and only
loopback listens."""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

TESTS = Path(__file__).parents[1]


def _listening_sockets_helper():
    """``_listening_sockets()`` from tests/rldojo_unity/test_ports.py (/proc/net/tcp reader)."""
    spec = importlib.util.spec_from_file_location(
        "test_ports_helpers", TESTS / "rldojo_unity" / "test_ports.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._listening_sockets


def _process_tree(root: int) -> set[int]:
    """``root`` and every living process below it."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    tree = {root}
    while grown := {pid for pid, parent in parents.items() if parent in tree} - tree:
        tree |= grown
    return tree


def _socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[len("socket:[") : -1])
    return inodes


def _loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def test_two_runs_with_default_ports_both_finish_and_listen_on_loopback_only(tmp_path, sim_build):
    listening_sockets = _listening_sockets_helper()
    config = tmp_path / "ball.yaml"
    data = yaml.safe_load((TESTS.parent / "configs" / "ppo.yaml").read_text())
    data["behaviors"]["3DBall"].update(max_steps=2400, summary_freq=1200)
    config.write_text(yaml.safe_dump(data))
    runs = [
        subprocess.Popen(
            [
                *(
                    sys.executable,
                    "-m",
                    "rldojo.cli",
                    "learn",
                    str(config),
                    "--env",
                    str(sim_build("3DBall")),
                ),
                *("--run-id", run_id, "--results-dir", str(tmp_path), "--num-envs", "2"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for run_id in ("first", "second")
    ]
    most_ports_at_once, addresses, ports_of_run = 0, set(), [set(), set()]
    while any(run.poll() is None for run in runs):
        listening = listening_sockets()
        now = [
            {listening[inode] for inode in _socket_inodes(_process_tree(run.pid)) if inode in listening}
            for run in runs
        ]
        most_ports_at_once = max(most_ports_at_once, sum(len(sockets) for sockets in now))
        for sockets, ports in zip(now, ports_of_run, strict=True):
            addresses.update(address for address, _ in sockets)
            ports.update(port for _, port in sockets)
        time.sleep(0.2)
    for run in runs:
        assert run.returncode == 0, run.stdout.read() if run.stdout else ""
    assert most_ports_at_once >= 4  # two workers per run, each with its own trainer-side server
    assert not ports_of_run[0] & ports_of_run[1], ports_of_run  # leases are held for the whole run
    assert addresses and all(_loopback(address) for address in addresses), addresses

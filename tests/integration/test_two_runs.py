"""Two training runs at once on one host with default ports: both finish, and only loopback listens."""

from __future__ import annotations

import importlib.util
import ipaddress
import subprocess
import sys
import time
from pathlib import Path

import yaml

TESTS = Path(__file__).parents[1]
PORTS_CHECKED = range(5005, 5005 + 64)  # leases start at the default base port, 5005


def _listening_addresses_helper():
    """``_listening_addresses(port)`` from tests/rldojo_unity/test_ports.py (/proc/net/tcp reader)."""
    spec = importlib.util.spec_from_file_location(
        "test_ports_helpers", TESTS / "rldojo_unity" / "test_ports.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._listening_addresses


def _loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def test_two_runs_with_default_ports_both_finish_and_listen_on_loopback_only(tmp_path, sim_build):
    listening_addresses = _listening_addresses_helper()
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
    most_ports_at_once, addresses = 0, set()
    while any(run.poll() is None for run in runs):
        listening = {port: listening_addresses(port) for port in PORTS_CHECKED}
        listening = {port: found for port, found in listening.items() if found}
        most_ports_at_once = max(most_ports_at_once, len(listening))
        addresses.update(*listening.values())
        time.sleep(0.2)
    for run in runs:
        assert run.returncode == 0, run.stdout.read() if run.stdout else ""
    assert most_ports_at_once >= 4  # two workers per run, each with its own trainer-side server
    assert addresses and all(_loopback(address) for address in addresses), addresses

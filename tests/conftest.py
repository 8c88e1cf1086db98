"""Fixtures shared by every package's tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FIRST_LEASED_TEST_PORT = 20000  # above the runs' leases (from 5005), below the ephemeral ports


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group tests for ``pytest -n N --dist loadgroup`` (``make test``), so costly shared fixtures are
    built once and one session owns the container tests' dockerd."""
    for item in items:
        group = _xdist_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


def _xdist_group(item: pytest.Item) -> str | None:
    fixtures = getattr(item, "fixturenames", ())
    if "docker_host" in fixtures:  # tests/containers: a dockerd the session may start and stop
        return "docker"
    if "plugin_example_site" in fixtures:  # also behind rldojo-stats' trained_runs (two training runs)
        return "plugin_example_site"
    if "trained_run" in fixtures:  # a module-scoped training run
        return item.path.stem
    return None


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread, as training runs use it on a 2-core machine: small networks on more threads
    than there are free cores run ~20x slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def base_port() -> Iterator[int]:
    """A base port whose next port is free too (worker ids 0 and 1), both leased in the shared lock folder
    for the test, so no other run (another xdist worker's included) uses either."""
    from rldojo_unity.ports import PortInUseError, PortLease, lease_port

    start = FIRST_LEASED_TEST_PORT
    while True:
        first = lease_port(start=start)
        try:
            second = lease_port(first.port + 1)
        except PortInUseError:
            first.release()
            start = first.port + 2
            continue
        leases: list[PortLease] = [first, second]
        break
    yield first.port
    for lease in leases:
        lease.release()


@pytest.fixture(scope="session")
def sim_build(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``sim_build(name)`` -> path of the rldojo-sim build of scene ``name``, for ``UnityEnvironment``.

    Builds are written once per test session into a temporary folder (``<Name>/<Name>.x86_64``).
    """
    import rldojo_sim

    root = tmp_path_factory.mktemp("unity_builds")
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = rldojo_sim.build(name, root / name)
        return built[name]

    return get


def install_example(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``examples/<name>`` built and installed into its own folder (use it via PYTHONPATH)."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    target = tmp_path_factory.mktemp(name.replace("-", "_") + "_site")
    command = [uv, "pip", "install", "--no-deps", "--target", str(target), "--python", sys.executable]
    subprocess.run(
        [*command, str(EXAMPLES / name)],
        check=True,
        capture_output=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        timeout=300,
    )
    return target


@pytest.fixture(scope="session")
def plugin_example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin guide's on-policy outside package (vpg, reward_log), installed."""
    return install_example("rldojo-plugin-example", tmp_path_factory)


@pytest.fixture(scope="session")
def reward_signal_example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin guide's reward-signal outside package (count_novelty), installed."""
    return install_example("rldojo-reward-signal-example", tmp_path_factory)


@pytest.fixture(scope="session")
def offpolicy_example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin guide's off-policy outside package (nstep_q), installed."""
    return install_example("rldojo-offpolicy-example", tmp_path_factory)

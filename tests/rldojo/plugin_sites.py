"""Outside plugins for tests: distributions written as dist-info folders into a folder put on sys.path."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def write_distribution(root: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    """An installed distribution as pip would leave it: modules plus ``<name>-0.1.dist-info``."""
    dist_info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


def run_rldojo(
    *args: str, pythonpath: Path | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The ``rldojo`` command of this environment, with ``pythonpath`` (a plugin site) in front."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    command = [str(Path(sys.executable).with_name("rldojo")), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def listed_plugins(site: Path, cwd: Path) -> dict[str, list[str]]:
    """The rows of ``rldojo plugins`` with the plugin site ``site``, by their first word (a plugin name)."""
    result = run_rldojo("plugins", pythonpath=site, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.startswith("  ")}

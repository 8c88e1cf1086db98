"""The workspace installs as seven separate packages and the `rldojo` command sees them all."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib import metadata

import pytest

pytestmark = pytest.mark.smoke

PACKAGES = {
    "rldojo": "rldojo",
    "rldojo-unity": "rldojo_unity",
    "rldojo-sim": "rldojo_sim",
    "rldojo-stats": "rldojo_stats",
    "rldojo-gym": "rldojo_gym",
    "rldojo-sb3": "rldojo_sb3",
    "rldojo-ray": "rldojo_ray",
}


@pytest.mark.parametrize(("distribution", "import_name"), PACKAGES.items())
def test_package_imports_and_is_installed_as_its_own_distribution(distribution, import_name):
    module = importlib.import_module(import_name)
    assert metadata.distribution(distribution).version == module.__version__


def test_version_lists_every_installed_package():
    result = subprocess.run(
        [sys.executable, "-m", "rldojo.cli", "--version"], capture_output=True, text=True, check=True
    )
    listed = dict(line.split() for line in result.stdout.splitlines())
    assert listed == {name: metadata.version(name) for name in PACKAGES}


def test_help_names_the_program():
    result = subprocess.run(
        [sys.executable, "-m", "rldojo.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("usage: rldojo")

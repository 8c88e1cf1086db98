"""The core tests' helpers, reused rather than copied (whole training runs, ONNX interface checks), and the
ONNX check of a finished run's model."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import onnx

from rldojo.checkpoint import load_checkpoint
from rldojo.export import behavior_spec_from_state, input_names, output_names

CORE_TESTS = Path(__file__).parents[1] / "rldojo"
PACKAGE = "rldojo_core_tests"


def _load(name: str) -> ModuleType:
    """Module ``name`` of the core tests, imported as ``rldojo_core_tests.<name>`` (its relative imports
    of other core test helpers, such as ``.specs``, resolve in that package)."""
    if PACKAGE not in sys.modules:
        package = ModuleType(PACKAGE)
        package.__path__ = [str(CORE_TESTS)]
        sys.modules[PACKAGE] = package
    return importlib.import_module(f"{PACKAGE}.{name}")


training_runs = _load("training_runs")
onnx_checks = _load("test_onnx_export")


def check_run_onnx(run: Path, behavior: str) -> None:
    """The final model has the inputs and outputs ML-Agents' exporter writes for this behavior."""
    spec = behavior_spec_from_state(
        load_checkpoint(run / behavior / "checkpoint.pt")["behavior_spec"], behavior
    )
    ours = onnx_checks.signature(onnx.load(run / f"{behavior}.onnx"))
    assert list(ours["inputs"]) == input_names(spec)
    assert list(ours["outputs"]) == output_names(spec)
    assert onnx_checks.constants(run / f"{behavior}.onnx")["version_number"] == [3.0]

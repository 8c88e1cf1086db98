"""The core tests' helpers, reused rather than copied: whole training runs and the ONNX interface checks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

CORE_TESTS = Path(__file__).parents[1] / "rldojo"


def _load(name: str) -> ModuleType:
    module_name = f"rldojo_core_tests.{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, CORE_TESTS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


training_runs = _load("training_runs")
onnx_checks = _load("test_onnx_export")

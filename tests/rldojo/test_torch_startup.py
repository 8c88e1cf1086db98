"""The background torch import of a run's start (rldojo.torch_startup)."""

from __future__ import annotations

import sys
import threading

import pytest

from rldojo.torch_startup import IMPORT_SWITCH_INTERVAL_S, import_torch_in_background


def test_background_import_gives_the_gil_back_quickly_and_restores_the_switch_interval(tmp_path, monkeypatch):
    """The main thread steps the envs while torch imports: no 5 ms wait for the GIL on each wake-up."""
    (tmp_path / "switch_probe.py").write_text("import sys\nINTERVAL = sys.getswitchinterval()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    earlier = _importers()
    for thread in earlier:  # a run of an earlier test in this process may still be importing
        thread.join(timeout=120)
    default_interval = sys.getswitchinterval()
    import_torch_in_background("switch_probe").result(timeout=60)
    for thread in _importers() - earlier:
        thread.join(timeout=120)
    assert pytest.approx(IMPORT_SWITCH_INTERVAL_S) == sys.modules["switch_probe"].INTERVAL
    assert default_interval > IMPORT_SWITCH_INTERVAL_S
    assert sys.getswitchinterval() == default_interval


def _importers() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "import torch"}


def test_a_run_flushes_denormal_floats_to_zero():
    """Denormals (slow on x86; Adam's moments of dead ReLU units decay into them) count as zero in a run."""
    import torch

    from rldojo.torch_startup import configure_torch

    threads = torch.get_num_threads()
    torch.set_flush_denormal(False)  # an earlier run in this process may have turned it on
    denormal = torch.tensor([1e-40])
    assert float(denormal * 1.0) > 0.0
    try:
        configure_torch(0, "cpu")
        assert float(denormal * 1.0) == 0.0
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)

"""Keep torch's compiler stack off the critical path of a run that never compiles.

Building a ``torch.optim`` optimizer calls methods that torch wraps in ``torch._disable_dynamo``; the
wrapper's first call imports ``torch._dynamo`` (with sympy and inductor: about 5 s) only to wrap the
method in "do not compile this". That was the warm-up of the first ``act`` of a run, when the trainers
are built. ``Optimizer.step`` imports it too, unconditionally, so the first update would pay it next:
:func:`import_dynamo_in_background` loads it while the environments start and fill the first buffer.
"""

from __future__ import annotations

import importlib
import threading

__all__ = ["import_dynamo_in_background", "keep_dynamo_unloaded"]

OPTIMIZER_METHODS = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")
"""``torch.optim.Optimizer`` methods wrapped in ``torch._disable_dynamo`` (torch 2.5 to 2.9)."""


def keep_dynamo_unloaded() -> None:
    """Give each wrapped optimizer method its "disabled" form up front: the method itself.

    rldojo never calls ``torch.compile``, so not compiling a method is calling it. The wrapper caches its
    disabled form on the method as ``__dynamo_disable``; found there, it never imports ``torch._dynamo``.
    Should a torch release wrap differently, this does nothing and only the import comes back.
    """
    import torch

    for name in OPTIMIZER_METHODS:
        method = getattr(getattr(torch.optim.Optimizer, name, None), "__wrapped__", None)
        if method is not None and getattr(method, "__dynamo_disable", None) is None:
            method.__dynamo_disable = method


def import_dynamo_in_background() -> threading.Thread:
    """Import ``torch._dynamo`` in a daemon thread, before the first ``optimizer.step()`` needs it."""
    thread = threading.Thread(
        target=importlib.import_module, args=("torch._dynamo",), name="import torch._dynamo", daemon=True
    )
    thread.start()
    return thread

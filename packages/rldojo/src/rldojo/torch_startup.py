"""Keep torch off the critical path of a run's start (this module imports no torch itself).

``import torch`` takes seconds, and so does starting the environments; neither needs the other, so
:func:`import_torch_in_background` overlaps them. :func:`cuda_available` answers "is there a GPU" without
importing torch on the machines where the answer is plainly no, so that config checks and the run manifest
do not wait for torch either.

Building a ``torch.optim`` optimizer calls methods that torch wraps in ``torch._disable_dynamo``; the
wrapper's first call imports ``torch._dynamo`` (with sympy and inductor: about a second of CPU) only to wrap
the method in "do not compile this". That was the warm-up of the first ``act`` of a run, when the trainers
are built: :func:`keep_dynamo_unloaded` removes it. ``Optimizer.step`` imports it too, unconditionally:
rldojo's optimizers are :class:`rldojo.adam.Adam`, whose step does not, so a run never loads the compiler
(a plugin's own ``torch.optim`` optimizer loads it at its first step).

While that thread imports, the main thread steps the environments: each step it waits on a pipe, and on waking
it needs the GIL back from the importing thread, which Python hands over only every switch interval (5 ms by
default): several times the cost of a step. The import thread therefore runs with a 0.2 ms switch interval.
"""

from __future__ import annotations

import ast
import ctypes
import importlib
import os
import sys
import threading
from concurrent.futures import Future
from importlib import metadata
from pathlib import Path

__all__ = [
    "configure_torch",
    "cuda_available",
    "import_torch_in_background",
    "keep_dynamo_unloaded",
    "torch_build",
    "torch_threads",
]

IMPORT_SWITCH_INTERVAL_S = 0.0002
"""``sys.setswitchinterval`` while torch imports in the background (see the module docstring)."""
_SWITCH_INTERVAL_S = sys.getswitchinterval()
"""The interval restored after it: the process's own (read here, so that imports overlapping in one process,
as runs in one test process may, never restore each other's short one)."""

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


def import_torch_in_background(module: str) -> Future[None]:
    """Import ``module`` (which imports torch) in a daemon thread.

    The future is done once ``module`` is imported and the optimizers no longer need the compiler
    (:func:`keep_dynamo_unloaded`); its ``result()`` raises what the import raised.
    """
    imported: Future[None] = Future()

    def import_modules() -> None:
        sys.setswitchinterval(IMPORT_SWITCH_INTERVAL_S)
        try:
            importlib.import_module(module)
            keep_dynamo_unloaded()
        except BaseException as error:
            imported.set_exception(error)
            return
        finally:
            sys.setswitchinterval(_SWITCH_INTERVAL_S)
        imported.set_result(None)

    threading.Thread(target=import_modules, name="import torch", daemon=True).start()
    return imported


def torch_threads() -> int:
    """Half the cores (at least one): the env worker and the trainer each keep a core busy."""
    return max(1, (os.cpu_count() or 1) // 2)


def configure_torch(seed: int, device: str) -> None:
    """Seed torch, give it :func:`torch_threads` threads, flush denormal floats to zero on the CPU, and make
    ``device`` where new networks go.

    Denormals (below ~1.2e-38 in float32) are slow on x86 CPUs: Adam's moments of dead ReLU units decay into
    them (~15% of a DQN CartPole Q-network's Adam state after 1000 gradient steps), which made its fused Adam
    step about 3x slower. Flushed, they are zero: results differ from unflushed arithmetic only there.
    """
    import torch

    from rldojo.networks import set_default_device

    torch.manual_seed(seed)
    torch.set_num_threads(torch_threads())
    torch.set_flush_denormal(True)
    set_default_device(device)


def cuda_available() -> bool:
    """``torch.cuda.is_available()``, importing torch only where a GPU may be present.

    On Linux a CUDA device needs the NVIDIA driver's ``libcuda.so.1`` and a ROCm one the ``/dev/kfd``
    device; without either, no torch build sees a GPU and the answer is False at once.
    """
    if sys.platform.startswith("linux") and not os.path.exists("/dev/kfd"):
        try:
            ctypes.CDLL("libcuda.so.1")
        except OSError:
            return False
    import torch

    return torch.cuda.is_available()


def torch_build() -> tuple[str, str | None]:
    """``torch.__version__`` and ``torch.version.cuda`` (the CUDA version torch was built for), read from the
    ``torch/version.py`` that the torch build writes, without importing torch."""
    try:
        source = Path(str(metadata.distribution("torch").locate_file("torch/version.py"))).read_text()
        constants = {}
        for node in ast.parse(source).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name) and target.id in ("__version__", "cuda"):
                        constants[target.id] = ast.literal_eval(node.value)
        version, cuda = constants["__version__"], constants.get("cuda")
        if isinstance(version, str) and (cuda is None or isinstance(cuda, str)):
            return version, cuda
    except (OSError, SyntaxError, ValueError, KeyError, metadata.PackageNotFoundError):
        pass
    import torch  # a version file that reads otherwise: ask torch

    return torch.__version__, torch.version.cuda

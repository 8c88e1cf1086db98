"""``rldojo sweep``: hyperparameter sweeps of ordinary rldojo runs, locally or as Ray Tune trials on a
cluster.

The names in ``__all__`` are imported on first use, so that adding the command to ``rldojo`` is cheap.
"""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports

if TYPE_CHECKING:
    from rldojo_ray.sweep.settings import SweepSettings, load_sweep_settings
    from rldojo_ray.sweep.study import run_sweep
    from rldojo_ray.sweep.table import TrialResult, format_table

__all__ = ["SweepSettings", "TrialResult", "format_table", "load_sweep_settings", "run_sweep"]

__getattr__ = lazy_exports(
    __name__,
    {
        "SweepSettings": "rldojo_ray.sweep.settings",
        "TrialResult": "rldojo_ray.sweep.table",
        "format_table": "rldojo_ray.sweep.table",
        "load_sweep_settings": "rldojo_ray.sweep.settings",
        "run_sweep": "rldojo_ray.sweep.study",
    },
)

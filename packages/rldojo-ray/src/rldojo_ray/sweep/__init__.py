"""``rldojo sweep``: hyperparameter sweeps of ordinary rldojo runs, locally or as Ray tasks on a cluster."""

from rldojo_ray.sweep.settings import SweepSettings, load_sweep_settings
from rldojo_ray.sweep.study import run_sweep
from rldojo_ray.sweep.table import TrialResult, format_table

__all__ = ["SweepSettings", "TrialResult", "format_table", "load_sweep_settings", "run_sweep"]

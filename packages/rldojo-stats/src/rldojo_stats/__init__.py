"""rldojo-stats: stats writers beyond the core's console and TensorBoard (W&B, CSV, JSONL), and reports.

Public API: the names in ``__all__``. They are imported on first use: every entry point of this
package imports it, and a run that uses only the CSV writer should not pay for W&B. The modules
behind them are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports

if TYPE_CHECKING:
    from rldojo_stats.report import write_report
    from rldojo_stats.tables import (
        CsvWriter,
        JsonlWriter,
        TableOptions,
        get_csv_writers,
        get_jsonl_writers,
    )
    from rldojo_stats.wandb_writer import WandbOptions, WandbWriter, get_wandb_writers

__version__ = "0.1.0"

_EXPORTED_FROM = {
    "CsvWriter": "rldojo_stats.tables",
    "JsonlWriter": "rldojo_stats.tables",
    "TableOptions": "rldojo_stats.tables",
    "WandbOptions": "rldojo_stats.wandb_writer",
    "WandbWriter": "rldojo_stats.wandb_writer",
    "get_csv_writers": "rldojo_stats.tables",
    "get_jsonl_writers": "rldojo_stats.tables",
    "get_wandb_writers": "rldojo_stats.wandb_writer",
    "write_report": "rldojo_stats.report",
}

__all__ = [
    "CsvWriter",
    "JsonlWriter",
    "TableOptions",
    "WandbOptions",
    "WandbWriter",
    "__version__",
    "get_csv_writers",
    "get_jsonl_writers",
    "get_wandb_writers",
    "write_report",
]


__getattr__ = lazy_exports(__name__, _EXPORTED_FROM)

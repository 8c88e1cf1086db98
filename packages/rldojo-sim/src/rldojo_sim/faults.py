"""Fault injection for reliability tests, switched on by extra build arguments.

``--crash-after N`` exits with ``--crash-exit-code`` (default 3) instead of answering step N+1,
``--hang-after N`` stops answering after N steps, ``--slow-start S`` waits S seconds before
connecting, and ``--nan-at N`` puts a NaN into the first vector observation sent after step N.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass

import numpy as np

from rldojo_sim.academy import Frame

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Faults:
    """The faults one player run injects (all off by default)."""

    crash_after: int | None = None
    crash_exit_code: int = 3
    hang_after: int | None = None
    slow_start: float = 0.0
    nan_at: int | None = None

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("fault injection")
        group.add_argument("--crash-after", type=int, metavar="STEPS", help="exit abruptly after STEPS steps")
        group.add_argument("--crash-exit-code", type=int, default=3, help="exit status of --crash-after")
        group.add_argument(
            "--hang-after", type=int, metavar="STEPS", help="stop responding after STEPS steps"
        )
        group.add_argument(
            "--slow-start", type=float, default=0.0, metavar="SECONDS", help="delay before connecting"
        )
        group.add_argument(
            "--nan-at", type=int, metavar="STEP", help="send a NaN observation after step STEP"
        )

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> Faults:
        return cls(args.crash_after, args.crash_exit_code, args.hang_after, args.slow_start, args.nan_at)

    def delay_start(self) -> None:
        if self.slow_start > 0:
            logger.info("Fault injection: slow start, sleeping %.1f s", self.slow_start)
            time.sleep(self.slow_start)

    def before_step(self, steps_done: int) -> None:
        """Crash or hang instead of running the next step, when configured to."""
        if self.crash_after is not None and steps_done >= self.crash_after:
            logger.info("Fault injection: crashing with exit code %d", self.crash_exit_code)
            logging.shutdown()
            os._exit(self.crash_exit_code)
        if self.hang_after is not None and steps_done >= self.hang_after:
            logger.info("Fault injection: hanging")
            while True:
                time.sleep(3600)

    def corrupt(self, steps_done: int, frame: Frame) -> None:
        """Write NaN into the first vector observation of ``frame`` at step ``nan_at``."""
        if self.nan_at is None or steps_done != self.nan_at:
            return
        for batch in frame.batches.values():
            for obs in batch.obs:
                if obs.ndim == 2 and obs.size:
                    logger.info("Fault injection: NaN observation")
                    obs[0, 0] = np.nan
                    return

"""Errors a user can cause, each mapped to an exit code of ``rldojo learn``.

The tree is rooted in :mod:`rldojo_unity.errors` (the bottom package), whose docstring draws all of
it; this module re-exports the root so ``from rldojo.errors import RldojoError`` keeps working.

```
RldojoError            one-line message, exit 1 (training failed)
 +-- ConfigError       bad configuration, flags or paths, exit 2
 +-- TrainingInterrupted
                       Ctrl-C / SIGTERM after the state was saved, exit 130
```
"""

from __future__ import annotations

from rldojo_unity.errors import ConfigError, RldojoError

__all__ = ["ConfigError", "RldojoError", "TrainingInterrupted"]


class TrainingInterrupted(RldojoError):
    """Training stopped on Ctrl-C or SIGTERM after a checkpoint was saved."""

    exit_code = 130

"""Errors a user can cause, each mapped to an exit code of ``rldojo learn``.

```
RldojoError            one-line message, exit 1 (training failed)
 +-- ConfigError       bad configuration, flags or paths, exit 2
 +-- TrainingInterrupted
                       Ctrl-C / SIGTERM after the state was saved, exit 130
```
"""

from __future__ import annotations


class RldojoError(Exception):
    """An error whose message (one line) is shown to the user without a traceback."""

    exit_code = 1


class ConfigError(RldojoError):
    """The configuration file, a command-line flag or a path given by the user is invalid."""

    exit_code = 2


class TrainingInterrupted(RldojoError):
    """Training stopped on Ctrl-C or SIGTERM after a checkpoint was saved."""

    exit_code = 130

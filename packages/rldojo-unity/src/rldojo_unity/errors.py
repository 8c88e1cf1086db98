"""The root of every error a user of rldojo can cause; each class carries its exit code.

Every package raises subclasses of :class:`RldojoError` for problems a user can cause and fix, so one
``except RldojoError`` catches them all and ``error.exit_code`` says how a command ends. rldojo-unity
is the bottom package, so the root lives here; ``rldojo.errors`` re-exports it.

```
RldojoError                  exit 1: a run or command failed; the one-line message says why
 +-- ConfigError             exit 2: bad input (configuration, flag, path, option); nothing ran
 |    +-- DemonstrationError rldojo_unity.demonstrations (also ValueError): a .demo file that
 |    |                      cannot be read or does not match the behavior
 |    +-- PortInUseError     rldojo_unity.ports: a pinned --base-port is taken (also mlagents'
 |    |                      UnityWorkerInUseException)
 |    +-- SimError           rldojo_sim.errors (also ValueError): UnknownSceneError, SceneOptionError
 |    +-- GymEnvError        rldojo_gym.errors (also ValueError): a Gymnasium id, behavior or space
 |                           that rldojo-gym cannot serve
 +-- PluginError             rldojo.plugins: an installed plugin fails to load or breaks its contract
 +-- EnvWorkerFailed         rldojo.envs.supervision: an env worker failed past its restart budget
 +-- EnvFailedInProcess      rldojo.envs.supervision: an env stepped in the trainer's process raised
 +-- TrainingInterrupted     rldojo.errors: Ctrl-C / SIGTERM after the state was saved, exit 130
```
"""

from __future__ import annotations

__all__ = ["ConfigError", "RldojoError"]


class RldojoError(Exception):
    """An error whose message (one line) is shown to the user without a traceback."""

    exit_code = 1


class ConfigError(RldojoError):
    """Bad input: the configuration file, a command-line flag, a path or an option given by the user."""

    exit_code = 2

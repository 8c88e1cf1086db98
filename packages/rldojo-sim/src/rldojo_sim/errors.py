"""Errors a user of rldojo-sim can cause; each message says what to do.

They belong to rldojo's one error tree (:mod:`rldojo_unity.errors`): bad input, exit 2. They stay
``ValueError`` s for code that catches those.

ConfigError (rldojo_unity.errors)
└── SimError (also ValueError)
    ├── UnknownSceneError   a scene name that is not registered
    └── SceneOptionError    an option a scene does not have, or a value of the wrong type
"""

from rldojo_unity.errors import ConfigError

__all__ = ["SceneOptionError", "SimError", "UnknownSceneError"]


class SimError(ConfigError, ValueError):
    """Base class of rldojo-sim's user-facing errors."""


class UnknownSceneError(SimError):
    """The scene name is not one of ``rldojo_sim.scene_names()``."""


class SceneOptionError(SimError):
    """A scene option is unknown or has an invalid value."""

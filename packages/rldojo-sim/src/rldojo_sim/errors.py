"""Errors a user of rldojo-sim can cause; each message says what to do.

SimError (ValueError)
├── UnknownSceneError   a scene name that is not registered
└── SceneOptionError    an option a scene does not have, or a value of the wrong type
"""


class SimError(ValueError):
    """Base class of rldojo-sim's user-facing errors."""


class UnknownSceneError(SimError):
    """The scene name is not one of ``rldojo_sim.scene_names()``."""


class SceneOptionError(SimError):
    """A scene option is unknown or has an invalid value."""

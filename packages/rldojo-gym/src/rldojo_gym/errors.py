"""The error rldojo-gym raises for what its user asks and it cannot serve.

Part of rldojo's one error tree (:mod:`rldojo_unity.errors`): bad input, exit 2; still a
``ValueError`` for code that catches those.

ConfigError (rldojo_unity.errors)
└── GymEnvError (also ValueError)   an unknown behavior, an unsupported space or autoreset mode, an
                                    option or action of the wrong shape
"""

from rldojo_unity.errors import ConfigError

__all__ = ["GymEnvError"]


class GymEnvError(ConfigError, ValueError):
    """A Gymnasium env, behavior, space, option or action that rldojo-gym cannot serve as asked."""

"""rldojo-unity: the Unity bridge.

Importing this package makes ``mlagents_envs`` work on current Python and protobuf (see
:mod:`rldojo_unity.protobuf_compat`). An installed environment applies it at interpreter start
through the ``rldojo_unity.pth`` file, so a plain ``import mlagents_envs`` works too.

Public API: the names in ``__all__`` (the root of rldojo's error tree, :mod:`rldojo_unity.errors`),
and the modules ``rldojo_unity.ports``, ``rldojo_unity.environment``,
``rldojo_unity.demonstrations`` and ``rldojo_unity.vector_steps``. The other modules
(``communicator``, ``handoff``, ``protobuf_compat``, ``varint``) are internal. This package runs at every
interpreter start, so it imports only what the import hook and the errors need.
"""

from rldojo_unity.errors import ConfigError, RldojoError
from rldojo_unity.protobuf_compat import install as _install_protobuf_compat

__version__ = "0.1.0"

__all__ = ["ConfigError", "RldojoError", "__version__"]

_install_protobuf_compat()

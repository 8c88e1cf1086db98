"""rldojo-unity: the Unity bridge.

Importing this package makes ``mlagents_envs`` work on current Python and protobuf (see
:mod:`rldojo_unity.protobuf_compat`). An installed environment applies it at interpreter start
through the ``rldojo_unity.pth`` file, so a plain ``import mlagents_envs`` works too.
"""

from rldojo_unity.protobuf_compat import install as _install_protobuf_compat

__version__ = "0.1.0"

_install_protobuf_compat()

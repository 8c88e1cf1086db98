"""rldojo: the core (settings, plugin registry, env workers, trainers, the ``rldojo`` CLI, ONNX export).

Public API: the names in ``__all__`` (the error tree, see :mod:`rldojo_unity.errors`), and the plugin
API that ``docs/plugins.md`` documents, imported from its modules: ``rldojo.settings``,
``rldojo.trainers``, ``rldojo.policy``, ``rldojo.networks``, ``rldojo.stats``, ``rldojo.trajectory``,
``rldojo.buffer``, ``rldojo.plugins``. Every other module is internal and may change without notice.
Importing this package imports no torch.
"""

from rldojo.errors import ConfigError, RldojoError, TrainingInterrupted

__version__ = "0.1.0"

__all__ = ["ConfigError", "RldojoError", "TrainingInterrupted", "__version__"]

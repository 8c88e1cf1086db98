"""rldojo_sb3."""

__version__ = "0.1.0"

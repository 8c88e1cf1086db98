"""Example rldojo plugin: the ``count_novelty`` reward signal."""

"""Example rldojo plugins: the ``vpg`` trainer type and the ``reward_log`` stats writer."""

"""Example off-policy rldojo plugin: the ``nstep_q`` trainer type (n-step Q-learning)."""

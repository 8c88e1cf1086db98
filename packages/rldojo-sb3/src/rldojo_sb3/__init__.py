"""rldojo-sb3: Stable-Baselines3 algorithms as rldojo trainer types (``sb3_ppo``, ``sb3_sac``, ...).

The ``rldojo.trainer_type`` entry point :func:`rldojo_sb3.registration.get_type_and_setting` registers
them; a run's YAML selects one with ``trainer_type: sb3_ppo`` and gives the SB3 constructor arguments as
``hyperparameters``.
"""

__version__ = "0.1.0"

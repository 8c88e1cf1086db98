"""Subcommands of the ``rldojo`` command line, one module each."""

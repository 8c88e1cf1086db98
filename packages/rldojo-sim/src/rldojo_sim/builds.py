"""Builds: the ``<Name>/<Name>.x86_64`` launchers that ``UnityEnvironment(file_name=...)`` starts."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from rldojo_sim.scenes import scene_class

LAUNCHER = """#!{python}
# rldojo-sim build of the {name} scene, written by `rldojo-sim build`; regenerate rather than edit.
# Runs the simulated Unity player with this interpreter; all arguments are passed through.
import os
import sys

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # keep gRPC's shutdown chatter out of the player log

from rldojo_sim.player import main

sys.exit(main(["--scene", "{name}", *sys.argv[1:]]))
"""


def build(name: str, out_dir: str | Path) -> Path:
    """Write the launcher of scene ``name`` into ``out_dir`` and return its path.

    The launcher's interpreter is the one running this function, so it finds this installation.
    """
    scene = scene_class(name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    launcher = out / f"{scene.name}.x86_64"
    launcher.write_text(LAUNCHER.format(python=sys.executable, name=scene.name))
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return launcher

"""The ``rldojo`` command line: subcommands, one-line errors and exit codes.

Exit codes: 0 finished, 1 training error, 2 bad input (config, flags, paths), 130 interrupted.
Errors print one line; ``--debug`` adds the traceback. Installed packages add subcommands through the
``rldojo.cli`` entry-point group (rldojo-stats adds ``report``). Nothing here imports torch: the
subcommands import what they need when they run.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import traceback
from collections.abc import Sequence
from importlib import metadata
from typing import Any, NoReturn

from rldojo import plugins as plugin_registry
from rldojo.commands import builds, docker, evaluate, export, learn, plugins
from rldojo.errors import ConfigError, RldojoError, TrainingInterrupted
from rldojo.os_errors import describe_os_error

RLDOJO_DISTRIBUTIONS = (
    "rldojo", "rldojo-unity", "rldojo-sim", "rldojo-stats", "rldojo-gym", "rldojo-sb3", "rldojo-ray",
)  # fmt: skip
EXIT_INTERRUPTED = 130

logger = logging.getLogger(__name__)


def installed_versions() -> dict[str, str]:
    """Versions of the rldojo distributions installed in this environment, by distribution name."""
    versions = {}
    for name in RLDOJO_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object):
        super().__init__(option_strings, dest, nargs=0, help="list installed rldojo packages and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        width = max(map(len, RLDOJO_DISTRIBUTIONS))
        lines = [f"{name:<{width}}  {version}" for name, version in installed_versions().items()]
        print("\n".join(lines))
        parser.exit()


class _OneLineErrorParser(argparse.ArgumentParser):
    """Reports a bad flag in one line (exit 2) instead of argparse's usage block, and takes flags only as
    spelled in full: a typo such as ``--res`` is an error, not ``--resume``. Every subcommand's parser
    (plugins' included) is one of these."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrorParser(
        prog="rldojo",
        description="Train reinforcement-learning agents in Unity ML-Agents and Gymnasium environments.",
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineErrorParser)
    learn.add_parser(subparsers)
    plugins.add_parser(subparsers)
    export.add_parser(subparsers)
    evaluate.add_parser(subparsers)
    docker.add_parser(subparsers)
    builds.add_parser(subparsers)
    _add_plugin_commands(subparsers)
    for command_parser in subparsers.choices.values():  # so a stray flag is reported by its subcommand
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def _add_plugin_commands(subparsers: argparse._SubParsersAction) -> None:
    """Subcommands of installed ``rldojo.cli`` plugins; one that fails is named in a warning and left out."""
    for source, add_parser in plugin_registry.cli_plugins():
        if isinstance(add_parser, plugin_registry.BrokenPlugin):
            logger.warning("%s; its command is left out", add_parser.message)
            continue
        try:
            add_parser(subparsers)
        except Exception as error:
            cause = f"{type(error).__name__}: {error}".splitlines()[0]
            logger.warning("plugin %s in group %s failed to add its command: %s; it is left out", source,
                           source.group, cause)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and turn its outcome into an exit code."""
    given = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in given
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("rldojo").setLevel(logging.DEBUG if debug else logging.INFO)
    if not debug:
        threading.excepthook = _one_line_thread_error
    parser = build_parser()
    args, unrecognized = parser.parse_known_args(given)
    if unrecognized:
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(unrecognized)}")
    if args.command is None:
        parser.print_help()
        return 0
    args.command_line = [sys.argv[0] if argv is None else "rldojo", *given]
    try:
        return args.command_function(args)
    except (Exception, KeyboardInterrupt) as error:
        debug = debug or bool(getattr(args, "debug", False))
        if debug:
            traceback.print_exception(error)
        code, message = outcome(error)
        hint = " (run with --debug for the traceback)" if code == 1 and not debug else ""
        print(f"rldojo: {message}{hint}", file=sys.stderr)
        return code


def _one_line_thread_error(failure: threading.ExceptHookArgs) -> None:
    """A library's background thread that fails (TensorBoard's writer on a full disk) logs one line."""
    error = failure.exc_value
    message = outcome(error)[1] if isinstance(error, BaseException) else str(failure.exc_type)
    name = failure.thread.name if failure.thread is not None else "a background thread"
    logging.getLogger("rldojo").warning("%s stopped: %s", name, message)


def outcome(error: BaseException) -> tuple[int, str]:
    """Exit code and one-line message for an error that ended a command."""
    first_line = str(error).splitlines()[0] if str(error) else ""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(error, (ConfigError, TrainingInterrupted)):
        return error.exit_code, first_line
    if isinstance(error, RldojoError):
        return error.exit_code, f"error: {first_line}"
    if isinstance(error, OSError) and error.errno is not None:
        return describe_os_error(error)
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return 1, "out of memory; use smaller networks (hidden_units, num_layers), buffers or --num-envs"
    return 1, f"{type(error).__name__}: {first_line}"


if __name__ == "__main__":
    sys.exit(main())

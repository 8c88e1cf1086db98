"""Every command line in the repository takes flags only as spelled in full, so a typo is an error."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.smoke


def argument_parsers_taking_abbreviations(path: Path) -> list[int]:
    """Lines of ``path`` that build an ``ArgumentParser`` without ``allow_abbrev=False``."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == "ArgumentParser"
        and not any(
            keyword.arg == "allow_abbrev"
            and isinstance(keyword.value, ast.Constant)
            and keyword.value.value is False
            for keyword in node.keywords
        )
    ]


def test_no_script_or_package_parser_takes_an_abbreviated_flag():
    sources = sorted(
        [*ROOT.glob("scripts/*.py"), *ROOT.glob("packages/*/src/**/*.py"), *ROOT.glob("examples/**/*.py")]
    )
    assert len(sources) > 100
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sources
        for line in argument_parsers_taking_abbreviations(path)
    ]
    assert offenders == []

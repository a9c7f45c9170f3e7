"""The README documents every command and subcommand the CLI has (datasette's habit: undocumented fails)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from samachar.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append((*path, name))
                found.extend(commands(child, (*path, name)))
    return found


def documented(command: tuple[str, ...]) -> bool:
    """A README line names ``samachar <first>`` and each further word (``models list|import`` counts)."""
    first, *rest = command
    for line in README.splitlines():
        if f"samachar {first}" in line and all(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", line) for w in rest):
            return True
    return False


def test_every_command_is_in_the_readme():
    assert [" ".join(c) for c in commands(build_parser()) if not documented(c)] == []

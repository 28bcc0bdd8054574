"""The README is true: every command it shows runs as written (with ``--help``, or ``make -n``),
and every option it names exists. Commands are read from its code blocks and inline code."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from actionwave.cli import build_cli
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_ASSIGNMENT = re.compile(r"^[A-Z_]+=\S+$")
OPTION = re.compile(r"^\[?(--?[a-z][\w-]*)")
# A command (not a path such as actionwave/intake/surge.py); "python bench/…" stands for any of
# them.
STARTS = re.compile(r"^((\.venv/bin/)?actionwave( |$)|(\.venv/bin/)?python bench/\w+\.py|make |"
                    r"\. \.venv/bin/activate$)")


def documented_commands() -> list[str]:
    """Each command in a ``sh`` block or an inline code span, without the variables set
    before it or a trailing comment."""
    found: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        found += [line.split("  #")[0].strip() for line in block.splitlines()]
    found += [span.replace("\\|", "|") for span in re.findall(r"`([^`\n]+)`", README)]
    commands = []
    for text in found:
        words = text.split()
        while words and ENV_ASSIGNMENT.match(words[0]):
            words.pop(0)
        command = " ".join(words)
        if STARTS.match(command) and command not in commands:
            commands.append(command)
    return commands


COMMANDS = documented_commands()


def test_the_readme_documents_the_commands_a_newcomer_needs():
    assert "DATA_SOURCE=../shared/data make run" in README
    for expected in (".venv/bin/actionwave user create --email you@example.org --role admin",
                     ". .venv/bin/activate", "make run", "python bench/wave.py",
                     "actionwave wave list [--campaign SLUG] [--status S] [--json]",
                     "actionwave coverage import FILE [--dry-run]"):
        assert expected in COMMANDS, expected


def _paths(group: click.Group, words: list[str], path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """The command paths ``words`` name (``a|b`` names several), and the words left."""
    if words and isinstance(group, click.Group):
        names = words[0].split("|")
        if all(name in group.commands for name in names):
            for name in names:
                yield from _paths(group.commands[name], words[1:], (*path, name))
            return
    yield path, words


def _options(words: list[str]) -> list[str]:
    return [m[1] for word in words if (m := OPTION.match(word))]


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.startswith("actionwave")])
def test_each_actionwave_command_and_option_in_the_readme_exists(command: str):
    tree = build_cli()
    for path, rest in _paths(tree, shlex.split(command.replace("…", ""))[1:]):
        result = CliRunner().invoke(tree, [*path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, (command, path, result.output)
        for option in _options(rest):
            assert option in result.output, f"{command}: {' '.join(path)} has no {option}"


def virtualenv_bin() -> Path:
    """The virtualenv running the tests (``make test``: the project's ``.venv``)."""
    return Path(sys.executable).parent


@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.startswith("actionwave")])
def test_each_script_make_target_and_venv_command_in_the_readme_runs(command: str,
                                                                     tmp_path: Path):
    words = shlex.split(command)
    if words[0] == ".":  # activation: the script is there
        assert (virtualenv_bin() / "activate").exists()
        return
    if words[0] == "make":
        result = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return
    if words[0].endswith("actionwave"):
        argv = [str(virtualenv_bin() / "actionwave"), *words[1:3], "--help"]
        argv = [a for a in argv if not a.startswith("-") or a == "--help"]
    else:  # a benchmark: a script, run from another folder than the project's
        argv = [sys.executable, str(ROOT / words[1]), "--help"]
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (command, result.stderr[-2000:])
    for option in _options(words[2:]):
        assert option in result.stdout, f"{command}: no {option}"

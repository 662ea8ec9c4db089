"""Every command has help text and appears in the README; CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from aggregator.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, full + " "))
    return found


@pytest.mark.parametrize("name, command", all_commands(cli))
def test_command_has_help_and_is_documented(name: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"{name} has no help text"
    assert f"aggregator {name}" in README, f"README does not mention `aggregator {name}`"
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    blocks = re.findall(r"^    (python3 -m venv .*)$", README, flags=re.M)
    assert len(blocks) == 2, "README must give exactly two set-up commands"
    demo, tests = blocks
    assert "aggregator demo" in demo
    assert "pytest" in tests
    assert tests in ci.splitlines()


def test_python_dash_m_works() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "aggregator", "--version"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0 and "aggregator" in out.stdout

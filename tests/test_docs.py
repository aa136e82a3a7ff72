"""Every command has help text and appears in the README with an example."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from xmflow.cli.entry import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def commands(group=None, prefix: str = "") -> dict[str, object]:
    group = group or typer.main.get_command(app)
    found = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update(commands(command, f"{prefix}{name} "))
        else:
            found[prefix + name] = command
    return found


def test_every_command_has_help_and_a_readme_entry() -> None:
    names = commands()
    assert {
        "init",
        "new",
        "set",
        "edit",
        "show",
        "sign",
        "status",
        "invoice",
        "receive",
        "process show",
        "process export",
        "demo",
    } <= set(names)
    for name, command in names.items():
        assert command.help and command.help.strip(), f"{name} has no help text"
        assert f"`xmflow {name}" in README, f"the README does not document xmflow {name}"


def test_help_prints_for_every_command() -> None:
    runner = CliRunner()
    for name in commands():
        result = runner.invoke(app, [*name.split(), "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, name


def test_dash_h_is_help_and_version_prints_the_installed_version() -> None:
    """Issue 11: what every command line has: -h as --help, at every level, and --version."""
    from importlib.metadata import version

    runner = CliRunner()
    for args in ([], ["status"], ["process"], ["process", "show"], ["invoice"]):
        short, long = runner.invoke(app, [*args, "-h"]), runner.invoke(app, [*args, "--help"])
        assert short.exit_code == long.exit_code == 0 and short.output == long.output and "Usage:" in short.output
    shown = runner.invoke(app, ["--version"])
    assert shown.exit_code == 0 and shown.output == f"xmflow {version('xmflow')}\n"

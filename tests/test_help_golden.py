"""`--help` of every command and group, in Chinese and in English, pinned by golden files.

tests/golden/help/{zh,en}/<command>.txt hold what `xmflow --lang LANG <command> -h` prints at
100 columns (``xmflow.txt`` is `xmflow -h`; a subcommand's words are joined by ``-``:
``process-show.txt``). After a deliberate change of a help text, regenerate them with
``python -m pytest tests/test_help_golden.py --update-golden`` (or ``XMFLOW_REGEN=1``) and read
the diff before committing.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from xmflow.cli.entry import app

GOLDEN = Path(__file__).parent / "golden" / "help"
LANGUAGES = ("zh", "en")
COLUMNS = "100"  # the help is wrapped to the terminal: the golden files are for one width


def command_paths(group=None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group of the command line, the root first, as the words that call it."""
    group = group or typer.main.get_command(app)
    found = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += command_paths(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


PATHS = command_paths()


def golden_file(lang: str, path: tuple[str, ...]) -> Path:
    return GOLDEN / lang / f"{'-'.join(path) or 'xmflow'}.txt"


def shown_help(lang: str, path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, ["--lang", lang, *path, "-h"], env={"COLUMNS": COLUMNS}, prog_name="xmflow")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def regenerate(update_golden: bool) -> bool:
    return update_golden or os.environ.get("XMFLOW_REGEN") == "1"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "xmflow" for p in PATHS])
def test_help_matches_its_golden_file(lang: str, path: tuple[str, ...], regenerate: bool) -> None:
    text = shown_help(lang, path)
    golden = golden_file(lang, path)
    if regenerate:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    if not golden.is_file():
        pytest.fail(
            f"no golden file {golden.relative_to(GOLDEN.parent.parent.parent)}: run "
            "`python -m pytest tests/test_help_golden.py --update-golden`, read the file, commit it"
        )
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(True), text.splitlines(True), f"golden/help/{lang}/{golden.name}", "shown"
                )
            )[:80]
        )
        pytest.fail(
            f"{golden.name} ({lang}) differs from the help shown (if the change is meant, rerun with "
            f"--update-golden and review the diff):\n{diff}"
        )


def test_every_golden_file_is_of_a_command() -> None:
    """A command renamed or removed takes its golden files with it."""
    wanted = {golden_file(lang, path) for lang in LANGUAGES for path in PATHS}
    kept = set(GOLDEN.glob("*/*.txt"))
    assert not kept - wanted, f"golden files of no command: {sorted(str(p) for p in kept - wanted)}"


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "xmflow" for p in PATHS])
def test_help_is_in_the_language_asked_and_fits_the_terminal(path: tuple[str, ...]) -> None:
    """The Chinese help has its sections named in Chinese, no line wider than click's 78 columns
    or so (a Chinese character takes two), and in either language the list of commands gives each
    one's first sentence whole, never cut short with '...'."""
    from xmflow.cli.lang import cells

    text = shown_help("zh", path)
    assert text.startswith("用法：") and "选项：" in text and "Options" not in text and "[required]" not in text
    commands = text.split("命令：\n", 1)[1] if "命令：\n" in text else ""
    assert not [line for line in commands.splitlines() if line.rstrip().endswith("...")], commands
    for line in text.splitlines():
        assert cells(line) <= 80, f"{cells(line)} columns: {line}"  # click wraps help at 78 columns at most
    english = shown_help("en", path)
    assert english.startswith("Usage: ") and "Options:" in english
    commands = english.split("Commands:\n", 1)[1] if "Commands:\n" in english else ""
    assert not [line for line in commands.splitlines() if line.rstrip().endswith("...")], commands

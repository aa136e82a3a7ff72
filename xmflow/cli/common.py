"""What the command modules share: the workspace and console of a command, common options, and
the checks of what was typed on the command line, made before a command does anything."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from xmflow.changes.ledger import amount_of
from xmflow.changes.session import Result, end_of_command
from xmflow.cli.console import Out, OutputError
from xmflow.errors import RuleError, UsageError
from xmflow.files import output_path
from xmflow.git import journal
from xmflow.i18n import _
from xmflow.records.workspace import Workspace
from xmflow.values import brief, check_text, parse_date, quoted

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def out_of(ctx: typer.Context) -> Out:
    """Where this command prints (language and colour from the global options)."""
    obj = ctx.find_root().obj or {}
    return obj.get("out") or Out()


def workspace_of(ctx: typer.Context) -> Workspace:
    """The workspace this command works in (found from -C or the current folder upwards). A
    change that a killed command left half done is finished first, unless another command is
    running (a changing command then finishes it under the lock, in `Session.start`); the lock a
    changing command takes is released when the command ends."""
    ws = Workspace.find(ctx.find_root().obj["path"])
    ctx.call_on_close(end_of_command)
    journal.finish_if_free(ws.root)
    return ws


def require_trusted_settings(ws: Workspace) -> None:
    """Refuse (exit 1) a command that acts through the settings — templates, mail servers, people's
    addresses — while they are not the ones an admin last committed."""
    from xmflow.trust import audit  # the history of the settings is read only by the commands that need it

    untrusted = audit.untrusted_settings(ws.root)
    if untrusted:
        raise RuleError(untrusted)


def day_of(text: str | None, option: str) -> date | None:
    """A date given on the command line, or None; a bad one is bad usage naming the option."""
    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def check_values(command: Any, parent: typer.Context, args: list[str]) -> None:
    """Before *command* runs, refuse an empty value, which no option or argument may be given:
    ``status ''`` is a mistake in a script, not ``status``, nor ``--role ''`` no role. (A value of
    blanks is the command's to judge: ``--number ' '`` has no number, ``-m ' '`` no text; an id too
    long for a folder, the workspace's: no project has it.)"""
    ctx = command.context_class(command, info_name=command.name, parent=parent, resilient_parsing=True)
    _refuse_negative_amount(command, args)
    values, rest, _order = command.make_parser(ctx).parse_args(args=list(args))
    for param in command.params:
        given = values.get(param.name)
        name = "/".join(param.opts) if param.param_type_name == "option" else (param.name or "").upper()
        for value in given if isinstance(given, (list, tuple)) else [given]:
            if value == "":
                if param.required:
                    raise UsageError(_("{name}: an empty value; give one").format(name=name))
                raise UsageError(_("{name}: an empty value; give one, or leave {name} out").format(name=name))
    sub = command.get_command(ctx, rest[0]) if hasattr(command, "commands") and rest else None
    if sub is not None:
        check_values(sub, ctx, rest[1:])


def _refuse_negative_amount(command: Any, args: list[str]) -> None:
    """``invoice P -5``: the amount's own message, not "no such option -5" (the parser takes
    anything that starts with a dash for an option)."""
    if not any(p.param_type_name == "argument" and p.name == "amount" for p in command.params):
        return
    for arg in args:
        if arg == "--":
            return
        if arg.startswith("-") and arg[1:2].isdigit():
            amount_of(arg)  # refuses it, with the amount's own message


def text_of(
    value: str | None, option: str, multiline: bool = False, blank: bool = True, required: bool = False
) -> str | None:
    """Text typed on the command line that is kept (a name, a note, a reference): no control
    characters, on one line unless *multiline*, and not only blanks unless *blank* (where blanks
    would be taken for no value); None stays None."""
    if value is None:
        return None
    what = _("a single line of text") if not multiline else _("plain text")
    if any("\ud800" <= c <= "\udfff" for c in value):  # bytes that were not UTF-8
        raise UsageError(
            _("{option} must be {what}, in UTF-8 (got {value}); type it again").format(
                option=option, what=what, value=brief(value)
            )
        )
    if not blank and not value.strip():
        if required:
            raise UsageError(_("{option}: an empty text (only blanks); give one").format(option=option))
        raise UsageError(
            _("{option}: an empty text (only blanks); give one, or leave {option} out").format(option=option)
        )
    try:
        return check_text(value, multiline=multiline)
    except ValueError as exc:
        why = (
            _("it has a line break")
            if not multiline and ("\n" in value or "\r" in value)
            else _("it {problem}").format(problem=exc)
        )
        raise UsageError(
            _("{option} must be {what}: {why} (got {value})").format(
                option=option, what=what, why=why, value=brief(value)
            )
        ) from None


def output_of(text: str | None, option: str, example: str) -> Path | None:
    """An output file named by *option*, checked before any work is done; None when not given."""
    return None if text is None else output_path(text, option, example)


def folder_of(text: str | None, option: str) -> Path | None:
    """A folder named on the command line (``-C``, ``init PATH``); an empty name is refused, not
    taken for the current folder."""
    if text is None:
        return None
    if not text.strip():
        raise UsageError(_("{option}: an empty path; give a folder, or leave {option} out").format(option=option))
    try:
        os.stat(text)
    except (FileNotFoundError, NotADirectoryError):
        pass  # said by whoever looks for the workspace there, or makes it
    except OSError as exc:  # a name too long, a loop of links
        raise UsageError(f"{option} {text}: {exc.strerror}") from None
    return Path(text)


def editor_command() -> list[str]:
    """The editor to run, from $VISUAL or else $EDITOR (vi when neither is set); an empty one or
    one that is not valid shell words is bad usage naming the variable."""
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable)
        if value is None:
            continue
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise UsageError(
                _("${variable} ({value}) cannot be read as a command: {problem}; fix it, e.g. {variable}=nano").format(
                    variable=variable, value=quoted(value), problem=exc
                )
            ) from None
        if not words:
            raise UsageError(
                _("${variable} is empty; set it to your editor, e.g. {variable}=nano, or unset it").format(
                    variable=variable
                )
            )
        return words
    return ["vi"]


def report_change(ctx: typer.Context, result: Result) -> None:
    """What a change did, one line (and its notes): the same for every changing command."""
    out = out_of(ctx)
    with made(ctx, f"{result.project} [{result.commit[:8]}]"):
        out.line(f"{result.summary} [{result.commit[:8]}]")
    for note in result.notes:
        out.note(note)


@contextlib.contextmanager
def made(ctx: typer.Context, made_what: str) -> Iterator[None]:
    """Saying what a change did: if the standard output cannot take it, the change is made all
    the same, and exit 2 would tell a script it was refused; say so on stderr, and end with 0."""
    try:
        yield
    except OutputError as exc:
        out_of(ctx).error(
            _("{problem}; the change is made all the same: {change}").format(problem=exc.message, change=made_what)
        )

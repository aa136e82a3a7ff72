"""What the command modules share: the workspace and console of a command, and common options."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from xmflow import journal
from xmflow.console import Out
from xmflow.errors import UsageError
from xmflow.session import end_of_command
from xmflow.values import parse_date
from xmflow.workspace import Workspace

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


def day_of(text: str | None, option: str) -> date | None:
    """A date given on the command line, or None; a bad one is bad usage naming the option."""
    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None

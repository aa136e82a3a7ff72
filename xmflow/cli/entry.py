"""The command line with every command. The demo builds its workspace
through the other commands, so it joins them here, above them (:mod:`xmflow.cli.app`)."""

from __future__ import annotations

from typing import Annotated

import typer

from xmflow.cli import demo as demo_mod
from xmflow.cli.app import app, glance
from xmflow.cli.common import folder_of, out_of
from xmflow.i18n import _
from xmflow.records.workspace import Workspace
from xmflow.reports import overview, portfolio

__all__ = ["app", "demo"]  # the app with every command


@app.command()
def demo(
    ctx: typer.Context,
    path: Annotated[
        str | None, typer.Argument(metavar="PATH", help="Where to build it (default: a new temporary folder).")
    ] = None,
) -> None:
    """Build a demo workspace through the real commands, and show its status."""
    root = demo_mod.build(folder_of(path, "PATH"))
    out = out_of(ctx)
    out.line(_("demo workspace: {folder}").format(folder=root), style="bold")
    ws = Workspace(root)
    as_of = demo_mod.script().today
    found = overview.lines(ws, as_of)[0]
    out.projects(portfolio.table([line.summary for line in found], ws.process))
    glance(out, ws, found)
    out.line("")
    out.line(
        _("try: cd {folder} && xmflow status {project} --as-of {day}").format(
            folder=root, project=demo_mod.SHOWCASE, day=as_of
        )
    )

"""The command of the web portal: `xmflow site -o DIR`."""

from __future__ import annotations

import contextlib
import signal
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from xmflow.cli.common import day_of, out_of, text_of, workspace_of
from xmflow.cli.console import Out
from xmflow.clock import now
from xmflow.errors import RuleError, UsageError
from xmflow.i18n import _
from xmflow.trust import audit

app = typer.Typer()


@app.command()
def site(
    ctx: typer.Context,
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", metavar="DIR", help="The folder to write the portal into (made if need be)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day figures are computed for (default today).")
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then serve it on this computer only (127.0.0.1) until Ctrl-C; without -o, from a temporary folder.",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, metavar="N", help="With --serve: the port (default: a free one).")
    ] = 0,
    pdf: Annotated[bool, typer.Option("--pdf", help="Each form also as a PDF ready to print (the pdf extra).")] = False,
) -> None:
    """Build a static web portal of the workspace: the portfolio, a page per project, per person, the receivables.

    The pages need nothing from outside (open DIR/index.html from the disk, or serve DIR with any
    web server), change nothing, and each says the commit it was built from.
    """
    from xmflow.forms import site as site_mod  # Jinja is loaded by the commands that print pages

    if output is None and not serve:
        raise UsageError(_("give -o DIR, the folder to write the portal into (or --serve to look at it at once)"))
    ws = workspace_of(ctx)
    untrusted = audit.untrusted_settings(ws.root)  # the forms print only through templates an admin committed
    if untrusted:
        raise RuleError(untrusted)
    day = day_of(as_of, "--as-of") or now().date()
    with contextlib.ExitStack() as stack:
        if output is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="xmflow-site-")))
        else:
            folder = Path(text_of(output, "-o", blank=False, required=True) or "")
        built = site_mod.build(ws, folder, day, pdf=pdf)
        out = out_of(ctx)
        out.line(
            _("wrote {count} pages into {folder} (commit {commit}): open {index}").format(
                count=len(built.pages), folder=folder, commit=built.commit[:8], index=folder / "index.html"
            )
        )
        for problem in built.problems:
            out.error(problem)
        if serve:
            _serve(out, site_mod.serve(folder, port))
    if built.problems:
        raise typer.Exit(2)


def _serve(out: Out, server: Any) -> None:
    """Serve until Ctrl-C (or a polite kill), then close."""
    signal.signal(signal.SIGTERM, _stop)
    host, port = server.server_address[:2]
    out.line(_("serving http://{host}:{port}/ for this computer only (Ctrl-C stops it)").format(host=host, port=port))
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt

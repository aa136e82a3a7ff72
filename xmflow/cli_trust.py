"""The commands that make the records trustworthy: the audit trail, its verification, the
checks of the working tree, the git hooks that run them, and sharing through a remote."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xmflow import audit, checks, hooks, store
from xmflow import trail as trail_mod
from xmflow.cli_common import JsonOpt, out_of, workspace_of
from xmflow.errors import UsageError
from xmflow.workspace import valid_project_id

app = typer.Typer()
hooks_app = typer.Typer(no_args_is_help=True, help="git hooks that run xmflow's checks.")
app.add_typer(hooks_app, name="hooks")


@app.command()
def log(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Argument(help="Only this project.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail from git: who did what, in which role, when, why; waits and reject loops."""
    ws = workspace_of(ctx)
    if project:
        ws.project(project)  # an unknown project is bad usage, not an empty trail
    entries, loops = trail_mod.trail(ws.root, ws.process, ws.people, project)
    if as_json:
        out_of(ctx).json({"entries": [e.as_json() for e in entries], "loops": [loop.as_json() for loop in loops]})
    else:
        out_of(ctx).trail(entries, loops, ws.process)


@app.command()
def verify(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Argument(help="Only this project's findings.")] = None,
    rev: Annotated[str, typer.Option("--rev", help="Verify the history up to this commit (default HEAD).")] = "HEAD",
    as_json: JsonOpt = False,
) -> None:
    """Check the records against the history (SPEC §5); exit 1 on any finding."""
    root = _repository(ctx)
    if project and not valid_project_id(project):
        raise UsageError(f"{project!r} is not a project id")
    if project and not store.is_bare(root):
        workspace_of(ctx).project(project)  # an unknown project is bad usage, as for log
    findings = audit.verify(root, rev, project)
    if as_json:
        out_of(ctx).json([f.as_json() for f in findings])
    else:
        out_of(ctx).findings(findings, f"verified: no findings up to {rev}")
    if findings:
        raise typer.Exit(1)


@app.command()
def check(ctx: typer.Context) -> None:
    """Validate every record and rule of the working tree; quiet when all is well (pre-commit, CI)."""
    problems = checks.check(workspace_of(ctx))
    out_of(ctx).findings(problems, "")
    if problems:
        raise typer.Exit(1)


@hooks_app.command("install")
def hooks_install(
    ctx: typer.Context,
    server: Annotated[bool, typer.Option("--server", help="In a bare repository: a pre-receive hook that refuses "
                                                          "pushes failing verify.")] = False,
) -> None:
    """Install the pre-commit hook (runs check), or with --server the pre-receive hook (runs verify)."""
    path = ctx.find_root().obj["path"].resolve()
    root = path if server else workspace_of(ctx).root
    hook = hooks.install(root, server)
    out_of(ctx).line(f"installed {hook}")


@app.command()
def sync(
    ctx: typer.Context,
    remote: Annotated[str, typer.Option("--remote", help="The shared repository's remote.")] = "origin",
    branch: Annotated[str | None, typer.Option("--branch", help="The shared branch (default: the current one).")] = None,
) -> None:
    """Pull (rebase), check, push nothing verify rejects; retries when someone pushed first; never loses a local sign-off."""
    from xmflow import sync as sync_mod

    report = sync_mod.sync(workspace_of(ctx), remote, branch)
    out = out_of(ctx)
    for old, new in report.renumbered.items():
        out.note(f"project {old} was also made in another clone: yours is now {new}")
    out.line(f"synced with {remote}: {report.pulled} commit(s) received, {report.pushed} pushed")


def _repository(ctx: typer.Context) -> Path:
    """The workspace, or (for the server's hook) the bare repository named by -C."""
    try:
        return workspace_of(ctx).root
    except UsageError:
        path = ctx.find_root().obj["path"].resolve()
        if store.is_bare(path):
            return path
        raise

"""The commands that make the records trustworthy: the audit trail, its verification, the
checks of the working tree, the git hooks that run them, and sharing through a remote."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xmflow.changes import actions
from xmflow.changes.session import Session
from xmflow.cli import completion
from xmflow.cli.common import JsonOpt, day_of, folder_of, out_of, workspace_of
from xmflow.clock import now
from xmflow.errors import UsageError
from xmflow.git import hooks, store
from xmflow.i18n import _
from xmflow.records.workspace import valid_project_id
from xmflow.trust import audit, checks
from xmflow.trust import trail as trail_mod
from xmflow.values import brief

app = typer.Typer()
_HOOK = "xmflow: "  # what the server hook's lines start with: git shows them among its own
hooks_app = typer.Typer(no_args_is_help=True, help="git hooks that run xmflow's checks.")
app.add_typer(hooks_app, name="hooks")


@app.command()
def log(
    ctx: typer.Context,
    project: Annotated[
        str | None, typer.Argument(help="Only this project.", autocompletion=completion.projects)
    ] = None,
    last: Annotated[
        int | None, typer.Option("-n", "--max-count", min=1, metavar="N", help="Only the last N changes.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", help="Only the changes made on or after this day.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail from git: who did what, in which role, when, why; waits and reject loops."""
    ws = workspace_of(ctx)
    first = day_of(since, "--since")
    if project:
        ws.project(project)  # an unknown project is bad usage, not an empty trail
    found = trail_mod.Trail(ws.root, ws.process, ws.people, project, last, first)
    if as_json:
        out_of(ctx).json_list(
            "entries", (e.as_json() for e in found), lambda: {"loops": [loop.as_json() for loop in found.loops]}
        )
    else:
        out_of(ctx).trail(found, ws.process)


@app.command()
def verify(
    ctx: typer.Context,
    project: Annotated[
        str | None, typer.Argument(help="Only this project's findings.", autocompletion=completion.projects)
    ] = None,
    rev: Annotated[str, typer.Option("--rev", help="Verify the history up to this commit (default HEAD).")] = "HEAD",
    acknowledge: Annotated[
        str | None,
        typer.Option(
            "--acknowledge",
            metavar="COMMIT",
            help=(
                "Admin: record that the findings of COMMIT are known (with -m WHY), in a commit of their own; "
                "verify then lists them as acknowledged."
            ),
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--finding",
            metavar="KIND",
            help=("With --acknowledge: only the findings of this kind (the name in brackets after each finding)."),
        ),
    ] = None,
    why: Annotated[
        str | None, typer.Option("-m", help="With --acknowledge: why the findings are known and stand.")
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help=(
                "Replay the whole history from the first commit, not from where the last verify left off "
                "(the findings are the same)."
            ),
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Replay the git history against the procedure: each sign-off by someone who held its role, in order, and no
    record changed outside xmflow; exit 1 on any finding."""
    if acknowledge is not None:
        _acknowledge(ctx, acknowledge, kind, why)
        return
    if kind is not None or why is not None:
        raise UsageError(_("--finding and -m go with --acknowledge COMMIT"))
    root = _repository(ctx)
    if project is not None and not valid_project_id(project):
        raise UsageError(_("{project} is not a project id").format(project=brief(project)))
    if project and not store.is_bare(root):
        workspace_of(ctx).project(project)  # an unknown project is bad usage, as for log
    found = audit.report(root, rev, project, full=full)
    out = out_of(ctx)
    if as_json:
        out.json(found.as_json())
    else:
        for finding, reason in found.acknowledged:
            out.line(_("acknowledged: {finding} — {reason}").format(finding=finding, reason=" ".join(reason.split())))
        out.findings(found.findings, _("verified: no findings up to {rev}").format(rev=rev))
        for note in found.notes:
            out.note(_("note: {note}").format(note=note))
    if found.findings:
        raise typer.Exit(1)


def _acknowledge(ctx: typer.Context, commit: str, kind: str | None, why: str | None) -> None:
    """`verify --acknowledge COMMIT -m WHY`: an admin acknowledges the findings of a commit."""
    if not (why and why.strip()):
        raise UsageError(_("--acknowledge needs the reason: -m WHY"))
    result = actions.acknowledge(Session.start(workspace_of(ctx), untrusted_settings_ok=True), commit, kind, why)
    out_of(ctx).line(f"{result.summary} [{result.commit[:8]}]")


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
    server: Annotated[
        bool,
        typer.Option("--server", help="In a bare repository: a pre-receive hook that refuses pushes failing verify."),
    ] = False,
    site: Annotated[
        str | None,
        typer.Option(
            "--site",
            metavar="DIR",
            help="With --server: also a post-receive hook that rebuilds the web portal in DIR after each push.",
        ),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="With --site: the portal's forms as PDF too (WeasyPrint).")
    ] = False,
) -> None:
    """Install the pre-commit hook (runs check), or with --server the pre-receive hook (guards the shared history)."""
    path = ctx.find_root().obj["path"].resolve()
    root = path if server else workspace_of(ctx).root
    if site is not None and not server:
        raise UsageError(_("--site is for the shared repository: give --server with it"))
    if pdf and site is None:
        raise UsageError(_("--pdf is for the portal: give --site DIR with it"))
    portal = folder_of(site, "--site") if site is not None else None
    if portal is not None and store.is_bare(root):  # (not bare: said by hooks.install)
        from xmflow.forms import site as site_mod

        site_mod.check_folder(portal, root, "--site", bare=True)
        site_mod.earlier_files(portal, "--site")  # a folder of someone's own files: refused now, not at each push
    hook = hooks.install(root, server)
    out = out_of(ctx)
    out.line(_("installed {hook}").format(hook=hook))
    if portal is not None:
        out.line(_("installed {hook}").format(hook=hooks.install_site(root, portal.resolve(), pdf)))
    if server:
        settings = ", ".join(f"{key}={value}" for key, value in hooks.SERVER_SETTINGS.items())
        out.line(_("set {settings} in {folder} (git's own guard for branches)").format(settings=settings, folder=root))


@hooks_app.command("post-receive", hidden=True)
def hooks_post_receive(
    ctx: typer.Context,
    site: Annotated[str, typer.Option("--site", metavar="DIR", help="The portal's folder.")],
    pdf: Annotated[bool, typer.Option("--pdf", help="The forms as PDF too.")] = False,
) -> None:
    """Run by git in the shared repository after a push it accepted: rebuilds the web portal from
    the new tip of the branch HEAD names (installed by xmflow hooks install --server --site DIR)."""
    import os
    import sys
    import tempfile

    from xmflow.forms import site as site_mod
    from xmflow.records.workspace import Workspace

    for var in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_PREFIX",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_QUARANTINE_PATH",
    ):
        os.environ.pop(var, None)  # git's, for the bare repository the hook runs in: not the clone's
    root = ctx.find_root().obj["path"].resolve()
    branch = store.current_branch_ref(root)
    moved = [line.split() for line in sys.stdin.read().splitlines() if len(line.split()) == 3]
    moved = [(old, new) for old, new, ref in moved if ref == branch]
    if not moved:
        return  # the portal shows the shared branch: other refs change nothing of it
    portal = folder_of(site, "--site") or Path(site)  # (never None: --site is required)
    site_mod.check_folder(portal, root, "--site", bare=True)  # the repository may have moved into it since
    # incrementally: the pages of the projects the push changed (and the portfolio's, the people's);
    # all of them when it changed anything else (people, settings, the process, templates)
    only: set[str] | None = set()
    for old, new in moved:
        changed = [] if set(old) == {"0"} else store.changed_paths(root, old, new)
        parts = [path.split("/") for path in changed if path]
        if set(old) == {"0"} or any(p[0] != "projects" or len(p) < 3 for p in parts) or only is None:
            only = None
        else:
            only |= {p[1] for p in parts}
    with tempfile.TemporaryDirectory(prefix="xmflow-site-") as scratch:
        clone = Path(scratch) / "ws"
        store.clone_shared(root, clone)
        built = site_mod.build(Workspace(clone), portal, now().date(), only, pdf=pdf, option="--site")
    out = out_of(ctx)
    out.line(_("the portal in {folder} is rebuilt ({pages} pages)").format(folder=portal, pages=len(built.pages)))
    for problem in built.problems:
        out.error(problem)
    if built.problems:
        raise typer.Exit(2)


@hooks_app.command("pre-receive", hidden=True)
def hooks_pre_receive(ctx: typer.Context) -> None:
    """Run by git in the shared repository, not by people: reads git's `old new ref` lines and refuses
    the whole push unless every rule holds (installed by xmflow hooks install --server)."""
    import os
    import sys
    from datetime import UTC, datetime

    from xmflow.errors import RuleError
    from xmflow.trust import receive

    root = ctx.find_root().obj["path"].resolve()
    updates = receive.read_updates(sys.stdin.read())
    report = receive.receive(root, updates, os.environ, datetime.now(UTC))
    out = out_of(ctx)
    for refusal in report.refusals:
        out.error(refusal)
    for ref, commit, found in report.verified:
        if found.findings:
            out.error(
                _("{ref}: {count} finding(s) of `xmflow verify` up to {commit}:").format(
                    ref=ref, count=len(found.findings), commit=commit[:7]
                )
            )
            out.findings(found.findings, "")
        elif found.resumed:
            out.note(
                _HOOK
                + _(
                    "{ref}: verified, no findings up to {commit} ({count} commit(s) replayed from "
                    "{start}, verified before)"
                ).format(ref=ref, commit=commit[:7], count=found.replayed, start=found.resumed[:7])
            )
        else:
            out.note(
                _HOOK
                + _("{ref}: verified, no findings up to {commit} ({count} commit(s) replayed from the first)").format(
                    ref=ref, commit=commit[:7], count=found.replayed
                )
            )
    for note in report.notes:
        out.note(_HOOK + _("note: {note}").format(note=note))
    if not report.accepted:
        raise RuleError(_("push refused, nothing was updated: each reason is above"))


@app.command()
def sync(
    ctx: typer.Context,
    remote: Annotated[str, typer.Option("--remote", help="The shared repository's remote.")] = "origin",
    branch: Annotated[
        str | None, typer.Option("--branch", help="The shared branch (default: the current one).")
    ] = None,
) -> None:
    """Pull (rebase), check, push nothing verify rejects; retries when someone pushed first; never loses a local sign-off."""  # noqa: E501 (its help, one line)
    from xmflow.changes import sync as sync_mod

    report = sync_mod.sync(workspace_of(ctx), remote, branch)
    out = out_of(ctx)
    for old, new in report.renumbered.items():
        out.note(_("project {old} was also made in another clone: yours is now {new}").format(old=old, new=new))
    out.line(
        _("synced with {remote}: {pulled} commit(s) received, {pushed} pushed").format(
            remote=remote, pulled=report.pulled, pushed=report.pushed
        )
    )


def _repository(ctx: typer.Context) -> Path:
    """The workspace, or (for the server's hook) the bare repository named by -C."""
    try:
        return workspace_of(ctx).root
    except UsageError:
        path: Path = ctx.find_root().obj["path"].resolve()
        if store.is_bare(path):
            return path
        raise

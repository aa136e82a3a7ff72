"""The command line: each command parses, calls one core function and prints the result."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from typer._click import core as click_core
from typer._click import exceptions as click_errors
from typer.core import TyperGroup

import xmflow
from xmflow import i18n
from xmflow.changes import actions, signing
from xmflow.changes.session import Session
from xmflow.cli import completion, spreadsheets
from xmflow.cli import lang as cli_lang
from xmflow.cli import money as cli_money
from xmflow.cli import notify as cli_notify
from xmflow.cli import site as cli_site
from xmflow.cli import trust as cli_trust
from xmflow.cli.common import (
    JsonOpt,
    check_values,
    day_of,
    editor_command,
    folder_of,
    made,
    out_of,
    output_of,
    report_change,
    require_trusted_settings,
    text_of,
    workspace_of,
)
from xmflow.cli.console import Out
from xmflow.clock import now
from xmflow.errors import UsageError, XmflowError
from xmflow.git import store
from xmflow.i18n import _
from xmflow.money import receivables
from xmflow.money.figures import figures
from xmflow.procedure import parser
from xmflow.records.workspace import Workspace
from xmflow.reports import overview, portfolio
from xmflow.reports import status as status_mod
from xmflow.rules.project import ProjectView
from xmflow.values import quoted


class _Group(TyperGroup):
    """Turns xmflow's errors into a message and their exit code (1 rule, 2 input); 3 for a crash."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line in its language (chosen before it is parsed: help and the parser's
        errors speak it too)."""
        argv = list(sys.argv[1:] if args is None else args)
        i18n.use(cli_lang.language_of(argv))
        cli_lang.speak(self)
        try:
            code = super().main(
                argv, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra
            )
        except click_errors.ClickException as exc:
            if not standalone_mode:
                raise
            cli_lang.show_usage_error(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:  # typer's (its click has none of its own): Ctrl-C at a prompt
            if not standalone_mode:
                raise
            typer.echo(_("Aborted!"), err=True)
            sys.exit(1)
        if standalone_mode:
            sys.exit(code if isinstance(code, int) else 0)
        return code

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        """Answer the shell's TAB (xmflow/completion.py): never an error, whatever the workspace."""
        completion.run(self, ctx_args, prog_name, complete_var)

    def invoke(self, ctx: click_core.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XmflowError as exc:
            out_of(_typer_context(ctx)).error(exc.message)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:  # the one top-level handler
            if hasattr(exc, "exit_code") or isinstance(exc, (typer.Exit, typer.Abort)):
                raise  # the command line's own exits and usage errors
            if (ctx.obj or {}).get("debug"):
                traceback.print_exc()
            shown = repr(exc) if len(repr(exc)) <= 300 else repr(exc)[:300] + "…"
            out_of(_typer_context(ctx)).error(
                _("internal error: {error} (run with --debug for the traceback)").format(error=shown)
            )
            raise typer.Exit(3) from None

    def resolve_command(self, ctx: click_core.Context, args: list[str]) -> Any:
        """The command to run, once its options and arguments pass the checks every command makes."""
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not ctx.resilient_parsing:
            check_values(command, _typer_context(ctx), rest)
        return name, command, rest


def _typer_context(ctx: click_core.Context) -> typer.Context:
    """The context as the command line's helpers name it: typer calls it typer.Context, and gives
    the commands (and their group) the click Context that typer.Context is a name for."""
    return cast(typer.Context, ctx)


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="xmflow: the marketing-project control procedure (营销项目作业控制程序) on git.",
)
process_app = typer.Typer(no_args_is_help=True, help="The procedure as data: show or export it.")
app.add_typer(process_app, name="process")
app.add_typer(cli_money.app)
app.add_typer(cli_trust.app)
app.add_typer(cli_notify.app)
app.add_typer(cli_site.app)


class Lang(StrEnum):
    """The languages of xmflow's tables."""

    zh = "zh"
    en = "en"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"xmflow {xmflow.__version__}")  # untranslated: the program's name and version
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    path: Annotated[str | None, typer.Option("-C", metavar="PATH", help="Run as if started in PATH.")] = None,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang", help="zh or en (default: $XMFLOW_LANG, else the workspace's locale, else the system's)."
        ),
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also: the NO_COLOR variable).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on an internal error.")] = False,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_print_version, help="Show xmflow's version and exit.")
    ] = False,
    install_completion: Annotated[
        bool,
        typer.Option(
            "--install-completion",
            is_eager=True,
            expose_value=False,
            callback=completion.install_callback,
            help="Install TAB completion for your shell (bash, zsh, fish): project ids, steps, fields.",
        ),
    ] = False,
    show_completion: Annotated[
        bool,
        typer.Option(
            "--show-completion",
            is_eager=True,
            expose_value=False,
            callback=completion.show_callback,
            help="Print the completion script for your shell, to install it by hand.",
        ),
    ] = False,
) -> None:
    start = folder_of(path, "-C") or Path.cwd()
    ctx.obj = {"path": start, "out": Out(i18n.language(), not no_color), "debug": debug}


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[
        str | None, typer.Argument(metavar="PATH", help="Folder to make a workspace of (default: here).")
    ] = None,
    company: Annotated[str, typer.Option(help="The company's name, printed on every form.")] = "未命名公司",
) -> None:
    """Make a workspace: xmflow.yaml, people.yaml (you as the first admin), projects/, one commit."""
    company = text_of(company, "--company", blank=False) or ""
    target = (folder_of(path, "PATH") or ctx.find_root().obj["path"]).resolve()
    if target.exists() and not target.is_dir():
        raise UsageError(_("{folder} is a file, not a folder").format(folder=target))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(_("cannot make {folder}: {reason}").format(folder=target, reason=exc.strerror)) from None
    name, email = store.identity(target)
    actions.init_workspace(target, company, name, email)
    with made(ctx, _("the workspace in {folder}").format(folder=target)):
        out_of(ctx).line(
            _("workspace ready in {folder}; you ({email}) are its admin. Add people to people.yaml.").format(
                folder=target, email=email
            )
        )


@app.command()
def new(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The project's name.")],
    client: Annotated[str, typer.Option("--client", help="The client (甲方).")],
    budget: Annotated[str, typer.Option("--budget", help="Budget: 1500000, 1,500,000, 150万, 1.5亿.")],
    industry_need: Annotated[
        bool, typer.Option("--industry-need", help="Key project for industry need (3.1.2 A).")
    ] = False,
    special: Annotated[
        bool, typer.Option("--special", help="Special project; key once the VP approves (3.1.2 C).")
    ] = False,
    sales: Annotated[
        str | None,
        typer.Option(
            "--sales", help="The project's salesperson (default: you).", autocompletion=completion.salespeople
        ),
    ] = None,
    project_id: Annotated[str | None, typer.Option("--id", help="Project id (default YYYY-NNN).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a project (3.1.1) and print its id."""
    name, client = text_of(name, "NAME") or "", text_of(client, "--client") or ""
    budget = text_of(budget, "--budget", blank=False, required=True) or ""
    session = Session.start(workspace_of(ctx))
    result = actions.new_project(
        session, name, client, budget, industry_need=industry_need, special=special, sales=sales, project_id=project_id
    )
    with made(ctx, f"{result.project} [{result.commit[:8]}]"):
        out = out_of(ctx)
        out.json({"id": result.project}) if as_json else out.line(result.project)


@app.command("set")
def set_(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id.", autocompletion=completion.projects)],
    assignments: Annotated[
        list[str], typer.Argument(help="FIELD=VALUE, e.g. contract.amount=150万.", autocompletion=completion.fields)
    ],
    reopen: Annotated[bool, typer.Option("--reopen", help="Change a completed stage (needs -m WHY).")] = False,
    why: Annotated[str | None, typer.Option("-m", help="Why a stage is reopened, or a note for the commit.")] = None,
) -> None:
    """Set fields, all in one commit (lists and mappings are read as YAML)."""
    why = text_of(why, "-m", multiline=True, blank=False)
    result = actions.set_fields(Session.start(workspace_of(ctx)), project, assignments, *_reopen(reopen, why))
    report_change(ctx, result)


@app.command()
def edit(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id.", autocompletion=completion.projects)],
    stage: Annotated[str, typer.Argument(help="Stage, e.g. contract.", autocompletion=completion.stages)],
    reopen: Annotated[bool, typer.Option("--reopen", help="Change a completed stage (needs -m WHY).")] = False,
    why: Annotated[str | None, typer.Option("-m", help="Why a stage is reopened, or a note for the commit.")] = None,
) -> None:
    """Edit a stage file in $EDITOR; it is checked on save and committed."""
    why = text_of(why, "-m", multiline=True, blank=False)
    editor = editor_command()

    def run_editor(path: Path) -> None:
        try:
            code = subprocess.call([*editor, str(path)])
        except OSError as exc:
            raise UsageError(
                _("cannot start the editor ({editor}): {reason}; set EDITOR").format(
                    editor=" ".join(editor), reason=exc.strerror
                )
            ) from None
        if code != 0:
            raise UsageError(_("the editor ({editor}) failed; nothing changed").format(editor=" ".join(editor)))

    result = actions.edit_stage(Session.start(workspace_of(ctx)), project, stage, run_editor, *_reopen(reopen, why))
    if result is None:
        out_of(ctx).line(_("no change"))
    else:
        report_change(ctx, result)


def _reopen(reopen: bool, why: str | None) -> tuple[str | None, str | None]:
    """(reason to reopen, note): -m is the reason with --reopen, else a note for the commit."""
    why = why.strip() if why else None
    if reopen and not why:
        raise UsageError(_("--reopen needs a reason: -m WHY"))
    return (why, None) if reopen else (None, why)


@app.command()
def sign(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id.", autocompletion=completion.projects)],
    step: Annotated[
        str, typer.Argument(help="Step, e.g. contract.supervisor_review.", autocompletion=completion.steps)
    ],
    reject: Annotated[bool, typer.Option("--reject", help="Reject (needs -m WHY).")] = False,
    comment: Annotated[str | None, typer.Option("-m", help="A note, or the reason of a reject.")] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="The role you sign in (client for 甲方).", autocompletion=completion.roles),
    ] = None,
    signatory: Annotated[str | None, typer.Option("--signatory", help="The client's signer.")] = None,
    evidence: Annotated[
        str | None,
        typer.Option("--evidence", metavar="FILE", help="A scan of the signed paper (a file of at most 20 MB)."),
    ] = None,
    paper_date: Annotated[str | None, typer.Option("--date", help="The day signed on paper.")] = None,
    on_behalf_of: Annotated[
        str | None,
        typer.Option(
            "--on-behalf-of",
            autocompletion=completion.delegators,
            help="Sign for this person, who delegated the role to you in people.yaml (代签).",
        ),
    ] = None,
) -> None:
    """Sign (or reject) a step, as yourself; one commit with the sign-off's trailers."""
    comment, signatory = text_of(comment, "-m", multiline=True, blank=False), text_of(signatory, "--signatory")
    result = signing.sign_step(
        Session.start(workspace_of(ctx)),
        project,
        step,
        reject=reject,
        comment=comment,
        role=role,
        signatory=signatory,
        evidence=Path(evidence) if evidence else None,
        paper_date=day_of(paper_date, "--date"),
        on_behalf_of=on_behalf_of,
    )
    report_change(ctx, result)
    cli_notify.after_sign(ctx, result)  # 3.7.1: the notice to customer service, once the sign-off is committed


@app.command()
def show(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id.", autocompletion=completion.projects)],
    stage: Annotated[str | None, typer.Argument(help="Only this stage.", autocompletion=completion.stages)] = None,
    as_json: JsonOpt = False,
) -> None:
    """The project's records, with derived values (key, totals, warranty end)."""
    ws = workspace_of(ctx)
    stage_ids = [s.id for s in ws.process.stages]
    if stage and stage not in stage_ids:
        raise UsageError(
            _("no stage {stage} (stages: {stages})").format(stage=quoted(stage), stages=", ".join(stage_ids))
        )
    view = ProjectView(ws.project(project), ws.process, ws.config)
    shown = [ws.process.stage(stage)] if stage else list(ws.process.stages)
    if as_json:
        out_of(ctx).json(status_mod.show_json(view, figures(view), shown))
    else:
        out_of(ctx).show(view.project, shown, figures(view), receivables.schedule(view))


@app.command()
def status(
    ctx: typer.Context,
    project: Annotated[
        str | None, typer.Argument(help="One project in full.", autocompletion=completion.projects)
    ] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only what waits on me.")] = False,
    role: Annotated[
        str | None, typer.Option("--role", help="Only what waits on this role.", autocompletion=completion.roles)
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only projects with overdue milestones.")] = False,
    key: Annotated[bool, typer.Option("--key", help="Only key projects.")] = False,
    late: Annotated[
        bool, typer.Option("--late", help="Only projects with a step waiting longer than its due_days.")
    ] = False,
    warranty: Annotated[
        bool, typer.Option("--warranty", help="Only projects whose warranty ends within 60 days.")
    ] = False,
    withdrawn: Annotated[bool, typer.Option("--withdrawn", help="Only withdrawn projects (终止).")] = False,
    xlsx: Annotated[
        str | None, typer.Option("--xlsx", metavar="FILE", help="Write the portfolio as an Excel workbook.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day figures are computed for (default today).")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="In a terminal, every project in the table (not the first 200).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Where projects stand: the portfolio, or one project's every step."""
    workbook = output_of(xlsx, "--xlsx", "status.xlsx")
    ws = workspace_of(ctx)
    day = day_of(as_of, "--as-of") or now().date()
    out = out_of(ctx)
    if project:
        if workbook:
            raise UsageError(_("--xlsx writes the portfolio: leave out PROJECT (or use --json for one project)"))
        rep = status_mod.report(ws, ws.project(project), day)
        out.json(status_mod.report_json(rep)) if as_json else out.report(rep, ws.process, ws.people)
        return
    if role and role not in ws.process.roles:
        raise UsageError(
            _("--role: no role {role} (roles: {roles})").format(role=quoted(role), roles=", ".join(ws.process.roles))
        )
    me = None
    if mine:
        email = ws.identity_email()
        me = ws.people.by_email(email) if email else None
        if me is None:
            raise UsageError(
                _("--mine: {email} is not in people.yaml (git config user.email)").format(
                    email=email or _("your git identity")
                )
            )
    found, problems = overview.lines(ws, day)
    filters = portfolio.Filters(role=role, overdue=overdue, key=key, late=late, warranty=warranty, withdrawn=withdrawn)
    shown = portfolio.portfolio(ws, found, day, filters, me)
    if workbook:
        spreadsheets.write_sheet(workbook, portfolio.sheet(shown.rows, ws.process, day))
        out.line(_("wrote {file}").format(file=workbook))
    elif as_json:
        out.json(shown.as_json())
    else:
        out.projects(portfolio.table(shown.rows, ws.process, day if warranty else None), every)
        if shown.money:
            out.money(list(shown.money))
        glance(out, ws, shown.lines)
    for problem in problems:
        out.error(problem)
    if problems:
        raise typer.Exit(2)


class Format(StrEnum):
    """The output formats of a form."""

    md = "md"
    html = "html"
    pdf = "pdf"


@app.command()
def render(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id.", autocompletion=completion.projects)],
    form: Annotated[
        str,
        typer.Argument(
            help="form1…form4, sample-request, shipping-order, registration, "
            "archive-list (or the Chinese title), or volume: the whole project.",
            autocompletion=completion.forms,
        ),
    ],
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="md (default), html (A4) or pdf (default: from -o's extension)."),
    ] = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", metavar="FILE", help="Write to FILE (default: standard output).")
    ] = None,
) -> None:
    """Print a form (附表1–4 and the others) from the records, to sign on paper."""
    from xmflow.forms import rendering  # Jinja is loaded by the one command that prints forms

    target = output_of(output, "-o", f"{project}-{form}.md")
    chosen = rendering.format_for(target, fmt.value if fmt else None)
    if chosen == "pdf" and target is None and _is_terminal():
        raise UsageError(_("a PDF is not for the terminal: give -o FILE.pdf (or redirect the output)"))
    ws = workspace_of(ctx)
    require_trusted_settings(ws)  # a form prints only through templates an admin committed
    if form.strip().casefold() == rendering.VOLUME:
        content = rendering.render_volume(ws, project, chosen)
    else:
        content = rendering.render_form(ws, project, form, chosen)
    rendering.write(content, target)


def _is_terminal() -> bool:
    return os.isatty(1)


def glance(out: Out, ws: Workspace, shown: Sequence[overview.Line]) -> None:
    """Under a portfolio: projects per stage, what their clients owe by age, the late steps."""
    found = portfolio.glance(shown, ws.process)
    if found is not None:
        out.glance(found)


@process_app.command("show")
def process_show(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    fields: Annotated[
        bool,
        typer.Option(
            "--fields",
            help="The stages' fields instead: each one's type, the steps that require it, and what else to know.",
        ),
    ] = False,
    as_markdown: Annotated[
        bool,
        typer.Option(
            "--markdown", help="With --fields: as a Markdown document, to print or to keep beside the process."
        ),
    ] = False,
) -> None:
    """Print the procedure: stages, steps, roles, conditions, clauses, forms."""
    proc = _process(ctx)
    if as_markdown and (not fields or as_json):
        raise UsageError(_("--markdown goes with --fields, without --json"))
    if fields:
        from xmflow.procedure import reference

        reference.show(out_of(ctx), proc, as_json=as_json, as_markdown=as_markdown)
        return
    if as_json:
        out_of(ctx).json(proc.as_json())
    else:
        out_of(ctx).process(proc)


@process_app.command("export")
def process_export(ctx: typer.Context) -> None:
    """Write the procedure as YAML (to make a workspace's own revision of it)."""
    out_of(ctx).text(_process(ctx).text)


def _process(ctx: typer.Context) -> Any:
    try:
        return workspace_of(ctx).process
    except UsageError:  # outside a workspace: the packaged default
        return parser.load(None)

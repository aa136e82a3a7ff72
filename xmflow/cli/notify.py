"""`xmflow notify`: each person's digest of what waits on them, and sending again what waits in
the outbox; and the 3.7.1 notice after `sign` (:func:`after_sign`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from xmflow.changes.session import Result
from xmflow.cli.common import day_of, out_of, require_trusted_settings, workspace_of
from xmflow.cli.console import Out
from xmflow.clock import now
from xmflow.errors import UsageError
from xmflow.i18n import _
from xmflow.records.workspace import Workspace
from xmflow.reports import overview

if TYPE_CHECKING:
    from xmflow.notify.mail import Delivery

app = typer.Typer()


@app.command()
def notify(
    ctx: typer.Context,
    message: Annotated[str | None, typer.Argument(help="With --resend: only this message (its Message-ID).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be sent, send nothing.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The day of the digests (default today).")] = None,
    resend: Annotated[bool, typer.Option("--resend", help="Send again what waits in the outbox.")] = False,
) -> None:
    """Send each person the digest of what waits on them (once a day), or --resend the outbox.
    Exit 1 when a message could not be delivered (it waits in the outbox)."""
    if message is not None and not resend:
        raise UsageError(
            _("{message}: a message is named only with --resend (xmflow notify --resend MESSAGE-ID)").format(
                message=message
            )
        )
    if resend and as_of:
        raise UsageError(_("--as-of is the day of the digests: --resend sends what waits in the outbox as it is"))
    from xmflow.notify import notices  # mail (smtplib, ssl) loads only for the commands that send

    ws = workspace_of(ctx)
    out = out_of(ctx)
    require_trusted_settings(ws)  # the addresses, servers and robots are the ones an admin committed
    notices.conf(ws)  # the settings are checked first, a dry run too
    if resend:
        _resend(ws, out, message, dry_run)
        return
    day = day_of(as_of, "--as-of") or now().date()
    found = notices.send_digests(ws, day, dry_run=dry_run)
    for digest, done in found:
        if done is None:
            out.line(
                _("to {person} <{email}>: {subject}").format(
                    person=digest.person.name, email=digest.person.email, subject=digest.notice.subject
                )
            )
            for line in digest.notice.lines:
                out.line(f"  {line}")
            for project, form in digest.forms:
                out.line("  " + _("with the form {form} of {project}").format(form=form, project=project))
        else:
            _said(out, digest.person.name, done)
    if not found:
        out.line(_("nothing to send for {day}").format(day=day.isoformat()))
    _lines, problems = overview.lines(ws, day)  # kept from the digests' reading: the projects it could not read
    for problem in problems:
        out.error(problem)
    if problems:  # the digests leave them out: said, as status says them (exit 2)
        raise typer.Exit(2)
    if any(done is not None and done.problems for _digest, done in found):
        raise typer.Exit(1)


def _resend(ws: Workspace, out: Out, message: str | None, dry_run: bool) -> None:
    """Send again what waits in the outbox, or (--dry-run) say what would be sent; exit 1 when
    some of it still cannot go."""
    from xmflow.notify import mail as notify_mod
    from xmflow.notify import notices

    if dry_run:
        for path, msg in notify_mod.waiting(notices.conf(ws), message):
            out.line(
                _("would send {message} to {people}: {subject}").format(
                    message=msg["Message-ID"], people=msg["To"], subject=msg["Subject"]
                )
            )
            out.line("  " + str(path))
        return
    found = notices.resend(ws, message)
    for done in found:
        _said(out, done.message_id, done)
    if any(done.problems for done in found):
        raise typer.Exit(1)


def _said(out: Out, who: str, done: Delivery) -> None:
    """One message's fate: sent by which channels, in the outbox for want of a mail server, or
    why not and where it waits."""
    if done.problems:
        out.note(
            _("{who}: not sent ({problems}); kept in {file}: xmflow notify --resend").format(
                who=who, problems="; ".join(done.problems), file=done.kept
            )
        )
    elif done.kept is not None:
        posted = [channel for channel in done.channels if channel != "outbox"]
        said = _("{who}: in the outbox {file} (no mail server set in xmflow.yaml)").format(who=who, file=done.kept)
        out.line(
            said
            if not posted
            else _(
                "{who}: sent ({channels}); the mail is in the outbox {file} (no mail server set in xmflow.yaml)"
            ).format(who=who, channels=", ".join(posted), file=done.kept)
        )
    else:
        out.line(_("{who}: sent ({channels})").format(who=who, channels=", ".join(done.channels)))


def after_sign(ctx: typer.Context, result: Result) -> None:
    """After `sign`: the 3.7.1 notice, said as a note (a failed send is no failed sign-off)."""
    from xmflow.notify import notices

    for note in notices.after_sign(workspace_of(ctx), result):
        out_of(ctx).note(note)

"""What xmflow tells people, and what it remembers having told them: the notice a step's approval
sends (the process's ``notify:``; 3.7.1: customer service told of an installation when sales signs
installation.notify_service), and the daily digest of what waits on each person. What was sent
is kept in ``.git/xmflow/notify.json``, not in the repository: the sign-off commit is already
made when the notice goes out, and a resend is no change of the records."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from xmflow import i18n
from xmflow.changes.session import Result
from xmflow.clock import now
from xmflow.errors import UsageError, XmflowError
from xmflow.git import store
from xmflow.i18n import _
from xmflow.model import Person
from xmflow.notify import mail as notify
from xmflow.procedure.process import Step
from xmflow.records.workspace import Workspace
from xmflow.reports import overview
from xmflow.rules.project import ProjectView, holds_role
from xmflow.values import format_money

STATE = "notify.json"


def conf(ws: Workspace) -> notify.Settings:
    """The workspace's notice settings (nothing configured: the outbox in .git/xmflow), the roles
    and people they name checked against the process and people.yaml."""
    return notify.settings(
        ws.root,
        ws.config.notify,
        roles=set(ws.process.roles),
        people={p.id for p in ws.people.persons},
        git_dir=store.git_dir(ws.root),
    )


def _state_path(ws: Workspace) -> Path:
    return store.git_dir(ws.root) / "xmflow" / STATE


_HELD: dict[Path, int] = {}


@contextlib.contextmanager
def _locked(ws: Workspace) -> Iterator[None]:
    """One notifier at a time per workspace (a cron job and a hook at once send no digest twice);
    re-entrant within the process."""
    path = _state_path(ws).with_suffix(".lock")
    if _HELD.get(path):
        _HELD[path] += 1
        try:
            yield
        finally:
            _HELD[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _HELD[path] = 1
        try:
            yield
        finally:
            _HELD[path] = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_state(ws: Workspace) -> dict[str, Any]:
    path = _state_path(ws)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        state = {}
    except OSError as exc:
        raise UsageError(
            _(
                "{file} cannot be read ({reason}): it is xmflow's memory of what was sent; move it "
                "away to start afresh (digests of today may then go out again)"
            ).format(file=path, reason=exc.strerror or exc)
        ) from None
    except ValueError:  # not JSON, not UTF-8
        state = None
    if not _as_written(state):
        raise UsageError(
            _(
                "{file} is not what xmflow writes there: move it away to start afresh (digests of "
                "today may then go out again)"
            ).format(file=path)
        )
    return {"sent": state.get("sent", []), "digests": state.get("digests", {})}


def _as_written(state: Any) -> bool:
    """Whether *state* is as :func:`save_state` writes it: messages with their ids, and per day
    the message id of each person's digest."""
    if not isinstance(state, dict):
        return False
    sent, days = state.get("sent", []), state.get("digests", {})
    return (
        isinstance(sent, list)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("message_id"), str)
            and isinstance(e.get("key", ""), str)
            and isinstance(e.get("to", []), list)
            for e in sent
        )
        and isinstance(days, dict)
        and all(
            isinstance(people, dict) and all(isinstance(v, str) for v in people.values()) for people in days.values()
        )
    )


def save_state(ws: Workspace, state: dict[str, Any]) -> None:
    path = _state_path(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temp, path)


def remember(ws: Workspace, key: str, to: list[str], done: notify.Delivery) -> None:
    """Keep what became of a message (its Message-ID, channels, problems), replacing what a
    resend of the same message found before."""
    with _locked(ws):
        _remember(ws, key, to, done)


def _remember(ws: Workspace, key: str, to: list[str], done: notify.Delivery) -> None:
    state = load_state(ws)
    entry = {
        "key": key,
        "message_id": done.message_id,
        "to": to,
        "channels": list(done.channels),
        "problems": list(done.problems),
        "waiting": bool(done.problems),
        "at": now().isoformat(),
    }
    state["sent"] = [e for e in state["sent"] if e.get("message_id") != done.message_id] + [entry]
    save_state(ws, state)


def deliver(ws: Workspace, item: notify.Notice, message_id: str | None = None) -> notify.Delivery:
    """Compose (under *message_id* when a commit named it before), send through the channels, remember."""
    settings = conf(ws)
    msg = notify.compose(item, settings.sender, message_id)
    notify.address(msg, item.to)
    done = notify.send(settings, msg)
    remember(ws, item.key, [p.id for p in item.to], done)
    return done


def resend(ws: Workspace, only: str | None) -> list[notify.Delivery]:
    """Send again what waits in the outbox; remember each (one resend at a time: none goes twice)."""
    with _locked(ws):
        state = {e["message_id"]: e for e in load_state(ws)["sent"]}
        found = notify.resend(conf(ws), only)
        for done in found:
            before = state.get(done.message_id, {})
            remember(ws, before.get("key", ""), before.get("to", []), done)
        return found


# -- a step's notice (3.7.1) --------------------------------------------------------------------


def step_notice(ws: Workspace, project_id: str, step: Step) -> notify.Notice:
    """The notice a step's approval sends (its ``notify:`` in the process): to the people holding
    its roles, in the words of its template, with its forms (3.7.1: the site, the requirements,
    the dates, 附表3, to customer service)."""
    from xmflow.forms import rendering  # Jinja is loaded only when a notice or a form goes out

    assert step.notice is not None
    view = ProjectView(ws.project(project_id), ws.process, ws.config)
    attached = [a for a in (form_file(ws, project_id, form) for form in step.notice.forms) if a is not None]
    subject, lines = rendering.render_notice(ws, project_id, step, [a.filename for a in attached])
    to = tuple(p for p in ws.people.persons if any(holds_role(p, role, view) for role in step.notice.to))
    return notify.Notice(f"{step.id}/{project_id}", to, subject, lines, tuple(attached))


def pdf_possible() -> bool:
    """Whether WeasyPrint (the optional extra pdf) is installed."""
    return importlib.util.find_spec("weasyprint") is not None


def form_file(ws: Workspace, project_id: str, form_id: str) -> notify.Attachment | None:
    """A project's form as PDF when WeasyPrint is there, else as HTML (to print from a browser);
    None when it cannot be printed (its template broken): the message goes without it."""
    from xmflow.forms import rendering

    form = ws.process.forms[form_id]
    name = f"{project_id}-{form.annex or form.id}"
    if pdf_possible():
        try:
            pdf = rendering.render_form(ws, project_id, form_id, "pdf")
            return notify.Attachment(f"{name}.pdf", pdf, "application/pdf")
        except XmflowError:  # WeasyPrint without Pango: HTML still prints
            pass
    try:
        page = rendering.render_form(ws, project_id, form_id, "html")
    except XmflowError:
        return None
    return notify.Attachment(f"{name}.html", str(page).encode("utf-8"), "text/html")


def after_sign(ws: Workspace, result: Result) -> list[str]:
    """After the sign-off commit: the notice of the step approved, when the process gives it one,
    under the Message-ID its commit names (``Xmflow-Notice``). A failed send undoes nothing: it is
    said, and waits in the outbox for a resend."""
    signoff = result.signoff
    if signoff is None or result.notice is None or not ws.process.has_step(signoff.step):
        return []
    step = ws.process.step(signoff.step)
    clause = step.clause or step.id
    try:
        item = step_notice(ws, result.project, step)
        if not item.to:
            return [
                _("{clause}: nobody in people.yaml holds {roles}: no notice was sent").format(
                    clause=clause, roles=", ".join(step.notice.to if step.notice else ())
                )
            ]
        done = deliver(ws, item, result.notice)
    except (XmflowError, OSError) as exc:
        return [
            _("{clause}: the notice could not be made ({reason}); the sign-off stands").format(
                clause=clause, reason=getattr(exc, "message", None) or exc
            )
        ]
    people = ", ".join(p.name for p in item.to)
    if done.problems:
        return [
            _(
                "{clause}: the notice to {people} was not sent: {problems}; it waits in {file}: xmflow notify "
                "--resend {message}"
            ).format(
                clause=clause,
                people=people,
                problems="; ".join(done.problems),
                file=done.kept,
                message=done.message_id.strip("<>"),
            )
        ]
    if done.kept is not None:
        return [
            _("{clause}: the notice to {people} is in the outbox {file} (no mail server set in xmflow.yaml)").format(
                clause=clause, people=people, file=done.kept
            )
        ]
    return [
        _("{clause}: the notice went to {people} ({channels}), Message-ID {message}").format(
            clause=clause, people=people, channels=", ".join(done.channels), message=done.message_id
        )
    ]


# -- the digest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """A person's digest, and the forms of the steps it names (project, form): rendered only
    when it is sent."""

    person: Person
    notice: notify.Notice
    forms: tuple[tuple[str, str], ...] = ()


def digests(ws: Workspace, day: date) -> list[Digest]:
    """For each person with something waiting on them on *day*: the steps they can sign (late ones
    said), overdue milestones of their projects, money due or waiting, with the commands to run."""
    found, _problems = overview.lines(ws, day)
    made = []
    for person in ws.people.persons:
        steps, papers = _waiting(ws, person, found, day)
        shown = steps + _money(person, found, ws, day)
        if shown:
            title = _("xmflow: what waits on {person} ({day})").format(person=person.name, day=day.isoformat())
            made.append(
                Digest(
                    person,
                    notify.Notice(f"digest/{person.id}/{day.isoformat()}", (person,), title, tuple(shown)),
                    tuple(papers),
                )
            )
    return made


def _waiting(
    ws: Workspace, person: Person, found: list[overview.Line], day: date
) -> tuple[list[str], list[tuple[str, str]]]:
    """The lines of the steps waiting on *person*, and the forms those steps are signed on."""
    said: list[str] = []
    papers: list[tuple[str, str]] = []
    for line in overview.select(found, day, mine=person):
        s = line.summary
        for n in s.next:
            if person not in n.people:
                continue
            title = n.step.title if i18n.language() == "zh" else n.step.title_en or n.step.title
            said.append(
                (
                    _("{project} {name}: {step} ({title}), waiting {days} days, late: xmflow sign {project} {step}")
                    if n.late
                    else _("{project} {name}: {step} ({title}), waiting {days} days: xmflow sign {project} {step}")
                ).format(project=s.id, name=s.name, step=n.step.id, title=title, days=n.waiting_days)
            )
            papers += [(s.id, form) for form in _forms_of(ws, s.id, n.step.id) if (s.id, form) not in papers]
    for line in found:
        s = line.summary
        if s.sales == person.id and s.overdue and s.withdrawn is None and not s.closed:
            said.append(
                _("{project} {name}: {count} overdue milestones: xmflow status {project}").format(
                    project=s.id, name=s.name, count=len(s.overdue)
                )
            )
    return said, papers


def _forms_of(ws: Workspace, project_id: str, step_id: str) -> list[str]:
    """The forms that apply to the project and carry the step's signature."""
    forms = [f for f in ws.process.forms.values() if step_id in f.steps]
    if not forms:
        return []
    try:
        view = ProjectView(ws.project(project_id, cached=True), ws.process, ws.config)
    except XmflowError:
        return []
    return [f.id for f in forms if f.when.holds(view)]


def _money(person: Person, found: list[overview.Line], ws: Workspace, day: date) -> list[str]:
    said = []
    for m in overview.money_for(person, found, ws, day):
        said.append(
            (
                _(
                    "{project} {name}: {amount} fallen due and not invoiced ({days} days): xmflow invoice {project} "
                    "AMOUNT --number N"
                )
                if m.kind == "invoice"
                else _(
                    "{project} {name}: {amount} invoiced and not received ({days} days): xmflow receive {project} "
                    "AMOUNT"
                )
            ).format(project=m.project, name=m.name, amount=format_money(m.amount), days=m.days)
        )
    return said


def send_digests(ws: Workspace, day: date, dry_run: bool = False) -> list[tuple[Digest, notify.Delivery | None]]:
    """Each person's digest of *day*, sent once a day: one already sent that day is left out."""
    with _locked(ws):
        return _send_digests(ws, day, dry_run)


def _send_digests(ws: Workspace, day: date, dry_run: bool) -> list[tuple[Digest, notify.Delivery | None]]:
    sent = load_state(ws)["digests"].get(day.isoformat(), {})
    todo = [d for d in digests(ws, day) if d.person.id not in sent and d.person.email]
    if dry_run:
        return [(d, None) for d in todo]
    results: list[tuple[Digest, notify.Delivery | None]] = []
    for item in todo:
        attached = tuple(a for a in (form_file(ws, pid, form) for pid, form in item.forms) if a is not None)
        done = deliver(ws, replace(item.notice, attachments=attached))
        state = load_state(ws)
        state["digests"].setdefault(day.isoformat(), {})[item.person.id] = done.message_id
        save_state(ws, state)
        results.append((item, done))
    return results

"""How the records read to a person, in the language in use: a role by its title, a person by
name, who signed and for whom, whom a step waits on, a line of the audit trail. The console and
the portal print the same words."""

from __future__ import annotations

from xmflow.i18n import _
from xmflow.labels import has_label, label, title_of
from xmflow.model import People, Signoff
from xmflow.procedure.process import Process
from xmflow.reports.status import NextStep
from xmflow.trust.trail import OUTSIDE, Entry


def waiting_on(n: NextStep, process: Process) -> str:
    """``销售: 张三`` or, for the client's signature, ``甲方 ← 张三/吴十`` (who records it)."""
    parts = []
    for role_id in n.roles:
        role = process.roles[role_id]
        shown = title_of(role)
        names = "/".join(p.name for p in n.people if role.external or role_id in p.roles or not role.is_global)
        parts.append(
            f"{shown} ← {names}" if role.external else _("{role}: {names}").format(role=shown, names=names or "—")
        )
    return "; ".join(parts)


def role_title(role_id: str | None, process: Process) -> str:
    """A role by its title in the language in use (its id when the process has no such role)."""
    role = process.roles.get(role_id or "")
    return title_of(role) if role else role_id or ""


def person(person_id: str | None, people: People | None) -> str:
    """A person by name (their id when they are no longer in people.yaml)."""
    found = people.by_id(person_id) if people is not None and person_id else None
    return found.name if found else person_id or ""


def signer(s: Signoff, process: Process, people: People | None) -> str:
    """Who signed, as a person reads it: ``张三（销售）``, ``李四（代 张三）（部门主管）``, and for
    the client, its signatory and who recorded it: ``刘经理 ← 张三（甲方）``."""
    who = person(s.by, people)
    if s.on_behalf_of:
        who = _("{name} (for {deputy})").format(name=who, deputy=person(s.on_behalf_of, people))
    if s.signatory:
        who = f"{s.signatory} ← {who}"
    return _("{name} ({role})").format(name=who, role=role_title(s.role, process))


def trail_row(e: Entry, process: Process) -> tuple[str, ...]:
    """One entry of the audit trail as a row: time, project, step, decision, who, role, note,
    days waited, commit."""
    step = e.step or (e.subject if e.decision == OUTSIDE else e.subject.split(" ", 1)[-1])
    who = _("{name} (for {deputy})").format(name=e.who, deputy=e.on_behalf_of) if e.on_behalf_of else e.who
    if e.signatory:
        who = f"{e.signatory} ← {who}"
    note = " ".join(filter(None, [e.note, f"[{e.evidence[:19]}…]" if e.evidence else ""]))
    role = role_title(e.role, process)
    waited = f"{e.waited.total_seconds() / 86400:.1f}" if e.waited is not None else ""
    return (
        e.at.strftime("%Y-%m-%d %H:%M"),
        e.project,
        step,
        (label(f"d_{e.decision}") if has_label(f"d_{e.decision}") else e.decision),
        who,
        role,
        note,
        waited,
        e.commit[:7],
    )

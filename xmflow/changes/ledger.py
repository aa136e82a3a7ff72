"""Invoices and receipts (4.0): entries appended to the collection record by their own command.

Which stage and field each ledger writes, who may write it and what must be signed first come
from the process (`ledgers:`); the checks on the amounts are the table ``_CHECKS`` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from xmflow.changes.session import Result, Session, single_line
from xmflow.errors import RuleError, UsageError, XmflowError
from xmflow.i18n import _, pgettext
from xmflow.model import Decision
from xmflow.money.ledgers import ledger_refusals
from xmflow.procedure.process import INVOICES, Ledger
from xmflow.rules.project import ProjectView, holds_role
from xmflow.values import format_money, parse_money


def _check_invoice(session: Session, view: ProjectView, entry: dict[str, Any]) -> None:
    number = entry["number"] = (entry.get("number") or "").strip()
    if not number:
        raise UsageError(_("--number: an invoice needs its number"))
    ledger = view.process.ledgers[INVOICES]
    for pid in session.ws.project_ids():
        try:
            other = view if pid == view.project.id else session.view(session.ws.project(pid, cached=True))
        except XmflowError:
            continue  # a record that cannot be read holds no invoice; `status` names it
        if any((inv.get("number") or "").casefold() == number.casefold() for inv in other.value(ledger.field) or []):
            raise RuleError(
                _("invoice number {number} is already recorded (project {project}); clause {clause}").format(
                    number=number, project=pid, clause=ledger.clause
                )
            )


_CHECKS: dict[str, Callable[[Session, ProjectView, dict[str, Any]], None]] = {
    INVOICES: _check_invoice,  # the number, used once across every project (the rest: edits.ledger_refusals)
}


def amount_of(text: str) -> Decimal:
    """AMOUNT as typed for an invoice or a receipt: an amount of money, more than zero."""
    try:
        value = parse_money(text)
    except ValueError as exc:
        raise UsageError(_("AMOUNT: {problem}").format(problem=exc)) from None
    if value <= 0:
        raise UsageError(_("AMOUNT must be more than zero (got {amount})").format(amount=format_money(value)))
    return value


def add_entry(session: Session, project_id: str, ledger_id: str, amount: str, entry: dict[str, Any]) -> Result:
    """Append an invoice or a receipt to a project's collection record, in one commit."""
    process = session.ws.process
    ledger: Ledger = process.ledgers[ledger_id]
    project = session.project_to_change(project_id)
    view = session.view(project)
    value = amount_of(amount)
    if not any(holds_role(session.actor, role, view) for role in ledger.roles):
        raise RuleError(
            _("{person} may not record {ledger} for {project}: only {roles} (clause {clause})").format(
                person=session.actor.label(),
                ledger=ledger_id,
                project=project_id,
                roles=pgettext("between two items", " or ").join(ledger.roles),
                clause=ledger.clause,
            )
        )
    stage = process.stage(ledger.stage)
    entry = {
        **{k: single_line(v, k) if isinstance(v, str) else v for k, v in entry.items() if v is not None},
        "amount": value,
        "by": session.actor.id,
    }
    entry.setdefault("date", session.at.date())
    if entry["date"] > session.at.date():
        raise UsageError(_("--date {date}: that is in the future").format(date=entry["date"]))
    problems = ledger_refusals(view, ledger, [entry])
    if problems:
        raise RuleError("; ".join(problems))
    if ledger_id in _CHECKS:
        _CHECKS[ledger_id](session, view, entry)
    field = ledger.field.split(".", 1)[1]
    record = project.record(stage.id)
    data = {**record.data, field: [*(record.data.get(field) or []), _ordered(process, ledger, entry)]}
    subject = f"{project_id} {ledger_id}: {format_money(value)}"  # the commit's subject: not translated
    commit = session.commit(
        project_id,
        {stage.id: replace(record, data=data, exists=True)},
        subject,
        {"Xmflow-Decision": Decision.RECORD.value, "Xmflow-Clause": ledger.clause},
    )
    return Result(project_id, commit, subject)


def _ordered(process: Any, ledger: Ledger, entry: dict[str, Any]) -> dict[str, Any]:
    item = process.field_type(ledger.field).item
    return {k: entry[k] for k in item.fields if k in entry}

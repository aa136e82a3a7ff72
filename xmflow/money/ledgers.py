"""The rules of the ledgers (4.0): when an invoice or a receipt may be recorded, and how much.
Shared by `invoice`/`receive` before they commit and by the checks that judge any change."""

from __future__ import annotations

from typing import Any

from xmflow.i18n import _, pgettext
from xmflow.money.figures import ZERO, figure, ledger_total, signed_on
from xmflow.procedure.process import INVOICES, RECEIPTS, Ledger
from xmflow.rules.project import ProjectView
from xmflow.values import format_money


def ledger_refusals(before: ProjectView, ledger: Ledger, entries: list[dict[str, Any]]) -> list[str]:
    """Why the procedure refuses to add *entries* to a project's ledger (4.0), empty when it may:
    they follow the ledger's step (invoices and receipts come after the client signed the
    contract), the stage is open, each amount is more than zero and dated no earlier than that
    step, an invoice number is used once, and the totals stay within the contract."""
    process = before.process
    entries_of = ledger_name(ledger.id)
    if not before.satisfied(ledger.after) or not before.applies(process.step(ledger.after)):
        return [
            _("{ledger} need {step} signed first (clause {clause})").format(
                ledger=entries_of, step=ledger.after, clause=ledger.clause
            )
        ]
    stage = process.stage(ledger.stage)
    if before.stage_complete(stage):
        return [_("stage {stage} is complete; reopen it first (xmflow set ... --reopen -m WHY)").format(stage=stage.id)]
    problems = []
    signed = signed_on(before, ledger.after)
    contract = figure(before, "contract_amount") or ZERO
    running = ledger_total(before, ledger.id)
    numbers = {str(e.get("number") or "").casefold() for e in before.value(ledger.field) or []}
    for entry in entries:
        amount, day = entry.get("amount") or ZERO, entry.get("date")
        if amount <= 0:
            problems.append(
                _("{ledger}: an amount must be more than zero (got {amount})").format(
                    ledger=entries_of, amount=format_money(amount)
                )
            )
        if signed and day and day < signed:
            problems.append(
                _("--date {day}: before {step} was signed ({signed}); {ledger} follow it (clause {clause})").format(
                    day=day, step=ledger.after, signed=signed, ledger=entries_of, clause=ledger.clause
                )
            )
        running += amount
        if ledger.id == INVOICES:
            number = str(entry.get("number") or "").casefold()
            if number in numbers:
                problems.append(
                    _("invoice number {number} is already recorded (project {project}); clause {clause}").format(
                        number=entry.get("number"), project=before.project.id, clause=ledger.clause
                    )
                )
            numbers.add(number)
            if running > contract:
                problems.append(
                    _("invoices would total {total}, more than the contract's {contract} (clause {clause})").format(
                        total=format_money(running), contract=format_money(contract), clause=ledger.clause
                    )
                )
        elif ledger.id == RECEIPTS and running > contract:
            problems.append(
                _(
                    "a receipt of {amount} is more than the {outstanding} outstanding on the contract (clause {clause})"
                ).format(
                    amount=format_money(amount),
                    outstanding=format_money(contract - running + amount),
                    clause=ledger.clause,
                )
            )
    return problems


def ledger_name(ledger_id: str) -> str:
    """A ledger's entries as a message names them: ``invoices`` (开票), ``receipts`` (收款)."""
    if ledger_id == INVOICES:
        return pgettext("a ledger", "invoices")
    if ledger_id == RECEIPTS:
        return pgettext("a ledger", "receipts")
    return ledger_id

"""The figures xmflow derives from a project's records: key or not, money, warranty, milestones.

Where each fact lives is the process's `figures:` table; nothing here names a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xmflow.procedure.process import INVOICES, RECEIPTS
from xmflow.rules.project import ProjectView
from xmflow.values import add_months

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def total(entries: list[dict[str, Any]] | None) -> Decimal:
    """The sum of the amounts of ledger entries (invoices, receipts), exact."""
    return sum((e.get("amount") or ZERO for e in entries or []), ZERO)


def split_amount(amount: Decimal, percents: list[Decimal | None]) -> list[Decimal | None]:
    """An amount in shares by percent, each to the fen, adding up exactly: the last share takes
    what rounding left (¥100,000.01 at 33.33/33.33/33.34 → 33,330.00 + 33,330.00 + 33,340.01).
    A share without a percent is None."""
    shares: list[Decimal | None] = [
        (amount * p / 100).quantize(CENT, ROUND_HALF_UP) if p is not None else None for p in percents
    ]
    known = [i for i, share in enumerate(shares) if share is not None]
    if known and sum((p for p in percents if p is not None), Decimal(0)) == 100:
        last = known[-1]
        shares[last] = amount - sum((share for share in shares[:last] if share is not None), ZERO)
    return shares


def figure(view: ProjectView, name: str) -> Any:
    """The value of one of the process's figures for this project."""
    return view.value(view.process.figure(name))


def signed_on(view: ProjectView, step_id: str) -> date | None:
    """The day a step was completed: its last signature's paper date (a client's), else the
    day it was signed; None while it is not done."""
    signed = view.valid_signatures(view.process.step(step_id)) if view.satisfied(step_id) else {}
    days = [s.signed_on or s.at.date() for s in signed.values()]
    return max(days) if days else None


def ledger_total(view: ProjectView, ledger_id: str) -> Decimal:
    return total(view.value(view.process.ledgers[ledger_id].field))


@dataclass(frozen=True)
class Figures:
    """What `show` and `status` report besides the records themselves."""

    key: bool
    contract_amount: Decimal | None
    invoiced: Decimal
    received: Decimal
    outstanding: Decimal | None
    warranty_end: date | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def figures(view: ProjectView) -> Figures:
    """Key or not (3.1.2), the money (4.0) and the end of after-sales service (3.9.2)."""
    amount = figure(view, "contract_amount")
    received = ledger_total(view, RECEIPTS)
    start, months = figure(view, "warranty_start"), figure(view, "warranty_months")
    try:
        warranty_end = add_months(start, months) if start and months is not None else None
    except (ValueError, OverflowError):
        warranty_end = None  # beyond the calendar: no end date to show
    return Figures(
        view.key,
        amount,
        ledger_total(view, INVOICES),
        received,
        amount - received if amount is not None else None,
        warranty_end,
    )

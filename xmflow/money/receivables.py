"""Money over time (1.3, 4.0): a contract's payment schedule from its terms, and the receivables
of a project on any day — what is due, invoiced, received, and how long the invoiced and unpaid
amounts have been due, in the buckets finance reads (0–30, 31–60, 61–90, 90+ days).

Ageing is by due date: the amounts invoiced and not yet paid are laid over the payment schedule
in its order (receipts pay the earliest term first), and each part is as old as the due date of
the term it belongs to. A part whose term has no due date yet, or is due later, is not yet due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from xmflow.money.figures import ZERO, figure, figures, signed_on, split_amount
from xmflow.procedure.process import INVOICES, RECEIPTS
from xmflow.procedure.schema import plain
from xmflow.rules.project import ProjectView

BUCKETS = ("0-30", "31-60", "61-90", "90+")
NOT_DUE = "not_due"


@dataclass(frozen=True)
class Installment:
    """One term of payment: its share of the contract and the day it falls due (None until the
    event it counts from has happened)."""

    name: str
    percent: Decimal | None
    event: str
    days: int
    amount: Decimal | None
    event_date: date | None
    due: date | None

    def as_json(self) -> dict[str, Any]:
        return plain(
            {
                "name": self.name,
                "percent": self.percent,
                "event": self.event,
                "days": self.days,
                "amount": self.amount,
                "event_date": self.event_date,
                "due": self.due,
            }
        )


def event_date(view: ProjectView, event: str) -> date | None:
    """When a payment event happened for this project (4.0), per the process's payment_events."""
    source = view.process.payment_events.get(event)
    if source is None:
        return None
    if source.kind == "field":
        value: date | None = view.value(source.ref)  # a date field (the process is checked so)
        return value
    if source.kind == "figure":
        derived: date | None = getattr(figures(view), source.ref, None)  # warranty_end
        return derived
    return signed_on(view, source.ref)


def schedule(view: ProjectView) -> list[Installment]:
    """The contract's payment schedule: each term's amount (to the fen, adding up to the
    contract) and due date."""
    terms = figure(view, "payment_terms") or []
    amount = figure(view, "contract_amount")
    shares = split_amount(amount, [t.get("percent") for t in terms]) if amount is not None else [None] * len(terms)
    found = []
    for term, share in zip(terms, shares, strict=True):
        when = event_date(view, term.get("due") or "")
        days = term.get("days") or 0
        found.append(
            Installment(
                term.get("name") or "",
                term.get("percent"),
                term.get("due") or "",
                days,
                share,
                when,
                _later(when, days),
            )
        )
    return found


def _later(day: date | None, days: int) -> date | None:
    """*days* after *day*; None when there is no day yet, or it would be past the calendar's end."""
    try:
        return day + timedelta(days=days) if day else None
    except OverflowError:
        return None


Entry = tuple[date | None, Decimal]  # a ledger's entry as money over time: its date and amount


def entries(view: ProjectView, ledger: str) -> tuple[Entry, ...]:
    """A ledger's entries (invoices, receipts) as dates and amounts."""
    return tuple((e.get("date"), e.get("amount") or ZERO) for e in view.value(view.process.ledgers[ledger].field) or [])


def until(found: tuple[Entry, ...], as_of: date) -> Decimal:
    """The sum of the entries dated on or before *as_of* (or with no date)."""
    return sum((amount for day, amount in found if not day or day <= as_of), ZERO)


@dataclass(frozen=True)
class Receivable:
    """One project's receivables on a day."""

    project: str
    name: str
    client: str
    salesperson: str
    contract: Decimal
    due: Decimal  # what the schedule says has fallen due by that day
    invoiced: Decimal
    received: Decimal
    ageing: dict[str, Decimal] = field(default_factory=dict)  # invoiced and unpaid, by bucket
    salesperson_name: str = ""

    @property
    def outstanding(self) -> Decimal:
        """Invoiced and not yet received: what the client owes."""
        return self.invoiced - self.received

    def as_json(self) -> dict[str, Any]:
        return plain(
            {
                "project": self.project,
                "name": self.name,
                "client": self.client,
                "salesperson": self.salesperson,
                "salesperson_name": self.salesperson_name,
                "contract": self.contract,
                "due": self.due,
                "invoiced": self.invoiced,
                "received": self.received,
                "outstanding": self.outstanding,
                "ageing": self.ageing,
            }
        )


@dataclass(frozen=True)
class Account:
    """What a project's receivables are made of, whatever the day: its contract, its schedule
    and its ledgers. :meth:`on` is the receivables of one day (the portfolio keeps an account per
    project, so a new day is arithmetic, not a new reading of the records)."""

    project: str
    name: str
    client: str
    salesperson: str
    contract: Decimal
    plan: tuple[Installment, ...]
    invoices: tuple[Entry, ...]
    receipts: tuple[Entry, ...]
    salesperson_name: str = ""

    def on(self, as_of: date) -> Receivable:
        """What the client owes on *as_of* and since when (only invoices and receipts dated on or
        before that day count, so every figure can be reproduced)."""
        invoiced, received = until(self.invoices, as_of), until(self.receipts, as_of)
        due = sum((i.amount or ZERO for i in self.plan if i.due and i.due <= as_of), ZERO)
        return Receivable(
            self.project,
            self.name,
            self.client,
            self.salesperson,
            self.contract,
            due,
            invoiced,
            received,
            _age(self.plan, received, invoiced, as_of),
            self.salesperson_name,
        )


def account(view: ProjectView) -> Account:
    """A project's :class:`Account`."""
    return Account(
        view.project.id,
        figure(view, "name") or "",
        figure(view, "client") or "",
        figure(view, "salesperson") or "",
        figure(view, "contract_amount") or ZERO,
        tuple(schedule(view)),
        entries(view, INVOICES),
        entries(view, RECEIPTS),
    )


def receivable(view: ProjectView, as_of: date) -> Receivable:
    """What a project's client owes on *as_of* and since when (:meth:`Account.on`)."""
    return account(view).on(as_of)


def total_until(view: ProjectView, ledger: str, as_of: date) -> Decimal:
    """The sum of a ledger's entries dated on or before *as_of*."""
    return until(entries(view, ledger), as_of)


def _age(plan: tuple[Installment, ...], received: Decimal, invoiced: Decimal, as_of: date) -> dict[str, Decimal]:
    """The invoiced and unpaid amount — the span [received, invoiced) of the schedule laid end
    to end — split by how long each term's part of it has been due."""
    ageing = dict.fromkeys((NOT_DUE, *BUCKETS), ZERO)
    start = ZERO
    for item in plan:
        end = start + (item.amount or ZERO)
        part = max(ZERO, min(end, invoiced) - max(start, received))
        if part:
            ageing[bucket(item.due, as_of)] += part
        start = end
    beyond = max(ZERO, invoiced - max(start, received))  # invoiced beyond the schedule (no terms yet)
    ageing[NOT_DUE] += beyond
    return ageing


def bucket(due: date | None, as_of: date) -> str:
    """The ageing bucket of an amount due on *due*, seen on *as_of*."""
    if due is None or due > as_of:
        return NOT_DUE
    days = (as_of - due).days
    return "0-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "90+"


def total(rows: list[Receivable], label: str = "") -> Receivable:
    """The sum of several projects' receivables (the total row; a salesperson's subtotal)."""
    ageing = {k: sum((r.ageing.get(k, ZERO) for r in rows), ZERO) for k in (NOT_DUE, *BUCKETS)}
    return Receivable(
        "",
        label,
        "",
        "",
        sum((r.contract for r in rows), ZERO),
        sum((r.due for r in rows), ZERO),
        sum((r.invoiced for r in rows), ZERO),
        sum((r.received for r in rows), ZERO),
        ageing,
    )

"""Every project at a glance, derived once: its line of the portfolio, the people its next
steps wait on, and its row of the receivables.

`status`, its filters and `ar` read the same lines. What a line holds whatever the day
(:class:`Kept`) is kept in ``.git/xmflow`` under the project's key (the git blob ids of its stage
files: :attr:`Project.key`) and a tag of the settings in force, so a warm portfolio asks git for
the blob ids (:func:`xmflow.git.store.vouched_blobs`) and reads no record, on any day (`--as-of`
included: the day is arithmetic over what is kept); only a project whose files changed is read
and worked out again. What is cached only shows: every command that changes a record, and
`verify`, judge the records themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from xmflow.errors import XmflowError
from xmflow.model import Person
from xmflow.money.figures import ZERO, signed_on
from xmflow.money.receivables import Account, Receivable, account, until
from xmflow.procedure.process import INVOICES, RECEIPTS
from xmflow.records.cache import KeptCache
from xmflow.records.workspace import Workspace
from xmflow.reports.status import WARRANTY_SOON, Standing, Summary, standing, waits_on
from xmflow.rules.project import ProjectView


@dataclass(frozen=True)
class Line:
    """One project as the portfolio and the receivables see it on one day."""

    summary: Summary
    waiting_on: frozenset[str]  # the people a next step waits on (`status --mine`)
    receivable: Receivable | None  # its row of `ar`: its client has signed, or it has an invoice
    account: Account | None = None  # what its receivables are made of (`status --mine`: money due)


@dataclass(frozen=True)
class Kept:
    """A project's line before the day is applied (what is kept of it): the day is arithmetic."""

    standing: Standing
    waiting_on: frozenset[str]
    account: Account
    signed: date | None  # when its client signed what invoices follow (4.0): from then on it is in `ar`

    def on(self, as_of: date) -> Line:
        listed = (self.signed and self.signed <= as_of) or until(self.account.invoices, as_of)
        return Line(self.standing.on(as_of), self.waiting_on, self.account.on(as_of) if listed else None, self.account)


def lines(ws: Workspace, as_of: date) -> tuple[list[Line], list[str]]:
    """Every project's line on *as_of*, and the errors of the projects whose records cannot be
    read: one broken file does not hide the rest. While git vouches for every file under
    projects/ (:attr:`xmflow.git.store.Vouched.complete`), the whole portfolio is kept under the
    digest of git's listing of them, and no project's key is worked out."""
    whole: KeptCache[tuple[list[Kept], list[str]]] | None = ws.kept("portfolio") if ws.blobs.complete else None
    held = whole.get(ws.blobs.listing) if whole is not None else None
    if held is None:
        held, read = _every_project(ws)
        if whole is not None and not read:  # each line as kept under git's blob ids: none read as it changed
            whole.put(ws.blobs.listing, held)
            whole.save()
    entries, problems = held
    return [entry.on(as_of) for entry in entries], list(problems)


def _every_project(ws: Workspace) -> tuple[tuple[list[Kept], list[str]], int]:
    """What is kept of every project (from the cache of each, by its key) and the errors of
    those that cannot be read; and how many projects were read to know."""
    kept: KeptCache[Kept] | None = ws.kept("lines")
    found: list[Kept] = []
    problems: list[str] = []
    ids = ws.project_ids()
    read = 0
    for project_id in ids:
        key = ws.project_key(project_id) if kept is not None else ""
        entry = kept.get(key) if kept is not None and key else None
        if entry is None:
            read += 1
            try:
                project = ws.project(project_id, cached=True)
            except XmflowError as exc:
                problems.append(exc.message)
                continue
            entry = _kept(ws, ProjectView(project, ws.process, ws.config))
            if kept is not None and project.key:
                kept.put(project.key, entry)
        found.append(entry)
    if kept is not None:
        kept.save()
    if ws.record_cache is not None:
        ws.record_cache.save(prune=read == len(ids))  # records not read now are still wanted unless all were
    return (found, problems), read


def _kept(ws: Workspace, view: ProjectView) -> Kept:
    base = standing(ws, view, view.statuses())
    waiting = frozenset(p.id for n in base.summary.next for p in n.people if waits_on(p, base.summary, view))
    person = ws.people.by_id(base.summary.sales)
    money = replace(account(view), salesperson_name=person.name if person else base.summary.sales)
    return Kept(base, waiting, money, signed_on(view, view.process.ledgers[INVOICES].after))


def select(
    found: list[Line],
    as_of: date,
    *,
    mine: Person | None = None,
    role: str | None = None,
    overdue: bool = False,
    key: bool = False,
    late: bool = False,
    warranty: bool = False,
    withdrawn: bool = False,
) -> list[Line]:
    """The lines the filters of `status` keep (all of them with none)."""

    def kept(line: Line) -> bool:
        s = line.summary
        return (
            (not key or s.key)
            and (not withdrawn or s.withdrawn is not None)
            and (not overdue or bool(s.overdue))
            and (not late or bool(s.late))
            and (not warranty or bool(s.warranty_end and as_of <= s.warranty_end <= as_of + WARRANTY_SOON))
            and (not role or any(role in n.roles for n in s.next))
            and (not mine or mine.id in line.waiting_on)
        )

    return [line for line in found if kept(line)]


def ar(ws: Workspace, as_of: date) -> tuple[list[Receivable], list[str]]:
    """The receivables of every project whose contract the client has signed (or that has an
    invoice), and the projects whose records could not be read."""
    found, problems = lines(ws, as_of)
    return [line.receivable for line in found if line.receivable is not None], problems


@dataclass(frozen=True)
class Money:
    """Money that waits on someone (`status --mine`, 4.0): terms fallen due that the project's
    salesperson has not invoiced, or invoices whose money finance has not yet received."""

    project: str
    name: str
    kind: str  # "invoice": to invoice (sales); "collect": invoiced, waiting for the money (finance)
    amount: Decimal
    since: date | None  # the day the oldest part fell due (to invoice) or was invoiced (to collect)
    days: int

    def as_json(self) -> dict[str, object]:
        return {
            "project": self.project,
            "name": self.name,
            "kind": self.kind,
            "amount": str(self.amount),
            "since": self.since.isoformat() if self.since else None,
            "days": self.days,
        }


def money_for(person: Person, found: list[Line], ws: Workspace, as_of: date) -> list[Money]:
    """What of money waits on *person* on *as_of*: for whoever invoices (sales, on their own
    projects), the terms fallen due and not invoiced; for whoever records receipts (finance), the
    invoices not yet paid. Each with its amount and how many days it has waited."""
    ledgers = ws.process.ledgers
    invoicing = any(r in person.roles for r in ledgers[INVOICES].roles)
    collecting = any(r in person.roles for r in ledgers[RECEIPTS].roles)
    said = []
    for line in found:
        acc, s = line.account, line.summary
        if acc is None or line.receivable is None:
            continue
        invoiced, received = until(acc.invoices, as_of), until(acc.receipts, as_of)
        if invoicing and s.sales == person.id:
            due = [(i.due, i.amount or ZERO) for i in acc.plan if i.due and i.due <= as_of]
            owed = sum((amount for _day, amount in due), ZERO) - invoiced
            if owed > 0:
                since = _oldest(due, invoiced)
                said.append(Money(s.id, s.name, "invoice", owed, since, (as_of - since).days if since else 0))
        if collecting and invoiced > received:
            bills = sorted(
                ((day, amount) for day, amount in acc.invoices if not day or day <= as_of), key=lambda e: e[0] or as_of
            )
            since = _oldest(bills, received)
            said.append(
                Money(s.id, s.name, "collect", invoiced - received, since, (as_of - since).days if since else 0)
            )
    return said


def _oldest(parts: Sequence[tuple[date | None, Decimal]], covered: Decimal) -> date | None:
    """The day of the first of *parts* (in order) not wholly covered by *covered*."""
    running = ZERO
    for day, amount in parts:
        running += amount
        if running > covered:
            return day
    return None

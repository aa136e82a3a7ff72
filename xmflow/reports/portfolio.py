"""`status` without a project, as data: the projects its filters keep, the money that waits on
whoever asks (`--mine`), its JSON; the portfolio as tables (the terminal's, the workbook's); and
the glance under it (projects per stage, what clients owe by age, the late steps). The command
line and the console only print what is built here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from xmflow.i18n import _, pgettext
from xmflow.labels import label, title_of
from xmflow.model import Person
from xmflow.money.receivables import total
from xmflow.procedure.process import Process
from xmflow.records.workspace import Workspace
from xmflow.reports import wording
from xmflow.reports.overview import Line, Money, money_for, select
from xmflow.reports.receivables import AGEING
from xmflow.reports.status import Summary, by_warranty_end, summary_json, warranty_days_left
from xmflow.reports.tables import Cell, Column, Row, Table

LATE_LINES = 20  # late steps listed one by one under the portfolio; more are counted by step and signer


@dataclass(frozen=True)
class Filters:
    """What `status` keeps of the portfolio (every project with none of them)."""

    role: str | None = None  # a next step waits on this role
    overdue: bool = False  # a milestone is overdue
    key: bool = False  # key projects
    late: bool = False  # a step waits longer than its due_days
    warranty: bool = False  # the warranty ends within WARRANTY_SOON (then the first to end, first)
    withdrawn: bool = False  # withdrawn (终止)


@dataclass(frozen=True)
class Portfolio:
    """`status`: the projects listed, in the order listed (with --mine, of each project the steps
    that wait on me; with --warranty, the warranty that ends first, first); the lines of those
    projects as read (the glance under the table counts them); with --mine the money that waits
    on me, and the projects in which only money does (the JSON lists them too)."""

    rows: tuple[Summary, ...]
    lines: tuple[Line, ...]
    mine: bool = False
    money: tuple[Money, ...] = ()
    also: tuple[Summary, ...] = ()

    def as_json(self) -> list[dict[str, Any]]:
        """`status --json`: a record per project; with --mine, each with the money that waits on me."""
        listed = [summary_json(r) for r in self.rows]
        if self.mine:
            listed += [summary_json(s) for s in self.also]
            money: dict[str, list[dict[str, object]]] = {}
            for m in self.money:
                money.setdefault(m.project, []).append(m.as_json())
            for item in listed:
                item["money"] = money.get(item["id"], [])
        return listed


def portfolio(
    ws: Workspace, found: list[Line], as_of: date, filters: Filters = Filters(), mine: Person | None = None
) -> Portfolio:
    """The portfolio of *found* (every project's line on *as_of*) that `status` shows."""
    f = filters
    chosen = select(
        found,
        as_of,
        mine=mine,
        role=f.role,
        overdue=f.overdue,
        key=f.key,
        late=f.late,
        warranty=f.warranty,
        withdrawn=f.withdrawn,
    )
    rows = [line.summary for line in chosen]
    if mine is not None:  # of each project, the steps that wait on me (a withdrawal to approve, not the team's step)
        rows = [replace(r, next=tuple(n for n in r.next if mine in n.people) or r.next) for r in rows]
    if f.warranty:
        rows = by_warranty_end(rows)
    if mine is None:
        return Portfolio(tuple(rows), tuple(chosen))
    others = select(  # the money that waits on me, in the projects the other filters keep
        found, as_of, role=f.role, overdue=f.overdue, key=f.key, late=f.late, warranty=f.warranty, withdrawn=f.withdrawn
    )
    money = money_for(mine, others, ws, as_of)
    only_money = {m.project for m in money} - {r.id for r in rows}
    also = tuple(line.summary for line in found if line.summary.id in only_money)
    return Portfolio(tuple(rows), tuple(chosen), True, tuple(money), also)


# -- the tables ---------------------------------------------------------------------------------
SCREEN = ("project", "name", "client", "sales", "key", "stage", "next", "who", "waiting", "overdue", "amount")
"""The columns of the portfolio in a terminal (by the words of the tables: :func:`xmflow.labels.label`)."""


def table(rows: Sequence[Summary], process: Process, warranty: date | None = None) -> Table:
    """The portfolio in a terminal: a row per project, its next steps and whom they wait on a line
    each. With *warranty* (the day of `status --warranty`), each project's warranty end and the
    days left from that day."""
    columns = [Column(key, label(key), money=key == "amount") for key in SCREEN]
    if warranty is not None:
        columns += [Column("warranty_end", label("warranty_end")), Column("days_left", pgettext("table", "days left"))]
    return Table(tuple(columns), tuple(Row(screen_cells(s, process, warranty)) for s in rows))


def screen_cells(s: Summary, process: Process, warranty: date | None = None) -> tuple[Cell, ...]:
    """A project's row of the portfolio in a terminal: what is not there is blank (no step next
    is —; with *warranty*, no warranty end is —)."""
    if s.withdrawn is not None or s.closed:
        stage = label("withdrawn") if s.withdrawn is not None else label("closed")
    else:
        stage = title_of(process.stage(s.stage))
    cells: tuple[Cell, ...] = (
        s.id,
        s.name,
        s.client,
        s.sales_name,
        label("yes") if s.key else "",
        stage,
        tuple(n.step.id for n in s.next) or "—",
        tuple(wording.waiting_on(n, process) for n in s.next),
        s.waiting_days,
        len(s.overdue) if s.overdue else None,
        s.amount,
    )
    if warranty is None:
        return cells
    return (*cells, s.warranty_end or "—", warranty_days_left(s, warranty))


SHEET = (
    "project",
    "name",
    "client",
    "sales",
    "key",
    "stage",
    "next",
    "waiting",
    "late",
    "overdue",
    "warranty_end",
    "amount",
    "received",
)
"""The columns of `status --xlsx` (by the words of the tables)."""
SHEET_MONEY = frozenset(("amount", "received"))


def sheet(rows: Sequence[Summary], process: Process, as_of: date) -> Table:
    """`status --xlsx`: the portfolio as a workbook's sheet, headed in the language in use, named for the day."""
    columns = tuple(Column(key, label(key), key in SHEET_MONEY) for key in SHEET)
    title = _("portfolio {day}").format(day=as_of.isoformat())
    return Table(columns, tuple(Row(sheet_cells(s, process)) for s in rows), title)


def sheet_cells(s: Summary, process: Process) -> tuple[Cell, ...]:
    """A project's row of `status --xlsx`: days as days, amounts as they are, the steps in a cell."""
    if s.withdrawn is not None or s.closed:
        stage = label("withdrawn") if s.withdrawn is not None else label("closed")
    else:
        found = process.stage(s.stage)
        stage = title_of(found)
    return (
        s.id,
        s.name,
        s.client,
        s.sales_name,
        label("yes") if s.key else "",
        stage,
        ", ".join(n.step.id for n in s.next),
        s.waiting_days,
        ", ".join(n.step.id for n in s.late),
        len(s.overdue),
        s.warranty_end,
        s.amount,
        s.received,
    )


# -- the glance under it ------------------------------------------------------------------------
@dataclass(frozen=True)
class Late:
    """A step waiting longer than the process allows it, and whom it waits on (in words)."""

    project: str
    step: str
    waited: int
    due: int | None
    who: str


@dataclass(frozen=True)
class LateGroup:
    """The late steps of one step and whom they wait on: the projects, and the longest wait."""

    step: str
    who: str
    projects: tuple[str, ...]
    longest: int


@dataclass(frozen=True)
class Glance:
    """Under the portfolio: how many projects at each stage (by its title in the language in use;
    the closed and the withdrawn; only those with any), what their clients owe by age (None when
    they owe nothing) and the late steps: each of them when there are at most LATE_LINES, else
    grouped by step and whom it waits on, the largest group first."""

    pipeline: dict[str, int]
    ageing: dict[str, Decimal] | None
    late: tuple[Late, ...] = ()
    late_groups: tuple[LateGroup, ...] = ()


def glance(shown: Sequence[Line], process: Process) -> Glance | None:
    """The glance at these projects (None when there are none)."""
    rows = [line.summary for line in shown]
    if not rows:
        return None
    counts = {
        title_of(st): sum(1 for r in rows if not r.closed and r.stage == st.id) for st in process.stages if not st.halts
    }
    counts[label("closed")] = sum(1 for r in rows if r.closed and r.withdrawn is None)
    counts[label("withdrawn")] = sum(1 for r in rows if r.withdrawn is not None)
    owed = total([line.receivable for line in shown if line.receivable is not None])
    ageing = {k: owed.ageing[k] for k in AGEING} if owed.outstanding else None
    pipeline = {k: v for k, v in counts.items() if v}
    late = [(r, n) for r in rows for n in r.late]
    if len(late) <= LATE_LINES:
        each = (Late(r.id, n.step.id, n.waiting_days, n.step.due_days, wording.waiting_on(n, process)) for r, n in late)
        return Glance(pipeline, ageing, tuple(each))
    groups: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for r, n in late:  # many: one line per step and who it waits on
        groups.setdefault((n.step.id, wording.waiting_on(n, process)), []).append((r.id, n.waiting_days))
    grouped = tuple(
        LateGroup(step, who, tuple(p for p, _days in items), max(days for _p, days in items))
        for (step, who), items in sorted(groups.items(), key=lambda g: -len(g[1]))
    )
    return Glance(pipeline, ageing, (), grouped)

"""`ar`, as data: every project's receivables on a day, grouped by salesperson on request with
each group's subtotal, and the total; its JSON, and its tables (the terminal's, and the one CSV
and workbooks are made of). The command line and the console only print what is built here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from xmflow.i18n import _, pgettext
from xmflow.labels import label, label_or
from xmflow.money.receivables import BUCKETS, NOT_DUE, Receivable, total
from xmflow.records.workspace import Workspace
from xmflow.reports import overview
from xmflow.reports.tables import Cell, Column, Row, Table

AGEING = (NOT_DUE, *BUCKETS)  # the ageing's buckets in the order they are shown
COLUMNS = (  # the stable names of the columns of `ar --csv` and `ar --xlsx` (the CSV's header in English)
    "project",
    "name",
    "client",
    "salesperson",
    "contract",
    "due",
    "invoiced",
    "received",
    "outstanding",
    *AGEING,
)
MONEY = frozenset(("contract", "due", "invoiced", "received", "outstanding", *AGEING))  # the amounts


@dataclass(frozen=True)
class Group:
    """One salesperson's projects (`ar --by-salesperson`) and their subtotal (named as its
    salesperson is)."""

    name: str  # the salesperson by name (the id when people.yaml has none)
    rows: tuple[Receivable, ...]
    subtotal: Receivable


@dataclass(frozen=True)
class Receivables:
    """`ar`: each project's receivables on *as_of*, in the order read; with --by-salesperson the
    groups (by salesperson id, those of one name together); the total of all of them."""

    as_of: date
    rows: tuple[Receivable, ...]
    total: Receivable
    groups: tuple[Group, ...] | None = None

    @property
    def ageing(self) -> dict[str, Decimal]:
        """What all the clients owe, by how long it has been due (the buckets in their order)."""
        return {k: self.total.ageing[k] for k in AGEING}

    def as_json(self) -> dict[str, Any]:
        """`ar --json`: the day, every project, the total and, grouped, each salesperson's subtotal."""
        subtotals = {g.name: g.subtotal.as_json() for g in self.groups or ()}
        return {
            "as_of": self.as_of.isoformat(),
            "projects": [r.as_json() for r in self.rows],
            "total": self.total.as_json(),
            **({"by_salesperson": subtotals} if self.groups is not None else {}),
        }


def receivables(rows: list[Receivable], as_of: date, by_salesperson: bool = False) -> Receivables:
    """The receivables of these projects on *as_of*: their total (named ``total`` in the language
    in use) and, *by_salesperson*, their groups, each with its subtotal."""
    groups = None
    if by_salesperson:
        members: dict[str, list[Receivable]] = {}
        for row in sorted(rows, key=lambda r: r.salesperson):
            members.setdefault(row.salesperson_name or row.salesperson, []).append(row)
        groups = tuple(Group(name, tuple(found), total(found, name)) for name, found in members.items())
    return Receivables(as_of, tuple(rows), total(rows, label("total")), groups)


def read(ws: Workspace, as_of: date, by_salesperson: bool = False) -> tuple[Receivables, list[str]]:
    """`ar` on *as_of* for every project in `ar` (:func:`xmflow.reports.overview.ar`), and the
    errors of the projects whose records could not be read."""
    rows, problems = overview.ar(ws, as_of)
    return receivables(rows, as_of, by_salesperson), problems


def _sections(report: Receivables, empty_group: bool = False) -> list[tuple[tuple[Receivable, ...], Receivable | None]]:
    """The projects in the order they are listed, each group's subtotal after its projects; the
    subtotal's name is the words of a subtotal. With *empty_group* (the terminal, as it always
    drew it), grouping nothing still shows one empty group's subtotal."""
    if report.groups is None:
        return [(report.rows, None)]
    if not report.groups and empty_group:
        return [((), _named(total([], ""), _("subtotal {name}").format(name="")))]
    return [(g.rows, _named(g.subtotal, _("subtotal {name}").format(name=g.name))) for g in report.groups]


def _named(r: Receivable, name: str) -> Receivable:
    return replace(r, name=name)


def _listed(
    report: Receivables, cells: Callable[[Receivable], tuple[Cell, ...]], empty_group: bool = False
) -> tuple[Row, ...]:
    rows = [
        row
        for members, subtotal in _sections(report, empty_group)
        for row in (
            *(Row(cells(r)) for r in members),
            *((Row(cells(subtotal), "subtotal"),) if subtotal is not None else ()),
        )
    ]
    return (*rows, Row(cells(report.total), "total"))


def sheet_columns() -> tuple[Column, ...]:
    """The columns of `ar --csv` and `ar --xlsx`, headed in the language in use (in English, by
    their stable names: :data:`COLUMNS`)."""
    headings = (
        pgettext("receivables column", "project"),
        pgettext("receivables column", "name"),
        pgettext("receivables column", "client"),
        pgettext("receivables column", "salesperson"),
        pgettext("receivables column", "contract"),
        pgettext("receivables column", "due"),
        pgettext("receivables column", "invoiced"),
        pgettext("receivables column", "received"),
        pgettext("receivables column", "outstanding"),
        pgettext("receivables column", "not_due"),
        pgettext("receivables column", "0-30"),
        pgettext("receivables column", "31-60"),
        pgettext("receivables column", "61-90"),
        pgettext("receivables column", "90+"),
    )
    return tuple(Column(key, heading, key in MONEY) for key, heading in zip(COLUMNS, headings, strict=True))


def sheet_cells(r: Receivable) -> tuple[Cell, ...]:
    """A row of `ar --csv` and `ar --xlsx`: its salesperson by name (the id when people.yaml has
    none), every amount as it is."""
    return (
        r.project,
        r.name,
        r.client,
        r.salesperson_name or r.salesperson,
        r.contract,
        r.due,
        r.invoiced,
        r.received,
        r.outstanding,
        *(r.ageing[k] for k in AGEING),
    )


def sheet(report: Receivables) -> Table:
    """`ar --csv` and `ar --xlsx`: a row per project (grouped, each group's subtotal after it),
    then the total; the sheet named for the day."""
    title = _("receivables {day}").format(day=report.as_of.isoformat())
    return Table(sheet_columns(), _listed(report, sheet_cells), title)


SCREEN = ("project", "name", "sales", "amount", "due", "invoiced", "received", "receivable", *AGEING)
"""The columns of `ar` in a terminal (by the words of the tables: :func:`xmflow.labels.label`):
the client is left out, for the width."""
SCREEN_MONEY = frozenset(("amount", "due", "invoiced", "received", "receivable", *AGEING))  # the amounts


def screen_cells(r: Receivable) -> tuple[Cell, ...]:
    """A row of `ar` in a terminal: an ageing bucket with nothing in it is left blank."""
    return (
        r.project,
        r.name,
        r.salesperson_name or r.salesperson,
        r.contract,
        r.due,
        r.invoiced,
        r.received,
        r.outstanding,
        *(r.ageing[k] or None for k in AGEING),
    )


def table(report: Receivables) -> Table:
    """`ar` in a terminal: a row per project (grouped, each group's subtotal after it), then the
    total."""
    columns = tuple(Column(key, label_or(key), key in SCREEN_MONEY) for key in SCREEN)
    return Table(columns, _listed(report, screen_cells, empty_group=True))

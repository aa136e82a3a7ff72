"""A report as a table, as data: its columns (each named, headed in the language in use, and
saying whether it holds money) and its rows of cells. The terminal, the CSV and the workbooks
print a table as they are given it: which cells a row has, and which of them are money, is
decided here, in the reports, not where it is drawn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

Cell = str | int | Decimal | date | tuple[str, ...] | None
"""What a cell holds: text; a number; an amount (a Decimal, in yuan); a day; several lines (a
tuple of texts: one line each in a terminal's table, joined on one line elsewhere); nothing."""

RowKind = Literal["row", "subtotal", "total"]


@dataclass(frozen=True)
class Column:
    """A column of a table: what it holds by a stable name (``project``, ``contract``, ``0-30``),
    its header in the language in use, and whether its cells are money."""

    key: str
    heading: str
    money: bool = False


@dataclass(frozen=True)
class Row:
    """A row of a table: a cell per column, and whether it is a project's row, a subtotal or the
    total."""

    cells: tuple[Cell, ...]
    kind: RowKind = "row"


@dataclass(frozen=True)
class Table:
    """A report's table: its columns, its rows (subtotals and the total among them, where they go)
    and its title (a workbook's sheet is named by it)."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    title: str = ""

    @property
    def headings(self) -> list[str]:
        return [column.heading for column in self.columns]

    @property
    def projects(self) -> int:
        """How many of its rows are a project's (not a subtotal, not the total)."""
        return sum(1 for row in self.rows if row.kind == "row")


def text_table(title: str, rows: list[list[Cell]]) -> Table:
    """A table of plain cells, its first row the header: no column of it is money."""
    header, *body = rows or [[]]
    columns = tuple(Column(str(heading), str(heading)) for heading in header)
    return Table(columns, tuple(Row(tuple(cells)) for cells in body), title)

"""Tables for finance outside the terminal: CSV, and Excel workbooks through openpyxl (the
optional extra ``xmflow[xlsx]``). Amounts are written as exact decimals, never floats.

Text from the records is written as text, never as a formula: in CSV a text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (what spreadsheet
programs read as "this is text", the OWASP advice against CSV injection); in a workbook every
text cell is stored as a string, which Excel never evaluates. Control characters are written as
their escapes (``\\x1b``), as in the terminal (and a workbook cannot hold them at all).

The headers follow the language in use: in English the CSV's are stable column names for
scripts (``project``, ``not_due``, ``0-30``…), in Chinese the words finance reads (项目, 未到期,
0–30天…). The CSV is UTF-8 with a byte order mark, which is how Excel knows it is UTF-8 (without
it, Chinese Excel reads the file as GBK and every name is garbled); Python's ``utf-8-sig``, pandas
and LibreOffice read the mark as what it is. Scripts that want the data without it have ``--json``.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmflow.errors import UsageError
from xmflow.files import write_whole
from xmflow.i18n import _
from xmflow.reports.tables import Cell, Table, text_table
from xmflow.values import visible

BOM = "\ufeff"  # UTF-8's byte order mark: what tells Excel the file is UTF-8
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A CSV cell: text made visible and never read as a formula; other values as they are."""
    if not isinstance(value, str):
        return value
    text = visible(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_of(table: Table) -> str:
    """A table as CSV (`ar --csv`): the byte order mark, the header, a line per row; the cells of
    its money columns with two decimals, exactly."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.headings)
    money = [column.money for column in table.columns]
    for row in table.rows:
        writer.writerow(
            [
                f"{c:.2f}" if is_money and isinstance(c, Decimal) else csv_text(_flat(c))
                for c, is_money in zip(row.cells, money, strict=True)
            ]
        )
    return buffer.getvalue()


def _flat(cell: Cell) -> Cell:
    """A cell of several lines on one line."""
    return ", ".join(cell) if isinstance(cell, tuple) else cell


def write_table(path: Path, title: str, rows: list[list[Any]], option: str = "--xlsx") -> None:
    """A workbook of one sheet of plain cells: the first row the header."""
    write_sheet(path, text_table(title, rows), option)


def write_sheet(path: Path, table: Table, option: str = "--xlsx") -> None:
    """A workbook of one sheet, named by the table's title: the header in bold, then its rows;
    the cells of its money columns as numbers in yuan with two decimals."""
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError:
        raise UsageError(
            _("Excel output needs openpyxl, an optional extra: pip install openpyxl (or use --csv)")
        ) from None
    book = Workbook()
    sheet = book.active
    sheet.title = table.title[:31].replace(":", " ")
    for cells in [table.headings, *(row.cells for row in table.rows)]:
        sheet.append([visible(v) if isinstance(v, str) else v for v in map(_flat, cells)])
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # text starting with "=": openpyxl takes it for a formula
                cell.data_type = "s"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, column in enumerate(table.columns, start=1):
        if column.money:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=number, max_col=number):
                cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    write_whole(path, buffer.getvalue(), option)

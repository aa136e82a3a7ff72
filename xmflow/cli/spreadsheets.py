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
from datetime import date
from pathlib import Path
from typing import Any

from xmflow.errors import UsageError
from xmflow.files import write_whole
from xmflow.i18n import _, pgettext
from xmflow.money.receivables import BUCKETS, NOT_DUE, Receivable
from xmflow.values import visible

AR_COLUMNS = (
    "project",
    "name",
    "client",
    "salesperson",
    "contract",
    "due",
    "invoiced",
    "received",
    "outstanding",
    NOT_DUE,
    *BUCKETS,
)
BOM = "\ufeff"  # UTF-8's byte order mark: what tells Excel the file is UTF-8


def ar_headers() -> list[str]:
    """The columns of the receivables in the language in use; in English, :data:`AR_COLUMNS`."""
    return [
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
    ]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A CSV cell: text made visible and never read as a formula; other values as they are."""
    if not isinstance(value, str):
        return value
    text = visible(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _ar_cells(r: Receivable) -> list[Any]:
    return [
        r.project,
        r.name,
        r.client,
        r.salesperson,
        r.contract,
        r.due,
        r.invoiced,
        r.received,
        r.outstanding,
        *(r.ageing[k] for k in (NOT_DUE, *BUCKETS)),
    ]


def ar_csv(rows: list[Receivable], grand: Receivable) -> str:
    """`ar --csv`: the byte order mark, a header (stable column names in English), one row per
    project (its salesperson by name), then the total."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ar_headers())
    for r in [*rows, grand]:
        writer.writerow([f"{c:.2f}" if hasattr(c, "quantize") else csv_text(c) for c in _named_cells(r)])
    return buffer.getvalue()


def _named_cells(r: Receivable) -> list[Any]:
    """A row of the receivables with its salesperson by name (the id when people.yaml has none)."""
    cells = _ar_cells(r)
    return [*cells[:3], r.salesperson_name or r.salesperson, *cells[4:]]


def write_ar(path: Path, rows: list[Receivable], grand: Receivable, as_of: date, option: str = "--xlsx") -> None:
    """`ar --xlsx`: one sheet, headers in the language in use, salespeople by name, amounts as
    numbers in yuan with two decimals."""
    sheet_rows = [ar_headers(), *(_named_cells(r) for r in rows), _ar_cells(grand)]
    _write(path, _("receivables {day}").format(day=as_of.isoformat()), sheet_rows, 4, option)


def write_table(
    path: Path, title: str, rows: list[list[Any]], money_from: int | None = None, option: str = "--xlsx"
) -> None:
    """A workbook of one sheet: the first row the header."""
    _write(path, title, rows, money_from, option)


def _write(path: Path, title: str, rows: list[list[Any]], money_from: int | None, option: str) -> None:
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError:
        raise UsageError(
            _("Excel output needs openpyxl, an optional extra: pip install openpyxl (or use --csv)")
        ) from None
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31].replace(":", " ")
    for row in rows:
        sheet.append([visible(v) if isinstance(v, str) else v for v in row])
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # text starting with "=": openpyxl takes it for a formula
                cell.data_type = "s"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    if money_from is not None:
        for row in sheet.iter_rows(min_row=2, min_col=money_from + 1):
            for cell in row:
                cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    write_whole(path, buffer.getvalue(), option)

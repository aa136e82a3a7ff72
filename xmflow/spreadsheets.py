"""Tables for finance outside the terminal: CSV, and Excel workbooks through openpyxl (the
optional extra ``xmflow[xlsx]``). Amounts are written as exact decimals, never floats.

Text from the records is written as text, never as a formula: in CSV a text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (what spreadsheet
programs read as "this is text", the OWASP advice against CSV injection); in a workbook every
text cell is stored as a string, which Excel never evaluates. Control characters are written as
their escapes (``\\x1b``), as in the terminal (and a workbook cannot hold them at all).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from xmflow.console import visible
from xmflow.errors import UsageError
from xmflow.files import write_whole
from xmflow.receivables import BUCKETS, NOT_DUE, Receivable

AR_COLUMNS = ("project", "name", "client", "salesperson", "contract", "due", "invoiced", "received", "outstanding",
              NOT_DUE, *BUCKETS)
AR_HEADERS_ZH = ("项目", "名称", "客户", "销售", "合同金额", "已到期", "已开票", "已收款", "应收未收", "未到期",
                 "0–30天", "31–60天", "61–90天", "90天以上")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A CSV cell: text made visible and never read as a formula; other values as they are."""
    if not isinstance(value, str):
        return value
    text = visible(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _ar_cells(r: Receivable) -> list[Any]:
    return [r.project, r.name, r.client, r.salesperson, r.contract, r.due, r.invoiced, r.received, r.outstanding,
            *(r.ageing[k] for k in (NOT_DUE, *BUCKETS))]


def ar_csv(rows: list[Receivable], grand: Receivable) -> str:
    """`ar --csv`: a header of stable column names, one row per project, then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(AR_COLUMNS)
    for r in [*rows, grand]:
        writer.writerow([f"{c:.2f}" if hasattr(c, "quantize") else csv_text(c) for c in _ar_cells(r)])
    return buffer.getvalue()


def write_ar(path: Path, rows: list[Receivable], grand: Receivable, as_of: date, option: str = "--xlsx") -> None:
    """`ar --xlsx`: one sheet, Chinese headers, salespeople by name, amounts as numbers in yuan
    with two decimals."""
    named = [[*cells[:3], r.salesperson_name or r.salesperson, *cells[4:]] for r in rows if (cells := _ar_cells(r))]
    sheet_rows = [list(AR_HEADERS_ZH), *named, _ar_cells(grand)]
    _write(path, f"应收账款 {as_of.isoformat()}", sheet_rows, 4, option)


def write_table(path: Path, title: str, rows: list[list[Any]], money_from: int | None = None,
                option: str = "--xlsx") -> None:
    """A workbook of one sheet: the first row the header."""
    _write(path, title, rows, money_from, option)


def _write(path: Path, title: str, rows: list[list[Any]], money_from: int | None, option: str) -> None:
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError:
        raise UsageError("Excel output needs openpyxl, an optional extra: pip install 'xmflow[xlsx]' "
                         "(or use --csv)") from None
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

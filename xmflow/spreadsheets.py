"""Tables for finance outside the terminal: CSV, and Excel workbooks through openpyxl (the
optional extra ``xmflow[xlsx]``). Amounts are written as exact decimals, never floats."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from xmflow.errors import UsageError
from xmflow.files import write_whole
from xmflow.receivables import BUCKETS, NOT_DUE, Receivable

AR_COLUMNS = ("project", "name", "client", "salesperson", "contract", "due", "invoiced", "received", "outstanding",
              NOT_DUE, *BUCKETS)
AR_HEADERS_ZH = ("项目", "名称", "客户", "销售", "合同金额", "已到期", "已开票", "已收款", "应收未收", "未到期",
                 "0–30天", "31–60天", "61–90天", "90天以上")


def _ar_cells(r: Receivable) -> list[Any]:
    return [r.project, r.name, r.client, r.salesperson, r.contract, r.due, r.invoiced, r.received, r.outstanding,
            *(r.ageing[k] for k in (NOT_DUE, *BUCKETS))]


def ar_csv(rows: list[Receivable], grand: Receivable) -> str:
    """`ar --csv`: a header of stable column names, one row per project, then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(AR_COLUMNS)
    for r in [*rows, grand]:
        writer.writerow([f"{c:.2f}" if hasattr(c, "quantize") else c for c in _ar_cells(r)])
    return buffer.getvalue()


def write_ar(path: Path, rows: list[Receivable], grand: Receivable, as_of: date) -> None:
    """`ar --xlsx`: one sheet, Chinese headers, salespeople by name, amounts as numbers in yuan
    with two decimals."""
    named = [[*cells[:3], r.salesperson_name or r.salesperson, *cells[4:]] for r in rows if (cells := _ar_cells(r))]
    sheet_rows = [list(AR_HEADERS_ZH), *named, _ar_cells(grand)]
    _write(path, f"应收账款 {as_of.isoformat()}", sheet_rows, money_from=4)


def write_table(path: Path, title: str, rows: list[list[Any]], money_from: int | None = None) -> None:
    """A workbook of one sheet: the first row the header."""
    _write(path, title, rows, money_from)


def _write(path: Path, title: str, rows: list[list[Any]], money_from: int | None) -> None:
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
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    if money_from is not None:
        for row in sheet.iter_rows(min_row=2, min_col=money_from + 1):
            for cell in row:
                cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    write_whole(path, buffer.getvalue())

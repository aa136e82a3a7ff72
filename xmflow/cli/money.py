"""The commands of the money (4.0): invoices, receipts and the receivables."""

from __future__ import annotations

from typing import Annotated

import typer

from xmflow.changes import ledger
from xmflow.changes.session import Session
from xmflow.cli import completion, spreadsheets
from xmflow.cli.common import JsonOpt, day_of, out_of, output_of, report_change, text_of, workspace_of
from xmflow.clock import now
from xmflow.i18n import _
from xmflow.procedure.process import INVOICES, RECEIPTS
from xmflow.reports import receivables

app = typer.Typer()


@app.command()
def invoice(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id.", autocompletion=completion.projects)],
    amount: Annotated[str, typer.Argument(help="Amount, e.g. 45万.")],
    number: Annotated[str, typer.Option("--number", help="The invoice number.")],
    when: Annotated[str | None, typer.Option("--date", help="Invoice date (default today).")] = None,
) -> None:
    """Sales records an invoice (4.0)."""
    entry = {"number": text_of(number, "--number"), "date": day_of(when, "--date")}
    report_change(ctx, ledger.add_entry(Session.start(workspace_of(ctx)), project, INVOICES, amount, entry))


@app.command()
def receive(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id.", autocompletion=completion.projects)],
    amount: Annotated[str, typer.Argument(help="Amount received, e.g. 45万.")],
    when: Annotated[str | None, typer.Option("--date", help="Day received (default today).")] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="Bank reference.")] = None,
) -> None:
    """Finance records a confirmed receipt (4.0)."""
    entry = {"date": day_of(when, "--date"), "ref": text_of(ref, "--ref", blank=False)}
    report_change(ctx, ledger.add_entry(Session.start(workspace_of(ctx)), project, RECEIPTS, amount, entry))


@app.command()
def ar(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The day the figures are for (default today).")] = None,
    by_sales: Annotated[bool, typer.Option("--by-salesperson", help="Group the projects by salesperson.")] = False,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (one row per project, then the total).")] = False,
    xlsx: Annotated[
        str | None, typer.Option("--xlsx", metavar="FILE", help="Write an Excel workbook for finance.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="In a terminal, every project in the table (not the first 200).")
    ] = False,
) -> None:
    """Receivables: contract, due, invoiced, received, outstanding, ageing 0–30/31–60/61–90/90+ days.

    Ageing is by due date: what is invoiced and not yet received is laid over the contract's
    payment schedule in order (receipts pay the earliest term first), and each part is as old as
    the due date of its term (the term's event + its days); a part not yet due is "not yet due".
    Only invoices and receipts dated on or before --as-of count.
    """
    workbook = output_of(xlsx, "--xlsx", "ar.xlsx")
    ws = workspace_of(ctx)
    day = day_of(as_of, "--as-of") or now().date()
    report, problems = receivables.read(ws, day, by_salesperson=by_sales)
    out = out_of(ctx)
    if workbook:
        spreadsheets.write_sheet(workbook, receivables.sheet(report))
        out.line(_("wrote {file}").format(file=workbook))
    elif as_json:
        out.json(report.as_json())
    elif as_csv:
        out.text(spreadsheets.csv_of(receivables.sheet(report)))
    else:
        out.ar(receivables.table(report), report.ageing, every)
    for problem in problems:
        out.error(problem)
    if problems:
        raise typer.Exit(2)

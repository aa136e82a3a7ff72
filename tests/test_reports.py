"""The reports build their rows (xmflow/reports/): `ar`'s groups, subtotals and total, its JSON,
which columns are money, the portfolio's tables and the glance under it, on projects built in
memory (no git, no files). The console and the spreadsheets only print what these return."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from memory import PROCESS, Build, contract_ready

from xmflow.labels import label
from xmflow.model import People, Person
from xmflow.money.receivables import NOT_DUE, Receivable, account, receivable
from xmflow.reports import portfolio, receivables, tables
from xmflow.reports.overview import Line
from xmflow.reports.status import summary
from xmflow.values import parse_money

AS_OF = date(2026, 12, 31)
PEOPLE = People(
    (
        Person("zhangsan", "张三", "zhangsan@example.com", frozenset({"sales"})),
        Person("lisi", "李四", "lisi@example.com", frozenset({"sales"})),
        Person("fenger", "冯二", "fenger@example.com", frozenset({"finance"})),
    )
)
WS: Any = SimpleNamespace(process=PROCESS, people=PEOPLE)  # what the reports ask of a workspace
MONEY_OF_AR = {"contract", "due", "invoiced", "received", "outstanding", NOT_DUE, "0-30", "31-60", "61-90", "90+"}


def money(text: str) -> Decimal:
    return parse_money(text)


def project(pid: str, sales: str, amount: str, invoiced: str = "", received: str = "") -> Build:
    """A project of *sales*'s with a contract of *amount* (all of it due 30 days after acceptance),
    invoiced and paid as given on 2026-10-01."""
    build = contract_ready(Build(sales=sales), who=sales)
    build.project = replace(build.project, id=pid)
    build.set("contract", amount=money(amount))
    day = date(2026, 10, 1)
    build.set(
        "collection",
        invoices=[{"number": f"F-{pid}", "date": day, "amount": money(invoiced)}] if invoiced else [],
        receipts=[{"date": day, "amount": money(received)}] if received else [],
    )
    return build


def row(build: Build) -> Receivable:
    """A project's row of `ar`, its salesperson by name (as the portfolio reads it)."""
    found = receivable(build.view(), AS_OF)
    person = PEOPLE.by_id(found.salesperson)
    return replace(found, salesperson_name=person.name if person else found.salesperson)


def three() -> list[Receivable]:
    """Two projects of 张三's and one of 李四's, read in the order 张三, 李四, 张三."""
    return [
        row(project("2026-001", "zhangsan", "30万", invoiced="10万", received="4万")),
        row(project("2026-002", "lisi", "50万", invoiced="20万")),
        row(project("2026-003", "zhangsan", "20万", invoiced="5万", received="5万")),
    ]


# -- `ar`: groups, subtotals, the total ---------------------------------------------------------------
def test_ar_groups_by_salesperson_each_with_the_sum_of_its_projects() -> None:
    report = receivables.receivables(three(), AS_OF, by_salesperson=True)
    assert report.groups is not None
    # by salesperson id (lisi before zhangsan), each named as people.yaml names its salesperson
    assert [(g.name, [r.project for r in g.rows]) for g in report.groups] == [
        ("李四", ["2026-002"]),
        ("张三", ["2026-001", "2026-003"]),
    ]
    zhang = report.groups[1].subtotal
    assert (zhang.name, zhang.contract, zhang.invoiced, zhang.received) == (
        "张三",
        Decimal("500000.00"),
        Decimal("150000.00"),
        Decimal("90000.00"),
    )
    assert zhang.outstanding == Decimal("60000.00")
    first, third = report.rows[0].ageing, report.rows[2].ageing
    assert zhang.ageing == {k: first[k] + third[k] for k in receivables.AGEING}


def test_ar_the_total_counts_every_project_in_the_order_read() -> None:
    report = receivables.receivables(three(), AS_OF)
    assert report.groups is None
    assert [r.project for r in report.rows] == ["2026-001", "2026-002", "2026-003"]
    grand = report.total
    assert grand.name == label("total") and grand.project == "" and grand.salesperson == ""
    assert (grand.contract, grand.invoiced, grand.received, grand.outstanding) == (
        Decimal("1000000.00"),
        Decimal("350000.00"),
        Decimal("90000.00"),
        Decimal("260000.00"),
    )
    assert sum(report.ageing.values()) == grand.outstanding
    assert list(report.ageing) == [NOT_DUE, "0-30", "31-60", "61-90", "90+"]


def test_ar_salespeople_of_one_name_are_one_group() -> None:
    rows = three()
    rows[1] = replace(rows[1], salesperson_name="张三")  # another 张三 (lisi)
    report = receivables.receivables(rows, AS_OF, by_salesperson=True)
    assert report.groups is not None and [g.name for g in report.groups] == ["张三"]
    assert report.groups[0].subtotal.contract == Decimal("1000000.00")


def test_ar_sheet_lists_each_group_then_its_subtotal_then_the_total() -> None:
    grouped = receivables.sheet(receivables.receivables(three(), AS_OF, by_salesperson=True))
    assert [(r.kind, r.cells[0], r.cells[1]) for r in grouped.rows] == [
        ("row", "2026-002", "项目"),
        ("subtotal", "", "subtotal 李四"),
        ("row", "2026-001", "项目"),
        ("row", "2026-003", "项目"),
        ("subtotal", "", "subtotal 张三"),
        ("total", "", label("total")),
    ]
    assert grouped.title == "receivables 2026-12-31" and grouped.projects == 3
    plain = receivables.sheet(receivables.receivables(three(), AS_OF))
    assert [r.kind for r in plain.rows] == ["row", "row", "row", "total"]
    assert [r.cells[3] for r in plain.rows] == ["张三", "李四", "张三", ""]  # the salesperson by name


# -- which columns are money ----------------------------------------------------------------------------
def test_ar_columns_say_which_are_money_and_only_those_hold_amounts() -> None:
    found = receivables.sheet(receivables.receivables(three(), AS_OF, by_salesperson=True))
    assert [c.key for c in found.columns] == list(receivables.COLUMNS)
    assert {c.key for c in found.columns if c.money} == MONEY_OF_AR
    for r in found.rows:
        for cell, column in zip(r.cells, found.columns, strict=True):
            assert isinstance(cell, Decimal) == column.money, (column.key, cell)
    assert [c.heading for c in found.columns][:4] == ["project", "name", "client", "salesperson"]


def test_ar_in_a_terminal_leaves_out_the_client_and_blanks_empty_ageing() -> None:
    report = receivables.receivables(three(), AS_OF)
    found = receivables.table(report)
    keys = [c.key for c in found.columns]
    assert "client" not in keys and keys[:3] == ["project", "name", "sales"]
    assert {c.key for c in found.columns if c.money} == set(keys[3:])
    cells = dict(zip(keys, found.rows[0].cells, strict=True))
    owed = report.rows[0].ageing
    for bucket in (NOT_DUE, "0-30", "31-60", "61-90", "90+"):
        assert cells[bucket] == (owed[bucket] or None)
    assert cells["receivable"] == Decimal("60000.00") and cells["sales"] == "张三"


def test_ar_by_salesperson_with_nothing_owed_shows_an_empty_subtotal_in_a_terminal_only() -> None:
    """As `ar --by-salesperson` always drew it before any contract was signed: a subtotal of
    nothing above the total on screen; the sheet has the total alone."""
    report = receivables.receivables([], AS_OF, by_salesperson=True)
    assert [(r.kind, r.cells[3]) for r in receivables.table(report).rows] == [
        ("subtotal", Decimal("0.00")),
        ("total", Decimal("0.00")),
    ]
    assert [r.kind for r in receivables.sheet(report).rows] == ["total"]


def test_portfolio_columns_say_which_are_money() -> None:
    rows = [summary(WS, b.view(), b.view().statuses(), AS_OF) for b in (project("2026-001", "zhangsan", "30万"),)]
    sheet = portfolio.sheet(rows, PROCESS, AS_OF)
    assert {c.key for c in sheet.columns if c.money} == {"amount", "received"}
    cells = dict(zip([c.key for c in sheet.columns], sheet.rows[0].cells, strict=True))
    assert cells["amount"] == Decimal("300000.00") and cells["received"] == Decimal("0.00")
    assert cells["sales"] == "张三" and sheet.title == "portfolio 2026-12-31"
    screen = portfolio.table(rows, PROCESS)
    assert {c.key for c in screen.columns if c.money} == {"amount"}
    assert [c.key for c in portfolio.table(rows, PROCESS, AS_OF).columns][-2:] == ["warranty_end", "days_left"]


def test_a_table_of_plain_cells_has_no_money() -> None:
    found = tables.text_table("t", [["a", "b"], ["1", "2"]])
    assert [c.heading for c in found.columns] == ["a", "b"] and not any(c.money for c in found.columns)
    assert [r.cells for r in found.rows] == [("1", "2")]


# -- the JSON ----------------------------------------------------------------------------------------
def test_ar_json_of_one_row_is_exact_text() -> None:
    report = receivables.receivables(three()[:1], AS_OF, by_salesperson=True)
    said = report.as_json()
    assert said["as_of"] == "2026-12-31"
    first = said["projects"][0]
    assert {k: v for k, v in first.items() if k != "ageing"} == {
        "project": "2026-001",
        "name": "项目",
        "client": "甲方",
        "salesperson": "zhangsan",
        "salesperson_name": "张三",
        "contract": "300000.00",
        "due": str(report.rows[0].due),
        "invoiced": "100000.00",
        "received": "40000.00",
        "outstanding": "60000.00",
    }
    assert sum(Decimal(v) for v in first["ageing"].values()) == Decimal("60000.00")
    assert all(isinstance(v, str) for v in first["ageing"].values())  # never a float
    assert said["by_salesperson"]["张三"]["name"] == "张三"  # a subtotal is named as its salesperson
    assert said["total"]["outstanding"] == "60000.00"
    assert "by_salesperson" not in receivables.receivables(three(), AS_OF).as_json()


# -- the portfolio and the glance under it ---------------------------------------------------------------
def lines(*builds: Build) -> list[Line]:
    """Each project's line of the portfolio on AS_OF (as overview.lines reads one from its records)."""
    found = []
    for b in builds:
        view = b.view()
        s = summary(WS, view, view.statuses(), AS_OF)
        books = replace(account(view), salesperson_name=s.sales_name)
        found.append(Line(s, frozenset(p.id for n in s.next for p in n.people), books.on(AS_OF), books))
    return found


def test_portfolio_keeps_what_the_filters_ask_and_its_json_has_a_record_each() -> None:
    key = project("2026-001", "zhangsan", "30万")
    other = project("2026-002", "lisi", "50万", invoiced="20万")
    found = lines(key, other)
    everything = portfolio.portfolio(WS, found, AS_OF)
    assert [s.id for s in everything.rows] == ["2026-001", "2026-002"] and not everything.mine
    assert [item["id"] for item in everything.as_json()] == ["2026-001", "2026-002"]
    assert "money" not in everything.as_json()[0]
    finance = PEOPLE.by_id("fenger")
    assert finance is not None
    mine = portfolio.portfolio(WS, found, AS_OF, mine=finance)
    assert mine.mine and [m.project for m in mine.money] == ["2026-002"]  # invoiced, not yet paid
    assert [m.kind for m in mine.money] == ["collect"] and mine.money[0].amount == Decimal("200000.00")
    records = {item["id"]: item for item in mine.as_json()}
    assert records["2026-002"]["money"][0]["amount"] == "200000.00"


def test_the_glance_counts_projects_by_stage_and_what_clients_owe() -> None:
    found = lines(project("2026-001", "zhangsan", "30万"), project("2026-002", "lisi", "50万", invoiced="20万"))
    seen = portfolio.glance(found, PROCESS)
    assert seen is not None
    assert sum(seen.pipeline.values()) == 2 and all(seen.pipeline.values())
    assert seen.ageing is not None and sum(seen.ageing.values()) == Decimal("200000.00")
    assert portfolio.glance([], PROCESS) is None
    owing_nothing = portfolio.glance(lines(project("2026-003", "zhangsan", "30万")), PROCESS)
    assert owing_nothing is not None and owing_nothing.ageing is None

"""Money and time (1.3, 1.4, 3.3.1, 3.9.2, 4.0): the payment schedule, invoices and receipts dated
against the contract, receivables ageing by due date (`ar`), late steps, overdue milestones,
warranties ending soon and the portfolio as a workbook. Every date is fixed; every amount is
compared as text or Decimal, exact to the fen."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import (
    ALL_TRUE,
    Team,
    git,
    module_team,
    open_project,
    plan_ready,
    refused,
    said,
    stamp_contract,
)

WIDE = {"COLUMNS": "400", "XMFLOW_LANG": "zh"}  # no folded table cells; the tables in Chinese
BUCKET_KEYS = ("not_due", "0-30", "31-60", "61-90", "90+")
CSV_HEADER = "project,name,client,salesperson,contract,due,invoiced,received,outstanding,not_due,0-30,31-60,61-90,90+"


def contract_with(team: Team, pid: str, amount: str, terms: str, who: str = "zhangsan", warranty: int = 12) -> None:
    """The contract drafted with these payment terms and self-reviewed (3.4, 3.5.1)."""
    team.ok(
        who,
        "set",
        pid,
        "contract.number=HT-" + pid,
        "contract.template=company",
        f"contract.amount={amount}",
        f"contract.payment_terms={terms}",
        f"contract.warranty_months={warranty}",
        "contract.delivery_date=2026-12-01",
        f"contract.core_principles={ALL_TRUE}",
    )
    team.ok(who, "sign", pid, "contract.draft")
    team.ok(who, "sign", pid, "contract.self_review")


def client_signs(team: Team, pid: str, *extra: str, who: str = "zhangsan", at: str | None = None) -> None:
    team.ok(who, "sign", pid, "contract.client_sign", "--role", "client", "--signatory", "刘经理", *extra, at=at)


def opened(team: Team, name: str, client: str, budget: str, who: str = "zhangsan") -> str:
    """A submitted project with this name and client (3.1.1)."""
    pid = team.json(who, "new", name, "--client", client, "--budget", budget)["id"]
    team.ok(who, "set", pid, "initiation.client.contact=刘经理", "initiation.phase=跟踪")
    team.ok(who, "sign", pid, "initiation.submit")
    return pid


# =================================================================================================
# A portfolio with money on known days, built once for the `ar` tests (which only read it).
#
# A (张三): ¥100,000.01 in thirds — 33.33% at signing, 33.33% 10 days after shipment, 33.34% 30 days
#   after acceptance → ¥33,330.00 due 2026-09-10, ¥33,330.00 due 2026-10-11, ¥33,340.01 due 2026-12-10.
#   Invoiced on each due day; received ¥20,000.00 on 2026-09-30 and ¥40,000.00 on 2026-12-20.
# B (李四): ¥500,000.00, 30% 7 days after signing (due 2026-09-27), 70% 30 days after an acceptance
#   that has not happened (no due date). Invoiced ¥150,000.00 on 2026-09-20 (ahead of its due day) and
#   ¥100,000.00 on 2026-10-01 (the acceptance term: not yet due); received ¥150,000.00 on 2026-10-15.
# C (张三): contract stamped, not signed by the client: never listed.
# =================================================================================================
THIRDS = (
    "[{name: 首付款, percent: 33.33, due: signing, days: 0}, {name: 发货款, percent: 33.33, due: shipment, days: 10},"
    " {name: 验收款, percent: 33.34, due: acceptance, days: 30}]"
)
B_TERMS = "[{name: 预付款, percent: 30, due: signing, days: 7}, {name: 尾款, percent: 70, due: acceptance, days: 30}]"
LATER = "2027-01-05T09:00:00+08:00"  # the day the paper records are entered: every date above is past


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> tuple[Team, dict[str, str]]:
    with module_team(tmp_path_factory, "money") as team:
        a = opened(team, "甲项目", "甲方公司", "11万")
        b = opened(team, "乙项目", "乙方公司", "60万", who="lisi")
        c = opened(team, "丙项目", "甲方公司", "20万")
        contract_with(team, a, "100000.01", THIRDS)
        contract_with(team, b, "50万", B_TERMS, who="lisi")
        contract_with(team, c, "18万", B_TERMS)
        for pid, who in ((a, "zhangsan"), (b, "lisi"), (c, "zhangsan")):
            stamp_contract(team, pid, who)
        client_signs(team, a, "--date", "2026-09-10", at=LATER)
        client_signs(team, b, "--date", "2026-09-20", who="lisi")
        team.ok(
            "zhangsan",
            "set",
            a,
            "installation.shipped_date=2026-10-01",
            "acceptance.accepted_date=2026-11-10",
            at=team.on("2026-11-10"),
        )
        for number, amount, day in (
            ("FP-A1", "33330.00", "2026-09-10"),
            ("FP-A2", "33330.00", "2026-10-11"),
            ("FP-A3", "33340.01", "2026-12-10"),
        ):
            team.ok("zhangsan", "invoice", a, amount, "--number", number, "--date", day)
        team.ok("fenger", "receive", a, "20000.00", "--date", "2026-09-30")
        team.ok("fenger", "receive", a, "40000.00", "--date", "2026-12-20")
        team.ok("lisi", "invoice", b, "15万", "--number", "FP-B1", "--date", "2026-09-20")
        team.ok("lisi", "invoice", b, "10万", "--number", "FP-B2", "--date", "2026-10-01")
        team.ok("fenger", "receive", b, "15万", "--date", "2026-10-15")
        return team, {"A": a, "B": b, "C": c}


def ar_json(books: tuple[Team, dict[str, str]], as_of: str) -> tuple[dict[str, dict], dict]:
    team, ids = books
    names = {v: k for k, v in ids.items()}
    data = team.json("wangjg", "ar", "--as-of", as_of)
    assert data["as_of"] == as_of
    return {names[r["project"]]: r for r in data["projects"]}, data["total"]


def ageing(*amounts: str) -> dict[str, str]:
    """The five buckets, not yet due first."""
    return dict(zip(BUCKET_KEYS, amounts, strict=True))


# -- the payment schedule ------------------------------------------------------------------------------
def test_4_0_the_schedule_splits_the_contract_to_the_fen_and_dates_each_term(books) -> None:
    team, ids = books
    shown = team.json("wangjg", "show", ids["A"])["payment_schedule"]
    assert [
        (i["name"], i["percent"], i["event"], i["days"], i["amount"], i["event_date"], i["due"]) for i in shown
    ] == [
        ("首付款", "33.33", "signing", 0, "33330.00", "2026-09-10", "2026-09-10"),  # the paper date, not the commit's
        ("发货款", "33.33", "shipment", 10, "33330.00", "2026-10-01", "2026-10-11"),
        ("验收款", "33.34", "acceptance", 30, "33340.01", "2026-11-10", "2026-12-10"),
    ]
    assert sum(Decimal(i["amount"]) for i in shown) == Decimal("100000.01")
    assert team.json("wangjg", "status", ids["A"], "--as-of", "2026-12-31")["payment_schedule"] == shown
    b = team.json("wangjg", "status", ids["B"], "--as-of", "2026-12-31")["payment_schedule"]
    assert [(i["amount"], i["event_date"], i["due"]) for i in b] == [
        ("150000.00", "2026-09-20", "2026-09-27"),
        ("350000.00", None, None),
    ]  # not accepted: no due date yet


def test_4_0_the_schedule_in_the_show_and_status_tables(books) -> None:
    team, ids = books
    for args in (["show", ids["A"]], ["status", ids["A"], "--as-of", "2026-12-31"]):
        text = team.ok("wangjg", *args, env=WIDE).stdout
        assert "付款计划" in text
        rows = [
            line for line in text.splitlines() if "│" in line and any(n in line for n in ("首付款", "发货款", "验收款"))
        ]
        assert len(rows) == 3, text
        assert "33.34%" in rows[2] and "验收 +30" in rows[2] and "2026-11-10" in rows[2]
        assert "2026-12-10" in rows[2] and "¥33,340.01" in rows[2]
    text = team.ok("wangjg", "status", ids["B"], "--as-of", "2026-12-31", env=WIDE).stdout
    (last,) = [line for line in text.splitlines() if "│" in line and "尾款" in line]
    assert "¥350,000.00" in last and "—" in last and "验收 +30" in last


def test_4_0_schedule_events_signing_day_shipment_acceptance_and_warranty_end(team: Team) -> None:
    terms = (
        "[{name: 预付款, percent: 30, due: signing, days: 7}, {name: 发货款, percent: 30, due: shipment, days: 15},"
        " {name: 验收款, percent: 35, due: acceptance, days: 30}, {name: 质保金, percent: 5, due: warranty_end}]"
    )
    pid = open_project(team, "35万")
    contract_with(team, pid, "33.3万", terms)
    stamp_contract(team, pid)

    def plan() -> list[tuple]:
        return [(i["amount"], i["event_date"], i["due"]) for i in team.json("wangjg", "show", pid)["payment_schedule"]]

    amounts = ["99900.00", "99900.00", "116550.00", "16650.00"]
    assert plan() == [(a, None, None) for a in amounts]  # nothing has happened yet
    client_signs(team, pid, at="2026-10-12T10:00:00+08:00")  # no paper date: the day it was recorded
    team.ok("zhangsan", "set", pid, "installation.shipped_date=2026-10-30", at=team.on("2026-10-30"))
    assert plan() == [
        ("99900.00", "2026-10-12", "2026-10-19"),
        ("99900.00", "2026-10-30", "2026-11-14"),
        ("116550.00", None, None),
        ("16650.00", None, None),
    ]
    team.ok("zhangsan", "set", pid, "acceptance.accepted_date=2026-11-30", at=team.on("2026-11-30"))
    assert plan()[2:] == [("116550.00", "2026-11-30", "2026-12-30"), ("16650.00", "2027-11-30", "2027-11-30")]


def test_4_0_split_amount_gives_the_rounding_to_the_last_share() -> None:
    from xmflow.money.figures import split_amount

    thirds = split_amount(Decimal("100000.01"), [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")])
    assert thirds == [Decimal("33330.00"), Decimal("33330.00"), Decimal("33340.01")]
    assert split_amount(Decimal("0.01"), [Decimal(50), Decimal(50)]) == [Decimal("0.01"), Decimal("0.00")]
    assert sum(split_amount(Decimal("999999.99"), [Decimal(x) for x in ("12.5", "37.5", "49.99", "0.01")])) == Decimal(
        "999999.99"
    )


# -- invoices and receipts follow the client's signature ----------------------------------------------
def test_4_0_invoices_and_receipts_are_not_dated_before_the_client_signed(team: Team) -> None:
    pid = open_project(team)
    contract_with(team, pid, "34.8万", B_TERMS)
    stamp_contract(team, pid)
    client_signs(team, pid, "--date", "2026-09-05", at="2026-10-12T10:00:00+08:00")
    message = said(refused(team, "zhangsan", "invoice", pid, "10万", "--number", "FP-1", "--date", "2026-09-04"))
    assert "2026-09-05" in message and "4.0" in message
    message = said(refused(team, "fenger", "receive", pid, "10万", "--date", "2026-09-04"))
    assert "2026-09-05" in message and "4.0" in message
    team.ok("zhangsan", "invoice", pid, "10万", "--number", "FP-1", "--date", "2026-09-05")  # the day itself is fine
    team.ok("fenger", "receive", pid, "10万", "--date", "2026-09-05")
    # nor in the future, nor a negative invoice
    assert "future" in said(refused(team, "fenger", "receive", pid, "1万", "--date", "2026-10-13", code=2))
    assert "future" in said(
        refused(team, "zhangsan", "invoice", pid, "1万", "--number", "FP-2", "--date", "2026-10-13", code=2)
    )
    assert "AMOUNT" in said(refused(team, "zhangsan", "invoice", "--number", "FP-2", pid, "--", "-1万", code=2))
    collection = team.json("wangjg", "show", pid)["stages"]["collection"]["data"]
    assert [(e["amount"], e["date"]) for e in collection["invoices"]] == [("100000.00", "2026-09-05")]
    assert [(e["amount"], e["date"]) for e in collection["receipts"]] == [("100000.00", "2026-09-05")]


def test_4_0_without_a_paper_date_the_signing_day_is_the_day_it_was_recorded(team: Team) -> None:
    pid = open_project(team)
    contract_with(team, pid, "34.8万", B_TERMS)
    stamp_contract(team, pid)
    client_signs(team, pid, at="2026-10-12T10:00:00+08:00")
    team.clock = datetime.fromisoformat("2026-10-20T10:00:00+08:00")
    assert "2026-10-12" in said(
        refused(team, "zhangsan", "invoice", pid, "1万", "--number", "FP-1", "--date", "2026-10-11")
    )
    team.ok("zhangsan", "invoice", pid, "1万", "--number", "FP-1", "--date", "2026-10-12")


# -- receivables: ageing by due date --------------------------------------------------------------------
def test_1_3_ar_lists_only_contracts_the_client_has_signed_by_that_day(books) -> None:
    rows, total = ar_json(books, "2026-09-15")
    assert list(rows) == ["A"]  # B signed on 2026-09-20; C never
    assert (rows["A"]["due"], rows["A"]["invoiced"], rows["A"]["received"]) == ("33330.00", "33330.00", "0.00")
    rows, _ = ar_json(books, "2027-01-05")
    assert sorted(rows) == ["A", "B"]
    rows, total = ar_json(books, "2026-09-09")
    assert rows == {} and total["contract"] == "0.00" and total["ageing"] == ageing(*["0.00"] * 5)


def test_4_0_ar_ageing_on_the_bucket_boundaries(books) -> None:
    # (as-of, A's due, invoiced, received, ageing) — term 1 due 2026-09-10, term 2 due 2026-10-11
    cases = [
        ("2026-09-10", "33330.00", "33330.00", "0.00", ageing("0.00", "33330.00", "0.00", "0.00", "0.00")),  # day 0
        ("2026-10-10", "33330.00", "33330.00", "20000.00", ageing("0.00", "13330.00", "0.00", "0.00", "0.00")),  # 30
        (
            "2026-10-11",
            "66660.00",
            "66660.00",
            "20000.00",
            ageing("0.00", "33330.00", "13330.00", "0.00", "0.00"),
        ),  # 31; 0
        (
            "2026-11-09",
            "66660.00",
            "66660.00",
            "20000.00",
            ageing("0.00", "33330.00", "13330.00", "0.00", "0.00"),
        ),  # 60
        (
            "2026-11-10",
            "66660.00",
            "66660.00",
            "20000.00",
            ageing("0.00", "33330.00", "0.00", "13330.00", "0.00"),
        ),  # 61
        ("2026-11-11", "66660.00", "66660.00", "20000.00", ageing("0.00", "0.00", "33330.00", "13330.00", "0.00")),
        (
            "2026-12-09",
            "66660.00",
            "66660.00",
            "20000.00",
            ageing("0.00", "0.00", "33330.00", "13330.00", "0.00"),
        ),  # 90
        (
            "2026-12-10",
            "100000.01",
            "100000.01",
            "20000.00",
            ageing("0.00", "33340.01", "33330.00", "0.00", "13330.00"),
        ),  # 91
        # ¥40,000.00 on 12-20 pays the rest of term 1 and ¥26,670.00 of term 2 (70 days old)
        ("2026-12-20", "100000.01", "100000.01", "60000.00", ageing("0.00", "33340.01", "0.00", "6660.00", "0.00")),
    ]
    for as_of, due, invoiced, received, buckets in cases:
        rows, _ = ar_json(books, as_of)
        a = rows["A"]
        assert (a["due"], a["invoiced"], a["received"], a["ageing"]) == (due, invoiced, received, buckets), as_of
        assert (
            Decimal(a["outstanding"])
            == Decimal(invoiced) - Decimal(received)
            == sum(Decimal(v) for v in a["ageing"].values())
        ), as_of
        assert a["contract"] == "100000.01"


def test_4_0_ar_an_invoice_ahead_of_its_term_is_not_yet_due(books) -> None:
    rows, _ = ar_json(books, "2026-09-26")  # invoiced 09-20, due 09-27
    b = rows["B"]
    assert (b["due"], b["invoiced"], b["received"], b["outstanding"]) == ("0.00", "150000.00", "0.00", "150000.00")
    assert b["ageing"] == ageing("150000.00", "0.00", "0.00", "0.00", "0.00")
    rows, _ = ar_json(books, "2026-09-27")
    assert rows["B"]["due"] == "150000.00" and rows["B"]["ageing"] == ageing(
        "0.00", "150000.00", "0.00", "0.00", "0.00"
    )
    # the second invoice belongs to the acceptance term, which has no due date yet
    rows, _ = ar_json(books, "2026-10-14")
    assert rows["B"]["ageing"] == ageing("100000.00", "150000.00", "0.00", "0.00", "0.00")
    rows, _ = ar_json(books, "2026-10-15")  # the receipt pays the signing term
    b = rows["B"]
    assert (b["due"], b["invoiced"], b["received"], b["outstanding"]) == (
        "150000.00",
        "250000.00",
        "150000.00",
        "100000.00",
    )
    assert b["ageing"] == ageing("100000.00", "0.00", "0.00", "0.00", "0.00")
    assert (b["name"], b["client"], b["salesperson"], b["contract"]) == ("乙项目", "乙方公司", "lisi", "500000.00")


def test_4_0_ar_total_adds_up_the_projects(books) -> None:
    rows, total = ar_json(books, "2026-12-20")
    assert total["ageing"] == ageing("100000.00", "33340.01", "0.00", "6660.00", "0.00")
    for key in ("contract", "due", "invoiced", "received", "outstanding"):
        assert Decimal(total[key]) == Decimal(rows["A"][key]) + Decimal(rows["B"][key]), key
    assert (total["contract"], total["due"], total["invoiced"], total["received"], total["outstanding"]) == (
        "600000.01",
        "250000.01",
        "350000.01",
        "210000.00",
        "140000.01",
    )


def table_rows(text: str) -> list[list[str]]:
    """The cells of a rich table's rows."""
    return [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines() if line.count("│") > 2]


def test_4_0_ar_by_salesperson_subtotals_add_up_to_the_total(books) -> None:
    team, ids = books
    text = team.ok("wangjg", "ar", "--as-of", "2026-12-20", "--by-salesperson", env=WIDE).stdout
    rows = table_rows(text)
    by_name = {r[1]: r for r in rows}
    lisi, zhangsan, grand = by_name["小计 李四"], by_name["小计 张三"], by_name["合计"]
    assert [r[0] for r in rows if r[0]] == [ids["B"], ids["A"]]  # each under its salesperson, 李四 (lisi) first
    assert rows.index(by_name["乙项目"]) < rows.index(lisi) < rows.index(by_name["甲项目"]) < rows.index(zhangsan)
    assert zhangsan[3:] == [
        "¥100,000.01",
        "¥100,000.01",
        "¥100,000.01",
        "¥60,000.00",
        "¥40,000.01",
        "",
        "¥33,340.01",
        "",
        "¥6,660.00",
        "",
    ]
    assert lisi[3:] == [
        "¥500,000.00",
        "¥150,000.00",
        "¥250,000.00",
        "¥150,000.00",
        "¥100,000.00",
        "¥100,000.00",
        "",
        "",
        "",
        "",
    ]

    def amount(cell: str) -> Decimal:
        return Decimal(cell.replace("¥", "").replace(",", "")) if cell else Decimal("0.00")

    for column in range(3, 13):
        assert amount(grand[column]) == amount(lisi[column]) + amount(zhangsan[column]), column


def test_4_0_ar_draws_the_ageing_as_bars(books) -> None:
    team, _ = books
    text = team.ok("wangjg", "ar", "--as-of", "2026-12-20", env=WIDE).stdout
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "应收账龄" in line)
    bars = lines[start + 1 : start + 6]
    assert [line.split()[0] for line in bars] == ["未到期", "0-30", "31-60", "61-90", "90+"]
    assert [line.split()[-1] for line in bars] == ["¥100,000.00", "¥33,340.01", "¥0.00", "¥6,660.00", "¥0.00"]
    assert ["█" in line for line in bars] == [True, True, False, True, False]
    assert bars[0].count("█") > bars[1].count("█") > bars[3].count("█")  # as long as its share
    assert "█" * 40 in bars[0]  # the largest is the full width


def test_4_0_ar_csv_has_stable_columns_and_exact_amounts(books) -> None:
    team, ids = books
    out = team.ok("wangjg", "ar", "--as-of", "2026-12-20", "--csv").stdout
    assert out.startswith("\ufeff")  # UTF-8's byte order mark: Excel reads the file as UTF-8
    out = out.removeprefix("\ufeff")
    assert out.splitlines()[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["project"] for r in rows] == [ids["A"], ids["B"], ""]
    a, b, grand = rows
    assert (a["name"], a["client"]) == ("甲项目", "甲方公司") and a["salesperson"] in ("zhangsan", "张三")
    assert list(a.values())[4:] == [
        "100000.01",
        "100000.01",
        "100000.01",
        "60000.00",
        "40000.01",
        "0.00",
        "33340.01",
        "0.00",
        "6660.00",
        "0.00",
    ]
    assert (b["invoiced"], b["received"], b["outstanding"], b["not_due"]) == (
        "250000.00",
        "150000.00",
        "100000.00",
        "100000.00",
    )
    assert grand["name"] == "total" and grand["outstanding"] == "140000.01" and grand["contract"] == "600000.01"
    for row in rows:
        for key in CSV_HEADER.split(",")[4:]:
            assert re.fullmatch(r"\d+\.\d\d", row[key]), (key, row[key])


def test_4_0_ar_xlsx_reads_back_with_chinese_headers_and_the_same_amounts(books, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    team, ids = books
    path = tmp_path / "应收账款.xlsx"
    result = team.ok("wangjg", "--lang", "zh", "ar", "--as-of", "2026-12-20", "--xlsx", str(path))
    assert str(path) in said(result)
    sheet = openpyxl.load_workbook(path).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == [
        "项目",
        "名称",
        "客户",
        "销售",
        "合同金额",
        "已到期",
        "已开票",
        "已收款",
        "应收未收",
        "未到期",
        "0–30天",
        "31–60天",
        "61–90天",
        "90天以上",
    ]
    csv_rows = list(
        csv.reader(io.StringIO(team.ok("wangjg", "--lang", "zh", "ar", "--as-of", "2026-12-20", "--csv").stdout))
    )[1:]
    assert len(values) == 1 + len(csv_rows) == 4
    for got, want in zip(values[1:], csv_rows, strict=True):
        assert [got[0] or "", got[1]] == want[:2]
        amounts = [Decimal(str(v)).quantize(Decimal("0.01")) for v in got[4:]]
        assert amounts == [Decimal(v) for v in want[4:]]
    assert sheet.cell(row=2, column=5).number_format == "#,##0.00"
    assert values[1][0] == ids["A"] and team.clean()
    result = team("wangjg", "ar", "--xlsx", str(tmp_path / "no-such-folder" / "ar.xlsx"))
    assert result.exit_code == 2 and "cannot write" in said(result)
    assert not list(tmp_path.rglob("*.xmflow-tmp"))


def test_4_0_ar_as_of_must_be_a_date(books) -> None:
    team, _ = books
    result = team("wangjg", "ar", "--as-of", "2026-13-01")
    assert result.exit_code == 2 and "--as-of" in said(result)


# -- milestones (3.3.1) ----------------------------------------------------------------------------------
def test_3_3_1_overdue_milestones_and_marking_one_done_on_a_countersigned_plan(team: Team) -> None:
    pid = open_project(team, "150万")
    plan_ready(team, pid, milestones=False)
    team.ok(
        "zhangsan", "set", pid, "plan.milestones=[{name: 样机评审, due: 2026-10-10}, {name: 合同签订, due: 2026-10-20}]"
    )
    team.ok("zhangsan", "sign", pid, "plan.countersign")
    team.ok("zhangsan", "sign", pid, "plan.countersign", "--role", "client", "--signatory", "刘经理")
    assert team.state(pid, "plan.countersign") == "signed"

    def overdue(as_of: str) -> list[str]:
        rows = team.json("wangjg", "status", "--as-of", as_of)
        (row,) = [r for r in rows if r["id"] == pid]
        listed = [r["id"] for r in team.json("wangjg", "status", "--overdue", "--as-of", as_of)]
        assert (pid in listed) == bool(row["overdue_milestones"])
        return [m["name"] for m in row["overdue_milestones"]]

    assert overdue("2026-10-10") == []  # due that day: not late yet
    assert overdue("2026-10-11") == ["样机评审"]
    assert overdue("2026-10-21") == ["样机评审", "合同签订"]
    report = team.json("wangjg", "status", pid, "--as-of", "2026-10-21")
    assert report["overdue_milestones"] == [
        {"name": "样机评审", "due": "2026-10-10"},
        {"name": "合同签订", "due": "2026-10-20"},
    ]
    team.ok(
        "zhangsan", "set", pid, "plan.milestones.0.done=2026-10-12", at=team.on("2026-10-12")
    )  # no --reopen: progress, not a change
    assert overdue("2026-10-21") == ["合同签订"]
    assert team.state(pid, "plan.countersign") == "signed"
    text = team.ok("wangjg", "status", "--as-of", "2026-10-21", env=WIDE).stdout
    (line,) = [line for line in text.splitlines() if pid in line]
    assert line.split("│")[10].strip() == "1"  # the overdue column


# -- late steps and the portfolio at a glance -------------------------------------------------------------
def test_1_4_a_step_waiting_longer_than_its_due_days_is_late(team: Team) -> None:
    pid = open_project(team)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "contract.number=HT-1",
        "contract.template=company",
        "contract.amount=34.8万",
        f"contract.payment_terms={B_TERMS}",
        "contract.warranty_months=12",
        "contract.delivery_date=2026-12-01",
        f"contract.core_principles={ALL_TRUE}",
    )
    team.ok("zhangsan", "sign", pid, "contract.draft")
    team.ok("zhangsan", "sign", pid, "contract.self_review", at="2026-10-12T10:00:00+08:00")
    other = team.json("lisi", "new", "新项目", "--client", "乙公司", "--budget", "5万")["id"]  # waiting, never late

    def late(as_of: str) -> list[str]:
        return [r["id"] for r in team.json("wangjg", "status", "--late", "--as-of", as_of)]

    rows = {r["id"]: r for r in team.json("wangjg", "status", "--as-of", "2026-10-15")}
    assert rows[pid]["waiting_days"] == 3 and rows[pid]["late"] == []
    assert late("2026-10-15") == []  # 3 days: as long as the supervisor's review may take
    rows = {r["id"]: r for r in team.json("wangjg", "status", "--as-of", "2026-10-16")}
    assert rows[pid]["late"] == [{"step": "contract.supervisor_review", "due_days": 3, "waiting_days": 4}]
    assert rows[other]["late"] == []
    assert late("2026-10-16") == [pid]
    assert team.json("wangjg", "status", pid, "--as-of", "2026-10-16")["late"] == [
        {"step": "contract.supervisor_review", "due_days": 3, "waiting_days": 4}
    ]
    # the day the clock says, without --as-of
    assert [r["id"] for r in team.json("wangjg", "status", "--late", at="2026-10-16T09:00:00+08:00")] == [pid]
    # the table: the late step with who it waits on, under the pipeline's bars
    text = team.ok("wangjg", "status", "--as-of", "2026-10-16", env=WIDE).stdout
    lines = text.splitlines()
    start = lines.index("超时待办")
    assert lines[start + 1 :] == [f"  {pid} contract.supervisor_review: 4 > 3 天 — 部门主管：赵六"]
    assert "超时待办" not in team.ok("wangjg", "status", "--as-of", "2026-10-15", env=WIDE).stdout
    report = team.ok("wangjg", "status", pid, "--as-of", "2026-10-16", env=WIDE).stdout
    (row,) = [line for line in report.splitlines() if line.startswith("│ contract.supervisor_review ")]
    assert "超时: 4 > 3 天" in row
    # signing the review ends it
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review", at="2026-10-16T10:00:00+08:00")
    assert late("2026-10-16") == []


def test_1_4_a_step_is_late_by_its_own_wait_not_since_another_steps_sign_off(team: Team) -> None:
    """Production's ready-to-ship (due in 5 days) can be signed once the client signs on 10-12; sales
    notifying customer service on 10-15 (a parallel step) does not restart production's wait."""
    pid = open_project(team)
    contract_with(team, pid, "34.8万", B_TERMS)
    stamp_contract(team, pid)
    client_signs(team, pid, at="2026-10-12T10:00:00+08:00")
    team.ok(
        "zhangsan",
        "set",
        pid,
        "installation.on_site=true",
        "installation.site.address=深圳南山",
        "installation.site.contact=刘经理",
        "installation.requirements=持证作业",
        at="2026-10-15T10:00:00+08:00",
    )
    team.ok("zhangsan", "sign", pid, "installation.notify_service")
    (row,) = team.json("wangjg", "status", "--as-of", "2026-10-17")
    assert {n["step"] for n in row["next"]} == {"installation.ready_to_ship", "installation.schedule"}
    assert row["late"] == []  # ready to ship has waited 5 days, the schedule 2
    (row,) = team.json("wangjg", "status", "--as-of", "2026-10-18")
    assert row["late"] == [
        {"step": "installation.ready_to_ship", "due_days": 5, "waiting_days": 6}
    ]  # 6 days since 10-12
    assert [r["id"] for r in team.json("wangjg", "status", "--late", "--as-of", "2026-10-18")] == [pid]


def test_1_4_the_pipeline_bars_count_projects_per_stage(team: Team) -> None:
    first = open_project(team)
    second = open_project(team)
    third = team.json("lisi", "new", "新项目", "--client", "乙公司", "--budget", "5万")["id"]
    team.ok("zhangsan", "set", first, "contract.number=HT-1")
    assert len({first, second, third}) == 3
    text = team.ok("wangjg", "status", "--as-of", "2026-09-02", env=WIDE).stdout
    lines = text.splitlines()
    start = lines.index("各阶段项目数")
    bars = lines[start + 1 :]
    assert [line.split()[0] for line in bars] == ["项目立项", "合同"]
    assert [line.split()[-1] for line in bars] == ["1", "2"]
    assert bars[1].count("█") == 40 and bars[0].count("█") == 20
    english = team.ok("wangjg", "--lang", "en", "status", "--as-of", "2026-09-02", env=WIDE).stdout
    assert "projects by stage" in english and "  contract " in english


# -- warranty (3.9.2) ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accepted", "months", "end"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"),  # a leap year
        ("2026-08-31", 6, "2027-02-28"),
        ("2026-11-10", 12, "2027-11-10"),
        ("2026-03-31", 0, "2026-03-31"),
    ],
)
def test_3_9_2_warranty_end_is_acceptance_plus_warranty_months(
    team: Team, accepted: str, months: int, end: str
) -> None:
    pid = team.json("zhangsan", "new", "保修项目", "--client", "甲方公司", "--budget", "5万")["id"]
    team.ok(
        "zhangsan",
        "set",
        pid,
        f"acceptance.accepted_date={accepted}",
        f"contract.warranty_months={months}",
        at=team.on(str(accepted)),
    )
    assert team.json("wangjg", "show", pid)["derived"]["warranty_end"] == end
    assert next(r for r in team.json("wangjg", "status") if r["id"] == pid)["warranty_end"] == end


def test_3_9_2_status_warranty_lists_warranties_ending_within_60_days(team: Team) -> None:
    ending = team.json("zhangsan", "new", "保修项目", "--client", "甲方公司", "--budget", "5万")["id"]
    team.ok(
        "zhangsan",
        "set",
        ending,
        "acceptance.accepted_date=2026-11-10",
        "contract.warranty_months=12",
        at=team.on("2026-11-10"),
    )
    later = team.json("zhangsan", "new", "另一项目", "--client", "甲方公司", "--budget", "5万")["id"]
    team.ok(
        "zhangsan",
        "set",
        later,
        "acceptance.accepted_date=2027-01-10",
        "contract.warranty_months=12",
        at=team.on("2027-01-10"),
    )
    team.json("zhangsan", "new", "未验收", "--client", "甲方公司", "--budget", "5万")

    def soon(as_of: str) -> list[str]:
        return [r["id"] for r in team.json("wangjg", "status", "--warranty", "--as-of", as_of)]

    assert soon("2027-09-10") == []  # 2027-11-10 is 61 days away
    assert soon("2027-09-11") == [ending]  # 60 days
    assert soon("2027-11-10") == [ending]  # ends that day; the other (2028-01-10) in 61 days
    assert soon("2027-11-11") == [later]  # already ended; the other in 60
    assert soon("2028-01-11") == []
    text = team.ok("wangjg", "--lang", "zh", "status", ending, "--as-of", "2027-09-11").stdout
    assert "保修截止: 2027-11-10" in text


# -- the portfolio as a workbook ---------------------------------------------------------------------------
def test_1_4_status_xlsx_writes_a_header_and_a_row_per_project(team: Team, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    first = open_project(team, "150万")
    second = team.json("lisi", "new", "新项目", "--client", "乙公司", "--budget", "5万")["id"]
    team.ok(
        "lisi",
        "set",
        second,
        "contract.amount=4.99万",
        "acceptance.accepted_date=2026-11-10",
        "contract.warranty_months=12",
        at=team.on("2026-11-10"),
    )
    path = tmp_path / "状态.xlsx"
    before = team.head()
    result = team.ok("wangjg", "--lang", "zh", "status", "--xlsx", str(path), "--as-of", "2026-09-02")
    assert str(path) in said(result) and team.head() == before and team.clean()
    sheet = openpyxl.load_workbook(path).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "项目",
        "名称",
        "客户",
        "销售",
        "重点",
        "阶段",
        "下一步",
        "等待(天)",
        "超时",
        "逾期节点",
        "保修截止",
        "合同金额",
        "已收款",
    ]
    assert [r[0] for r in rows[1:]] == [first, second]
    big, small = rows[1], rows[2]
    assert big[1:7] == ["测试项目", "甲方公司", "张三", "是", "项目立项", "initiation.team"]
    assert small[3] == "李四" and small[4] in (None, "")
    assert Decimal(str(small[11])) == Decimal("49900") and Decimal(str(small[12])) == 0
    assert small[10].date().isoformat() == "2027-11-10"
    assert sheet.title.startswith("项目状态 2026-09-02")


def test_1_4_status_xlsx_keeps_the_filters(team: Team, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    big = open_project(team, "150万")
    open_project(team)
    path = tmp_path / "key.xlsx"
    team.ok("wangjg", "status", "--key", "--xlsx", str(path))
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [big]
    assert git(team.root, "status", "--porcelain") == ""


# -- after review ---------------------------------------------------------------------------------


def test_1_3_status_counts_the_receipts_made_by_its_as_of_day(books) -> None:
    team, ids = books
    rows = {r["id"]: r for r in team.json("wangjg", "status", "--as-of", "2026-10-01")}
    assert rows[ids["A"]]["received"] == "20000.00"  # the 12-20 receipt had not come yet
    rows = {r["id"]: r for r in team.json("wangjg", "status", "--as-of", "2026-12-31")}
    assert rows[ids["A"]]["received"] == "60000.00"


def test_4_0_a_term_due_beyond_the_calendar_has_no_due_date_and_crashes_nothing(team: Team) -> None:
    pid = opened(team, "远期项目", "甲方公司", "11万")
    contract_with(team, pid, "10万", "[{name: 尾款, percent: 100, due: signing, days: 999999999}]")
    stamp_contract(team, pid)
    client_signs(team, pid)
    schedule = team.json("wangjg", "show", pid, "--json")["payment_schedule"]
    assert schedule[0]["due"] is None and schedule[0]["event_date"] is not None
    assert team.ok("wangjg", "ar").exit_code == 0


def test_4_0_an_invoice_number_differing_only_in_case_is_the_same_number(books) -> None:
    team, ids = books
    message = said(refused(team, "zhangsan", "invoice", ids["A"], "1", "--number", "fp-a1", "--date", "2026-12-20"))
    assert "invoice number fp-a1 is already recorded" in message


def test_1_3_the_total_row_speaks_the_chosen_language(books) -> None:
    team, _ = books
    assert team.json("wangjg", "--lang", "en", "ar", "--as-of", "2026-12-31")["total"]["name"] == "total"
    assert team.json("wangjg", "--lang", "zh", "ar", "--as-of", "2026-12-31")["total"]["name"] == "合计"

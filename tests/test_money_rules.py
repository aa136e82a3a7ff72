"""The money on in-memory records (1.3, 4.0): receivables ageing by due date, and the checks on
invoices and receipts, without git or files. Every amount is a Decimal, compared exactly."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from memory import PROCESS, Build, contract_ready

from xmflow.changes.ledger import amount_of
from xmflow.errors import UsageError
from xmflow.money.ledgers import ledger_refusals
from xmflow.money.receivables import NOT_DUE, Account, Installment, bucket, receivable, schedule, total
from xmflow.values import parse_money

AS_OF = date(2026, 12, 31)
NONE_OWED = {
    NOT_DUE: Decimal("0.00"),
    "0-30": Decimal("0.00"),
    "31-60": Decimal("0.00"),
    "61-90": Decimal("0.00"),
    "90+": Decimal("0.00"),
}
INVOICES, RECEIPTS = PROCESS.ledgers["invoices"], PROCESS.ledgers["receipts"]


def money(text: str) -> Decimal:
    return parse_money(text)


def term(amount: str, due: date | None, name: str = "款") -> Installment:
    """A term of payment of *amount*, falling due on *due* (None: its event has not happened)."""
    return Installment(name, None, "acceptance", 0, money(amount), due, due)


def account(
    plan: list[Installment],
    invoices: Iterable[tuple[date | None, str]] = (),
    receipts: Iterable[tuple[date | None, str]] = (),
    project: str = "2026-001",
) -> Account:
    """A project's account with this schedule and these ledgers (date, amount as typed)."""
    contract = sum((i.amount for i in plan), Decimal("0.00"))
    return Account(
        project,
        "项目",
        "甲方",
        "zhangsan",
        contract,
        tuple(plan),
        tuple((day, money(a)) for day, a in invoices),
        tuple((day, money(a)) for day, a in receipts),
    )


def owed(**buckets: str) -> dict[str, Decimal]:
    """The ageing with these buckets (``not_due``, ``d0_30``, ``d31_60``, ``d61_90``, ``d90``), the rest zero."""
    names = {"not_due": NOT_DUE, "d0_30": "0-30", "d31_60": "31-60", "d61_90": "61-90", "d90": "90+"}
    return {**NONE_OWED, **{names[k]: money(v) for k, v in buckets.items()}}


# -- the buckets: by days since the due date --------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (-1, NOT_DUE),
        (0, "0-30"),
        (1, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (400, "90+"),
    ],
)
def test_4_0_an_amount_is_aged_by_the_days_since_its_due_date(days: int, expected: str) -> None:
    assert bucket(AS_OF - timedelta(days=days), AS_OF) == expected


def test_4_0_an_amount_with_no_due_date_yet_is_not_due() -> None:
    assert bucket(None, AS_OF) == NOT_DUE


@pytest.mark.parametrize(("days", "bucket_name"), [(30, "d0_30"), (31, "d31_60"), (90, "d61_90"), (91, "d90")])
def test_4_0_the_boundaries_hold_for_a_projects_receivable(days: int, bucket_name: str) -> None:
    found = account([term("10万", AS_OF - timedelta(days=days))], invoices=[(None, "10万")]).on(AS_OF)
    assert found.ageing == owed(**{bucket_name: "100000.00"})
    assert found.due == Decimal("100000.00") and found.outstanding == Decimal("100000.00")


# -- what is owed: invoiced and not received, over the schedule in its order -------------------------
def test_4_0_nothing_invoiced_owes_nothing_even_when_it_is_due() -> None:
    found = account([term("3万", date(2026, 9, 1)), term("7万", date(2026, 12, 1))]).on(AS_OF)
    assert found.due == Decimal("100000.00")
    assert (found.invoiced, found.received, found.outstanding) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    assert found.ageing == NONE_OWED


def test_4_0_a_partial_receipt_pays_the_earliest_term_first() -> None:
    plan = [term("3万", date(2026, 9, 1)), term("7万", date(2026, 12, 1))]  # 121 and 30 days before AS_OF
    found = account(plan, invoices=[(date(2026, 9, 1), "10万")], receipts=[(date(2026, 9, 20), "1万")]).on(AS_OF)
    assert found.outstanding == Decimal("90000.00")
    assert found.ageing == owed(d90="20000.00", d0_30="70000.00")


def test_4_0_receipts_over_several_invoices_pay_the_terms_in_order() -> None:
    plan = [term("3万", date(2026, 9, 1)), term("3万", date(2026, 10, 15)), term("4万", date(2026, 11, 20))]
    invoices = [(date(2026, 9, 1), "3万"), (date(2026, 10, 15), "3万"), (date(2026, 11, 20), "4万")]
    found = account(plan, invoices=invoices, receipts=[(date(2026, 9, 10), "2万"), (date(2026, 10, 20), "2.5万")]).on(
        AS_OF
    )
    # 45,000 received covers the first term and 15,000 of the second; the rest is as old as its term
    assert (found.invoiced, found.received) == (Decimal("100000.00"), Decimal("45000.00"))
    assert found.ageing == owed(d61_90="15000.00", d31_60="40000.00")
    assert sum(found.ageing.values()) == found.outstanding


def test_4_0_only_what_is_invoiced_is_owed_the_rest_of_a_due_term_is_not() -> None:
    found = account([term("10万", date(2026, 10, 15))], invoices=[(date(2026, 10, 15), "4万")]).on(AS_OF)
    assert found.due == Decimal("100000.00") and found.ageing == owed(d61_90="40000.00")


def test_4_0_invoices_and_receipts_after_the_day_do_not_count_and_undated_ones_do() -> None:
    plan = [term("10万", date(2026, 12, 1))]
    books = account(
        plan,
        invoices=[(date(2026, 12, 1), "6万"), (date(2027, 1, 5), "4万")],
        receipts=[(None, "1万"), (date(2027, 1, 10), "5万")],
    )
    found = books.on(AS_OF)
    assert (found.invoiced, found.received) == (Decimal("60000.00"), Decimal("10000.00"))
    assert found.ageing == owed(d0_30="50000.00")
    later = books.on(date(2027, 1, 31))
    assert (later.invoiced, later.received, later.ageing) == (
        Decimal("100000.00"),
        Decimal("60000.00"),
        owed(d61_90="40000.00"),
    )


def test_4_0_a_term_due_later_or_not_yet_dated_is_not_due() -> None:
    plan = [term("3万", None), term("7万", date(2027, 3, 1))]
    found = account(plan, invoices=[(date(2026, 12, 1), "10万")]).on(AS_OF)
    assert found.due == Decimal("0.00") and found.ageing == owed(not_due="100000.00")


def test_4_0_invoiced_beyond_the_schedule_is_not_due() -> None:
    found = account([], invoices=[(date(2026, 10, 1), "5000")]).on(AS_OF)
    assert found.contract == Decimal("0.00") and found.ageing == owed(not_due="5000.00")


def test_1_3_the_total_adds_each_projects_receivable_bucket_by_bucket() -> None:
    first = account([term("10万", date(2026, 12, 20))], invoices=[(None, "10万")], receipts=[(None, "2.5万")])
    second = account([term("5万", date(2026, 8, 1)), term("5万", None)], invoices=[(None, "8万")], project="2026-002")
    rows = [first.on(AS_OF), second.on(AS_OF)]
    assert rows[0].ageing == owed(d0_30="75000.00")
    assert rows[1].ageing == owed(d90="50000.00", not_due="30000.00")
    summed = total(rows, "total")
    assert summed.name == "total"
    assert (summed.contract, summed.due, summed.invoiced, summed.received, summed.outstanding) == (
        Decimal("200000.00"),
        Decimal("150000.00"),
        Decimal("180000.00"),
        Decimal("25000.00"),
        Decimal("155000.00"),
    )
    assert summed.ageing == owed(d0_30="75000.00", d90="50000.00", not_due="30000.00")


def test_1_3_the_total_of_no_project_is_zero() -> None:
    assert total([]).ageing == NONE_OWED and total([]).outstanding == Decimal("0.00")


# -- from the records: the schedule of a contract and its receivable ---------------------------------
def test_4_0_the_schedule_splits_the_contract_to_the_fen_and_dates_each_term_from_its_event() -> None:
    build = Build().set(
        "contract",
        amount=money("100000.01"),
        payment_terms=[
            {"name": "预付款", "percent": Decimal("33.33"), "due": "signing", "days": 7},
            {"name": "发货款", "percent": Decimal("33.33"), "due": "shipment", "days": 0},
            {"name": "验收款", "percent": Decimal("33.34"), "due": "acceptance", "days": 30},
        ],
    )
    build.set("installation", shipped_date=date(2026, 10, 30)).set("acceptance", accepted_date=date(2026, 11, 10))
    plan = schedule(build.view())
    assert [(i.name, i.amount, i.event_date, i.due) for i in plan] == [
        ("预付款", Decimal("33330.00"), None, None),  # the client has not signed: not dated yet
        ("发货款", Decimal("33330.00"), date(2026, 10, 30), date(2026, 10, 30)),
        ("验收款", Decimal("33340.01"), date(2026, 11, 10), date(2026, 12, 10)),
    ]
    build.set(
        "collection",
        invoices=[{"number": "FP-1", "amount": money("100000.01"), "date": date(2026, 11, 10)}],
        receipts=[{"amount": money("40000"), "date": date(2026, 11, 20)}],
    )
    found = receivable(build.view(), AS_OF)
    assert (found.project, found.contract, found.due) == ("2026-001", Decimal("100000.01"), Decimal("66670.01"))
    # 40,000 pays the unsigned term's 33,330.00 and 6,670.00 of the shipment's
    assert found.ageing == owed(d61_90="26660.00", d0_30="33340.01")
    assert found.outstanding == Decimal("60000.01")


# -- the ledger checks (4.0) -------------------------------------------------------------------------
def signed(paper: date | None = None) -> Build:
    """A contract of ¥300,000.00 the client has signed (on *paper*, else the day it was recorded)."""
    build = contract_ready(Build())
    build.sign("contract.supervisor_review", by="zhaoliu", role="sales_supervisor")
    build.sign("contract.business_review", by="qianqi", role="business_center")
    build.sign("contract.stamp", by="qianqi", role="business_center")
    build.set("contract", originals={"copies": 2, "kept_by": "zhangsan"})
    return build.sign("contract.client_sign", role="client", signed_on=paper)


def invoice(number: str, amount: str, day: date = date(2026, 10, 1)) -> dict:
    return {"number": number, "amount": money(amount), "date": day}


def receipt(amount: str, day: date = date(2026, 10, 1)) -> dict:
    return {"amount": money(amount), "date": day}


def test_4_0_nothing_is_invoiced_or_received_before_the_client_signs() -> None:
    view = contract_ready(Build()).view()
    assert ledger_refusals(view, INVOICES, [invoice("FP-1", "1万")]) == [
        "invoices need contract.client_sign signed first (clause 4.0)"
    ]
    assert ledger_refusals(view, RECEIPTS, [receipt("1万")]) == [
        "receipts need contract.client_sign signed first (clause 4.0)"
    ]


def test_4_0_invoices_up_to_the_contract_are_taken() -> None:
    build = signed()
    assert ledger_refusals(build.view(), INVOICES, [invoice("FP-1", "10万"), invoice("FP-2", "20万")]) == []
    build.set("collection", invoices=[invoice("FP-1", "29.99万")])
    assert ledger_refusals(build.view(), INVOICES, [invoice("FP-2", "100")]) == []


def test_4_0_invoicing_more_than_the_contract_is_refused_counting_what_is_recorded() -> None:
    build = signed().set("collection", invoices=[invoice("FP-1", "29.99万")])
    assert ledger_refusals(build.view(), INVOICES, [invoice("FP-2", "100.01")]) == [
        "invoices would total ¥300,000.01, more than the contract's ¥300,000.00 (clause 4.0)"
    ]


def test_4_0_invoices_in_one_batch_are_added_up_against_the_contract() -> None:
    problems = ledger_refusals(signed().view(), INVOICES, [invoice("FP-1", "20万"), invoice("FP-2", "15万")])
    assert problems == ["invoices would total ¥350,000.00, more than the contract's ¥300,000.00 (clause 4.0)"]


def test_4_0_an_invoice_number_is_used_once_whatever_its_case() -> None:
    build = signed().set("collection", invoices=[invoice("FP-1", "1万")])
    assert ledger_refusals(build.view(), INVOICES, [invoice("fp-1", "1万")]) == [
        "invoice number fp-1 is already recorded (project 2026-001); clause 4.0"
    ]
    assert ledger_refusals(signed().view(), INVOICES, [invoice("FP-7", "1万"), invoice("FP-7", "1万")]) == [
        "invoice number FP-7 is already recorded (project 2026-001); clause 4.0"
    ]


def test_4_0_receipts_above_the_contract_are_refused_naming_what_is_outstanding() -> None:
    build = signed().set("collection", receipts=[receipt("10万")])
    assert ledger_refusals(build.view(), RECEIPTS, [receipt("20万")]) == []
    assert ledger_refusals(build.view(), RECEIPTS, [receipt("200000.01")]) == [
        "a receipt of ¥200,000.01 is more than the ¥200,000.00 outstanding on the contract (clause 4.0)"
    ]


def test_4_0_a_receipt_is_bounded_by_the_contract_not_by_what_was_invoiced() -> None:
    """What ledger_refusals checks today: a receipt may exceed what was invoiced, not the contract."""
    build = signed().set("collection", invoices=[invoice("FP-1", "1万")])
    assert ledger_refusals(build.view(), RECEIPTS, [receipt("30万")]) == []


def test_4_0_an_amount_must_be_more_than_zero() -> None:
    assert ledger_refusals(signed().view(), RECEIPTS, [receipt("0")]) == [
        "receipts: an amount must be more than zero (got ¥0.00)"
    ]
    assert ledger_refusals(signed().view(), INVOICES, [invoice("FP-1", "-1")]) == [
        "invoices: an amount must be more than zero (got -¥1.00)"
    ]


def test_4_0_no_entry_is_dated_before_the_client_signed_the_paper() -> None:
    view = signed(paper=date(2026, 9, 5)).view()
    assert ledger_refusals(view, RECEIPTS, [receipt("1万", date(2026, 9, 5))]) == []
    assert ledger_refusals(view, INVOICES, [invoice("FP-1", "1万", date(2026, 9, 4))]) == [
        "--date 2026-09-04: before contract.client_sign was signed (2026-09-05); invoices follow it (clause 4.0)"
    ]


def test_4_0_every_problem_of_an_entry_is_reported_together() -> None:
    build = signed(paper=date(2026, 9, 5)).set("collection", invoices=[invoice("FP-1", "30万")])
    assert ledger_refusals(build.view(), INVOICES, [invoice("FP-1", "1", date(2026, 9, 1))]) == [
        "--date 2026-09-01: before contract.client_sign was signed (2026-09-05); invoices follow it (clause 4.0)",
        "invoice number FP-1 is already recorded (project 2026-001); clause 4.0",
        "invoices would total ¥300,001.00, more than the contract's ¥300,000.00 (clause 4.0)",
    ]


# -- AMOUNT as typed for invoice and receive ---------------------------------------------------------
@pytest.mark.parametrize(("text", "value"), [("10万", "100000.00"), ("1,234.5", "1234.50"), ("0.01", "0.01")])
def test_4_0_an_amount_is_read_exactly(text: str, value: str) -> None:
    assert amount_of(text) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "AMOUNT must be more than zero (got ¥0.00)"), ("-0.01", "AMOUNT must be more than zero (got -¥0.01)")],
)
def test_4_0_an_amount_of_nothing_or_less_is_bad_input(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        amount_of(text)
    assert caught.value.message == message


@pytest.mark.parametrize("text", ["十万", "100.001", ""])
def test_4_0_an_amount_that_is_not_money_names_amount(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        amount_of(text)
    assert caught.value.message.startswith("AMOUNT: ")

"""Clause 4.0: invoices by sales, confirmed receipts by finance, and the settlement, exact to the fen."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import Team, accepted, draft_contract, git, open_project, refused, said, sign_contract


def trailers(root: Path) -> dict[str, str]:
    message = git(root, "log", "-1", "--format=%B")
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(": ", 1) for line in parsed.splitlines() if line)


def signed_contract(team: Team, amount: str = "34.8万", budget: str = "35万") -> str:
    """A non-key project whose contract the client has signed (3.6.2)."""
    pid = open_project(team, budget)
    draft_contract(team, pid, amount)
    sign_contract(team, pid)
    return pid


def derived(team: Team, pid: str) -> dict:
    return team.json("wangjg", "show", pid)["derived"]


# -- who and when ----------------------------------------------------------------------------------
def test_4_0_no_invoice_or_receipt_before_the_client_signs_the_contract(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    team.ok("qianqi", "sign", pid, "contract.business_review")
    team.ok("qianqi", "sign", pid, "contract.stamp")
    message = said(refused(team, "zhangsan", "invoice", pid, "10万", "--number", "FP-1"))
    assert "contract.client_sign" in message and "4.0" in message
    message = said(refused(team, "fenger", "receive", pid, "10万"))
    assert "contract.client_sign" in message
    assert not (team.root / "projects" / pid / "collection.yaml").exists()


def test_4_0_only_finance_records_receipts(team: Team) -> None:
    pid = signed_contract(team)
    message = said(refused(team, "zhangsan", "receive", pid, "10万"))
    assert "finance" in message and "4.0" in message
    refused(team, "qianqi", "receive", pid, "10万")


def test_4_0_only_the_projects_sales_records_invoices(team: Team) -> None:
    pid = signed_contract(team)
    message = said(refused(team, "fenger", "invoice", pid, "10万", "--number", "FP-1"))
    assert "sales" in message
    refused(team, "lisi", "invoice", pid, "10万", "--number", "FP-1")  # sales, but not this project's


def test_4_0_invoice_and_receipt_are_commits_with_their_trailers(team: Team) -> None:
    pid = signed_contract(team)
    before = team.commits()
    team.ok("zhangsan", "invoice", pid, "10万", "--number", "FP-1", "--date", "2026-9-1")
    assert team.commits() == before + 1 and team.clean()
    assert trailers(team.root) == {"Xmflow-Project": pid, "Xmflow-Decision": "record", "Xmflow-Clause": "4.0"}
    assert git(team.root, "log", "-1", "--format=%ae").strip() == "zhangsan@example.com"
    team.ok("fenger", "receive", pid, "10万", "--ref", "工行 0001")
    assert trailers(team.root)["Xmflow-Decision"] == "record"
    assert git(team.root, "log", "-1", "--format=%ae").strip() == "fenger@example.com"
    collection = team.json("wangjg", "show", pid)["stages"]["collection"]["data"]
    assert collection["invoices"] == [{"number": "FP-1", "amount": "100000.00", "date": "2026-09-01", "by": "zhangsan"}]
    assert collection["receipts"] == [{"amount": "100000.00", "date": "2026-09-01", "ref": "工行 0001", "by": "fenger"}]
    text = (team.root / "projects" / pid / "collection.yaml").read_text(encoding="utf-8")
    assert "amount: 100000.00\n" in text


# -- amounts -----------------------------------------------------------------------------------------
def test_4_0_zero_negative_or_malformed_amounts_are_bad_input(team: Team) -> None:
    pid = signed_contract(team)
    for args in (["0"], ["0.00"], ["--", "-5万"], ["--", "-0.01"], ["十万"], ["100.001"]):
        message = said(refused(team, "fenger", "receive", pid, *args, code=2))
        assert "AMOUNT" in message, args
    message = said(refused(team, "zhangsan", "invoice", pid, "0", "--number", "FP-0", code=2))
    assert "more than zero" in message
    # Without `--`, as people type it: the amount's message, not the parser's "No such option: -5".
    for args in (["-5", "--number", "FP-0"], ["--number", "FP-0", "-5万"]):
        message = said(refused(team, "zhangsan", "invoice", pid, *args, code=2))
        assert "AMOUNT must be more than zero" in message and "No such option" not in message, args
    message = said(refused(team, "fenger", "receive", pid, "-0.01", code=2))
    assert "AMOUNT must be more than zero (got -¥0.01)" in message


def test_4_0_a_receipt_larger_than_what_is_outstanding_is_refused(team: Team) -> None:
    pid = signed_contract(team, "34.8万")
    message = said(refused(team, "fenger", "receive", pid, "35万"))
    assert "¥348,000.00" in message and "outstanding" in message
    team.ok("fenger", "receive", pid, "10万")
    message = said(refused(team, "fenger", "receive", pid, "248000.01"))
    assert "¥248,000.00" in message
    team.ok("fenger", "receive", pid, "248000.00")
    assert derived(team, pid)["outstanding"] == "0.00"


def test_4_0_invoices_may_not_exceed_the_contract(team: Team) -> None:
    pid = signed_contract(team, "34.8万")
    team.ok("zhangsan", "invoice", pid, "30万", "--number", "FP-1")
    message = said(refused(team, "zhangsan", "invoice", pid, "5万", "--number", "FP-2"))
    assert "¥348,000.00" in message
    team.ok("zhangsan", "invoice", pid, "4.8万", "--number", "FP-2")
    assert derived(team, pid)["invoiced"] == "348000.00"


def test_4_0_an_invoice_number_is_recorded_once(team: Team) -> None:
    pid = signed_contract(team)
    team.ok("zhangsan", "invoice", pid, "10万", "--number", "FP-1")
    message = said(refused(team, "zhangsan", "invoice", pid, "5万", "--number", "FP-1"))
    assert "FP-1" in message and pid in message
    refused(team, "zhangsan", "invoice", pid, "5万", "--number", " FP-1 ")
    assert "needs its number" in said(refused(team, "zhangsan", "invoice", pid, "5万", "--number", " ", code=2))


def test_4_0_an_invoice_number_is_unique_across_projects(team: Team) -> None:
    first = signed_contract(team)
    second = signed_contract(team)
    assert first != second
    team.ok("zhangsan", "invoice", first, "10万", "--number", "FP-88")
    message = said(refused(team, "zhangsan", "invoice", second, "10万", "--number", "FP-88"))
    assert "FP-88" in message and first in message
    team.ok("zhangsan", "invoice", second, "10万", "--number", "FP-89")


# -- settlement ----------------------------------------------------------------------------------------
def test_4_0_settled_needs_receipts_equal_to_the_contract_amount(team: Team) -> None:
    pid = signed_contract(team, "34.8万")
    accepted(team, pid)
    team.ok("zhangsan", "invoice", pid, "34.8万", "--number", "FP-1")
    team.ok("fenger", "receive", pid, "10万")
    message = said(refused(team, "fenger", "sign", pid, "collection.settled"))
    assert "collection.receipts" in message and "4.0" in message
    assert team.state(pid, "collection.settled") == "blocked"
    team.ok("fenger", "receive", pid, "24.8万")
    assert team.state(pid, "collection.settled") == "waiting"
    team.ok("fenger", "sign", pid, "collection.settled")
    assert team.state(pid, "collection.settled") == "signed"
    assert trailers(team.root)["Xmflow-Step"] == "collection.settled"
    # a settled collection takes no more entries
    refused(team, "fenger", "receive", pid, "1")


def test_4_0_settled_is_signed_by_finance_only(team: Team) -> None:
    pid = signed_contract(team, "34.8万")
    accepted(team, pid)
    team.ok("fenger", "receive", pid, "34.8万")
    refused(team, "zhangsan", "sign", pid, "collection.settled")
    team.ok("fenger", "sign", pid, "collection.settled")


def test_4_0_amounts_are_exact_to_the_fen(team: Team) -> None:
    pid = signed_contract(team, "1234.56", budget="2000")
    accepted(team, pid)
    team.ok("zhangsan", "invoice", pid, "1234.56", "--number", "FP-1")
    for amount in ("1234.26", "0.10", "0.20"):  # 0.1 + 0.2 is 0.3 here, not 0.30000000000000004
        team.ok("fenger", "receive", pid, amount)
    figures = derived(team, pid)
    assert (figures["contract_amount"], figures["invoiced"], figures["received"], figures["outstanding"]) == (
        "1234.56",
        "1234.56",
        "1234.56",
        "0.00",
    )
    team.ok("fenger", "sign", pid, "collection.settled")
    assert team.state(pid, "collection.settled") == "signed"


def test_4_0_show_json_derives_exact_totals(team: Team) -> None:
    pid = signed_contract(team, "34.8万")
    assert derived(team, pid)["outstanding"] == "348000.00"
    assert derived(team, pid)["invoiced"] == "0.00" and derived(team, pid)["received"] == "0.00"
    team.ok("zhangsan", "invoice", pid, "34.8万", "--number", "FP-1")
    team.ok("fenger", "receive", pid, "10万")
    figures = derived(team, pid)
    assert figures["contract_amount"] == "348000.00"
    assert figures["invoiced"] == "348000.00"
    assert figures["received"] == "100000.00"
    assert figures["outstanding"] == "248000.00"
    team.ok("fenger", "receive", pid, "0.01")
    assert derived(team, pid)["received"] == "100000.01"
    assert derived(team, pid)["outstanding"] == "247999.99"

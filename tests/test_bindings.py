"""The names xmflow works with are bound by the process table, not written into the code (issue
13): the salesperson's role, the step that opens a project, the two ledgers, the figures, the
clause a message cites. A workspace's own process that renames them is used as it says, or
refused with file, line and entry."""

from __future__ import annotations

import re

import pytest
from conftest import Team, git, refused

from xmflow.errors import ProcessError
from xmflow.procedure import parser

TEXT = parser.default_text()


def renamed_sales(text: str) -> str:
    """The default process with its salesperson's role called `seller` (sales_supervisor stays)."""
    return re.sub(r"\bsales\b(?!_)", "seller", text)


def test_the_default_process_binds_the_salesperson_role_and_the_opening_step() -> None:
    process = parser.parse(TEXT, "process.yaml")
    assert process.salesperson_role == "sales"
    assert process.opening_step.id == "initiation.submit" and process.opening_step.clause == "3.1.1"
    assert process.ledger_of("collection.invoices.0.amount") is process.ledgers["invoices"]
    assert process.ledger_of("collection.invoices_note") is None
    assert process.figures["volume"] == "archive.volume"


def test_a_renamed_salesperson_role_is_the_one_the_process_uses() -> None:
    process = parser.parse(renamed_sales(TEXT), "process.yaml")
    assert process.salesperson_role == "seller" and "sales" not in process.roles


@pytest.mark.parametrize(
    ("old", "new", "where", "fragment"),
    [
        (
            "  invoices: {stage: collection,",
            "  bills: {stage: collection,",
            "bills",
            "`ledgers` must have `invoices`",
        ),
        ("  volume: archive.volume", "  volume: archive.copies", "volume", "figure volume must name a text field"),
    ],
)
def test_a_name_the_code_cannot_follow_is_refused_with_file_line_and_entry(
    old: str, new: str, where: str, fragment: str
) -> None:
    assert old in TEXT, old
    text = TEXT.replace(old, new, 1)
    with pytest.raises(ProcessError) as info:
        parser.parse(text, "p.yaml")
    message = info.value.message
    assert re.match(r"p\.yaml:\d+: ", message) and fragment in message and info.value.exit_code == 2, message
    assert text.splitlines()[int(message.split(":")[1]) - 1].strip().startswith(where), message


def test_a_process_from_before_the_bindings_still_reads_as_it_did() -> None:
    """What older processes hold stays readable, so their commits replay in `verify`: no volume
    figure (the cover reads archive.volume), a figure or a ledger xmflow does not use, a
    salesperson field that names no role (anyone may then be named)."""
    extra_ledger = (
        "  deposits: {stage: collection, field: collection.receipts, roles: [finance], after: contract.client_sign}\n"
    )
    text = (
        TEXT.replace("  volume: archive.volume", "  extra: archive.volume", 1)
        .replace("  receipts: {stage: collection,", extra_ledger + "  receipts: {stage: collection,", 1)
        .replace("      sales: {type: person, role: sales}", "      sales: {type: person}", 1)
    )
    process = parser.parse(text, "p.yaml")
    assert process.optional_figure("volume") == "archive.volume" and "volume" not in process.figures
    assert process.salesperson_role is None and "deposits" in process.ledgers


def _use_seller(team: Team) -> None:
    """The workspace's own process, its salesperson's role renamed: 张三 holds it, 李四 is pre-sales."""
    (team.root / "process.yaml").write_text(renamed_sales(TEXT), encoding="utf-8")
    people = (team.root / "people.yaml").read_text(encoding="utf-8")
    people = people.replace("roles: [sales]}", "roles: [seller]}").replace(
        "{id: lisi, name: 李四, email: lisi@example.com, roles: [seller]}",
        "{id: lisi, name: 李四, email: lisi@example.com, roles: [presales]}",
    )
    (team.root / "people.yaml").write_text(people, encoding="utf-8")
    with (team.root / "xmflow.yaml").open("a", encoding="utf-8") as f:
        f.write("process: process.yaml\n")
    git(team.root, "add", "-A")
    git(team.root, "-c", "user.email=wangjg@example.com", "-c", "user.name=王建国", "commit", "-qm", "seller")


def test_new_takes_the_salesperson_role_the_workspace_process_names(team: Team) -> None:
    _use_seller(team)
    opened = team.json("zhangsan", "new", "展厅", "--client", "甲", "--budget", "10万")
    assert team.status(opened["id"])["sales"] == "zhangsan"
    said = refused(team, "wangjg", "new", "展厅", "--client", "甲", "--budget", "10万", "--sales", "lisi")
    assert "does not hold the seller role (clause 3.1.1)" in said, said
    said = refused(team, "wangjg", "new", "展厅", "--client", "甲", "--budget", "10万", code=2)
    assert "you do not hold the seller role" in said, said
    said = refused(team, "lisi", "new", "展厅", "--client", "甲", "--budget", "10万")
    assert "may not open a project: it is seller's work (clause 3.1.1)" in said, said

"""`xmflow set` and `xmflow edit`: typed input, one commit per call, signatures undone by changes (SPEC §4, §5)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Team, draft_contract, git, open_project, plan_ready, refused, said


def trailers(root: Path, rev: str = "HEAD") -> dict[str, str]:
    """The Xmflow- trailers of a commit, as `git interpret-trailers --parse` reads them."""
    message = git(root, "log", "-1", "--format=%B", rev)
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(": ", 1) for line in parsed.splitlines() if line)


def stage_data(team: Team, pid: str, stage: str) -> dict:
    return team.json("wangjg", "show", pid)["stages"][stage]["data"]


def new_project(team: Team) -> str:
    return team.json("zhangsan", "new", "测试项目", "--client", "甲方公司", "--budget", "35万")["id"]


# -- input checks -----------------------------------------------------------------------------
def test_bad_money_value_is_refused_naming_the_field_and_nothing_is_committed(team: Team) -> None:
    pid = new_project(team)
    message = said(refused(team, "zhangsan", "set", pid, "contract.amount=TBD", code=2))
    assert "contract.amount" in message and "TBD" in message
    assert not (team.root / "projects" / pid / "contract.yaml").exists()


def test_bad_value_in_one_assignment_refuses_the_whole_call(team: Team) -> None:
    pid = new_project(team)
    message = said(
        refused(team, "zhangsan", "set", pid, "contract.number=HT-1", "contract.delivery_date=2026-13-45", code=2)
    )
    assert "contract.delivery_date" in message
    assert not (team.root / "projects" / pid / "contract.yaml").exists()


def test_unknown_field_is_bad_input(team: Team) -> None:
    pid = new_project(team)
    message = said(refused(team, "zhangsan", "set", pid, "contract.amout=1", code=2))
    assert "contract.amout" in message and "no such field (did you mean amount?)" in message


def test_a_person_field_takes_someone_in_people_yaml(team: Team) -> None:
    pid = new_project(team)
    message = said(refused(team, "zhangsan", "set", pid, "contract.originals.kept_by=nobody", code=2))
    assert "nobody not in people.yaml" in message
    team.ok("zhangsan", "set", pid, "contract.originals.kept_by=lisi")


@pytest.mark.parametrize("assignment", ["contract.amount=-5", "contract.warranty_months=-3"])
def test_negative_amounts_and_counts_are_bad_input(team: Team, assignment: str) -> None:
    pid = new_project(team)
    message = said(refused(team, "zhangsan", "set", pid, assignment, code=2))
    assert "must not be negative" in message


def test_1_4_a_milestone_is_marked_done_after_the_countersign_without_reopening(team: Team) -> None:
    pid = open_project(team, "150万")
    plan_ready(team, pid)
    team.ok("zhangsan", "sign", pid, "plan.countersign")
    team.ok("zhangsan", "sign", pid, "plan.countersign", "--role", "client", "--signatory", "刘经理")
    team.ok("zhangsan", "set", pid, "plan.milestones.0.done=2026-10-14", at=team.on("2026-10-14"))
    assert trailers(team.root)["Xmflow-Decision"] == "record"
    assert team.state(pid, "plan.countersign") == "signed"  # the client's signature still stands
    result = team("zhangsan", "set", pid, "plan.milestones.0.due=2026-10-20")  # the plan itself: needs --reopen
    assert result.exit_code == 1 and "--reopen" in said(result)


def test_unknown_sub_field_gets_a_did_you_mean_hint(team: Team) -> None:
    pid = new_project(team)
    message = said(refused(team, "zhangsan", "set", pid, "contract.core_principles.pricng=true", code=2))
    assert "did you mean pricing" in message


@pytest.mark.parametrize("assignment", ["amount=1", "client.contact=李四", "contract=1", "contract.amount"])
def test_field_without_its_stage_or_value_is_bad_usage(team: Team, assignment: str) -> None:
    pid = new_project(team)
    message = said(refused(team, "zhangsan", "set", pid, assignment, code=2))
    assert "contract.amount" in message  # the message shows the right form


def test_set_on_an_unknown_project_is_bad_usage(team: Team) -> None:
    new_project(team)
    result = team("zhangsan", "set", "2026-099", "contract.amount=1")
    assert result.exit_code == 2 and "2026-099" in said(result) and "2026-001" in said(result)


# -- money -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("1,500,000", "1500000.00"),
        ("150万", "1500000.00"),
        ("1.5亿", "150000000.00"),
        ("1500000.00", "1500000.00"),
        ("1234.5", "1234.50"),
    ],
)
def test_money_input_is_stored_exactly(team: Team, text: str, stored: str) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, f"contract.amount={text}")
    assert stage_data(team, pid, "contract")["amount"] == stored
    content = (team.root / "projects" / pid / "contract.yaml").read_text(encoding="utf-8")
    assert f"amount: {stored}\n" in content


def test_the_same_amount_written_differently_changes_nothing(team: Team) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.amount=1,500,000")
    message = said(refused(team, "zhangsan", "set", pid, "contract.amount=150万", code=2))
    assert "nothing changes" in message


def test_money_finer_than_a_fen_is_refused(team: Team) -> None:
    pid = new_project(team)
    message = said(refused(team, "zhangsan", "set", pid, "contract.amount=100.005", code=2))
    assert "contract.amount" in message and "0.01" in message


# -- one commit, its trailers, its author ----------------------------------------------------------
def test_fields_of_two_stages_go_in_one_commit_by_the_acting_person(team: Team) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "initiation.team.members=[lisi]")  # lisi joins the project's team
    before = team.commits()
    team.ok(
        "lisi", "set", pid, "initiation.client.contact=刘经理", "contract.number=HT-7", "contract.warranty_months=12"
    )
    assert team.commits() == before + 1
    assert team.clean()
    found = trailers(team.root)
    assert found["Xmflow-Project"] == pid
    assert found["Xmflow-Decision"] == "record"
    assert git(team.root, "log", "-1", "--format=%ae").strip() == "lisi@example.com"
    changed = set(git(team.root, "show", "--name-only", "--format=", "HEAD").split())
    assert changed == {f"projects/{pid}/project.yaml", f"projects/{pid}/contract.yaml"}
    assert stage_data(team, pid, "initiation")["client"] == {"name": "甲方公司", "contact": "刘经理"}
    assert stage_data(team, pid, "contract") == {"number": "HT-7", "warranty_months": 12}


def test_structured_values_are_read_as_yaml_and_checked(team: Team) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.payment_terms=[{name: 预付款, percent: 30, due: signing, days: 7}]")
    assert stage_data(team, pid, "contract")["payment_terms"] == [
        {"name": "预付款", "percent": "30", "due": "signing", "days": 7}
    ]
    message = said(
        refused(
            team, "zhangsan", "set", pid, "contract.payment_terms=[{name: 尾款, percent: 70, due: someday}]", code=2
        )
    )
    assert "contract.payment_terms.0.due" in message and "someday" in message


def test_ledger_fields_are_written_only_by_their_commands(team: Team) -> None:
    pid = new_project(team)
    for assignment in (
        "collection.receipts=[{amount: 100}]",
        "collection.invoices=[]",
        "collection.receipts.0.amount=100",
    ):
        message = said(refused(team, "fenger", "set", pid, assignment))
        assert "receive" in message and "4.0" in message


def test_list_items_are_set_by_index(team: Team) -> None:
    pid = open_project(team, "150万")
    team.ok("zhangsan", "set", pid, "plan.milestones=[{name: A, due: 2026-10-01}]")
    before = team.commits()
    team.ok(
        "zhangsan", "set", pid, "plan.milestones.0.done=2026-10-02", at=team.on("2026-10-02")
    )  # a milestone marked done
    assert team.commits() == before + 1
    assert trailers(team.root)["Xmflow-Decision"] == "record"
    team.ok("zhangsan", "set", pid, "plan.milestones.1={name: B, due: 2026-11-01}")
    assert stage_data(team, pid, "plan")["milestones"] == [
        {"name": "A", "due": "2026-10-01", "done": "2026-10-02"},
        {"name": "B", "due": "2026-11-01"},
    ]
    message = said(refused(team, "zhangsan", "set", pid, "plan.milestones.5.name=C", code=2))
    assert "plan.milestones.5.name" in message


def test_empty_value_removes_the_field(team: Team) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.number=HT-1", "contract.notes=先口头确认")
    assert stage_data(team, pid, "contract")["notes"] == "先口头确认"
    team.ok("zhangsan", "set", pid, "contract.notes=")
    assert stage_data(team, pid, "contract") == {"number": "HT-1"}
    assert "notes" not in (team.root / "projects" / pid / "contract.yaml").read_text(encoding="utf-8")
    assert team.clean()


# -- changes after a signature ---------------------------------------------------------------------
def test_changing_a_signed_field_undoes_the_signature(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    assert team.state(pid, "contract.draft") == "signed"
    result = team.ok("zhangsan", "set", pid, "contract.amount=35万")
    assert "undoes 张三 (zhangsan)'s signature of contract.draft" in said(result)
    assert "contract.self_review" in said(result)  # it signs the draft's fields too
    status = team.status(pid)
    draft = next(s for s in status["steps"] if s["step"] == "contract.draft")
    assert draft["state"] == "waiting"
    assert [s["by"] for s in draft["stale"]] == ["zhangsan"]
    assert draft["signed"] == []
    assert team.state(pid, "contract.supervisor_review") == "blocked"
    team.ok("zhangsan", "sign", pid, "contract.draft")  # signing again brings it back
    assert team.state(pid, "contract.draft") == "signed"


def test_a_later_steps_field_does_not_undo_an_earlier_signature(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    result = team.ok("zhangsan", "set", pid, "contract.originals.copies=2", "contract.originals.kept_by=zhangsan")
    assert "undoes" not in said(result)
    assert team.state(pid, "contract.draft") == "signed"
    assert team.state(pid, "contract.self_review") == "signed"
    draft = next(s for s in team.status(pid)["steps"] if s["step"] == "contract.draft")
    assert draft["stale"] == []


# -- a completed stage -------------------------------------------------------------------------------
def test_a_completed_stage_needs_reopen_with_a_reason(team: Team) -> None:
    pid = open_project(team)  # non-key: initiation is complete once submitted
    assert team.state(pid, "initiation.submit") == "signed"
    before = team.commits()

    message = said(refused(team, "zhangsan", "set", pid, "initiation.budget=40万"))
    assert "--reopen" in message and "initiation" in message

    message = said(refused(team, "zhangsan", "set", pid, "initiation.budget=40万", "--reopen", code=2))
    assert "-m" in message

    team.ok("zhangsan", "set", pid, "initiation.budget=40万", "--reopen", "-m", "预算调整")
    assert team.commits() == before + 1 and team.clean()
    found = trailers(team.root)
    assert found["Xmflow-Decision"] == "reopen" and found["Xmflow-Project"] == pid
    assert "预算调整" in git(team.root, "log", "-1", "--format=%B")
    assert team.state(pid, "initiation.submit") == "waiting"
    assert stage_data(team, pid, "initiation")["budget"] == "400000.00"
    signoffs = team.json("wangjg", "show", pid)["stages"]["initiation"]["signoffs"]
    assert [(s["decision"], s["by"], s["comment"]) for s in signoffs][-1] == ("reopen", "zhangsan", "预算调整")

    team.ok("zhangsan", "sign", pid, "initiation.submit")
    assert team.state(pid, "initiation.submit") == "signed"


def test_reopen_is_only_for_a_completed_stage(team: Team) -> None:
    pid = open_project(team)
    message = said(refused(team, "zhangsan", "set", pid, "contract.number=HT-1", "--reopen", "-m", "不需要", code=2))
    assert "--reopen" in message


# -- edit ----------------------------------------------------------------------------------------------
EDITOR_SCRIPT = """\
#!/usr/bin/env python3
import os, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    text = f.read()
text = eval(os.environ["XM_EDIT"], {"text": text})
with open(path, "w", encoding="utf-8") as f:
    f.write(text)
sys.exit(int(os.environ.get("XM_EXIT", "0")))
"""


@pytest.fixture
def editor(tmp_path: Path) -> str:
    """$EDITOR: a script that rewrites the file with the Python expression in XM_EDIT (on `text`)."""
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT, encoding="utf-8")
    script.chmod(0o755)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def editing(editor: str, change: str, **env: str) -> dict[str, str]:
    """The environment of an `edit` whose editor makes *change*."""
    return {"EDITOR": editor, "XM_EDIT": change, **env}


def edit(team: Team, editor: str, pid: str, stage: str, change: str, who: str = "zhangsan", **env: str):
    return team(who, "edit", pid, stage, env=editing(editor, change, **env))


def test_edit_commits_a_valid_change(team: Team, editor: str) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.number=HT-1", "contract.amount=34.8万")
    before = team.commits()
    result = edit(team, editor, pid, "contract", "text.replace('number: HT-1', 'number: HT-2') + 'notes: 改号\\n'")
    assert result.exit_code == 0, result.output
    assert team.commits() == before + 1 and team.clean()
    assert stage_data(team, pid, "contract") == {"number": "HT-2", "amount": "348000.00", "notes": "改号"}
    found = trailers(team.root)
    assert found["Xmflow-Decision"] == "record" and found["Xmflow-Project"] == pid
    assert git(team.root, "log", "-1", "--format=%ae").strip() == "zhangsan@example.com"


def test_edit_can_fill_a_stage_not_yet_written(team: Team, editor: str) -> None:
    pid = new_project(team)
    result = edit(team, editor, pid, "contract", "text + 'number: HT-3\\nwarranty_months: 6\\n'")
    assert result.exit_code == 0, result.output
    assert stage_data(team, pid, "contract") == {"number": "HT-3", "warranty_months": 6}


def test_edit_with_invalid_yaml_names_file_and_line(team: Team, editor: str) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.number=HT-1", "contract.amount=34.8万")
    change = "text + 'notes: [unclosed\\nsubject: x\\n'"
    message = said(refused(team, "zhangsan", "edit", pid, "contract", code=2, env=editing(editor, change)))
    assert re.search(rf"projects/{pid}/contract\.yaml:\d+", message), message
    assert "number: HT-1" in (team.root / "projects" / pid / "contract.yaml").read_text(encoding="utf-8")


def test_edit_with_a_wrong_type_names_file_line_and_field(team: Team, editor: str) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.number=HT-1", "contract.amount=34.8万")
    text = (team.root / "projects" / pid / "contract.yaml").read_text(encoding="utf-8")
    line = text.splitlines().index("amount: 348000.00") + 1
    change = "text.replace('amount: 348000.00', 'amount: 很多')"
    message = said(refused(team, "zhangsan", "edit", pid, "contract", code=2, env=editing(editor, change)))
    assert f"projects/{pid}/contract.yaml:{line}" in message
    assert "contract.amount" in message
    assert (team.root / "projects" / pid / "contract.yaml").read_text(encoding="utf-8") == text


def test_edit_with_an_unknown_field_is_refused(team: Team, editor: str) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.number=HT-1")
    change = "text + 'amout: 1\\n'"
    message = said(refused(team, "zhangsan", "edit", pid, "contract", code=2, env=editing(editor, change)))
    assert f"projects/{pid}/contract.yaml:2" in message and "amout" in message


@pytest.mark.parametrize(
    "change",
    [
        "text.split('signoffs:')[0]",  # removes the sign-offs
        "text.replace('by: zhangsan', 'by: lisi')",  # rewrites one
    ],
)
def test_edit_may_not_touch_the_signoffs(team: Team, editor: str, change: str) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    message = said(refused(team, "zhangsan", "edit", pid, "contract", env=editing(editor, change)))
    assert "sign" in message and f"projects/{pid}/contract.yaml" in message
    assert team.state(pid, "contract.draft") == "signed"


def test_edit_may_not_write_the_ledgers(team: Team, editor: str) -> None:
    pid = new_project(team)
    change = "text + 'receipts:\\n- amount: 100\\n'"
    message = said(refused(team, "fenger", "edit", pid, "collection", env=editing(editor, change)))
    assert "collection.receipts" in message


def test_edit_that_changes_nothing_commits_nothing(team: Team, editor: str) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.number=HT-1")
    before = team.commits()
    result = edit(team, editor, pid, "contract", "text")
    assert result.exit_code == 0, result.output
    assert "no change" in said(result)
    assert team.commits() == before and team.clean()


def test_edit_when_the_editor_fails_changes_nothing(team: Team, editor: str) -> None:
    pid = new_project(team)
    team.ok("zhangsan", "set", pid, "contract.number=HT-1")
    change = "text.replace('HT-1', 'HT-2')"
    message = said(refused(team, "zhangsan", "edit", pid, "contract", code=2, env=editing(editor, change, XM_EXIT="1")))
    assert "editor" in message
    assert stage_data(team, pid, "contract") == {"number": "HT-1"}


def test_edit_of_an_unknown_stage_is_bad_usage(team: Team, editor: str) -> None:
    pid = new_project(team)
    result = edit(team, editor, pid, "contracts", "text")
    assert result.exit_code == 2 and "contracts" in said(result)


def test_edit_of_a_completed_stage_needs_reopen(team: Team, editor: str) -> None:
    pid = open_project(team)
    change = "text.replace('contact: 刘经理', 'contact: 黄女士')"
    message = said(refused(team, "zhangsan", "edit", pid, "initiation", env=editing(editor, change)))
    assert "--reopen" in message
    result = team(
        "zhangsan", "edit", pid, "initiation", "--reopen", "-m", "联系人变更", env={"EDITOR": editor, "XM_EDIT": change}
    )
    assert result.exit_code == 0, result.output
    assert trailers(team.root)["Xmflow-Decision"] == "reopen"
    assert stage_data(team, pid, "initiation")["client"]["contact"] == "黄女士"
    assert team.state(pid, "initiation.submit") == "waiting"


def test_yes_no_and_dates_are_taken_as_people_write_them(team: Team) -> None:
    """Issue 11: 是/否 (and yes/no) for a yes/no field; 2026/12/20, 2026.12.20 and 2026年12月20日
    for a date; stored as the one form each has."""
    pid = new_project(team)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "initiation.key_criteria.special=是",
        "initiation.key_criteria.industry_need=否",
        "initiation.team.kickoff_date=2026年8月8日",
    )
    shown = team.json("zhangsan", "show", pid)["stages"]["initiation"]["data"]
    assert shown["key_criteria"]["special"] is True and shown["key_criteria"]["industry_need"] is False
    assert shown["team"]["kickoff_date"] == "2026-08-08"
    team.ok("zhangsan", "set", pid, "initiation.team.kickoff_date=2026/8/9")
    assert team.json("zhangsan", "show", pid)["stages"]["initiation"]["data"]["team"]["kickoff_date"] == "2026-08-09"
    answer = team("zhangsan", "set", pid, "initiation.key_criteria.special=也许")
    assert answer.exit_code == 2 and "是/否" in answer.output


def test_what_a_step_needs_is_not_taken_away_nor_set_to_nought_and_a_field_goes_once(team: Team) -> None:
    """Issue 11: `set initiation.name=` would remove a name the submission needs, `contract.amount=0`
    is no amount, the same field twice in one call is a slip, a zero budget is none: each is
    refused (exit 2) and nothing is committed."""
    pid = new_project(team)
    before = team.commits()
    for args, words in (
        (["initiation.name="], "initiation.name: it cannot be emptied, initiation.submit"),
        (["contract.amount=0"], "contract.amount: ¥0.00 is no amount"),
        (["initiation.phase=跟踪", "initiation.phase=咨询"], "initiation.phase is given twice"),
    ):
        result = team("zhangsan", "set", pid, *args)
        assert result.exit_code == 2 and words in result.output, (args, result.output)
    zero = team("zhangsan", "new", "另一个", "--client", "乙方", "--budget", "0")
    assert zero.exit_code == 2 and "--budget" in zero.output
    assert team.commits() == before


def test_a_contract_amount_far_from_the_budget_is_taken_with_a_warning(team: Team) -> None:
    pid = new_project(team)
    far = team.ok("zhangsan", "set", pid, "contract.amount=3500万")
    assert "far from the budget ¥350,000.00" in far.output
    near = team.ok("zhangsan", "set", pid, "contract.amount=34.8万")
    assert "far from" not in near.output
    assert "far from" in team.ok("zhangsan", "set", pid, "contract.amount=3万").output

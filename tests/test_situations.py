"""Everyday situations the procedure answers (issue 11): a VP's decline, a special project that
becomes key late, a withdrawn project, steps that apply only when a field says so."""

from __future__ import annotations

from conftest import Team, draft_contract, git, open_project
from test_trust import forge_signoff


def next_steps(team: Team, pid: str) -> dict[str, list[str]]:
    status = team.status(pid)
    return {n["step"]: n["people"] for n in status["next"]}


def withdraw(team: Team, pid: str, reason: str = "未中标：客户选了别家") -> None:
    team.ok("zhangsan", "set", pid, f"withdrawal.reason={reason}", "withdrawal.kind=未中标")
    team.ok("zhangsan", "sign", pid, "withdrawal.request")
    team.ok("zhaoliu", "sign", pid, "withdrawal.approve")


def test_3_1_2_C_a_declined_special_project_goes_on_as_a_normal_one(team: Team) -> None:
    pid = open_project(team, "60万", "--special", who="lisi")
    team.ok("zhoujiu", "sign", pid, "initiation.vp_approval", "--reject", "-m", "不属于特殊项目")
    status = team.status(pid)
    assert team.state(pid, "initiation.vp_approval") == "declined"
    assert set(next_steps(team, pid)) == {"contract.draft"}  # the normal path, nobody waits on the VP
    assert status["key"] is False
    (note,) = status["notes"]
    assert "declined by 周九" in note and "不属于特殊项目" in note and "normal (non-key) project" in note
    late = team.json("wangjg", "status", "--late", "--as-of", "2026-12-31")
    assert pid not in {p["id"] for p in late}  # a decline is never late
    team.ok("zhoujiu", "sign", pid, "initiation.vp_approval", "-m", "重新考虑后同意")  # a VP may change their mind
    assert team.json("wangjg", "show", pid)["key"] is True


def test_a_special_project_that_becomes_key_after_its_draft_needs_the_plan_first(team: Team) -> None:
    pid = open_project(team, "60万", "--special", who="lisi")
    draft_contract(team, pid, who="lisi")
    team.ok("zhoujiu", "sign", pid, "initiation.vp_approval", "-m", "同意")
    assert team.state(pid, "contract.draft") == "blocked"
    draft = next(s for s in team.status(pid)["steps"] if s["step"] == "contract.draft")
    assert any("plan.countersign" in m for m in draft["missing"])
    (note,) = team.status(pid)["notes"]
    assert note.startswith("contract.draft was signed on 2026-09-01, but the project has since become a key project")
    refused = team("zhaoliu", "sign", pid, "contract.supervisor_review")
    assert refused.exit_code == 1 and "plan.countersign" in refused.output, refused.output


def test_a_withdrawn_project_takes_no_more_signoffs_until_it_is_resumed(team: Team) -> None:
    pid = open_project(team)
    assert set(next_steps(team, pid)) == {"contract.draft"}  # nothing of the withdrawal until asked for
    team.ok("zhangsan", "set", pid, "withdrawal.reason=未中标：客户选了别家")
    assert set(next_steps(team, pid)) == {"contract.draft", "withdrawal.request"}
    team.ok("zhangsan", "sign", pid, "withdrawal.request")
    refused = team("zhangsan", "sign", pid, "withdrawal.approve")  # not the salesperson's to approve
    assert refused.exit_code == 1
    team.ok("zhaoliu", "sign", pid, "withdrawal.approve")
    status = team.status(pid)
    assert status["withdrawn"] is True and status["next"] == [] and status["closed"] is True
    assert team.state(pid, "contract.draft") == "stopped"
    assert status["notes"][0].startswith("withdrawn (终止) on 2026-09-01, approved by 赵六: 未中标：客户选了别家.")
    draft_contract_fields = team("zhangsan", "sign", pid, "contract.draft")
    assert draft_contract_fields.exit_code == 1 and "withdrawn" in draft_contract_fields.output
    portfolio = team.json("wangjg", "status", "--withdrawn", "--as-of", "2026-12-31")
    assert [p["id"] for p in portfolio] == [pid]
    assert pid in {p["id"] for p in team.json("wangjg", "status", "--as-of", "2026-12-31")}
    # resumed: the withdrawal reopened, its reason taken away
    team.ok("zhangsan", "set", pid, "withdrawal.reason=", "--reopen", "-m", "客户重新招标")
    status = team.status(pid)
    assert status["withdrawn"] is False and set(next_steps(team, pid)) == {"contract.draft"}


def test_a_signoff_on_a_withdrawn_project_by_plain_git_is_a_finding(team: Team) -> None:
    pid = open_project(team)
    withdraw(team, pid)
    refused = team("zhangsan", "sign", pid, "contract.draft")
    assert refused.exit_code == 1
    team.ok("zhangsan", "set", pid, "contract.number=HT-1")  # a stage's fields still change; sign-offs do not
    forge_signoff(team, "zhangsan", pid, "contract.draft", "sales")
    found = team("wangjg", "verify")
    assert found.exit_code == 1 and "withdrawn" in found.output, found.output
    assert git(team.root, "status", "--porcelain") == ""


# -- xmflow edit: a refused copy is kept, every error listed, the fields shown ------------------
def test_a_refused_edit_keeps_the_copy_and_lists_every_error(team: Team, tmp_path) -> None:
    import shlex
    import sys

    from test_set_edit import EDITOR_SCRIPT

    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT, encoding="utf-8")
    editor = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    pid = open_project(team)
    seen = tmp_path / "seen.yaml"
    # what the editor is shown: the stage's fields and their types, as comments
    team.ok(
        "zhangsan",
        "edit",
        pid,
        "contract",
        env={"EDITOR": editor, "XM_EDIT": f"open({str(seen)!r}, 'w').write(text) and text"},
    )
    guide = seen.read_text(encoding="utf-8")
    assert "#   amount: an amount of money" in guide and "#   payment_terms: list of" in guide
    assert "#     percent: a number" in guide and "written only by xmflow sign" in guide
    before = team.head()
    result = team(
        "zhangsan",
        "edit",
        pid,
        "contract",
        env={"EDITOR": editor, "XM_EDIT": "text + 'amount: 很多\\nwarranty_months: 一年\\ndelivery_date: 明天\\n'"},
    )
    assert result.exit_code == 2 and team.head() == before and team.clean()
    for field in ("contract.amount", "contract.warranty_months", "contract.delivery_date"):
        assert field in result.output, result.output
    kept = team.root / ".git" / "xmflow" / "edits" / f"{pid}-contract.yaml"
    assert str(kept) in result.output.replace("\n", "")
    assert "amount: 很多" in kept.read_text(encoding="utf-8")
    nested = team(
        "zhangsan",
        "edit",
        pid,
        "contract",
        env={  # items of a list, each on its own
            "EDITOR": editor,
            "XM_EDIT": "text + 'payment_terms:\\n- {name: a, percent: abc, due: bogus}\\n- {name: b, days: x}\\n'",
        },
    )
    for field in ("contract.payment_terms.0.percent", "contract.payment_terms.0.due", "contract.payment_terms.1.days"):
        assert field in nested.output, nested.output


def test_status_mine_shows_the_money_that_waits_on_me(team: Team) -> None:
    from conftest import sign_contract

    pid = open_project(team)
    draft_contract(team, pid)
    sign_contract(team, pid)  # 2026-09-01: 30% (¥104,400.00) due at signing + 7 days
    mine = {p["id"]: p for p in team.json("zhangsan", "status", "--mine", "--as-of", "2026-09-20")}
    (due,) = mine[pid]["money"]
    assert due["kind"] == "invoice" and due["amount"] == "104400.00" and due["since"] == "2026-09-08"
    assert due["days"] == 12
    assert all(
        not p["money"] for p in team.json("lisi", "status", "--mine", "--as-of", "2026-09-20")
    )  # not his project
    shown = team.ok("zhangsan", "--lang", "zh", "status", "--mine", "--as-of", "2026-09-20", env={"COLUMNS": "200"})
    assert "¥104,400.00" in shown.stdout and "待开票" in shown.stdout, shown.stdout
    team.ok(
        "zhangsan",
        "invoice",
        pid,
        "10.44万",
        "--number",
        "FP-1",
        "--date",
        "2026-09-21",
        at="2026-09-21T10:00:00+08:00",
    )
    assert not [m for p in team.json("zhangsan", "status", "--mine", "--as-of", "2026-09-25") for m in p["money"]]
    (owed,) = [m for p in team.json("fenger", "status", "--mine", "--as-of", "2026-09-25") for m in p["money"]]
    assert owed == {
        "project": pid,
        "name": owed["name"],
        "kind": "collect",
        "amount": "104400.00",
        "since": "2026-09-21",
        "days": 4,
    }
    team.ok("fenger", "receive", pid, "10.44万", "--date", "2026-09-26", at="2026-09-26T10:00:00+08:00")
    assert not [m for p in team.json("fenger", "status", "--mine", "--as-of", "2026-09-30") for m in p["money"]]


def test_status_says_in_chinese_why_a_step_does_not_apply_and_what_a_decline_means(team: Team) -> None:
    pid = open_project(team, "60万", "--special", who="lisi")
    team.ok("zhoujiu", "sign", pid, "initiation.vp_approval", "--reject", "-m", "不属于特殊项目")
    out = team.ok("wangjg", "--lang", "zh", "status", pid, env={"COLUMNS": "250"}).stdout
    assert "未同意" in out and "周九" in out and "项目按普通（非重点）项目继续进行" in out
    assert f"installation.on_site 未设置：设置后即适用（xmflow set {pid} installation.on_site=是）" in out, out
    english = team.ok("wangjg", "--lang", "en", "status", pid, env={"COLUMNS": "250"}).stdout
    assert "declined" in english and "the project goes on as a normal (non-key) project" in english
    assert (
        f"installation.on_site is not set: it applies once it is (xmflow set {pid} installation.on_site=yes)" in english
    )

"""Ways round the procedure that must stay closed, each refused without a trace."""

from __future__ import annotations

import subprocess

from conftest import Team, accepted, draft_contract, git, open_project, plan_ready, refused, said, stamp_contract


def test_a_path_through_a_list_needs_an_item_index(team: Team) -> None:
    pid = open_project(team, "150万")
    message = said(refused(team, "zhangsan", "set", pid, "plan.milestones.name=x", code=2))
    assert "is a list: name an item by its index" in message


def test_a_negative_budget_is_refused_before_anything_is_written(team: Team) -> None:
    message = said(refused(team, "zhangsan", "new", "X", "--client", "C", "--budget=-100", code=2))
    assert "must not be negative" in message
    assert team("wangjg", "status").exit_code == 0


def test_uncommitted_roles_do_not_count(team: Team) -> None:
    pid = open_project(team, "60万", "--special")
    people = team.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace("roles: [production_supervisor]", "roles: [vp]"), encoding="utf-8"
    )
    result = team("zhengyi", "sign", pid, "initiation.vp_approval")
    assert result.exit_code == 2 and "uncommitted changes in people.yaml" in result.output


def test_3_3_3_unrequiring_a_rejected_sample_needs_reopen(team: Team) -> None:
    pid = open_project(team)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "samples.required=true",
        "samples.model=M",
        "samples.quantity=1",
        "samples.delivery_date=2026-09-22",
    )
    team.ok("zhangsan", "sign", pid, "samples.request")
    team.ok("zhangsan", "sign", pid, "samples.client_review", "--signatory", "刘经理", "--reject", "-m", "不合格")
    message = said(refused(team, "zhangsan", "set", pid, "samples.required=false"))
    assert "samples.client_review no longer apply" in message and "--reopen" in message
    team.ok("zhangsan", "set", pid, "samples.required=false", "--reopen", "-m", "客户取消样机")
    assert team.state(pid, "samples.client_review") == "skipped"


def test_a_signatory_cannot_smuggle_trailers_into_the_commit(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    forged = "陈主任\nXmflow-Decision: reject"
    message = said(refused(team, "zhangsan", "sign", pid, "initiation.team", "--signatory", forged, code=2))
    assert "single line" in message


def test_a_failed_new_leaves_no_empty_project_folder(team: Team) -> None:
    hook = team.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    message = said(refused(team, "zhangsan", "new", "X", "--client", "C", "--budget", "1万", "--id", "GHOST", code=2))
    assert "git commit failed: exit status 1" in message
    assert not (team.root / "projects" / "GHOST").exists()


def test_text_is_taken_as_written(team: Team) -> None:
    pid = open_project(team)
    team.ok("zhangsan", "set", pid, "contract.subject=#1 展厅", "contract.notes=第一行\n李四 # 备注")
    data = team.json("wangjg", "show", pid)["stages"]["contract"]["data"]
    assert data["subject"] == "#1 展厅" and data["notes"] == "第一行\n李四 # 备注"


def test_a_note_goes_into_the_commit(team: Team) -> None:
    pid = open_project(team)
    team.ok("zhangsan", "set", pid, "contract.notes=x", "-m", "客户来电要求")
    assert "客户来电要求" in git(team.root, "log", "-1", "--format=%B")
    message = said(refused(team, "zhangsan", "set", pid, "contract.notes=y", "--reopen", "-m", "z", code=2))
    assert "--reopen is only for" in message


def test_absurd_numbers_are_bad_input_not_crashes(team: Team) -> None:
    pid = open_project(team)
    assert "too large" in said(refused(team, "zhangsan", "set", pid, "contract.amount=1" + "0" * 30, code=2))
    message = said(refused(team, "zhangsan", "set", pid, "contract.warranty_months=" + "9" * 30, code=2))
    assert "up to 9 digits" in message
    assert "aliases" in said(refused(team, "zhangsan", "set", pid, "installation.staff=&a [*a]", code=2))


def test_paper_options_belong_to_client_signatures(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    assert "only for the client" in said(
        refused(team, "zhaoliu", "sign", pid, "contract.supervisor_review", "--date", "2020-01-01", code=2)
    )


def test_only_sales_open_projects(team: Team) -> None:
    assert "may not open a project" in said(
        refused(team, "fenger", "new", "X", "--client", "C", "--budget", "1万", "--sales", "zhangsan")
    )
    team.ok("wangjg", "new", "X", "--client", "C", "--budget", "1万", "--sales", "zhangsan")  # an admin may


def test_the_projects_salesperson_holds_the_sales_role(team: Team) -> None:
    pid = open_project(team)
    assert "does not hold the role sales" in said(refused(team, "zhangsan", "set", pid, "initiation.sales=fenger"))


def test_one_broken_record_does_not_hide_the_portfolio(team: Team) -> None:
    pid = open_project(team)
    other = open_project(team, who="lisi")
    path = team.root / "projects" / other / "project.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("budget: ", "budget: TBD "), encoding="utf-8")
    git(team.root, "commit", "-qam", "broken by hand")
    result = team("wangjg", "status")
    assert result.exit_code == 2 and pid in result.stdout
    assert f"projects/{other}/project.yaml" in result.stderr and "initiation.budget" in result.stderr


def test_mine_and_who_must_act_leave_out_whoever_drafted(team: Team) -> None:
    people = team.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace(
            "roles: [sales]}\n  - {id: lisi", "roles: [sales, sales_supervisor]}\n  - {id: lisi"
        ),
        encoding="utf-8",
    )
    git(team.root, "-c", "user.email=wangjg@example.com", "commit", "-qam", "zhangsan supervises too")  # the admin
    pid = open_project(team)
    draft_contract(team, pid)
    row = next(r for r in team.json("wangjg", "status") if r["id"] == pid)
    assert row["next"][0]["step"] == "contract.supervisor_review" and row["next"][0]["people"] == ["zhaoliu"]
    assert [r["id"] for r in team.json("zhangsan", "status", "--mine")] == []
    assert [r["id"] for r in team.json("wushi", "status", "--mine")] == []  # client steps wait on the salesperson


def test_lang_is_zh_or_en(team: Team) -> None:
    assert team("wangjg", "--lang", "fr", "status").exit_code == 2


def test_uncommitted_paths_are_named_in_chinese(team: Team) -> None:
    pid = open_project(team)
    (team.root / "projects" / pid / "扫描件.txt").write_text("x")
    result = team("zhangsan", "set", pid, "contract.notes=x")
    assert result.exit_code == 2 and "扫描件.txt" in result.output
    subprocess.run(["rm", str(team.root / "projects" / pid / "扫描件.txt")], check=True)


def test_a_note_cannot_end_the_message_early(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    forged = "同意\n\nXmflow-Step: contract.stamp\n---\nx"
    message = said(refused(team, "zhaoliu", "sign", pid, "contract.supervisor_review", "-m", forged, code=2))
    assert "line starting with ---" in message


def test_names_with_markup_print_as_written(team: Team) -> None:
    pid = team.json("lisi", "new", "展厅[/bold][red]x", "--client", "[/x]", "--budget", "1万")["id"]
    text = team.ok("wangjg", "status").stdout
    assert "展厅[/bold][red]x" in text and "[/x]" in text and pid in text


def test_a_signatory_with_a_unicode_line_break_is_refused(team: Team) -> None:
    pid = open_project(team)
    message = said(refused(team, "zhangsan", "sign", pid, "contract.draft", "--signatory", "吴\u0085总", code=2))
    assert "single line" in message


def test_a_scan_with_an_odd_suffix_is_kept_under_a_plain_name(team: Team, tmp_path) -> None:
    pid = open_project(team, "150万")
    plan_ready(team, pid)
    scan = tmp_path / ("s." + "x" * 240)
    scan.write_text("scan")
    team.ok("zhangsan", "sign", pid, "plan.countersign", "--signatory", "吴总", "--evidence", str(scan))
    assert list((team.root / "projects" / pid / "files").iterdir())[0].name.startswith("plan.countersign-")


def test_evidence_is_kept_even_where_gitignore_ignores_scans(team: Team, tmp_path) -> None:
    (team.root / ".gitignore").write_text("*.pdf\n")
    git(team.root, "add", ".gitignore")
    git(team.root, "commit", "-qm", "ignore pdfs")
    pid = open_project(team, "150万")
    plan_ready(team, pid)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF")
    team.ok("zhangsan", "sign", pid, "plan.countersign", "--signatory", "吴总", "--evidence", str(scan))
    assert ".pdf" in git(team.root, "show", "--stat", "--format=", "HEAD")


def test_3_5_1_a_kept_self_review_does_not_survive_an_unchecked_principle(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    team.ok("qianqi", "sign", pid, "contract.business_review", "--reject", "-m", "改交期")
    team.ok("zhangsan", "set", pid, "contract.core_principles.liability=false")
    team.ok("zhangsan", "sign", pid, "contract.draft")
    assert team.state(pid, "contract.self_review") == "blocked"
    # the supervisor's review stands (3.5.3) but waits on the self-review: that is what is named
    assert "needs contract.self_review" in said(refused(team, "qianqi", "sign", pid, "contract.business_review"))


def test_4_0_a_new_contract_amount_needs_the_settlement_confirmed_again(team: Team) -> None:
    from test_delivery import contracted

    pid = contracted(team, on_site=False)
    accepted(team, pid)
    team.ok("zhangsan", "invoice", pid, "34.8万", "--number", "FP-1")
    team.ok("fenger", "receive", pid, "34.8万")
    team.ok("fenger", "sign", pid, "collection.settled")
    message = said(refused(team, "zhangsan", "set", pid, "contract.amount=30万"))
    assert "stage contract" in message and "collection.settled" in message
    team.ok("zhangsan", "set", pid, "contract.amount=30万", "--reopen", "-m", "降价")
    assert team.state(pid, "collection.settled") == "blocked"


def test_3_3_3_requiring_a_sample_after_the_contract_needs_reopen(team: Team) -> None:
    pid = open_project(team, "150万")
    plan_ready(team, pid)
    team.ok("zhangsan", "sign", pid, "plan.countersign")
    team.ok("zhangsan", "sign", pid, "plan.countersign", "--signatory", "吴总")
    draft_contract(team, pid, "140万")
    message = said(refused(team, "zhangsan", "set", pid, "samples.required=true"))
    assert "holds up contract.draft" in message


def test_lists_hold_no_blank_items(team: Team) -> None:
    pid = open_project(team, "150万")
    assert "is empty" in said(refused(team, "zhangsan", "set", pid, "initiation.team.members=[~]", code=2))
    assert "is empty" in said(refused(team, "zhangsan", "set", pid, "contract.payment_terms=[null]", code=2))


def test_odd_paths_and_editors_are_bad_input(team: Team, tmp_path) -> None:
    pid = open_project(team, "150万")
    refused(team, "zhangsan", "set", pid, "plan.milestones.\u00b2.done=2026-11-20", code=2)
    result = team("zhangsan", "edit", pid, "contract", env={"EDITOR": "no-such-editor-xyz"})
    assert result.exit_code == 2 and "cannot start the editor" in result.output
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert team("wangjg", "init", str(afile)).exit_code == 2
    assert team("wangjg", "demo", str(afile)).exit_code == 2


def test_a_closed_project_waits_on_nobody(team: Team) -> None:
    rows = {r["id"]: r for r in team.json("wangjg", "status")}
    assert rows == {}
    from test_lifecycle import test_3_1_1_small_project_skips_plan_and_countersign

    test_3_1_1_small_project_skips_plan_and_countersign(team)
    (row,) = team.json("wangjg", "status", "--as-of", "2027-06-01")
    assert row["closed"] and row["waiting_days"] == 0 and row["overdue_milestones"] == []


def test_dates_are_sane(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    stamp_contract(team, pid)
    assert "before the project was opened" in said(
        refused(
            team,
            "zhangsan",
            "sign",
            pid,
            "contract.client_sign",
            "--signatory",
            "刘经理",
            "--date",
            "1900-01-01",
            code=2,
        )
    )
    team.ok("zhangsan", "sign", pid, "contract.client_sign", "--signatory", "刘经理")
    assert "in the future" in said(refused(team, "fenger", "receive", pid, "1万", "--date", "2099-01-01", code=2))

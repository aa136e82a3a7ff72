"""Ways round the procedure that must stay closed, each refused without a trace."""

from __future__ import annotations

import subprocess

from conftest import Team, draft_contract, git, open_project


def refused(team: Team, who: str, *args: str, code: int = 1) -> str:
    before = team.head()
    result = team(who, *args)
    assert result.exit_code == code, result.output
    assert team.head() == before and team.clean()
    return " ".join(result.output.split())


def test_a_path_through_a_list_needs_an_item_index(team: Team) -> None:
    pid = open_project(team, "150万")
    assert "is a list: name an item by its index" in refused(team, "zhangsan", "set", pid, "plan.milestones.name=x",
                                                             code=2)


def test_a_negative_budget_is_refused_before_anything_is_written(team: Team) -> None:
    assert "must not be negative" in refused(team, "zhangsan", "new", "X", "--client", "C", "--budget=-100", code=2)
    assert team("wangjg", "status").exit_code == 0


def test_uncommitted_roles_do_not_count(team: Team) -> None:
    pid = open_project(team, "60万", "--special")
    people = team.root / "people.yaml"
    people.write_text(people.read_text(encoding="utf-8").replace("roles: [production_supervisor]", "roles: [vp]"),
                      encoding="utf-8")
    result = team("zhengyi", "sign", pid, "initiation.vp_approval")
    assert result.exit_code == 2 and "uncommitted changes in people.yaml" in result.output


def test_3_3_3_unrequiring_a_rejected_sample_needs_reopen(team: Team) -> None:
    pid = open_project(team)
    team.ok("zhangsan", "set", pid, "samples.required=true", "samples.model=M", "samples.quantity=1",
            "samples.delivery_date=2026-09-22")
    team.ok("zhangsan", "sign", pid, "samples.request")
    team.ok("zhangsan", "sign", pid, "samples.client_review", "--signatory", "刘经理", "--reject", "-m", "不合格")
    message = refused(team, "zhangsan", "set", pid, "samples.required=false")
    assert "samples.client_review no longer apply" in message and "--reopen" in message
    team.ok("zhangsan", "set", pid, "samples.required=false", "--reopen", "-m", "客户取消样机")
    assert team.state(pid, "samples.client_review") == "skipped"


def test_a_signatory_cannot_smuggle_trailers_into_the_commit(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    forged = "陈主任\nXmflow-Decision: reject"
    assert "single line" in refused(team, "zhangsan", "sign", pid, "initiation.team", "--signatory", forged, code=2)


def test_a_failed_new_leaves_no_empty_project_folder(team: Team) -> None:
    hook = team.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    message = refused(team, "zhangsan", "new", "X", "--client", "C", "--budget", "1万", "--id", "GHOST", code=2)
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
    assert "--reopen is only for" in refused(team, "zhangsan", "set", pid, "contract.notes=y", "--reopen", "-m", "z",
                                             code=2)


def test_absurd_numbers_are_bad_input_not_crashes(team: Team) -> None:
    pid = open_project(team)
    assert "too large" in refused(team, "zhangsan", "set", pid, "contract.amount=1" + "0" * 30, code=2)
    assert "up to 9 digits" in refused(team, "zhangsan", "set", pid, "contract.warranty_months=" + "9" * 30, code=2)
    assert "aliases" in refused(team, "zhangsan", "set", pid, "installation.staff=&a [*a]", code=2)


def test_paper_options_belong_to_client_signatures(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    assert "only for the client" in refused(team, "zhaoliu", "sign", pid, "contract.supervisor_review",
                                            "--date", "2020-01-01", code=2)


def test_only_sales_open_projects(team: Team) -> None:
    assert "may not open a project" in refused(team, "fenger", "new", "X", "--client", "C", "--budget", "1万",
                                               "--sales", "zhangsan")
    team.ok("wangjg", "new", "X", "--client", "C", "--budget", "1万", "--sales", "zhangsan")  # an admin may


def test_the_projects_salesperson_holds_the_sales_role(team: Team) -> None:
    pid = open_project(team)
    assert "does not hold the role sales" in refused(team, "zhangsan", "set", pid, "initiation.sales=fenger")


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
    people.write_text(people.read_text(encoding="utf-8").replace(
        "roles: [sales]}\n  - {id: lisi", "roles: [sales, sales_supervisor]}\n  - {id: lisi"), encoding="utf-8")
    git(team.root, "commit", "-qam", "zhangsan supervises too")
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

"""`xmflow init`, who acts, finding the workspace, `new`, and the process as data (SPEC §2, §3, §4)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import Team, git, open_project, said
from typer.testing import CliRunner

from xmflow.cli.entry import app
from xmflow.clock import fixed_time
from xmflow.procedure.parser import default_text


def run(*args: str, email: str | None = "zhangsan@example.com", **env: str):
    """Run xmflow as given (no implied -C), as the person with *email*."""
    variables = {**({"GIT_AUTHOR_EMAIL": email} if email else {}), **env}
    with fixed_time(datetime.fromisoformat("2026-09-01T09:00:00+08:00")):
        return CliRunner().invoke(app, list(args), env=variables)


def trailers(root: Path) -> dict[str, str]:
    message = git(root, "log", "-1", "--format=%B")
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(": ", 1) for line in parsed.splitlines() if line)


def commit_as_admin(root: Path, *paths: str, message: str = "admin change") -> None:
    git(root, "add", *paths)
    git(root, "-c", "user.email=wangjg@example.com", "commit", "-qm", message)


# -- init -------------------------------------------------------------------------------------------
def test_init_makes_a_workspace_with_the_caller_as_admin(tmp_path: Path) -> None:
    root = tmp_path / "新公司"
    result = run(
        "init", str(root), "--company", "深圳某某科技有限公司", email="boss@example.com", GIT_AUTHOR_NAME="老板"
    )
    assert result.exit_code == 0, result.output
    config = yaml.load((root / "xmflow.yaml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert config["company"] == "深圳某某科技有限公司"
    assert config["currency"] == "CNY"
    assert config["key_threshold"] == "1000000.00"
    assert config["locale"] == "zh"
    people = yaml.safe_load((root / "people.yaml").read_text(encoding="utf-8"))["people"]
    assert len(people) == 1
    assert people[0]["email"] == "boss@example.com" and people[0]["name"] == "老板"
    assert people[0]["roles"] == ["admin"]
    assert (root / "projects").is_dir()
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "log", "-1", "--format=%ae").strip() == "boss@example.com"
    assert set(git(root, "ls-files").split()) >= {"xmflow.yaml", "people.yaml"}
    assert "boss@example.com" in said(result)


def test_init_again_is_bad_usage_and_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert run("init", str(root), "--company", "X").exit_code == 0
    config = (root / "xmflow.yaml").read_bytes()
    result = run("init", str(root), "--company", "Y")
    assert result.exit_code == 2, result.output
    assert "xmflow.yaml" in said(result)
    assert (root / "xmflow.yaml").read_bytes() == config
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"


def test_init_without_a_git_identity_says_how_to_set_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("")
    root = tmp_path / "ws"
    result = run("init", str(root), "--company", "X", email=None, GIT_CONFIG_GLOBAL=str(empty))
    assert result.exit_code == 2, result.output
    assert "git config" in said(result) and "user.email" in said(result)
    assert not (root / "xmflow.yaml").exists()


def test_init_in_the_current_folder_with_C(tmp_path: Path) -> None:
    root = tmp_path / "here"
    root.mkdir()
    result = run("-C", str(root), "init", "--company", "X")
    assert result.exit_code == 0, result.output
    assert (root / "xmflow.yaml").is_file() and (root / ".git").is_dir()


# -- who acts -------------------------------------------------------------------------------------------
def test_someone_not_in_people_yaml_may_read_but_not_change(team: Team) -> None:
    pid = open_project(team)
    before = team.commits()
    result = team("stranger", "new", "外人项目", "--client", "某公司", "--budget", "10万")
    assert result.exit_code == 1, result.output
    assert "people.yaml" in said(result) and "stranger@example.org" in said(result)
    assert team.commits() == before and team.clean()
    for args in (("set", pid, "contract.number=HT-1"), ("sign", pid, "contract.draft")):
        result = team("stranger", *args)
        assert result.exit_code == 1 and "people.yaml" in said(result)
    assert team.commits() == before and team.clean()
    assert team("stranger", "status").exit_code == 0
    shown = team("stranger", "show", pid, "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == pid


def test_the_actor_comes_from_git_config_when_no_author_variable_is_set(team: Team) -> None:
    git(team.root, "config", "user.email", "lisi@example.com")
    result = run(
        "-C", str(team.root), "new", "李四的项目", "--client", "甲方", "--budget", "20万", "--json", email=None
    )
    assert result.exit_code == 0, result.output
    pid = json.loads(result.stdout)["id"]
    assert team.json("wangjg", "show", pid)["stages"]["initiation"]["data"]["sales"] == "lisi"
    assert git(team.root, "log", "-1", "--format=%ae").strip() == "lisi@example.com"


# -- finding the workspace -----------------------------------------------------------------------------------
def test_commands_find_the_workspace_from_a_subfolder(team: Team) -> None:
    pid = open_project(team)
    result = run("-C", str(team.root / "projects"), "status", "--json")
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.stdout)] == [pid]
    result = run("-C", str(team.root / "projects" / pid), "new", "子目录项目", "--client", "甲方", "--budget", "5万")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2026-002"
    assert (team.root / "projects" / "2026-002" / "project.yaml").is_file()
    assert not (team.root / "projects" / pid / "projects").exists()


def test_outside_a_workspace_commands_say_how_to_make_one(tmp_path: Path) -> None:
    outside = tmp_path / "nowhere"
    outside.mkdir()
    for args in (("status",), ("new", "X", "--client", "C", "--budget", "1")):
        result = run("-C", str(outside), *args)
        assert result.exit_code == 2, result.output
        assert "xmflow.yaml" in said(result) and "xmflow init" in said(result)


# -- new ------------------------------------------------------------------------------------------------------
def test_new_prints_the_id_of_the_year(team: Team) -> None:
    result = team.ok("zhangsan", "new", "一号项目", "--client", "甲方公司", "--budget", "35万")
    assert result.stdout.strip() == "2026-001"
    assert team.json("zhangsan", "new", "二号项目", "--client", "乙方公司", "--budget", "35万") == {"id": "2026-002"}
    assert trailers(team.root)["Xmflow-Project"] == "2026-002"
    assert trailers(team.root)["Xmflow-Decision"] == "record"
    data = team.json("wangjg", "show", "2026-001")["stages"]["initiation"]["data"]
    assert data == {
        "name": "一号项目",
        "client": {"name": "甲方公司"},
        "budget": "350000.00",
        "sales": "zhangsan",
        "opened": "2026-09-01",
    }
    result = team.ok(
        "zhangsan", "new", "明年项目", "--client", "丙方", "--budget", "1万", at="2027-01-02T09:00:00+08:00"
    )
    assert result.stdout.strip() == "2027-001"


def test_new_with_a_custom_id(team: Team) -> None:
    result = team.ok("zhangsan", "new", "定制编号", "--client", "甲方", "--budget", "1万", "--id", "CUSTOM_1")
    assert result.stdout.strip() == "CUSTOM_1"
    assert (team.root / "projects" / "CUSTOM_1" / "project.yaml").is_file()
    before = team.commits()
    for bad in ("a/b", "a b", "../x", "项目"):
        result = team("zhangsan", "new", "坏编号", "--client", "甲方", "--budget", "1万", "--id", bad)
        assert result.exit_code == 2, (bad, result.output)
    result = team("zhangsan", "new", "重复", "--client", "甲方", "--budget", "1万", "--id", "CUSTOM_1")
    assert result.exit_code == 2 and "CUSTOM_1" in said(result)
    assert team.commits() == before and team.clean()
    assert team.ok("zhangsan", "new", "年号", "--client", "甲方", "--budget", "1万").stdout.strip() == "2026-001"


def test_new_for_another_salesperson(team: Team) -> None:
    pid = team.json("wangjg", "new", "代建项目", "--client", "甲方", "--budget", "10万", "--sales", "lisi")["id"]
    assert team.json("wangjg", "show", pid)["stages"]["initiation"]["data"]["sales"] == "lisi"
    assert git(team.root, "log", "-1", "--format=%ae").strip() == "wangjg@example.com"
    before = team.commits()
    result = team("wangjg", "new", "主管项目", "--client", "甲方", "--budget", "10万", "--sales", "zhaoliu")
    assert result.exit_code == 1 and "sales" in said(result) and "3.1.1" in said(result)
    result = team("wangjg", "new", "无销售", "--client", "甲方", "--budget", "10万")
    assert result.exit_code == 2 and "--sales" in said(result)
    result = team("wangjg", "new", "查无此人", "--client", "甲方", "--budget", "10万", "--sales", "nobody")
    assert result.exit_code == 2 and "nobody" in said(result)
    assert team.commits() == before and team.clean()


def test_new_refuses_a_bad_budget(team: Team) -> None:
    before = team.commits()
    result = team("zhangsan", "new", "项目", "--client", "甲方", "--budget", "很多")
    assert result.exit_code == 2 and "--budget" in said(result)
    assert team.commits() == before and team.clean()
    assert not (team.root / "projects" / "2026-001").exists()


@pytest.mark.parametrize("budget", ["", "   "])
def test_new_refuses_an_empty_budget(team: Team, budget: str) -> None:
    before = team.commits()
    result = team("zhangsan", "new", "项目", "--client", "甲方", "--budget", budget)
    assert result.exit_code == 2 and "--budget" in said(result)
    assert team.commits() == before and team.clean()


def test_new_marks_the_key_criteria(team: Team) -> None:
    pid = team.json("zhangsan", "new", "行业项目", "--client", "甲方", "--budget", "10万", "--industry-need")["id"]
    assert team.json("wangjg", "show", pid)["key"] is True
    pid = team.json("zhangsan", "new", "大项目", "--client", "甲方", "--budget", "1,000,000")["id"]
    assert team.json("wangjg", "show", pid)["key"] is True  # budget at the threshold (3.1.2 B)
    pid = team.json("zhangsan", "new", "小项目", "--client", "甲方", "--budget", "999999.99")["id"]
    assert team.json("wangjg", "show", pid)["key"] is False


# -- the process --------------------------------------------------------------------------------------------------
def test_process_show_lists_steps_and_clauses(team: Team) -> None:
    result = team.ok("zhangsan", "process", "show", env={"COLUMNS": "250"})
    assert "contract.supervisor_review" in result.stdout and "3.5.2" in result.stdout
    assert "sales_supervisor" in result.stdout
    shown = team.json("zhangsan", "process", "show")
    steps = [step["id"] for stage in shown["stages"] for step in stage["steps"]]
    assert len(steps) == 30 and len(set(steps)) == 30
    assert steps[0] == "initiation.submit" and steps[-3:] == [
        "archive.file",
        "withdrawal.request",
        "withdrawal.approve",
    ]
    review = next(s for stage in shown["stages"] for s in stage["steps"] if s["id"] == "contract.supervisor_review")
    assert review["clause"] == "3.5.2" and review["roles"] == ["sales_supervisor"]


def test_process_export_is_the_packaged_default(team: Team, tmp_path: Path) -> None:
    assert team.ok("zhangsan", "process", "export").stdout == default_text()
    outside = tmp_path / "nowhere"
    outside.mkdir()
    result = run("-C", str(outside), "process", "export")
    assert result.exit_code == 0 and result.stdout == default_text()


def test_a_workspace_uses_its_own_revision_of_the_process(team: Team) -> None:
    text = team.ok("wangjg", "process", "export").stdout
    assert "title: 主管审核\n" in text
    (team.root / "process.yaml").write_text(
        text.replace("title: 主管审核\n", "title: 部门经理审核\n"), encoding="utf-8"
    )
    config = team.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "process: process.yaml\n", encoding="utf-8")
    commit_as_admin(team.root, "process.yaml", "xmflow.yaml", message="own process")
    shown = team.json("zhangsan", "process", "show")
    review = next(s for stage in shown["stages"] for s in stage["steps"] if s["id"] == "contract.supervisor_review")
    assert review["title"] == "部门经理审核"
    assert "部门经理审核" in team.ok("zhangsan", "process", "export").stdout
    pid = open_project(team)  # the workspace still works on its own process
    step = next(s for s in team.status(pid)["steps"] if s["step"] == "contract.supervisor_review")
    assert step["title"] == "部门经理审核"


def test_a_broken_process_is_reported_with_file_and_line(team: Team) -> None:
    text = default_text().replace("roles: [sales_supervisor]", "roles: [sales_boss]")
    line = text.splitlines().index("        roles: [sales_boss]") + 1
    (team.root / "process.yaml").write_text(text, encoding="utf-8")
    config = team.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "process: process.yaml\n", encoding="utf-8")
    commit_as_admin(team.root, "process.yaml", "xmflow.yaml")
    before = team.commits()
    for args in (("status",), ("process", "show"), ("new", "项目", "--client", "甲方", "--budget", "1万")):
        result = team("zhangsan", *args)
        assert result.exit_code == 2, (args, result.output)
        assert f"process.yaml:{line}" in said(result) and "sales_boss" in said(result)
    assert team.commits() == before


def test_a_process_file_that_is_missing_is_reported(team: Team) -> None:
    config = team.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "process: our-process.yaml\n", encoding="utf-8")
    commit_as_admin(team.root, "xmflow.yaml")
    result = team("zhangsan", "status")
    assert result.exit_code == 2 and "our-process.yaml" in said(result)


# -- people.yaml and xmflow.yaml ------------------------------------------------------------------------------------
def test_people_yaml_with_an_unknown_role_is_reported_with_its_line(team: Team) -> None:
    pid = open_project(team)
    people = team.root / "people.yaml"
    lines = people.read_text(encoding="utf-8").splitlines()
    index = next(i for i, l in enumerate(lines) if "id: lisi" in l)
    lines[index] = lines[index].replace("roles: [sales]", "roles: [salesman]")
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    commit_as_admin(team.root, "people.yaml")
    before = team.commits()
    for args in (
        ("new", "项目", "--client", "甲方", "--budget", "1万"),
        ("set", pid, "contract.number=HT-1"),
        ("status",),
    ):
        result = team("zhangsan", *args)
        assert result.exit_code == 2, (args, result.output)
        assert f"people.yaml:{index + 1}" in said(result) and "salesman" in said(result)
    assert team.commits() == before and team.clean()


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("colour: blue", "colour"),
        ("locale: fr", "locale"),
        ("key_threshold: lots", "key_threshold"),
    ],
)
def test_a_bad_setting_in_xmflow_yaml_is_reported_with_its_line(team: Team, setting: str, named: str) -> None:
    config = team.root / "xmflow.yaml"
    lines = [l for l in config.read_text(encoding="utf-8").splitlines() if not l.startswith(named + ":")]
    config.write_text("\n".join([*lines, setting]) + "\n", encoding="utf-8")
    commit_as_admin(team.root, "xmflow.yaml")
    result = team("zhangsan", "new", "项目", "--client", "甲方", "--budget", "1万")
    assert result.exit_code == 2, result.output
    assert f"xmflow.yaml:{len(lines) + 1}" in said(result) and named in said(result)


def test_the_key_threshold_comes_from_xmflow_yaml(team: Team) -> None:
    config = team.root / "xmflow.yaml"
    text = config.read_text(encoding="utf-8")
    assert re.search(r"^key_threshold: 1000000\.00$", text, re.M)
    config.write_text(re.sub(r"^key_threshold: .*$", "key_threshold: 50万", text, flags=re.M), encoding="utf-8")
    commit_as_admin(team.root, "xmflow.yaml")
    pid = team.json("zhangsan", "new", "项目", "--client", "甲方", "--budget", "60万")["id"]
    assert team.json("wangjg", "show", pid)["key"] is True

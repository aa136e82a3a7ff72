"""`xmflow demo`: a workspace made through the real commands, with a real audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git
from typer.testing import CliRunner

from xmflow.cli.entry import app


def test_demo_builds_a_workspace_and_shows_its_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "demo"
    monkeypatch.delenv("XMFLOW_LANG")  # English from --lang alone: the workspace it builds speaks Chinese
    result = CliRunner().invoke(app, ["--lang", "en", "demo", str(root)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert f"demo workspace: {root}" in result.stdout and "智慧园区显示系统" in result.stdout
    # its commands ran in the workspace it built (Chinese); what it says after them is in the command line's language
    assert (
        "projects by stage" in result.stdout and "各阶段项目数" not in result.stdout and "\ntry: cd " in result.stdout
    )
    authors = set(git(root, "log", "--format=%ae").split())
    assert {
        "zhangsan@example.com",
        "zhaoliu@example.com",
        "qianqi@example.com",
        "fenger@example.com",
        "chensan@example.com",
        "zhoujiu@example.com",
    } <= authors
    assert git(root, "status", "--porcelain") == ""
    steps = git(root, "log", "--format=%(trailers:key=Xmflow-Step,valueonly,separator=%x1f)").split()
    assert "contract.supervisor_review" in steps and "archive.file" in steps
    rows = json.loads(CliRunner().invoke(app, ["-C", str(root), "status", "--json", "--as-of", "2026-11-28"]).stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["2026-002"]["closed"] is True
    assert by_id["2026-003"]["next"][0]["step"] == "contract.business_review"
    assert by_id["2026-005"]["key"] is True  # the special project the VP approved
    assert by_id["2026-004"]["overdue_milestones"][0]["name"] == "方案会签"
    assert len(rows) == 6
    # 1.3, 1.4 at a glance: the business centre's review is late; the settlement, still waiting for
    # the client's money (nothing finance can sign yet), is not late for finance.
    assert [n["step"] for n in by_id["2026-003"]["late"]] == ["contract.business_review"]
    assert by_id["2026-001"]["late"] == []
    glance = (
        CliRunner()
        .invoke(app, ["-C", str(root), "--lang", "zh", "status", "--as-of", "2026-11-28"], env={"COLUMNS": "200"})
        .stdout
    )
    assert "各阶段项目数" in glance and "应收账龄（按到期日）" in glance
    assert "2026-003 contract.business_review: 25 > 3 天 — 商务中心：钱七" in glance
    owed = json.loads(
        CliRunner().invoke(app, ["-C", str(root), "ar", "--as-of", "2026-11-28", "--by-salesperson", "--json"]).stdout
    )
    assert owed["by_salesperson"]["张三"]["outstanding"] == owed["total"]["outstanding"] == "941000.00"
    assert owed["total"]["ageing"]["31-60"] == "47000.00" and owed["total"]["ageing"]["not_due"] == "894000.00"
    csv = (
        CliRunner()
        .invoke(app, ["-C", str(root), "--lang", "zh", "ar", "--as-of", "2026-11-28", "--by-salesperson", "--csv"])
        .stdout
    )
    assert [line.split(",")[1] for line in csv.splitlines()[-2:]] == ["小计 张三", "合计"]
    english = (
        CliRunner()
        .invoke(app, ["-C", str(root), "--lang", "en", "ar", "--as-of", "2026-11-28", "--by-salesperson", "--csv"])
        .stdout
    )
    assert [line.split(",")[1] for line in english.splitlines()[-2:]] == ["subtotal 张三", "total"]


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    result = CliRunner().invoke(app, ["demo", str(tmp_path)])
    assert result.exit_code == 2 and "not an empty folder" in result.output
    chinese = CliRunner().invoke(app, ["--lang", "zh", "demo", str(tmp_path)])
    assert chinese.exit_code == 2 and "不是空文件夹" in chinese.output

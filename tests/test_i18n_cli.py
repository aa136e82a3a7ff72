"""The command line in its reader's language (issue 11): help, the parser's errors, tables, the
CSV; people by name, values as words; and which language a command speaks when nobody says.

conftest sets XMFLOW_LANG=en for every test; the tests of the fallbacks take it away."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import Team, draft_contract, git, open_project, sign_contract
from typer.testing import CliRunner

from xmflow.cli.entry import app

LOCALE_VARIABLES = ("XMFLOW_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
WIDE = {"COLUMNS": "250"}


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env, prog_name="xmflow")


def speaks(result) -> str:
    """The language a help page is in."""
    assert result.exit_code == 0, result.output
    if result.stdout.startswith("用法："):
        return "zh"
    assert result.stdout.startswith("Usage: "), result.stdout[:200]
    return "en"


@pytest.fixture
def no_language(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Nothing in the environment names a language."""
    for var in LOCALE_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


# -- help and the parser's errors --------------------------------------------------------------------
def test_lang_zh_gives_chinese_help_at_every_level() -> None:
    top = run("--lang", "zh", "-h").stdout
    assert top.startswith("用法：xmflow") and "选项：" in top and "命令：" in top
    assert "基于 git 的营销项目作业控制程序" in top and "显示本帮助并退出。" in top
    sign = run("--lang", "zh", "sign", "-h").stdout
    assert "以本人身份签署（或退回）一个步骤" in sign and "参数：" in sign and "[必填]" in sign
    verify = run("--lang", "zh", "verify", "-h").stdout
    assert "按流程重放 git 历史" in verify and "SPEC" not in verify
    english = run("--lang", "en", "verify", "-h").stdout
    assert english.startswith("Usage: xmflow verify") and "Replay the git history" in english and "SPEC" not in english


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("status", "--bogus"), "错误：没有该选项：--bogus"),
        (("sign",), "错误：缺少参数"),
        (("nosuchcommand",), "错误：没有命令 'nosuchcommand'"),
        (("log", "-n", "0"), "0 不在范围 x>=1 内"),
        (("render", "P", "form1", "--format", "docx"), "“docx”不是"),
        (("status", "a", "b"), "多出了参数（b）"),
        (("sign", "P", "S", "-m"), "选项 -m 需要一个值"),
    ],
)
def test_the_parsers_errors_in_chinese(args: tuple[str, ...], said: str) -> None:
    result = run("--lang", "zh", *args)
    assert result.exit_code == 2 and said in result.output, result.output
    assert "用法：xmflow" in result.output or args[-1] == "-m"  # a value missing at the end: no usage line
    english = run("--lang", "en", *args)
    assert english.exit_code == 2 and "Error: " in english.output and "用法" not in english.output


def test_a_language_that_is_not_ours_is_refused_in_chinese() -> None:
    result = run("--lang", "fr", "status")
    assert result.exit_code == 2 and "--lang" in result.output and "'fr'" in result.output


# -- which language, when nobody says --------------------------------------------------------------
@pytest.mark.parametrize(
    ("environment", "lang"),
    [
        ({}, "zh"),  # nothing said: Chinese
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C"}, "zh"),  # the C locale names no language of ours
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, "zh"),  # the first variable set decides, as for gettext
        ({"LANGUAGE": "en:zh", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "XMFLOW_LANG": "zh"}, "zh"),  # XMFLOW_LANG beats the system
    ],
)
def test_outside_a_workspace_the_system_locale_decides(
    no_language: pytest.MonkeyPatch, tmp_path: Path, environment: dict[str, str], lang: str
) -> None:
    no_language.chdir(tmp_path)
    for var, value in environment.items():
        no_language.setenv(var, value)
    assert speaks(run("-h")) == lang
    assert speaks(run("--lang", "zh" if lang == "en" else "en", "-h")) != lang  # --lang beats them all


def test_lang_beats_xmflow_lang_beats_the_workspace_beats_the_system(
    team: Team, no_language: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    here = ("-C", str(team.root))
    no_language.setenv("LANG", "en_US.UTF-8")
    assert speaks(run(*here, "-h")) == "zh"  # the workspace (Chinese) beats the system
    assert speaks(run(*here, "status", "-h")) == "zh"
    no_language.chdir(team.root / "projects")  # found from a folder inside it, as a command finds it
    assert speaks(run("-h")) == "zh"
    config = team.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("locale: zh", "locale: en"), encoding="utf-8")
    git(team.root, "commit", "-qam", "locale: en")
    no_language.setenv("LANG", "zh_CN.UTF-8")
    assert speaks(run(*here, "-h")) == "en"  # a workspace in English, on a Chinese system
    no_language.setenv("XMFLOW_LANG", "zh")
    assert speaks(run(*here, "-h")) == "zh"  # XMFLOW_LANG beats the workspace
    assert speaks(run("--lang", "en", *here, "-h")) == "en"  # --lang beats XMFLOW_LANG
    assert speaks(run(*here, "--lang", "en", "-h")) == "en"


def test_a_new_workspace_speaks_chinese(tmp_path: Path, no_language: pytest.MonkeyPatch) -> None:
    no_language.setenv("LANG", "en_US.UTF-8")  # even on an English system
    no_language.setenv("GIT_AUTHOR_EMAIL", "wangjg@example.com")
    made = run("--lang", "en", "init", str(tmp_path / "ws"), "--company", "测试公司")
    assert made.exit_code == 0 and "workspace ready in" in made.stdout, made.output
    assert "locale: zh" in (tmp_path / "ws" / "xmflow.yaml").read_text(encoding="utf-8")
    shown = run("-C", str(tmp_path / "ws"), "process", "show", env=WIDE)
    assert shown.exit_code == 0 and "步骤" in shown.stdout and "适用条件" in shown.stdout, shown.output
    said = run("-C", str(tmp_path / "ws"), "status", env=WIDE)
    assert said.exit_code == 0 and said.stdout.strip() == "（无）", said.output
    again = run("--lang", "zh", "init", str(tmp_path / "ws" / "xmflow.yaml"))
    assert again.exit_code == 2 and "是文件，不是文件夹" in again.output


# -- tables, values and people ------------------------------------------------------------------
def test_table_headers_follow_the_language(team: Team) -> None:
    pid = open_project(team)
    zh = team.ok("wangjg", "--lang", "zh", "status", "--as-of", "2026-09-02", env=WIDE).stdout
    assert all(word in zh for word in ("项目", "名称", "下一步", "待谁处理", "等待(天)", "各阶段项目数"))
    en = team.ok("wangjg", "--lang", "en", "status", "--as-of", "2026-09-02", env=WIDE).stdout
    assert all(word in en for word in ("project", "next step", "waiting on", "days waiting", "projects by stage"))
    assert "下一步" not in en and "next step" not in zh
    report = team.ok("wangjg", "--lang", "zh", "status", pid, env=WIDE).stdout
    assert all(word in report for word in ("步骤", "标题", "条款", "状态", "签署 / 待签", "已签", "不适用", "未就绪"))
    report = team.ok("wangjg", "--lang", "en", "status", pid, env=WIDE).stdout
    assert all(word in report for word in ("step", "title", "clause", "state", "signed", "skipped", "blocked"))
    log = team.ok("wangjg", "--lang", "zh", "log", pid).stdout.splitlines()
    assert log[0].split("\t") == ["时间", "项目", "步骤", "决定", "经办人", "角色", "说明", "等待(天)", "提交"]
    assert "\t同意\t张三\t销售\t" in "\n".join(log)
    log = team.ok("wangjg", "--lang", "en", "log", pid).stdout.splitlines()
    assert log[0].split("\t")[:4] == [
        "time",
        "project",
        "step",
        "decision",
    ] and "\tapprove\t张三\tsales\t" in "\n".join(log)
    process = team.ok("wangjg", "--lang", "en", "process", "show", env=WIDE).stdout
    assert "revisions" in process and "prepared by" in process and "修订记录" not in process
    process = team.ok("wangjg", "--lang", "zh", "process", "show", env=WIDE).stdout
    assert "修订记录" in process and "编制" in process


def test_status_shows_people_by_name_with_their_role(team: Team) -> None:
    """Issue 11: `status PROJECT` shows 张三（销售）, not zhangsan; a reject by its signer's name."""
    pid = open_project(team)
    draft_contract(team, pid)
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review", "--reject", "-m", "违约责任未设上限")
    zh = team.ok("wangjg", "--lang", "zh", "status", pid, env=WIDE).stdout
    assert "张三（销售）" in zh and "赵六（部门主管）退回：违约责任未设上限" in zh and "→ 部门主管" in zh
    en = team.ok("wangjg", "--lang", "en", "status", pid, env=WIDE).stdout
    assert "张三 (sales)" in en and "rejected by 赵六 (department supervisor): 违约责任未设上限" in en
    for text in (zh, en):
        assert "zhangsan" not in text and "zhaoliu" not in text and "sales_supervisor" not in text
        assert "True" not in text and "None" not in text
    loop = [
        line for line in team.ok("wangjg", "--lang", "zh", "log", pid).stdout.splitlines() if line.startswith("退回")
    ]
    assert loop and "赵六" in loop[0] and "“违约责任未设上限”" in loop[0]


def test_a_client_signature_shows_the_signatory_and_who_recorded_it(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    sign_contract(team, pid)
    zh = team.ok("wangjg", "--lang", "zh", "status", pid, env=WIDE).stdout
    assert "刘经理 ← 张三（甲方）" in zh
    en = team.ok("wangjg", "--lang", "en", "status", pid, env=WIDE).stdout
    assert "刘经理 ← 张三 (client)" in en


def test_show_says_yes_no_and_dash_never_python_words(team: Team) -> None:
    pid = open_project(team)
    zh = team.ok("wangjg", "--lang", "zh", "show", pid, env=WIDE).stdout.splitlines()[0]
    assert "重点: 否" in zh and "保修截止: —" in zh and "合同金额: —" in zh
    en = team.ok("wangjg", "--lang", "en", "show", pid, env=WIDE).stdout.splitlines()[0]
    assert "key: no" in en and "warranty ends: —" in en
    for line in (zh, en):
        assert "True" not in line and "False" not in line and "None" not in line


# -- the CSV ---------------------------------------------------------------------------------------
def test_ar_csv_is_utf8_with_a_bom_and_its_headers_follow_the_language(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    sign_contract(team, pid)
    team.ok("zhangsan", "invoice", pid, "10万", "--number", "FP-1")
    zh = team.ok("wangjg", "--lang", "zh", "ar", "--as-of", "2026-09-10", "--csv").stdout_bytes
    assert zh.startswith(b"\xef\xbb\xbf")  # UTF-8's byte order mark: Excel then reads UTF-8, not GBK
    rows = list(csv.reader(io.StringIO(zh.decode("utf-8-sig"))))
    assert rows[0] == [
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
    assert rows[1][:4] == [pid, "测试项目", "甲方公司", "张三"] and rows[-1][1] == "合计"
    en = team.ok("wangjg", "--lang", "en", "ar", "--as-of", "2026-09-10", "--csv").stdout_bytes
    assert en.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(en.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "project",
        "name",
        "client",
        "salesperson",
        "contract",
        "due",
        "invoiced",
        "received",
        "outstanding",
        "not_due",
        "0-30",
        "31-60",
        "61-90",
        "90+",
    ]
    assert rows[0]["salesperson"] == "张三" and rows[0]["invoiced"] == "100000.00" and rows[-1]["name"] == "total"

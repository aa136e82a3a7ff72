"""The procedure's refusals and the changes' summaries in both languages (issue 11, Language): a
Chinese message keeps its step ids, field paths, clause numbers and the `xmflow sign …` command
verbatim, and names steps by their Chinese titles; the English one is as it always was, with the
steps' English titles."""

from __future__ import annotations

import re

import pytest
from conftest import EMAILS, TERMS, Team, git, open_project, refused

from xmflow import i18n
from xmflow.changes import actions
from xmflow.changes.session import Session
from xmflow.clock import fixed_time
from xmflow.procedure import parser
from xmflow.records.workspace import Workspace

PROCESS = parser.load(None)
HAN = re.compile(r"[\u4e00-\u9fff]")


def drafted(team: Team, lang: str) -> str:
    """A project whose contract is drafted, not yet self-reviewed."""
    pid = open_project(team)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "contract.number=HT-1",
        "contract.template=company",
        "contract.amount=30万",
        f"contract.payment_terms={TERMS}",
        "contract.warranty_months=12",
        "contract.delivery_date=2026-12-01",
        "contract.core_principles={pricing: true, payment: false}",
    )
    team.ok("zhangsan", "--lang", lang, "sign", pid, "contract.draft")
    return pid


def test_a_sign_refusal_in_chinese_keeps_step_ids_clause_numbers_and_the_command(team: Team) -> None:
    pid = drafted(team, "zh")
    said = refused(team, "zhaoliu", "--lang", "zh", "sign", pid, "contract.supervisor_review")
    title = PROCESS.step("contract.self_review").title
    assert f"无法为项目 {pid} 签署 contract.supervisor_review：" in said
    assert f"需要先签署 contract.self_review（{title}）：xmflow sign {pid} contract.self_review" in said
    assert "3.5.1" in said and "needs" not in said and "signed first" not in said
    said = refused(team, "zhangsan", "--lang", "zh", "sign", pid, "contract.self_review")
    assert "contract.core_principles 未全部勾选：payment、delivery、warranty、liability 须为“是”" in said
    assert "3.5.1" in said


def test_who_may_sign_is_said_in_chinese_with_the_roles_titles(team: Team) -> None:
    pid = open_project(team)  # zhangsan's
    said = refused(team, "lisi", "--lang", "zh", "sign", pid, "contract.draft")
    assert "李四（lisi） 不能签署 contract.draft（条款 3.4.1–3.4.2）" in said
    assert (
        "：需要在 people.yaml 中有角色 销售（sales），且须列在 initiation.sales 或 initiation.team.members 中" in said
    )  # the role named once, not "sales needs the role sales"
    said = refused(team, "zhangsan", "--lang", "zh", "sign", pid, "contract.draft", "--role", "vp", code=2)
    assert "contract.draft 由 销售（sales） 签署，不是 vp" in said


def test_a_set_refusal_in_chinese(team: Team) -> None:
    pid = open_project(team)
    submit = PROCESS.step("initiation.submit")
    said = refused(team, "zhangsan", "--lang", "zh", "set", pid, "initiation.name=", code=2)
    assert f"initiation.name：不能清空，initiation.submit（{submit.title}）需要它（条款 3.1.1）：请改填正确的值" in said
    said = refused(team, "zhangsan", "--lang", "zh", "set", pid, "contract.amout=1万", code=2)
    assert "contract.amout：没有这个字段（是不是 amount？）" in said
    said = refused(team, "zhangsan", "--lang", "zh", "set", pid, "contract.amount", code=2)
    assert "'contract.amount'" in said or "“contract.amount”" in said
    assert "请写成 字段=值，例如 contract.amount=150万" in said


def opened(team: Team, lang: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """What `new` tells its caller it did (the command line prints the id alone, for scripts)."""
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", EMAILS["zhangsan"])
    i18n.use(lang)
    try:
        with fixed_time(team.clock), Session.start(Workspace.find(team.root)) as session:
            return actions.new_project(session, "二号项目", "乙方公司", "20万").summary
    finally:
        i18n.use("en")


def test_new_and_set_and_sign_say_what_they_did_in_chinese(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    made = team.ok("zhangsan", "--lang", "zh", "new", "一号项目", "--client", "甲方公司", "--budget", "20万").stdout
    assert made == "2026-001\n"
    assert opened(team, "zh", monkeypatch) == "已立项 2026-002 二号项目，销售：张三（zhangsan）"
    done = team.ok(
        "zhangsan", "--lang", "zh", "set", "2026-001", "initiation.client.contact=刘经理", "initiation.phase=跟踪"
    ).stdout
    assert done.startswith("2026-001：已设置 initiation.client.contact、initiation.phase [")
    signed = team.ok("zhangsan", "--lang", "zh", "sign", "2026-001", "initiation.submit").stdout
    assert signed.startswith("initiation.submit：张三（zhangsan） 以 销售（sales） 身份同意 [")
    assert git(team.root, "log", "-2", "--format=%s").splitlines() == [  # the commits stay as they are
        "2026-001 initiation.submit: zhangsan signs as sales",
        "2026-001 set initiation.client.contact, initiation.phase",
    ]


@pytest.mark.parametrize("lang", ["en", None])
def test_the_same_in_english(team: Team, lang: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """--lang en (and the tests' XMFLOW_LANG=en) says it all in English, with the steps' English titles."""
    chosen = ("--lang", lang) if lang else ()
    made = team.ok("zhangsan", *chosen, "new", "一号项目", "--client", "甲方公司", "--budget", "20万").stdout
    assert made == "2026-001\n"
    assert opened(team, "en", monkeypatch) == "opened 2026-002 二号项目 for 张三 (zhangsan)"
    done = team.ok("zhangsan", *chosen, "set", "2026-001", "initiation.client.contact=刘经理").stdout
    assert done.startswith("2026-001 set initiation.client.contact [")
    team.ok("zhangsan", "set", "2026-001", "initiation.client.contact=刘经理", "initiation.phase=跟踪")
    team.ok("zhangsan", "sign", "2026-001", "initiation.submit")
    submit = PROCESS.step("initiation.submit")
    said = refused(team, "zhangsan", *chosen, "set", "2026-001", "initiation.name=", code=2)
    assert (
        f"initiation.name: it cannot be emptied, initiation.submit ({submit.title_en}) needs it (clause 3.1.1): "
        "give the right value instead" in said
    )
    pid = "2026-001"
    team.ok(
        "zhangsan",
        "set",
        pid,
        "contract.number=HT-1",
        "contract.template=company",
        "contract.amount=30万",
        f"contract.payment_terms={TERMS}",
        "contract.warranty_months=12",
        "contract.delivery_date=2026-12-01",
        "contract.core_principles={pricing: true, payment: false}",
    )
    signed = team.ok("zhangsan", *chosen, "sign", pid, "contract.draft").stdout
    assert signed.startswith("contract.draft approve by 张三 (zhangsan) as sales [")
    said = refused(team, "zhaoliu", *chosen, "sign", pid, "contract.supervisor_review")
    review = PROCESS.step("contract.self_review")
    assert f"cannot sign contract.supervisor_review for {pid}:" in said
    assert (
        f"needs contract.self_review ({review.title_en}) signed first: xmflow sign {pid} contract.self_review" in said
    )
    said = refused(team, "lisi", *chosen, "sign", pid, "contract.self_review")
    assert (
        "李四 (lisi) may not sign contract.self_review (clause 3.5.1): needs the role sales in "
        "people.yaml and must be named in initiation.sales or initiation.team.members" in said
    )
    assert not HAN.search(said.replace("李四", "")), said

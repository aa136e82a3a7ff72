"""Records, settings and values in both languages (issue 11, Language): what a bad value, a
malformed stage file or settings file, or a wrong path is said in Chinese keeps its file name, line
number, field path and the value as typed verbatim, in Chinese quotes; the English is as it always was.
Values in messages are quoted, never shown as Python writes them (``['text']``, ``True``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Team, open_project, refused

from xmflow import i18n
from xmflow.model import Person, Problem
from xmflow.procedure.conditions import parse_condition
from xmflow.procedure.schema import FieldError, FieldType, convert
from xmflow.records.settings import CONFIG_TYPE
from xmflow.values import brief, parse_date, parse_money

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def english_after():
    """A command leaves the language it chose in place: the tests after this one read English."""
    i18n.use("en")
    yield
    i18n.use("en")


@pytest.fixture
def chinese():
    """Speak Chinese for a test that calls the library directly (a command chooses for itself)."""
    i18n.use("zh")


def test_a_bad_date_in_set_is_said_in_chinese_with_its_field_path_and_value(team: Team) -> None:
    pid = open_project(team)
    zh = refused(team, "zhangsan", "--lang", "zh", "set", pid, "contract.delivery_date=2026-02-30", code=2)
    assert "contract.delivery_date" in zh and "应为日期" in zh and "“2026-02-30” 不是日期：日期超出了该月的天数" in zh
    zh = refused(team, "zhangsan", "--lang", "zh", "set", pid, "contract.delivery_date=明天", code=2)
    assert "“明天” 不是日期（可写 2026-12-20、2026/12/20、2026.12.20 或 2026年12月20日）" in zh
    en = refused(team, "zhangsan", "--lang", "en", "set", pid, "contract.delivery_date=2026-02-30", code=2)
    assert "contract.delivery_date: must be a date: '2026-02-30' is not a date: day is out of range for month" in en
    assert not HAN.search(en.replace("2026年12月20日", ""))


def test_a_bad_amount_and_a_bad_choice_in_set_are_said_in_chinese(team: Team) -> None:
    pid = open_project(team)
    zh = refused(team, "zhangsan", "--lang", "zh", "set", pid, "contract.amount=TBD", code=2)
    assert "contract.amount" in zh and "应为金额：“TBD” 不是金额（例如 1500000、1,500,000.00、150万、1.5亿）" in zh
    zh = refused(team, "zhangsan", "--lang", "zh", "set", pid, "initiation.phase=立项", code=2)
    assert "initiation.phase" in zh and "应为接触/咨询/跟踪 之一（填的是 “立项”）" in zh
    en = refused(team, "zhangsan", "--lang", "en", "set", pid, "initiation.phase=立项", code=2)
    assert "initiation.phase: must be one of 接触/咨询/跟踪 (got '立项')" in en


def test_a_malformed_stage_file_read_by_status_names_file_line_and_field_in_chinese(team: Team) -> None:
    pid = open_project(team)
    (team.root / "projects" / pid / "contract.yaml").write_text("notes: 备注\namount: 很多\n", encoding="utf-8")
    zh = refused(team, "wangjg", "--lang", "zh", "status", pid, code=2, dirty=True)
    assert f"projects/{pid}/contract.yaml:2: contract.amount：应为金额：“很多” 不是金额" in zh
    en = refused(team, "wangjg", "--lang", "en", "status", pid, code=2, dirty=True)
    assert f"projects/{pid}/contract.yaml:2: contract.amount: must be an amount of money: '很多' is not an amount" in en


def test_a_stage_file_that_is_not_yaml_is_named_in_the_chinese_portfolio(team: Team) -> None:
    pid = open_project(team)
    (team.root / "projects" / pid / "contract.yaml").write_text("notes: [a\n", encoding="utf-8")
    # the others are listed, and the exit says one is not
    zh = refused(team, "wangjg", "--lang", "zh", "status", code=2, dirty=True)
    assert f"projects/{pid}/contract.yaml:2: 不是有效的 YAML：没有找到应有的“,”或“]”" in zh
    en = refused(team, "wangjg", "--lang", "en", "status", code=2, dirty=True)
    assert f"projects/{pid}/contract.yaml:2: not valid YAML: did not find expected ',' or ']'" in en


def test_a_sign_off_without_its_step_is_said_in_chinese(team: Team) -> None:
    pid = open_project(team)
    path = team.root / "projects" / pid / "project.yaml"
    text = re.sub(r"(?m)^(\s*)- step: initiation\.submit\n\s*", r"\1- ", path.read_text(encoding="utf-8"))
    assert "initiation.submit" not in text
    path.write_text(text, encoding="utf-8")
    zh = refused(team, "wangjg", "--lang", "zh", "status", pid, code=2, dirty=True)
    assert f"projects/{pid}/project.yaml:" in zh and "第 1 条签署记录缺少 `step`" in zh
    assert "sign-off 1 has no `step`" in refused(team, "wangjg", "--lang", "en", "status", pid, code=2, dirty=True)


def test_a_bad_xmflow_yaml_is_said_in_chinese_with_its_line_and_setting(team: Team) -> None:
    config = team.root / "xmflow.yaml"
    config.write_text("company: 测试公司\nkey_threshold: 一百万\n", encoding="utf-8")
    zh = refused(team, "wangjg", "--lang", "zh", "status", code=2, dirty=True)
    assert "xmflow.yaml:2: key_threshold：应为金额：“一百万” 不是金额" in zh
    en = refused(team, "wangjg", "--lang", "en", "status", code=2, dirty=True)
    assert "xmflow.yaml:2: key_threshold: must be an amount of money: '一百万' is not an amount of money" in en
    config.write_text("company: 测试公司\nrequire_signed_commits: 也许\n", encoding="utf-8")
    zh = refused(team, "wangjg", "--lang", "zh", "status", code=2, dirty=True)
    assert "xmflow.yaml:2: require_signed_commits：应为是或否：“也许” 不是 是/否、true/false、yes/no 之一" in zh
    config.write_text("company: A\ncompany: B\n", encoding="utf-8")
    message = refused(team, "wangjg", "--lang", "zh", "status", code=2, dirty=True)
    assert "xmflow.yaml:2: 字段 “company” 出现了两次" in message
    message = refused(team, "wangjg", "--lang", "en", "status", code=2, dirty=True)
    assert "xmflow.yaml:2: field 'company' appears twice" in message
    config.write_text("company: A\nprocess: ../p.yaml\n", encoding="utf-8")
    zh = refused(team, "wangjg", "--lang", "zh", "status", code=2, dirty=True)
    assert "xmflow.yaml:2: process：“../p.yaml” 必须是工作区内的文件（不能含 ..，不能在 .git 中）" in zh


def test_a_bad_people_yaml_is_said_in_chinese(team: Team) -> None:
    people = team.root / "people.yaml"
    text = people.read_text(encoding="utf-8")
    people.write_text(text.replace("roles: [sales]", "roles: [salse]", 1), encoding="utf-8")
    zh = refused(team, "wangjg", "--lang", "zh", "status", code=2, dirty=True)
    assert re.search(r"people\.yaml:\d+: 未知角色 “salse”（已有角色：.*sales", zh), zh
    en = refused(team, "wangjg", "--lang", "en", "status", code=2, dirty=True)
    assert re.search(r"people\.yaml:\d+: unknown role 'salse' \(known: .*sales", en), en


def test_a_bad_process_file_is_said_in_chinese(team: Team) -> None:
    (team.root / "p.yaml").write_text("name: 流程\nroles: {sales: {title: 销售}}\nstages: 1\n", encoding="utf-8")
    (team.root / "xmflow.yaml").write_text("company: 测试公司\nprocess: p.yaml\n", encoding="utf-8")
    assert "p.yaml:3: `stages` 必须是列表" in refused(team, "wangjg", "--lang", "zh", "status", code=2, dirty=True)
    assert "p.yaml:3: `stages` must be a list" in refused(team, "wangjg", "--lang", "en", "status", code=2, dirty=True)


def test_a_missing_project_a_folder_for_a_file_and_a_bad_amount_are_said_in_chinese(team: Team, tmp_path: Path) -> None:
    pid = open_project(team)
    message = refused(team, "wangjg", "--lang", "zh", "status", "2099-001", code=2)
    assert f"没有项目 “2099-001”（现有项目：{pid}）" in message
    message = refused(team, "wangjg", "--lang", "en", "status", "2099-001", code=2)
    assert f"no project '2099-001' (projects: {pid})" in message
    zh = refused(team, "wangjg", "--lang", "zh", "render", pid, "form2", "-o", str(tmp_path), code=2)
    assert f"-o {tmp_path}：是文件夹；请指定其中的一个文件，例如 -o {tmp_path}/" in zh
    zh = refused(team, "zhangsan", "--lang", "zh", "invoice", pid, "abc", "--number", "FP-1", code=2)
    assert "AMOUNT（金额）：“abc” 不是金额" in zh
    zh = refused(team, "zhangsan", "--lang", "zh", "invoice", pid, "0", "--number", "FP-1", code=2)
    assert "AMOUNT（金额）必须大于零（填的是 ¥0.00）" in zh
    message = refused(team, "zhangsan", "--lang", "en", "invoice", pid, "0", "--number", "FP-1", code=2)
    assert "AMOUNT must be more than zero (got ¥0.00)" in message


def test_someone_not_in_people_yaml_is_told_in_chinese(team: Team) -> None:
    pid = open_project(team)
    zh = refused(team, "stranger", "--lang", "zh", "set", pid, "contract.notes=x", code=1)
    assert "stranger@example.org 不在 people.yaml 中：你可以查看，但不能修改任何内容" in zh
    assert "git config user.email YOUR@EMAIL" in zh


# -- the library's words, as messages use them --------------------------------------------------


def test_type_descriptions_follow_the_language(chinese) -> None:
    assert FieldType("bool").describe() == "是或否"
    assert FieldType("date").describe() == "日期"
    assert FieldType("money").describe() == "金额"
    assert FieldType("list", item=FieldType("date")).describe() == "由日期组成的列表"
    assert CONFIG_TYPE.fields["process"].describe() == "文件路径"
    with pytest.raises(FieldError) as info:
        convert(FieldType("text"), ["a"])
    assert info.value.message == "应为文本，而不是列表"
    i18n.use("en")
    assert FieldType("bool").describe() == "是 or 否" and FieldType("money").describe() == "an amount of money"
    assert CONFIG_TYPE.fields["process"].describe() == "a file's path"


def test_value_errors_follow_the_language(chinese) -> None:
    with pytest.raises(ValueError, match="^“1,50,000” 的千位分隔符位置不对$"):
        parse_money("1,50,000")
    with pytest.raises(ValueError, match="^“2026-13-01” 不是日期：月份必须在 1..12 之间$"):
        parse_date("2026-13-01")
    assert brief("x" * 50) == "“" + "x" * 40 + "”……（共 50 个字符）"


def test_a_quoted_value_is_never_a_python_repr() -> None:
    """Plain quotes, a control character as its escape; a list as YAML writes it, not as Python does."""
    assert brief("it's") == "'it's'" and brief("a\x1b[31m") == "'a\\x1b[31m'"
    with pytest.raises(ValueError) as info:
        parse_condition({"any": ["a.b"], "x": 1}, set())
    assert "not a condition: '{any: [a.b], x: 1}'" in str(info.value) and "['a.b']" not in str(info.value)


def test_conditions_people_and_problems_are_said_in_the_language_json_keeps_english(chinese) -> None:
    cond = parse_condition({"any": ["installation.on_site", {"not": {"signed": "contract.draft"}}]}, set())
    assert cond.describe() == "(installation.on_site 或 非 contract.draft 已签署)"
    assert cond.describe(str) == "(installation.on_site or not contract.draft signed)"
    assert parse_condition(None, set()).describe() == "始终" and parse_condition(None, set()).describe(str) == "always"
    assert Person("zhangsan", "张三", "z@example.com", frozenset()).label() == "张三（zhangsan）"
    assert str(Problem("contract.draft", "缺少字段", "3.4")) == "contract.draft: 缺少字段（条款 3.4）"


def test_process_show_json_keeps_its_conditions_in_english(team: Team) -> None:
    zh = team.json("wangjg", "--lang", "zh", "process", "show")
    en = team.json("wangjg", "--lang", "en", "process", "show")
    assert zh == en
    assert {s["when"] for s in zh["stages"]} >= {"always"}

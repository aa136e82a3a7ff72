"""The workspace: settings, people, project ids and finding the root (no git needed)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xmflow.errors import RecordError, UsageError
from xmflow.model import Config, Person
from xmflow.records import workspace

ROLES = {"sales", "sales_supervisor", "gm", "admin"}


def config_error(text: str) -> str:
    with pytest.raises(RecordError) as info:
        workspace.parse_config(text)
    assert info.value.exit_code == 2
    return info.value.message


def people_error(text: str) -> str:
    with pytest.raises(RecordError) as info:
        workspace.parse_people(text, ROLES)
    assert info.value.exit_code == 2
    return info.value.message


# --- xmflow.yaml ------------------------------------------------------------------------------


def test_parse_config_defaults() -> None:
    config = workspace.parse_config("company: 厦门某某科技有限公司\n")
    assert config == Config(
        company="厦门某某科技有限公司",
        currency="CNY",
        key_threshold=Decimal("1000000.00"),
        locale="zh",
        process=None,
        require_signed_commits=False,
    )
    assert str(config.key_threshold) == "1000000.00"


def test_parse_config_of_an_empty_file_has_every_default() -> None:
    config = workspace.parse_config("")
    assert (config.company, config.currency, config.key_threshold, config.locale) == (
        "",
        "CNY",
        Decimal("1000000.00"),
        "zh",
    )
    assert config.process is None and config.require_signed_commits is False


def test_parse_config_reads_every_setting() -> None:
    config = workspace.parse_config(
        "company: X\ncurrency: CNY\nkey_threshold: 150万\nlocale: en\n"
        "process: process.yaml\nrequire_signed_commits: true\n"
    )
    assert config == Config("X", "CNY", Decimal("1500000.00"), "en", "process.yaml", True)
    assert config.setting("key_threshold") == Decimal("1500000.00")


def test_parse_config_unknown_setting_names_the_line() -> None:
    message = config_error("company: X\nlocale: zh\ncolour: red\n")
    assert message.startswith(
        "xmflow.yaml:3: colour: unknown field 'colour' (known: company, currency, key_threshold, "
    )


@pytest.mark.parametrize("locale", ["fr", "zh-CN", "ZH"])
def test_parse_config_bad_locale(locale: str) -> None:
    assert (
        config_error(f"company: X\nlocale: {locale}\n")
        == f"xmflow.yaml:2: locale: must be one of zh/en (got {locale!r})"
    )


def test_parse_config_bad_threshold() -> None:
    message = config_error("company: X\n\nkey_threshold: 一百万\n")
    assert message.startswith(
        "xmflow.yaml:3: key_threshold: must be an amount of money: '一百万' is not an amount of money"
    )


def test_parse_config_bad_signed_commits_flag() -> None:
    assert (
        config_error("require_signed_commits: maybe\n")
        == "xmflow.yaml:1: require_signed_commits: must be 是 or 否: 'maybe' is not one of 是/否, true/false, yes/no"
    )


def test_parse_config_must_be_a_mapping() -> None:
    assert config_error("- company\n") == "xmflow.yaml:1: must be a mapping of settings, not a list"


def test_parse_config_duplicate_setting() -> None:
    assert config_error("company: A\ncompany: B\n") == "xmflow.yaml:2: field 'company' appears twice"


# --- people.yaml ------------------------------------------------------------------------------

PEOPLE = """\
people:
  - id: zhangsan
    name: 张三
    email: zhangsan@example.com
    roles: [sales]
  - id: lisi
    name: 李四
    email: lisi@example.com
    roles: [sales_supervisor, admin]
    signing_key: ssh-ed25519 AAAAC3Nz lisi
"""


def test_parse_people() -> None:
    people = workspace.parse_people(PEOPLE, ROLES)
    assert people.persons == (
        Person("zhangsan", "张三", "zhangsan@example.com", frozenset({"sales"})),
        Person(
            "lisi", "李四", "lisi@example.com", frozenset({"sales_supervisor", "admin"}), "ssh-ed25519 AAAAC3Nz lisi"
        ),
    )
    assert people.by_email("LISI@example.com ").id == "lisi"
    assert people.by_id("zhangsan").name == "张三"
    assert [p.id for p in people.persons if "admin" in p.roles] == ["lisi"]


def test_parse_people_of_an_empty_file_is_nobody() -> None:
    assert workspace.parse_people("", ROLES).persons == ()
    assert workspace.parse_people("people:\n", ROLES).persons == ()


def test_parse_people_unknown_key_names_the_line() -> None:
    text = PEOPLE.replace("    roles: [sales]\n", "    roles: [sales]\n    phone: 13800138000\n")
    assert (
        people_error(text)
        == "people.yaml:6: people.0.phone: unknown field 'phone' (known: id, name, email, roles, signing_key)"
    )


def test_parse_people_unknown_role_names_the_line() -> None:
    message = people_error(PEOPLE.replace("[sales_supervisor, admin]", "[sales_supervisor, boss]"))
    assert message == "people.yaml:9: unknown role 'boss' (known: admin, gm, sales, sales_supervisor)"


def test_parse_people_duplicate_id_names_the_second_person() -> None:
    message = people_error(PEOPLE.replace("id: lisi", "id: zhangsan"))
    assert message == "people.yaml:6: id 'zhangsan' or email 'lisi@example.com' appears twice"


def test_parse_people_duplicate_email_ignores_case() -> None:
    message = people_error(PEOPLE.replace("lisi@example.com", "ZhangSan@Example.com"))
    assert message == "people.yaml:6: id 'lisi' or email 'ZhangSan@Example.com' appears twice"


@pytest.mark.parametrize(
    ("key", "old", "new"),
    [
        ("id", "  - id: lisi\n    name: 李四\n", "  - name: 李四\n"),
        ("name", "    name: 李四\n", ""),
        ("email", "    email: lisi@example.com\n", ""),
        ("email", "lisi@example.com", "''"),
    ],
)
def test_parse_people_missing_key_names_the_person(key: str, old: str, new: str) -> None:
    assert old in PEOPLE
    assert people_error(PEOPLE.replace(old, new)) == f"people.yaml:6: person 2 has no `{key}`"


def test_parse_people_bad_id() -> None:
    assert (
        people_error(PEOPLE.replace("id: lisi", "id: li si"))
        == "people.yaml:6: id 'li si' may hold only letters, digits, - and _ (at most 64)"
    )


def test_parse_people_roles_must_be_a_list() -> None:
    assert (
        people_error(PEOPLE.replace("roles: [sales]", "roles: sales"))
        == "people.yaml:5: people.0.roles: must be a list, not 'sales'"
    )


def test_parse_people_needs_a_people_list() -> None:
    assert people_error("people: zhangsan\n") == "people.yaml: must have a `people:` list"
    assert (
        people_error("people:\n  - zhangsan\n")
        == "people.yaml:2: people.0: must be a mapping with id, name, email, roles, not 'zhangsan'"
    )


# --- project ids ------------------------------------------------------------------------------


def test_next_project_id_starts_at_001() -> None:
    assert workspace.next_project_id([], 2026) == "2026-001"


def test_next_project_id_increments_past_the_highest() -> None:
    assert workspace.next_project_id(["2026-001", "2026-007", "2026-003"], 2026) == "2026-008"


def test_next_project_id_ignores_other_years_and_custom_ids() -> None:
    existing = ["2025-010", "2025-011", "custom", "HT-2026-050", "2026-abc", "2026-009-old", "2026-002"]
    assert workspace.next_project_id(existing, 2026) == "2026-003"
    assert workspace.next_project_id(existing, 2025) == "2025-012"
    assert workspace.next_project_id(existing, 2027) == "2027-001"


def test_next_project_id_goes_past_999() -> None:
    assert workspace.next_project_id(["2026-999"], 2026) == "2026-1000"


@pytest.mark.parametrize(
    ("text", "valid"),
    [("2026-001", True), ("HT_2026-a", True), ("a b", False), ("../x", False), ("", False), ("项目", False)],
)
def test_valid_project_id(text: str, valid: bool) -> None:
    assert workspace.valid_project_id(text) is valid


# --- finding the workspace --------------------------------------------------------------------


def test_find_root_walks_upward(tmp_path: Path) -> None:
    (tmp_path / "xmflow.yaml").write_text("company: X\n", encoding="utf-8")
    deep = tmp_path / "projects" / "2026-001" / "files"
    deep.mkdir(parents=True)
    assert workspace.find_root(deep) == tmp_path.resolve()
    assert workspace.find_root(tmp_path) == tmp_path.resolve()


def test_find_root_takes_the_nearest_workspace(tmp_path: Path) -> None:
    (tmp_path / "xmflow.yaml").write_text("", encoding="utf-8")
    inner = tmp_path / "sub"
    (inner / "a").mkdir(parents=True)
    (inner / "xmflow.yaml").write_text("", encoding="utf-8")
    assert workspace.find_root(inner / "a") == inner.resolve()


def test_find_root_outside_a_workspace_is_a_usage_error(tmp_path: Path) -> None:
    assert not any((folder / "xmflow.yaml").exists() for folder in (tmp_path, *tmp_path.parents))
    (tmp_path / "xmflow.yaml").mkdir()  # a folder of that name does not count
    with pytest.raises(UsageError) as info:
        workspace.find_root(tmp_path)
    assert info.value.exit_code == 2
    assert info.value.message.startswith(f"no xmflow workspace here or above {tmp_path.resolve()} (no xmflow.yaml)")
    assert "xmflow init" in info.value.message


def test_workspace_reads_its_settings_and_people_lazily(tmp_path: Path) -> None:
    (tmp_path / "xmflow.yaml").write_text("company: 某公司\nkey_threshold: 200万\n", encoding="utf-8")
    (tmp_path / "people.yaml").write_text(PEOPLE.replace("admin]", "gm]"), encoding="utf-8")
    ws = workspace.Workspace.find(tmp_path)
    assert ws.root == tmp_path.resolve()
    assert ws.config.company == "某公司"
    assert ws.process.name == "营销项目作业控制程序"
    assert [p.id for p in ws.people.persons] == ["zhangsan", "lisi"]
    assert ws.project_ids() == []


def test_workspace_refuses_client_and_team_roles_in_people(tmp_path: Path) -> None:
    (tmp_path / "xmflow.yaml").write_text("company: X\n", encoding="utf-8")
    (tmp_path / "people.yaml").write_text(PEOPLE.replace("roles: [sales]", "roles: [client]"), encoding="utf-8")
    with pytest.raises(RecordError, match=r"^people\.yaml:5: unknown role 'client'"):
        _ = workspace.Workspace(tmp_path).people


def test_workspace_with_missing_people_file(tmp_path: Path) -> None:
    (tmp_path / "xmflow.yaml").write_text("company: X\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"^people\.yaml: missing"):
        _ = workspace.Workspace(tmp_path).people


def test_unknown_project_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "xmflow.yaml").write_text("company: X\n", encoding="utf-8")
    (tmp_path / "projects" / "2026-001").mkdir(parents=True)
    ws = workspace.Workspace(tmp_path)
    assert ws.project_ids() == ["2026-001"]
    with pytest.raises(UsageError, match=r"^no project '2026-002' \(projects: 2026-001\)$"):
        ws.project("2026-002")
    assert ws.project("2026-001").id == "2026-001"


# --- strictly typed settings and people (issue 9) ------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("process: [a]", "process: must be a file's path, not a list"),
        ("key_threshold: -1", "key_threshold: must not be negative (got -1)"),
        ("company: {a: b}", "company: must be text, not a mapping"),
        ("currency: [CNY]", "currency: must be text, not a list"),
        ("locale: [zh]", "locale: must be one of zh/en, not a list"),
        ("require_signed_commits: [true]", "require_signed_commits: must be 是 or 否, not a list"),
        ("max_backdate_days: -3", "max_backdate_days: must not be negative"),
        ("max_backdate_days: 1e3", "max_backdate_days: must be a whole number"),
        ("max_backdate_days: 100000", "max_backdate_days: at most 99999 days"),
        ('company: "星辰\\e[31m"', "company: has a control character (U+001B)"),
        ('company: "星辰\\n科技"', "company: must be a single line"),
        ("process: /dev/zero", "process: '/dev/zero' must be a path relative to the workspace"),
        ("process: ../shared/process.yaml", "process: '../shared/process.yaml' must name a file inside the workspace"),
        ("process: a/../../x.yaml", "must name a file inside the workspace"),
        ("process: .git/config", "must name a file inside the workspace"),
        ("process: 'C:\\x.yaml'", "must be a path relative to the workspace"),
        ("process: procs/", "must name a file inside the workspace"),
    ],
)
def test_parse_config_refuses_a_wrong_type_naming_the_line(setting: str, message: str) -> None:
    error = config_error(f"company: X\n{setting}\n".replace("company: X\ncompany", "company"))
    assert error.startswith(f"xmflow.yaml:{1 if setting.startswith('company') else 2}: ") and message in error


def test_parse_config_keeps_max_backdate_days_and_its_default() -> None:
    assert workspace.parse_config("company: X\n").max_backdate_days == 30
    assert workspace.parse_config("max_backdate_days: 7\n").max_backdate_days == 7
    assert workspace.parse_config("max_backdate_days: 0\n").max_backdate_days == 0


def test_parse_config_takes_a_process_in_a_folder_of_the_workspace() -> None:
    assert workspace.parse_config("process: procs/process.yaml\n").process == "procs/process.yaml"
    assert workspace.parse_config("key_threshold: 0\n").key_threshold == 0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("id: zhangsan", "id: [x]", "people.yaml:2: people.0.id: must be a person's id, not a list"),
        ("roles: [sales]", "roles: [[sales]]", "people.yaml:5: people.0.roles.0: must be a role name, not a list"),
        (
            "email: zhangsan@example.com",
            "email: [a]",
            "people.yaml:4: people.0.email: must be an email address, not a list",
        ),
        ("name: 张三", "name: {a: b}", "people.yaml:3: people.0.name: must be text, not a mapping"),
        (
            "signing_key: ssh-ed25519 AAAAC3Nz lisi",
            "signing_key: [x]",
            "people.yaml:10: people.1.signing_key: must be a public key on one line, not a list",
        ),
        (
            "signing_key: ssh-ed25519 AAAAC3Nz lisi",
            'signing_key: "ssh-ed25519 AAAA\\nevil@x namespaces=\\"git\\" k"',
            "people.yaml:10: people.1.signing_key: must be a single line",
        ),
        ("name: 张三", 'name: "\\e]0;pwned\\a张三"', "people.yaml:3: people.0.name: has a control character (U+001B)"),
        (
            "email: zhangsan@example.com",
            "email: zhang san@example.com",
            "people.yaml:4: email 'zhang san@example.com': an email address has no spaces",
        ),
        (
            "id: zhangsan",
            "id: " + "z" * 65,
            "people.yaml:2: id '" + "z" * 65 + "' may hold only letters, digits, - and _",
        ),
    ],
)
def test_parse_people_refuses_a_wrong_type_naming_the_line(old: str, new: str, message: str) -> None:
    assert old in PEOPLE
    assert people_error(PEOPLE.replace(old, new, 1)).startswith(message)


DELEGATING = PEOPLE + "delegations:\n  - {from: lisi, to: zhangsan, roles: [sales_supervisor], until: 2026-12-31}\n"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("from: lisi", "from: [x]", "delegations.0.from: must be a person's id, not a list"),
        ("to: zhangsan", "to: {a: b}", "delegations.0.to: must be a person's id, not a mapping"),
        (
            "roles: [sales_supervisor]",
            "roles: [[sales_supervisor]]",
            "delegations.0.roles.0: must be a role name, not a list",
        ),
        ("until: 2026-12-31", "until: [2026-12-31]", "delegations.0.until: must be a date, not a list"),
        (
            "until: 2026-12-31",
            "until: soon",
            "delegations.0.until: must be a date: 'soon' is not a date (2026-12-20, 2026/12/20, 2026.12.20 or 2026年12月20日)",  # noqa: E501
        ),
        (
            "until: 2026-12-31}",
            "until: 2026-12-31, since: {a: b}}",
            "delegations.0.since: must be a date, not a mapping",
        ),
    ],
)
def test_parse_people_refuses_a_delegation_of_the_wrong_type(old: str, new: str, message: str) -> None:
    assert people_error(DELEGATING.replace(old, new, 1)) == f"people.yaml:12: {message}"


def test_parse_people_delegations_must_be_a_list() -> None:
    assert people_error(PEOPLE + "delegations: lisi\n") == "people.yaml:11: delegations: must be a list, not 'lisi'"


def test_valid_project_id_bounds_the_length() -> None:
    assert workspace.valid_project_id("P" * 64)
    assert not workspace.valid_project_id("P" * 65)
    assert not workspace.valid_project_id("P" * 300)


def test_an_unknown_project_with_an_over_long_id_is_a_usage_error_not_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "xmflow.yaml").write_text("company: X\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"^no project 'PPPP"):
        workspace.Workspace(tmp_path).project("P" * 300)


def test_find_root_of_a_path_with_a_name_too_long_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot look for a workspace in .*File name too long"):
        workspace.find_root(tmp_path / ("a" * 300))

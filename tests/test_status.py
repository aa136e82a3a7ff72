"""`xmflow status` and `show`: where each project stands and who must act, for people and scripts."""

from __future__ import annotations

from conftest import Team, draft_contract, open_project


def test_portfolio_lists_each_project_with_its_next_step_and_who(team: Team) -> None:
    small = open_project(team)
    other = team.json("lisi", "new", "新项目", "--client", "乙公司", "--budget", "5万")["id"]
    rows = {r["id"]: r for r in team.json("wangjg", "status", "--as-of", "2026-09-11")}
    assert rows[small]["stage"] == "contract" and rows[small]["next"][0]["step"] == "contract.draft"
    assert rows[small]["next"][0]["people"] == ["zhangsan"] and rows[small]["sales_name"] == "张三"
    assert rows[other]["next"][0]["step"] == "initiation.submit"
    assert "initiation.client.contact is missing" in " ".join(rows[other]["next"][0]["missing"])
    assert rows[small]["waiting_days"] == 10  # since the last sign-off on 2026-09-01


def test_portfolio_table_in_a_terminal(team: Team) -> None:
    pid = open_project(team)
    text = team.ok("wangjg", "--lang", "zh", "status", "--as-of", "2026-09-02").stdout
    assert pid in text and "contract.draft" in text and "销售：张三" in text and "下一步" in text
    english = team.ok("wangjg", "--lang", "en", "status", "--as-of", "2026-09-02").stdout
    assert "next step" in english and "sales: 张三" in english


def test_filters_mine_role_key(team: Team) -> None:
    small = open_project(team)
    big = open_project(team, "150万", who="lisi")
    draft_contract(team, small)
    ids = lambda rows: [r["id"] for r in rows]
    assert ids(team.json("zhaoliu", "status", "--mine")) == [small]  # the supervisor's review waits on zhaoliu
    assert ids(team.json("lisi", "status", "--mine")) == [big]
    assert ids(team.json("wangjg", "status", "--role", "sales_supervisor")) == [small]
    assert ids(team.json("wangjg", "status", "--key")) == [big]
    assert team("wangjg", "status", "--role", "boss").exit_code == 2


def test_1_4_overdue_milestones_of_key_projects(team: Team) -> None:
    pid = open_project(team, "150万")
    team.ok(
        "zhangsan", "set", pid, "plan.milestones=[{name: 样机评审, due: 2026-09-25}, {name: 合同签订, due: 2026-10-15}]"
    )
    assert [r["id"] for r in team.json("wangjg", "status", "--overdue", "--as-of", "2026-09-20")] == []
    rows = team.json("wangjg", "status", "--overdue", "--as-of", "2026-09-30")
    assert [m["name"] for m in rows[0]["overdue_milestones"]] == ["样机评审"]
    team.ok("zhangsan", "set", pid, "plan.milestones.0.done=2026-09-24", at=team.on("2026-09-24"))
    assert team.json("wangjg", "status", "--overdue", "--as-of", "2026-09-30") == []


def test_one_project_shows_every_step_signed_waiting_or_skipped(team: Team) -> None:
    pid = open_project(team)
    report = team.status(pid)
    states = {s["step"]: s["state"] for s in report["steps"]}
    assert states["initiation.submit"] == "signed"
    assert states["plan.draft"] == "skipped"
    assert states["contract.draft"] == "blocked"
    draft = next(s for s in report["steps"] if s["step"] == "contract.draft")
    assert "contract.number is missing" in draft["missing"][0]
    assert report["steps"][0]["signed"][0]["by"] == "zhangsan"
    text = team.ok("wangjg", "--lang", "zh", "status", pid, env={"COLUMNS": "250"}).stdout
    assert "已签" in text and "不适用" in text and "contract.number" in text


def test_show_gives_records_and_derived_values(team: Team) -> None:
    pid = open_project(team, "150万")
    shown = team.json("wangjg", "show", pid)
    assert shown["key"] is True and shown["id"] == pid
    assert shown["stages"]["initiation"]["data"]["budget"] == "1500000.00"
    assert shown["stages"]["initiation"]["signoffs"][0]["step"] == "initiation.submit"
    text = team.ok("wangjg", "show", pid, "initiation").stdout
    assert "budget: 1500000.00" in text and "## contract" not in text
    assert "client:" in text and "刘经理" in text
    assert team("wangjg", "show", pid, "nosuchstage").exit_code == 2


def test_reading_needs_no_identity(team: Team) -> None:
    pid = open_project(team)
    assert team("stranger", "status", pid).exit_code == 0
    assert team("stranger", "show", pid).exit_code == 0


def test_the_portfolio_cache_follows_every_change(team: Team) -> None:
    pid = open_project(team)
    first = team.json("wangjg", "status")
    assert list((team.root / ".git" / "xmflow").glob("records.*-*.pickle"))  # kept out of the work tree
    assert team.clean()
    path = team.root / "projects" / pid / "project.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: 测试项目", "name: 改名"), encoding="utf-8")
    second = team.json("wangjg", "status")
    assert first[0]["name"] == "测试项目" and second[0]["name"] == "改名"


def test_mine_needs_an_identity_in_people_yaml(team: Team) -> None:
    result = team("stranger", "status", "--mine")
    assert result.exit_code == 2 and "--mine" in result.output and "people.yaml" in result.output


def test_a_large_portfolio_draws_200_rows_in_a_terminal_and_a_line_each_when_piped(team: Team) -> None:
    import shutil

    from conftest import git

    pid = open_project(team)
    draft_contract(team, pid)  # the supervisor's review is next: due in 3 days
    for n in range(230):
        shutil.copytree(team.root / "projects" / pid, team.root / "projects" / f"bulk-{n:04d}")
    git(team.root, "add", "-A")
    git(team.root, "commit", "-qm", "many projects")
    piped = team.ok("wangjg", "--lang", "zh", "status", "--as-of", "2026-09-02").stdout.splitlines()
    assert piped[0].split("\t")[:2] == ["项目", "名称"] and len([x for x in piped if x.startswith("bulk-")]) == 230
    assert all(line.count("\t") == 10 for line in piped[:232])
    terminal = {"FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    drawn = team.ok("wangjg", "--lang", "zh", "status", "--as-of", "2026-09-02", env=terminal).stdout
    assert "bulk-0198" in drawn and "bulk-0199" not in drawn and "bulk-0229" not in drawn
    assert "共 231 个项目，上表列出前 200 个" in " ".join(drawn.split()) and "status --all" in drawn
    every = team.ok("wangjg", "--lang", "zh", "status", "--as-of", "2026-09-02", "--all", env=terminal).stdout
    assert "bulk-0229" in every and "上表列出前" not in every
    late = " ".join(team.ok("wangjg", "--lang", "zh", "status", "--as-of", "2026-12-31").stdout.split())
    assert "contract.supervisor_review — " in late and "231 个项目超时" in late and "bulk-0000, bulk-0001, …" in late


def test_status_warranty_shows_each_warranty_end_and_the_days_left_soonest_first(team: Team) -> None:
    """Issue 11: `status --warranty` lists the warranties ending within 60 days with their end."""
    later = team.json("zhangsan", "new", "保修项目", "--client", "甲方公司", "--budget", "5万")["id"]
    team.ok(
        "zhangsan",
        "set",
        later,
        "acceptance.accepted_date=2026-11-20",
        "contract.warranty_months=12",
        at=team.on("2026-11-20"),
    )
    sooner = team.json("lisi", "new", "另一项目", "--client", "乙公司", "--budget", "5万")["id"]
    team.ok(
        "lisi",
        "set",
        sooner,
        "acceptance.accepted_date=2026-11-10",
        "contract.warranty_months=12",
        at=team.on("2026-11-10"),
    )
    assert [r["id"] for r in team.json("wangjg", "status", "--warranty", "--as-of", "2027-10-01")] == [sooner, later]
    zh = team.ok("wangjg", "--lang", "zh", "status", "--warranty", "--as-of", "2027-10-01").stdout
    assert "保修截止" in zh and "剩余天数" in zh
    lines = [line for line in zh.splitlines() if sooner in line or later in line]
    assert sooner in lines[0] and "2027-11-10" in lines[0] and " 40 " in lines[0]
    assert later in lines[1] and "2027-11-20" in lines[1] and " 50 " in lines[1]
    en = team.ok("wangjg", "--lang", "en", "status", "--warranty", "--as-of", "2027-10-01").stdout
    assert "days left" in en and "2027-11-10" in en
    plain = team.ok("wangjg", "--lang", "en", "status", "--as-of", "2027-10-01").stdout
    assert "days left" not in plain  # without --warranty, the portfolio as it was

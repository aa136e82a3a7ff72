"""Delegation (转交/代签): people.yaml lets one person sign for another in given roles until a
date; `sign --on-behalf-of` records both, and `verify` checks the grant held at that commit."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from conftest import (
    Team,
    append_signoff,
    digest_now,
    draft_contract,
    git,
    hand_commit,
    module_team,
    open_project,
    refused,
    said,
    trailer_message,
)

STEP = "contract.supervisor_review"
TO_SUNBA = "  - {from: zhaoliu, to: sunba, roles: [sales_supervisor], until: 2026-09-30}\n"
TO_ZHANGSAN = "  - {from: zhaoliu, to: zhangsan, roles: [sales_supervisor], until: 2026-12-31}\n"
WIDE = {"COLUMNS": "400"}  # a refusal's message on one line


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime, str]:
    """zhangsan's project, its contract waiting on the supervisor (zhaoliu); no delegation yet."""
    with module_team(tmp_path_factory, "delegation") as team:
        pid = open_project(team)
        draft_contract(team, pid)
        return team.root, team.clock, pid


@pytest.fixture
def team(base: tuple[Path, datetime, str], tmp_path: Path) -> Team:
    """Here `team` is a private copy of the base workspace (faster than making one each time)."""
    root, clock, _ = base
    shutil.copytree(root, tmp_path / "ws", symlinks=True)
    return Team(tmp_path / "ws", clock=clock)


@pytest.fixture
def pid(base: tuple[Path, datetime, str]) -> str:
    return base[2]


def delegate(team: Team, *grants: str, who: str = "wangjg") -> str:
    """The admin adds delegations to people.yaml and commits them, with plain git."""
    people = team.root / "people.yaml"
    text = people.read_text(encoding="utf-8")
    if "delegations:" not in text:
        text += "delegations:\n"
    people.write_text(text + "".join(grants), encoding="utf-8")
    return hand_commit(team, who, "people: delegations")


def trailers(team: Team) -> dict[str, str]:
    """The last commit's trailers, as git itself parses them."""
    message = git(team.root, "log", "-1", "--format=%B")
    out = subprocess.run(
        ["git", "-C", str(team.root), "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split(": ", 1) for line in out.splitlines() if line)


def test_delegation_sunba_signs_for_zhaoliu_and_it_verifies_clean(team: Team, pid: str) -> None:
    delegate(team, TO_SUNBA)
    team.ok("sunba", "sign", pid, STEP, "--on-behalf-of", "zhaoliu", at="2026-09-10T09:00:00+08:00")
    text = (team.root / "projects" / pid / "contract.yaml").read_text(encoding="utf-8")
    signoff = text[text.rindex(f"- step: {STEP}") :]
    assert "by: sunba\n" in signoff and "role: sales_supervisor\n" in signoff and "on_behalf_of: zhaoliu\n" in signoff
    found = trailers(team)
    assert found["Xmflow-On-Behalf-Of"] == "zhaoliu" and found["Xmflow-Role"] == "sales_supervisor"
    assert (
        git(team.root, "log", "-1", "--format=%ae|%s").strip()
        == f"sunba@example.com|{pid} {STEP}: sunba signs as sales_supervisor for zhaoliu"
    )
    assert team.state(pid, STEP) == "signed"
    assert "孙八（代 赵六）" in team.ok("wangjg", "--lang", "zh", "render", pid, "form2").stdout
    entry = team.json("wangjg", "log", pid)["entries"][-1]
    assert (entry["who"], entry["on_behalf_of"], entry["role"]) == ("孙八", "赵六", "sales_supervisor")
    assert team.ok("wangjg", "verify").stdout.startswith("verified: no findings")
    check = team("wangjg", "check")
    assert (check.exit_code, check.output) == (0, "")
    # The grant held when it was used: taking it back later does not undo the signature.
    people = team.root / "people.yaml"
    people.write_text(people.read_text(encoding="utf-8").replace(TO_SUNBA, ""), encoding="utf-8")
    hand_commit(team, "wangjg", "people: zhaoliu is back")
    assert team.ok("wangjg", "verify").stdout.startswith("verified: no findings")


@pytest.mark.parametrize(
    ("grant", "day"),
    [
        (TO_SUNBA, "2026-10-01"),
        (
            "  - {from: zhaoliu, to: sunba, roles: [sales_supervisor], since: 2026-09-15, until: 2026-09-30}\n",
            "2026-09-14",
        ),
    ],
    ids=["after-until", "before-since"],
)
def test_delegation_is_refused_outside_its_dates(team: Team, pid: str, grant: str, day: str) -> None:
    delegate(team, grant)
    message = said(
        refused(team, "sunba", "sign", pid, STEP, "--on-behalf-of", "zhaoliu", at=f"{day}T09:00:00+08:00", env=WIDE)
    )
    assert f"孙八 (sunba) may not sign for 赵六 (zhaoliu) as sales_supervisor on {day}" in message
    assert "3.5.2" in message
    # not "no such delegation": the day it ended, or starts
    assert ("ended on 2026-09-30" if day == "2026-10-01" else "starts on 2026-09-15") in message, message


def test_delegation_is_refused_for_a_role_not_delegated(team: Team, pid: str) -> None:
    people = team.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace(
            "roles: [sales_supervisor]}", "roles: [sales_supervisor, business_center]}"
        ),
        encoding="utf-8",
    )
    delegate(team, TO_SUNBA)
    team.ok("sunba", "sign", pid, STEP, "--on-behalf-of", "zhaoliu")
    message = said(
        refused(team, "sunba", "sign", pid, "contract.business_review", "--on-behalf-of", "zhaoliu", env=WIDE)
    )
    assert "孙八 (sunba) may not sign for 赵六 (zhaoliu) as business_center" in message


def test_delegation_is_refused_without_a_grant(team: Team, pid: str) -> None:
    delegate(team, TO_SUNBA)
    message = said(refused(team, "lisi", "sign", pid, STEP, "--on-behalf-of", "zhaoliu", env=WIDE))
    assert "李四 (lisi) may not sign for 赵六 (zhaoliu) as sales_supervisor" in message
    assert "people.yaml has no such delegation" in message
    message = said(refused(team, "sunba", "sign", pid, STEP, "--on-behalf-of", "nobody", code=2, env=WIDE))
    assert "no such person" in message


def test_delegation_does_not_let_anyone_approve_their_own_work(team: Team, pid: str) -> None:
    delegate(team, TO_ZHANGSAN)  # zhangsan drafted this contract
    message = said(refused(team, "zhangsan", "sign", pid, STEP, "--on-behalf-of", "zhaoliu", env=WIDE))
    assert "张三 (zhangsan) signed this stage's own work and may not approve it, not even for someone else" in message


@pytest.mark.parametrize(
    ("grant", "says"),
    [
        ("{from: zhaoliu, to: sunba, roles: [gm], until: 2026-12-31}", "zhaoliu does not hold gm"),
        ("{from: zhaoliu, to: nobody, roles: [sales_supervisor], until: 2026-12-31}", "'nobody' is not a person"),
        ("{from: zhaoliu, to: sunba, roles: [sales_supervisor]}", "delegation 1 has no `until`"),
    ],
    ids=["role-not-held", "unknown-person", "no-until"],
)
def test_people_yaml_refuses_a_bad_delegation(team: Team, pid: str, grant: str, says: str) -> None:
    people = team.root / "people.yaml"
    text = people.read_text(encoding="utf-8") + "delegations:\n"
    line = text.count("\n") + 1
    people.write_text(text + f"  - {grant}\n", encoding="utf-8")
    result = team("sunba", "sign", pid, STEP, "--on-behalf-of", "zhaoliu", env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert f"people.yaml:{line}:" in result.output and says in result.output


def test_verify_names_a_sign_off_for_someone_else_before_the_grant_existed(team: Team, pid: str) -> None:
    at = "2026-09-10T09:00:00+08:00"
    digest = digest_now(team.root, pid, STEP)
    append_signoff(
        team.root,
        pid,
        "contract",
        step=STEP,
        decision="approve",
        by="sunba",
        role="sales_supervisor",
        at=at,
        digest=digest,
        on_behalf_of="zhaoliu",
    )
    bad = hand_commit(
        team,
        "sunba",
        trailer_message(
            f"{pid} {STEP}: sunba signs as sales_supervisor for zhaoliu",
            Project=pid,
            Step=STEP,
            Decision="approve",
            Role="sales_supervisor",
            Clause="3.5.2",
            Digest=digest,
            On_Behalf_Of="zhaoliu",
        ),
        at=at,
    )
    delegate(team, TO_SUNBA)  # the grant, made only afterwards
    assert team.state(pid, STEP) == "signed"
    result = team("wangjg", "verify", env={"COLUMNS": "400"})
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith(f"commit {bad[:7]} · {pid} contract ({STEP}): "), result.stderr
    assert "孙八 (sunba) may not sign for 赵六 (zhaoliu) as sales_supervisor on 2026-09-10" in lines[0]


def test_a_delegation_that_ends_before_it_starts_is_refused() -> None:
    from xmflow.errors import RecordError
    from xmflow.records.workspace import parse_people

    text = (
        "people:\n  - {id: a, name: A, email: a@x.cn, roles: [gm]}\n  - {id: b, name: B, email: b@x.cn, roles: []}\n"
        "delegations:\n  - {from: a, to: b, roles: [gm], since: 2026-12-10, until: 2026-12-01}\n"
    )
    with pytest.raises(RecordError) as info:
        parse_people(text, {"gm"})
    assert info.value.message == "people.yaml:5: delegation 1: since 2026-12-10 is after until 2026-12-01"

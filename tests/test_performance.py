"""What makes a large workspace fast must never change an answer: the caches in .git/xmflow give
what a cold run gives, whether they are warm, missing, broken, or from before a change of the
records or the process. (How fast it is, is the benchmark's to say: bench/, not a timed test.)"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import Team, draft_contract, git, open_project, stamp_contract

PROJECTS = 40


def portfolio(team: Team, day: str = "2026-12-31") -> tuple[str, ...]:
    """What the portfolio, receivables, one project and `check` say on *day*, as the programs
    reading them see it."""
    checked = team("wangjg", "check")
    return (
        team("wangjg", "status", "--json", "--as-of", day).stdout,
        team("wangjg", "ar", "--json", "--as-of", day).stdout,
        team("wangjg", "status", "bulk-0007", "--json", "--as-of", day).stdout,
        f"{checked.exit_code}\n{checked.stdout}{checked.stderr}",
        team("wangjg", "log", "--json").stdout,
        team("wangjg", "log", "bulk-0003", "-n", "3").stdout,
    )


def caches(team: Team) -> list[Path]:
    return sorted(p for p in (team.root / ".git" / "xmflow").rglob("*") if p.is_file() and "journal" not in p.name)


def test_1_2_the_caches_give_the_answers_of_a_cold_run_warm_missing_broken_or_stale(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    stamp_contract(team, pid)
    scan = team.root.parent / "signed.pdf"
    scan.write_bytes(b"%PDF-1.4 the contract as the client signed it")
    team.ok(
        "zhangsan",
        "sign",
        pid,
        "contract.client_sign",
        "--role",
        "client",
        "--signatory",
        "刘经理",
        "--evidence",
        str(scan),
    )
    for n in range(PROJECTS):
        shutil.copytree(team.root / "projects" / pid, team.root / "projects" / f"bulk-{n:04d}")
    git(team.root, "add", "-A")
    git(team.root, "commit", "-qm", "many projects")
    cold = portfolio(team)
    assert caches(team), "the first run keeps its caches in .git/xmflow"
    assert portfolio(team) == cold  # warm
    later = portfolio(team, "2027-03-31")  # another day, from what was kept for the first
    assert later[0] != cold[0] and later[1] != cold[1]
    shutil.rmtree(team.root / ".git" / "xmflow")
    assert portfolio(team, "2027-03-31") == later
    for path in caches(team):
        path.write_bytes(b"\x80 not a cache")
    assert portfolio(team) == cold  # broken
    shutil.rmtree(team.root / ".git" / "xmflow")
    assert portfolio(team) == cold  # missing
    # A scan replaced and committed with plain git: `check` reads it again, warm or cold.
    (scanned,) = (team.root / "projects" / "bulk-0003" / "files").iterdir()
    scanned.write_bytes(b"%PDF-1.4 another page")
    git(team.root, "commit", "-qam", "another scan")
    swapped = portfolio(team)
    assert swapped[3].startswith("1\n") and "bulk-0003" in swapped[3] and "not the one signed" in swapped[3]
    shutil.rmtree(team.root / ".git" / "xmflow")
    assert portfolio(team) == swapped
    scanned.write_bytes(b"%PDF-1.4 the contract as the client signed it")
    git(team.root, "commit", "-qam", "the scan back")
    assert portfolio(team)[:4] == cold[:4]  # (the trail has two commits more)
    # A project folder nobody committed yet (untracked: git vouches for less than there is).
    shutil.copytree(team.root / "projects" / "bulk-0007", team.root / "projects" / "bulk-new")
    untracked = portfolio(team)
    assert "bulk-new" in untracked[0] and untracked[0] != cold[0]
    shutil.rmtree(team.root / ".git" / "xmflow")
    assert portfolio(team) == untracked
    shutil.rmtree(team.root / "projects" / "bulk-new")
    assert portfolio(team)[:4] == cold[:4]
    # A record changed behind the cache's back: the answer follows the record.
    contract = team.root / "projects" / "bulk-0007" / "contract.yaml"
    contract.write_text(contract.read_text(encoding="utf-8").replace("348000", "348001"), encoding="utf-8")
    changed = portfolio(team)
    assert changed != cold and "348001" in changed[2]
    shutil.rmtree(team.root / ".git" / "xmflow")
    assert portfolio(team) == changed
    # A new revision of the process: the warm caches are of the old one.
    text = team.ok("wangjg", "process", "export").stdout
    (team.root / "process.yaml").write_text(
        text.replace("title: 主管审核\n", "title: 部门经理审核\n"), encoding="utf-8"
    )
    config = team.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "process: process.yaml\n", encoding="utf-8")
    git(team.root, "add", "-A")
    git(team.root, "-c", "user.email=wangjg@example.com", "commit", "-qm", "own process")
    revised = portfolio(team)
    assert "部门经理审核" in revised[2] and revised != changed
    shutil.rmtree(team.root / ".git" / "xmflow")
    assert portfolio(team) == revised


def test_a_folder_git_takes_for_another_by_its_case_is_read_not_taken_from_the_cache(team: Team) -> None:
    """Where git matches names loosely (core.ignorecase, as a copy from a Mac or Windows brings),
    a folder `hx-01` beside the project `HX-01` is not listed as untracked: the portfolio must not
    take git's listing for the whole of what is there."""
    pid = open_project(team, "35万", "--id", "HX-01")
    git(team.root, "config", "core.ignorecase", "true")
    first = team("wangjg", "status", "--json").stdout
    assert portfolio(team)  # the caches are warm
    twin = team.root / "projects" / pid.lower()
    shutil.copytree(team.root / "projects" / pid, twin)
    record = twin / "project.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("测试项目", "另一个项目"), encoding="utf-8")
    warm = team("wangjg", "status", "--json").stdout
    assert twin.name in warm and "另一个项目" in warm and warm != first
    shutil.rmtree(team.root / ".git" / "xmflow")
    assert team("wangjg", "status", "--json").stdout == warm

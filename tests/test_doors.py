"""Trust at every door (issue 9): who may change what, settings only an admin changes, backdated
and future-dated sign-offs, a shallow clone, broken settings at the tip, and acknowledging a
finding. Each bad history is made by hand, with plain git, as an attacker with push access would."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import (
    Team,
    append_signoff,
    digest_now,
    draft_contract,
    git,
    hand_commit,
    isolate_git,
    new_team,
    open_project,
    sign_contract,
    trailer_message,
)

from xmflow import audit

WIDE = {"COLUMNS": "400"}


@dataclass(frozen=True)
class Base:
    root: Path
    clock: datetime
    signed: str      # 张三's project, its contract signed by the client
    drafted: str     # 张三's project, its contract drafted and self-reviewed


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("doors-home"), mp)
        team = new_team(tmp_path_factory.mktemp("doors") / "ws")
        signed = open_project(team)
        draft_contract(team, signed)
        sign_contract(team, signed)
        drafted = open_project(team, "20万")
        draft_contract(team, drafted, "19万")
        return Base(team.root, team.clock, signed, drafted)


@pytest.fixture
def ws(base: Base, tmp_path: Path) -> Team:
    root = tmp_path / "ws"
    shutil.copytree(base.root, root, symlinks=True)
    return Team(root, clock=base.clock)


def said(result) -> str:
    return " ".join(result.output.split())


def findings(team: Team, *args: str) -> list[dict]:
    result = team("wangjg", "verify", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


def kinds(team: Team) -> set[tuple[str, str]]:
    return {(f["commit"], f["kind"]) for f in findings(team)}


def edit_file(team: Team, path: str, old: str, new: str) -> None:
    file = team.root / path
    text = file.read_text(encoding="utf-8")
    assert old in text, text
    file.write_text(text.replace(old, new), encoding="utf-8")


# --- who may change what ---------------------------------------------------------------------


def test_finance_may_not_set_another_salesmans_contract_amount(ws: Team, base: Base) -> None:
    before = ws.head()
    result = ws("fenger", "set", base.drafted, "contract.amount=1万", env=WIDE)
    assert result.exit_code == 1
    assert "冯二 (fenger) may not change contract" in said(result)
    assert "sales (the project's own)" in said(result) and "business_center" in said(result)
    assert ws.head() == before and ws.clean()


def test_the_vp_may_not_set_a_contract_amount(ws: Team, base: Base) -> None:
    result = ws("zhoujiu", "set", base.drafted, "contract.amount=1")
    assert result.exit_code == 1 and "may not change contract" in said(result)


def test_a_salesman_may_not_hand_a_colleagues_project_to_someone_else(ws: Team, base: Base) -> None:
    before = ws.head()
    result = ws("lisi", "set", base.drafted, "initiation.sales=lisi")
    assert result.exit_code == 1 and "李四 (lisi) may not change initiation" in said(result)
    assert ws.head() == before


def test_the_salesperson_and_the_reviewers_may_change_the_contract(ws: Team, base: Base) -> None:
    ws.ok("zhangsan", "set", base.drafted, "contract.notes=客户要求")
    ws.ok("qianqi", "set", base.drafted, "contract.notes=商务中心红字修改")  # 3.5.3: the business centre marks changes
    ws.ok("zhangsan", "set", base.drafted, "initiation.sales=lisi", "--reopen", "-m", "转交李四")  # one's own, yes
    assert ws.json("wangjg", "show", base.drafted)["stages"]["initiation"]["data"]["sales"] == "lisi"


def test_only_the_salesperson_or_an_admin_opens_a_project_for_someone(ws: Team) -> None:
    result = ws("zhangsan", "new", "代开", "--client", "C", "--budget", "1万", "--sales", "lisi")
    assert result.exit_code == 1 and "may not change initiation" in said(result)
    ws.ok("wangjg", "new", "代开", "--client", "C", "--budget", "1万", "--sales", "lisi")


def test_verify_names_a_change_by_someone_who_may_not_edit_the_stage(ws: Team, base: Base) -> None:
    edit_file(ws, f"projects/{base.drafted}/contract.yaml", "amount: 190000.00", "amount: 10000.00")
    bad = hand_commit(ws, "fenger", trailer_message(f"{base.drafted} set contract.amount", Project=base.drafted,
                                                    Decision="record"))
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert [f["kind"] for f in found] == ["not-an-editor"], found
    assert found[0]["stage"] == "contract" and "冯二 (fenger)" in found[0]["message"]


def test_check_names_a_pending_edit_by_someone_who_may_not_edit_the_stage(ws: Team, base: Base) -> None:
    edit_file(ws, f"projects/{base.drafted}/contract.yaml", "amount: 190000.00", "amount: 10000.00")
    result = ws("fenger", "check", env=WIDE)
    assert result.exit_code == 1
    assert f"projects/{base.drafted}/contract.yaml: contract" in result.stderr and "冯二 (fenger)" in result.stderr
    assert ws("zhangsan", "check").exit_code == 0  # the project's salesperson may make that change


# --- settings only an admin changes ---------------------------------------------------------


def give_role(team: Team, who: str, role: str, by: str) -> str:
    """*by* adds *role* to *who* in people.yaml and commits it with plain git."""
    path = team.root / "people.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [line.replace("roles: [", f"roles: [{role}, ", 1) if f"id: {who}," in line else line for line in lines]
    path.write_text("".join(lines), encoding="utf-8")
    return hand_commit(team, by, f"people: {who} +{role}")


def test_a_role_a_salesman_gave_himself_with_plain_git_is_not_taken_up(ws: Team, base: Base) -> None:
    bad = give_role(ws, "zhangsan", "production_supervisor", by="zhangsan")
    check = ws("zhangsan", "check", env=WIDE)
    assert check.exit_code == 1 and f"commit {bad[:7]}" in check.stderr and "not an admin" in check.stderr
    before = ws.head()
    result = ws("zhangsan", "sign", base.signed, "installation.ready_to_ship", env=WIDE)
    assert result.exit_code == 1 and f"commit {bad[:7]}" in said(result) and ws.head() == before
    assert (bad, "settings-by-non-admin") in kinds(ws)
    # A forged sign-off on top of it is judged by the roles an admin gave: it is refused too.
    step = "installation.ready_to_ship"
    (ws.root / "projects" / base.signed / "installation.yaml").write_text("", encoding="utf-8")
    append_signoff(ws.root, base.signed, "installation", step=step, decision="approve", by="zhangsan",
                   role="production_supervisor", at=ws.clock.isoformat(), digest=digest_now(ws.root, base.signed, step))
    forged = hand_commit(ws, "zhangsan", trailer_message(f"{base.signed} {step}", Project=base.signed, Step=step,
                                                         Decision="approve", Role="production_supervisor",
                                                         Digest=digest_now(ws.root, base.signed, step)),
                         at=ws.clock.isoformat())
    assert (forged, "refused") in kinds(ws)


def test_two_settings_changes_by_a_non_admin_gain_nothing(ws: Team) -> None:
    first = give_role(ws, "zhangsan", "admin", by="zhangsan")   # makes himself admin …
    second = give_role(ws, "lisi", "admin", by="zhangsan")      # … and, "as admin", his friend too
    found = kinds(ws)
    assert {(first, "settings-by-non-admin"), (second, "settings-by-non-admin")} <= found
    assert f"commit {second[:7]}" in said(ws("lisi", "check"))


def test_an_admin_commit_sets_the_settings_right_again(ws: Team, base: Base) -> None:
    give_role(ws, "zhangsan", "business_center", by="zhangsan")
    path = ws.root / "people.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("roles: [business_center, sales]", "roles: [sales]"),
                    encoding="utf-8")
    hand_commit(ws, "wangjg", "people: 张三 is sales only")
    assert ws("zhangsan", "check").exit_code == 0
    ws.ok("zhangsan", "set", base.drafted, "contract.notes=改回来了")


def test_an_admin_acknowledging_a_settings_change_takes_it_up(ws: Team, base: Base) -> None:
    bad = give_role(ws, "lisi", "presales", by="zhangsan")
    assert ws("lisi", "set", base.drafted, "contract.notes=x").exit_code == 1
    assert ws("zhangsan", "verify", "--acknowledge", bad, "-m", "同意").exit_code == 1  # not an admin
    ws.ok("wangjg", "verify", "--acknowledge", bad, "-m", "李四兼任售前，已批准")
    assert ws("zhangsan", "check").exit_code == 0
    ws.ok("zhangsan", "set", base.drafted, "contract.notes=可以了")
    assert ws("wangjg", "verify").exit_code == 0


# --- dates ----------------------------------------------------------------------------------


def test_a_backdated_sign_off_before_the_step_it_follows_is_named(ws: Team, base: Base) -> None:
    step, pid = "contract.supervisor_review", base.drafted
    month_back = "2026-08-01T09:00:00+08:00"   # before the self-review it follows (September)
    digest = digest_now(ws.root, pid, step)
    append_signoff(ws.root, pid, "contract", step=step, decision="approve", by="zhaoliu", role="sales_supervisor",
                   at=month_back, digest=digest)
    bad = hand_commit(ws, "zhaoliu", trailer_message(f"{pid} {step}: zhaoliu signs", Project=pid, Step=step,
                                                     Decision="approve", Role="sales_supervisor", Clause="3.5.2",
                                                     Digest=digest),
                      env={"GIT_AUTHOR_DATE": month_back})
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert [f["kind"] for f in found] == ["backdated"], found
    assert "contract.self_review" in found[0]["message"]


def test_a_commit_dated_after_it_was_committed_is_named(ws: Team, base: Base) -> None:
    edit_file(ws, f"projects/{base.drafted}/contract.yaml", "amount: 190000.00", "amount: 180000.00")
    ahead = "2027-03-01T09:00:00+08:00"
    bad = hand_commit(ws, "zhangsan", trailer_message(f"{base.drafted} set contract.amount", Project=base.drafted,
                                                      Decision="record"), env={"GIT_AUTHOR_DATE": ahead})
    assert (bad, "future-dated") in kinds(ws)


def test_a_fact_date_in_the_future_is_refused_by_set(ws: Team, base: Base) -> None:
    ahead = (ws.clock + timedelta(days=30)).date().isoformat()
    before = ws.head()
    result = ws("zhangsan", "set", base.signed, f"installation.shipped_date={ahead}")
    assert result.exit_code == 2 and f"installation.shipped_date: {ahead} is in the future" in said(result)
    assert ws.head() == before and ws.clean()
    ws.ok("zhangsan", "set", base.signed, "contract.delivery_date=2027-06-30", "--reopen", "-m", "客户推迟交期")  # planned


def test_a_fact_date_in_the_future_committed_by_hand_is_named(ws: Team, base: Base) -> None:
    ahead = (ws.clock + timedelta(days=30)).date().isoformat()
    path = ws.root / "projects" / base.signed / "acceptance.yaml"
    path.write_text(f"accepted_date: {ahead}\n", encoding="utf-8")
    bad = hand_commit(ws, "zhangsan", trailer_message(f"{base.signed} set acceptance.accepted_date",
                                                      Project=base.signed, Decision="record"))
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert [f["kind"] for f in found] == ["future-date"], found
    assert f"acceptance.accepted_date is {ahead}" in found[0]["message"]
    check = ws("zhangsan", "check")
    assert check.exit_code == 0  # committed: verify's to name; check judges only pending changes
    path.write_text(f"accepted_date: {ahead}\nrequest_date: {ahead}\n", encoding="utf-8")
    assert "acceptance.request_date" in said(ws("zhangsan", "check"))


# --- the history itself ---------------------------------------------------------------------


def test_a_shallow_clone_is_refused_with_how_to_fetch_the_rest(ws: Team, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{ws.root}", str(clone)], check=True)
    result = Team(clone)("wangjg", "verify")
    assert result.exit_code == 2
    assert "shallow" in said(result) and "git fetch --unshallow" in said(result)


def test_settings_broken_at_the_tip_are_named(ws: Team) -> None:
    (ws.root / "people.yaml").write_text("people: [\n", encoding="utf-8")
    tip = hand_commit(ws, "wangjg", "people: oops")
    found = [f for f in findings(ws) if f["commit"] == tip]
    assert [f["kind"] for f in found] == ["settings-unreadable"], found
    assert "people.yaml" in found[0]["message"]


# --- acknowledging a finding ----------------------------------------------------------------


def outside_change(team: Team, project: str, who: str = "zhangsan") -> str:
    edit_file(team, f"projects/{project}/contract.yaml", "warranty_months: 12", "warranty_months: 24")
    return hand_commit(team, who, "质保改为24个月")


def test_an_admin_acknowledges_a_finding_and_verify_lists_it_apart(ws: Team, base: Base) -> None:
    bad = outside_change(ws, base.signed)
    assert ws("wangjg", "verify").exit_code == 1
    result = ws.ok("wangjg", "verify", "--acknowledge", bad[:8], "-m", "客户书面确认延长质保，见补充协议")
    assert "acknowledge 1 finding(s)" in said(result)
    assert git(ws.root, "log", "-1", "--format=%ae %(trailers:key=Xmflow-Acknowledges,valueonly)").split() == \
        ["wangjg@example.com", bad]
    verified = ws("wangjg", "verify", env=WIDE)
    assert verified.exit_code == 0, verified.output
    assert f"acknowledged: commit {bad[:7]}" in verified.stdout and "补充协议" in verified.stdout
    report = json.loads(ws.ok("wangjg", "verify", "--json").stdout)
    assert report["findings"] == [] and report["acknowledged"][0]["commit"] == bad
    assert report["acknowledged"][0]["why"] == "客户书面确认延长质保，见补充协议"
    # It never hides a later finding.
    later = outside_change(ws, base.drafted)
    assert {f["commit"] for f in findings(ws)} == {later}


def test_acknowledging_names_the_finding_and_needs_an_admin(ws: Team, base: Base) -> None:
    bad = outside_change(ws, base.signed)
    result = ws("wangjg", "verify", "--acknowledge", bad, "--finding", "backdated", "-m", "x")
    assert result.exit_code == 2 and "its findings: outside-xmflow" in said(result)
    result = ws("wangjg", "verify", "--acknowledge", base.signed, "-m", "x")
    assert result.exit_code == 2
    result = ws("wangjg", "verify", "--acknowledge", bad)
    assert result.exit_code == 2 and "-m WHY" in said(result)
    before = ws.head()
    result = ws("zhangsan", "verify", "--acknowledge", bad, "-m", "我自己说没问题")
    assert result.exit_code == 1 and "only an admin" in said(result) and ws.head() == before


def test_an_acknowledgement_written_by_hand_by_a_non_admin_is_not_taken_up(ws: Team, base: Base) -> None:
    bad = outside_change(ws, base.signed)
    (ws.root / "acknowledgements.yaml").write_text(
        f"acknowledged:\n  - {{commit: {bad}, finding: outside-xmflow, project: {base.signed}, why: 没事}}\n",
        encoding="utf-8")
    forged = hand_commit(ws, "zhangsan", "acknowledge")
    assert {(bad, "outside-xmflow"), (forged, "settings-by-non-admin")} <= kinds(ws)


def test_verify_names_the_kind_of_each_finding(ws: Team, base: Base) -> None:
    bad = outside_change(ws, base.signed)
    result = ws("wangjg", "verify", env=WIDE)
    assert f"commit {bad[:7]}" in result.stderr and "[outside-xmflow]" in result.stderr
    assert audit.verify(ws.root)[0].kind == "outside-xmflow"

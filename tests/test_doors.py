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
    module_team,
    open_project,
    said,
    sign_contract,
    trailer_message,
)

from xmflow.trust import audit

WIDE = {"COLUMNS": "400"}


@dataclass(frozen=True)
class Base:
    root: Path
    clock: datetime
    signed: str  # 张三's project, its contract signed by the client
    drafted: str  # 张三's project, its contract drafted and self-reviewed


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    with module_team(tmp_path_factory, "doors") as team:
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
    bad = hand_commit(
        ws, "fenger", trailer_message(f"{base.drafted} set contract.amount", Project=base.drafted, Decision="record")
    )
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
    append_signoff(
        ws.root,
        base.signed,
        "installation",
        step=step,
        decision="approve",
        by="zhangsan",
        role="production_supervisor",
        at=ws.clock.isoformat(),
        digest=digest_now(ws.root, base.signed, step),
    )
    forged = hand_commit(
        ws,
        "zhangsan",
        trailer_message(
            f"{base.signed} {step}",
            Project=base.signed,
            Step=step,
            Decision="approve",
            Role="production_supervisor",
            Digest=digest_now(ws.root, base.signed, step),
        ),
        at=ws.clock.isoformat(),
    )
    assert (forged, "refused") in kinds(ws)


def test_two_settings_changes_by_a_non_admin_gain_nothing(ws: Team) -> None:
    first = give_role(ws, "zhangsan", "admin", by="zhangsan")  # makes himself admin …
    second = give_role(ws, "lisi", "admin", by="zhangsan")  # … and, "as admin", his friend too
    found = kinds(ws)
    assert {(first, "settings-by-non-admin"), (second, "settings-by-non-admin")} <= found
    assert f"commit {second[:7]}" in said(ws("lisi", "check"))


def test_an_admin_commit_sets_the_settings_right_again(ws: Team, base: Base) -> None:
    give_role(ws, "zhangsan", "business_center", by="zhangsan")
    path = ws.root / "people.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("roles: [business_center, sales]", "roles: [sales]"), encoding="utf-8"
    )
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
    month_back = "2026-08-01T09:00:00+08:00"  # before the self-review it follows (September)
    digest = digest_now(ws.root, pid, step)
    append_signoff(
        ws.root,
        pid,
        "contract",
        step=step,
        decision="approve",
        by="zhaoliu",
        role="sales_supervisor",
        at=month_back,
        digest=digest,
    )
    bad = hand_commit(
        ws,
        "zhaoliu",
        trailer_message(
            f"{pid} {step}: zhaoliu signs",
            Project=pid,
            Step=step,
            Decision="approve",
            Role="sales_supervisor",
            Clause="3.5.2",
            Digest=digest,
        ),
        env={"GIT_AUTHOR_DATE": month_back},
    )
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert [f["kind"] for f in found] == ["backdated"], found
    assert "contract.self_review" in found[0]["message"]


def test_a_commit_dated_after_it_was_committed_is_named(ws: Team, base: Base) -> None:
    edit_file(ws, f"projects/{base.drafted}/contract.yaml", "amount: 190000.00", "amount: 180000.00")
    ahead = "2027-03-01T09:00:00+08:00"
    bad = hand_commit(
        ws,
        "zhangsan",
        trailer_message(f"{base.drafted} set contract.amount", Project=base.drafted, Decision="record"),
        env={"GIT_AUTHOR_DATE": ahead},
    )
    assert (bad, "future-dated") in kinds(ws)


def test_a_fact_date_in_the_future_is_refused_by_set(ws: Team, base: Base) -> None:
    ahead = (ws.clock + timedelta(days=30)).date().isoformat()
    before = ws.head()
    result = ws("zhangsan", "set", base.signed, f"installation.shipped_date={ahead}")
    assert result.exit_code == 2 and f"installation.shipped_date: {ahead} is in the future" in said(result)
    assert ws.head() == before and ws.clean()
    ws.ok(
        "zhangsan", "set", base.signed, "contract.delivery_date=2027-06-30", "--reopen", "-m", "客户推迟交期"
    )  # planned


def test_a_fact_date_in_the_future_committed_by_hand_is_named(ws: Team, base: Base) -> None:
    ahead = (ws.clock + timedelta(days=30)).date().isoformat()
    path = ws.root / "projects" / base.signed / "acceptance.yaml"
    path.write_text(f"accepted_date: {ahead}\n", encoding="utf-8")
    bad = hand_commit(
        ws,
        "zhangsan",
        trailer_message(f"{base.signed} set acceptance.accepted_date", Project=base.signed, Decision="record"),
    )
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
    assert git(ws.root, "log", "-1", "--format=%ae %(trailers:key=Xmflow-Acknowledges,valueonly)").split() == [
        "wangjg@example.com",
        bad,
    ]
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
        encoding="utf-8",
    )
    forged = hand_commit(ws, "zhangsan", "acknowledge")
    assert {(bad, "outside-xmflow"), (forged, "settings-by-non-admin")} <= kinds(ws)


def test_verify_names_the_kind_of_each_finding(ws: Team, base: Base) -> None:
    bad = outside_change(ws, base.signed)
    result = ws("wangjg", "verify", env=WIDE)
    assert f"commit {bad[:7]}" in result.stderr and "[outside-xmflow]" in result.stderr
    assert audit.verify(ws.root)[0].kind == "outside-xmflow"


# --- what the commands refuse, verify names too (the review's findings) -----------------------


def forge(
    team: Team, project: str, what: str, decision: str, by: str, role: str, who: str | None = None, **extra: str
) -> str:
    """A sign-off (or a reopen, *what* a stage) appended by hand with the right digest and trailers,
    committed with plain git by *who* (default: *by*) at the team's next minute."""
    from xmflow.model import Decision, Signoff
    from xmflow.records import stages as records_mod
    from xmflow.records.workspace import Workspace
    from xmflow.rules.project import ProjectView
    from xmflow.values import parse_date

    ws = Workspace(team.root)
    project_rec = ws.project(project)
    team.clock += timedelta(minutes=10)
    if decision == "reopen":
        stage = ws.process.stage(what)
        digest = records_mod.digest(stage, project_rec.record(stage.id).data)
        trailers = {"Project": project, "Decision": "reopen", "Stage": what}
    else:
        step = ws.process.step(what)
        stage = ws.process.stage(step.stage)
        digest = ProjectView(project_rec, ws.process, ws.config).current_digest(step)
        trailers = {
            "Project": project,
            "Step": what,
            "Decision": decision,
            "Role": role,
            "Digest": digest,
            **({"Signatory": extra["signatory"]} if "signatory" in extra else {}),
        }
    signoff = Signoff(
        what,
        Decision(decision),
        by,
        role,
        team.clock,
        digest,
        extra.get("comment"),
        extra.get("signatory"),
        signed_on=parse_date(extra["signed_on"]) if "signed_on" in extra else None,
    )
    record = records_mod.with_signoff(project_rec.record(stage.id), signoff)
    (team.root / record.path).write_text(records_mod.dump_record(stage, record), encoding="utf-8")
    return hand_commit(
        team, who or by, trailer_message(f"{project} {what}: {by} {decision}", **trailers), at=team.clock.isoformat()
    )


def test_a_reject_in_a_role_the_step_does_not_have_is_named_and_sends_nothing_back(ws: Team, base: Base) -> None:
    ws.ok("zhaoliu", "sign", base.drafted, "contract.supervisor_review")
    bad = forge(ws, base.drafted, "contract.business_review", "reject", "fenger", "finance", comment="金额有误")
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert "refused" in {f["kind"] for f in found} and any("is not signed as finance" in f["message"] for f in found)
    assert ws.state(base.drafted, "contract.self_review") == "signed"  # the stray reject counts for nothing


def test_a_sign_off_in_a_role_of_another_step_is_named(ws: Team, base: Base) -> None:
    ws.ok("zhaoliu", "sign", base.drafted, "contract.supervisor_review")
    bad = forge(ws, base.drafted, "contract.business_review", "approve", "zhaoliu", "sales_supervisor")
    assert (bad, "refused") in kinds(ws)


def test_a_reopen_that_nothing_needs_by_someone_who_does_not_sign_there_is_named(ws: Team, base: Base) -> None:
    bad = forge(ws, base.signed, "contract", "reopen", "fenger", "finance")
    found = {f["kind"] for f in findings(ws) if f["commit"] == bad}
    assert {"reopen-role", "reopen-unneeded"} <= found, found


def test_a_sign_off_put_in_another_stages_file_is_named(ws: Team, base: Base) -> None:
    from xmflow.model import Decision, Signoff
    from xmflow.records import stages as records_mod
    from xmflow.records.workspace import Workspace

    w = Workspace(ws.root)
    record = w.project(base.drafted).record("initiation")
    stray = Signoff("contract.supervisor_review", Decision.APPROVE, "zhaoliu", "sales_supervisor", ws.clock, "sha256:x")
    path = ws.root / record.path
    path.write_text(
        records_mod.dump_record(w.process.stage("initiation"), records_mod.with_signoff(record, stray)),
        encoding="utf-8",
    )
    bad = hand_commit(ws, "zhaoliu", trailer_message("x", Project=base.drafted, Decision="record"))
    assert (bad, "signoff-misplaced") in kinds(ws)


def add_invoice_by_hand(team: Team, project: str, line: str) -> str:
    path = team.root / "projects" / project / "collection.yaml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(text + ("invoices:\n" if "invoices:" not in text else "") + line, encoding="utf-8")
    return hand_commit(team, "zhangsan", trailer_message(f"{project} invoices", Project=project, Decision="record"))


def test_an_invoice_recorded_by_hand_before_the_client_signed_is_named(ws: Team, base: Base) -> None:
    day = ws.clock.date().isoformat()
    bad = add_invoice_by_hand(ws, base.drafted, f"- {{number: FP-1, amount: '1000.00', date: {day}, by: zhangsan}}\n")
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert [f["kind"] for f in found] == ["ledger-refused"] and "contract.client_sign signed first" in found[0][
        "message"
    ]


def test_an_invoice_over_the_contract_recorded_by_hand_is_named(ws: Team, base: Base) -> None:
    day = ws.clock.date().isoformat()
    bad = add_invoice_by_hand(
        ws, base.signed, f"- {{number: FP-9, amount: '100000000.00', date: {day}, by: zhangsan}}\n"
    )
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert [f["kind"] for f in found] == ["ledger-refused"] and "more than the contract" in found[0]["message"]


def test_an_invoice_number_used_in_another_project_is_named_by_check_and_verify(ws: Team, base: Base) -> None:
    ws.ok("zhangsan", "invoice", base.signed, "1万", "--number", "FP-7")
    sign_contract(ws, base.drafted)
    refused = ws("zhangsan", "invoice", base.drafted, "1万", "--number", "fp-7")
    assert refused.exit_code == 1 and f"already recorded (project {base.signed})" in said(refused)
    day = ws.clock.date().isoformat()
    path = ws.root / "projects" / base.drafted / "collection.yaml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(
        text + "invoices:\n" + f"- {{number: fp-7, amount: '1000.00', date: {day}, by: zhangsan}}\n", encoding="utf-8"
    )
    check = ws("zhangsan", "check", env=WIDE)
    assert check.exit_code == 1 and f"invoice number fp-7 is also recorded in project {base.signed}" in said(check)
    bad = hand_commit(
        ws, "zhangsan", trailer_message(f"{base.drafted} invoices", Project=base.drafted, Decision="record")
    )
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert [f["kind"] for f in found] == ["ledger-refused"]
    assert f"invoice number fp-7 is already recorded (project {base.signed})" in found[0]["message"]


def test_a_client_paper_dated_in_the_future_is_named(ws: Team, base: Base) -> None:
    from conftest import stamp_contract

    stamp_contract(ws, base.drafted)
    ahead = (ws.clock + timedelta(days=90)).date().isoformat()
    bad = forge(
        ws, base.drafted, "contract.client_sign", "approve", "zhangsan", "client", signatory="刘经理", signed_on=ahead
    )
    found = [f for f in findings(ws) if f["commit"] == bad]
    assert [f["kind"] for f in found] == ["future-date"] and f"paper is dated {ahead}" in found[0]["message"]


def test_a_person_field_naming_someone_without_its_role_is_named(ws: Team, base: Base) -> None:
    path = ws.root / "projects" / base.drafted / "contract.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("signoffs:", "originals:\n  kept_by: fenger\nsignoffs:"),
        encoding="utf-8",
    )
    bad = hand_commit(ws, "zhangsan", trailer_message(f"{base.drafted} set", Project=base.drafted, Decision="record"))
    found = [f for f in findings(ws) if f["commit"] == bad and f["kind"] == "unknown-person"]
    assert found and "冯二 (fenger) where the field needs the role sales" in found[0]["message"]


def test_a_commit_with_no_author_email_is_named(ws: Team, base: Base) -> None:
    edit_file(ws, f"projects/{base.drafted}/contract.yaml", "amount: 190000.00", "amount: 180000.00")
    git(ws.root, "add", "-A")
    subprocess.run(
        [
            "git",
            "-C",
            str(ws.root),
            "commit",
            "-q",
            "--author=钱七 <>",
            "-m",
            trailer_message("x", Project=base.drafted, Decision="record"),
        ],
        check=True,
        capture_output=True,
    )
    assert (ws.head(), "author-unknown") in kinds(ws)


# --- files only an admin changes, besides the settings ---------------------------------------


def test_a_template_changed_by_a_non_admin_is_named_and_no_form_prints_through_it(ws: Team, base: Base) -> None:
    (ws.root / "templates").mkdir()
    (ws.root / "templates" / "form2.md.j2").write_text("{{ contract.amount }} × 10\n", encoding="utf-8")
    bad = hand_commit(ws, "zhangsan", "好看一点的合同审核表")
    assert (bad, "settings-by-non-admin") in kinds(ws)
    result = ws("zhangsan", "render", base.signed, "form2")
    assert result.exit_code == 1 and f"commit {bad[:7]}" in said(result) and "× 10" not in result.output


@pytest.mark.parametrize("path", [".gitattributes", "projects/{pid}/.gitattributes", "acknowledgements.yaml/README"])
def test_files_that_change_how_every_clone_reads_are_the_admins(ws: Team, base: Base, path: str) -> None:
    ws.ok("zhangsan", "set", base.drafted, "contract.notes=y")  # the settings' answer is kept for this commit
    assert list((ws.root / ".git" / "xmflow").glob("settings.*-*.pickle"))
    target = ws.root / path.format(pid=base.signed)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("*.yaml eol=crlf\n", encoding="utf-8")  # every clone would write the records otherwise
    bad = hand_commit(ws, "zhangsan", "attributes")
    assert (bad, "settings-by-non-admin") in kinds(ws)
    assert ws("zhangsan", "set", base.drafted, "contract.notes=x").exit_code == 1


def test_a_process_named_with_dot_slash_is_refused(ws: Team) -> None:
    config = ws.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "process: ./process.yaml\n", encoding="utf-8")
    result = ws("wangjg", "check")
    assert result.exit_code == 1 and "write 'process.yaml', not './process.yaml'" in said(result)


def test_a_process_file_that_is_missing_at_the_tip_is_named(ws: Team) -> None:
    config = ws.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "process: missing.yaml\n", encoding="utf-8")
    tip = hand_commit(ws, "wangjg", "use our own process")
    found = [f for f in findings(ws) if f["commit"] == tip]
    assert [f["kind"] for f in found] == ["settings-unreadable"] and "missing.yaml" in found[0]["message"]


def test_check_names_a_pending_settings_change_by_someone_who_is_not_an_admin(ws: Team) -> None:
    people = ws.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace("roles: [sales]}", "roles: [sales, admin]}", 1), encoding="utf-8"
    )
    result = ws("zhangsan", "check", env=WIDE)
    assert result.exit_code == 1 and "people.yaml: changed, and 张三 (zhangsan) is not an admin" in result.stderr
    assert ws("wangjg", "check").exit_code == 0  # the admin may commit it


def test_the_kept_answer_on_the_settings_follows_an_admins_change(ws: Team, base: Base) -> None:
    import pickle

    ws.ok("zhangsan", "set", base.drafted, "contract.notes=y")
    config = ws.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "max_backdate_days: 45\n", encoding="utf-8")
    admin = hand_commit(ws, "wangjg", "xmflow.yaml: a longer window")
    ws.ok("zhangsan", "set", base.drafted, "contract.notes=z")  # works it out afresh at the admin's commit
    (kept,) = (ws.root / ".git" / "xmflow").glob("settings.*-*.pickle")
    commit, paths, refusal, people = pickle.loads(kept.read_bytes())["last"]
    assert commit == admin and refusal is None and "xmflow.yaml" in paths
    assert "admin" in people.by_id("wangjg").roles  # the people check tells an admin by

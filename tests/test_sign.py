"""Signing: roles, prerequisites, requirements, the reject loops, client signatures, trailers."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from conftest import TERMS, Team, draft_contract, git, open_project, plan_ready, refused, sign_contract, stamp_contract


def trailers(team: Team, rev: str = "HEAD") -> dict[str, str]:
    """The trailers of a commit, as git itself parses them."""
    message = git(team.root, "log", "-1", "--format=%B", rev)
    out = subprocess.run(
        ["git", "-C", str(team.root), "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split(": ", 1) for line in out.splitlines() if line)


def test_5_sign_off_commit_has_the_trailers_and_the_digest_of_the_file(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review", "-m", "同意")
    found = trailers(team)
    assert found["Xmflow-Project"] == pid
    assert found["Xmflow-Step"] == "contract.supervisor_review"
    assert found["Xmflow-Decision"] == "approve"
    assert found["Xmflow-Role"] == "sales_supervisor"
    assert found["Xmflow-Clause"] == "3.5.2"
    assert found["Xmflow-Digest"].startswith("sha256:") and len(found["Xmflow-Digest"]) == 71
    assert git(team.root, "log", "-1", "--format=%an <%ae>") == "赵六 <zhaoliu@example.com>\n"
    text = (team.root / "projects" / pid / "contract.yaml").read_text(encoding="utf-8")
    assert f"digest: {found['Xmflow-Digest']}" in text and "by: zhaoliu" in text and "comment: 同意" in text
    assert git(team.root, "show", "--stat", "--format=", "HEAD").count("|") == 1  # exactly the stage file


def test_1_1_a_salesperson_may_not_sign_another_salespersons_project(team: Team) -> None:
    pid = open_project(team)  # zhangsan's
    message = refused(team, "lisi", "sign", pid, "contract.draft")
    assert "may not sign contract.draft" in message and "initiation.sales" in message


def test_1_1_someone_not_in_people_yaml_may_not_sign(team: Team) -> None:
    pid = open_project(team)
    assert "people.yaml" in refused(team, "stranger", "sign", pid, "contract.draft")


def test_3_5_2_only_the_supervisor_signs_the_review(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    message = refused(team, "qianqi", "sign", pid, "contract.supervisor_review")
    assert "3.5.2" in message and "sales_supervisor" in message


def test_nobody_approves_their_own_work(team: Team) -> None:
    people = (team.root / "people.yaml").read_text(encoding="utf-8")
    people = people.replace("roles: [sales]}\n  - {id: lisi", "roles: [sales, sales_supervisor]}\n  - {id: lisi")
    (team.root / "people.yaml").write_text(people, encoding="utf-8")
    git(
        team.root, "-c", "user.email=wangjg@example.com", "commit", "-qam", "zhangsan is also a supervisor"
    )  # the admin
    pid = open_project(team)
    draft_contract(team, pid)
    message = refused(team, "zhangsan", "sign", pid, "contract.supervisor_review", "--role", "sales_supervisor")
    assert "may not approve it" in message
    other = open_project(team, who="lisi")
    draft_contract(team, other, who="lisi")
    team.ok("zhangsan", "sign", other, "contract.supervisor_review", "--role", "sales_supervisor")


def test_3_5_1_the_supervisor_review_needs_the_self_review_first(team: Team) -> None:
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
    team.ok("zhangsan", "sign", pid, "contract.draft")
    message = refused(team, "zhaoliu", "sign", pid, "contract.supervisor_review")
    assert "needs contract.self_review" in message and "xmflow sign" in message
    message = refused(team, "zhangsan", "sign", pid, "contract.self_review")
    assert "payment, delivery, warranty, liability must be true" in message and "3.5.1" in message


def test_3_1_1_submit_needs_the_follow_up_phase_and_the_client(team: Team) -> None:
    pid = team.json("zhangsan", "new", "项目", "--client", "甲方", "--budget", "20万")["id"]
    team.ok("zhangsan", "set", pid, "initiation.phase=咨询")
    message = refused(team, "zhangsan", "sign", pid, "initiation.submit")
    assert "initiation.phase must be 跟踪 (is 咨询)" in message
    assert "initiation.client.contact is missing" in message and "3.1.1" in message


def test_3_4_1_payment_terms_must_add_up_to_100_percent(team: Team) -> None:
    pid = open_project(team)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "contract.number=HT-1",
        "contract.template=company",
        "contract.amount=30万",
        "contract.payment_terms=[{name: 预付, percent: 30, due: signing, days: 0}, {name: 尾款, percent: 60, due: acceptance, days: 30}]",  # noqa: E501
        "contract.warranty_months=12",
        "contract.delivery_date=2026-12-01",
    )
    assert "percent must add up to 100 (now 90)" in refused(team, "zhangsan", "sign", pid, "contract.draft")


def test_3_5_2_supervisor_reject_returns_to_the_draft(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    assert "a reject needs a reason" in refused(
        team, "zhaoliu", "sign", pid, "contract.supervisor_review", "--reject", code=2
    )
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review", "--reject", "-m", "违约责任未设上限")
    assert trailers(team)["Xmflow-Decision"] == "reject"
    assert team.state(pid, "contract.draft") == "waiting"
    assert team.state(pid, "contract.self_review") == "blocked"
    review = next(s for s in team.status(pid)["steps"] if s["step"] == "contract.supervisor_review")
    assert review["state"] == "blocked" and review["rejected"]["comment"] == "违约责任未设上限"
    team.ok("zhangsan", "set", pid, "contract.notes=违约责任以合同总额10%为上限")
    team.ok("zhangsan", "sign", pid, "contract.draft")
    team.ok("zhangsan", "sign", pid, "contract.self_review")
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    assert team.state(pid, "contract.business_review") == "waiting"


def test_3_5_3_business_centre_round_keeps_the_reviews_and_shows_the_change(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    team.ok("qianqi", "sign", pid, "contract.business_review", "--reject", "-m", "交货期改为12月10日（红字）")
    assert team.state(pid, "contract.draft") == "waiting"
    assert team.state(pid, "contract.self_review") == "signed"
    assert team.state(pid, "contract.supervisor_review") == "signed"
    team.ok("zhangsan", "set", pid, "contract.delivery_date=2026-12-10")
    team.ok("zhangsan", "sign", pid, "contract.draft", "-m", "客户已确认")
    steps = {s["step"]: s for s in team.status(pid)["steps"]}
    assert steps["contract.business_review"]["state"] == "waiting"
    assert steps["contract.supervisor_review"]["state"] == "signed"
    assert steps["contract.supervisor_review"]["changed_since"][0]["by"] == "zhaoliu"
    team.ok("qianqi", "sign", pid, "contract.business_review")
    team.ok("qianqi", "sign", pid, "contract.stamp")


def test_3_5_4_special_contract_needs_the_general_managers_approval(team: Team) -> None:
    pid = open_project(team)
    team.ok("zhangsan", "set", pid, "contract.special=true", "contract.special_reason=账期超常规")
    draft_contract(team, pid)
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    team.ok("qianqi", "sign", pid, "contract.business_review")
    assert "needs contract.gm_approval" in refused(team, "qianqi", "sign", pid, "contract.stamp")
    team.ok("sunba", "sign", pid, "contract.gm_approval", "-m", "特批")
    team.ok("qianqi", "sign", pid, "contract.stamp")


def test_3_5_4_gm_approval_does_not_apply_to_an_ordinary_contract(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    assert "does not apply" in refused(team, "sunba", "sign", pid, "contract.gm_approval")


def test_3_6_2_client_signature_is_recorded_with_signatory_evidence_and_paper_date(team: Team, tmp_path: Path) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    stamp_contract(team, pid)
    assert "--signatory" in refused(team, "zhangsan", "sign", pid, "contract.client_sign", code=2)
    assert "--signatory" in refused(team, "zhangsan", "sign", pid, "contract.client_sign", "--role", "client", code=2)
    refused(team, "zhengyi", "sign", pid, "contract.client_sign", "--role", "client", "--signatory", "刘经理")
    scan = tmp_path / "signed.PDF"
    scan.write_bytes(b"%PDF-1.4 scan of the signed contract")
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
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
        "--date",
        "2026-9-1",
    )
    found = trailers(team)
    assert found["Xmflow-Signatory"] == "刘经理" and found["Xmflow-Evidence"] == f"sha256:{digest}"
    copied = team.root / "projects" / pid / "files" / f"contract.client_sign-{digest[:12]}.pdf"
    assert copied.read_bytes() == scan.read_bytes()
    text = (team.root / "projects" / pid / "contract.yaml").read_text(encoding="utf-8")
    assert f"sha256: {digest}" in text and "signed_on: 2026-09-01" in text and "signatory: 刘经理" in text
    assert "files/contract.client_sign-" in git(team.root, "show", "--stat", "--format=", "HEAD")


def test_3_3_1_countersign_needs_both_sales_and_the_client(team: Team) -> None:
    pid = open_project(team, "150万")
    plan_ready(team, pid, milestones=False)
    assert "plan.milestones needs at least 1" in refused(team, "zhangsan", "sign", pid, "plan.countersign")
    team.ok("zhangsan", "set", pid, "plan.milestones=[{name: 合同签订}]")
    assert "item 1 has no due" in refused(team, "zhangsan", "sign", pid, "plan.countersign")
    team.ok("zhangsan", "set", pid, "plan.milestones.0.due=2026-10-15")
    team.ok("zhangsan", "sign", pid, "plan.countersign", "--role", "client", "--signatory", "刘经理")
    assert team.state(pid, "plan.countersign") == "waiting"
    assert "already signed as client" in refused(
        team, "zhangsan", "sign", pid, "plan.countersign", "--role", "client", "--signatory", "刘经理"
    )
    team.ok("zhangsan", "sign", pid, "plan.countersign")
    assert team.state(pid, "plan.countersign") == "signed"
    assert "is already complete" in refused(team, "zhangsan", "sign", pid, "plan.countersign")


def test_3_3_3_key_project_contract_waits_for_the_clients_sample_review(team: Team) -> None:
    pid = open_project(team, "150万")
    team.ok("zhangsan", "set", pid, "initiation.team.kickoff_date=2026-09-01", "initiation.team.members=[zhangsan]")
    team.ok("zhangsan", "sign", pid, "initiation.team")
    team.ok(
        "zhangsan",
        "set",
        pid,
        "plan.approach=方案",
        "plan.samples.model=M",
        "plan.samples.configuration=C",
        "plan.samples.drawings=D",
        "plan.samples.color=黑",
        "plan.samples.silkscreen=S",
        "plan.milestones=[{name: 合同签订, due: 2026-10-15}]",
    )
    team.ok("zhangsan", "sign", pid, "plan.draft")
    team.ok("zhangsan", "sign", pid, "plan.sample_details")
    team.ok("zhangsan", "sign", pid, "plan.countersign")
    team.ok("zhangsan", "sign", pid, "plan.countersign", "--role", "client", "--signatory", "刘经理")
    # 3.3.2: a sample on site: the request, then (3.3.3) the client's review before the contract.
    team.ok(
        "zhangsan",
        "set",
        pid,
        "samples.required=true",
        "samples.model=M",
        "samples.quantity=1",
        "samples.delivery_date=2026-09-22",
    )
    team.ok("zhangsan", "sign", pid, "samples.request")
    team.ok(
        "zhangsan",
        "set",
        pid,
        "contract.number=HT-1",
        "contract.template=company",
        "contract.amount=140万",
        f"contract.payment_terms={TERMS}",
        "contract.warranty_months=12",
        "contract.delivery_date=2026-12-01",
    )
    assert "needs samples.client_review" in refused(team, "zhangsan", "sign", pid, "contract.draft")
    team.ok("zhangsan", "sign", pid, "samples.client_review", "--reject", "-m", "颜色不对", "--signatory", "刘经理")
    assert team.state(pid, "samples.request") == "waiting"
    team.ok("zhangsan", "sign", pid, "samples.request")
    team.ok("zhangsan", "sign", pid, "samples.client_review", "--signatory", "刘经理")
    team.ok("zhangsan", "sign", pid, "contract.draft")


def test_3_3_2_samples_do_not_apply_unless_required(team: Team) -> None:
    pid = open_project(team)
    assert team.state(pid, "samples.request") == "skipped"
    assert "does not apply" in refused(team, "zhangsan", "sign", pid, "samples.request")


def test_a_step_without_a_return_point_cannot_be_rejected(team: Team) -> None:
    pid = open_project(team)
    assert "cannot be rejected" in refused(team, "zhangsan", "sign", pid, "contract.draft", "--reject", "-m", "x")


def test_unknown_step_is_bad_usage_with_a_suggestion(team: Team) -> None:
    pid = open_project(team)
    assert "did you mean contract.draft" in refused(team, "zhangsan", "sign", pid, "contract.drafts", code=2)
    assert "no project" in refused(team, "zhangsan", "sign", "2099-999", "contract.draft", code=2)


def test_a_hand_edit_is_never_swept_into_a_sign_off(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    path = team.root / "projects" / pid / "contract.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("HT-1", "HT-666"), encoding="utf-8")
    before = team.head()
    result = team("zhaoliu", "sign", pid, "contract.supervisor_review")
    assert result.exit_code == 2 and "uncommitted changes" in result.output and "contract.yaml" in result.output
    assert team.head() == before and "HT-666" in path.read_text(encoding="utf-8")


def test_a_failing_git_hook_leaves_nothing_behind(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    hook = team.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    path = team.root / "projects" / pid / "contract.yaml"
    text = path.read_text(encoding="utf-8")
    message = refused(team, "zhaoliu", "sign", pid, "contract.supervisor_review", code=2)
    assert "hook says no" in message
    assert path.read_text(encoding="utf-8") == text


def test_3_2_1_the_plan_is_drafted_by_a_team_member(team: Team) -> None:
    pid = open_project(team, "150万")
    team.ok(
        "zhangsan", "set", pid, "initiation.team.kickoff_date=2026-09-01", "initiation.team.members=[zhangsan, hewu]"
    )
    team.ok("zhangsan", "sign", pid, "initiation.team")
    team.ok("zhangsan", "set", pid, "plan.approach=方案")
    assert "initiation.team.members" in refused(team, "lisi", "sign", pid, "plan.draft")
    team.ok("hewu", "sign", pid, "plan.draft")
    assert trailers(team)["Xmflow-Role"] == "team"


def test_3_7_2_shipping_follows_the_signed_contract_and_the_shipping_order(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    assert "needs contract.client_sign" in refused(team, "zhengyi", "sign", pid, "installation.ready_to_ship")
    sign_contract(team, pid)
    team.ok("zhengyi", "sign", pid, "installation.ready_to_ship")
    team.ok("zhangsan", "set", pid, "installation.shipped_date=2026-10-08", at=team.on("2026-10-08"))
    assert "needs installation.ship_order" in refused(team, "zhangsan", "sign", pid, "installation.shipped")
    team.ok("qianqi", "sign", pid, "installation.ship_order")
    team.ok("zhangsan", "sign", pid, "installation.shipped")


def test_3_2_2_sample_details_need_model_configuration_drawings_colour_and_silkscreen(team: Team) -> None:
    pid = open_project(team, "150万")
    team.ok("zhangsan", "set", pid, "initiation.team.kickoff_date=2026-09-01", "initiation.team.members=[zhangsan]")
    team.ok("zhangsan", "sign", pid, "initiation.team")
    team.ok("zhangsan", "set", pid, "plan.approach=方案", "plan.samples.model=M")
    team.ok("zhangsan", "sign", pid, "plan.draft")
    message = refused(team, "zhangsan", "sign", pid, "plan.sample_details")
    for detail in ("configuration", "drawings", "color", "silkscreen"):
        assert f"plan.samples.{detail} is missing" in message
    assert "plan.samples.model" not in message


def test_3_2_3_changing_the_sample_details_after_signing_needs_a_new_signature(team: Team) -> None:
    pid = open_project(team, "150万")
    plan_ready(team, pid, milestones=False)
    result = team.ok("zhangsan", "set", pid, "plan.samples.color=白")
    assert "plan.sample_details" in result.output and "signed again" in result.output
    assert team.state(pid, "plan.sample_details") == "waiting"

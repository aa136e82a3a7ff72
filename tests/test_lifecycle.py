"""Whole projects through the procedure, each step by the person the procedure names."""

from __future__ import annotations

from conftest import TERMS, Team, draft_contract, git, open_project, sign_contract


def next_steps(team: Team, pid: str) -> dict[str, list[str]]:
    """The portfolio's next steps of one project, and who may act on each."""
    rows = team.json("wangjg", "status", "--as-of", "2026-12-31")
    row = next(r for r in rows if r["id"] == pid)
    return {n["step"]: n["people"] for n in row["next"]}


def test_2_2_key_project_goes_through_every_step(team: Team) -> None:
    pid = open_project(team, "150万")
    assert team.json("wangjg", "show", pid)["key"] is True
    assert next_steps(team, pid) == {"initiation.team": ["zhangsan"]}

    # 3.1.3 the project team; 3.2 the plan; 3.3.1 the countersign with the client.
    team.ok(
        "zhangsan", "set", pid, "initiation.team.kickoff_date=2026-09-01", "initiation.team.members=[zhangsan, hewu]"
    )
    team.ok("zhangsan", "sign", pid, "initiation.team")
    assert next_steps(team, pid) == {"plan.draft": ["zhangsan", "hewu"]}
    team.ok("hewu", "set", pid, "plan.approach=分两期实施")
    team.ok("hewu", "sign", pid, "plan.draft")
    team.ok(
        "zhangsan",
        "set",
        pid,
        "plan.samples.model=P3.9",
        "plan.samples.configuration=双电源",
        "plan.samples.drawings=DWG-1",
        "plan.samples.color=深灰",
        "plan.samples.silkscreen=标识",
    )
    team.ok("zhangsan", "sign", pid, "plan.sample_details")
    team.ok("zhangsan", "set", pid, "plan.milestones=[{name: 合同签订, due: 2026-10-15}]")
    team.ok("zhangsan", "sign", pid, "plan.countersign")
    assert team.state(pid, "plan.countersign") == "waiting"
    assert next_steps(team, pid) == {"plan.countersign": ["zhangsan", "wushi"]}  # the client's, recorded
    team.ok("zhangsan", "sign", pid, "plan.countersign", "--role", "client", "--signatory", "刘经理")
    assert team.state(pid, "plan.countersign") == "signed"

    # 3.4–3.6 the contract, with both reject loops.
    draft_contract(team, pid, "149万")
    sign_contract(team, pid)
    assert next_steps(team, pid) == {"installation.ready_to_ship": ["zhengyi"]}

    # 3.7 shipping and installation on site.
    team.ok(
        "zhangsan",
        "set",
        pid,
        "installation.on_site=true",
        "installation.site.address=深圳南山",
        "installation.site.contact=刘经理",
        "installation.requirements=持证高空作业",
    )
    assert set(next_steps(team, pid)) == {"installation.notify_service", "installation.ready_to_ship"}
    team.ok("zhangsan", "sign", pid, "installation.notify_service")
    team.ok("wushi", "set", pid, "installation.staff=[王师傅]", "installation.scheduled_date=2026-11-03")
    team.ok("wushi", "sign", pid, "installation.schedule")
    team.ok("zhengyi", "sign", pid, "installation.ready_to_ship")
    team.ok("qianqi", "sign", pid, "installation.ship_order")
    team.ok("zhangsan", "set", pid, "installation.shipped_date=2026-10-30", at=team.on("2026-10-30"))
    team.ok("zhangsan", "sign", pid, "installation.shipped")
    team.ok("hewu", "set", pid, "installation.commissioned_date=2026-11-06", at=team.on("2026-11-06"))
    team.ok("hewu", "sign", pid, "installation.commissioned")

    # 3.8 acceptance, 3.9 handover, 4.0 collection, 4.1–4.2 archive.
    team.ok("wushi", "set", pid, "acceptance.request_date=2026-11-07", at=team.on("2026-11-07"))
    team.ok("wushi", "sign", pid, "acceptance.request")
    team.ok(
        "zhangsan", "set", pid, "acceptance.accepted_date=2026-11-10", "acceptance.copies=2", at=team.on("2026-11-10")
    )
    team.ok("zhangsan", "sign", pid, "acceptance.client_sign", "--role", "client", "--signatory", "刘经理")
    team.ok("wushi", "sign", pid, "handover.endorse")
    team.ok("wushi", "set", pid, "handover.registration_no=SH-1")
    team.ok("wushi", "sign", pid, "handover.registration")
    team.ok("wushi", "sign", pid, "handover.registration", "--role", "client", "--signatory", "刘经理")
    team.ok("zhangsan", "invoice", pid, "149万", "--number", "FP-1")
    team.ok("fenger", "receive", pid, "149万", "--ref", "工行")
    team.ok("fenger", "sign", pid, "collection.settled")
    team.ok(
        "zhangsan",
        "set",
        pid,
        "archive.documents={plan: true, contract: true, process_form: true, acceptance_report: true}",
        "archive.copies={sales: true, customer_service: true}",
    )
    team.ok("zhangsan", "sign", pid, "archive.collate")
    team.ok("chensan", "set", pid, "archive.volume=XM-2026-001")
    team.ok("chensan", "sign", pid, "archive.file")

    status = team.status(pid)
    assert status["closed"] is True and status["next"] == []
    assert {s["state"] for s in status["steps"]} == {"signed", "skipped"}
    skipped = {s["step"] for s in status["steps"] if s["state"] == "skipped"}
    assert skipped == {
        "initiation.vp_approval",
        "samples.request",
        "samples.client_review",
        "contract.gm_approval",
        "withdrawal.request",
        "withdrawal.approve",
    }  # never withdrawn
    assert team.clean()
    shown = team.json("wangjg", "show", pid)
    assert shown["derived"]["warranty_end"] == "2027-11-10"  # 3.9.2: from the acceptance date
    assert shown["derived"]["outstanding"] == "0.00"


def test_3_1_1_small_project_skips_plan_and_countersign(team: Team) -> None:
    pid = open_project(team, "35万")
    assert team.json("wangjg", "show", pid)["key"] is False
    assert team.state(pid, "initiation.team") == "skipped"
    assert team.state(pid, "plan.countersign") == "skipped"
    assert next_steps(team, pid) == {"contract.draft": ["zhangsan"]}
    draft_contract(team, pid)
    sign_contract(team, pid)
    team.ok("zhengyi", "sign", pid, "installation.ready_to_ship")
    team.ok("qianqi", "sign", pid, "installation.ship_order")
    team.ok("zhangsan", "set", pid, "installation.shipped_date=2026-10-08", at=team.on("2026-10-08"))
    team.ok("zhangsan", "sign", pid, "installation.shipped")
    assert team.state(pid, "installation.commissioned") == "skipped"  # not on site
    team.ok("zhangsan", "set", pid, "acceptance.request_date=2026-10-15", at=team.on("2026-10-15"))
    team.ok("zhangsan", "sign", pid, "acceptance.request")
    team.ok(
        "zhangsan", "set", pid, "acceptance.accepted_date=2026-10-20", "acceptance.copies=2", at=team.on("2026-10-20")
    )
    team.ok("zhangsan", "sign", pid, "acceptance.client_sign", "--role", "client", "--signatory", "黄女士")
    team.ok("wushi", "sign", pid, "handover.endorse")
    team.ok("wushi", "set", pid, "handover.registration_no=SH-2")
    team.ok("wushi", "sign", pid, "handover.registration")
    team.ok("wushi", "sign", pid, "handover.registration", "--role", "client", "--signatory", "黄女士")
    team.ok(
        "zhangsan",
        "set",
        pid,
        "archive.documents={contract: true, acceptance_report: true}",
        "archive.copies={sales: true, customer_service: true}",
    )
    team.ok("zhangsan", "sign", pid, "archive.collate")
    team.ok("chensan", "set", pid, "archive.volume=XM-2")
    team.ok("chensan", "sign", pid, "archive.file")
    assert team.status(pid)["closed"] is False  # not settled yet (4.0)
    team.ok("zhangsan", "invoice", pid, "34.8万", "--number", "FP-2")
    team.ok("fenger", "receive", pid, "10万")
    team.ok("fenger", "receive", pid, "24.8万")
    team.ok("fenger", "sign", pid, "collection.settled")
    assert team.status(pid)["closed"] is True
    # a project filed and paid is done, not withdrawn: its withdrawal does not apply
    team.ok("zhangsan", "set", pid, "withdrawal.reason=客户取消")
    refused = team("zhangsan", "sign", pid, "withdrawal.request")
    assert refused.exit_code == 1 and "does not apply" in refused.output, refused.output


def test_3_1_2_C_special_project_becomes_key_when_the_vp_approves(team: Team) -> None:
    pid = open_project(team, "60万", "--special", who="lisi")
    assert team.json("wangjg", "show", pid)["key"] is False
    assert next_steps(team, pid) == {"initiation.vp_approval": ["zhoujiu"], "contract.draft": ["lisi"]}
    team.ok("zhoujiu", "sign", pid, "initiation.vp_approval", "-m", "同意")
    assert team.json("wangjg", "show", pid)["key"] is True
    assert next_steps(team, pid) == {"initiation.team": ["lisi"]}  # now the key path: team, plan, countersign
    assert team.state(pid, "plan.countersign") == "blocked"


def test_3_1_2_C_vp_reject_keeps_the_project_small(team: Team) -> None:
    pid = open_project(team, "60万", "--special", who="lisi")
    team.ok("zhoujiu", "sign", pid, "initiation.vp_approval", "--reject", "-m", "不属于特殊项目")
    status = team.status(pid)
    vp = next(s for s in status["steps"] if s["step"] == "initiation.vp_approval")
    assert vp["state"] == "declined" and vp["rejected"]["comment"] == "不属于特殊项目"
    assert status["key"] is False
    assert "initiation.vp_approval" not in {n["step"] for n in status["next"]}  # an answer: nobody waits on the VP


def test_3_1_2_A_industry_need_makes_a_small_budget_key(team: Team) -> None:
    pid = open_project(team, "10万", "--industry-need")
    assert team.json("wangjg", "show", pid)["key"] is True


def test_3_4_2_client_template_is_accepted(team: Team) -> None:
    pid = open_project(team)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "contract.number=HT-9",
        "contract.template=client",
        "contract.amount=30万",
        f"contract.payment_terms={TERMS}",
        "contract.warranty_months=6",
        "contract.delivery_date=2026-12-01",
    )
    team.ok("zhangsan", "sign", pid, "contract.draft")
    assert "template: client\n" in git(team.root, "show", f"HEAD:projects/{pid}/contract.yaml")
    assert team.state(pid, "contract.draft") == "signed"
    assert team.state(pid, "contract.self_review") == "blocked"  # 3.5.1 comes next

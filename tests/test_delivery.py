"""From the signed contract to the archive: 3.6–4.2, step by step, with their refusals."""

from __future__ import annotations

from conftest import Team, accepted, draft_contract, open_project, refused, shipped, sign_contract


def contracted(team: Team, on_site: bool = True) -> str:
    pid = open_project(team)
    draft_contract(team, pid)
    sign_contract(team, pid)
    team.ok("zhangsan", "set", pid, f"installation.on_site={'true' if on_site else 'false'}")
    return pid


def test_3_6_1_the_client_signs_only_the_stamped_contract(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    team.ok("qianqi", "sign", pid, "contract.business_review")
    team.ok("zhangsan", "set", pid, "contract.originals.copies=2", "contract.originals.kept_by=zhangsan")
    assert "needs contract.stamp" in refused(
        team, "zhangsan", "sign", pid, "contract.client_sign", "--signatory", "刘经理"
    )
    assert "business_center" in refused(team, "zhaoliu", "sign", pid, "contract.stamp")
    team.ok("qianqi", "sign", pid, "contract.stamp")
    team.ok("zhangsan", "sign", pid, "contract.client_sign", "--signatory", "刘经理")


def test_3_6_2_the_originals_are_recorded_before_the_client_signs(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    team.ok("qianqi", "sign", pid, "contract.business_review")
    team.ok("qianqi", "sign", pid, "contract.stamp")
    message = refused(team, "zhangsan", "sign", pid, "contract.client_sign", "--signatory", "刘经理")
    assert "contract.originals.copies is missing" in message and "contract.originals.kept_by is missing" in message


def test_3_7_1_on_site_installation_notifies_customer_service_who_schedules_staff(team: Team) -> None:
    pid = contracted(team)
    message = refused(team, "zhangsan", "sign", pid, "installation.notify_service")
    assert "installation.site.address is missing" in message and "installation.requirements is missing" in message
    team.ok(
        "zhangsan",
        "set",
        pid,
        "installation.site.address=深圳南山",
        "installation.site.contact=刘经理",
        "installation.requirements=持证作业",
    )
    team.ok("zhangsan", "sign", pid, "installation.notify_service")
    assert "customer_service" in refused(team, "zhangsan", "sign", pid, "installation.schedule")
    assert "installation.staff needs at least 1" in refused(team, "wushi", "sign", pid, "installation.schedule")
    team.ok("wushi", "set", pid, "installation.staff=[王师傅]", "installation.scheduled_date=2026-11-03")
    team.ok("wushi", "sign", pid, "installation.schedule")


def test_3_7_1_without_on_site_installation_customer_service_is_not_involved(team: Team) -> None:
    pid = contracted(team, on_site=False)
    assert team.state(pid, "installation.notify_service") == "skipped"
    assert team.state(pid, "installation.schedule") == "skipped"
    assert team.state(pid, "installation.commissioned") == "skipped"


def test_3_7_3_sales_or_presales_confirm_commissioning_after_shipping_and_scheduling(team: Team) -> None:
    pid = contracted(team)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "installation.site.address=深圳",
        "installation.site.contact=刘经理",
        "installation.requirements=规范",
        "installation.commissioned_date=2026-11-06",
        at=team.on("2026-11-06"),
    )
    team.ok("zhangsan", "sign", pid, "installation.notify_service")
    shipped(team, pid)
    assert "needs installation.schedule" in refused(team, "hewu", "sign", pid, "installation.commissioned")
    team.ok("wushi", "set", pid, "installation.staff=[王师傅]", "installation.scheduled_date=2026-11-03")
    team.ok("wushi", "sign", pid, "installation.schedule")
    refused(team, "zhengyi", "sign", pid, "installation.commissioned")
    team.ok("hewu", "sign", pid, "installation.commissioned")
    assert team.state(pid, "installation.commissioned") == "signed"


def test_3_8_1_acceptance_is_requested_after_shipping_by_sales_or_customer_service(team: Team) -> None:
    pid = contracted(team, on_site=False)
    team.ok("wushi", "set", pid, "acceptance.request_date=2026-11-07", at=team.on("2026-11-07"))
    assert "needs installation.shipped" in refused(team, "wushi", "sign", pid, "acceptance.request")
    shipped(team, pid)
    refused(team, "zhengyi", "sign", pid, "acceptance.request")
    team.ok("wushi", "sign", pid, "acceptance.request")


def test_3_8_2_the_client_signs_the_acceptance_report_in_duplicate(team: Team) -> None:
    pid = contracted(team, on_site=False)
    shipped(team, pid)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "acceptance.request_date=2026-11-07",
        "acceptance.accepted_date=2026-11-10",
        "acceptance.copies=1",
        at=team.on("2026-11-10"),
    )
    team.ok("zhangsan", "sign", pid, "acceptance.request")
    assert "acceptance.copies must be 2 (is 1)" in refused(
        team, "zhangsan", "sign", pid, "acceptance.client_sign", "--signatory", "刘经理"
    )
    team.ok("zhangsan", "set", pid, "acceptance.copies=2")
    team.ok("zhangsan", "sign", pid, "acceptance.client_sign", "--signatory", "刘经理", "--date", "2026-11-10")
    assert team.state(pid, "collection.settled") == "blocked"  # 3.8.2: on to collecting payment


def test_3_9_1_customer_service_endorses_the_acceptance_report(team: Team) -> None:
    pid = contracted(team, on_site=False)
    shipped(team, pid)
    assert "needs acceptance.client_sign" in refused(team, "wushi", "sign", pid, "handover.endorse")
    team.ok(
        "zhangsan",
        "set",
        pid,
        "acceptance.request_date=2026-11-07",
        "acceptance.accepted_date=2026-11-10",
        "acceptance.copies=2",
        at=team.on("2026-11-10"),
    )
    team.ok("zhangsan", "sign", pid, "acceptance.request")
    team.ok("zhangsan", "sign", pid, "acceptance.client_sign", "--signatory", "刘经理")
    refused(team, "zhangsan", "sign", pid, "handover.endorse")
    team.ok("wushi", "sign", pid, "handover.endorse", "-m", "资料齐全")


def test_3_9_2_after_sales_service_runs_from_the_acceptance_date(team: Team) -> None:
    pid = contracted(team, on_site=False)
    assert team.json("wangjg", "show", pid)["derived"]["warranty_end"] is None
    accepted(team, pid)
    assert team.json("wangjg", "show", pid)["derived"]["warranty_end"] == "2027-11-10"  # 12 months


def test_3_9_3_the_registration_form_is_signed_by_both_sides(team: Team) -> None:
    pid = contracted(team, on_site=False)
    accepted(team, pid)
    team.ok("wushi", "sign", pid, "handover.endorse")
    assert "handover.registration_no is missing" in refused(team, "wushi", "sign", pid, "handover.registration")
    team.ok("wushi", "set", pid, "handover.registration_no=SH-1")
    team.ok("wushi", "sign", pid, "handover.registration", "--signatory", "刘经理")
    assert team.state(pid, "handover.registration") == "waiting"
    team.ok("wushi", "sign", pid, "handover.registration")
    assert team.state(pid, "handover.registration") == "signed"


def test_4_2_document_control_files_the_volume_or_returns_it(team: Team) -> None:
    pid = contracted(team, on_site=False)
    accepted(team, pid)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "archive.documents={contract: true, acceptance_report: true}",
        "archive.copies={sales: true, customer_service: true}",
    )
    assert "needs archive.collate" in refused(team, "chensan", "sign", pid, "archive.file")
    team.ok("zhangsan", "sign", pid, "archive.collate")
    assert "archive.volume is missing" in refused(team, "chensan", "sign", pid, "archive.file")
    team.ok("chensan", "sign", pid, "archive.file", "--reject", "-m", "验收报告缺甲方盖章")
    assert team.state(pid, "archive.collate") == "waiting"
    team.ok("zhangsan", "sign", pid, "archive.collate")
    team.ok("chensan", "set", pid, "archive.volume=XM-2026-001")
    refused(team, "zhangsan", "sign", pid, "archive.file")
    team.ok("chensan", "sign", pid, "archive.file")


def test_1_3_receivables_keep_a_project_open_until_paid_in_full(team: Team) -> None:
    pid = contracted(team, on_site=False)
    accepted(team, pid)
    team.ok("zhangsan", "invoice", pid, "34.8万", "--number", "FP-1")
    team.ok("fenger", "receive", pid, "30万")
    row = next(r for r in team.json("wangjg", "status") if r["id"] == pid)
    assert row["received"] == "300000.00" and row["amount"] == "348000.00"
    assert "collection.settled" in [n["step"] for n in row["next"]]
    assert "must add up to 348000.00 (now 300000.00)" in refused(team, "fenger", "sign", pid, "collection.settled")

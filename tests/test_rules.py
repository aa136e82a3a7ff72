"""The rules on in-memory records: no git, no files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from memory import PROCESS, T0, Build, contract_ready

from xmflow.model import Config, Decision, Person, Signoff, StepState
from xmflow.records import stages as records
from xmflow.rules.project import holds_role, sign_refusals
from xmflow.values import parse_money

ZHANGSAN = Person("zhangsan", "张三", "zs@example.com", frozenset({"sales"}))
DUAL = Person("dual", "双角色", "dual@example.com", frozenset({"sales", "sales_supervisor"}))
ZHAOLIU = Person("zhaoliu", "赵六", "zl@example.com", frozenset({"sales_supervisor"}))
WUSHI = Person("wushi", "吴十", "ws@example.com", frozenset({"customer_service"}))
ZHENGYI = Person("zhengyi", "郑一", "zy@example.com", frozenset({"production_supervisor"}))


@pytest.mark.parametrize("budget, key", [("100万", True), ("999999.99", False), ("1.5亿", True)])
def test_3_1_2_B_budget_at_the_threshold_is_key(budget: str, key: bool) -> None:
    assert Build(budget).view().key is key


def test_3_1_2_B_the_workspace_sets_the_threshold() -> None:
    assert Build("60万", Config("c", key_threshold=parse_money("50万"))).view().key is True


def test_3_1_2_A_industry_need_is_key() -> None:
    assert Build("1万", key_criteria={"industry_need": True}).view().key is True


def test_3_1_2_C_special_is_key_only_with_the_vps_approval() -> None:
    build = Build("1万", key_criteria={"special": True}).sign("initiation.submit")
    assert build.view().key is False
    assert build.state("initiation.vp_approval") is StepState.WAITING
    build.sign("initiation.vp_approval", by="zhoujiu", role="vp")
    assert build.view().key is True
    assert build.state("initiation.team") is StepState.BLOCKED  # team fields missing


def test_3_1_3_team_and_plan_are_skipped_for_a_small_project() -> None:
    build = Build().sign("initiation.submit")
    for step in ("initiation.team", "plan.draft", "plan.sample_details", "plan.countersign"):
        assert build.state(step) is StepState.SKIPPED
    assert build.view().stage_complete(PROCESS.stage("initiation"))


def test_a_change_after_a_signature_undoes_it() -> None:
    build = contract_ready(Build())
    assert build.state("contract.draft") is StepState.SIGNED
    build.set("contract", amount=parse_money("31万"))
    status = build.view().status(PROCESS.step("contract.draft"))
    assert status.state is StepState.WAITING and status.stale[0].by == "zhangsan"
    assert build.state("contract.self_review") is StepState.BLOCKED


def test_a_field_a_later_step_fills_in_does_not_undo_earlier_signatures() -> None:
    build = contract_ready(Build())
    build.set("contract", originals={"copies": 2, "kept_by": "zhangsan"})
    assert build.state("contract.draft") is StepState.SIGNED
    assert build.state("contract.self_review") is StepState.SIGNED


def test_3_5_2_reject_clears_the_return_point_and_what_follows() -> None:
    build = contract_ready(Build())
    build.sign(
        "contract.supervisor_review", by="zhaoliu", role="sales_supervisor", decision=Decision.REJECT, comment="改"
    )
    view = build.view()
    assert view.status(PROCESS.step("contract.draft")).state is StepState.WAITING
    assert view.status(PROCESS.step("contract.self_review")).state is StepState.BLOCKED
    assert view.status(PROCESS.step("contract.supervisor_review")).rejected.comment == "改"


def test_3_5_3_business_reject_keeps_the_reviews_standing_through_the_change() -> None:
    build = contract_ready(Build()).sign("contract.supervisor_review", by="zhaoliu", role="sales_supervisor")
    build.sign(
        "contract.business_review", by="qianqi", role="business_center", decision=Decision.REJECT, comment="红字"
    )
    build.set("contract", delivery_date=T0.date() + timedelta(days=9))
    assert build.state("contract.draft") is StepState.WAITING
    supervisor = build.view().status(PROCESS.step("contract.supervisor_review"))
    assert supervisor.state is StepState.SIGNED and supervisor.changed_since[0].by == "zhaoliu"
    build.sign("contract.draft")
    assert build.state("contract.business_review") is StepState.WAITING


def test_reopen_clears_every_signature_of_the_stage() -> None:
    build = Build().sign("initiation.submit")
    record = build.project.record("initiation")
    reopen = Signoff("initiation", Decision.REOPEN, "zhangsan", "sales", T0 + timedelta(days=1), "sha256:x", "预算调整")
    build.project.records["initiation"] = records.with_signoff(record, reopen)
    assert build.state("initiation.submit") is StepState.WAITING


def test_nobody_approves_their_own_work() -> None:
    step = PROCESS.step("contract.supervisor_review")
    others = contract_ready(Build())
    assert sign_refusals(others.view(), step, DUAL, "sales_supervisor", Decision.APPROVE) == []
    own = contract_ready(Build(sales="dual"), who="dual")
    problems = sign_refusals(own.view(), step, DUAL, "sales_supervisor", Decision.APPROVE)
    assert [p.message for p in problems] == [
        "双角色 (dual) signed this stage's own work and may not approve it (nobody approves their own work)"
    ]


def test_1_1_roles_are_scoped_to_the_project() -> None:
    view = Build().view()
    lisi = Person("lisi", "李四", "ls@example.com", frozenset({"sales"}))
    assert holds_role(ZHANGSAN, "sales", view) and not holds_role(lisi, "sales", view)
    assert holds_role(WUSHI, "client", view) and holds_role(ZHANGSAN, "client", view)
    assert not holds_role(ZHENGYI, "client", view)  # only sales or customer service record the client


def test_requirements_report_every_missing_field_with_its_clause() -> None:
    build = Build()
    build.set("initiation", phase="咨询", client={"name": "甲方"})
    problems = build.view().missing_fields(PROCESS.step("initiation.submit"))
    assert [str(p) for p in problems] == [
        "initiation.submit: initiation.client.contact is missing (clause 3.1.1)",
        "initiation.submit: initiation.phase must be 跟踪 (is 咨询) (clause 3.1.1)",
    ]


def test_4_1_archive_needs_the_plan_only_for_key_projects_and_the_process_form_only_on_site() -> None:
    build = Build()
    build.set(
        "archive",
        documents={"contract": True, "acceptance_report": True},
        copies={"sales": True, "customer_service": True},
    )
    assert build.view().missing_fields(PROCESS.step("archive.collate")) == []
    build.set("installation", on_site=True)
    missing = build.view().missing_fields(PROCESS.step("archive.collate"))
    assert [p.field for p in missing] == ["archive.documents.process_form"]
    key = Build("150万")
    key.set(
        "archive",
        documents={"contract": True, "acceptance_report": True, "process_form": True},
        copies={"sales": True, "customer_service": True},
    )
    assert [p.field for p in key.view().missing_fields(PROCESS.step("archive.collate"))] == ["archive.documents.plan"]


def test_4_0_settled_needs_receipts_equal_to_the_contract_amount() -> None:
    build = Build().set("contract", amount=parse_money("34.8万"))
    build.set("collection", receipts=[{"amount": parse_money("10万")}, {"amount": parse_money("24.79万")}])
    (problem,) = build.view().missing_fields(PROCESS.step("collection.settled"))
    assert "must add up to 348000.00 (now 347900.00)" in problem.message
    build.set("collection", receipts=[{"amount": parse_money("10万")}, {"amount": parse_money("24.8万")}])
    assert build.view().missing_fields(PROCESS.step("collection.settled")) == []


def test_3_5_3_a_later_reject_ends_the_standing_of_kept_signatures() -> None:
    build = contract_ready(Build()).sign("contract.supervisor_review", by="zhaoliu", role="sales_supervisor")
    build.sign(
        "contract.business_review", by="qianqi", role="business_center", decision=Decision.REJECT, comment="红字"
    )
    build.set("contract", special=True)
    build.sign("contract.draft").sign("contract.business_review", by="qianqi", role="business_center")
    build.sign("contract.gm_approval", by="sunba", role="gm", decision=Decision.REJECT, comment="重做")
    build.sign("contract.draft").sign("contract.self_review")
    build.sign("contract.supervisor_review", by="zhaoliu", role="sales_supervisor")
    build.set("contract", amount=parse_money("10万"))
    status = build.view().status(PROCESS.step("contract.supervisor_review"))
    assert status.state is not StepState.SIGNED and status.stale[0].by == "zhaoliu"


def test_nobody_approves_work_they_signed_in_an_earlier_round() -> None:
    build = contract_ready(Build(sales="dual"), who="dual")
    build.sign("contract.supervisor_review", by="zhaoliu", role="sales_supervisor")
    build.sign("contract.business_review", by="qianqi", role="business_center", decision=Decision.REJECT, comment="改")
    build.set("contract", notes="客户确认").sign("contract.draft", by="zhangsan")  # someone else re-signs the draft
    dual_bc = Person("dual", "双角色", "dual@example.com", frozenset({"sales", "business_center"}))
    problems = sign_refusals(
        build.view(), PROCESS.step("contract.business_review"), dual_bc, "business_center", Decision.APPROVE
    )
    assert any("may not approve it" in p.message for p in problems)


def test_3_6_1_the_business_centre_does_not_stamp_its_own_contract() -> None:
    dual_bc = Person("dual", "双角色", "dual@example.com", frozenset({"sales", "business_center"}))
    build = contract_ready(Build(sales="dual"), who="dual")
    build.sign("contract.supervisor_review", by="zhaoliu", role="sales_supervisor")
    build.sign("contract.business_review", by="qianqi", role="business_center")
    problems = sign_refusals(build.view(), PROCESS.step("contract.stamp"), dual_bc, "business_center", Decision.APPROVE)
    assert any("may not approve it" in p.message for p in problems)


def test_a_step_after_a_reopened_stage_waits_for_it_again() -> None:
    build = contract_ready(Build()).sign("contract.supervisor_review", by="zhaoliu", role="sales_supervisor")
    build.sign("contract.business_review", by="qianqi", role="business_center")
    build.sign("contract.stamp", by="qianqi", role="business_center")
    build.set("contract", originals={"copies": 2, "kept_by": "zhangsan"})
    build.sign("contract.client_sign", role="client")
    build.sign("installation.ready_to_ship", by="zhengyi", role="production_supervisor")
    assert build.state("installation.ready_to_ship") is StepState.SIGNED
    reopen = Signoff("contract", Decision.REOPEN, "zhangsan", "sales", build.clock, "sha256:x", "改价")
    build.project.records["contract"] = records.with_signoff(build.project.record("contract"), reopen)
    assert build.state("installation.ready_to_ship") is StepState.BLOCKED
    assert build.state("installation.ship_order") is StepState.BLOCKED  # its prerequisite no longer holds


def test_3_7_2_the_salesperson_does_not_issue_the_shipping_order_for_their_own_project() -> None:
    dual_bc = Person("dual", "双角色", "dual@example.com", frozenset({"sales", "business_center"}))
    build = contract_ready(Build(sales="dual"), who="dual")
    build.sign("contract.supervisor_review", by="zhaoliu", role="sales_supervisor")
    build.sign("contract.business_review", by="qianqi", role="business_center")
    build.sign("contract.stamp", by="qianqi", role="business_center")
    build.set("contract", originals={"copies": 2, "kept_by": "dual"})
    build.sign("contract.client_sign", by="dual", role="client")
    build.sign("installation.ready_to_ship", by="zhengyi", role="production_supervisor")
    step = PROCESS.step("installation.ship_order")
    problems = sign_refusals(build.view(), step, dual_bc, "business_center", Decision.APPROVE)
    assert any("may not approve it" in p.message for p in problems)


def test_a_sign_off_in_a_role_the_step_does_not_have_counts_for_nothing() -> None:
    build = contract_ready(Build()).sign("contract.supervisor_review", by="zhaoliu", role="finance")
    assert build.state("contract.supervisor_review") is StepState.WAITING

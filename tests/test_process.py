"""The procedure as data: the default process matches SPEC §3, and broken process files are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xmflow import yamlio
from xmflow.errors import ProcessError, RecordError
from xmflow.procedure import parser
from xmflow.procedure.conditions import ALWAYS, Derived, FieldTrue

P = parser.load(None)
TEXT = parser.default_text()

# SPEC §3: step → (who signs, clause)
TABLE = {
    "initiation.submit": (("sales",), "3.1.1"),
    "initiation.vp_approval": (("vp",), "3.1.2 C"),
    "initiation.team": (("sales",), "3.1.3"),
    "plan.draft": (("team",), "3.2.1"),
    "plan.sample_details": (("sales",), "3.2.2–3.2.3"),
    "plan.countersign": (("sales", "client"), "3.3.1"),
    "samples.request": (("sales",), "3.3.2"),
    "samples.client_review": (("client",), "3.3.3"),
    "contract.draft": (("sales",), "3.4.1–3.4.2"),
    "contract.self_review": (("sales",), "3.5.1"),
    "contract.supervisor_review": (("sales_supervisor",), "3.5.2"),
    "contract.business_review": (("business_center",), "3.5.3"),
    "contract.gm_approval": (("gm",), "3.5.4"),
    "contract.stamp": (("business_center",), "3.5.3, 3.6.1"),
    "contract.client_sign": (("client",), "3.6.2"),
    "installation.notify_service": (("sales",), "3.7.1"),
    "installation.schedule": (("customer_service",), "3.7.1"),
    "installation.ready_to_ship": (("production_supervisor",), "3.7.2"),
    "installation.ship_order": (("business_center",), "3.7.2"),
    "installation.shipped": (("sales",), "3.7.2"),
    "installation.commissioned": (("sales", "presales"), "3.7.3"),
    "acceptance.request": (("sales", "customer_service"), "3.8.1"),
    "acceptance.client_sign": (("client",), "3.8.2"),
    "handover.endorse": (("customer_service",), "3.9.1"),
    "handover.registration": (("customer_service", "client"), "3.9.2–3.9.3"),
    "collection.settled": (("finance",), "4.0"),
    "archive.collate": (("sales",), "4.1"),
    "archive.file": (("doc_control",), "4.2"),
    # not a clause of the procedure: withdrawing a project (终止), by its salesperson with the supervisor's approval
    "withdrawal.request": (("sales",), ""),
    "withdrawal.approve": (("sales_supervisor",), ""),
}


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the *occurrence*-th appearance of *needle* in *text*."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


def broken(old: str, new: str) -> tuple[str, str]:
    """The default text with *old* (which must occur) replaced once by *new*; and the parse error."""
    assert old in TEXT, old
    text = TEXT.replace(old, new, 1)
    with pytest.raises(ProcessError) as info:
        parser.parse(text, "p.yaml")
    assert info.value.exit_code == 2
    return text, info.value.message


# --- the default process ----------------------------------------------------------------------


def test_default_process_loads_with_its_name_and_revision_record() -> None:
    assert P.name == "营销项目作业控制程序"
    assert P.document == "XM-QP-01"
    assert P.revisions[0] == {
        "version": "A/0",
        "chapter": "全部",
        "content": "首次发行",
        "date": "2017-12-05",
        "prepared_by": "营销中心",
        "reviewed_by": "商务中心",
        "approved_by": "总经理",
    }
    assert P.source == "(default) process.yaml"
    assert parser.load(None) is P  # parsed once


def test_default_process_has_every_step_of_the_spec_table_in_order() -> None:
    assert [step.id for step in P.steps] == list(TABLE)
    assert len(P.steps) == 30


def test_default_process_stages_and_files() -> None:
    assert [(s.id, s.file) for s in P.stages] == [
        ("initiation", "project.yaml"),
        ("plan", "plan.yaml"),
        ("samples", "samples.yaml"),
        ("contract", "contract.yaml"),
        ("installation", "installation.yaml"),
        ("acceptance", "acceptance.yaml"),
        ("handover", "handover.yaml"),
        ("collection", "collection.yaml"),
        ("archive", "archive.yaml"),
        ("withdrawal", "withdrawal.yaml"),
    ]
    assert P.stage_of_file("contract.yaml") is P.stage("contract")
    assert P.stage_of_file("nope.yaml") is None


@pytest.mark.parametrize(("step_id", "roles", "clause"), [(k, *v) for k, v in TABLE.items()])
def test_step_roles_and_clause_match_the_spec(step_id: str, roles: tuple[str, ...], clause: str) -> None:
    step = P.step(step_id)
    assert step.roles == roles
    assert step.clause == clause
    assert step.stage == step_id.split(".")[0]


def test_default_roles() -> None:
    assert set(P.roles) == {
        "sales",
        "presales",
        "sales_supervisor",
        "business_center",
        "gm",
        "vp",
        "customer_service",
        "production_supervisor",
        "finance",
        "doc_control",
        "admin",
        "team",
        "client",
    }
    client = P.roles["client"]
    assert client.external and client.title == "甲方"
    assert client.recorded_by == ("sales", "customer_service")
    team = P.roles["team"]
    assert not team.is_global and team.named_in == ("initiation.team.members",)
    assert P.roles["sales"].is_global and not P.roles["sales"].external
    assert P.roles["gm"].title == "总经理"


def test_3_5_2_supervisor_review_rejects_to_draft() -> None:
    step = P.step("contract.supervisor_review")
    assert step.clause == "3.5.2"
    assert step.review
    assert step.on_reject is not None
    assert step.on_reject.to == "contract.draft"
    assert step.on_reject.keeps == ()
    assert [pre.step for pre in step.after] == ["contract.self_review"]
    assert step.form == "form2"


def test_3_5_3_business_review_reject_keeps_self_and_supervisor_review() -> None:
    reject = P.step("contract.business_review").on_reject
    assert reject is not None
    assert reject.to == "contract.draft"
    assert reject.keeps == ("contract.self_review", "contract.supervisor_review")


@pytest.mark.parametrize("step_id", ["plan.countersign", "handover.registration"])
def test_countersign_steps_are_mode_all(step_id: str) -> None:
    step = P.step(step_id)
    assert step.mode == "all"
    assert step.needs_all_roles


def test_only_the_two_countersign_steps_need_all_roles() -> None:
    assert [s.id for s in P.steps if s.needs_all_roles] == ["plan.countersign", "handover.registration"]


def test_conditions_of_the_default_process() -> None:
    assert P.stage("plan").when == Derived("key")
    assert P.stage("samples").when == FieldTrue("samples.required")
    assert P.step("initiation.vp_approval").when == FieldTrue("initiation.key_criteria.special")
    assert P.step("initiation.team").when == Derived("key")
    assert P.step("contract.gm_approval").when == FieldTrue("contract.special")
    assert P.step("installation.commissioned").when == FieldTrue("installation.on_site")
    assert P.step("contract.draft").when is ALWAYS
    assert set(P.derived) == {"key"}


def test_requirements_of_3_1_1_submit() -> None:
    reqs = P.step("initiation.submit").requires
    assert [r.field for r in reqs] == [
        "initiation.name",
        "initiation.client.name",
        "initiation.client.contact",
        "initiation.budget",
        "initiation.phase",
    ]
    assert reqs[-1].equals == "跟踪"


def test_requirements_of_3_4_draft_payment_terms() -> None:
    terms = next(r for r in P.step("contract.draft").requires if r.field == "contract.payment_terms")
    assert terms.min_items == 1
    assert terms.each_has == ("name", "percent", "due")
    assert terms.sum == "percent"
    assert str(terms.equals) == "100"


def test_requirements_of_3_8_2_and_3_6_2() -> None:
    accept = {r.field: r for r in P.step("acceptance.client_sign").requires}
    assert str(accept["acceptance.copies"].equals) == "2"
    assert "acceptance.accepted_date" in accept
    assert [r.field for r in P.step("contract.client_sign").requires] == [
        "contract.originals.copies",
        "contract.originals.kept_by",
    ]


def test_field_type_of_dotted_paths() -> None:
    assert P.field_type("contract.amount").kind == "money"
    assert P.field_type("contract.core_principles.pricing").kind == "bool"
    assert P.field_type("initiation.phase").values == ("接触", "咨询", "跟踪")
    assert P.field_type("contract.nope") is None
    assert P.field_type("nostage.x") is None
    assert P.field_type("contract") is None


def test_a_step_signs_its_own_fields_those_of_the_steps_it_follows_and_the_unnamed_ones() -> None:
    assert P.signed_fields("contract.draft") == {
        "number",
        "template",
        "amount",
        "payment_terms",
        "warranty_months",
        "delivery_date",
        "subject",
        "special",
        "special_reason",
        "notes",
    }
    assert P.signed_fields("contract.self_review") == P.signed_fields("contract.draft") | {"core_principles"}
    assert "originals" in P.signed_fields("contract.client_sign")
    assert "ship_order_no" in P.signed_fields("installation.shipped")  # ship_order fills it, shipped follows it
    assert "staff" not in P.signed_fields("installation.shipped")  # scheduling is a parallel branch
    assert {"staff", "shipped_date"} <= P.signed_fields("installation.commissioned")


def test_as_json_lists_stages_and_steps() -> None:
    data = P.as_json()
    assert [s["id"] for s in data["stages"]] == [s.id for s in P.stages]
    sup = next(st for s in data["stages"] for st in s["steps"] if st["id"] == "contract.supervisor_review")
    assert sup["on_reject"] == "contract.draft" and sup["roles"] == ["sales_supervisor"] and sup["clause"] == "3.5.2"
    assert data["roles"]["client"] == {"title": "甲方", "title_en": "client", "external": True}


def test_parse_of_the_default_text_gives_the_same_steps() -> None:
    again = parser.parse(TEXT, "process.yaml")
    assert again.steps == P.steps
    assert again.source == "process.yaml"


def test_load_from_a_workspace_file(tmp_path: Path) -> None:
    path = tmp_path / "process.yaml"
    path.write_text(TEXT.replace("title: 主管审核", "title: 部门主管审核"), encoding="utf-8")
    custom = parser.load(path, "process.yaml")
    assert custom.step("contract.supervisor_review").title == "部门主管审核"
    assert custom.source == "process.yaml"


def test_load_of_a_missing_file_is_a_process_error(tmp_path: Path) -> None:
    with pytest.raises(ProcessError, match=r"^process\.yaml: cannot read the process file: "):
        parser.load(tmp_path / "missing.yaml", "process.yaml")


# --- broken process files ---------------------------------------------------------------------


def test_unknown_role_in_a_step_names_file_and_line() -> None:
    text, message = broken("roles: [vp]", "roles: [vpp]")
    assert message == f"p.yaml:{line_of(text, 'roles: [vpp]')}: unknown role 'vpp' in initiation.vp_approval"


def test_after_naming_an_unknown_step() -> None:
    text, message = broken("after: [contract.stamp]", "after: [contract.stmp]")
    assert message == f"p.yaml:{line_of(text, 'after: [contract.stmp]')}: unknown step 'contract.stmp'"


def test_requirement_on_an_unknown_field() -> None:
    text, message = broken("- field: contract.number", "- field: contract.numbr")
    assert message == f"p.yaml:{line_of(text, 'field: contract.numbr')}: unknown field 'contract.numbr'"


def test_unknown_step_key() -> None:
    old = "        form: form2\n        on_reject: {to: contract.draft}"
    text, message = broken(old, "        reviewer: gm\n" + old)
    assert message.startswith(f"p.yaml:{line_of(text, 'reviewer: gm')}: unknown step field 'reviewer' (known: ")
    assert "on_reject" in message


def test_unknown_condition_name() -> None:
    text, message = broken("when: key\n", "when: kye\n")
    assert message == (
        f"p.yaml:{line_of(text, 'when: kye')}: unknown condition 'kye': not a derived name (key) nor a field path"
    )


def test_duplicate_stage_id() -> None:
    start = TEXT.index("  - id: archive\n")
    block = TEXT[start : TEXT.index("\nledgers:")]
    copy = block.replace("file: archive.yaml", "file: archive2.yaml")
    text = TEXT.replace("\nledgers:", "\n" + copy + "\nledgers:", 1)
    with pytest.raises(ProcessError) as info:
        parser.parse(text, "p.yaml")
    line = line_of(text, "  - id: archive\n", occurrence=2)
    assert info.value.message == f"p.yaml:{line}: stage 'archive' or its file 'archive2.yaml' is defined twice"


def test_duplicate_stage_file() -> None:
    text, message = broken("file: plan.yaml", "file: project.yaml")
    assert (
        message == f"p.yaml:{line_of(text, '  - id: plan')}: stage 'plan' or its file 'project.yaml' is defined twice"
    )


def test_duplicate_step_id() -> None:
    text, message = broken("      - id: self_review\n", "      - id: draft\n")
    contract = text.index("  - id: contract\n")
    second_draft = text.index("      - id: draft\n", text.index("      - id: draft\n", contract) + 1)
    line = text.count("\n", 0, second_draft) + 1
    assert message == f"p.yaml:{line}: step 'contract.draft' is defined twice"


def test_on_reject_to_an_unknown_step() -> None:
    text, message = broken("on_reject: {to: contract.draft}", "on_reject: {to: contract.drft}")
    assert message == f"p.yaml:{line_of(text, 'contract.drft')}: unknown step 'contract.drft'"


def test_unknown_field_type() -> None:
    text, message = broken("      budget: money", "      budget: monee")
    assert message == (
        f"p.yaml:{line_of(text, 'budget: monee')}: initiation.budget: unknown field type 'monee' "
        "(known: text, money, date, int, number, bool, person)"
    )


def test_bad_mode() -> None:
    text, message = broken("mode: all", "mode: both")
    assert message == f"p.yaml:{line_of(text, 'mode: both')}: `mode` must be `any` or `all` (会签)"


def test_condition_on_an_unknown_field() -> None:
    text, message = broken("when: installation.on_site", "when: installation.on_sit")
    assert message == f"p.yaml:{line_of(text, 'when: installation.on_sit')}: unknown field 'installation.on_sit'"


def test_signed_condition_on_an_unknown_step() -> None:
    text, message = broken("{signed: initiation.vp_approval}", "{signed: initiation.vp_aproval}")
    # the line of the derived condition `key` that holds the reference
    assert message == f"p.yaml:{line_of(text, '    any:')}: unknown step 'initiation.vp_aproval'"


def test_unknown_role_in_recorded_by() -> None:
    text, message = broken("recorded_by: [sales, customer_service]", "recorded_by: [sales, cs]")
    assert message == (
        f"p.yaml:{line_of(text, 'recorded_by: [sales, cs]')}: recorded_by names 'cs', which is not a company role"
    )


def test_the_client_is_recorded_by_a_company_role_not_by_itself() -> None:
    _, message = broken("recorded_by: [sales, customer_service]", "recorded_by: [client]")
    assert "recorded_by names 'client', which is not a company role" in message


def test_figures_name_fields_of_the_right_kind() -> None:
    _, message = broken("contract_amount: contract.amount", "contract_amount: contract.number")
    assert "figure contract_amount must name a money field (contract.number is text)" in message


def test_at_least_compares_numbers() -> None:
    _, message = broken("at_least: $key_threshold", "at_least: $nosuch")
    assert "at_least '$nosuch' is neither a number, a $setting nor a $field" in message


def test_a_stage_file_is_a_plain_file_name() -> None:
    _, message = broken("file: contract.yaml", "file: ../../people.yaml")
    assert "a plain file name ending in .yaml" in message


def test_revisions_are_a_list_of_mappings() -> None:
    _, message = broken("revisions:\n  - version: A/0", "revisions:\n  - abc\n  - version: A/0")
    assert "`revisions` must be a list of mappings" in message


def test_process_must_be_a_mapping() -> None:
    with pytest.raises(ProcessError, match=r"^p\.yaml: a process file must be a mapping with `stages`$"):
        parser.parse("- a\n", "p.yaml")


def test_process_that_is_not_yaml_names_its_line() -> None:
    text = TEXT.replace("name: 营销项目作业控制程序", "name: [营销", 1)
    with pytest.raises(RecordError, match=rf"^p\.yaml:{line_of(text, 'name_en:')}: not valid YAML: "):
        parser.parse(text, "p.yaml")


# --- hostile process files (issue 9) ---------------------------------------------------------------


def test_a_cycle_in_after_is_refused_naming_the_steps_in_it() -> None:
    text, message = broken("        after: [contract.draft]\n", "        after: [contract.draft, contract.stamp]\n")
    assert message.startswith(f"p.yaml:{line_of(text, 'after: [contract.draft, contract.stamp]')}: ")
    assert (
        "`after:` goes round in a circle: contract.self_review → contract.supervisor_review → "
        "contract.business_review → contract.stamp → contract.self_review" in message
    )


def test_a_step_that_follows_itself_is_refused() -> None:
    _, message = broken("after: [plan.sample_details]", "after: [plan.countersign]")
    assert "goes round in a circle: plan.countersign → plan.countersign" in message


def test_a_chain_of_steps_is_bounded() -> None:
    steps = "".join(
        f"      - {{id: s{i}, title: S, roles: [sales], after: [initiation.s{i - 1}]}}\n" for i in range(1, 150)
    )
    text = TEXT.replace(
        "    steps:\n      - id: submit\n",
        "    steps:\n      - {id: s0, title: S, roles: [sales]}\n" + steps + "      - id: submit\n",
        1,
    )
    with pytest.raises(ProcessError, match="150 steps one after another: at most 100"):
        parser.parse(text, "p.yaml")


def test_derived_names_defined_by_one_another_are_refused() -> None:
    _, message = broken("derived:\n", "derived:\n  a: b\n  b: a\n")
    assert "derived names defined by one another: a → b → a" in message


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("roles: [vp]", "roles: [[vp]]", "`roles` must be a list of names"),
        ("  - id: plan\n", "  - plan\n  - id: plan\n", "a stage must be a mapping"),
        (
            "      - id: draft\n        title: 方案初稿",
            "      - draft\n      - id: draft\n        title: 方案初稿",
            "a step must be a mapping",
        ),
        ("      budget: money", "      budget: [money]", "initiation.budget: a field type must be a name or a mapping"),
        ("due_days: 3\n        roles: [vp]", "due_days: [1]\n        roles: [vp]", "`due_days` must be a whole number"),
        (
            "due_days: 3\n        roles: [vp]",
            "due_days: 99999999999\n        roles: [vp]",
            "`due_days` must be a whole number",
        ),
        ("when: initiation.key_criteria.special\n", "when: {any: 5}\n", "not a condition"),
        (
            "when: initiation.key_criteria.special\n",
            "when: {field: initiation.name, at_least: 1}\n",
            "at_least compares numbers: initiation.name is not one",
        ),
        ("at_least: $key_threshold}", "at_least: $initiation.name}", "is neither a number, a $setting nor a $field"),
        ("at_least: $key_threshold}", "at_least: NaN}", "is neither a number"),
        ("- field: initiation.name\n", "- field: initiation\n", "'initiation' is not a field (STAGE.FIELD"),
        ("- field: initiation.name\n", "- field: [initiation.name]\n", "is not a field"),
        ("fills: [installation.ship_order_no]", "fills: [ship_order_no]", "'ship_order_no' is not a field"),
        (
            "{field: initiation.team.members, min_items: 1}",
            "{field: initiation.budget, min_items: 1}",
            "min_items, each_has and sum count the items of a list: initiation.budget is not one",
        ),
        ("each_has: [name, due]", "each_has: [name, when]", "the items of plan.milestones have no field 'when'"),
        ("sum: percent", "sum: name", "the items of contract.payment_terms have no number field 'name'"),
        (
            "{field: contract.core_principles, all_true: true}",
            "{field: contract.amount, all_true: true}",
            "all_true checks a mapping of true/false fields",
        ),
        (
            "{field: initiation.phase, equals: 跟踪}",
            "{field: initiation.phase, equals: $nosuch}",
            "'$nosuch' is not a setting",
        ),
        ("kept_by: {type: person, role: sales}", "kept_by: {type: person, role: boss}", "unknown role 'boss'"),
        (
            "      name: text\n      client:",
            "      signoffs: text\n      name: text\n      client:",
            "`signoffs` is where",
        ),
        ("  - id: initiation\n", "  - id: init.iation\n", "'init.iation' is not an id"),
        ("invoices: {stage: collection,", "bills: {stage: collection,", "`ledgers` must have `invoices`"),
        ("invoices: {stage: collection,", "invoices: {stage: contract,", "a field of another stage than contract"),
        (
            "fields: {number: text, amount: money, date: {type: date, past: true}, by: person}",
            "fields: {number: text, amount: text, date: {type: date, past: true}, by: person}",
            "collection.invoices must be a list of mappings whose `amount` is money",
        ),
        (
            "fields: {name: text, due: date, done: {type: date, tracking: true, past: true}}",
            "fields: {name: text, due: text, done: {type: date, tracking: true, past: true}}",
            "plan.milestones must be a list of mappings whose `due` is date",
        ),
        (
            "shipment: {field: installation.shipped_date}",
            "shipment: {field: installation.ship_order_no}",
            "a payment event's field must be a date",
        ),
        ("shipment: {field: installation.shipped_date}", "shipment: {field: [x]}", "an event is one of"),
        ("client: initiation.client.name", "client: contract.subject", "are fields of the record `new` opens"),
        ("copies: 2, stamps", "copies: 1000, stamps", "`copies`: at most 99"),
        ("title: 主管审核", "title: [主管审核]", "`title` must be text"),
        ("name_en: Marketing Project Operation Control Procedure", "name_en: {a: b}", "`name_en` must be text"),
        ("revisions:\n  - version: A/0", "revisions:\n  - version: [A/0]", "`revisions` must be a list of mappings"),
    ],
)
def test_a_wrong_type_in_the_process_is_a_process_error_with_file_and_line(old: str, new: str, fragment: str) -> None:
    _, message = broken(old, new)
    assert message.startswith("p.yaml:") and fragment in message, message


@pytest.mark.parametrize(
    ("section", "value", "fragment"),
    [
        ("roles", ["sales"], "`roles` must be a mapping"),
        ("stages", {"a": "b"}, "`stages` must be a list"),
        ("derived", ["key"], "`derived` must be a mapping"),
        ("ledgers", "x", "`ledgers` must be a mapping"),
        ("figures", ["name"], "`figures` must be a mapping"),
        ("forms", ["form1"], "`forms` must be a mapping"),
    ],
)
def test_a_section_of_the_wrong_type_is_a_process_error(section: str, value: object, fragment: str) -> None:
    text = yamlio.dump({**yamlio.load(TEXT, "p").data, section: value})
    with pytest.raises(ProcessError, match=r"^p\.yaml:\d+: " + re.escape(fragment)):
        parser.parse(text, "p.yaml")


def test_deep_conditions_are_refused_by_depth() -> None:
    deep = "{not: " * 40 + "key" + "}" * 40
    _, message = broken("when: initiation.key_criteria.special\n", f"when: {deep}\n")
    assert message.startswith("p.yaml:") and "nested too deeply" in message


def test_a_process_without_any_step_is_refused() -> None:
    text = yamlio.dump({**yamlio.load(TEXT, "p").data, "stages": []})
    with pytest.raises(ProcessError, match="a process needs at least one step|`figures`|unknown field"):
        parser.parse(text, "p.yaml")


def test_a_process_file_that_is_not_utf8_names_the_file() -> None:
    with pytest.raises(ProcessError, match=r"^process\.yaml: not UTF-8 text \(byte 0\)$"):
        parser.parse_bytes(b"\xff" + TEXT.encode(), "process.yaml")


@pytest.mark.parametrize("make", ["fifo", "device", "folder"])
def test_load_refuses_what_is_not_a_regular_file_without_waiting(tmp_path: Path, make: str) -> None:
    import os

    path = tmp_path / "process.yaml"
    {"fifo": lambda: os.mkfifo(path), "device": lambda: None, "folder": lambda: path.mkdir()}[make]()
    with pytest.raises(ProcessError, match=r"^(process\.yaml|/dev/zero): is not a regular file"):
        parser.load(Path("/dev/zero") if make == "device" else path, None if make == "device" else "process.yaml")


def test_load_refuses_a_process_file_over_a_megabyte(tmp_path: Path) -> None:
    path = tmp_path / "process.yaml"
    path.write_text(TEXT + "#" * yamlio.MAX_BYTES, encoding="utf-8")
    with pytest.raises(ProcessError, match=r"^process\.yaml: is 1,0\d\d,\d\d\d bytes: more than 1,000,000"):
        parser.load(path, "process.yaml")


def test_load_refuses_a_link_out_of_the_workspace(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(TEXT, encoding="utf-8")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "process.yaml").symlink_to(outside)
    with pytest.raises(ProcessError, match="a link that leads out of the workspace"):
        parser.load(tmp_path / "ws" / "process.yaml", "process.yaml")


# --- what the default process marks ------------------------------------------------------------------

PAST = {
    "initiation.opened",
    "initiation.team.kickoff_date",
    "plan.milestones.done",
    "installation.shipped_date",
    "installation.commissioned_date",
    "acceptance.request_date",
    "acceptance.accepted_date",
    "collection.invoices.date",
    "collection.receipts.date",
}
MULTILINE = {
    "initiation.team.briefing",
    "plan.approach",
    "plan.notes",
    "samples.notes",
    "contract.notes",
    "installation.requirements",
    "installation.notes",
    "acceptance.result",
    "acceptance.remarks",
    "handover.endorsement",
    "handover.notes",
    "collection.notes",
    "withdrawal.reason",
}


def marked(flag: str) -> set[str]:
    found = set()

    def walk(path: str, ftype) -> None:
        if getattr(ftype, flag):
            found.add(path)
        for name, sub in ftype.fields.items():
            walk(f"{path}.{name}", sub)
        if ftype.item is not None:
            walk(path, ftype.item)

    for stage in P.stages:
        for name, ftype in stage.fields.fields.items():
            walk(f"{stage.id}.{name}", ftype)
    return found


def test_the_dates_that_record_what_happened_are_marked_past() -> None:
    assert marked("past") == PAST
    assert not {
        "plan.milestones.due",
        "samples.delivery_date",
        "contract.delivery_date",
        "installation.scheduled_date",
    } & marked("past")  # planned, not happened


def test_the_texts_people_write_at_length_are_marked_multiline() -> None:
    assert marked("multiline") == MULTILINE
    assert "initiation.name" not in MULTILINE and all(P.field_type(f).kind == "text" for f in MULTILINE)

"""Stage records: strict parsing, stable writing, canonical and scoped digests, field paths."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from xmflow import yamlio
from xmflow.errors import RecordError
from xmflow.model import Decision, Evidence, Signoff, StageRecord
from xmflow.procedure import parser
from xmflow.procedure.schema import FieldType
from xmflow.records import stages as records

P = parser.load(None)
CONTRACT = P.stage("contract")
NAME = "projects/2026-001/contract.yaml"
CST = timezone(timedelta(hours=8))


def parse_error(text: str, stage_id: str = "contract", name: str = NAME) -> str:
    with pytest.raises(RecordError) as info:
        records.parse_record(P.stage(stage_id), text, name)
    assert info.value.exit_code == 2
    return info.value.message


def contract_data() -> dict:
    return {
        "number": "HT-2026-001",
        "template": "company",
        "subject": "安防系统",
        "amount": Decimal("1490000.00"),
        "payment_terms": [
            {"name": "预付款", "percent": Decimal("30"), "due": "signing", "days": 0},
            {"name": "验收款", "percent": Decimal("70"), "due": "acceptance", "days": 30},
        ],
        "warranty_months": 12,
        "delivery_date": date(2026, 11, 28),
        "core_principles": {"pricing": True, "payment": True, "delivery": True, "warranty": True, "liability": True},
        "notes": "NO",
    }


def signoffs() -> tuple[Signoff, ...]:
    return (
        Signoff(
            "contract.draft",
            Decision.APPROVE,
            "zhangsan",
            "sales",
            datetime(2026, 1, 2, 10, 30, tzinfo=CST),
            "sha256:" + "a" * 64,
        ),
        Signoff(
            "contract.supervisor_review",
            Decision.REJECT,
            "lisi",
            "sales_supervisor",
            datetime(2026, 1, 3, 9, 0, 5, tzinfo=CST),
            "sha256:" + "b" * 64,
            comment="付款条件不清: 改为 30/70",
        ),
        Signoff(
            "contract.client_sign",
            Decision.RECORD,
            "zhangsan",
            "client",
            datetime(2026, 1, 9, 16, 0, tzinfo=CST),
            "sha256:" + "c" * 64,
            signatory="王五",
            evidence=Evidence("files/contract.pdf", "d" * 64),
            signed_on=date(2026, 1, 8),
        ),
    )


# --- strict parsing -------------------------------------------------------------------------


def test_parse_record_reads_typed_values() -> None:
    text = (
        "number: HT-1\namount: 150万\ndelivery_date: 2017-12-5\nwarranty_months: 12\n"
        "core_principles:\n  pricing: true\nnotes:\n"
    )
    record = records.parse_record(CONTRACT, text, NAME)
    assert record.stage == "contract" and record.path == NAME and record.exists
    assert record.data == {
        "number": "HT-1",
        "amount": Decimal("1500000.00"),
        "delivery_date": date(2017, 12, 5),
        "warranty_months": 12,
        "core_principles": {"pricing": True},
    }  # notes: empty → dropped
    assert record.signoffs == ()


def test_parse_record_of_empty_file_is_an_empty_record() -> None:
    record = records.parse_record(CONTRACT, "", NAME)
    assert record.data == {} and record.signoffs == () and record.exists


def test_unknown_field_names_file_line_and_dotted_field() -> None:
    message = parse_error("number: HT-1\namout: 150万\n")
    assert message.startswith(f"{NAME}:2: contract.amout: unknown field 'amout'")


def test_wrong_type_names_file_line_and_field() -> None:
    message = parse_error("number: HT-1\n\namount: TBD\n")
    assert message.startswith(f"{NAME}:3: contract.amount: must be an amount of money")
    assert "'TBD'" in message


def test_unknown_nested_field_names_the_full_path() -> None:
    message = parse_error("number: HT-1\ncore_principles:\n  pricing: true\n  pricng: true\n")
    assert message.startswith(f"{NAME}:4: contract.core_principles.pricng: unknown field 'pricng'")


def test_wrong_type_in_a_list_item_names_the_index() -> None:
    message = parse_error("payment_terms:\n  - name: 预付\n    percent: 30\n  - name: 尾款\n    percent: 七十\n")
    assert message.startswith(f"{NAME}:5: contract.payment_terms.1.percent: must be a number")


def test_bad_enum_value_names_the_field() -> None:
    message = parse_error("name: x\nphase: 立项\n", "initiation", "projects/2026-001/project.yaml")
    assert message == "projects/2026-001/project.yaml:2: initiation.phase: must be one of 接触/咨询/跟踪 (got '立项')"


def test_stage_file_must_be_a_mapping() -> None:
    assert parse_error("- a\n- b\n") == f"{NAME}:1: a stage file must be a mapping of fields"


def test_duplicate_field_is_refused() -> None:
    assert parse_error("number: A\nnumber: B\n") == f"{NAME}:2: field 'number' appears twice"


SIGNOFF = """\
number: X
signoffs:
  - step: contract.draft
    decision: approve
    by: zhangsan
    role: sales
    at: 2026-01-02T10:30:00+08:00
    digest: sha256:ab
"""


def test_parse_record_reads_a_signoff() -> None:
    (signoff,) = records.parse_record(CONTRACT, SIGNOFF, NAME).signoffs
    assert signoff == Signoff(
        "contract.draft", Decision.APPROVE, "zhangsan", "sales", datetime(2026, 1, 2, 10, 30, tzinfo=CST), "sha256:ab"
    )


@pytest.mark.parametrize("missing", ["step", "decision", "by", "role", "at", "digest"])
def test_signoff_missing_a_required_key_is_refused(missing: str) -> None:
    lines = SIGNOFF.splitlines(keepends=True)
    kept = [line for line in lines if not line.lstrip(" -").startswith(f"{missing}:")]
    if missing == "step":
        kept[2] = kept[2].replace("    decision", "  - decision")
    assert len(kept) == len(lines) - 1
    assert parse_error("".join(kept)) == f"{NAME}:3: sign-off 1 has no `{missing}`"


def test_signoff_with_a_bad_decision_is_refused() -> None:
    message = parse_error(SIGNOFF.replace("decision: approve", "decision: maybe"))
    assert message == f"{NAME}:4: sign-off 1: `decision` must be one of approve/reject/record/reopen (got 'maybe')"


def test_signoff_time_without_timezone_is_refused() -> None:
    message = parse_error(SIGNOFF.replace("+08:00", ""))
    assert message == f"{NAME}:7: sign-off 1: '2026-01-02T10:30:00' has no timezone"


def test_signoff_with_an_unknown_key_is_refused() -> None:
    message = parse_error(SIGNOFF + "    note: hi\n")
    assert message == f"{NAME}:9: unknown sign-off field 'note'"


def test_second_signoff_is_counted_in_the_message() -> None:
    second = SIGNOFF.split("signoffs:\n")[1].replace("by: zhangsan", "by: ''")
    message = parse_error(SIGNOFF + second)
    assert message == f"{NAME}:9: sign-off 2 has no `by`"


def test_signoffs_must_be_a_list_of_mappings() -> None:
    assert parse_error("signoffs: yes\n") == f"{NAME}:1: `signoffs` must be a list"
    assert parse_error("signoffs:\n  - contract.draft\n") == f"{NAME}:2: a sign-off must be a mapping"


# --- writing ----------------------------------------------------------------------------------


def test_dump_then_parse_round_trips_data_and_signoffs() -> None:
    record = StageRecord("contract", NAME, contract_data(), signoffs(), True)
    back = records.parse_record(CONTRACT, records.dump_record(CONTRACT, record), NAME)
    assert back.data == record.data
    assert back.signoffs == record.signoffs
    assert back == record


def test_round_trip_keeps_yaml_lookalike_text() -> None:
    data = {"number": "010", "subject": "true", "notes": "1:30", "special_reason": "NO", "amount": Decimal("0.50")}
    record = StageRecord("contract", NAME, data)
    back = records.parse_record(CONTRACT, records.dump_record(CONTRACT, record), NAME)
    assert back.data == data


def test_dump_is_stable() -> None:
    record = StageRecord("contract", NAME, contract_data(), signoffs(), True)
    text = records.dump_record(CONTRACT, record)
    assert records.dump_record(CONTRACT, record) == text
    again = records.parse_record(CONTRACT, text, NAME)
    assert records.dump_record(CONTRACT, again) == text


def test_dump_orders_fields_as_the_process_declares_them() -> None:
    data = dict(reversed(list(contract_data().items())))
    data["core_principles"] = dict(reversed(list(data["core_principles"].items())))
    data["payment_terms"] = [dict(reversed(list(t.items()))) for t in data["payment_terms"]]
    text = records.dump_record(CONTRACT, StageRecord("contract", NAME, data, signoffs()))
    top = re.findall(r"^(\w+):", text, flags=re.M)
    assert top == [
        "number",
        "template",
        "subject",
        "amount",
        "payment_terms",
        "warranty_months",
        "delivery_date",
        "core_principles",
        "notes",
        "signoffs",
    ]
    principles = text.split("core_principles:\n")[1].splitlines()[:5]
    assert [line.split(":")[0].strip() for line in principles] == [
        "pricing",
        "payment",
        "delivery",
        "warranty",
        "liability",
    ]
    first_term = text.split("payment_terms:\n")[1].splitlines()[:4]
    assert [line.strip(" -").split(":")[0] for line in first_term] == ["name", "percent", "due", "days"]


def test_dump_writes_signoffs_with_their_keys_in_order() -> None:
    text = records.dump_record(CONTRACT, StageRecord("contract", NAME, {"number": "X"}, signoffs()[2:]))
    assert text == (
        "number: X\n"
        "signoffs:\n"
        "- step: contract.client_sign\n"
        "  decision: record\n"
        "  by: zhangsan\n"
        "  role: client\n"
        "  at: 2026-01-09T16:00:00+08:00\n"
        f"  digest: sha256:{'c' * 64}\n"
        "  signatory: 王五\n"
        "  evidence:\n"
        "    file: files/contract.pdf\n"
        f"    sha256: {'d' * 64}\n"
        "  signed_on: 2026-01-08\n"
    )


def test_dump_of_an_empty_record_is_empty_text() -> None:
    assert records.dump_record(CONTRACT, StageRecord("contract", NAME)) == ""


def test_dump_keeps_chinese_readable() -> None:
    text = records.dump_record(CONTRACT, StageRecord("contract", NAME, {"subject": "安防系统"}))
    assert text == "subject: 安防系统\n"


# --- digests ----------------------------------------------------------------------------------


def test_canonical_sorts_keys_and_keeps_chinese() -> None:
    assert (
        records.canonical({"b": "张三", "a": [date(2026, 1, 2), True, None]})
        == '{"a":["2026-01-02",true,null],"b":"张三"}'
    )


def signed(step: str, data: dict) -> str:
    """The digest a signature of *step* carries for *data*."""
    return records.digest(CONTRACT, data, P.signed_fields(step))


def test_digest_is_sha256_of_the_canonical_scope() -> None:
    data = {"number": "HT-1", "amount": Decimal("1500000.00")}
    expected = hashlib.sha256(b'{"amount":"1500000.00","number":"HT-1"}').hexdigest()
    assert signed("contract.draft", data) == f"sha256:{expected}"
    assert records.digest(CONTRACT, data) == f"sha256:{expected}"  # the whole stage


def test_digest_does_not_depend_on_key_order() -> None:
    data = contract_data()
    shuffled = dict(reversed(list(data.items())))
    shuffled["core_principles"] = dict(reversed(list(data["core_principles"].items())))
    shuffled["payment_terms"] = [dict(reversed(list(t.items()))) for t in data["payment_terms"]]
    for step in CONTRACT.steps:
        assert signed(step.id, shuffled) == signed(step.id, data)


def test_digest_of_draft_ignores_fields_of_later_steps() -> None:
    data = contract_data()
    with_originals = {**data, "originals": {"copies": 2, "kept_by": "zhangsan"}}
    assert signed("contract.draft", with_originals) == signed("contract.draft", data)
    assert signed("contract.client_sign", with_originals) != signed("contract.client_sign", data)


def test_digest_of_draft_changes_with_the_amount() -> None:
    data = contract_data()
    changed = {**data, "amount": Decimal("1500000.00")}
    assert signed("contract.draft", changed) != signed("contract.draft", data)


def test_self_review_fields_are_outside_the_draft_scope_but_inside_later_ones() -> None:
    data = contract_data()
    unchecked = {**data, "core_principles": {"pricing": False}}
    assert signed("contract.draft", unchecked) == signed("contract.draft", data)
    assert signed("contract.self_review", unchecked) != signed("contract.self_review", data)
    assert signed("contract.supervisor_review", unchecked) != signed("contract.supervisor_review", data)


def test_field_no_step_names_is_signed_by_every_step() -> None:
    data = contract_data()
    for step in CONTRACT.steps:
        assert signed(step.id, {**data, "notes": "改"}) != signed(step.id, data)


def test_parallel_branches_do_not_sign_each_others_fields() -> None:
    install = P.stage("installation")
    data = {"on_site": True, "shipped_date": date(2026, 10, 30)}
    scheduled = {**data, "staff": ["王师傅"], "scheduled_date": date(2026, 11, 3)}
    shipped = P.signed_fields("installation.shipped")
    assert records.digest(install, scheduled, shipped) == records.digest(install, data, shipped)
    commissioned = P.signed_fields("installation.commissioned")
    assert records.digest(install, scheduled, commissioned) != records.digest(install, data, commissioned)


# --- paths ------------------------------------------------------------------------------------


def test_get_path_through_maps_and_list_indexes() -> None:
    data = {"client": {"name": "甲方"}, "milestones": [{"name": "方案"}, {"name": "验收", "due": date(2026, 6, 1)}]}
    assert records.get_path(data, ["client", "name"]) == "甲方"
    assert records.get_path(data, ["milestones", "1", "due"]) == date(2026, 6, 1)
    assert records.get_path(data, ["milestones", "0"]) == {"name": "方案"}
    assert records.get_path(data, ["milestones", "2", "name"]) is None
    assert records.get_path(data, ["client", "phone"]) is None
    assert records.get_path(data, ["client", "name", "x"]) is None
    assert records.get_path(data, ["nothing"]) is None


def test_set_path_sets_nested_values_without_touching_the_input() -> None:
    data = {"client": {"name": "甲方"}}
    result = records.set_path(data, ["client", "contact"], "李四")
    assert result == {"client": {"name": "甲方", "contact": "李四"}}
    assert data == {"client": {"name": "甲方"}}
    assert records.set_path({}, ["client", "name"], "乙方") == {"client": {"name": "乙方"}}
    assert records.set_path({"a": "1"}, ["a"], "2") == {"a": "2"}


def test_set_path_appends_and_replaces_list_items() -> None:
    data = records.set_path({}, ["milestones", "0", "name"], "方案")
    assert data == {"milestones": [{"name": "方案"}]}
    data = records.set_path(data, ["milestones", "1", "name"], "验收")
    data = records.set_path(data, ["milestones", "0", "due"], date(2026, 3, 1))
    assert data == {"milestones": [{"name": "方案", "due": date(2026, 3, 1)}, {"name": "验收"}]}
    assert records.set_path({"staff": ["a", "b"]}, ["staff", "1"], "c") == {"staff": ["a", "c"]}


def test_set_path_refuses_a_gap_in_a_list() -> None:
    with pytest.raises(IndexError, match=r"item 2 of milestones does not exist \(it has 1\)"):
        records.set_path({"milestones": [{"name": "a"}]}, ["milestones", "2", "name"], "c")


def test_set_path_with_none_removes() -> None:
    assert records.set_path({"a": "1", "b": "2"}, ["a"], None) == {"b": "2"}
    assert records.set_path({"staff": ["a", "b", "c"]}, ["staff", "1"], None) == {"staff": ["a", "c"]}
    nested = records.set_path({"client": {"name": "甲方", "contact": "李四"}}, ["client", "contact"], None)
    assert nested == {"client": {"name": "甲方"}}
    item = records.set_path({"m": [{"name": "a", "due": date(2026, 1, 1)}]}, ["m", "0", "due"], None)
    assert item == {"m": [{"name": "a"}]}
    assert records.set_path({}, ["a"], None) == {}


# --- a project's files --------------------------------------------------------------------------


def test_load_project_reads_existing_stage_files_and_leaves_the_rest_empty(tmp_path: Path) -> None:
    base = records.project_dir(tmp_path, "2026-001")
    base.mkdir(parents=True)
    (base / "contract.yaml").write_text("number: HT-1\namount: 150万\n", encoding="utf-8")
    project = records.load_project(tmp_path, P, "2026-001")
    assert project.id == "2026-001"
    assert list(project.records) == [s.id for s in P.stages]
    contract = project.record("contract")
    assert contract.exists and contract.path == "projects/2026-001/contract.yaml"
    assert contract.data == {"number": "HT-1", "amount": Decimal("1500000.00")}
    plan = project.record("plan")
    assert not plan.exists and plan.data == {} and plan.path == "projects/2026-001/plan.yaml"


def test_load_project_names_the_file_of_a_bad_record(tmp_path: Path) -> None:
    base = records.project_dir(tmp_path, "2026-002")
    base.mkdir(parents=True)
    (base / "project.yaml").write_text("name: x\nbudget: 很多\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"^projects/2026-002/project\.yaml:2: initiation\.budget: "):
        records.load_project(tmp_path, P, "2026-002")


# --- hostile input (issue 9) ---------------------------------------------------------------------

INITIATION = "projects/2026-001/project.yaml"


def test_nesting_600_levels_deep_in_a_stage_file_is_a_record_error() -> None:
    message = parse_error("name: x\nclient: " + "[" * 600 + "]" * 600 + "\n", "initiation", INITIATION)
    assert message == f"{INITIATION}:2: nested too deeply (more than 32 levels of lists and mappings)"


def test_a_newline_in_a_one_line_field_is_refused_when_read_from_a_file() -> None:
    message = parse_error('name: "智慧园区\\n---\\n- 伪造"\n', "initiation", INITIATION)
    assert message == f"{INITIATION}:1: initiation.name: must be a single line (it has a line break)"


def test_a_multiline_field_keeps_its_lines() -> None:
    record = records.parse_record(P.stage("plan"), "approach: |\n  一期：户外\n  二期：室内\n", "plan.yaml")
    assert record.data["approach"] == "一期：户外\n二期：室内"


@pytest.mark.parametrize("text", ['notes: "\\e[31m红\\e[0m"\n', 'number: "HT\\x07"\n', 'notes: "a\\u2028b"\n'])
def test_control_characters_are_refused_in_a_stage_file(text: str) -> None:
    assert "has a control character" in parse_error(text)


SIGNED_BY_CLIENT = SIGNOFF.replace("role: sales\n", "role: client\n    signatory: 刘经理\n")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    evidence: notamap\n", "sign-off 1: `evidence` must be a mapping of file, sha256, not 'notamap'"),
        ("    evidence: [a]\n", "sign-off 1: `evidence` must be a mapping of file, sha256, not a list"),
        ("    evidence: {file: files/a.pdf}\n", "sign-off 1: `evidence` needs both `file` and `sha256`"),
        ("    evidence: {file: files/a.pdf, sha256: abc}\n", "sign-off 1: `evidence.sha256` must be 64 hex digits"),
        (
            "    evidence: {file: ../../../dev/zero, sha256: " + "0" * 64 + "}\n",
            "sign-off 1: `evidence.file` must name a file in the project's files/ folder",
        ),
        (
            "    evidence: {file: /dev/zero, sha256: " + "0" * 64 + "}\n",
            "`evidence.file` must name a file in the project's",
        ),
        ("    evidence: {file: files/x, sha256: " + "0" * 64 + ", size: 1}\n", "`evidence.size` unknown field 'size'"),
    ],
)
def test_a_signoff_evidence_that_is_not_a_file_and_hash_is_an_error_not_dropped(extra: str, message: str) -> None:
    assert message in parse_error(SIGNED_BY_CLIENT + extra)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    comment: [a]\n", "sign-off 1: `comment` must be text, not a list"),
        ("    signatory: {a: b}\n", "sign-off 1: `signatory` must be text, not a mapping"),
        ('    signatory: "刘\\n经理"\n', "sign-off 1: `signatory` must be a single line"),
        ('    comment: "同意\\e[2J"\n', "sign-off 1: `comment` has a control character (U+001B)"),
        ("    signed_on: soon\n", "sign-off 1: `signed_on` must be a date"),
        ("    on_behalf_of: [x]\n", "sign-off 1: `on_behalf_of` must be a person's id, not a list"),
    ],
)
def test_a_signoff_field_of_the_wrong_type_is_refused(extra: str, message: str) -> None:
    assert message in parse_error(SIGNOFF + extra)


def test_a_signoff_comment_may_span_lines() -> None:
    (signoff,) = records.parse_record(CONTRACT, SIGNOFF + "    comment: |\n      第一条\n      第二条\n", NAME).signoffs
    assert signoff.comment == "第一条\n第二条"


def test_a_signoff_time_with_a_fraction_is_written_back_as_read() -> None:
    record = records.parse_record(CONTRACT, SIGNOFF.replace("10:30:00+08:00", "10:30:00.250000+08:00"), NAME)
    again = records.parse_record(CONTRACT, records.dump_record(CONTRACT, record), NAME)
    assert again.signoffs == record.signoffs


def text_fields(ftype: FieldType, path: str) -> list[tuple[str, FieldType]]:
    """(dotted path, type) of every text field inside *ftype* (list items as item 0)."""
    if ftype.kind == "map":
        return [found for name, sub in ftype.fields.items() for found in text_fields(sub, f"{path}.{name}")]
    if ftype.kind == "list":
        return text_fields(ftype.item, f"{path}.0")
    return [(path, ftype)] if ftype.kind == "text" else []


EVERY_TEXT = [(stage.id, path, ftype) for stage in P.stages for path, ftype in text_fields(stage.fields, stage.id)]


@pytest.mark.parametrize(("stage_id", "path", "ftype"), EVERY_TEXT, ids=[path for _, path, _ in EVERY_TEXT])
def test_every_text_field_of_the_default_process_refuses_control_characters_and_stray_line_breaks(
    stage_id: str, path: str, ftype: FieldType
) -> None:
    stage = P.stage(stage_id)
    for value, multiline_ok in (("红\x1b[31m", False), ("一\n二", True)):
        data = records.set_path({}, path.split(".")[1:], value)
        text = yamlio.dump(data)
        if multiline_ok and ftype.multiline:
            assert records.get_path(records.parse_record(stage, text, "f.yaml").data, path.split(".")[1:]) == value
        else:
            assert f"{path}: " in parse_error(text, stage_id, "f.yaml")


@pytest.mark.parametrize("make", ["link", "fifo", "folder"])
def test_a_stage_file_that_is_a_link_a_fifo_or_a_folder_is_a_record_error_naming_it(tmp_path: Path, make: str) -> None:
    import os

    folder = tmp_path / "projects" / "2026-001"
    folder.mkdir(parents=True)
    path = folder / "contract.yaml"
    {"link": lambda: path.symlink_to("/dev/zero"), "fifo": lambda: os.mkfifo(path), "folder": path.mkdir}[make]()
    with pytest.raises(RecordError, match=r"^projects/2026-001/contract\.yaml: is (a link|not a regular file)"):
        records.load_project(tmp_path, P, "2026-001")


def test_a_file_that_changed_since_git_vouched_for_it_is_kept_under_its_own_bytes() -> None:
    """A record read while it changes (git listed one blob, the file now holds other bytes) is
    parsed as it is and kept under the id of what was read, never under the id git gave: a
    later run that finds git's blob again must not take these bytes for it."""
    proc = parser.load(None)
    stage = proc.stages[0]
    rel = f"projects/P-1/{stage.file}"
    content = "name: 测试项目\n".encode()
    said = "0" * 40  # what git listed for the path before the file changed
    cache = records.ParsedRecords()
    project = records.project_from(
        proc, "P-1", lambda name: content if name == stage.file else None, cache, {rel: said}
    )
    assert cache.get(records.ParsedRecords.key(rel, said)) is None
    assert cache.get(records.ParsedRecords.key(rel, records.blob_id(content))) is not None
    assert (
        project.key
        == records.project_from(
            proc, "P-1", lambda name: content if name == stage.file else None, records.ParsedRecords()
        ).key
    )

"""The one YAML reader/writer: no implicit typing, line numbers, strict errors, stable output."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from xmflow import yamlio
from xmflow.errors import RecordError

YAML_11_TRAPS = {
    "answer": "NO",
    "switch": "on",
    "code": "010",
    "mode": "0755",
    "time": "1:30",
    "version": "1.10",
    "phone": "13800138000",
    "flag": "true",
    "hex": "0x1F",
    "day": "2026-01-01",
    "big": "1e3",
}


@pytest.mark.parametrize(("key", "text"), sorted(YAML_11_TRAPS.items()))
def test_load_keeps_yaml_1_1_lookalikes_as_exact_strings(key: str, text: str) -> None:
    doc = yamlio.load(f"{key}: {text}\n", "f.yaml")
    assert doc.data == {key: text}
    assert type(doc.data[key]) is str


def test_load_keeps_lookalikes_inside_lists_and_nested_maps() -> None:
    doc = yamlio.load("items:\n  - NO\n  - 010\nphone:\n  mobile: 13800138000\n", "f.yaml")
    assert doc.data == {"items": ["NO", "010"], "phone": {"mobile": "13800138000"}}


@pytest.mark.parametrize("text", ["empty:\n", "empty: ~\n", "empty: null\n", "empty: Null\n", "empty: NULL\n"])
def test_load_plain_empty_tilde_and_null_are_none(text: str) -> None:
    assert yamlio.load(text, "f.yaml").data == {"empty": None}


@pytest.mark.parametrize(
    ("text", "expected"), [("v: ''\n", ""), ('v: ""\n', ""), ("v: 'null'\n", "null"), ('v: "~"\n', "~")]
)
def test_load_quoted_scalars_stay_strings(text: str, expected: str) -> None:
    assert yamlio.load(text, "f.yaml").data == {"v": expected}


def test_load_empty_text_is_none() -> None:
    assert yamlio.load("", "f.yaml").data is None
    assert yamlio.load("# only a comment\n", "f.yaml").data is None


TEXT = """\
name: 项目
client:
  name: 甲方公司
  contact: 李四
milestones:
  - name: 方案
    due: 2026-03-01
  - name: 验收
    due: 2026-06-01
"""


def test_document_lines_are_one_based_per_path() -> None:
    doc = yamlio.load(TEXT, "plan.yaml")
    assert doc.lines[()] == 1
    assert doc.lines[("name",)] == 1
    assert doc.lines[("client", "name")] == 3
    assert doc.lines[("client", "contact")] == 4
    assert doc.lines[("milestones", 0)] == 6
    assert doc.lines[("milestones", 1, "due")] == 9


def test_document_where_names_file_and_line_or_nearest_ancestor() -> None:
    doc = yamlio.load(TEXT, "plan.yaml")
    assert doc.where(("client", "contact")) == "plan.yaml:4"
    assert doc.where(("milestones", 1, "name")) == "plan.yaml:8"
    assert doc.where(("milestones", 1, "done")) == "plan.yaml:8"  # missing: its item
    assert doc.where(("nothing", "here")) == "plan.yaml:1"  # missing: the document
    assert yamlio.load("", "empty.yaml").where(("a",)) == "empty.yaml"


def test_duplicate_key_is_a_record_error_naming_file_and_line() -> None:
    with pytest.raises(RecordError) as info:
        yamlio.load("number: A\namount: 1\nnumber: B\n", "projects/2026-001/contract.yaml")
    assert info.value.message == "projects/2026-001/contract.yaml:3: field 'number' appears twice"
    assert info.value.exit_code == 2


def test_nested_duplicate_key_names_its_line() -> None:
    with pytest.raises(RecordError, match=r"^c\.yaml:4: field 'name' appears twice$"):
        yamlio.load("client:\n  name: a\n  contact: b\n  name: c\n", "c.yaml")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "did not find expected ',' or ']'"),
        ("a: b: c\n", 1, "mapping values are not allowed"),
        ("x:\n  - a\n  b: c\n", 3, "did not find expected '-' indicator"),
        ("a: 1\n---\nb: 2\n", 2, "but found another document"),
    ],
)
def test_invalid_yaml_is_a_record_error_with_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(RecordError) as info:
        yamlio.load(text, "bad.yaml")
    assert info.value.message.startswith(f"bad.yaml:{line}: not valid YAML: ")
    assert fragment in info.value.message


def test_complex_key_is_refused_with_its_line() -> None:
    with pytest.raises(RecordError, match=r"^k\.yaml:2: a key must be a plain name$"):
        yamlio.load("a: 1\n? [x, y]\n: 2\n", "k.yaml")


def test_dump_keeps_chinese_unescaped_and_key_order() -> None:
    text = yamlio.dump({"名称": "张三", "z": "last-first", "a": "甲方", "m": {"y": "1", "b": "2"}})
    assert text == "名称: 张三\nz: last-first\na: 甲方\nm:\n  y: 1\n  b: 2\n"
    assert "\\u" not in text


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("true", "v: 'true'\n"),
        ("NO", "v: 'NO'\n"),
        ("on", "v: 'on'\n"),
        ("yes", "v: 'yes'\n"),
        ("null", "v: 'null'\n"),
        ("~", "v: '~'\n"),
        ("", "v: ''\n"),
        ("010", "v: 010\n"),
        ("0755", "v: 0755\n"),
        ("1:30", "v: 1:30\n"),
        ("1.10", "v: 1.10\n"),
        ("13800138000", "v: 13800138000\n"),
        ("2026-11-28", "v: 2026-11-28\n"),
        ("1500000.00", "v: 1500000.00\n"),
    ],
)
def test_dump_quotes_only_null_and_bool_lookalikes(value: str, line: str) -> None:
    assert yamlio.dump({"v": value}) == line


def test_dump_writes_none_and_booleans_plainly() -> None:
    assert yamlio.dump({"a": None, "b": True, "c": False}) == "a: null\nb: true\nc: false\n"


def test_dump_uses_block_style_with_fixed_indent() -> None:
    text = yamlio.dump({"terms": [{"name": "预付", "due": "signing"}], "core": {"pricing": True}})
    assert text == "terms:\n- name: 预付\n  due: signing\ncore:\n  pricing: true\n"


TRICKY = [
    "NO",
    "on",
    "Off",
    "yes",
    "y",
    "n",
    "true",
    "True",
    "FALSE",
    "null",
    "Null",
    "NULL",
    "~",
    "",
    "010",
    "0755",
    "1:30",
    "1.10",
    "13800138000",
    "1e3",
    ".inf",
    ".nan",
    "0x1F",
    "1_000",
    "2026-01-01",
    "张三 甲方",
    "a: b",
    "- x",
    "#c",
    "a #b",
    " lead",
    "trail ",
    "multi\nline",
    "*alias",
    "&anchor",
    "!tag",
    "%x",
    "@x",
    "`x",
    "=",
    "<<",
    "-",
    "?",
    "'q'",
    '"dq"',
    "[x]",
    "{x}",
    "~x",
    "null ",
    ":x",
    "x:",
]


def test_load_of_dump_round_trips_strings() -> None:
    data = {"values": TRICKY, "by_key": {(s or "empty"): s for s in TRICKY}}
    assert yamlio.load(yamlio.dump(data), "rt.yaml").data == data


@pytest.mark.parametrize("value", TRICKY)
def test_each_tricky_string_round_trips_as_a_key_and_a_value(value: str) -> None:
    if value == "":
        data = {"k": ""}
    else:
        data = {value: value}
    assert yamlio.load(yamlio.dump(data), "rt.yaml").data == data


def test_dump_is_stable() -> None:
    data = {"名称": "项目", "list": ["010", "NO"], "map": {"b": "1", "a": "2"}}
    once = yamlio.dump(data)
    assert yamlio.dump(yamlio.load(once, "x").data) == once


# --- hostile input (issue 9) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[" * 600 + "]" * 600,
        "{a: " * 600 + "x" + "}" * 600,
        "".join("  " * i + "a:\n" for i in range(600)),
        "".join("  " * i + "-\n" for i in range(600)),
        "[" * 100_000,
    ],
)
def test_nesting_600_levels_deep_is_a_record_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(RecordError) as info:
        yamlio.load(text, "projects/x/plan.yaml")
    assert info.value.message.startswith("projects/x/plan.yaml:")
    assert "nested too deeply" in info.value.message or "nesting depth" in info.value.message


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = yamlio.MAX_DEPTH
    assert yamlio.load("[" * depth + "]" * depth, "f.yaml").data is not None
    with pytest.raises(RecordError, match=r"^f\.yaml:1: nested too deeply"):
        yamlio.load("[" * (depth + 1) + "]" * (depth + 1), "f.yaml")


def test_deep_nesting_names_the_line_where_it_goes_too_deep() -> None:
    text = "ok: 1\nv:\n" + "".join("  " * i + "- \n" for i in range(1, 80))
    with pytest.raises(RecordError, match=rf"^f\.yaml:{yamlio.MAX_DEPTH + 2}: nested too deeply"):
        yamlio.load(text.replace("- \n", "-\n"), "f.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system echo\n",
        "a: !!int 5\n",
        "a: !!binary aGk=\n",
        "a: !!map x\n",
        "a: !custom x\n",
        "!!set {a: null}\n",
        "a: !!seq x\n",
    ],
)
def test_explicit_tags_are_refused_with_file_and_line(text: str) -> None:
    with pytest.raises(RecordError, match=r"^t\.yaml:1: YAML tags \(.+\) are not supported"):
        yamlio.load(text, "t.yaml")


def test_the_tag_of_what_a_value_already_is_changes_nothing() -> None:
    assert yamlio.load("a: !!str 010\nb: ! x\nc: !!map {}\nd: !!seq []\n", "t.yaml").data == {
        "a": "010",
        "b": "x",
        "c": {},
        "d": [],
    }


@pytest.mark.parametrize("text", ["a: &x [1]\nb: *x\n", "- &a x\n- *a\n", "a: &x {b: 1}\nc: *x\n"])
def test_aliases_are_refused(text: str) -> None:
    with pytest.raises(RecordError, match="aliases"):
        yamlio.load(text, "a.yaml")


def test_a_billion_laughs_is_refused_at_once() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(RecordError, match="aliases"):
        yamlio.load("\n".join(lines) + "\n", "lol.yaml")


@pytest.mark.parametrize("text", ["a:\n\tb: 1\n", "a: 'x\n", 'a: "\\q"\n', "- a\nb: c\n", "\x00\n"])
def test_malformed_yaml_names_file_and_line(text: str) -> None:
    with pytest.raises(RecordError, match=r"^m\.yaml(:\d+)?: "):
        yamlio.load(text, "m.yaml")


# --- reading a file: only a regular file, bounded --------------------------------------------------


def test_read_file_gives_the_bytes_of_a_regular_file_and_none_for_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"a: 1\n")
    assert yamlio.read_file(tmp_path / "a.yaml", "a.yaml") == b"a: 1\n"
    assert yamlio.read_file(tmp_path / "missing.yaml", "missing.yaml") is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: os.mkfifo(p), "is not a regular file"),
        (lambda p: p.mkdir(), "is not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "is a link, not a file"),
        (lambda p: p.write_bytes(b"#" * (yamlio.MAX_BYTES + 1)), "bytes: more than 1,000,000 is no file of xmflow's"),
    ],
    ids=["fifo", "folder", "link-to-a-device", "too-big"],
)
def test_read_file_refuses_what_is_not_a_small_regular_file_without_waiting(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    path = tmp_path / "contract.yaml"
    make(path)
    with pytest.raises(RecordError, match=rf"^projects/x/contract\.yaml: .*{re.escape(message)}"):
        yamlio.read_file(path, "projects/x/contract.yaml")


def test_read_file_follows_a_link_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_bytes(b"a: 1\n")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "real.yaml")
    assert yamlio.read_file(tmp_path / "link.yaml", "link.yaml", follow_links=True) == b"a: 1\n"
    with pytest.raises(RecordError, match="is a link"):
        yamlio.read_file(tmp_path / "link.yaml", "link.yaml")


def test_decode_names_the_file_and_the_byte() -> None:
    assert yamlio.decode("名".encode(), "f.yaml") == "名"
    with pytest.raises(RecordError, match=r"^f\.yaml: not UTF-8 text \(byte 2\)$"):
        yamlio.decode(b"a:\xff", "f.yaml")

"""Field types and the conversion of plain YAML values into typed values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from xmflow.procedure.schema import FieldError, FieldType, convert, is_filled, parse_field_type, plain

TEXT, MONEY, DATE, INT, NUMBER, BOOL, PERSON = (
    FieldType(k) for k in ("text", "money", "date", "int", "number", "bool", "person")
)
PHASE = FieldType("enum", values=("接触", "咨询", "跟踪"))
TERMS = FieldType("list", item=FieldType("map", fields={"name": TEXT, "percent": NUMBER, "days": INT}))
CLIENT = FieldType("map", fields={"name": TEXT, "contact": TEXT})


@pytest.mark.parametrize(
    ("ftype", "raw", "expected"),
    [
        (TEXT, "甲方公司", "甲方公司"),
        (TEXT, "010", "010"),
        (TEXT, "  padded  ", "padded"),
        (TEXT, "", None),  # an empty text is not filled in
        (MONEY, "150万", Decimal("1500000.00")),
        (MONEY, "1,500,000", Decimal("1500000.00")),
        (MONEY, "¥1,490,000.00", Decimal("1490000.00")),
        (MONEY, Decimal("1.5"), Decimal("1.50")),
        (MONEY, 5, Decimal("5.00")),
        (DATE, "2026-11-28", date(2026, 11, 28)),
        (DATE, "2017-12-5", date(2017, 12, 5)),
        (DATE, date(2026, 1, 2), date(2026, 1, 2)),
        (INT, "12", 12),
        (INT, "+3", 3),
        (INT, 7, 7),
        (NUMBER, "33.5", Decimal("33.5")),
        (NUMBER, "1,234.5", Decimal("1234.5")),
        (NUMBER, "100", Decimal("100")),
        (BOOL, "true", True),
        (BOOL, "False", False),
        (BOOL, "TRUE", True),
        (BOOL, "是", True),
        (BOOL, "否", False),
        (BOOL, "yes", True),
        (BOOL, "No", False),
        (BOOL, True, True),
        (PERSON, "zhangsan", "zhangsan"),
        (PHASE, "跟踪", "跟踪"),
    ],
)
def test_convert_scalar_kinds(ftype: FieldType, raw: Any, expected: Any) -> None:
    value = convert(ftype, raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("ftype, raw", [(MONEY, "-5"), (INT, "-3"), (NUMBER, "-0.5")])
def test_amounts_and_counts_are_never_negative(ftype: FieldType, raw: str) -> None:
    with pytest.raises(FieldError, match="must not be negative"):
        convert(ftype, raw)


@pytest.mark.parametrize("ftype", [TEXT, MONEY, DATE, INT, NUMBER, BOOL, PERSON, PHASE, TERMS, CLIENT])
def test_convert_none_stays_none(ftype: FieldType) -> None:
    assert convert(ftype, None) is None


@pytest.mark.parametrize("ftype", [MONEY, DATE, INT, NUMBER, BOOL, PERSON])
def test_convert_empty_text_of_a_non_text_field_is_not_filled_in(ftype: FieldType) -> None:
    assert convert(ftype, "") is None


def test_convert_list_of_maps() -> None:
    raw = [{"name": "预付", "percent": "30", "days": "0"}, {"name": "尾款", "percent": "70", "days": "30"}]
    assert convert(TERMS, raw) == [
        {"name": "预付", "percent": Decimal("30"), "days": 0},
        {"name": "尾款", "percent": Decimal("70"), "days": 30},
    ]


def test_convert_list_of_scalars() -> None:
    assert convert(FieldType("list", item=PERSON), ["zs", "ls"]) == ["zs", "ls"]
    assert convert(FieldType("list", item=DATE), ["2026-1-2"]) == [date(2026, 1, 2)]


def test_convert_map() -> None:
    assert convert(CLIENT, {"name": "甲方", "contact": "李四"}) == {"name": "甲方", "contact": "李四"}
    assert convert(CLIENT, {"name": "甲方", "contact": None}) == {"name": "甲方", "contact": None}


def test_unknown_field_in_a_map_names_its_path() -> None:
    with pytest.raises(FieldError) as info:
        convert(CLIENT, {"name": "甲方", "nmae": "x"}, ("client",))
    assert info.value.path == ("client", "nmae")
    assert info.value.message == "unknown field 'nmae' (known: name, contact)"


def test_unknown_field_inside_a_list_item_names_index_and_field() -> None:
    with pytest.raises(FieldError) as info:
        convert(TERMS, [{"name": "a"}, {"name": "b", "pct": "3"}], ("payment_terms",))
    assert info.value.path == ("payment_terms", 1, "pct")
    assert "unknown field 'pct' (known: name, percent, days)" == info.value.message


def test_wrong_item_type_in_a_list_names_its_index() -> None:
    with pytest.raises(FieldError) as info:
        convert(FieldType("list", item=INT), ["1", "x", "3"], ("staff",))
    assert info.value.path == ("staff", 1)
    assert info.value.message == "must be a whole number: 'x' is not a whole number (up to 9 digits)"


@pytest.mark.parametrize(
    ("ftype", "raw", "message"),
    [
        (MONEY, "TBD", "must be an amount of money: 'TBD' is not an amount of money"),
        (MONEY, "0.001", "must be an amount of money: '0.001' is finer than a fen (0.01)"),
        (DATE, "2026-13-01", "must be a date: '2026-13-01' is not a date"),
        (
            DATE,
            "28/11/2026",
            "must be a date: '28/11/2026' is not a date (2026-12-20, 2026/12/20, 2026.12.20 or 2026年12月20日)",
        ),
        (INT, "1.5", "must be a whole number: '1.5' is not a whole number"),
        (INT, "twelve", "must be a whole number: 'twelve' is not a whole number"),
        (NUMBER, "x", "must be a number: 'x' is not a number"),
        (NUMBER, "NaN", "must be a number: 'NaN' is not a number"),
        (NUMBER, "Infinity", "must be a number: 'Infinity' is not a number"),
        (BOOL, "maybe", "must be 是 or 否: 'maybe' is not one of 是/否, true/false, yes/no"),
        (BOOL, "是的", "must be 是 or 否: '是的' is not one of 是/否, true/false, yes/no"),
        (PHASE, "立项", "must be one of 接触/咨询/跟踪 (got '立项')"),
        (INT, {"a": "1"}, "must be a whole number, not a mapping"),
        (TEXT, ["a"], "must be text, not a list"),
        (MONEY, ["1"], "must be an amount of money, not a list"),
        (TERMS, "30%", "must be a list, not '30%'"),
        (TERMS, {"name": "x"}, "must be a list, not a mapping"),
        (CLIENT, "甲方", "must be a mapping of name, contact"),
        (CLIENT, ["甲方"], "must be a mapping of name, contact"),
    ],
)
def test_wrong_types_raise_field_error(ftype: FieldType, raw: Any, message: str) -> None:
    with pytest.raises(FieldError) as info:
        convert(ftype, raw, ("f",))
    assert info.value.path == ("f",)
    assert info.value.message.startswith(message)
    assert isinstance(info.value, ValueError)


def test_plain_gives_text_for_amounts_and_dates() -> None:
    typed = {
        "amount": Decimal("1500000.00"),
        "rate": Decimal("12.345"),
        "due": date(2026, 11, 28),
        "terms": [{"percent": Decimal("30.5"), "days": 30, "ok": True}],
        "none": None,
        "name": "张三",
    }
    assert plain(typed) == {
        "amount": "1500000.00",
        "rate": "12.345",
        "due": "2026-11-28",
        "terms": [{"percent": "30.5", "days": 30, "ok": True}],
        "none": None,
        "name": "张三",
    }
    assert plain(Decimal("150000000.00")) == "150000000.00"
    assert "E" not in plain(Decimal("1.5E+8"))  # never exponent notation
    assert plain(Decimal("1.5E+8")).startswith("150000000")


def test_plain_then_convert_round_trips() -> None:
    value = {"name": "甲方", "contact": "李四"}
    assert convert(CLIENT, plain(value)) == value
    assert convert(MONEY, plain(Decimal("1490000.00"))) == Decimal("1490000.00")
    assert convert(DATE, plain(date(2017, 12, 5))) == date(2017, 12, 5)


@pytest.mark.parametrize(
    ("value", "filled"),
    [
        (None, False),
        ("", False),
        ([], False),
        ({}, False),
        ("x", True),
        (0, True),
        (False, True),
        (Decimal("0"), True),
        (["a"], True),
    ],
)
def test_is_filled(value: Any, filled: bool) -> None:
    assert is_filled(value) is filled


def where(path: tuple = ()) -> str:
    return "p.yaml:12"


def test_parse_field_type_of_names_and_mappings() -> None:
    assert parse_field_type("money", where) == FieldType("money")
    assert parse_field_type({"type": "enum", "values": ["company", "client"]}, where) == FieldType(
        "enum", values=("company", "client")
    )
    nested = parse_field_type({"readonly": "true", "list": {"fields": {"amount": "money", "date": "date"}}}, where)
    assert nested.kind == "list" and nested.readonly
    assert nested.item == FieldType("map", fields={"amount": FieldType("money"), "date": FieldType("date")})
    assert parse_field_type({"type": "int"}, where) == FieldType("int")


def test_field_type_describe_and_child() -> None:
    assert PHASE.describe() == "one of 接触/咨询/跟踪"
    assert FieldType("list", item=DATE).describe() == "list of a date"
    assert MONEY.describe() == "an amount of money"
    assert TERMS.child(0) == TERMS.item
    assert TERMS.child("name") is None
    assert CLIENT.child("contact") == TEXT
    assert CLIENT.child("phone") is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("monee", "p.yaml:12: unknown field type 'monee' (known: text, money, date, int, number, bool, person)"),
        ("enum", "p.yaml:12: unknown field type 'enum'"),
        (5, "p.yaml:12: a field type must be a name or a mapping"),
        (["text"], "p.yaml:12: a field type must be a name or a mapping"),
        ({"fields": ["a"]}, "p.yaml:12: `fields` must be a mapping"),
        ({"type": "enum"}, "p.yaml:12: an enum needs a list of `values`"),
        ({"type": "enum", "values": []}, "p.yaml:12: an enum needs a list of `values`"),
        ({"type": "enum", "values": "a"}, "p.yaml:12: an enum needs a list of `values`"),
        ({}, "p.yaml:12: a field type needs `fields`, `list` or `type`"),
        ({"type": "float"}, "p.yaml:12: unknown field type 'float'"),
        ({"fields": {"a": "bogus"}}, "p.yaml:12: unknown field type 'bogus'"),
        ({"list": "nope"}, "p.yaml:12: unknown field type 'nope'"),
    ],
)
def test_parse_field_type_errors(spec: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_field_type(spec, where)
    assert str(info.value).startswith(message)


# --- text, multiline, past (issue 9) -------------------------------------------------------------

NOTES = FieldType("text", multiline=True)


@pytest.mark.parametrize("raw", ["一\n二", "a\r\nb", "a\rb"])
def test_a_line_break_in_a_one_line_text_is_refused(raw: str) -> None:
    with pytest.raises(FieldError, match="must be a single line|control character"):
        convert(TEXT, raw, ("name",))


def test_a_multiline_text_keeps_its_line_breaks() -> None:
    assert convert(NOTES, "第一行\n第二行\n") == "第一行\n第二行"


@pytest.mark.parametrize("ftype", [TEXT, NOTES, PERSON])
@pytest.mark.parametrize("raw", ["\x1b[31m红\x1b[0m", "清屏\x1b[2J", "bell\x07", "nul\x00x"])
def test_control_characters_are_refused_in_every_text(ftype: FieldType, raw: str) -> None:
    with pytest.raises(FieldError, match=r"has a control character \(U\+00"):
        convert(ftype, raw, ("f",))


def test_a_value_nested_deeper_than_its_type_is_refused_at_the_first_level() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(FieldError) as info:
        convert(CLIENT, {"name": deep})
    assert info.value.path == ("name",) and info.value.message == "must be text, not a list"


def test_a_long_wrong_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(FieldError) as info:
        convert(TERMS, "x" * 100_000)
    assert len(info.value.message) < 120
    with pytest.raises(FieldError, match="not 200 characters of text"):
        convert(MONEY, "1" * 200)


def test_parse_field_type_reads_multiline_and_past() -> None:
    assert parse_field_type({"type": "text", "multiline": "true"}, where) == FieldType("text", multiline=True)
    assert parse_field_type({"type": "date", "past": "true", "tracking": "true"}, where) == FieldType(
        "date", tracking=True, past=True
    )
    assert not parse_field_type("date", where).past and not parse_field_type("text", where).multiline


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "text", "past": "true"}, "unknown key 'past' in a field type (known here: multiline, readonly, "),
        ({"type": "date", "multiline": "true"}, "unknown key 'multiline' in a field type"),
        ({"list": "text", "multiline": "true"}, "unknown key 'multiline' in a field type"),
        ({"type": "text", "multilne": "true"}, "unknown key 'multilne' in a field type"),
        ({"type": "text", "multiline": "yes"}, "`multiline` must be true or false"),
        ({"type": "date", "readonly": ["x"]}, "`readonly` must be true or false"),
        ({"type": ["text"]}, "unknown field type '[text]'"),  # as YAML writes it, not as Python does
        ({"type": "text", "list": "text"}, "a field type needs `fields`, `list` or `type` (one of them)"),
        ({"type": "enum", "values": [["a"]]}, "each of an enum's `values` is a name"),
        ({"type": "enum", "values": ["a", "a"]}, "an enum's `values` are each named once"),
        ({"type": "enum", "values": ["\x1b[31m"]}, "an enum's value has a control character"),
        ({"type": "person", "role": ["sales"]}, "`role` must be a role's name"),
        ({"fields": {"1st": "text"}}, "'1st' is not a field name"),
        ({"fields": {"a.b": "text"}}, "'a.b' is not a field name"),
    ],
)
def test_parse_field_type_is_strict(spec: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_field_type(spec, where)
    assert str(info.value).startswith("p.yaml:12: " + message)


def test_parse_field_type_places_an_error_at_the_part_at_fault() -> None:
    seen: list[tuple] = []

    def at(path: tuple = ()) -> str:
        seen.append(path)
        return f"p.yaml:{len(path)}"

    with pytest.raises(ValueError, match=r"^p\.yaml:3: unknown field type 'nope'"):
        parse_field_type({"list": {"fields": {"due": "nope"}}}, at)
    assert seen[-1] == ("list", "fields", "due")

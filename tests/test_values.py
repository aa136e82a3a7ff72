"""Amounts, dates and timestamps as SPEC §3 fixes them: exact CNY money and ISO dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from xmflow.values import add_months, check_text, format_money, money_in_words, parse_date, parse_money, parse_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500000", "1500000.00"),
        ("1,500,000", "1500000.00"),
        ("1500000.00", "1500000.00"),
        ("150万", "1500000.00"),
        ("1.5亿", "150000000.00"),
        ("¥1,490,000.00", "1490000.00"),
        ("￥1.5万元", "15000.00"),
        ("0.50", "0.50"),
        ("-1,500", "-1500.00"),
        (" 12 ", "12.00"),
        ("1.234567万", "12345.67"),
    ],
)
def test_parse_money_accepts_the_spec_forms_exactly(text: str, expected: str) -> None:
    amount = parse_money(text)
    assert isinstance(amount, Decimal)
    assert amount == Decimal(expected)
    assert str(amount) == expected  # always quantized to the fen


def test_parse_money_is_exact_where_a_float_would_not_be() -> None:
    # 2**53 ≈ 9.007e15: a binary float cannot hold this amount to the fen.
    assert float("90071992547409.93") == float("90071992547409.94")
    assert parse_money("90071992547409.93") == Decimal("90071992547409.93")
    assert parse_money("90071992547409.93") != parse_money("90071992547409.94")
    assert 0.1 + 0.2 != 0.3  # what floats would give …
    assert parse_money("0.10") + parse_money("0.20") == Decimal("0.30")  # … and what amounts give
    assert parse_money("1.15万") == Decimal("11500.00")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("TBD", "is not an amount of money"),
        ("", "is not an amount of money"),
        ("1.5e6", "is not an amount of money"),
        ("¥", "is not an amount of money"),
        ("1500000.", "is not an amount of money"),
        ("1,50,000", "misplaced thousands separators"),
        ("1,500,00", "misplaced thousands separators"),
        (",500", "misplaced thousands separators"),
        ("0.001", "finer than a fen"),
        ("1500.005", "finer than a fen"),
        ("1.2345678万", "finer than a fen"),
    ],
)
def test_parse_money_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        parse_money(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1500000"), "¥1,500,000.00"),
        (Decimal("1490000.00"), "¥1,490,000.00"),
        (Decimal("0.5"), "¥0.50"),
        (Decimal("0"), "¥0.00"),
        (Decimal("-1234.5"), "-¥1,234.50"),
        (Decimal("-1500000"), "-¥1,500,000.00"),
        (Decimal("0.005"), "¥0.01"),  # half up, not banker's rounding
        (Decimal("150000000"), "¥150,000,000.00"),
    ],
)
def test_format_money(amount: Decimal, expected: str) -> None:
    assert format_money(amount) == expected


def test_format_money_of_parsed_amount_round_trips() -> None:
    assert format_money(parse_money("¥1,490,000.00")) == "¥1,490,000.00"
    assert parse_money(format_money(Decimal("2500.5"))) == Decimal("2500.50")


def test_amounts_beyond_any_contract_are_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        parse_money("1000000000000000000000000000000")
    assert parse_money("999999999999999.99") == Decimal("999999999999999.99")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28", date(2026, 11, 28)),
        ("2017-12-5", date(2017, 12, 5)),
        ("2017-1-05", date(2017, 1, 5)),
        (" 2024-02-29 ", date(2024, 2, 29)),
        ("2026/12/20", date(2026, 12, 20)),
        ("2026.12.20", date(2026, 12, 20)),
        ("2026年12月20日", date(2026, 12, 20)),
        ("2026年1月5日", date(2026, 1, 5)),
        ("2026 年 1 月 5", date(2026, 1, 5)),
    ],
)
def test_parse_date_accepts_iso_and_unpadded(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-13-01", "is not a date: month must be in 1..12"),
        ("2026-02-29", "is not a date: day is out of range"),
        ("28/11/2026", r"is not a date \(2026-12-20, 2026/12/20, 2026.12.20 or 2026年12月20日\)"),
        ("26-11-28", r"is not a date \(2026-12-20"),
        ("2026-11-28T10:00", r"is not a date \(2026-12-20"),
        ("2026-11/28", r"is not a date \(2026-12-20"),
        ("2026年13月1日", "is not a date: month must be in 1..12"),
        ("", r"is not a date \(2026-12-20"),
    ],
)
def test_parse_date_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_date(text)


def test_parse_time_needs_a_timezone() -> None:
    value = parse_time("2026-01-02T10:30:00+08:00")
    assert value == datetime(2026, 1, 2, 10, 30, tzinfo=timezone(timedelta(hours=8)))
    assert value.utcoffset() == timedelta(hours=8)
    with pytest.raises(ValueError, match="has no timezone"):
        parse_time("2026-01-02T10:30:00")
    with pytest.raises(ValueError, match="is not a timestamp"):
        parse_time("yesterday")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # crosses the year and clamps
        (date(2026, 12, 5), 1, date(2027, 1, 5)),
        (date(2026, 5, 31), 24, date(2028, 5, 31)),
        (date(2026, 11, 28), 12, date(2027, 11, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 6, 10), 0, date(2026, 6, 10)),
    ],
)
def test_add_months_clamps_and_crosses_years(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1490000", "人民币壹佰肆拾玖万元整"),
        ("0.50", "人民币伍角"),
        ("0.05", "人民币伍分"),
        ("0", "人民币零元整"),
        ("1.05", "人民币壹元零伍分"),
        ("1.50", "人民币壹元伍角"),
        ("10", "人民币壹拾元整"),
        ("1001", "人民币壹仟零壹元整"),
        ("100010", "人民币壹拾万零壹拾元整"),
        ("1050000", "人民币壹佰零伍万元整"),
        ("105000", "人民币壹拾万伍仟元整"),
        ("1000000000", "人民币壹拾亿元整"),
        ("1000010000", "人民币壹拾亿零壹万元整"),
        ("1234567890.12", "人民币壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
        ("348000", "人民币叁拾肆万捌仟元整"),
    ],
)
def test_amounts_in_capital_numerals_as_contracts_write_them(amount: str, words: str) -> None:
    assert money_in_words(Decimal(amount)) == words


def test_a_negative_amount_has_no_capital_form() -> None:
    with pytest.raises(ValueError):
        money_in_words(Decimal("-1"))


# --- hostile input (issue 9) ---------------------------------------------------------------------


def test_a_hundred_thousand_digit_amount_is_refused_at_once() -> None:
    import time

    started = time.perf_counter()
    with pytest.raises(ValueError, match="too long for an amount of money"):
        parse_money("1" * 100_000 + "x")
    assert time.perf_counter() - started < 0.5  # the pattern would backtrack for minutes


def test_a_long_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(ValueError) as info:
        parse_date("x" * 10_000)
    assert len(str(info.value)) < 160 and "(10000 characters)" in str(info.value)


@pytest.mark.parametrize("text", ["\x1b[31m红\x1b[0m", "a\x00b", "a\x07", "a\x7f", "a\x9b", "a\u2028b", "a\rb"])
def test_check_text_refuses_control_characters_even_in_multiline_text(text: str) -> None:
    with pytest.raises(ValueError, match=r"control character \(U\+00|control character \(U\+2028"):
        check_text(text, multiline=True)


def test_check_text_keeps_a_line_to_one_line_unless_multiline() -> None:
    assert check_text("a\tb") == "a\tb"
    assert check_text("一\n二", multiline=True) == "一\n二"
    with pytest.raises(ValueError, match="must be a single line"):
        check_text("一\n二")


def test_check_text_refuses_what_python_made_of_bytes_that_are_not_utf8() -> None:
    with pytest.raises(ValueError, match="has a byte that is not UTF-8 text at position 2"):
        check_text(b"x\x9by".decode("utf-8", "surrogateescape"))

"""Parsing and formatting of the procedure's values: money (CNY, exact), dates, times."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MAX_MONEY = Decimal(10) ** 15  # 1,000 万亿: beyond any contract, and within exact Decimal arithmetic
_UNITS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "": Decimal(1)}
_MONEY = re.compile(r"^\s*([-+]?)\s*(?:¥|￥|CNY\s*|RMB\s*)?([-+]?[\d,]*\.?\d+)\s*(万|亿|)\s*(?:元)?\s*$")
# A date as people write one: 2026-12-20, 2026/12/20, 2026.12.20 (one separator throughout), 2026年12月20日.
_DATE = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$|^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
DATE_FORMS = "2026-12-20, 2026/12/20, 2026.12.20 or 2026年12月20日"
# Control characters: C0 (but tab and newline), DEL, C1, and the Unicode line and paragraph
# separators. None belongs in a record; printed raw, an ANSI escape repaints the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # what Python makes of bytes that are not UTF-8 (a shell's $'\x9b')
MAX_SCALAR = 100  # characters of an amount, a date or a number: beyond it, the text is not one


def brief(text: str) -> str:
    """*text* quoted for a message, cut short: a value pasted by mistake may be a megabyte."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + f"… ({len(text)} characters)"


def parse_money(text: str) -> Decimal:
    """Read an amount: ``1500000``, ``1,500,000``, ``1500000.00``, ``150万``, ``1.5亿``, ``¥1,500,000.00``.

    Raises ValueError for anything else, including amounts finer than a fen.
    """
    text = str(text)
    if len(text) > MAX_SCALAR:  # the pattern backtracks: a long run of digits would take minutes
        raise ValueError(f"{brief(text)} is too long for an amount of money")
    match = _MONEY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an amount of money (e.g. 1500000, 1,500,000.00, 150万, 1.5亿)")
    sign, digits, unit = match.groups()
    if sign and digits[0] in "+-":
        raise ValueError(f"{text!r} has two signs")
    digits = sign + digits
    if "," in digits and not re.fullmatch(r"[-+]?\d{1,3}(,\d{3})*(\.\d+)?", digits):
        raise ValueError(f"{text!r} has misplaced thousands separators")
    amount = Decimal(digits.replace(",", "")) * _UNITS[unit]
    if abs(amount) >= MAX_MONEY:
        raise ValueError(f"{text!r} is too large an amount")
    if amount != amount.quantize(CENT):
        raise ValueError(f"{text!r} is finer than a fen (0.01)")
    return amount.quantize(CENT) + 0  # + 0: no negative zero


def check_text(text: str, *, multiline: bool = False) -> str:
    """A piece of text a person typed, as it may be kept: no control characters, and on one
    line unless *multiline*. Returns it unchanged; raises ValueError saying what is wrong."""
    bad = _CONTROL.search(text)
    if bad:
        raise ValueError(f"has a control character (U+{ord(bad.group()):04X}) at position {bad.start() + 1}")
    bad = _SURROGATE.search(text)
    if bad:
        raise ValueError(f"has a byte that is not UTF-8 text at position {bad.start() + 1}")
    if not multiline and ("\n" in text or "\r" in text):
        raise ValueError("must be a single line (it has a line break)")
    return text


def format_money(amount: Decimal) -> str:
    """``Decimal('1500000')`` → ``¥1,500,000.00``."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}¥{abs(rounded):,.2f}"


def parse_date(text: str) -> date:
    """Read a date as people write one (:data:`DATE_FORMS`); ``2017-12-5`` is accepted as well
    as ``2017-12-05``."""
    match = _DATE.match(str(text).strip())
    if not match:
        raise ValueError(f"{brief(str(text))} is not a date ({DATE_FORMS})")
    year, _, month, day, *chinese = match.groups()
    try:
        return date(*map(int, (year, month, day) if year else chinese))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: {exc}") from exc


def chinese_date(day: date) -> str:
    """A date as Chinese forms write it: 2026年11月28日."""
    return f"{day.year}年{day.month}月{day.day}日"


def parse_time(text: str) -> datetime:
    """Read an ISO 8601 timestamp with a timezone."""
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a timestamp (ISO 8601 with timezone)") from exc
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone")
    return value


def add_months(day: date, months: int) -> date:
    """The same day *months* later, clamped to the month's end (1-31 + 1 month → 2-28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if not 1 <= year <= 9999:
        raise ValueError(f"cannot add {months} months to {day}")
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")  # pragma: no cover


_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def _four(n: int) -> str:
    """0 < n < 10,000 in capital numerals: ``1001`` → 壹仟零壹, ``10`` → 壹拾."""
    out, zero = "", False
    for unit, value in (("仟", 1000), ("佰", 100), ("拾", 10), ("", 1)):
        digit = n // value % 10
        if digit == 0:
            zero = zero or bool(out)
            continue
        out += ("零" if zero else "") + _DIGITS[digit] + unit
        zero = False
    return out


def _whole(n: int) -> str:
    """A whole number of yuan in capital numerals, with 万 and 亿 and one 零 for each gap."""
    for size, unit in ((10**8, "亿"), (10**4, "万")):
        if n >= size:
            high, low = divmod(n, size)
            gap = "零" if 0 < low < size // 10 else ""
            return _whole(high) + unit + (gap + _whole(low) if low else "")
    return _four(n)


def money_in_words(amount: Decimal) -> str:
    """An amount in capital Chinese numerals as contracts write it: ``¥1,490,000.00`` →
    人民币壹佰肆拾玖万元整, ``¥0.50`` → 人民币伍角, ``¥1.05`` → 人民币壹元零伍分."""
    cents = int(amount.quantize(CENT, rounding=ROUND_HALF_UP) * 100)
    if cents < 0:
        raise ValueError("a negative amount has no capital form")
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if not jiao and not fen:
        return f"人民币{_whole(yuan) if yuan else '零'}元整"
    words = f"{_whole(yuan)}元" if yuan else ""
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    return "人民币" + words + (_DIGITS[fen] + "分" if fen else "")

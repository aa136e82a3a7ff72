"""Parsing and formatting of the procedure's values: money (CNY, exact), dates, times."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from email.utils import make_msgid

from xmflow.i18n import _, pgettext

CENT = Decimal("0.01")
MAX_MONEY = Decimal(10) ** 15  # 1,000 万亿: beyond any contract, and within exact Decimal arithmetic
_UNITS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "": Decimal(1)}
_MONEY = re.compile(r"^\s*([-+]?)\s*(?:¥|￥|CNY\s*|RMB\s*)?([-+]?[\d,]*\.?\d+)\s*(万|亿|)\s*(?:元)?\s*$")
# A date as people write one: 2026-12-20, 2026/12/20, 2026.12.20 (one separator throughout), 2026年12月20日.
_DATE = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$|^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
# Control characters: C0 (but tab and newline), DEL, C1, and the Unicode line and paragraph
# separators. None belongs in a record; printed raw, an ANSI escape repaints the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # what Python makes of bytes that are not UTF-8 (a shell's $'\x9b')
# What a value quoted in a message shows as an escape: the control characters, tab and line
# breaks, the bidirectional overrides and isolates (text that reads backwards), lone surrogates.
_UNQUOTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
MAX_SCALAR = 100  # characters of an amount, a date or a number: beyond it, the text is not one


def quoted(text: str) -> str:
    """*text* in quotes for a message ('TBD', in Chinese “TBD”), each character that is not
    text (a control character, a line break) written as its escape (``\\x1b``, ``\\n``)."""
    shown = _UNQUOTABLE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )
    return pgettext("a value quoted in a message", "'{value}'").format(value=shown)


def as_written(value: object) -> str:
    """A plain YAML value as a YAML file writes it on one line (``[text]``, ``{any: a.b}``), for a
    message: never Python's own form of it (``['text']``, ``{'any': 'a.b'}``)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{as_written(k)}: {as_written(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(as_written(v) for v in value) + "]"
    return "" if value is None else str(value)


def brief(text: str) -> str:
    """*text* quoted for a message (:func:`quoted`), cut short: a value pasted by mistake may be
    a megabyte."""
    if len(text) <= 40:
        return quoted(text)
    return _("{value}… ({count} characters)").format(value=quoted(text[:40]), count=len(text))


def parse_money(text: str) -> Decimal:
    """Read an amount: ``1500000``, ``1,500,000``, ``1500000.00``, ``150万``, ``1.5亿``, ``¥1,500,000.00``.

    Raises ValueError for anything else, including amounts finer than a fen.
    """
    text = str(text)
    if len(text) > MAX_SCALAR:  # the pattern backtracks: a long run of digits would take minutes
        raise ValueError(_("{value} is too long for an amount of money").format(value=brief(text)))
    match = _MONEY.match(text)
    if not match:
        raise ValueError(
            _("{value} is not an amount of money (e.g. 1500000, 1,500,000.00, 150万, 1.5亿)").format(value=quoted(text))
        )
    sign, digits, unit = match.groups()
    if sign and digits[0] in "+-":
        raise ValueError(_("{value} has two signs").format(value=quoted(text)))
    digits = sign + digits
    if "," in digits and not re.fullmatch(r"[-+]?\d{1,3}(,\d{3})*(\.\d+)?", digits):
        raise ValueError(_("{value} has misplaced thousands separators").format(value=quoted(text)))
    amount = Decimal(digits.replace(",", "")) * _UNITS[unit]
    if abs(amount) >= MAX_MONEY:
        raise ValueError(_("{value} is too large an amount").format(value=quoted(text)))
    if amount != amount.quantize(CENT):
        raise ValueError(_("{value} is finer than a fen (0.01)").format(value=quoted(text)))
    return amount.quantize(CENT) + 0  # + 0: no negative zero


def check_text(text: str, *, multiline: bool = False) -> str:
    """A piece of text a person typed, as it may be kept: no control characters, and on one
    line unless *multiline*. Returns it unchanged; raises ValueError saying what is wrong."""
    bad = _CONTROL.search(text)
    if bad:
        raise ValueError(
            _("has a control character (U+{code}) at position {position}").format(
                code=f"{ord(bad.group()):04X}", position=bad.start() + 1
            )
        )
    bad = _SURROGATE.search(text)
    if bad:
        raise ValueError(_("has a byte that is not UTF-8 text at position {position}").format(position=bad.start() + 1))
    if not multiline and ("\n" in text or "\r" in text):
        raise ValueError(_("must be a single line (it has a line break)"))
    return text


def format_money(amount: Decimal) -> str:
    """``Decimal('1500000')`` → ``¥1,500,000.00``."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}¥{abs(rounded):,.2f}"


def parse_date(text: str) -> date:
    """Read a date as people write one (2026-12-20, 2026/12/20, 2026.12.20, 2026年12月20日);
    ``2017-12-5`` is accepted as well as ``2017-12-05``."""
    match = _DATE.match(str(text).strip())
    if not match:
        raise ValueError(
            _("{value} is not a date (2026-12-20, 2026/12/20, 2026.12.20 or 2026年12月20日)").format(
                value=brief(str(text))
            )
        )
    year, _sep, month, day, *chinese = match.groups()
    numbers = [int(n) for n in ((year, month, day) if year else chinese)]
    try:
        return date(*numbers)
    except ValueError as exc:
        raise ValueError(
            _("{value} is not a date: {reason}").format(value=quoted(str(text)), reason=_date_fault(*numbers))
        ) from exc


def _date_fault(year: int, month: int, day: int) -> str:
    """Why year, month and day make no date, in the words Python's own message has."""
    if not 1 <= year <= 9999:
        return _("year {year} is out of range").format(year=year)
    if not 1 <= month <= 12:
        return _("month must be in 1..12")
    return _("day is out of range for month")


def chinese_date(day: date) -> str:
    """A date as Chinese forms write it: 2026年11月28日."""
    return f"{day.year}年{day.month}月{day.day}日"


def parse_time(text: str) -> datetime:
    """Read an ISO 8601 timestamp with a timezone."""
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise ValueError(
            _("{value} is not a timestamp (ISO 8601 with timezone)").format(value=brief(str(text)))
        ) from exc
    if value.tzinfo is None:
        raise ValueError(_("{value} has no timezone").format(value=quoted(str(text))))
    return value


def add_months(day: date, months: int) -> date:
    """The same day *months* later, clamped to the month's end (1-31 + 1 month → 2-28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if not 1 <= year <= 9999:
        raise ValueError(_("cannot add {months} months to {day}").format(months=months, day=day))
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(_("cannot add {months} months to {day}").format(months=months, day=day))  # pragma: no cover


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
        raise ValueError(_("a negative amount has no capital form"))
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if not jiao and not fen:
        return f"人民币{_whole(yuan) if yuan else '零'}元整"
    words = f"{_whole(yuan)}元" if yuan else ""
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    return "人民币" + words + (_DIGITS[fen] + "分" if fen else "")


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def visible(text: str) -> str:
    """Text as it may be shown: each control character as its escape (``\\x1b``, ``\\u202e``),
    so an ANSI escape in a record prints as text and never repaints the terminal."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


MESSAGE_DOMAIN = "xmflow.local"


def make_message_id(*made_of: str) -> str:
    """A Message-ID of xmflow's (``<…@xmflow.local>``): from what it is *made_of* when given (the
    same parts, the same id), else a new one."""
    if not made_of:
        return make_msgid(domain=MESSAGE_DOMAIN)
    seed = "\0".join(made_of).encode("utf-8", "surrogatepass")
    return f"<{hashlib.sha256(seed).hexdigest()[:32]}@{MESSAGE_DOMAIN}>"

"""Field types of stage records and the conversion of plain YAML values into typed values.

Typed values are ``str``, ``int``, ``bool``, ``Decimal`` (money, numbers), ``date``, lists
and dicts of them; a dict is keyed only by the names its schema declares. Text is one line
without control characters unless its field is ``multiline`` (then line breaks are allowed).
The same types describe the settings files (people.yaml, xmflow.yaml) as well as the stages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property, partial
from typing import Any, overload

from xmflow.i18n import _
from xmflow.values import MAX_SCALAR, as_written, brief, check_text, parse_date, parse_money, quoted

SCALARS = ("text", "money", "date", "int", "number", "bool", "person", "enum")


class FieldError(ValueError):
    """A value does not fit its field; ``path`` is relative to where conversion started."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class FieldType:
    """The type of one field: a scalar kind, an enum, a list of items or a map of named fields."""

    kind: str
    values: tuple[str, ...] = ()
    item: FieldType | None = None
    fields: dict[str, FieldType] = field(default_factory=dict)
    readonly: bool = False
    tracking: bool = False  # progress noted after signing (a milestone done): not part of what is signed
    role: str | None = None  # a person field: the role the person must hold
    multiline: bool = False  # a text field that may hold line breaks (an approach, remarks, notes)
    past: bool = False  # a date that records something that happened (shipped, accepted)
    label: Callable[[], str] | None = None  # what messages call a value of this type, where the kind says less

    @cached_property
    def has_tracking(self) -> bool:
        """Whether this type or anything inside it is a tracking field."""
        inner = [*self.fields.values(), *([self.item] if self.item else [])]
        return self.tracking or any(sub.has_tracking for sub in inner)

    def child(self, name: str | int) -> FieldType | None:
        """The type of a sub-field or list item, or None when there is none."""
        if self.kind == "map" and isinstance(name, str):
            return self.fields.get(name)
        if self.kind == "list" and isinstance(name, int):
            return self.item
        return None

    def describe(self) -> str:
        """A short human description, in the language in use: ``an amount of money``,
        ``one of 接触/咨询/跟踪``, ``list of a date``."""
        if self.label is not None:
            return self.label()
        if self.kind == "enum":
            return _("one of {values}").format(values="/".join(self.values))
        if self.kind == "list":
            return _("list of {items}").format(items=self.item.describe()) if self.item else _("list of items")
        if self.kind == "map":
            return _("a mapping of {fields}").format(fields=", ".join(self.fields))
        return _kinds().get(self.kind, self.kind)


def _kinds() -> dict[str, str]:
    """What a scalar kind is called in a message."""
    return {
        "money": _("an amount of money"),
        "int": _("a whole number"),
        "number": _("a number"),
        "bool": _("是 or 否"),
        "person": _("a person's id"),
        "date": _("a date"),
        "text": _("text"),
    }


_YES, _NO = ("是", "true", "yes"), ("否", "false", "no")


def _bool(text: str) -> bool:
    """是/否, as people answer, or true/false, yes/no in any case."""
    word = text.strip().casefold()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError(_("{value} is not one of 是/否, true/false, yes/no").format(value=brief(text)))


def _int(text: str) -> int:
    if not text.lstrip("+-").isdigit() or len(text) > 9:
        raise ValueError(_("{value} is not a whole number (up to 9 digits)").format(value=quoted(text)))
    return int(text)


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(
            _("{value} is not a number (up to 15 digits, 6 decimal places)").format(value=quoted(text))
        ) from None
    exponent = value.as_tuple().exponent  # an int when the value is finite ('n', 'N' or 'F' when not)
    if not value.is_finite() or abs(value) >= Decimal(10) ** 15 or (isinstance(exponent, int) and exponent < -6):
        raise ValueError(_("{value} is not a number").format(value=quoted(text)))
    return value


def _text(text: str) -> str:
    return text


_CONVERT: dict[str, Callable[[str], Any]] = {
    "text": _text,
    "person": _text,
    "money": parse_money,
    "date": parse_date,
    "int": _int,
    "number": _number,
    "bool": _bool,
}


def convert(ftype: FieldType, raw: Any, path: tuple[str | int, ...] = ()) -> Any:
    """Turn a plain YAML value into the typed value of *ftype*; None stays None (not filled in).

    Recursion follows the type, not the value: a value nested deeper than its type is refused
    at the first level that does not fit."""
    if raw is None:
        return None
    if ftype.kind == "map":
        return _convert_map(ftype, raw, path)
    if ftype.kind == "list":
        return _convert_list(ftype, raw, path)
    if isinstance(raw, (dict, list)):
        raise FieldError(
            path,
            (_("must be {kind}, not a mapping") if isinstance(raw, dict) else _("must be {kind}, not a list")).format(
                kind=ftype.describe()
            ),
        )
    if isinstance(raw, (bool, int, Decimal, date)):
        raw = plain(raw)
    text = str(raw).strip()
    if ftype.kind in ("text", "person"):
        try:
            check_text(text, multiline=ftype.multiline)
        except ValueError as exc:
            raise FieldError(path, str(exc)) from None
        return text or None
    if ftype.kind == "enum":
        if text not in ftype.values:
            raise FieldError(path, _("must be {kind} (got {value})").format(kind=ftype.describe(), value=brief(text)))
        return text
    if text == "":
        return None
    if len(text) > MAX_SCALAR:
        raise FieldError(
            path, _("must be {kind}, not {count} characters of text").format(kind=ftype.describe(), count=len(text))
        )
    try:
        value = _CONVERT[ftype.kind](text)
    except ValueError as exc:
        raise FieldError(path, _("must be {kind}: {reason}").format(kind=ftype.describe(), reason=exc)) from None
    if ftype.kind in ("money", "int", "number") and value < 0:
        raise FieldError(path, _("must not be negative (got {value})").format(value=text))
    return value


def _convert_map(ftype: FieldType, raw: Any, path: tuple[str | int, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise FieldError(path, _("must be {kind}, not {value}").format(kind=ftype.describe(), value=_kind_of(raw)))
    result = {}
    for name, value in raw.items():
        sub = ftype.fields.get(name)
        if sub is None:
            known = ", ".join(ftype.fields)
            raise FieldError(
                path + (name,), _("unknown field {name} (known: {known})").format(name=brief(str(name)), known=known)
            )
        result[name] = convert(sub, value, path + (name,))
    return result


def _convert_list(ftype: FieldType, raw: Any, path: tuple[str | int, ...]) -> list[Any]:
    if not isinstance(raw, list):
        raise FieldError(path, _("must be a list, not {value}").format(value=_kind_of(raw)))
    assert ftype.item is not None
    items = [convert(ftype.item, value, path + (i,)) for i, value in enumerate(raw)]
    for i, item in enumerate(items):
        if item is None:
            raise FieldError(path + (i,), _("is empty: a list holds no blank items"))
    return items


def _kind_of(raw: Any) -> str:
    """What a plain value is, for a message: ``a mapping``, ``a list``, ``'TBD'``."""
    if isinstance(raw, dict):
        return _("a mapping")
    if isinstance(raw, list):
        return _("a list")
    return brief(str(plain(raw)))


@overload
def plain(value: dict[str, Any]) -> dict[str, Any]: ...
@overload
def plain(value: Any) -> Any: ...
def plain(value: Any) -> Any:
    """The plain YAML/JSON form of a typed value: amounts and dates as text."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return f"{value:f}"  # money is kept to the fen (two places) from parse_money on
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def signed_part(ftype: FieldType, value: Any) -> Any:
    """*value* without its tracking fields: the part a signature covers."""
    if not ftype.has_tracking:
        return value
    if ftype.kind == "map" and isinstance(value, dict):
        return {
            k: signed_part(ftype.fields[k], v)
            for k, v in value.items()
            if k in ftype.fields and not ftype.fields[k].tracking
        }
    if ftype.kind == "list" and isinstance(value, list) and ftype.item is not None:
        return [signed_part(ftype.item, v) for v in value]
    return value


def persons(ftype: FieldType, value: Any) -> set[tuple[str, str | None]]:
    """Every (person id, role they must hold) in *value*, for checking against people.yaml."""
    if value is None:
        return set()
    if ftype.kind == "person":
        return {(value, ftype.role)}
    if ftype.kind == "map" and isinstance(value, dict):
        return set().union(*(persons(ftype.fields[k], v) for k, v in value.items() if k in ftype.fields))
    if ftype.kind == "list" and isinstance(value, list) and ftype.item is not None:
        return set().union(*(persons(ftype.item, v) for v in value))
    return set()


def is_filled(value: Any) -> bool:
    """True when a field is filled in: not None, not an empty string, list or mapping."""
    return value is not None and value != "" and value != [] and value != {}


_NAME = re.compile(r"[^\W\d]\w*")  # a field's name: a word (Chinese too), not a number (those index lists)
_SHAPES = ("fields", "list", "type")
_KEYS = {"enum": {"values"}, "person": {"role"}, "text": {"multiline"}, "date": {"past"}}
_FLAGS = ("readonly", "tracking", "multiline", "past")

Where = Callable[[tuple[str | int, ...]], str]


def parse_field_type(spec: Any, where: Where, path: tuple[str | int, ...] = ()) -> FieldType:
    """Read a field type from the process definition (see the header of process.yaml); every
    error is a ValueError starting with ``where(path)`` of the part at fault."""

    def fail(message: str, at: tuple[str | int, ...] = ()) -> ValueError:
        return ValueError(f"{where(path + at)}: {message}")

    if isinstance(spec, str):
        if spec not in SCALARS or spec == "enum":
            raise fail(
                _("unknown field type {name} (known: {known})").format(name=brief(spec), known=", ".join(SCALARS[:-1]))
            )
        return FieldType(spec)
    if not isinstance(spec, dict):
        raise fail(_("a field type must be a name or a mapping"))
    shapes = [key for key in _SHAPES if key in spec]
    if len(shapes) != 1:
        raise fail(
            _("a field type needs `fields`, `list` or `type` (one of them)")
            if shapes
            else _("a field type needs `fields`, `list` or `type`")
        )
    shape = shapes[0]
    kind = spec["type"] if shape == "type" else shape
    if shape == "type" and (not isinstance(kind, str) or kind not in SCALARS):
        raise fail(
            _("unknown field type {name} (known: {known})").format(
                name=brief(as_written(kind)), known=", ".join(SCALARS)
            ),
            ("type",),
        )
    known = {shape, "readonly", "tracking", *_KEYS.get(kind, ())}
    for key in spec:
        if key not in known:
            raise fail(
                _("unknown key {name} in a field type (known here: {known})").format(
                    name=brief(as_written(key)), known=", ".join(sorted(known))
                ),
                (key,),
            )
    flags = {name: _flag(spec, name, fail) for name in _FLAGS if name in known}
    readonly, tracking, multiline, past = (flags.get(name, False) for name in _FLAGS)
    typed = partial(FieldType, readonly=readonly, tracking=tracking, multiline=multiline, past=past)
    if shape == "fields":
        return typed("map", fields=_parse_fields(spec["fields"], where, path + ("fields",)))
    if shape == "list":
        return typed("list", item=parse_field_type(spec["list"], where, path + ("list",)))
    if kind == "enum":
        return typed("enum", values=_enum_values(spec.get("values"), fail))
    role = spec.get("role")
    if role is not None and not isinstance(role, str):
        raise fail(_("`role` must be a role's name"), ("role",))
    return typed(kind, role=role)


def _parse_fields(spec: Any, where: Where, path: tuple[str | int, ...]) -> dict[str, FieldType]:
    if not isinstance(spec, dict):
        raise ValueError(f"{where(path)}: " + _("`fields` must be a mapping"))
    for name in spec:
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"{where(path + (name,))}: "
                + _("{name} is not a field name (a word: letters, digits and _, not starting with a digit)").format(
                    name=brief(name)
                )
            )
    return {name: parse_field_type(sub, where, path + (name,)) for name, sub in spec.items()}


def _enum_values(values: Any, fail: Callable[..., ValueError]) -> tuple[str, ...]:
    if not isinstance(values, list) or not values:
        raise fail(_("an enum needs a list of `values`"))
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip() or value.strip() != value:
            raise fail(_("each of an enum's `values` is a name (text, no spaces around it)"), ("values", i))
        try:
            check_text(value)
        except ValueError as exc:
            raise fail(_("an enum's value {problem}").format(problem=exc), ("values", i)) from None
    if len(set(values)) != len(values):
        raise fail(_("an enum's `values` are each named once"), ("values",))
    return tuple(values)


def _flag(spec: dict[str, Any], name: str, fail: Callable[..., ValueError]) -> bool:
    value = spec.get(name)
    if value is None or value is False or value in ("false", "False"):
        return False
    if value is True or value in ("true", "True"):
        return True
    raise fail(_("`{name}` must be true or false").format(name=name), (name,))

"""Field types of stage records and the conversion of plain YAML values into typed values.

Typed values are ``str``, ``int``, ``bool``, ``Decimal`` (money, numbers), ``date``, lists
and dicts of them; a dict is keyed only by the names its schema declares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from xmflow.values import parse_date, parse_money

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
        """A short human description: ``money``, ``one of 接触/咨询/跟踪``, ``list of date``."""
        if self.kind == "enum":
            return "one of " + "/".join(self.values)
        if self.kind == "list":
            return f"list of {self.item.describe() if self.item else 'items'}"
        if self.kind == "map":
            return "a mapping of " + ", ".join(self.fields)
        return {"money": "an amount of money", "int": "a whole number", "number": "a number",
                "bool": "true or false", "person": "a person's id", "date": "a date"}.get(self.kind, self.kind)


def _bool(text: str) -> bool:
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    raise ValueError(f"{text!r} is not true or false")


def _int(text: str) -> int:
    if not text.lstrip("+-").isdigit() or len(text) > 9:
        raise ValueError(f"{text!r} is not a whole number (up to 9 digits)")
    return int(text)


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number (up to 15 digits, 6 decimal places)") from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 15 or value.as_tuple().exponent < -6:
        raise ValueError(f"{text!r} is not a number")
    return value


def _text(text: str) -> str:
    return text


_CONVERT: dict[str, Callable[[str], Any]] = {
    "text": _text, "person": _text, "money": parse_money, "date": parse_date,
    "int": _int, "number": _number, "bool": _bool,
}


def convert(ftype: FieldType, raw: Any, path: tuple[str | int, ...] = ()) -> Any:
    """Turn a plain YAML value into the typed value of *ftype*; None stays None (not filled in)."""
    if raw is None:
        return None
    if ftype.kind == "map":
        if not isinstance(raw, dict):
            raise FieldError(path, f"must be {ftype.describe()}")
        result = {}
        for name, value in raw.items():
            sub = ftype.fields.get(name)
            if sub is None:
                known = ", ".join(ftype.fields)
                raise FieldError(path + (name,), f"unknown field {name!r} (known: {known})")
            result[name] = convert(sub, value, path + (name,))
        return result
    if ftype.kind == "list":
        if not isinstance(raw, list):
            raise FieldError(path, f"must be a list (got {raw!r})")
        assert ftype.item is not None
        items = [convert(ftype.item, value, path + (i,)) for i, value in enumerate(raw)]
        for i, item in enumerate(items):
            if item is None:
                raise FieldError(path + (i,), "is empty: a list holds no blank items")
        return items
    if isinstance(raw, (dict, list)):
        raise FieldError(path, f"must be {ftype.describe()}, not a {'mapping' if isinstance(raw, dict) else 'list'}")
    if isinstance(raw, (bool, int, Decimal, date)):
        raw = plain(raw)
    text = str(raw).strip()
    if ftype.kind == "enum":
        if text not in ftype.values:
            raise FieldError(path, f"must be {ftype.describe()} (got {text!r})")
        return text
    if text == "":
        return None
    try:
        value = _CONVERT[ftype.kind](text)
    except ValueError as exc:
        raise FieldError(path, f"must be {ftype.describe()}: {exc}") from None
    if ftype.kind in ("money", "int", "number") and value < 0:
        raise FieldError(path, f"must not be negative (got {text})")
    return value


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
        return {k: signed_part(ftype.fields[k], v) for k, v in value.items()
                if k in ftype.fields and not ftype.fields[k].tracking}
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


def parse_field_type(spec: Any, where: Callable[[], str]) -> FieldType:
    """Read a field type from the process definition (see the header of process.yaml)."""
    if isinstance(spec, str):
        if spec not in SCALARS or spec == "enum":
            raise ValueError(f"{where()}: unknown field type {spec!r} (known: {', '.join(SCALARS[:-1])})")
        return FieldType(spec)
    if not isinstance(spec, dict):
        raise ValueError(f"{where()}: a field type must be a name or a mapping")
    flags = {"readonly": spec.get("readonly") in (True, "true"), "tracking": spec.get("tracking") in (True, "true")}
    if "fields" in spec:
        if not isinstance(spec["fields"], dict):
            raise ValueError(f"{where()}: `fields` must be a mapping")
        subs = {name: parse_field_type(sub, where) for name, sub in spec["fields"].items()}
        return FieldType("map", fields=subs, **flags)
    if "list" in spec:
        return FieldType("list", item=parse_field_type(spec["list"], where), **flags)
    if spec.get("type") == "enum":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where()}: an enum needs a list of `values`")
        return FieldType("enum", values=tuple(str(v) for v in values), **flags)
    if spec.get("type") == "person":
        return FieldType("person", role=spec.get("role"), **flags)
    if spec.get("type") in SCALARS:
        return FieldType(spec["type"], **flags)
    raise ValueError(f"{where()}: a field type needs `fields`, `list` or `type`")

"""Conditions of the process (`when:`), as small typed objects evaluated against a project.

A condition asks an :class:`Facts` for field values, signatures, derived names and
workspace settings; it never knows which step or stage it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from xmflow.schema import is_filled
from xmflow.values import brief


class Facts(Protocol):
    """What a condition may ask about a project."""

    def value(self, path: str) -> Any: ...
    def is_signed(self, step: str) -> bool: ...
    def derived(self, name: str) -> bool: ...
    def setting(self, name: str) -> Any: ...


class Condition:
    """Base of all conditions."""

    def holds(self, facts: Facts) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Always(Condition):
    def holds(self, facts: Facts) -> bool:
        return True

    def describe(self) -> str:
        return "always"


@dataclass(frozen=True)
class Derived(Condition):
    name: str

    def holds(self, facts: Facts) -> bool:
        return facts.derived(self.name)

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class FieldTrue(Condition):
    path: str

    def holds(self, facts: Facts) -> bool:
        value = facts.value(self.path)
        return value is not False and is_filled(value)

    def describe(self) -> str:
        return self.path


@dataclass(frozen=True)
class Signed(Condition):
    step: str

    def holds(self, facts: Facts) -> bool:
        return facts.is_signed(self.step)

    def describe(self) -> str:
        return f"{self.step} signed"


@dataclass(frozen=True)
class AtLeast(Condition):
    path: str
    bound: str

    def holds(self, facts: Facts) -> bool:
        value = facts.value(self.path)
        bound = resolve_ref(self.bound, facts)
        return value is not None and bound is not None and Decimal(value) >= Decimal(bound)

    def describe(self) -> str:
        return f"{self.path} ≥ {self.bound}"


@dataclass(frozen=True)
class Not(Condition):
    inner: Condition

    def holds(self, facts: Facts) -> bool:
        return not self.inner.holds(facts)

    def describe(self) -> str:
        return f"not {self.inner.describe()}"


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return any(part.holds(facts) for part in self.parts)

    def describe(self) -> str:
        return "(" + " or ".join(part.describe() for part in self.parts) + ")"


@dataclass(frozen=True)
class AllOf(Condition):
    parts: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return all(part.holds(facts) for part in self.parts)

    def describe(self) -> str:
        return "(" + " and ".join(part.describe() for part in self.parts) + ")"


ALWAYS = Always()


def resolve_ref(ref: Any, facts: Facts) -> Any:
    """``$name`` is a workspace setting, ``$stage.field`` a field's value; anything else as is."""
    if isinstance(ref, str) and ref.startswith("$"):
        name = ref[1:]
        return facts.value(name) if "." in name else facts.setting(name)
    return ref


def parse_condition(spec: Any, derived_names: set[str]) -> Condition:
    """Read a condition from the process definition; raises ValueError with what is wrong."""
    if spec is None or spec == "always":
        return ALWAYS
    if isinstance(spec, str):
        if spec in derived_names:
            return Derived(spec)
        if "." in spec:
            return FieldTrue(spec)
        raise ValueError(f"unknown condition {brief(spec)}: not a derived name ({', '.join(sorted(derived_names))}) "
                         "nor a field path")
    if isinstance(spec, dict) and len(spec) == 1:
        ((kind, arg),) = spec.items()
        if kind in ("any", "all") and isinstance(arg, list) and arg:
            parts = tuple(parse_condition(part, derived_names) for part in arg)
            return AnyOf(parts) if kind == "any" else AllOf(parts)
        if kind == "not":
            return Not(parse_condition(arg, derived_names))
        if kind == "signed" and isinstance(arg, str):
            return Signed(arg)
    if isinstance(spec, dict) and set(spec) == {"field", "at_least"} and \
            isinstance(spec["field"], str) and isinstance(spec["at_least"], str):
        return AtLeast(spec["field"], spec["at_least"])
    raise ValueError(f"not a condition: {brief(str(spec))} (a derived name, a field, {{any: [...]}}, {{all: [...]}}, "
                     "{not: ...}, {signed: STEP} or {field: F, at_least: X})")


def walk(cond: Condition) -> Iterator[Condition]:
    """*cond* and every condition inside it (their depth is bounded by the YAML they came from)."""
    yield cond
    if isinstance(cond, Not):
        yield from walk(cond.inner)
    elif isinstance(cond, (AnyOf, AllOf)):
        for part in cond.parts:
            yield from walk(part)


def referenced_fields(cond: Condition) -> list[str]:
    """Every field path a condition reads (for validating the process)."""
    return [c.path for c in walk(cond) if isinstance(c, (FieldTrue, AtLeast))]


def referenced_steps(cond: Condition) -> list[str]:
    """Every step a condition asks about (for validating the process)."""
    return [c.step for c in walk(cond) if isinstance(c, Signed)]


def referenced_derived(cond: Condition) -> list[str]:
    """Every derived name a condition asks about (for ordering the derived names)."""
    return [c.name for c in walk(cond) if isinstance(c, Derived)]


def bounds(cond: Condition) -> list[AtLeast]:
    """Every `at_least` comparison in a condition (for validating the process)."""
    return [c for c in walk(cond) if isinstance(c, AtLeast)]

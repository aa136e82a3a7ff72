"""Conditions of the process (`when:`), as small typed objects evaluated against a project.

A condition asks an :class:`Facts` for field values, signatures, derived names and
workspace settings; it never knows which step or stage it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from xmflow.i18n import N_, _
from xmflow.procedure.schema import is_filled
from xmflow.values import as_written, brief


class Facts(Protocol):
    """What a condition may ask about a project."""

    def value(self, path: str) -> Any: ...
    def is_signed(self, step: str) -> bool: ...
    def derived(self, name: str) -> bool: ...
    def setting(self, name: str) -> Any: ...


Say = Callable[[str], str]  # how a condition's words are said: ``_`` for a person, ``str`` for JSON


class Condition:
    """Base of all conditions. ``describe()`` says it in the language in use;
    ``describe(str)`` in English, as JSON keeps it."""

    def holds(self, facts: Facts) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, say: Say = _) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Always(Condition):
    def holds(self, facts: Facts) -> bool:
        return True

    def describe(self, say: Say = _) -> str:
        return say(N_("always"))


@dataclass(frozen=True)
class Derived(Condition):
    name: str

    def holds(self, facts: Facts) -> bool:
        return facts.derived(self.name)

    def describe(self, say: Say = _) -> str:
        return self.name


@dataclass(frozen=True)
class FieldTrue(Condition):
    path: str

    def holds(self, facts: Facts) -> bool:
        value = facts.value(self.path)
        return value is not False and is_filled(value)

    def describe(self, say: Say = _) -> str:
        return self.path


@dataclass(frozen=True)
class Signed(Condition):
    step: str

    def holds(self, facts: Facts) -> bool:
        return facts.is_signed(self.step)

    def describe(self, say: Say = _) -> str:
        return say(N_("{step} signed")).format(step=self.step)


@dataclass(frozen=True)
class AtLeast(Condition):
    path: str
    bound: str

    def holds(self, facts: Facts) -> bool:
        value = facts.value(self.path)
        bound = resolve_ref(self.bound, facts)
        return value is not None and bound is not None and Decimal(value) >= Decimal(bound)

    def describe(self, say: Say = _) -> str:
        return f"{self.path} ≥ {self.bound}"


@dataclass(frozen=True)
class Not(Condition):
    inner: Condition

    def holds(self, facts: Facts) -> bool:
        return not self.inner.holds(facts)

    def describe(self, say: Say = _) -> str:
        return say(N_("not {condition}")).format(condition=self.inner.describe(say))


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return any(part.holds(facts) for part in self.parts)

    def describe(self, say: Say = _) -> str:
        return _joined(self.parts, say(N_("{left} or {right}")), say)


@dataclass(frozen=True)
class AllOf(Condition):
    parts: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return all(part.holds(facts) for part in self.parts)

    def describe(self, say: Say = _) -> str:
        return _joined(self.parts, say(N_("{left} and {right}")), say)


def _joined(parts: tuple[Condition, ...], pattern: str, say: Say) -> str:
    """``(a or b or c)``: the parts one after another by *pattern*, in brackets."""
    text = parts[0].describe(say)
    for part in parts[1:]:
        text = pattern.format(left=text, right=part.describe(say))
    return f"({text})"


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
        raise ValueError(
            _("unknown condition {name}: not a derived name ({names}) nor a field path").format(
                name=brief(spec), names=", ".join(sorted(derived_names))
            )
        )
    if isinstance(spec, dict) and len(spec) == 1:
        ((kind, arg),) = spec.items()
        if kind in ("any", "all") and isinstance(arg, list) and arg:
            parts = tuple(parse_condition(part, derived_names) for part in arg)
            return AnyOf(parts) if kind == "any" else AllOf(parts)
        if kind == "not":
            return Not(parse_condition(arg, derived_names))
        if kind == "signed" and isinstance(arg, str):
            return Signed(arg)
    if (
        isinstance(spec, dict)
        and set(spec) == {"field", "at_least"}
        and isinstance(spec["field"], str)
        and isinstance(spec["at_least"], str)
    ):
        return AtLeast(spec["field"], spec["at_least"])
    raise ValueError(
        _(
            "not a condition: {value} (a derived name, a field, {{any: [...]}}, {{all: [...]}}, "
            "{{not: ...}}, {{signed: STEP}} or {{field: F, at_least: X}})"
        ).format(value=brief(as_written(spec)))
    )


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

"""The sandbox that forms' templates run in: Jinja's own (a template reaches nothing outside the
objects it is given), bounded as well, so that no template can hang `render` or fill the memory.

Templates come from the repository, which anyone who can push may change. A render (a form, or a
whole volume) has a budget of steps — loop rounds (also those an ``if`` skips), calls, filters,
and the items a call or a filter goes through — and of characters written, counting the text of
the template itself each time a loop or a macro writes it. No single value a template makes
(by ``*``, ``+``, ``~``, ``**``, ``%``, a string method or a filter) may be larger than
:data:`MAX_SIZE`; the operations that could make one far larger than their input are checked
before they run. Going beyond a bound raises Jinja's SecurityError, which `render` reports as
the template's error (exit 2).
"""

from __future__ import annotations

import functools
import inspect
import re
import string
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from jinja2 import nodes, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from xmflow.i18n import _

# A template is code that anyone who can push may change. These bound what one render may do,
# far above what the packaged forms need (the largest volume of the demo takes under 3,000 steps
# and writes under 80,000 characters); beyond them the render stops with a TemplateError.
MAX_STEPS = 200_000  # loop rounds, calls and filters, and the items a call goes through
MAX_OUTPUT = 20_000_000  # characters written, in all, counting what macros build
MAX_SIZE = 1_000_000  # characters or items of any one value a template makes
MAX_RANGE = 10_000  # items of one range()
MAX_BITS = 10_000  # bits of a whole number a template computes
_SIZED = (str, bytes, list, tuple, dict, set, frozenset, range)
_PRINTF = re.compile(r"%[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
BUDGET: ContextVar[_Budget | None] = ContextVar("xmflow_template_budget", default=None)


class _Budget:
    """What one render (a form, or a whole volume) has spent."""

    def __init__(self) -> None:
        self.steps = 0
        self.chars = 0

    def spend(self, steps: int = 1, chars: int = 0) -> None:
        self.steps += steps
        self.chars += chars
        if self.steps > MAX_STEPS:
            raise SecurityError(
                _(
                    "the template does too much work: more than {limit} steps (loop rounds, calls, "
                    "items gone through), far more than any form needs"
                ).format(limit=f"{MAX_STEPS:,}")
            )
        if self.chars > MAX_OUTPUT:
            raise SecurityError(_("the template writes more than {limit} characters").format(limit=f"{MAX_OUTPUT:,}"))


def spend(steps: int = 1, chars: int = 0) -> None:
    """Spend from the budget of the render under way (none outside a render)."""
    budget = BUDGET.get()
    if budget is not None:
        budget.spend(steps, chars)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, _SIZED) else 0


def _work(value: Any) -> int:
    """The steps going through a value costs: an item each, a step per thousand characters (a
    text is gone through at the speed of C)."""
    return _size(value) // 1000 if isinstance(value, (str, bytes)) else _size(value)


# *what* says what was asked for, when it is refused: a function, so that the words are looked up
# in the catalogue only then, not at every step of every render.
def _limit_size(size: int, what: Callable[[], str]) -> None:
    if size > MAX_SIZE:
        raise SecurityError(
            _("{what} would make a value of {size} characters or items (at most {limit})").format(
                what=what(), size=f"{size:,}", limit=f"{MAX_SIZE:,}"
            )
        )


def _limit(value: Any, limit: int, what: Callable[[], str]) -> None:
    if isinstance(value, int) and value > limit:
        raise SecurityError(
            _("{what} of {value} is more than a template may ask for ({limit})").format(
                what=what(), value=f"{value:,}", limit=f"{limit:,}"
            )
        )


def _check_format(fmt: str, printf: bool) -> None:
    """A format string may not ask for a width or precision beyond MAX_SIZE."""
    if printf:
        numbers = [n for match in _PRINTF.finditer(fmt) for n in match.groups() if n]
    else:
        specs = " ".join(spec or "" for _text, _name, spec, _conversion in string.Formatter().parse(fmt))
        numbers = re.findall(r"\d+|\*", specs)
    for number in numbers:
        if number == "*":
            raise SecurityError(_("a template's format may not take its width from an argument (*)"))
        _limit(int(number), MAX_SIZE, lambda: _("a width"))


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """``'x' * 10**9``, ``10 ** 10 ** 10``, ``'%999999999d' % 1`` are refused before they run."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, _SIZED) and isinstance(times, int):
                _limit_size(len(seq) * times, lambda: _("repeating a value"))
        if isinstance(left, int) and isinstance(right, int):
            _limit(left.bit_length() + right.bit_length(), MAX_BITS, lambda: _("a product of bits"))
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
        _limit(max(left.bit_length(), 1) * right, MAX_BITS, lambda: _("a power of bits"))
    elif operator == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
        _limit_size(len(left) + len(right), lambda: _("adding two values"))
    elif operator == "%" and isinstance(left, str):
        _check_format(left, printf=True)


def _check_replace(text: str, old: Any, new: Any) -> None:
    count = text.count(str(old)) if str(old) else len(text) + 1
    _limit_size(len(text) + count * len(str(new)), lambda: _("replacing"))


def _check_sum(start: Any) -> None:
    if not isinstance(start, (int, float, Decimal)):  # a sum of lists copies them all, again and again
        raise SecurityError(_("a template may sum numbers, not lists or texts"))


def _check_join(items: list[Any], separator: Any) -> None:
    _limit_size(sum(len(str(i)) for i in items) + len(str(separator)) * len(items), lambda: _("joining"))


def _check_str_method(text: str, name: str, args: tuple[Any, ...]) -> None:
    """The methods of a string that can make one much larger than itself, checked first."""
    if name in ("ljust", "rjust", "center", "zfill") and args:
        _limit(args[0], MAX_SIZE, lambda: _("a width"))
    elif name == "expandtabs":
        tab = args[0] if args and isinstance(args[0], int) else 8
        _limit_size(len(text) + text.count("\t") * tab, lambda: _("expanding tabs"))
    elif name == "replace" and len(args) >= 2:
        _check_replace(text, args[0], args[1])
    elif name == "join" and args:
        _check_join(args[0], text)
    elif name in ("format", "format_map"):
        _check_format(text, printf=False)


def _indent_size(value: Any, width: Any) -> int:
    text = str(value)
    return len(text) + text.count("\n") * (len(width) if isinstance(width, str) else width)


def _wrap_size(value: Any, width: int, wrapstring: Any) -> int:
    text = str(value)
    return len(text) + (len(text) // max(width, 1) + 1) * len(str(wrapstring or "\n"))


# The filters that can make a value much larger than their input, checked before they run:
# name → check(value, the filter's arguments by name).
_FILTER_CHECKS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "center": lambda value, a: _limit(a["width"], MAX_SIZE, lambda: _("a width")),
    "indent": lambda value, a: _limit_size(_indent_size(value, a["width"]), lambda: _("indenting")),
    "format": lambda value, a: _check_format(str(value), printf=True),
    "join": lambda value, a: _check_join(value, a["d"]),
    "replace": lambda value, a: _check_replace(str(value), a["old"], a["new"]),
    "sum": lambda value, a: _check_sum(a["start"]),
    "tojson": lambda value, a: _limit(_size(a["indent"]) or a["indent"], 16, lambda: _("an indent")),
    "wordwrap": lambda value, a: _limit_size(_wrap_size(value, a["width"], a["wrapstring"]), lambda: _("wrapping")),
    "batch": lambda value, a: _limit(a["linecount"], MAX_SIZE, lambda: _("a batch")),
    "slice": lambda value, a: _limit(a["slices"], MAX_SIZE, lambda: _("a number of slices")),
}


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that spends a step and one per item it goes through, and makes no value larger
    than MAX_SIZE; the amplifying ones (:data:`_FILTER_CHECKS`) are checked before they run."""
    at = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0  # after the context it is given
    check = _FILTER_CHECKS.get(name)
    signature = inspect.signature(func) if check else None
    # Jinja's async-aware filters take a context their signature (the plain filter's) does not have
    named_from = at if at and getattr(inspect.unwrap(func), "jinja_pass_arg", None) is None else 0

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        value = args[at] if len(args) > at else None
        if check is not None and signature is not None:
            if value is not None and not isinstance(value, _SIZED) and isinstance(value, Iterable):
                value = list(value)  # gone through once here, so the filter gets the items too
                args = (*args[:at], value, *args[at + 1 :])
            bound = signature.bind(*args[named_from:], **kwargs)
            bound.apply_defaults()
            check(value, dict(bound.arguments))
        spend(1 + _work(value))
        result = func(*args, **kwargs)
        _limit_size(_size(result), lambda: _("the filter {name}").format(name=name))
        return result

    return bounded


def _range(*args: int) -> range:
    """range() in a template: at most MAX_RANGE items."""
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise SecurityError(
            _("range{args} has {count} items, more than a template may count ({limit})").format(
                args=args, count=f"{len(rng):,}", limit=f"{MAX_RANGE:,}"
            )
        )
    return rng


def _loop_items(iterable: Iterable[Any]) -> Iterator[Any]:
    """What a {% for %} goes through, a step for each round (also the rounds an `if` skips)."""
    for item in iterable:
        spend()
        yield item


def _body_spent(chars: int) -> None:
    """At the start of a template, a loop's round, a macro or a block: a step, and the template
    text it writes."""
    spend(1, chars)


@pass_eval_context
def _concat(eval_ctx: Any, items: list[Any]) -> str:
    """``a ~ b``, with the size of the result checked first (a loop doubling a text)."""
    texts = [str(i) if not hasattr(i, "__html__") else i for i in items]
    _limit_size(sum(len(t) for t in texts), lambda: _("joining texts with ~"))
    return (markup_join if eval_ctx.autoescape else str_join)(texts)


def _call(function: Callable[..., Any], *args: nodes.Node, lineno: int) -> nodes.Call:
    """A call of one of this module's functions, which a template cannot name or shadow."""
    call = nodes.Call(nodes.ImportedName(f"{__name__}.{function.__name__}"), list(args), [], None, None)
    call.set_lineno(lineno)  # returns the node itself
    return call


def _literal_chars(body: list[nodes.Node]) -> int:
    """The template text a body writes each time it runs, counting both branches of an `if`
    and not the loops, macros and blocks inside it (which count their own)."""
    total = 0
    for node in body:
        if isinstance(node, nodes.Output):
            total += sum(
                len(c.data) if isinstance(c, nodes.TemplateData) else len(str(c.value))
                for c in node.nodes
                if isinstance(c, (nodes.TemplateData, nodes.Const))
            )
        elif isinstance(node, nodes.For):
            total += _literal_chars(node.else_)
        elif not isinstance(node, (nodes.Macro, nodes.CallBlock, nodes.Block)):
            total += _literal_chars(list(node.iter_child_nodes()))
    return total


class _Bounder(NodeTransformer):
    """Rewrites a parsed template so that it spends from the render's budget: every loop goes
    through :func:`_loop_items`, every body starts with :func:`_body_spent`, every ``~`` is
    :func:`_concat`."""

    def _spending(self, node: Any) -> Any:
        node = self.generic_visit(node)
        spent = _call(_body_spent, nodes.Const(_literal_chars(node.body)), lineno=node.lineno)
        node.body.insert(0, nodes.ExprStmt(spent, lineno=node.lineno))
        return node

    visit_Template = visit_Macro = visit_CallBlock = visit_Block = _spending

    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self._spending(node)
        node.iter = _call(_loop_items, node.iter, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)  # in place: it returns the node itself
        return _call(_concat, nodes.List(node.nodes, lineno=node.lineno), lineno=node.lineno)


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox (no reaching outside the objects a template is given), bounded as well:
    every render has a budget of steps and characters, and no operator, method, filter or
    range a template uses may make a value beyond MAX_SIZE."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = _Budget()
        self.globals["range"] = _range
        self.globals.pop("lipsum", None)  # lipsum(10**6) has no use on a form

    def bound_filters(self) -> None:
        """Bound every filter there is now (call once the form's own filters are added)."""
        self.filters = {name: _bounded_filter(name, func) for name, func in self.filters.items()}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        template: nodes.Template = _Bounder().visit(super()._parse(source, name, filename))
        template.set_environment(self)
        return template

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """A call from a template: a step and one per item it is given; a string's amplifying
        methods checked first, the size of what it makes (or of the list it grew) after."""
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        name = getattr(__obj, "__name__", None) or getattr(__obj, "name", None) or _("a call")  # a macro has a name
        if isinstance(owner, str):
            if name == "join" and args:
                args = (list(args[0]), *args[1:])
            _check_str_method(owner, name, args)
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            args = (_loop_items(args[0]), *args[1:])
        spend(1 + sum(_work(a) for a in args))
        result = super().call(__context, __obj, *args, **kwargs)
        _limit_size(max(_size(result), _size(owner)), lambda: f"{name}()")
        return result

"""Checking a process once read: every reference points at something that exists and fits
(a requirement's checks its field, the figures and ledgers the shapes xmflow reads), `after:`
never goes round in a circle. Each error names the file and line of the entry at fault."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from xmflow import yamlio
from xmflow.errors import ProcessError
from xmflow.i18n import _
from xmflow.procedure.conditions import Condition, bounds, referenced_derived, referenced_fields, referenced_steps
from xmflow.procedure.process import INVOICES, LEDGERS, RECEIPTS, Process, Requirement, Stage, Step
from xmflow.procedure.schema import FieldType
from xmflow.values import quoted

_FIGURE_KINDS = {
    "name": "text",
    "client": "text",
    "budget": "money",
    "salesperson": "person",
    "opened": "date",
    "industry_need": "bool",
    "special": "bool",
    "contract_amount": "money",
    "warranty_start": "date",
    "warranty_months": "int",
    "milestones": "list",
    "payment_terms": "list",
    "volume": "text",
}
_NUMBERS = ("money", "number", "int")
# What xmflow reads inside the list figures and the ledgers: sub-field → the kinds it may be.
_ITEMS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "figures": {
        "milestones": {"name": ("text",), "due": ("date",), "done": ("date",)},
        "payment_terms": {"name": ("text",), "percent": _NUMBERS, "due": ("enum", "text"), "days": ("int",)},
    },
    "ledgers": {
        INVOICES: {"number": ("text",), "amount": ("money",), "date": ("date",), "by": ("person",)},
        RECEIPTS: {"amount": ("money",), "date": ("date",), "by": ("person",)},
    },
}
_OPENING = ("name", "client", "budget", "salesperson", "opened", "industry_need", "special")  # `new` writes them
SETTINGS = {"key_threshold"}
MAX_CHAIN = 100  # steps one after another (the default has 16): the rules follow the chain recursively


def _bound_known(process: Process, bound: str) -> bool:
    if bound.startswith("$"):
        name = bound[1:]
        ftype = process.field_type(name) if "." in name else None
        return ftype is not None and ftype.kind in _NUMBERS if "." in name else name in SETTINGS
    try:
        return Decimal(bound).is_finite()
    except InvalidOperation:
        return False


def chain(graph: dict[str, list[str]]) -> tuple[list[str], int]:
    """A cycle in *graph* (each node → the nodes it follows) as the path round it, or else []
    and the length of the longest chain. Iterative: a process may be long."""
    depth: dict[str, int] = {}
    for start in graph:
        if start in depth:
            continue
        path, todo = [start], [iter(graph[start])]
        while todo:
            node = next((n for n in todo[-1] if n in graph), None)
            if node is None:
                done = path.pop()
                todo.pop()
                depth[done] = 1 + max((depth[n] for n in graph[done] if n in graph), default=0)
            elif node in path:
                return path[path.index(node) :] + [node], 0
            elif node not in depth:
                path.append(node)
                todo.append(iter(graph[node]))
    return [], max(depth.values(), default=0)


class Checker:
    """The checks of one process document, failing with its file and line."""

    def __init__(self, doc: yamlio.Document) -> None:
        self.doc = doc

    def fail(self, path: yamlio.Path, message: str) -> ProcessError:
        return ProcessError(self.doc.where(path), message)

    def order(self, stages: tuple[Stage, ...], derived: dict[str, Condition]) -> None:
        """No step follows itself through `after:` (the rules would wait for ever), no chain is
        longer than MAX_CHAIN, and no derived name is defined by itself."""
        where = {
            step.id: ("stages", i, "steps", j, "after")
            for i, stage in enumerate(stages)
            for j, step in enumerate(stage.steps)
        }
        cycle, longest = chain({step.id: [p.step for p in step.after] for stage in stages for step in stage.steps})
        if cycle:
            raise self.fail(
                where[cycle[0]],
                _("`after:` goes round in a circle: {cycle} (a step cannot follow itself)").format(
                    cycle=" → ".join(reversed(cycle))
                ),
            )
        if longest > MAX_CHAIN:
            raise self.fail(
                ("stages",), _("{count} steps one after another: at most {most}").format(count=longest, most=MAX_CHAIN)
            )
        cycle, longest = chain({name: referenced_derived(cond) for name, cond in derived.items()})
        if cycle or longest > MAX_CHAIN:
            raise self.fail(
                ("derived", cycle[0]) if cycle else ("derived",),
                _("derived names defined by one another: {cycle}").format(cycle=" → ".join(cycle))
                if cycle
                else _("derived names nested {count} deep: at most {most}").format(count=longest, most=MAX_CHAIN),
            )

    def all(self, process: Process) -> None:
        """Every reference in the process points at something that exists."""
        for i, stage in enumerate(process.stages):
            self.check_condition(process, stage.when, ("stages", i, "when"))
            for j, step in enumerate(stage.steps):
                self.check_step(process, step, ("stages", i, "steps", j))
            for name, ftype in stage.fields.fields.items():
                self.check_person_roles(process, ftype, ("stages", i, "fields", name))
        for path, editors in [
            (("editors",), process.editors_everywhere),
            *((("stages", i, "editors"), s.editors) for i, s in enumerate(process.stages)),
        ]:
            for role in editors:
                if role not in process.roles or process.roles[role].external:
                    raise self.fail(
                        path, _("editors names {role}, which is not a company role").format(role=quoted(role))
                    )
        for rid, defined in process.roles.items():
            for ref in defined.recorded_by:
                if ref not in process.roles or process.roles[ref].external:
                    raise self.fail(
                        ("roles", rid),
                        _("recorded_by names {role}, which is not a company role").format(role=quoted(ref)),
                    )
            for ref in defined.named_in:
                self.check_field_ref(process, ref, ("roles", rid, "named_in"))
        for name, cond in process.derived.items():
            self.check_condition(process, cond, ("derived", name))
        self.check_ledgers(process)
        for fid, form in process.forms.items():
            self.check_condition(process, form.when, ("forms", fid, "when"))
        self.check_events(process)
        self.check_figures(process)

    def check_ledgers(self, process: Process) -> None:
        for lid in LEDGERS:
            if lid not in process.ledgers:
                raise self.fail(
                    ("ledgers",),
                    _("`ledgers` must have `{ledger}` (4.0: xmflow invoice, xmflow receive)").format(ledger=lid),
                )
        for lid, ledger in process.ledgers.items():
            path = ("ledgers", lid)
            self.check_field_ref(process, ledger.field, path + ("field",))
            if ledger.field.split(".")[0] != ledger.stage:
                raise self.fail(
                    path + ("stage",),
                    _("ledger {ledger} writes {field}, a field of another stage than {stage}").format(
                        ledger=lid, field=ledger.field, stage=ledger.stage
                    ),
                )
            self.check_step_ref(process, ledger.after, path + ("after",))
            self.check_roles(process, ledger.roles, path + ("roles",))
            self.check_items(process, ledger.field, _ITEMS["ledgers"].get(lid, {}), path + ("field",))

    def check_events(self, process: Process) -> None:
        for name, event in process.payment_events.items():
            path = ("payment_events", name)
            if event.kind == "step":
                self.check_step_ref(process, event.ref, path)
            elif event.kind == "field":
                if self.check_field_ref(process, event.ref, path).kind != "date":
                    raise self.fail(
                        path, _("a payment event's field must be a date ({field} is not)").format(field=event.ref)
                    )
            elif event.ref != "warranty_end":
                raise self.fail(
                    path,
                    _("unknown figure {name} (an event's figure can be warranty_end)").format(name=quoted(event.ref)),
                )

    def check_figures(self, process: Process) -> None:
        for name, ref in process.figures.items():
            kind = self.check_field_ref(process, ref, ("figures", name)).kind
            if name in _FIGURE_KINDS and kind != _FIGURE_KINDS[name]:
                raise self.fail(
                    ("figures", name),
                    _("figure {name} must name a {kind} field ({field} is {actual})").format(
                        name=name, kind=_FIGURE_KINDS[name], field=ref, actual=kind
                    ),
                )
            self.check_items(process, ref, _ITEMS["figures"].get(name, {}), ("figures", name))
        stages = {process.figure(name).split(".")[0] for name in _OPENING}
        if len(stages) > 1:
            raise self.fail(
                ("figures",),
                _("the figures {figures} are fields of the record `new` opens: one stage, not {stages}").format(
                    figures=", ".join(_OPENING), stages=", ".join(sorted(stages))
                ),
            )
        if process.salesperson_role:
            self.check_roles(process, (process.salesperson_role,), ("figures", "salesperson"))
        if not process.stage(stages.pop()).steps:
            raise self.fail(
                ("figures", "name"),
                _("the stage `new` opens ({stage}) needs a step: its first step opens a project").format(
                    stage=process.figure("name").split(".")[0]
                ),
            )

    def check_items(self, process: Process, ref: str, wanted: dict[str, tuple[str, ...]], path: yamlio.Path) -> None:
        """*ref* is a list of mappings whose sub-fields named in *wanted* are of those kinds."""
        if not wanted:
            return
        ftype = process.field_type(ref)
        item = ftype.item if ftype is not None else None
        for name, kinds in wanted.items():
            sub = item.child(name) if item is not None else None
            if sub is None or sub.kind not in kinds:
                either = kinds[0]
                for other in kinds[1:]:
                    either = _("{left} or {right}").format(left=either, right=other)
                raise self.fail(
                    path,
                    _("{field} must be a list of mappings whose `{name}` is {kinds}").format(
                        field=ref, name=name, kinds=either
                    ),
                )

    def check_step(self, process: Process, step: Step, path: yamlio.Path) -> None:
        self.check_roles(process, step.roles, path + ("roles",), step.id)
        self.check_condition(process, step.when, path + ("when",))
        for k, pre in enumerate(step.after):
            self.check_step_ref(process, pre.step, path + ("after", k))
            self.check_condition(process, pre.when, path + ("after", k))
        for ref in step.fills:
            self.check_field_ref(process, ref, path + ("fills",))
        for k, req in enumerate(step.requires):
            self.check_requirement(process, req, path + ("requires", k))
        if step.on_reject:
            for ref in (step.on_reject.to, *step.on_reject.keeps):
                self.check_step_ref(process, ref, path + ("on_reject",))
        for role in step.notice.to if step.notice else ():
            if role not in process.roles:
                raise self.fail(
                    path + ("notify", "to"),
                    _("notify: unknown role {role} in {step}").format(role=quoted(role), step=step.id),
                )
            if process.roles[role].external:
                raise self.fail(
                    path + ("notify", "to"),
                    _("notify: {role} is the client's: xmflow tells the company's people only").format(
                        role=quoted(role)
                    ),
                )

    def check_requirement(self, process: Process, req: Requirement, path: yamlio.Path) -> None:
        """A requirement's checks fit its field: items of a list, sub-fields of a mapping."""
        ftype = self.check_field_ref(process, req.field, path)
        self.check_condition(process, req.when, path)
        if isinstance(req.equals, str) and req.equals.startswith("$") and "." in req.equals:
            self.check_field_ref(process, req.equals[1:], path)
        item = ftype.item if ftype.kind == "list" else None
        if (req.min_items is not None or req.each_has or req.sum) and ftype.kind != "list":
            raise self.fail(
                path,
                _("min_items, each_has and sum count the items of a list: {field} is not one").format(field=req.field),
            )
        for name in (*req.each_has, *([req.sum] if req.sum else [])):
            sub = item.child(name) if item is not None else None
            if sub is None or name == req.sum and sub.kind not in _NUMBERS:
                raise self.fail(
                    path,
                    (
                        _("the items of {field} have no number field {name}")
                        if name == req.sum
                        else _("the items of {field} have no field {name}")
                    ).format(field=req.field, name=quoted(name)),
                )
        if req.all_true and (ftype.kind != "map" or any(sub.kind != "bool" for sub in ftype.fields.values())):
            raise self.fail(
                path, _("all_true checks a mapping of true/false fields: {field} is not one").format(field=req.field)
            )

    def check_person_roles(self, process: Process, ftype: FieldType, path: yamlio.Path) -> None:
        """A person field's `role` is a role of the process."""
        if ftype.role is not None and ftype.role not in process.roles:
            raise self.fail(path, _("unknown role {role} for a person field").format(role=quoted(ftype.role)))
        for name, sub in ftype.fields.items():
            self.check_person_roles(process, sub, path + ("fields", name))
        if ftype.item is not None:
            self.check_person_roles(process, ftype.item, path + ("list",))

    def check_roles(self, process: Process, roles: tuple[str, ...], path: yamlio.Path, step: str = "") -> None:
        for role in roles:
            if role not in process.roles:
                raise self.fail(
                    path,
                    _("unknown role {role} in {step}").format(role=quoted(role), step=step)
                    if step
                    else _("unknown role {role}").format(role=quoted(role)),
                )

    def check_step_ref(self, process: Process, ref: str, path: yamlio.Path) -> None:
        if not process.has_step(ref):
            raise self.fail(path, _("unknown step {step}").format(step=quoted(ref)))

    def check_field_ref(self, process: Process, ref: str, path: yamlio.Path) -> FieldType:
        """The type of the field *ref*, which must exist."""
        ftype = process.field_type(ref)
        if ftype is None:
            raise self.fail(path, _("unknown field {field}").format(field=quoted(ref)))
        return ftype

    def check_condition(self, process: Process, cond: Condition, path: yamlio.Path) -> None:
        for ref in referenced_fields(cond):
            self.check_field_ref(process, ref, path)
        for bound in bounds(cond):
            if bound.path and self.check_field_ref(process, bound.path, path).kind not in _NUMBERS:
                raise self.fail(path, _("at_least compares numbers: {field} is not one").format(field=bound.path))
            if not _bound_known(process, bound.bound):
                raise self.fail(
                    path,
                    _("at_least {bound} is neither a number, a $setting nor a $field").format(
                        bound=quoted(bound.bound)
                    ),
                )
        for ref in referenced_steps(cond):
            self.check_step_ref(process, ref, path)

"""Reading a process file: its YAML into the typed process, every key known, every reference
checked, each error naming the file and line."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from xmflow import yamlio
from xmflow.conditions import Condition, bounds, parse_condition, referenced_fields, referenced_steps
from xmflow.errors import ProcessError
from xmflow.process import (
    FIGURES,
    Form,
    Ledger,
    PaymentEvent,
    Prerequisite,
    Process,
    Reject,
    Requirement,
    Role,
    Stage,
    Step,
)
from xmflow.schema import FieldType, parse_field_type

_TOP = {"name", "name_en", "document", "revisions", "roles", "derived", "stages", "ledgers", "figures", "forms",
        "payment_events", "editors"}
_ROLE = {"title", "title_en", "global", "named_in", "external", "recorded_by"}
_STAGE = {"id", "title", "title_en", "file", "clause", "form", "when", "fields", "steps", "editors"}
_STEP = {"id", "title", "title_en", "clause", "roles", "mode", "review", "when", "after", "requires", "on_reject", "form",
         "fills", "due_days"}
_REQUIREMENT = {"field", "when", "equals", "min_items", "each_has", "all_true", "sum"}
_REJECT = {"to", "keeps"}
_LEDGER = {"stage", "field", "roles", "clause", "after"}
_FORM = {"number", "title", "title_en", "annex", "clause", "copies", "stamps", "when"}
_PARTIES = {"company", "client"}
_FIGURE_KINDS = {"name": "text", "client": "text", "budget": "money", "salesperson": "person", "opened": "date",
                 "industry_need": "bool", "special": "bool", "contract_amount": "money", "warranty_start": "date",
                 "warranty_months": "int", "milestones": "list", "payment_terms": "list"}
_SETTINGS = {"key_threshold"}


def _bound_known(process: Process, bound: str) -> bool:
    if bound.startswith("$"):
        name = bound[1:]
        return process.field_type(name) is not None if "." in name else name in _SETTINGS
    try:
        Decimal(bound)
    except InvalidOperation:
        return False
    return True


def _dotted(sub: tuple) -> str:
    """The field names in a path inside a field type: ``("fields", "a", "list", "type")`` → ``.a``."""
    names, i = [], 0
    while i < len(sub):
        if sub[i] == "fields" and i + 1 < len(sub):
            names.append(str(sub[i + 1]))
            i += 2
        else:
            i += 1
    return "".join("." + name for name in names)


class Parser:
    """One process document → :class:`Process`."""

    def __init__(self, doc: yamlio.Document) -> None:
        self.doc = doc
        if not isinstance(doc.data, dict):
            raise ProcessError(doc.name, "a process file must be a mapping with `stages`")
        self.data: dict[str, Any] = doc.data

    def fail(self, path: tuple, message: str) -> ProcessError:
        return ProcessError(self.doc.where(path), message)

    def mapping(self, spec: Any, path: tuple, known: set[str], what: str) -> dict[str, Any]:
        """*spec* as a mapping whose keys are all *known*."""
        if not isinstance(spec, dict):
            raise self.fail(path, f"a {what} must be a mapping")
        for key in spec:
            if key not in known:
                raise self.fail(path + (key,), f"unknown {what} field {key!r} (known: {', '.join(sorted(known))})")
        return spec

    def get(self, node: dict, path: tuple, key: str, default: Any = ..., kind: type = str) -> Any:
        value = node.get(key, default)
        if value is ...:
            raise self.fail(path, f"missing `{key}`")
        if value is not default and not isinstance(value, kind):
            raise self.fail(path + (key,), f"`{key}` must be a {kind.__name__}")
        return value

    def flag(self, node: dict, path: tuple, key: str, default: bool = False) -> bool:
        value = node.get(key)
        if value is None:
            return default
        if str(value).lower() not in ("true", "false"):
            raise self.fail(path + (key,), f"`{key}` must be true or false")
        return str(value).lower() == "true"

    def names(self, node: dict, path: tuple, key: str) -> tuple[str, ...]:
        value = node.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(path + (key,), f"`{key}` must be a list of names")
        return tuple(value)

    def condition(self, spec: Any, path: tuple) -> Condition:
        try:
            return parse_condition(spec, set(self.data.get("derived") or {}))
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    def process(self, text: str) -> Process:
        data = self.mapping(self.data, (), _TOP, "process")
        roles = {rid: self.role(rid, spec, ("roles", rid)) for rid, spec in self.get(data, (), "roles", kind=dict).items()}
        derived = {name: self.condition(spec, ("derived", name)) for name, spec in (data.get("derived") or {}).items()}
        stages = tuple(self.stage(spec, ("stages", i)) for i, spec in enumerate(self.get(data, (), "stages", kind=list)))
        ledgers = {lid: self.ledger(lid, spec, ("ledgers", lid)) for lid, spec in (data.get("ledgers") or {}).items()}
        figures = self.get(data, (), "figures", kind=dict)
        missing = [name for name in FIGURES if name not in figures]
        if missing:
            raise self.fail(("figures",), f"`figures` must name the field of: {', '.join(missing)}")
        revisions = self.revisions(data.get("revisions"))
        self.check_unique(stages)
        forms = self.forms(data.get("forms"), stages)
        events = self.payment_events(data.get("payment_events"))
        process = Process(str(data.get("name", "")), str(data.get("name_en", "")), str(data.get("document", "")),
                          revisions, roles, derived, stages, ledgers, {k: str(v) for k, v in figures.items()},
                          forms, events, self.doc.name, text, self.names(data, (), "editors"))
        self.check(process)
        return process

    def revisions(self, spec: Any) -> tuple[dict[str, str], ...]:
        """The revision record (版序, 章节, 修订内容, 修订日期, 编制, 审核, 批准)."""
        if spec is None:
            return ()
        if not isinstance(spec, list) or not all(isinstance(rev, dict) for rev in spec):
            raise self.fail(("revisions",), "`revisions` must be a list of mappings (version, chapter, content, …)")
        return tuple({str(k): str(v) for k, v in rev.items()} for rev in spec)

    def role(self, rid: str, spec: Any, path: tuple) -> Role:
        spec = self.mapping(spec, path, _ROLE, "role")
        return Role(rid, str(spec.get("title", rid)), str(spec.get("title_en", rid)), self.flag(spec, path, "global", True),
                    self.names(spec, path, "named_in"), self.flag(spec, path, "external"),
                    self.names(spec, path, "recorded_by"))

    def stage(self, spec: Any, path: tuple) -> Stage:
        spec = self.mapping(spec, path, _STAGE, "stage")
        sid = self.get(spec, path, "id")
        if not re.fullmatch(r"[A-Za-z0-9_-]+\.yaml", self.get(spec, path, "file")):
            raise self.fail(path + ("file",), "a stage's `file` is a plain file name ending in .yaml")
        if spec.get("form") is not None and not isinstance(spec["form"], str):
            raise self.fail(path + ("form",), "`form` must be a form's name")
        fields = {name: self.field_type(sid, name, sub, path + ("fields", name))
                  for name, sub in self.get(spec, path, "fields", kind=dict).items()}
        steps = tuple(self.step(sid, st, path + ("steps", i)) for i, st in enumerate(self.get(spec, path, "steps", kind=list)))
        return Stage(sid, self.get(spec, path, "title"), str(spec.get("title_en", sid)), self.get(spec, path, "file"),
                     str(spec.get("clause", "")), FieldType("map", fields=fields), steps,
                     self.condition(spec.get("when"), path + ("when",)), spec.get("form"), self.names(spec, path, "editors"))

    def field_type(self, stage_id: str, name: str, spec: Any, path: tuple) -> FieldType:
        if name == "signoffs":
            raise self.fail(path, "`signoffs` is where a stage file keeps its sign-offs: name the field otherwise")
        try:
            return parse_field_type(spec, lambda sub: f"{self.doc.where(path + sub)}: {stage_id}.{name}{_dotted(sub)}")
        except ValueError as exc:
            raise ProcessError("", str(exc)) from None

    def step(self, stage_id: str, spec: Any, path: tuple) -> Step:
        spec = self.mapping(spec, path, _STEP, "step")
        after = tuple(self.prerequisite(p, path + ("after", i)) for i, p in enumerate(spec.get("after") or []))
        requires = tuple(self.requirement(r, path + ("requires", i)) for i, r in enumerate(spec.get("requires") or []))
        on_reject = None
        if spec.get("on_reject") is not None:
            reject = self.mapping(spec["on_reject"], path + ("on_reject",), _REJECT, "on_reject")
            on_reject = Reject(self.get(reject, path + ("on_reject",), "to"), self.names(reject, path, "keeps"))
        if spec.get("form") is not None and not isinstance(spec["form"], str):
            raise self.fail(path + ("form",), "`form` must be a form's name")
        due_days = spec.get("due_days")
        if due_days is not None and not str(due_days).isdigit():
            raise self.fail(path + ("due_days",), "`due_days` must be a whole number of days")
        mode = spec.get("mode", "any")
        if mode not in ("any", "all"):
            raise self.fail(path + ("mode",), "`mode` must be `any` or `all` (会签)")
        return Step(f"{stage_id}.{self.get(spec, path, 'id')}", stage_id, self.get(spec, path, "title"),
                    str(spec.get("clause", "")), self.names(spec, path, "roles"), mode, self.flag(spec, path, "review"),
                    self.condition(spec.get("when"), path + ("when",)), after, requires, on_reject, spec.get("form"),
                    self.names(spec, path, "fills"), str(spec.get("title_en", "")),
                    int(due_days) if due_days is not None else None)

    def prerequisite(self, spec: Any, path: tuple) -> Prerequisite:
        if isinstance(spec, str):
            return Prerequisite(spec)
        spec = self.mapping(spec, path, {"step", "when"}, "prerequisite")
        return Prerequisite(self.get(spec, path, "step"), self.condition(spec.get("when"), path + ("when",)))

    def requirement(self, spec: Any, path: tuple) -> Requirement:
        spec = self.mapping(spec, path, _REQUIREMENT, "requirement")
        min_items = spec.get("min_items")
        if min_items is not None and not str(min_items).isdigit():
            raise self.fail(path + ("min_items",), "`min_items` must be a whole number")
        return Requirement(self.get(spec, path, "field"), self.condition(spec.get("when"), path + ("when",)),
                           spec.get("equals"), int(min_items) if min_items is not None else None,
                           self.names(spec, path, "each_has"), self.flag(spec, path, "all_true"), spec.get("sum"))

    def ledger(self, lid: str, spec: Any, path: tuple) -> Ledger:
        spec = self.mapping(spec, path, _LEDGER, "ledger")
        return Ledger(lid, self.get(spec, path, "stage"), self.get(spec, path, "field"), self.names(spec, path, "roles"),
                      str(spec.get("clause", "")), self.get(spec, path, "after"))

    def payment_events(self, spec: Any) -> dict[str, PaymentEvent]:
        """What each payment term's `due` counts from: {EVENT: {step|field|figure: REF}}."""
        if spec is None:
            return {}
        if not isinstance(spec, dict):
            raise self.fail(("payment_events",), "`payment_events` must be a mapping of event → {step|field|figure: …}")
        events = {}
        for name, entry in spec.items():
            path = ("payment_events", name)
            if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in ("step", "field", "figure"):
                raise self.fail(path, "an event is one of {step: STEP}, {field: FIELD}, {figure: warranty_end}")
            kind, ref = next(iter(entry.items()))
            events[str(name)] = PaymentEvent(kind, str(ref))
        return events

    def forms(self, spec: Any, stages: tuple[Stage, ...]) -> dict[str, Form]:
        """The printed forms, in the order a project's volume binds them (4.2). A process without
        a `forms:` table still names its forms on its stages and steps: those are made plain."""
        covered: dict[str, list[str]] = {}
        for stage in stages:
            for step in stage.steps:
                if step.form or stage.form:
                    covered.setdefault(step.form or stage.form, []).append(step.id)  # type: ignore[arg-type]
        if spec is None:
            return {fid: Form(fid, fid, fid, fid, steps=tuple(steps)) for fid, steps in covered.items()}
        if not isinstance(spec, dict):
            raise self.fail(("forms",), "`forms` must be a mapping of form name → number, title, …")
        forms = {fid: self.form(fid, entry, ("forms", fid), tuple(covered.get(fid, ())))
                 for fid, entry in spec.items()}
        for i, stage in enumerate(stages):
            named = [(("stages", i, "form"), stage.form)] + [(("stages", i, "steps", j, "form"), step.form)
                                                             for j, step in enumerate(stage.steps)]
            for path, fid in named:
                if fid is not None and fid not in forms:
                    raise self.fail(path, f"form {fid!r} is not in the `forms` table (forms: {', '.join(forms)})")
        seen: dict[str, str] = {}
        for fid, form in forms.items():
            for name in {n.casefold() for n in form.names()}:
                if name in seen:
                    raise self.fail(("forms", fid), f"forms {seen[name]} and {fid} both go by the name {name!r}")
                seen[name] = fid
        return forms

    def form(self, fid: str, spec: Any, path: tuple, steps: tuple[str, ...]) -> Form:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", str(fid)):
            raise self.fail(path, "a form's name has only letters, digits, - and _ (it names its template)")
        spec = self.mapping(spec, path, _FORM, "form")
        copies = str(spec.get("copies", 1))
        if not copies.isdigit() or int(copies) < 1:
            raise self.fail(path + ("copies",), "`copies` must be a whole number of at least 1")
        stamps = self.names(spec, path, "stamps")
        unknown = [p for p in stamps if p not in _PARTIES]
        if unknown:
            raise self.fail(path + ("stamps",), f"unknown party {unknown[0]!r} (parties: company, client)")
        return Form(str(fid), self.get(spec, path, "number"), self.get(spec, path, "title"),
                    str(spec.get("title_en", fid)), str(spec.get("annex", "")), str(spec.get("clause", "")),
                    int(copies), stamps, self.condition(spec.get("when"), path + ("when",)), steps)

    def check_unique(self, stages: tuple[Stage, ...]) -> None:
        seen: set[str] = set()
        for i, stage in enumerate(stages):
            if stage.id in seen or stage.file in seen:
                raise self.fail(("stages", i), f"stage {stage.id!r} or its file {stage.file!r} is defined twice")
            seen |= {stage.id, stage.file}
            step_ids: set[str] = set()
            for j, step in enumerate(stage.steps):
                if step.id in step_ids:
                    raise self.fail(("stages", i, "steps", j), f"step {step.id!r} is defined twice")
                step_ids.add(step.id)

    def check(self, process: Process) -> None:
        """Every reference in the process points at something that exists."""
        for i, stage in enumerate(process.stages):
            self.check_condition(process, stage.when, ("stages", i, "when"))
            for j, step in enumerate(stage.steps):
                self.check_step(process, step, ("stages", i, "steps", j))
        for path, editors in [(("editors",), process.editors_everywhere),
                              *((("stages", i, "editors"), s.editors) for i, s in enumerate(process.stages))]:
            for role in editors:
                if role not in process.roles or process.roles[role].external:
                    raise self.fail(path, f"editors names {role!r}, which is not a company role")
        for rid, role in process.roles.items():
            for ref in role.recorded_by:
                if ref not in process.roles or process.roles[ref].external:
                    raise self.fail(("roles", rid), f"recorded_by names {ref!r}, which is not a company role")
        for name, cond in process.derived.items():
            self.check_condition(process, cond, ("derived", name))
        for lid, ledger in process.ledgers.items():
            self.check_field_ref(process, ledger.field, ("ledgers", lid))
            self.check_step_ref(process, ledger.after, ("ledgers", lid))
        for fid, form in process.forms.items():
            self.check_condition(process, form.when, ("forms", fid, "when"))
        for name, event in process.payment_events.items():
            path = ("payment_events", name)
            if event.kind == "step":
                self.check_step_ref(process, event.ref, path)
            elif event.kind == "field":
                self.check_field_ref(process, event.ref, path)
            elif event.ref != "warranty_end":
                raise self.fail(path, f"unknown figure {event.ref!r} (an event's figure can be warranty_end)")
        for name, ref in process.figures.items():
            self.check_field_ref(process, ref, ("figures", name))
            kind = process.field_type(ref).kind
            if name in _FIGURE_KINDS and kind != _FIGURE_KINDS[name]:
                raise self.fail(("figures", name), f"figure {name} must name a {_FIGURE_KINDS[name]} field ({ref} is {kind})")

    def check_step(self, process: Process, step: Step, path: tuple) -> None:
        for role in step.roles:
            if role not in process.roles:
                raise self.fail(path + ("roles",), f"unknown role {role!r} in {step.id}")
        self.check_condition(process, step.when, path + ("when",))
        for k, pre in enumerate(step.after):
            self.check_step_ref(process, pre.step, path + ("after", k))
        for ref in step.fills:
            self.check_field_ref(process, ref, path + ("fills",))
        for k, req in enumerate(step.requires):
            self.check_field_ref(process, req.field, path + ("requires", k))
            self.check_condition(process, req.when, path + ("requires", k))
            if isinstance(req.equals, str) and req.equals.startswith("$") and "." in req.equals:
                self.check_field_ref(process, req.equals[1:], path + ("requires", k))
        if step.on_reject:
            for ref in (step.on_reject.to, *step.on_reject.keeps):
                self.check_step_ref(process, ref, path + ("on_reject",))

    def check_step_ref(self, process: Process, ref: str, path: tuple) -> None:
        if not process.has_step(ref):
            raise self.fail(path, f"unknown step {ref!r}")

    def check_field_ref(self, process: Process, ref: str, path: tuple) -> None:
        if process.field_type(ref) is None:
            raise self.fail(path, f"unknown field {ref!r}")

    def check_condition(self, process: Process, cond: Condition, path: tuple) -> None:
        for ref in referenced_fields(cond):
            self.check_field_ref(process, ref, path)
        for bound in bounds(cond):
            if bound.path and process.field_type(bound.path).kind not in ("money", "number", "int"):
                raise self.fail(path, f"at_least compares numbers: {bound.path} is not one")
            if not _bound_known(process, bound.bound):
                raise self.fail(path, f"at_least {bound.bound!r} is neither a number, a $setting nor a $field")
        for ref in referenced_steps(cond):
            self.check_step_ref(process, ref, path)

"""The procedure as data: stages, steps, roles, conditions and requirements.

The default process ships as ``process.yaml`` in this package; a workspace may name its own
revision in ``xmflow.yaml``. Everything the rules know about the procedure comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from xmflow import yamlio
from xmflow.conditions import ALWAYS, Condition, parse_condition, referenced_fields, referenced_steps
from xmflow.errors import ProcessError, RecordError
from xmflow.schema import FieldType, parse_field_type

DEFAULT_NAME = "process.yaml"


@dataclass(frozen=True)
class Role:
    """A role of the process; ``named_in`` limits it to the people a project names in those fields."""

    id: str
    title: str
    title_en: str
    is_global: bool = True
    named_in: tuple[str, ...] = ()
    external: bool = False
    recorded_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Requirement:
    """A field a step needs before it can be signed, with an optional check on its value."""

    field: str
    when: Condition = ALWAYS
    equals: Any = None
    min_items: int | None = None
    each_has: tuple[str, ...] = ()
    all_true: bool = False
    sum: str | None = None


@dataclass(frozen=True)
class Prerequisite:
    """A step that must be complete (or not apply) before another can be signed."""

    step: str
    when: Condition = ALWAYS


@dataclass(frozen=True)
class Reject:
    """Where a reject returns to (3.5.2, 3.5.3), and which signatures stand through the loop."""

    to: str
    keeps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One sign-off of the procedure."""

    id: str
    stage: str
    title: str
    clause: str
    roles: tuple[str, ...]
    mode: str = "any"
    review: bool = False
    when: Condition = ALWAYS
    after: tuple[Prerequisite, ...] = ()
    requires: tuple[Requirement, ...] = ()
    on_reject: Reject | None = None
    form: str | None = None
    fills: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]

    @property
    def needs_all_roles(self) -> bool:
        """A 会签 step: complete only when each of its roles has signed."""
        return self.mode == "all"


@dataclass(frozen=True)
class Stage:
    """One stage of a project, kept in one YAML file."""

    id: str
    title: str
    title_en: str
    file: str
    clause: str
    fields: FieldType
    steps: tuple[Step, ...]
    when: Condition = ALWAYS
    form: str | None = None


@dataclass(frozen=True)
class Ledger:
    """A list of entries written by its own command (invoices, receipts) and by given roles."""

    id: str
    stage: str
    field: str
    roles: tuple[str, ...]
    clause: str
    after: str


@dataclass(frozen=True)
class Process:
    """The whole procedure, loaded and checked."""

    name: str
    name_en: str
    document: str
    revisions: tuple[dict[str, str], ...]
    roles: dict[str, Role]
    derived: dict[str, Condition]
    stages: tuple[Stage, ...]
    ledgers: dict[str, Ledger]
    source: str
    text: str = field(repr=False, default="")

    def stage(self, stage_id: str) -> Stage:
        return self._stages[stage_id]

    def step(self, step_id: str) -> Step:
        return self._steps[step_id]

    def has_step(self, step_id: str) -> bool:
        return step_id in self._steps

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps.values())

    def stage_of_file(self, filename: str) -> Stage | None:
        return next((s for s in self.stages if s.file == filename), None)

    def field_type(self, path: str) -> FieldType | None:
        """The type of a dotted field path (``contract.core_principles.pricing``), or None."""
        stage_id, _, rest = path.partition(".")
        if stage_id not in self._stages or not rest:
            return None
        ftype: FieldType | None = self._stages[stage_id].fields
        for part in rest.split("."):
            if ftype is not None and ftype.kind == "list":
                ftype = ftype.item  # a list item, by index (milestones.0.done) or for all items
                if part.isdigit():
                    continue
            ftype = ftype.child(part) if ftype else None
        return ftype

    def signed_fields(self, step_id: str) -> frozenset[str]:
        """The top-level fields of its stage that a signature of *step_id* covers."""
        return self._signed[step_id]

    def as_json(self) -> dict[str, Any]:
        """The process as plain data, for `process show --json`."""
        return {
            "name": self.name, "name_en": self.name_en, "document": self.document, "revisions": list(self.revisions),
            "roles": {r.id: {"title": r.title, "title_en": r.title_en, "external": r.external} for r in self.roles.values()},
            "stages": [{"id": s.id, "title": s.title, "title_en": s.title_en, "file": s.file, "clause": s.clause,
                        "form": s.form, "when": s.when.describe(),
                        "steps": [{"id": st.id, "title": st.title, "clause": st.clause, "roles": list(st.roles),
                                   "mode": st.mode, "review": st.review, "when": st.when.describe(),
                                   "after": [p.step for p in st.after], "requires": [r.field for r in st.requires],
                                   "on_reject": st.on_reject.to if st.on_reject else None, "form": st.form}
                                  for st in s.steps]} for s in self.stages],
        }

    def __post_init__(self) -> None:
        object.__setattr__(self, "_stages", {s.id: s for s in self.stages})
        object.__setattr__(self, "_steps", {st.id: st for s in self.stages for st in s.steps})
        object.__setattr__(self, "_signed", {step_id: fields for stage in self.stages
                                             for step_id, fields in _signed_fields(stage).items()})


def _signed_fields(stage: Stage) -> dict[str, frozenset[str]]:
    """What each step of a stage signs: the fields it requires or fills, those of the steps it
    follows within the stage, and every field no step names.

    Steps on parallel branches (scheduling the on-site staff, shipping the goods) do not cover
    each other's fields, and a field a later step fills in (the client's originals, the shipping
    date) does not undo the signatures made before it.
    """
    owned: dict[str, str] = {}
    for step in stage.steps:
        for path in (*(req.field for req in step.requires), *step.fills):
            path_stage, top = path.split(".")[:2]
            if path_stage == stage.id:
                owned.setdefault(top, step.id)
    unowned = frozenset(name for name in stage.fields.fields if name not in owned)
    local = {step.id: step for step in stage.steps}

    def lineage(step_id: str) -> set[str]:
        found = {step_id}
        for pre in local[step_id].after:
            if pre.step in local and pre.step not in found:
                found |= lineage(pre.step)
        return found

    return {step.id: unowned | {name for name, owner in owned.items() if owner in lineage(step.id)}
            for step in stage.steps}


def default_text() -> str:
    """The text of the packaged default process."""
    return resources.files("xmflow").joinpath(DEFAULT_NAME).read_text(encoding="utf-8")


@cache
def _parse_cached(text: str, name: str) -> Process:
    return parse(text, name)


def load(path: Path | None, display: str | None = None) -> Process:
    """Load the process at *path*, or the packaged default when *path* is None."""
    if path is None:
        return _parse_cached(default_text(), f"(default) {DEFAULT_NAME}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProcessError(display or str(path), f"cannot read the process file: {exc.strerror}") from None
    return _parse_cached(text, display or str(path))


def parse(text: str, name: str) -> Process:
    """Parse and validate a process definition; errors name the file, line and entry."""
    try:
        doc = yamlio.load(text, name)
    except ProcessError:
        raise
    except RecordError as exc:
        raise ProcessError("", exc.message) from None
    return _Parser(doc).process(text)


class _Parser:
    def __init__(self, doc: yamlio.Document) -> None:
        self.doc = doc
        if not isinstance(doc.data, dict):
            raise ProcessError(doc.name, "a process file must be a mapping with `stages`")
        self.data: dict[str, Any] = doc.data

    def fail(self, path: tuple, message: str) -> ProcessError:
        return ProcessError(self.doc.where(path), message)

    def get(self, node: dict, path: tuple, key: str, default: Any = ..., kind: type = str) -> Any:
        value = node.get(key, default)
        if value is ...:
            raise self.fail(path, f"missing `{key}`")
        if value is not default and not isinstance(value, kind):
            raise self.fail(path + (key,), f"`{key}` must be a {kind.__name__}")
        return value

    def condition(self, spec: Any, path: tuple) -> Condition:
        try:
            return parse_condition(spec, set(self.data.get("derived") or {}))
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    def process(self, text: str) -> Process:
        data = self.data
        roles = {rid: self.role(rid, spec, ("roles", rid)) for rid, spec in self.get(data, (), "roles", kind=dict).items()}
        derived = {name: self.condition(spec, ("derived", name)) for name, spec in (data.get("derived") or {}).items()}
        stages = tuple(self.stage(spec, ("stages", i)) for i, spec in enumerate(self.get(data, (), "stages", kind=list)))
        for i, stage in enumerate(stages):
            if any(other.id == stage.id or other.file == stage.file for other in stages[:i]):
                raise self.fail(("stages", i), f"stage {stage.id!r} or its file {stage.file!r} is defined twice")
        ledgers = {lid: self.ledger(lid, spec, ("ledgers", lid)) for lid, spec in (data.get("ledgers") or {}).items()}
        revisions = tuple({str(k): str(v) for k, v in rev.items()} for rev in data.get("revisions") or [])
        try:
            process = Process(str(data.get("name", "")), str(data.get("name_en", "")), str(data.get("document", "")),
                              revisions, roles, derived, stages, ledgers, self.doc.name, text)
        except KeyError as exc:  # pragma: no cover - duplicate ids are caught in _check
            raise self.fail((), f"duplicate id {exc}") from None
        self.check(process)
        return process

    def role(self, rid: str, spec: Any, path: tuple) -> Role:
        if not isinstance(spec, dict):
            raise self.fail(path, "a role must be a mapping with `title`")
        return Role(rid, str(spec.get("title", rid)), str(spec.get("title_en", rid)),
                    spec.get("global", "true") == "true", tuple(spec.get("named_in") or ()),
                    spec.get("external") == "true", tuple(spec.get("recorded_by") or ()))

    def stage(self, spec: Any, path: tuple) -> Stage:
        if not isinstance(spec, dict):
            raise self.fail(path, "a stage must be a mapping")
        sid = self.get(spec, path, "id")
        subs = {}
        for name, sub in self.get(spec, path, "fields", kind=dict).items():
            where = self.doc.where(path + ("fields", name))
            try:
                subs[name] = parse_field_type(sub, lambda: f"{where}: {sid}.{name}")
            except ValueError as exc:
                raise ProcessError("", str(exc)) from None
        fields = FieldType("map", fields=subs)
        steps = tuple(self.step(sid, st, path + ("steps", i)) for i, st in enumerate(self.get(spec, path, "steps", kind=list)))
        return Stage(sid, self.get(spec, path, "title"), str(spec.get("title_en", sid)), self.get(spec, path, "file"),
                     str(spec.get("clause", "")), fields, steps, self.condition(spec.get("when"), path + ("when",)),
                     spec.get("form"))

    def step(self, stage_id: str, spec: Any, path: tuple) -> Step:
        if not isinstance(spec, dict):
            raise self.fail(path, "a step must be a mapping")
        known = {"id", "title", "clause", "roles", "mode", "review", "when", "after", "requires", "on_reject", "form",
                 "fills"}
        for key in spec:
            if key not in known:
                raise self.fail(path + (key,), f"unknown step field {key!r} (known: {', '.join(sorted(known))})")
        after = tuple(self.prerequisite(p, path + ("after", i)) for i, p in enumerate(spec.get("after") or []))
        requires = tuple(self.requirement(r, path + ("requires", i)) for i, r in enumerate(spec.get("requires") or []))
        reject = spec.get("on_reject")
        on_reject = Reject(reject["to"], tuple(reject.get("keeps") or ())) if isinstance(reject, dict) else None
        mode = spec.get("mode", "any")
        if mode not in ("any", "all"):
            raise self.fail(path + ("mode",), "`mode` must be `any` or `all` (会签)")
        return Step(f"{stage_id}.{self.get(spec, path, 'id')}", stage_id, self.get(spec, path, "title"),
                    str(spec.get("clause", "")), tuple(self.get(spec, path, "roles", kind=list)), mode,
                    spec.get("review") == "true", self.condition(spec.get("when"), path + ("when",)),
                    after, requires, on_reject, spec.get("form"), tuple(spec.get("fills") or ()))

    def prerequisite(self, spec: Any, path: tuple) -> Prerequisite:
        if isinstance(spec, str):
            return Prerequisite(spec)
        if isinstance(spec, dict) and "step" in spec:
            return Prerequisite(spec["step"], self.condition(spec.get("when"), path + ("when",)))
        raise self.fail(path, "a prerequisite is a step id or {step, when}")

    def requirement(self, spec: Any, path: tuple) -> Requirement:
        if not isinstance(spec, dict) or "field" not in spec:
            raise self.fail(path, "a requirement needs `field`")
        min_items = spec.get("min_items")
        if min_items is not None and not str(min_items).isdigit():
            raise self.fail(path + ("min_items",), "`min_items` must be a whole number")
        return Requirement(spec["field"], self.condition(spec.get("when"), path + ("when",)), spec.get("equals"),
                           int(min_items) if min_items is not None else None, tuple(spec.get("each_has") or ()),
                           spec.get("all_true") == "true", spec.get("sum"))

    def ledger(self, lid: str, spec: Any, path: tuple) -> Ledger:
        if not isinstance(spec, dict):
            raise self.fail(path, "a ledger must be a mapping")
        return Ledger(lid, self.get(spec, path, "stage"), self.get(spec, path, "field"),
                      tuple(self.get(spec, path, "roles", kind=list)), str(spec.get("clause", "")),
                      self.get(spec, path, "after"))

    def check(self, process: Process) -> None:
        """Every reference in the process points at something that exists."""
        seen_stages: set[str] = set()
        seen_files: set[str] = set()
        for i, stage in enumerate(process.stages):
            spath = ("stages", i)
            if stage.id in seen_stages or stage.file in seen_files:
                raise self.fail(spath, f"stage {stage.id!r} or its file {stage.file!r} is defined twice")
            seen_stages.add(stage.id)
            seen_files.add(stage.file)
            self.check_condition(process, stage.when, spath + ("when",))
            step_ids: set[str] = set()
            for j, step in enumerate(stage.steps):
                path = spath + ("steps", j)
                if step.id in step_ids:
                    raise self.fail(path, f"step {step.id!r} is defined twice")
                step_ids.add(step.id)
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
                    if isinstance(req.equals, str) and req.equals.startswith("$") and "." in req.equals:
                        self.check_field_ref(process, req.equals[1:], path + ("requires", k))
                if step.on_reject:
                    for ref in (step.on_reject.to, *step.on_reject.keeps):
                        self.check_step_ref(process, ref, path + ("on_reject",))
        for rid, role in process.roles.items():
            for ref in role.recorded_by:
                if ref not in process.roles:
                    raise self.fail(("roles", rid), f"unknown role {ref!r} in recorded_by")
        for name, cond in process.derived.items():
            self.check_condition(process, cond, ("derived", name))
        for lid, ledger in process.ledgers.items():
            self.check_field_ref(process, ledger.field, ("ledgers", lid))
            self.check_step_ref(process, ledger.after, ("ledgers", lid))

    def check_step_ref(self, process: Process, ref: str, path: tuple) -> None:
        if not process.has_step(ref):
            raise self.fail(path, f"unknown step {ref!r}")

    def check_field_ref(self, process: Process, ref: str, path: tuple) -> None:
        if process.field_type(ref) is None:
            raise self.fail(path, f"unknown field {ref!r}")

    def check_condition(self, process: Process, cond: Condition, path: tuple) -> None:
        for ref in referenced_fields(cond):
            self.check_field_ref(process, ref, path)
        for ref in referenced_steps(cond):
            self.check_step_ref(process, ref, path)

"""The procedure as data: stages, steps, roles, conditions and requirements.

The default process ships as ``process.yaml`` in this package; a workspace may name its own
revision in ``xmflow.yaml``. Everything the rules know about the procedure comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xmflow.procedure.conditions import ALWAYS, Condition
from xmflow.procedure.schema import FieldType

DEFAULT_NAME = "process.yaml"

# The facts xmflow reports and works with, and so needs to find in any revision of the process.
FIGURES = (
    "name",
    "client",
    "budget",
    "salesperson",
    "opened",
    "industry_need",
    "special",
    "contract_amount",
    "warranty_start",
    "warranty_months",
    "milestones",
    "payment_terms",
)
# Facts a process may leave out, and where they are then read: the archive's volume number (4.2), where
# processes exported before the figure was named keep it.
OPTIONAL_FIGURES = {"volume": "archive.volume"}
# The ledgers xmflow keeps (4.0), each written by its own command: a process names both (another it holds is unused).
INVOICES = "invoices"
RECEIPTS = "receipts"
LEDGERS = (INVOICES, RECEIPTS)


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
    declines: bool = False  # the reject is the step's answer, not a return (3.1.2 C: the VP declines)
    means: str = ""  # what a decline means for the project, in words (Chinese, English)
    means_en: str = ""


@dataclass(frozen=True)
class Notice:
    """Whom a step's approval tells, in what words, with which forms (3.7.1: sales' mail to
    customer service with the site, the requirements and 附表3)."""

    to: tuple[str, ...]  # the roles whose people are told
    template: str  # the text under templates/: its first line the subject
    forms: tuple[str, ...] = ()  # attached, as PDF (HTML without the pdf extra)


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
    title_en: str = ""
    due_days: int | None = None  # how long it may wait before it is late (an escalation in status)
    notice: Notice | None = None  # who is told once it is approved

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
    editors: tuple[str, ...] = ()  # who may change its fields (set, edit): see Process.editors
    halts: bool = False  # once complete, the project is withdrawn (终止): no other stage takes sign-offs


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
class PaymentEvent:
    """What a payment term's `due` counts from (4.0): the day a step was signed (the client's
    signature on paper, else the sign-off), a date field, or a derived figure (warranty end)."""

    kind: str  # step | field | figure
    ref: str


@dataclass(frozen=True)
class Form:
    """A printed form (附表): its number on paper, the steps whose signatures it carries, and
    the parties who stamp it. A form applies to a project when its condition holds."""

    id: str
    number: str
    title: str
    title_en: str
    annex: str = ""  # 附表1…附表4: the procedure's own numbering
    clause: str = ""
    copies: int = 1  # 3.8.2: the acceptance report is made in duplicate
    stamps: tuple[str, ...] = ()  # the parties who stamp it: company, client
    when: Condition = ALWAYS
    steps: tuple[str, ...] = ()  # the steps whose `form` (or whose stage's) is this one

    def names(self) -> tuple[str, ...]:
        """Every name the form goes by on the command line: id, title, annex, number."""
        return tuple(n for n in (self.id, self.title, self.annex, self.number) if n)


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
    figures: dict[str, str]
    forms: dict[str, Form]
    payment_events: dict[str, PaymentEvent]
    source: str
    text: str = field(repr=False, default="")
    editors_everywhere: tuple[str, ...] = ()  # roles that may edit every stage (`editors:` at the top)
    # Indexes built once by __post_init__: not arguments, not shown, not compared.
    _stages: dict[str, Stage] = field(init=False, repr=False, compare=False)
    _steps: dict[str, Step] = field(init=False, repr=False, compare=False)
    _signed: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    _editors: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

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
        stage_id, _dot, rest = path.partition(".")
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

    def figure(self, name: str) -> str:
        """The field path of one of the facts xmflow reports (FIGURES), e.g. ``contract.amount``."""
        return self.figures[name]

    def ledger_of(self, path: str) -> Ledger | None:
        """The ledger kept in the field *path* names or is inside (``collection.invoices``,
        ``collection.invoices.0.amount``), or None."""
        return next((ledger for ledger in self.ledgers.values() if f"{path}.".startswith(f"{ledger.field}.")), None)

    def optional_figure(self, name: str) -> str:
        """The field path of one of the OPTIONAL_FIGURES: the process's, else the usual place."""
        return self.figures.get(name, OPTIONAL_FIGURES[name])

    @property
    def opening_step(self) -> Step:
        """The step a project opens with, which `new` records: the first of the stage `new`
        writes (the one holding the figure `name`; the process checks it has a step)."""
        return self.stage(self.figure("name").split(".")[0]).steps[0]

    @property
    def salesperson_role(self) -> str | None:
        """The role a project's salesperson holds: the one its `salesperson` figure's person
        field names; None where it names none (then anyone in people.yaml may be named)."""
        ftype = self.field_type(self.figure("salesperson"))
        return ftype.role if ftype is not None and ftype.role else None

    def form(self, name: str) -> Form | None:
        """A form by any of its names (``form4``, ``项目验收报告``, ``附表4``, ``XM-F04``), or None."""
        wanted = name.strip().casefold()
        return next((f for f in self.forms.values() if wanted in (n.casefold() for n in f.names())), None)

    def editors(self, stage_id: str) -> tuple[str, ...]:
        """The roles that may change a stage's fields (`set`, `edit`): the stage's own `editors`
        when the process gives them, else the company roles that sign its steps and the roles
        the process lets edit every stage (`editors:` at its top: the salesperson, the team,
        admin). Project-scoped roles hold only for the people the project names."""
        return self._editors[stage_id]

    def form_of(self, step: Step) -> str | None:
        """The form that carries a step's signature: its own, or its stage's."""
        return step.form or self.stage(step.stage).form

    def signed_fields(self, step_id: str) -> frozenset[str]:
        """The top-level fields of its stage that a signature of *step_id* covers."""
        return self._signed[step_id]

    def as_json(self) -> dict[str, Any]:
        """The process as plain data, for `process show --json`."""
        return {
            "name": self.name,
            "name_en": self.name_en,
            "document": self.document,
            "revisions": list(self.revisions),
            "roles": {
                r.id: {"title": r.title, "title_en": r.title_en, "external": r.external} for r in self.roles.values()
            },
            "stages": [
                {
                    "id": s.id,
                    "title": s.title,
                    "title_en": s.title_en,
                    "file": s.file,
                    "clause": s.clause,
                    "form": s.form,
                    "when": s.when.describe(str),
                    "steps": [
                        {
                            "id": st.id,
                            "title": st.title,
                            "title_en": st.title_en,
                            "clause": st.clause,
                            "roles": list(st.roles),
                            "mode": st.mode,
                            "review": st.review,
                            "when": st.when.describe(str),
                            "after": [p.step for p in st.after],
                            "requires": [r.field for r in st.requires],
                            "on_reject": st.on_reject.to if st.on_reject else None,
                            "form": st.form,
                            "due_days": st.due_days,
                        }
                        for st in s.steps
                    ],
                    "editors": list(self.editors(s.id)),
                }
                for s in self.stages
            ],
            "forms": [
                {
                    "id": f.id,
                    "number": f.number,
                    "title": f.title,
                    "title_en": f.title_en,
                    "annex": f.annex,
                    "clause": f.clause,
                    "copies": f.copies,
                    "stamps": list(f.stamps),
                    "when": f.when.describe(str),
                    "steps": list(f.steps),
                }
                for f in self.forms.values()
            ],
            "payment_events": {name: {e.kind: e.ref} for name, e in self.payment_events.items()},
        }

    def __post_init__(self) -> None:
        object.__setattr__(self, "_stages", {s.id: s for s in self.stages})
        object.__setattr__(self, "_steps", {st.id: st for s in self.stages for st in s.steps})
        object.__setattr__(
            self,
            "_signed",
            {step_id: fields for stage in self.stages for step_id, fields in _signed_fields(stage).items()},
        )
        object.__setattr__(
            self, "_editors", {stage.id: stage.editors or _default_editors(self, stage) for stage in self.stages}
        )


def _default_editors(process: Process, stage: Stage) -> tuple[str, ...]:
    """Who edits a stage when the process does not say: whoever signs its steps for the company
    (not the client, whose paper is recorded, not typed), and the roles that edit everywhere."""
    signing = [r for step in stage.steps for r in step.roles if r in process.roles and not process.roles[r].external]
    return tuple(dict.fromkeys([*signing, *process.editors_everywhere]))


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

    return {
        step.id: unowned | {name for name, owner in owned.items() if owner in lineage(step.id)} for step in stage.steps
    }

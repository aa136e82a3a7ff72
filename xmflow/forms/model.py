"""What a printed form shows: the project's typed data, one opinion line (意见栏) per step and
role with the commit that signed it, every reject round with the signature made again after it
(3.5.2, 3.5.3), the stamps, and for form 2 what changed in the contract since the supervisor
signed it (3.5.3). Templates receive these objects, never raw YAML; what this module writes
itself (a blank value, a date, a client's signatory with who recorded it) is in the language of
the command."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from xmflow import i18n
from xmflow.errors import TemplateError
from xmflow.i18n import _, pgettext
from xmflow.model import Decision, People, Person, Project, Signoff
from xmflow.money.figures import Figures, figures
from xmflow.procedure.process import Form, Process, Role, Step
from xmflow.procedure.schema import FieldType, plain
from xmflow.records import history
from xmflow.records import stages as records
from xmflow.records.history import Commit
from xmflow.records.workspace import CONFIG, PEOPLE, Workspace
from xmflow.rules.project import ProjectView
from xmflow.values import chinese_date, format_money

# How a form reads a stage file as it was when a signature was made: (commit, path) → its text, or
# None where it did not exist there (or is not text). The caller reads git; the form does not.
ReadAt = Callable[[str, str], str | None]


class Fields:
    """A stage's data, read by the names its schema declares (``contract.amount``): typed
    values, nested fields as Fields, person ids as people, and None where nothing is filled in.
    A name the schema does not declare is an error, so a template's typo does not print a blank."""

    def __init__(self, ftype: FieldType, data: dict[str, Any] | None, people: People, where: str) -> None:
        self._type, self._data, self._people, self._where = ftype, data or {}, people, where

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._type.fields:
            raise AttributeError(
                _("{where} has no field '{name}' (fields: {fields})").format(
                    where=self._where, name=name, fields=", ".join(self._type.fields)
                )
            )
        return _typed(self._type.fields[name], self._data.get(name), self._people, f"{self._where}.{name}")

    def __getitem__(self, name: str) -> Any:
        return self.__getattr__(name)

    def __bool__(self) -> bool:
        return bool(self._data)


def _typed(ftype: FieldType, value: Any, people: People, where: str) -> Any:
    if ftype.kind == "map":
        return Fields(ftype, value, people, where)
    if ftype.kind == "list":
        item = ftype.item or FieldType("text")
        return [_typed(item, v, people, f"{where}.{i}") for i, v in enumerate(value or [])]
    if ftype.kind == "person" and value is not None:
        return people.by_id(value) or Person(value, value, "", frozenset())
    return value


@dataclass(frozen=True)
class Signature:
    """One line of a form's opinion column: a step signed in one role, or a blank to sign by hand."""

    step: Step
    roles: tuple[Role, ...]  # who may sign this line
    signoff: Signoff | None = None
    person: Person | None = None  # the company person who signed (or recorded the client's)
    commit: str | None = None  # the short id of the commit that made the sign-off
    changed_since: bool = False  # 3.5.3: stands, though the data changed after it
    for_person: Person | None = None  # 代签: signed for this person, under a delegation

    @property
    def signed(self) -> bool:
        return self.signoff is not None

    @property
    def role(self) -> Role:
        """The role it was signed in, or the first that may sign it."""
        return next((r for r in self.roles if self.signoff and r.id == self.signoff.role), self.roles[0])

    @property
    def signer(self) -> str | None:
        """Who signed: the client's signatory as written on paper, else the person."""
        if self.signoff is None:
            return None
        return self.signoff.signatory or self.recorder

    @property
    def recorder(self) -> str | None:
        """The company person who made the sign-off (for the client: who recorded it)."""
        if self.signoff is None:
            return None
        return self.person.name if self.person else self.signoff.by

    @property
    def name(self) -> str | None:
        """Who signed, as the signature column prints it: the client's signatory with the
        colleague who recorded it (``刘经理 ← 张三``), a 代签 with for whom, else the person."""
        if self.signoff is None:
            return None
        name = (
            _("{signatory} ← {recorder}").format(signatory=self.signoff.signatory, recorder=self.recorder)
            if self.signoff.signatory
            else self.recorder or ""
        )
        if self.signoff.on_behalf_of:
            name = _("{name} (for {person})").format(
                name=name, person=self.for_person.name if self.for_person else self.signoff.on_behalf_of
            )
        return name

    @property
    def decision(self) -> Decision | None:
        return self.signoff.decision if self.signoff else None

    @property
    def comment(self) -> str | None:
        return self.signoff.comment if self.signoff else None

    @property
    def remark(self) -> str | None:
        """The comment, unless it only repeats the decision (``同意`` on an approval): the
        opinion column then says 同意 once, not 同意：同意."""
        comment, decision = self.comment, self.decision
        if comment and decision and comment.strip(_PUNCTUATION).casefold() in _SAYING.get(decision, ()):
            return None
        return comment

    @property
    def date(self) -> date | None:
        """The date on paper for a client's signature, else the day it was signed."""
        if self.signoff is None:
            return None
        return self.signoff.signed_on or self.signoff.at.date()


_PUNCTUATION = " \t\r\n。.！!，,；;～~"
_SAYING = {  # comments that say no more than the decision, in the words people type
    Decision.APPROVE: frozenset({"同意", "approve", "approved", "agree", "agreed"}),
    Decision.REJECT: frozenset({"退回", "reject", "rejected"}),
}


@dataclass(frozen=True)
class Round:
    """A reject and what came of it (3.5.2, 3.5.3): who sent the step back, why and when, and
    the signature that made it again (None while it waits for one)."""

    number: int
    reject: Signature
    resigned: Signature | None

    @property
    def step(self) -> Step:
        return self.reject.step


@dataclass(frozen=True)
class Change:
    """A field of a stage that differs from what a signature was made on (shown in red, 3.5.3),
    with its values before and after as a form prints them."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Party:
    """Someone who stamps a form (盖章处)."""

    id: str  # company | client
    name: str | None


@dataclass(frozen=True)
class Printing:
    """What a printed page says about itself: the commit of the data it shows (project, people,
    settings, process and templates as of that commit), whether any of them had changes not yet
    committed, and when it was printed."""

    commit: str | None
    uncommitted: bool
    at: datetime

    @staticmethod
    def sources(ws: Workspace, project_id: str) -> list[str]:
        """The paths a project's page is printed from (its records, people, settings, templates,
        the process): those whose uncommitted changes make it :attr:`uncommitted`."""
        return [
            f"projects/{project_id}",
            PEOPLE,
            CONFIG,
            "templates",
            *([ws.config.process] if ws.config.process else []),
        ]


@dataclass(frozen=True)
class FormPage:
    """Everything a form's template receives."""

    form: Form
    company: str
    revision: str  # the procedure's document number and version
    project_id: str
    name: str | None  # the project's name and client, from the process's figures
    client: str | None
    key: bool
    threshold: Decimal  # the workspace's key-project budget (3.1.2 B)
    applies: bool
    stages: dict[str, Fields]
    figures: Figures
    signatures: dict[str, tuple[Signature, ...]]
    stamps: tuple[Party, ...]
    changes: tuple[Change, ...]
    changes_since: Signature | None  # the signature the changes are counted from
    printing: Printing
    all_rounds: tuple[Round, ...] = ()  # every reject of the form's steps, oldest first

    @property
    def data_commit(self) -> str | None:
        return self.printing.commit

    @property
    def uncommitted(self) -> bool:
        return self.printing.uncommitted

    @property
    def printed(self) -> datetime:
        return self.printing.at

    def lines(self, *step_ids: str) -> list[Signature]:
        """The opinion lines of these steps, in order; a step that does not apply has none."""
        unknown = [s for s in step_ids if s not in self.form.steps]
        if unknown:
            raise TemplateError(
                _("{step} is not a step of {form} (its steps: {steps})").format(
                    step=unknown[0], form=self.form.id, steps=", ".join(self.form.steps)
                )
            )
        return [line for step_id in step_ids for line in self.signatures.get(step_id, ())]

    def signer(self, step_id: str) -> str | None:
        """Who signed a step (the client's signatory for a client step), or None."""
        return next((line.signer for line in self.lines(step_id) if line.signed), None)

    def rounds(self, *step_ids: str) -> list[Round]:
        """The reject rounds of these steps (all the form's when none is named), oldest first,
        each with the signature that followed it, also once it was signed again."""
        self.lines(*step_ids)  # a step the form does not have is the template's error
        return [r for r in self.all_rounds if not step_ids or r.step.id in step_ids]

    def was(self, field: str) -> str | None:
        """None when a field is as it was signed; else what it was (empty when the change is
        inside it and the changes table says which part)."""
        changes = [c for c in self.changes if c.field == field or c.field.startswith(field + ".")]
        if not changes:
            return None
        return changes[0].before if len(changes) == 1 and changes[0].field == field else ""

    def changed(self, field: str) -> bool:
        """Whether a field (``amount``, ``payment_terms``) changed since :attr:`changes_since`."""
        return self.was(field) is not None


def stage_fields(ws: Workspace, project: Project) -> dict[str, Fields]:
    """Each stage's data by the stage's id (``contract``), as a template reads it."""
    return {s.id: Fields(s.fields, project.record(s.id).data, ws.people, s.id) for s in ws.process.stages}


def form_page(
    ws: Workspace, view: ProjectView, form: Form, commits: list[Commit], printing: Printing, read_at: ReadAt
) -> FormPage:
    """The page of one form for one project, as of its records now; *read_at* reads a stage file
    as a signature's commit had it (for the changes since, in red)."""
    process, project = ws.process, view.project
    stages = stage_fields(ws, project)
    signatures = {
        step_id: _signatures(view, process.step(step_id), ws.people, commits)
        for step_id in form.steps
        if view.applies(process.step(step_id))
    }
    rounds = _rounds(view, [process.step(step_id) for step_id in signatures], ws.people, commits)
    since, changes = _changes_in_red(read_at, view, signatures)
    client = view.value(process.figure("client"))
    stamps = tuple(Party(p, ws.config.company if p == "company" else client) for p in form.stamps)
    version = process.revisions[-1].get("version") if process.revisions else None
    revision = " ".join(filter(None, [process.document, version]))
    return FormPage(
        form,
        ws.config.company,
        revision,
        project.id,
        view.value(process.figure("name")),
        client,
        view.key,
        ws.config.key_threshold,
        form.when.holds(view),
        stages,
        figures(view),
        signatures,
        stamps,
        changes,
        since,
        printing,
        rounds,
    )


def _signatures(view: ProjectView, step: Step, people: People, commits: list[Commit]) -> tuple[Signature, ...]:
    """The opinion lines of a step: one per role for a 会签 step, else one; a signature that no
    longer counts is a blank line again. A reject that sent the step back is shown with its
    reason, above the blank line its next signature goes on."""
    status = view.status(step)
    roles = view.process.roles

    def line(group: tuple[Role, ...], signoff: Signoff | None, changed: bool = False) -> Signature:
        return _signature(view, step, group, signoff, people, commits, changed)

    groups = [(roles[r],) for r in step.roles] if step.needs_all_roles else [tuple(roles[r] for r in step.roles)]
    rejected = status.rejected
    lines = (
        [line(next((g for g in groups if rejected.role in {r.id for r in g}), groups[0]), rejected)] if rejected else []
    )
    for group in groups:
        signoff = next((s for s in status.signed if s.role in {r.id for r in group}), None)
        lines.append(line(group, signoff, signoff in status.changed_since))
    return tuple(lines)


def _signature(
    view: ProjectView,
    step: Step,
    roles: tuple[Role, ...],
    signoff: Signoff | None,
    people: People,
    commits: list[Commit],
    changed: bool = False,
) -> Signature:
    """One line of the opinion column, with the commit that made its sign-off."""
    person = people.by_id(signoff.by) if signoff else None
    commit = history.signoff_commit(commits, view.project.id, signoff, person.email) if signoff and person else None
    deputy_for = people.by_id(signoff.on_behalf_of) if signoff and signoff.on_behalf_of else None
    return Signature(step, roles, signoff, person, commit.short if commit else None, changed, deputy_for)


def _rounds(view: ProjectView, steps: list[Step], people: People, commits: list[Commit]) -> tuple[Round, ...]:
    """Every reject of these steps kept in their stage files, oldest first, each with the next
    approval of the same step in the same role (the signature made again once the work came back)."""
    found: list[tuple[Signoff, Signoff | None, Step]] = []
    for step in steps:
        signoffs = [s for s in view.project.record(step.stage).signoffs if s.step == step.id and s.role in step.roles]
        for i, s in enumerate(signoffs):
            if s.decision is Decision.REJECT:
                again = next(
                    (a for a in signoffs[i + 1 :] if a.decision is Decision.APPROVE and a.role == s.role), None
                )
                found.append((s, again, step))
    found.sort(key=lambda r: r[0].at)
    roles = view.process.roles
    return tuple(
        Round(
            n,
            _signature(view, step, (roles[reject.role],), reject, people, commits),
            _signature(view, step, (roles[reject.role],), again, people, commits) if again else None,
        )
        for n, (reject, again, step) in enumerate(found, 1)
    )


def _changes_in_red(
    read_at: ReadAt, view: ProjectView, signatures: dict[str, tuple[Signature, ...]]
) -> tuple[Signature | None, tuple[Change, ...]]:
    """What changed in the stage since the earliest standing review signature on this form that
    the data moved away from (3.5.3: the supervisor signed, the business centre's changes are
    shown in red), read from the stage file as it was at that signature's commit."""
    standing = [line for lines in signatures.values() for line in lines if line.changed_since and line.commit]
    for line in sorted(standing, key=lambda line: not line.step.review):  # the reviewer's signature first
        stage = view.process.stage(line.step.stage)
        rel = f"projects/{view.project.id}/{stage.file}"
        text = read_at(line.commit or "", rel)
        if text is not None:
            before = records.parse_record(stage, text, f"{rel}@{line.commit}").data
            signed = view.process.signed_fields(line.step.id)  # not what later steps fill in
            after = view.project.record(stage.id).data
            return line, tuple(
                _diff(
                    stage.fields,
                    {k: v for k, v in before.items() if k in signed},
                    {k: v for k, v in after.items() if k in signed},
                )
            )
    return None, ()


def _diff(ftype: FieldType | None, before: Any, after: Any, path: str = "") -> list[Change]:
    """The leaf fields that differ between two versions of a stage's data (items of a list of
    the same length one by one, else the whole list)."""
    if isinstance(before, dict) and isinstance(after, dict) and ftype is not None:
        return [
            c
            for key in dict.fromkeys([*before, *after])
            if key != "signoffs"
            for c in _diff(ftype.child(key), before.get(key), after.get(key), f"{path}.{key}" if path else key)
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after) and ftype is not None:
        return [
            c
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for c in _diff(ftype.item, b, a, f"{path}.{i + 1}")
        ]
    if plain(before) == plain(after):
        return []
    return [Change(path, shown(ftype, before), shown(ftype, after))]


def shown(ftype: FieldType | None, value: Any) -> str:
    """A value as a form prints it: amounts as ¥1,490,000.00, yes/no as 是/否, lists compactly."""
    if value is None or value == [] or value == {}:
        return _("(empty)")
    if ftype is not None and ftype.kind == "money":
        return format_money(value)
    if isinstance(value, bool):
        return pgettext("a yes/no field on a form", "Yes") if value else pgettext("a yes/no field on a form", "No")
    if isinstance(value, date):
        return day(value)
    if isinstance(value, list):
        return joined([shown(ftype.item if ftype else None, v) for v in value], _("{items}; {item}"))
    if isinstance(value, dict):
        return joined(
            [
                _("{field}: {value}").format(field=k, value=shown(ftype.child(k) if ftype else None, v))
                for k, v in value.items()
            ],
            _("{fields}, {field}"),
        )
    return str(plain(value))


def joined(items: list[str], pair: str) -> str:
    """Items one after the other, each added to those before by *pair*, a translated message
    with two placeholders (``{names}、{name}``), so that each language has its punctuation."""
    if not items:
        return ""
    first, second = (name for _lit, name, _spec, _conv in string.Formatter().parse(pair) if name)
    out = items[0]
    for item in items[1:]:
        out = pair.format(**{first: out, second: item})
    return out


def day(value: date | datetime) -> str:
    """A date as a form writes it: 2026年11月28日 in Chinese, 2026-11-28 in English."""
    value = value.date() if isinstance(value, datetime) else value
    return chinese_date(value) if i18n.language() == "zh" else value.isoformat()


def forms_of(process: Process, view: ProjectView) -> list[Form]:
    """The forms a project's volume binds (4.2), in order: those that apply to it."""
    return [f for f in process.forms.values() if f.when.holds(view)]

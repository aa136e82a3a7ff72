"""Changing records: opening a project, setting and editing fields, making a workspace.

Each function checks everything first and then writes and commits in one step through the
session; nothing here prints. A refusal raises before any file is touched.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from xmflow import acknowledgements as acks_mod
from xmflow import records, store, yamlio
from xmflow.acknowledgements import ACKNOWLEDGEMENTS
from xmflow.edits import edited_stages, editors_wording, future_facts, may_edit, reopen_reasons
from xmflow.errors import RuleError, UsageError
from xmflow.figures import figure
from xmflow.model import Decision, Person, Project, Signoff, StageRecord
from xmflow.process import Stage
from xmflow.rules import ProjectView, holds_role
from xmflow.schema import FieldError, FieldType, convert, is_filled, persons
from xmflow.session import Result, Session, message, single_line
from xmflow.values import check_text, format_money
from xmflow.workspace import CONFIG, MAX_ID, PEOPLE, next_project_id, valid_project_id


# -- new ----------------------------------------------------------------------------------
def new_project(session: Session, name: str, client: str, budget: str, *, industry_need: bool = False,
                special: bool = False, sales: str | None = None, project_id: str | None = None) -> Result:
    """Open a project (3.1.1): its initiation record, owned by the project's salesperson."""
    ws, process = session.ws, session.ws.process
    first = process.steps[0]
    if not (set(first.roles) & session.actor.roles or "admin" in session.actor.roles):
        raise RuleError(f"{session.actor.label()} may not open a project: it is {' or '.join(first.roles)}'s "
                        f"work (clause {first.clause})")
    existing = ws.project_ids()
    project_id = project_id if project_id is not None else next_project_id(existing, session.at.year)
    if not valid_project_id(project_id):
        raise UsageError(f"--id: a project id holds only letters, digits, - and _, at most {MAX_ID} of them "
                         f"(got {project_id[:80]!r}{'…' if len(project_id) > 80 else ''})")
    if project_id in existing:
        raise UsageError(f"project {project_id} already exists")
    session.require_clean(f"projects/{project_id}")
    owner = _salesperson(session, sales)
    values = {"name": single_line(name, "NAME"), "client": single_line(client, "--client"), "salesperson": owner.id,
              "opened": session.at.date(), "industry_need": industry_need or None, "special": special or None}
    if not values["name"] or not values["client"]:
        raise UsageError("a project needs a name and --client")
    values["budget"] = _value(process.field_type(process.figure("budget")), budget, "--budget")
    if not values["budget"]:  # none, or ¥0.00
        raise UsageError("--budget: a project needs its budget (e.g. --budget 150万); it decides whether the "
                         "project is a key project (clause 3.1.2)")
    stage = process.stage(process.figure("name").split(".")[0])
    data: dict[str, Any] = {}
    for name_of, value in values.items():
        if value is not None:
            data = records.set_path(data, process.figure(name_of).split(".")[1:], value)
    record = StageRecord(stage.id, f"projects/{project_id}/{stage.file}", data, (), True)
    empty = records.project_from(process, project_id, lambda _name: None)
    _check_editor(session, session.view(empty), replace(empty, records={**empty.records, stage.id: record}),
                  creating=True)
    commit = session.commit(project_id, {stage.id: record}, f"{project_id} new: {values['name']}",
                            {"Xmflow-Decision": Decision.RECORD.value, "Xmflow-Clause": first.clause})
    return Result(project_id, commit, f"opened {project_id} {values['name']} for {owner.label()}")


def _salesperson(session: Session, sales: str | None) -> Person:
    people = session.ws.people
    if sales is None:
        if "sales" in session.actor.roles:
            return session.actor
        raise UsageError("name the project's salesperson with --sales PERSON (you do not hold the sales role)")
    person = people.by_id(sales) or people.by_email(sales)
    if person is None:
        raise UsageError(f"--sales: no person {sales!r} in people.yaml")
    if "sales" not in person.roles:
        raise RuleError(f"--sales: {person.label()} does not hold the sales role (clause 3.1.1)")
    return person


def _value(ftype: FieldType | None, raw: str, where: str) -> Any:
    """A value typed on the command line: lists and mappings are YAML, anything else is taken
    as written (so `#1 展厅` is a name, not a YAML comment)."""
    assert ftype is not None
    text = raw.strip()
    plain_value: Any = text or None
    if ftype.kind in ("list", "map") and text:
        plain_value = yamlio.load(text, f"value of {where}").data
    try:
        return convert(ftype, plain_value)
    except FieldError as exc:
        raise UsageError(f"{where}{''.join('.' + str(p) for p in exc.path)}: {exc.message}") from None


# -- set / edit -------------------------------------------------------------------------------
def parse_assignment(session: Session, text: str) -> tuple[Stage, list[str], Any]:
    """``contract.amount=150万`` → (stage, path inside the stage, typed value)."""
    process = session.ws.process
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep:
        raise UsageError(f"{text!r}: write FIELD=VALUE, e.g. contract.amount=150万")
    parts = path.split(".")
    stage_ids = [s.id for s in process.stages]
    if parts[0] not in stage_ids or len(parts) < 2:
        raise UsageError(f"{path!r}: a field starts with its stage ({', '.join(stage_ids)}), e.g. contract.amount")
    stage = process.stage(parts[0])
    ftype: FieldType | None = stage.fields
    for i, part in enumerate(parts[1:], start=1):
        if ftype is not None and ftype.kind == "list" and not (part.isascii() and part.isdigit()):
            raise UsageError(f"{path}: {'.'.join(parts[:i])} is a list: name an item by its index "
                             f"({'.'.join(parts[:i])}.0.{part}) or set the whole list")
        if ftype is not None and ftype.readonly:
            break
        ftype = ftype.item if ftype is not None and ftype.kind == "list" else ftype.child(part) if ftype else None
        if ftype is None:
            parent = process.field_type(".".join(parts[:i])) if i > 1 else stage.fields
            known = list(parent.fields) if parent and parent.kind == "map" else []
            close = difflib.get_close_matches(part, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else (f" (known: {', '.join(known)})" if known else "")
            raise UsageError(f"{path}: no such field{hint}")
    if ftype is not None and ftype.readonly:
        raise RuleError(f"{path} is written only by its own command (xmflow invoice / xmflow receive), clause 4.0")
    return stage, parts[1:], _value(ftype, raw, path)


def set_fields(session: Session, project_id: str, assignments: list[str], reopen: str | None = None,
               note: str | None = None) -> Result:
    """Set fields of one or more stages in one commit (SPEC §4 `set`)."""
    project = session.project_to_change(project_id)
    if not assignments:
        raise UsageError("give at least one FIELD=VALUE")
    data = {sid: rec.data for sid, rec in project.records.items()}
    seen: set[str] = set()
    for text in assignments:
        stage, parts, value = parse_assignment(session, text)
        path = ".".join([stage.id, *parts])
        if path in seen:
            raise UsageError(f"{path} is given twice: give each field once")
        seen.add(path)
        try:
            data[stage.id] = records.set_path(data[stage.id], parts, value)
        except IndexError as exc:
            raise UsageError(f"{text}: {exc}") from None
    touched = ", ".join(text.partition("=")[0].strip() for text in assignments)
    return _change_stages(session, project, data, f"{project_id} set {touched}", reopen, note)


def edit_stage(session: Session, project_id: str, stage_id: str, editor: Callable[[Path], None],
               reopen: str | None = None, note: str | None = None) -> Result | None:
    """Open a stage file in an editor (on a copy), check what was saved, commit it."""
    project = session.project_to_change(project_id)
    stages = {s.id: s for s in session.ws.process.stages}
    if stage_id not in stages:
        raise UsageError(f"no stage {stage_id!r} (stages: {', '.join(stages)})")
    stage = stages[stage_id]
    record = project.record(stage.id)
    with tempfile.TemporaryDirectory(prefix="xmflow-edit-") as folder:
        scratch = Path(folder) / f"{project_id}-{stage.file}"
        scratch.write_text(records.dump_record(stage, record) or f"# {stage.title}\n", encoding="utf-8")
        editor(scratch)
        edited = yamlio.decode(scratch.read_bytes(), record.path)
    new = records.parse_record(stage, edited, record.path)
    if new.signoffs != record.signoffs:
        raise RuleError(f"{record.path}: sign-offs are written only by `xmflow sign`; your edit changed them")
    for name, ftype in stage.fields.fields.items():
        if ftype.readonly and new.data.get(name) != record.data.get(name):
            raise RuleError(f"{record.path}: {stage.id}.{name} is written only by its own command (clause 4.0)")
    if new.data == record.data:
        return None
    data = {sid: rec.data for sid, rec in project.records.items()} | {stage.id: new.data}
    return _change_stages(session, project, data, f"{project_id} edit {stage.id}", reopen, note)


def _change_stages(session: Session, project: Project, data: dict[str, dict[str, Any]], subject: str,
                   reopen: str | None, note: str | None) -> Result:
    """Commit new data for a project's stages; what needs --reopen is reopened with it, and the
    signatures the change undoes are reported."""
    process = session.ws.process
    before = session.view(project)
    changed: dict[str, StageRecord] = {}
    for stage in process.stages:
        record = project.record(stage.id)
        if data[stage.id] != record.data:
            _check_persons(session, stage, record.data, data[stage.id])
            changed[stage.id] = replace(record, data=data[stage.id], exists=True)
    if not changed:
        raise UsageError("nothing changes: the fields already hold these values")
    edited = replace(project, records={**project.records, **changed})
    _check_editor(session, before, edited)
    _check_facts(session, project, edited)
    edited_view = session.view(edited)
    _check_required(session, before, edited_view)
    must_reopen = reopen_reasons(before, edited_view, data, changed)
    if must_reopen and not reopen:
        raise RuleError("; ".join(must_reopen.values()) + ": to change it, add --reopen -m WHY "
                        "(its sign-offs will need signing again)")
    if reopen and not must_reopen:
        raise UsageError("--reopen is only for a completed stage or a signed step; this change needs none")
    roles = _reopen_roles(session, before, list(must_reopen)) if must_reopen else {}
    for stage_id in must_reopen:
        stage, record = process.stage(stage_id), changed.get(stage_id) or project.record(stage_id)
        signoff = Signoff(stage_id, Decision.REOPEN, session.actor.id, roles[stage_id], session.at,
                          records.digest(stage, project.record(stage_id).data), reopen)
        changed[stage_id] = records.with_signoff(record, signoff)
    after = session.view(replace(project, records={**project.records, **changed}))
    notes = tuple(f"this undoes {s.by}'s signature of {st.step.id}: it must be signed again"
                  for st in map(after.status, process.steps) for s in st.stale
                  if s in before.valid_signatures(st.step).values()) + _far_from_budget(before, after)
    decision = Decision.REOPEN if reopen else Decision.RECORD
    trailers = {"Xmflow-Decision": decision.value, "Xmflow-Stage": ", ".join(must_reopen) if reopen else None}
    commit = session.commit(project.id, changed, subject, trailers, reopen or note)
    return Result(project.id, commit, subject, notes=notes)


def _check_editor(session: Session, before: ProjectView, after: Project, creating: bool = False) -> None:
    """Who may change what: each stage the change edits is one the person acting may edit on
    this project (the process's `editors`), judged on the project as it was (a new one: as it
    will be), so nobody hands over a colleague's project or rewrites a contract not theirs."""
    process = session.ws.process
    view = session.view(after) if creating else before
    for stage_id in edited_stages(process, before.project, after):
        if not may_edit(session.actor, process, stage_id, view):
            stage = process.stage(stage_id)
            raise RuleError(f"{session.actor.label()} may not change {stage.id} ({stage.title}) of project "
                            f"{after.id}: {editors_wording(process, stage_id)} (the process's `editors`)")


def _check_required(session: Session, before: ProjectView, after: ProjectView) -> None:
    """A field a step needs is not taken away once given (`set initiation.name=`), nor is an
    amount it needs nought (`contract.amount=0`): neither is a value the procedure can go on with."""
    for step in session.ws.process.steps:
        for req in step.requires:
            if req.equals is not None or req.min_items is not None or req.each_has or req.all_true or req.sum:
                continue  # the requirement says what it needs: signing checks it
            old, new = before.value(req.field), after.value(req.field)
            if old == new or not (after.applies(step) and req.when.holds(after)):
                continue  # unchanged, or not needed any more (installation.address once not on site)
            needed = f"{step.id} ({step.title}) needs it (clause {step.clause})"
            if is_filled(old) and not is_filled(new):
                raise UsageError(f"{req.field}: it cannot be emptied, {needed}: give the right value instead")
            ftype = session.ws.process.field_type(req.field)
            if ftype is not None and ftype.kind == "money" and new == 0:
                raise UsageError(f"{req.field}: ¥0.00 is no amount, and {needed}: give the amount")


_FAR = 10  # a contract amount more than this many times the budget, or less than its share, is warned about


def _far_from_budget(before: ProjectView, after: ProjectView) -> tuple[str, ...]:
    """A warning (not a refusal) when the contract amount changes to far from the budget."""
    budget, amount = figure(after, "budget"), figure(after, "contract_amount")
    if not budget or not amount or amount == figure(before, "contract_amount"):
        return ()
    if amount > budget * _FAR or amount * _FAR < budget:
        return (f"the contract amount {format_money(amount)} is far from the budget {format_money(budget)} "
                f"(more than {_FAR}× apart): check it is not a typo (万 for 元, a zero too many)",)
    return ()


def _check_facts(session: Session, before: Project, after: Project) -> None:
    """A date that records what happened (the day it shipped, the client's acceptance) is not in
    the future: form 4 must not print an acceptance dated after the client's signature."""
    today = session.at.date()
    for _stage, path, value in future_facts(session.ws.process, before, after, today):
        raise UsageError(f"{path}: {value} is in the future (today is {today}); it records what happened, so it "
                         "is at most today")


def _check_persons(session: Session, stage: Stage, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Person fields name people in people.yaml, holding the role the field asks for."""
    for person_id, role in sorted(persons(stage.fields, new) - persons(stage.fields, old), key=str):
        person = session.ws.people.by_id(person_id)
        if person is None:
            raise UsageError(f"{stage.id}: {person_id} not in people.yaml (a person field takes a person's id)")
        if role and role not in person.roles:
            raise RuleError(f"{stage.id}: {person.label()} does not hold the role {role}")


def _reopen_roles(session: Session, view: ProjectView, stage_ids: list[str]) -> dict[str, str]:
    """The role each stage is reopened in. Reopening is for someone who signs in the stage (or an
    admin); a stage reopened only as a consequence (the settlement, when the contract amount
    changes) takes the role the change is made in."""
    def own_role(stage_id: str) -> str | None:
        stage = view.process.stage(stage_id)
        return next((r for step in stage.steps for r in step.roles
                     if not view.process.roles[r].external and holds_role(session.actor, r, view)), None)

    found = {sid: own_role(sid) for sid in stage_ids}
    fallback = next((r for r in found.values() if r), "admin" if "admin" in session.actor.roles else None)
    if fallback is None:
        raise RuleError(f"only someone who signs in stage {stage_ids[0]} (or an admin) may reopen it")
    return {sid: role or fallback for sid, role in found.items()}


# -- init -------------------------------------------------------------------------------------
def init_workspace(path: Path, company: str, admin_name: str, admin_email: str,
                   when: datetime | None = None) -> str:
    """Make a workspace: xmflow.yaml, people.yaml with the first admin, projects/, one commit."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is a file, not a folder")
    taken = [name for name in (CONFIG, PEOPLE) if (path / name).exists()]
    if taken:
        raise UsageError(f"{path / taken[0]} exists: {'this is already a workspace' if CONFIG in taken else 'move it away first'}")
    store.init(path)
    config = {"company": company, "currency": "CNY", "key_threshold": "1000000.00", "locale": "zh"}
    admin_id = re.sub(r"[^A-Za-z0-9_-]", "_", admin_email.split("@")[0]) or "admin"
    people = {"people": [{"id": admin_id, "name": admin_name, "email": admin_email, "roles": ["admin"]}]}
    files: dict[str, bytes | None] = {
        CONFIG: yamlio.dump(config).encode(),
        PEOPLE: yamlio.dump(people).encode(),
        "projects/.gitkeep": b"",
    }
    msg = message("xmflow init", {"Xmflow-Decision": Decision.RECORD.value})
    return store.commit_files(path, files, msg, store.Author(admin_name, admin_email), when)


# -- acknowledging a finding ------------------------------------------------------------------
def acknowledge(session: Session, commit: str, kind: str | None, why: str) -> Result:
    """An admin records, in a commit of its own, that the findings of *commit* (of one *kind*,
    or all it has) are known and why; `verify` then lists them as acknowledged, not as findings."""
    from xmflow import audit  # verify is needed only here

    ws = session.ws
    if "admin" not in session.actor.roles:
        raise RuleError(f"{session.actor.label()} is not an admin: only an admin acknowledges a finding")
    sha = store.git(ws.root, "rev-parse", "--verify", "-q", f"{commit}^{{commit}}", check=False).strip()
    if not sha:
        raise UsageError(f"--acknowledge {commit}: no such commit here")
    why = _text(why, "-m", multiline=True).strip()
    session.require_clean(ACKNOWLEDGEMENTS)
    findings = [f for f in audit.verify(ws.root) if f.commit == sha]
    chosen = [f for f in findings if kind is None or f.kind == kind]
    if not chosen:
        kinds = sorted({f.kind for f in findings})
        raise UsageError(f"commit {sha[:7]} has no {'findings' if not kinds else kind + ' finding'}"
                         + (f" (its findings: {', '.join(kinds)})" if kinds else " to acknowledge"))
    entries = acks_mod.parse(ws.text_if_any(ACKNOWLEDGEMENTS) or "")
    new = tuple(dict.fromkeys(acks_mod.Acknowledgement(sha, f.kind, f.project, why) for f in chosen))
    subject = f"acknowledge {len(new)} finding(s) of {sha[:7]}: {', '.join(sorted({a.finding for a in new}))}"
    msg = message(subject, {"Xmflow-Decision": Decision.RECORD.value, "Xmflow-Acknowledges": sha}, why)
    files: dict[str, bytes | None] = {ACKNOWLEDGEMENTS: acks_mod.dump(entries + new).encode("utf-8")}
    done = store.commit_files(ws.root, files, msg, store.Author(session.actor.name, session.actor.email), session.at)
    return Result("", done, subject)


def _text(value: str, option: str, multiline: bool = False) -> str:
    try:
        return check_text(value, multiline=multiline)
    except ValueError as exc:
        raise UsageError(f"{option} {exc}") from None

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

from xmflow import yamlio
from xmflow.changes.session import Result, Session, message, single_line
from xmflow.errors import RecordError, RuleError, UsageError, XmflowError
from xmflow.git import journal, store
from xmflow.i18n import _, pgettext
from xmflow.labels import title_of
from xmflow.model import Decision, Person, Project, Signoff, StageRecord
from xmflow.money.figures import figure
from xmflow.procedure.process import Process, Stage
from xmflow.procedure.schema import FieldError, FieldType, convert, is_filled, persons
from xmflow.records import acknowledgements as acks_mod
from xmflow.records import stages as records
from xmflow.records.acknowledgements import ACKNOWLEDGEMENTS
from xmflow.records.workspace import CONFIG, MAX_ID, PEOPLE, next_project_id, valid_project_id
from xmflow.rules.edits import edited_stages, editors_wording, future_facts, may_edit, reopen_reasons
from xmflow.rules.project import ProjectView, either, holds_role, listing, role_name
from xmflow.values import brief, check_text, format_money


# -- new ----------------------------------------------------------------------------------
def new_project(
    session: Session,
    name: str,
    client: str,
    budget: str,
    *,
    industry_need: bool = False,
    special: bool = False,
    sales: str | None = None,
    project_id: str | None = None,
) -> Result:
    """Open a project (3.1.1): its initiation record, owned by the project's salesperson."""
    ws, process = session.ws, session.ws.process
    first = process.opening_step
    if not (set(first.roles) & session.actor.roles or "admin" in session.actor.roles):
        raise RuleError(
            _("{person} may not open a project: it is {roles}'s work (clause {clause})").format(
                person=session.actor.label(),
                clause=first.clause,
                roles=either(title_of(process.roles[r]) if r in process.roles else r for r in first.roles),
            )
        )
    existing = ws.project_ids()
    project_id = project_id if project_id is not None else next_project_id(existing, session.at.year)
    if not valid_project_id(project_id):
        raise UsageError(
            _("--id: a project id holds only letters, digits, - and _, at most {most} of them (got {id})").format(
                most=MAX_ID, id=brief(project_id)
            )
        )
    if project_id in existing:
        raise UsageError(_("project {project} already exists").format(project=project_id))
    session.require_clean(f"projects/{project_id}")
    owner = _salesperson(session, sales)
    values = {
        "name": single_line(name, "NAME"),
        "client": single_line(client, "--client"),
        "salesperson": owner.id,
        "opened": session.at.date(),
        "industry_need": industry_need or None,
        "special": special or None,
    }
    if not values["name"] or not values["client"]:
        raise UsageError(_("a project needs a name and --client"))
    values["budget"] = _value(process.field_type(process.figure("budget")), budget, "--budget")
    if not values["budget"]:  # none, or ¥0.00
        raise UsageError(
            _(
                "--budget: a project needs its budget (e.g. --budget 150万); it decides whether the "
                "project is a key project (clause 3.1.2)"
            )
        )
    stage = process.stage(process.figure("name").split(".")[0])
    data: dict[str, Any] = {}
    for name_of, value in values.items():
        if value is not None:
            data = records.set_path(data, process.figure(name_of).split(".")[1:], value)
    record = StageRecord(stage.id, f"projects/{project_id}/{stage.file}", data, (), True)
    empty = records.project_from(process, project_id, lambda _name: None)
    _check_editor(
        session, session.view(empty), replace(empty, records={**empty.records, stage.id: record}), creating=True
    )
    commit = session.commit(
        project_id,
        {stage.id: record},
        f"{project_id} new: {values['name']}",
        {"Xmflow-Decision": Decision.RECORD.value, "Xmflow-Clause": first.clause},
    )
    return Result(
        project_id,
        commit,
        _("opened {project} {name} for {person}").format(project=project_id, name=values["name"], person=owner.label()),
    )


def _salesperson(session: Session, sales: str | None) -> Person:
    """The project's salesperson: the one named with --sales, else whoever opens it; either holds
    the role the process gives the salesperson (where it gives one)."""
    people, process = session.ws.people, session.ws.process
    role = process.salesperson_role
    title = title_of(process.roles[role]) if role else ""
    if sales is None:
        if role is None or role in session.actor.roles:
            return session.actor
        raise UsageError(
            _("name the project's salesperson with --sales PERSON (you do not hold the {role} role)").format(role=title)
        )
    person = people.by_id(sales) or people.by_email(sales)
    if person is None:
        raise UsageError(_("--sales: no person {person} in people.yaml").format(person=brief(sales)))
    if role is not None and role not in person.roles:
        raise RuleError(
            _("--sales: {person} does not hold the {role} role (clause {clause})").format(
                person=person.label(), role=title, clause=process.opening_step.clause
            )
        )
    return person


def _value(ftype: FieldType | None, raw: str, where: str) -> Any:
    """A value typed on the command line: lists and mappings are YAML, anything else is taken
    as written (so `#1 展厅` is a name, not a YAML comment)."""
    assert ftype is not None
    text = raw.strip()
    plain_value: Any = text or None
    if ftype.kind in ("list", "map") and text:
        plain_value = yamlio.load(text, _("value of {where}").format(where=where)).data
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
        raise UsageError(_("{text}: write FIELD=VALUE, e.g. contract.amount=150万").format(text=brief(text)))
    parts = path.split(".")
    stage_ids = [s.id for s in process.stages]
    if parts[0] not in stage_ids or len(parts) < 2:
        raise UsageError(
            _("{path}: a field starts with its stage ({stages}), e.g. contract.amount").format(
                path=brief(path), stages=listing(stage_ids)
            )
        )
    stage = process.stage(parts[0])
    ftype: FieldType | None = stage.fields
    for i, part in enumerate(parts[1:], start=1):
        if ftype is not None and ftype.kind == "list" and not (part.isascii() and part.isdigit()):
            raise UsageError(
                _("{path}: {list} is a list: name an item by its index ({list}.0.{part}) or set the whole list").format(
                    path=path, list=".".join(parts[:i]), part=part
                )
            )
        if ftype is not None and ftype.readonly:
            break
        ftype = ftype.item if ftype is not None and ftype.kind == "list" else ftype.child(part) if ftype else None
        if ftype is None:
            parent = process.field_type(".".join(parts[:i])) if i > 1 else stage.fields
            known = list(parent.fields) if parent and parent.kind == "map" else []
            close = difflib.get_close_matches(part, known, n=1)
            if close:
                raise UsageError(_("{path}: no such field (did you mean {name}?)").format(path=path, name=close[0]))
            if known:
                raise UsageError(_("{path}: no such field (known: {names})").format(path=path, names=listing(known)))
            raise UsageError(_("{path}: no such field").format(path=path))
    if ftype is not None and ftype.readonly:
        ledger = process.ledger_of(path)
        raise RuleError(
            _("{path} is written only by its own command (xmflow invoice / xmflow receive), clause {clause}").format(
                path=path, clause=ledger.clause if ledger else stage.clause
            )
        )
    return stage, parts[1:], _value(ftype, raw, path)


def set_fields(
    session: Session, project_id: str, assignments: list[str], reopen: str | None = None, note: str | None = None
) -> Result:
    """Set fields of one or more stages in one commit (SPEC §4 `set`)."""
    project = session.project_to_change(project_id)
    if not assignments:
        raise UsageError(_("give at least one FIELD=VALUE"))
    data = {sid: rec.data for sid, rec in project.records.items()}
    seen: set[str] = set()
    for text in assignments:
        stage, parts, value = parse_assignment(session, text)
        path = ".".join([stage.id, *parts])
        if path in seen:
            raise UsageError(_("{path} is given twice: give each field once").format(path=path))
        seen.add(path)
        try:
            data[stage.id] = records.set_path(data[stage.id], parts, value)
        except IndexError as exc:
            raise UsageError(f"{text}: {exc}") from None
    fields = [text.partition("=")[0].strip() for text in assignments]
    touched = ", ".join(fields)  # the commit's subject stays as it is (a commit is data); the summary is shown
    summary = _("{project} set {fields}").format(project=project_id, fields=listing(fields))
    return _change_stages(session, project, data, f"{project_id} set {touched}", reopen, note, summary)


def edit_stage(
    session: Session,
    project_id: str,
    stage_id: str,
    editor: Callable[[Path], None],
    reopen: str | None = None,
    note: str | None = None,
) -> Result | None:
    """Open a stage file in an editor (on a copy), check what was saved, commit it."""
    project = session.project_to_change(project_id)
    stages = {s.id: s for s in session.ws.process.stages}
    if stage_id not in stages:
        raise UsageError(_("no stage {stage} (stages: {stages})").format(stage=brief(stage_id), stages=listing(stages)))
    stage = stages[stage_id]
    record = project.record(stage.id)
    with tempfile.TemporaryDirectory(prefix="xmflow-edit-") as folder:
        scratch = Path(folder) / f"{project_id}-{stage.file}"
        # the guide goes last, as git puts its comments under a commit message: the lines above are the file's
        shown = records.dump_record(stage, record)
        scratch.write_text(
            shown + ("\n" if shown else "") + edit_guide(session.ws.process, stage, project_id), encoding="utf-8"
        )
        editor(scratch)
        try:
            saved = scratch.read_bytes()
        except OSError as exc:
            raise UsageError(
                _("the editor left no file to read ({reason}): nothing changed").format(reason=exc.strerror)
            ) from None
    kept = store.git_dir(session.ws.root) / "xmflow" / "edits" / f"{project_id}-{stage.file}"
    try:
        return _commit_edit(session, project, stage, record, saved, reopen, note)
    except XmflowError as exc:
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_bytes(saved)
        except OSError:
            raise exc from None
        said = _(
            "{error}\nYour edit is kept in {path}: take what you need from it and run "
            "xmflow edit {project} {stage} again."
        ).format(error=exc.message, path=kept, project=project_id, stage=stage.id)
        raise (RuleError(said) if exc.exit_code == 1 else UsageError(said)) from None


def edit_guide(process: Process, stage: Stage, project_id: str) -> str:
    """The comments at the top of the copy `xmflow edit` opens: the stage's fields and their types."""
    lines = [
        _(
            "# {project} {stage} ({title}): the fields of this stage and what each takes. Lines starting "
            "with # are not saved."
        ).format(project=project_id, stage=stage.id, title=title_of(stage))
    ]

    def walk(ftype: FieldType, depth: int) -> None:
        for name, sub in ftype.fields.items():
            notes = [sub.describe() if sub.kind != "map" else _("a group of fields:")]
            if sub.readonly:
                notes.append(_("(written only by its own command)"))
            if sub.multiline:
                notes.append(_("(may take several lines)"))
            if sub.past:
                notes.append(_("(a day that has come: at most today)"))
            lines.append(f"#   {'  ' * depth}{name}: {' '.join(notes)}")
            if sub.kind == "map":
                walk(sub, depth + 1)
            elif sub.kind == "list" and sub.item is not None and sub.item.kind == "map":
                walk(sub.item, depth + 1)

    walk(stage.fields, 0)
    lines.append(_("# signoffs: written only by xmflow sign; leave them as they are."))
    return "\n".join(lines) + "\n"


def _commit_edit(
    session: Session,
    project: Project,
    stage: Stage,
    record: StageRecord,
    saved: bytes,
    reopen: str | None,
    note: str | None,
) -> Result | None:
    """Check what `xmflow edit` saved and commit it: every field's error at once, if it has some."""
    project_id = project.id
    edited = yamlio.decode(saved, record.path)
    try:
        new = records.parse_record(stage, edited, record.path)
    except RecordError as exc:
        every = records.field_problems(stage, edited, record.path)
        if len(every) > 1:
            raise RecordError("", "\n".join(every)) from None
        raise exc from None
    if new.signoffs != record.signoffs:
        raise RuleError(
            _("{file}: sign-offs are written only by `xmflow sign`; your edit changed them").format(file=record.path)
        )
    for name, ftype in stage.fields.fields.items():
        if ftype.readonly and new.data.get(name) != record.data.get(name):
            ledger = session.ws.process.ledger_of(f"{stage.id}.{name}")
            raise RuleError(
                _("{file}: {field} is written only by its own command (clause {clause})").format(
                    file=record.path, field=f"{stage.id}.{name}", clause=ledger.clause if ledger else stage.clause
                )
            )
    if new.data == record.data:
        return None
    data = {sid: rec.data for sid, rec in project.records.items()} | {stage.id: new.data}
    return _change_stages(
        session,
        project,
        data,
        f"{project_id} edit {stage.id}",
        reopen,
        note,
        _("{project} edit {stage}").format(project=project_id, stage=stage.id),
    )


def _change_stages(
    session: Session,
    project: Project,
    data: dict[str, dict[str, Any]],
    subject: str,
    reopen: str | None,
    note: str | None,
    summary: str | None = None,
) -> Result:
    """Commit new data for a project's stages; what needs --reopen is reopened with it, and the
    signatures the change undoes are reported. *subject* is the commit's (kept as it is: a commit
    is data), *summary* what the person is told (in the language in use), by default the subject."""
    process = session.ws.process
    before = session.view(project)
    changed: dict[str, StageRecord] = {}
    for stage in process.stages:
        record = project.record(stage.id)
        if data[stage.id] != record.data:
            _check_persons(session, stage, record.data, data[stage.id])
            changed[stage.id] = replace(record, data=data[stage.id], exists=True)
    if not changed:
        raise UsageError(_("nothing changes: the fields already hold these values"))
    edited = replace(project, records={**project.records, **changed})
    _check_editor(session, before, edited)
    _check_facts(session, project, edited)
    edited_view = session.view(edited)
    _check_required(session, before, edited_view)
    must_reopen = reopen_reasons(before, edited_view, data, changed)
    if must_reopen and not reopen:
        raise RuleError(
            _("{reasons}: to change it, add --reopen -m WHY (its sign-offs will need signing again)").format(
                reasons=pgettext("a list of sentences", "; ").join(must_reopen.values())
            )
        )
    if reopen and not must_reopen:
        raise UsageError(_("--reopen is only for a completed stage or a signed step; this change needs none"))
    roles = _reopen_roles(session, before, list(must_reopen)) if must_reopen else {}
    for stage_id in must_reopen:
        stage, record = process.stage(stage_id), changed.get(stage_id) or project.record(stage_id)
        signoff = Signoff(
            stage_id,
            Decision.REOPEN,
            session.actor.id,
            roles[stage_id],
            session.at,
            records.digest(stage, project.record(stage_id).data),
            reopen,
        )
        changed[stage_id] = records.with_signoff(record, signoff)
    after = session.view(replace(project, records={**project.records, **changed}))
    notes = tuple(
        _("this undoes {signer}'s signature of {step}: it must be signed again").format(
            signer=_label(session, s.by), step=st.step.id
        )
        for st in map(after.status, process.steps)
        for s in st.stale
        if s in before.valid_signatures(st.step).values()
    ) + _far_from_budget(before, after)
    decision = Decision.REOPEN if reopen else Decision.RECORD
    trailers = {"Xmflow-Decision": decision.value, "Xmflow-Stage": ", ".join(must_reopen) if reopen else None}
    commit = session.commit(project.id, changed, subject, trailers, reopen or note)
    return Result(project.id, commit, summary or subject, notes=notes)


def _label(session: Session, person_id: str) -> str:
    """A person as people read them (张三（zhangsan）), from the id a sign-off holds."""
    person = session.ws.people.by_id(person_id)
    return person.label() if person else person_id


def _check_editor(session: Session, before: ProjectView, after: Project, creating: bool = False) -> None:
    """Who may change what: each stage the change edits is one the person acting may edit on
    this project (the process's `editors`), judged on the project as it was (a new one: as it
    will be), so nobody hands over a colleague's project or rewrites a contract not theirs."""
    process = session.ws.process
    view = session.view(after) if creating else before
    for stage_id in edited_stages(process, before.project, after):
        if not may_edit(session.actor, process, stage_id, view):
            stage = process.stage(stage_id)
            raise RuleError(
                _(
                    "{person} may not change {stage} ({title}) of project {project}: {editors} (the "
                    "process's `editors`)"
                ).format(
                    person=session.actor.label(),
                    stage=stage.id,
                    title=title_of(stage),
                    project=after.id,
                    editors=editors_wording(process, stage_id),
                )
            )


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
            needed = _("{step} ({title}) needs it (clause {clause})").format(
                step=step.id, title=title_of(step), clause=step.clause
            )
            if is_filled(old) and not is_filled(new):
                raise UsageError(
                    _("{field}: it cannot be emptied, {needed}: give the right value instead").format(
                        field=req.field, needed=needed
                    )
                )
            ftype = session.ws.process.field_type(req.field)
            if ftype is not None and ftype.kind == "money" and new == 0:
                raise UsageError(
                    _("{field}: ¥0.00 is no amount, and {needed}: give the amount").format(
                        field=req.field, needed=needed
                    )
                )


_FAR = 10  # a contract amount more than this many times the budget, or less than its share, is warned about


def _far_from_budget(before: ProjectView, after: ProjectView) -> tuple[str, ...]:
    """A warning (not a refusal) when the contract amount changes to far from the budget."""
    budget, amount = figure(after, "budget"), figure(after, "contract_amount")
    if not budget or not amount or amount == figure(before, "contract_amount"):
        return ()
    if amount > budget * _FAR or amount * _FAR < budget:
        return (
            _(
                "the contract amount {amount} is far from the budget {budget} (more than {times}× apart): check "
                "it is not a typo (万 for 元, a zero too many)"
            ).format(amount=format_money(amount), budget=format_money(budget), times=_FAR),
        )
    return ()


def _check_facts(session: Session, before: Project, after: Project) -> None:
    """A date that records what happened (the day it shipped, the client's acceptance) is not in
    the future: form 4 must not print an acceptance dated after the client's signature."""
    today = session.at.date()
    for _stage, path, value in future_facts(session.ws.process, before, after, today):
        raise UsageError(
            _(
                "{field}: {day} is in the future (today is {today}); it records what happened, so it is at most today"
            ).format(field=path, day=value, today=today)
        )


def _check_persons(session: Session, stage: Stage, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Person fields name people in people.yaml, holding the role the field asks for."""
    for person_id, role in sorted(persons(stage.fields, new) - persons(stage.fields, old), key=str):
        person = session.ws.people.by_id(person_id)
        if person is None:
            raise UsageError(
                _("{stage}: {person} not in people.yaml (a person field takes a person's id)").format(
                    stage=stage.id, person=person_id
                )
            )
        if role and role not in person.roles:
            raise RuleError(
                _("{stage}: {person} does not hold the role {role}").format(
                    stage=stage.id, person=person.label(), role=role_name(session.ws.process, role)
                )
            )


def _reopen_roles(session: Session, view: ProjectView, stage_ids: list[str]) -> dict[str, str]:
    """The role each stage is reopened in. Reopening is for someone who signs in the stage (or an
    admin); a stage reopened only as a consequence (the settlement, when the contract amount
    changes) takes the role the change is made in."""

    def own_role(stage_id: str) -> str | None:
        stage = view.process.stage(stage_id)
        return next(
            (
                r
                for step in stage.steps
                for r in step.roles
                if not view.process.roles[r].external and holds_role(session.actor, r, view)
            ),
            None,
        )

    found = {sid: own_role(sid) for sid in stage_ids}
    fallback = next((r for r in found.values() if r), "admin" if "admin" in session.actor.roles else None)
    if fallback is None:
        raise RuleError(
            _("only someone who signs in stage {stage} (or an admin) may reopen it").format(stage=stage_ids[0])
        )
    return {sid: role or fallback for sid, role in found.items()}


# -- init -------------------------------------------------------------------------------------
def init_workspace(path: Path, company: str, admin_name: str, admin_email: str, when: datetime | None = None) -> str:
    """Make a workspace: xmflow.yaml, people.yaml with the first admin, projects/, one commit."""
    if path.exists() and not path.is_dir():
        raise UsageError(_("{path} is a file, not a folder").format(path=path))
    taken = [name for name in (CONFIG, PEOPLE) if (path / name).exists()]
    if taken:
        if CONFIG in taken:
            raise UsageError(_("{path} exists: this is already a workspace").format(path=path / taken[0]))
        raise UsageError(_("{path} exists: move it away first").format(path=path / taken[0]))
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
    return journal.commit(path, files, msg, store.Author(admin_name, admin_email), when)


# -- acknowledging a finding ------------------------------------------------------------------
def acknowledge(session: Session, commit: str, kind: str | None, why: str) -> Result:
    """An admin records, in a commit of its own, that the findings of *commit* (of one *kind*,
    or all it has) are known and why; `verify` then lists them as acknowledged, not as findings."""
    from xmflow.trust import audit  # verify is needed only here

    ws = session.ws
    if "admin" not in session.actor.roles:
        raise RuleError(
            _("{person} is not an admin: only an admin acknowledges a finding").format(person=session.actor.label())
        )
    sha = store.commit_of(ws.root, commit)
    if not sha:
        raise UsageError(_("--acknowledge {commit}: no such commit here").format(commit=commit))
    why = _text(why, "-m", multiline=True).strip()
    session.require_clean(ACKNOWLEDGEMENTS)
    findings = [f for f in audit.verify(ws.root) if f.commit == sha]
    chosen = [f for f in findings if kind is None or f.kind == kind]
    if not chosen:
        kinds = sorted({f.kind for f in findings})
        if kinds:
            raise UsageError(
                _("commit {commit} has no {kind} finding (its findings: {kinds})").format(
                    commit=sha[:7], kind=kind, kinds=listing(kinds)
                )
            )
        raise UsageError(_("commit {commit} has no findings to acknowledge").format(commit=sha[:7]))
    entries = acks_mod.parse(ws.text_if_any(ACKNOWLEDGEMENTS) or "")
    new = tuple(dict.fromkeys(acks_mod.Acknowledgement(sha, f.kind, f.project, why) for f in chosen))
    found = sorted({a.finding for a in new})
    subject = f"acknowledge {len(new)} finding(s) of {sha[:7]}: {', '.join(found)}"  # the commit's: kept as it is
    msg = message(subject, {"Xmflow-Decision": Decision.RECORD.value, "Xmflow-Acknowledges": sha}, why)
    files: dict[str, bytes | None] = {ACKNOWLEDGEMENTS: acks_mod.dump(entries + new).encode("utf-8")}
    done = journal.commit(ws.root, files, msg, store.Author(session.actor.name, session.actor.email), session.at)
    return Result(
        "",
        done,
        _("acknowledge {count} finding(s) of {commit}: {kinds}").format(
            count=len(new), commit=sha[:7], kinds=listing(found)
        ),
    )


def _text(value: str, option: str, multiline: bool = False) -> str:
    try:
        return check_text(value, multiline=multiline)
    except ValueError as exc:
        raise UsageError(f"{option} {exc}") from None

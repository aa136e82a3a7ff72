"""Every change xmflow makes: each checks the rules, then writes and commits in one step.

Each function takes a :class:`Session` (the workspace, the person acting, the time) and
returns what it did; nothing here prints. A refusal raises before any file is touched.
"""

from __future__ import annotations

import difflib
import re
import hashlib
import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

from xmflow import records, store, yamlio
from xmflow.errors import RuleError, StoreError, UsageError
from xmflow.model import Decision, Evidence, Person, Problem, Project, Signoff, StageRecord
from xmflow.process import Stage, Step
from xmflow.rules import ProjectView, eligible_roles, holds_role, role_requirement, sign_refusals
from xmflow.schema import FieldError, convert, persons, signed_part
from xmflow.values import parse_money, parse_time
from xmflow.workspace import Workspace, next_project_id, valid_project_id


def now() -> datetime:
    """The current time, timezone-aware; ``XMFLOW_NOW`` (ISO 8601) fixes it for demos and tests."""
    fixed = os.environ.get("XMFLOW_NOW")
    return parse_time(fixed) if fixed else datetime.now().astimezone()


@dataclass
class Session:
    """Who is acting, where, and when."""

    ws: Workspace
    actor: Person
    at: datetime = field(default_factory=now)

    @classmethod
    def start(cls, ws: Workspace) -> "Session":
        return cls(ws, ws.actor())

    def project_to_change(self, project_id: str) -> Project:
        """Load a project that is about to change; refuses while its files have uncommitted edits,
        so a change never builds on (or sweeps up) an edit made by hand."""
        project = self.ws.project(project_id)
        dirty = store.dirty_paths(self.ws.root, [f"projects/{project_id}"])
        if dirty:
            raise StoreError("uncommitted changes in " + ", ".join(dirty) +
                             ": commit them with git or discard them (git checkout -- FILE) first")
        return project

    def view(self, project: Project) -> ProjectView:
        return ProjectView(project, self.ws.process, self.ws.config)

    def author(self) -> store.Author:
        return store.Author(self.actor.name, self.actor.email)


@dataclass(frozen=True)
class Result:
    """What a change did: the project, the commit, and anything the user should know."""

    project: str
    commit: str
    summary: str
    signoff: Signoff | None = None
    notes: tuple[str, ...] = ()


def message(subject: str, trailers: dict[str, str | None], body: str | None = None) -> str:
    """A commit message whose last paragraph holds the Xmflow- trailers."""
    lines = [f"{key}: {value}" for key, value in trailers.items() if value]
    parts = [subject] + ([body.strip()] if body and body.strip() else []) + ["\n".join(lines)]
    return "\n\n".join(parts) + "\n"


def commit_records(session: Session, project_id: str, changed: dict[str, StageRecord], subject: str,
            trailers: dict[str, str | None], body: str | None = None,
            extra: dict[str, bytes] | None = None) -> str:
    """Write the changed stage records (and any extra files) and commit them as the person acting."""
    process = session.ws.process
    files: dict[str, bytes | None] = {
        rec.path: records.dump_record(process.stage(stage_id), rec).encode("utf-8") for stage_id, rec in changed.items()
    }
    files.update(extra or {})
    base = {"Xmflow-Project": project_id}
    return store.commit_files(session.ws.root, files, message(subject, {**base, **trailers}, body),
                              session.author(), session.at)


# -- new ----------------------------------------------------------------------------------
def new_project(session: Session, name: str, client: str, budget: str, *, industry_need: bool = False,
                special: bool = False, sales: str | None = None, project_id: str | None = None) -> Result:
    """Open a project (3.1.1): its initiation record, owned by the project's salesperson."""
    ws = session.ws
    existing = ws.project_ids()
    if project_id is None:
        project_id = next_project_id(existing, session.at.year)
    elif not valid_project_id(project_id):
        raise UsageError(f"project id {project_id!r} may hold only letters, digits, - and _")
    if project_id in existing:
        raise UsageError(f"project {project_id} already exists")
    owner = _salesperson(session, sales)
    try:
        amount = parse_money(budget)
    except ValueError as exc:
        raise UsageError(f"--budget: {exc}") from None
    if not name.strip() or not client.strip():
        raise UsageError("a project needs a name and --client")
    data: dict[str, Any] = {"name": name.strip(), "client": {"name": client.strip()}, "budget": amount,
                            "sales": owner.id, "opened": session.at.date()}
    criteria = {k: True for k, v in (("industry_need", industry_need), ("special", special)) if v}
    if criteria:
        data["key_criteria"] = criteria
    stage = ws.process.stages[0]
    record = StageRecord(stage.id, f"projects/{project_id}/{stage.file}", data, (), True)
    commit = commit_records(session, project_id, {stage.id: record}, f"{project_id} new: {name.strip()}",
                     {"Xmflow-Decision": Decision.RECORD.value, "Xmflow-Clause": ws.process.steps[0].clause})
    return Result(project_id, commit, f"opened {project_id} {name.strip()} for {owner.label()}")


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


# -- set / edit -------------------------------------------------------------------------------
def parse_assignment(session: Session, text: str) -> tuple[Stage, list[str], Any]:
    """``contract.amount=150万`` → (stage, path inside the stage, typed value)."""
    process = session.ws.process
    path, sep, raw = text.partition("=")
    if not sep:
        raise UsageError(f"{text!r}: write FIELD=VALUE, e.g. contract.amount=150万")
    parts = path.strip().split(".")
    stage_ids = [s.id for s in process.stages]
    if parts[0] not in stage_ids or len(parts) < 2:
        raise UsageError(f"{path!r}: a field starts with its stage ({', '.join(stage_ids)}), e.g. contract.amount")
    stage = process.stage(parts[0])
    ftype = process.field_type(path.strip())
    if ftype is None:
        parent = process.field_type(".".join(parts[:-1])) if len(parts) > 2 else stage.fields
        known = list(parent.fields) if parent and parent.kind == "map" else []
        close = difflib.get_close_matches(parts[-1], known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else (f" (known: {', '.join(known)})" if known else "")
        raise UsageError(f"{path}: no such field{hint}")
    if any(getattr(process.field_type(".".join(parts[:i])), "readonly", False) for i in range(2, len(parts) + 1)):
        raise RuleError(f"{path} is written only by its own command (xmflow invoice / xmflow receive), clause 4.0")
    raw_value = yamlio.load(raw, f"value of {path}").data if raw.strip() else None
    try:
        value = convert(ftype, raw_value)
    except FieldError as exc:
        raise UsageError(f"{path}{''.join('.' + str(p) for p in exc.path)}: {exc.message}") from None
    return stage, parts[1:], value


def set_fields(session: Session, project_id: str, assignments: list[str], reopen: str | None = None) -> Result:
    """Set fields of one or more stages in one commit (SPEC §4 `set`)."""
    project = session.project_to_change(project_id)
    if not assignments:
        raise UsageError("give at least one FIELD=VALUE")
    data = {sid: rec.data for sid, rec in project.records.items()}
    touched: list[str] = []
    for text in assignments:
        stage, parts, value = parse_assignment(session, text)
        try:
            data[stage.id] = records.set_path(data[stage.id], parts, value)
        except IndexError as exc:
            raise UsageError(f"{text}: {exc}") from None
        touched.append(text.partition("=")[0].strip())
    return _change_stages(session, project, data, f"{project_id} set " + ", ".join(touched), reopen)


def edit_stage(session: Session, project_id: str, stage_id: str, editor: Callable[[Path], None],
               reopen: str | None = None) -> Result | None:
    """Open a stage file in an editor (on a copy), check what was saved, commit it."""
    process = session.ws.process
    project = session.project_to_change(project_id)
    stage = _stage(session, stage_id)
    record = project.record(stage.id)
    original = records.dump_record(stage, record)
    scratch = session.ws.root / ".git" / f"xmflow-edit-{project_id}-{stage.file}"
    scratch.write_text(original or "# " + stage.title + "\n", encoding="utf-8")
    try:
        editor(scratch)
        edited = scratch.read_text(encoding="utf-8")
    finally:
        scratch.unlink(missing_ok=True)
    new = records.parse_record(stage, edited, record.path)
    if new.signoffs != record.signoffs:
        raise RuleError(f"{record.path}: sign-offs are written only by `xmflow sign`; your edit changed them")
    for name, ftype in stage.fields.fields.items():
        if ftype.readonly and new.data.get(name) != record.data.get(name):
            raise RuleError(f"{record.path}: {stage.id}.{name} is written only by its own command (clause 4.0)")
    if new.data == record.data:
        return None
    data = {sid: rec.data for sid, rec in project.records.items()}
    data[stage.id] = new.data
    return _change_stages(session, project, data, f"{project_id} edit {stage.id}", reopen)


def _change_stages(session: Session, project: Project, data: dict[str, dict[str, Any]], subject: str,
                   reopen: str | None) -> Result:
    process = session.ws.process
    before = session.view(project)
    changed: dict[str, StageRecord] = {}
    for stage in process.stages:
        record = project.record(stage.id)
        if data[stage.id] == record.data:
            continue
        _check_persons(session, stage, record.data, data[stage.id])
        tracking_only = signed_part(stage.fields, data[stage.id]) == signed_part(stage.fields, record.data)
        if before.stage_complete(stage) and not tracking_only:
            if not reopen:
                raise RuleError(f"stage {stage.id} ({stage.title}) is complete: to change it, "
                                f"add --reopen -m WHY (its sign-offs will need signing again)")
            signed = records.digest(stage, record.data)
            reopen_signoff = Signoff(stage.id, Decision.REOPEN, session.actor.id, _reopen_role(session, before, stage),
                                     session.at, signed, reopen)
            record = records.with_signoff(record, reopen_signoff)
        changed[stage.id] = replace(record, data=data[stage.id], exists=True)
    if not changed:
        raise UsageError("nothing changes: the fields already hold these values")
    if reopen and not any(s.decision is Decision.REOPEN for r in changed.values() for s in r.signoffs[-1:]):
        raise UsageError("--reopen is only for a stage that is complete; this change needs none")
    after = session.view(replace(project, records={**project.records, **changed}))
    notes = tuple(f"this undoes {s.by}'s signature of {st.step.id}: it must be signed again"
                  for st in map(after.status, process.steps) for s in st.stale
                  if s in before.valid_signatures(st.step).values())
    decision = Decision.REOPEN if reopen else Decision.RECORD
    commit = commit_records(session, project.id, changed, subject, {"Xmflow-Decision": decision.value}, reopen)
    return Result(project.id, commit, subject, notes=notes)


def _check_persons(session: Session, stage: Stage, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Person fields name people in people.yaml (checked for the ids a change brings in)."""
    unknown = persons(stage.fields, new) - persons(stage.fields, old)
    unknown = {pid for pid in unknown if session.ws.people.by_id(pid) is None}
    if unknown:
        raise UsageError(f"{stage.id}: {', '.join(sorted(unknown))} not in people.yaml (a person field takes a person's id)")


def _reopen_role(session: Session, view: ProjectView, stage: Stage) -> str:
    """Reopening a stage is for someone who signs in it (or an admin): the role they act in."""
    roles = [r for step in stage.steps for r in step.roles
             if not view.process.roles[r].external and holds_role(session.actor, r, view)]
    if roles:
        return roles[0]
    if "admin" in session.actor.roles:
        return "admin"
    raise RuleError(f"only someone who signs in stage {stage.id} (or an admin) may reopen it")


def _stage(session: Session, stage_id: str) -> Stage:
    ids = [s.id for s in session.ws.process.stages]
    if stage_id not in ids:
        raise UsageError(f"no stage {stage_id!r} (stages: {', '.join(ids)})")
    return session.ws.process.stage(stage_id)


# -- sign -----------------------------------------------------------------------------------
def find_step(session: Session, step_id: str) -> Step:
    process = session.ws.process
    if not process.has_step(step_id):
        close = difflib.get_close_matches(step_id, [s.id for s in process.steps], n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (xmflow process show lists them)"
        raise UsageError(f"no step {step_id!r}{hint}")
    return process.step(step_id)


def choose_role(view: ProjectView, step: Step, person: Person, role: str | None, signatory: str | None) -> str:
    """The role a sign-off is made in: the one given, the client's when a signatory is named,
    or the only one of the step's roles this person holds."""
    roles = view.process.roles
    if role is not None:
        if role not in step.roles:
            raise UsageError(f"{step.id} is signed by {', '.join(step.roles)}, not {role}")
        return role
    if view.is_signed(step.id):
        signers = ", ".join(f"{s.by} ({s.role})" for s in view.valid_signatures(step).values())
        raise RuleError(f"{step.id} is already complete: signed by {signers} (clause {step.clause})")
    external = [r for r in step.roles if roles[r].external]
    if signatory and external:
        return external[0]
    mine = [r for r in eligible_roles(view, step, person) if not roles[r].external]
    if len(mine) == 1:
        return mine[0]
    if len(mine) > 1:
        raise UsageError(f"you may sign {step.id} as {' or '.join(mine)}: say which with --role")
    if any(holds_role(person, r, view) for r in external):
        raise UsageError(f"{step.id}: record the client's (甲方) signature with --role {external[0]} --signatory NAME")
    wanted = "; ".join(f"{r} {role_requirement(view, r)}" for r in step.roles if not roles[r].external)
    raise RuleError(f"{person.label()} may not sign {step.id} (clause {step.clause}): {wanted}")


def sign_step(session: Session, project_id: str, step_id: str, *, reject: bool = False, comment: str | None = None,
              role: str | None = None, signatory: str | None = None, evidence: Path | None = None,
              paper_date: date | None = None) -> Result:
    """Sign (or reject) a step of a project, as the person acting (SPEC §4 `sign`, §5)."""
    project = session.project_to_change(project_id)
    step = find_step(session, step_id)
    view = session.view(project)
    if reject and not (comment and comment.strip()):
        raise UsageError("a reject needs a reason: -m WHY")
    chosen = choose_role(view, step, session.actor, role, signatory)
    external = session.ws.process.roles[chosen].external
    if external and not (signatory and signatory.strip()):
        raise UsageError(f"{step.id} as {chosen}: name the client's signer with --signatory NAME")
    if not external and signatory:
        raise UsageError("--signatory is only for the client's (甲方) signatures")
    decision = Decision.REJECT if reject else Decision.APPROVE
    problems = sign_refusals(view, step, session.actor, chosen, decision)
    if problems:
        raise RuleError(f"cannot sign {step.id} for {project_id}:\n" + "\n".join(f"  - {p}" for p in problems))
    extra, proof = _evidence(session, project_id, step, evidence)
    signoff = Signoff(step.id, decision, session.actor.id, chosen, session.at, view.current_digest(step),
                      comment.strip() if comment else None, signatory.strip() if signatory else None, proof, paper_date)
    record = records.with_signoff(project.record(step.stage), signoff)
    trailers = {"Xmflow-Step": step.id, "Xmflow-Decision": decision.value, "Xmflow-Role": chosen,
                "Xmflow-Clause": step.clause, "Xmflow-Digest": signoff.digest,
                "Xmflow-Signatory": signoff.signatory,
                "Xmflow-Evidence": f"sha256:{proof.sha256}" if proof else None}
    verb = "rejects" if reject else "signs"
    commit = commit_records(session, project_id, {step.stage: record}, f"{project_id} {step.id}: {session.actor.id} {verb} as {chosen}",
                     trailers, comment, extra)
    return Result(project_id, commit, f"{step.id} {decision.value} by {session.actor.label()} as {chosen}", signoff)


def _evidence(session: Session, project_id: str, step: Step, path: Path | None) -> tuple[dict[str, bytes], Evidence | None]:
    if path is None:
        return {}, None
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--evidence {path}: {exc.strerror}") from None
    digest = hashlib.sha256(content).hexdigest()
    rel = f"projects/{project_id}/files/{step.id}-{digest[:12]}{path.suffix.lower()}"
    return {rel: content}, Evidence(rel.split("/", 2)[2], digest)


# -- init -------------------------------------------------------------------------------------
def init_workspace(path: Path, company: str, admin_name: str, admin_email: str,
                   when: datetime | None = None) -> str:
    """Make a workspace: xmflow.yaml, people.yaml with the first admin, projects/, one commit."""
    from xmflow.workspace import CONFIG, PEOPLE  # noqa: PLC0415 - names only

    if (path / CONFIG).exists():
        raise UsageError(f"{path / CONFIG} exists: this is already a workspace")
    store.init(path)
    config = {"company": company, "currency": "CNY", "key_threshold": "1000000.00", "locale": "zh"}
    admin_id = re.sub(r"[^A-Za-z0-9_-]", "_", admin_email.split("@")[0]) or "admin"
    people = {"people": [{"id": admin_id, "name": admin_name, "email": admin_email, "roles": ["admin"]}]}
    files: dict[str, bytes | None] = {
        CONFIG: yamlio.dump(config).encode(),
        PEOPLE: yamlio.dump(people).encode(),
        "projects/.gitkeep": b"",
    }
    author = store.Author(admin_name, admin_email)
    msg = message("xmflow init", {"Xmflow-Decision": Decision.RECORD.value})
    return store.commit_files(path, files, msg, author, when)


"""`xmflow check`: every record and rule of the working tree, fit for a pre-commit hook and CI.

It reads everything strictly (settings, people, process, acknowledgements, every stage file),
checks that each sign-off names a known person, role and step and that each scan is the one
signed, that the settings in force are an admin's, and judges the pending change of each
project against the last commit with the same checks `verify` runs on every commit
(:mod:`xmflow.trust.conformance`): sign-offs only added, scans never changed, a completed stage changed
only with --reopen, its fields changed only by its editors, no fact dated in the future.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from xmflow import files
from xmflow.clock import now
from xmflow.errors import XmflowError
from xmflow.git import store
from xmflow.i18n import _
from xmflow.model import Decision, Problem, Project
from xmflow.procedure.process import INVOICES, Ledger
from xmflow.records import acknowledgements
from xmflow.records import stages as records
from xmflow.records.acknowledgements import ACKNOWLEDGEMENTS
from xmflow.records.cache import KeptCache
from xmflow.records.workspace import CONFIG, PEOPLE, PROJECTS, Workspace
from xmflow.rules.change import ProjectChange, Scan, Settings
from xmflow.rules.project import ProjectView
from xmflow.trust.audit import TEMPLATES, is_guarded, kept_settings
from xmflow.trust.conformance import judge


def check(ws: Workspace) -> list[Problem]:
    """Every problem of the working tree; empty when all is well."""
    try:
        __ = (ws.config, ws.process, ws.people)  # each read strictly: an error names the file and line
        acknowledgements.parse(ws.text_if_any(acknowledgements.ACKNOWLEDGEMENTS) or "")
    except XmflowError as exc:
        return [Problem("", exc.message)]
    problems: list[Problem] = []
    problems += _settings(ws)
    problems += _links(ws)
    dirty = {path.split("/")[1] for path in store.dirty_paths(ws.root, ["projects"]) if path.count("/") >= 2}
    kept: KeptCache[Checked] | None = ws.kept("checked")
    invoices: dict[str, str] = {}
    read = 0
    ids = ws.project_ids()
    for project_id in ids:
        key = ws.project_key(project_id) if kept is not None and project_id not in dirty else ""
        checked = kept.get(key) if kept is not None and key else None
        if checked is not None and any(ws.blobs.get(path) != blob for path, blob in checked.scans):
            checked = None  # a scan it read is not the one it read then
        project = None
        if checked is None:
            read += 1
            try:
                project = ws.project(project_id, cached=True)  # a record parsed before, by its content, is the same
            except XmflowError as exc:
                problems.append(Problem("", exc.message))
                continue
            checked = _check_project(ws, project)
            if kept is not None and project.key and project_id not in dirty and all(b for __, b in checked.scans):
                kept.put(project.key, checked)  # not when a scan is one git does not vouch for
        problems += checked.problems
        problems += _invoice_numbers(project_id, checked.invoices, invoices, ws.process.ledgers[INVOICES])
        if project_id in dirty:
            problems += _pending(ws, project or ws.project(project_id, cached=True))
    if kept is not None:
        kept.save()
    if ws.record_cache is not None:
        ws.record_cache.save(prune=read == len(ids))
    return problems


@dataclass(frozen=True)
class Checked:
    """What `check` finds in one project on its own, kept by the project's key (and the git blob
    ids of the scans it hashed, checked again before it is used)."""

    problems: tuple[Problem, ...]
    invoices: tuple[str, ...]  # its invoice numbers, in order
    scans: tuple[tuple[str, str], ...]  # (path, git blob id) of each scan it read


def _check_project(ws: Workspace, project: Project) -> Checked:
    ledger = ws.process.ledgers[INVOICES]
    entries = ProjectView(project, ws.process, ws.config).value(ledger.field) or []
    scans = {
        f"projects/{project.id}/{s.evidence.file}"
        for record in project.records.values()
        for s in record.signoffs
        if s.evidence
    }
    blobs = tuple((path, ws.blobs.get(path, "")) for path in sorted(scans))  # "": git does not vouch for it
    return Checked(tuple(_signoffs(ws, project)), tuple(str(e.get("number") or "") for e in entries), blobs)


def _links(ws: Workspace) -> list[Problem]:
    """A link where a project's folder goes (or for the projects folder itself): xmflow reads no
    project through it, and verify names the commit that adds one."""
    base = ws.root / PROJECTS
    links = [base] if base.is_symlink() else [p for p in base.iterdir() if p.is_symlink()] if base.is_dir() else []
    return [
        Problem(
            str(link.relative_to(ws.root)),
            _(
                "is a symbolic link, not a folder: a project's files are kept "
                "in its own folder; remove the link (git rm)"
            ),
        )
        for link in links
    ]


def _invoice_numbers(project_id: str, numbers: tuple[str, ...], used: dict[str, str], ledger: Ledger) -> list[Problem]:
    """An invoice number recorded in another project before this one (4.0: used once)."""
    problems = []
    for number in numbers:
        other = used.setdefault(number.casefold(), project_id)
        if other != project_id:
            where = f"projects/{project_id}"  # a path
            problems.append(
                Problem(
                    where,
                    _(
                        "invoice number {number} is also recorded in project {other}: an invoice number is used once"
                    ).format(number=number, other=other),
                    ledger.clause,
                    ledger.field,
                )
            )
    return problems


def _settings(ws: Workspace) -> list[Problem]:
    """The settings in force are an admin's; a pending change of them is one only an admin may
    commit (judged by the people.yaml an admin last committed, not by the edited one)."""
    refusal, trusted = kept_settings(ws.root)
    problems = [Problem("", refusal)] if refusal else []
    process = [ws.config.process] if ws.config.process else []
    pending = [
        path
        for path in store.dirty_paths(ws.root, [PEOPLE, CONFIG, ACKNOWLEDGEMENTS, *process, TEMPLATES.rstrip("/")])
        if is_guarded(path, {PEOPLE, CONFIG, ACKNOWLEDGEMENTS, *process})
    ]
    email = ws.identity_email() or ""
    admin = trusted.by_email(email) if trusted and email else None
    if pending and not (admin and "admin" in admin.roles):
        who = admin.label() if admin else email or _("whoever commits next (no git identity)")
        problems += [
            Problem(
                path,
                _(
                    "changed, and {who} is not an admin: only an admin commits people.yaml, "
                    "xmflow.yaml, the process, the acknowledgements and the templates"
                ).format(who=who),
            )
            for path in pending
        ]
    return problems


def _signoffs(ws: Workspace, project: Project) -> list[Problem]:
    """Each sign-off names a step of its stage, a role of that step, a person of people.yaml,
    and a scan that is there with the hash it was signed with."""
    process, people = ws.process, ws.people
    problems = []
    for stage in process.stages:
        record = project.record(stage.id)
        for i, s in enumerate(record.signoffs):
            wrong: list[str] = []  # what is wrong with this sign-off (words looked up only then)
            if s.decision is Decision.REOPEN:
                if s.step != stage.id or s.role not in process.roles:
                    wrong.append(
                        _("a reopen of stage {stage} names {step} as {role}").format(
                            stage=stage.id, step=s.step, role=s.role
                        )
                    )
            elif not process.has_step(s.step) or process.step(s.step).stage != stage.id:
                wrong.append(_("{step} is not a step of stage {stage}").format(step=s.step, stage=stage.id))
            elif s.role not in process.step(s.step).roles:
                wrong.append(_("{step} is not signed in the role {role}").format(step=s.step, role=s.role))
            for who in filter(None, (s.by, s.on_behalf_of)):
                if people.by_id(who) is None:
                    wrong.append(_("{person} is not in people.yaml").format(person=who))
            if s.evidence:
                path = ws.root / "projects" / project.id / s.evidence.file
                try:
                    actual = hashlib.sha256(files.read_scan(path, s.evidence.file)).hexdigest()
                except XmflowError as exc:
                    said = (
                        _("the scan {file} cannot be read (it is missing)")
                        if not path.exists()
                        else _("the scan {file} cannot be read: {error}")
                    )
                    wrong.append(said.format(file=s.evidence.file, error=exc.message))
                else:
                    if actual != s.evidence.sha256:
                        wrong.append(
                            _("the scan {file} is not the one signed (its SHA-256 differs from the sign-off's)").format(
                                file=s.evidence.file
                            )
                        )
            if wrong:
                where = _("{path}: sign-off {number} ({step})").format(path=record.path, number=i + 1, step=s.step)
                problems += [Problem(where, message) for message in wrong]
    return problems


def _pending(ws: Workspace, project: Project) -> list[Problem]:
    """The uncommitted change to a project, against the last commit, judged as the change xmflow
    would make for whoever is about to commit it."""
    if store.head(ws.root) is None:
        return []
    base = f"projects/{project.id}/"

    def read(name: str) -> bytes | None:
        return store.read_bytes_at(ws.root, "HEAD", base + name)

    try:
        committed = records.project_from(ws.process, project.id, read)
    except XmflowError:
        return []  # the last commit's files are verify's business
    scans = tuple(
        Scan(path[len(base) :], store.read_bytes_at(ws.root, "HEAD", path) is not None, _sha256(ws, path))
        for path in store.dirty_paths(ws.root, [base + "files"])
    )
    change = ProjectChange(
        project.id,
        "",
        ws.identity_email() or "",
        now(),
        None,
        Settings(ws.config, ws.process, ws.people),
        committed,
        project,
        scans,
    )
    paths = {stage.id: project.record(stage.id).path for stage in ws.process.stages}
    return [
        Problem(base + f.file if f.file else paths.get(f.stage, base.rstrip("/")), f.message, f.clause)
        for f in judge(change)
    ]


def _sha256(ws: Workspace, path: str) -> str | None:
    try:
        return hashlib.sha256(files.read_scan(ws.root / path, path)).hexdigest()
    except XmflowError:
        return None

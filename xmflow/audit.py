"""Verification of the history (SPEC §5): every commit replayed against the procedure as it stood
at that commit — the people, settings and process of its parent — so that what the files say
was signed is known to have been signed, by the person who held the role, in order.

A commit that changes a project must be xmflow's: its trailers name the project and say what
it did, sign-offs are only ever appended, one at a time, by their signer, and each would have
been accepted by the same rules `xmflow sign` applies. Settings change only by an admin. Where
signed commits are required, each is signed by its author with a key people.yaml lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xmflow import process as process_mod
from xmflow import records, store
from xmflow.cache import ParsedRecords
from xmflow.conformance import unreopened_changes
from xmflow.errors import UsageError, XmflowError
from xmflow.history import Commit, walk
from xmflow.model import Config, Decision, People, Person, Project, Signoff
from xmflow.process import Process
from xmflow.rules import ProjectView, delegation_refusals, holds_role, sign_refusals
from xmflow.workspace import CONFIG, PEOPLE, parse_config, parse_people

_SIGNING = (Decision.APPROVE.value, Decision.REJECT.value)


@dataclass(frozen=True)
class Finding:
    """One thing wrong in the history: which commit, project, stage and step, and what."""

    commit: str
    message: str
    project: str = ""
    stage: str = ""
    step: str = ""
    clause: str = ""

    def __str__(self) -> str:
        where = " ".join(filter(None, [self.project, self.stage, f"({self.step})" if self.step else ""]))
        clause = f" (clause {self.clause})" if self.clause else ""
        return f"commit {self.commit[:7]}{' · ' + where if where else ''}: {self.message}{clause}"

    def as_json(self) -> dict[str, str]:
        return {"commit": self.commit, "project": self.project, "stage": self.stage, "step": self.step,
                "clause": self.clause, "message": self.message}


@dataclass(frozen=True)
class Settings:
    """The workspace's rules as of one commit: its settings, process and people."""

    config: Config
    process: Process
    people: People
    people_blob: str | None


@dataclass
class Tree:
    """The files of the workspace as the replay has reached them (path → blob id), with their
    contents and what was parsed from them, each read once."""

    root: Path
    files: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    _parsed: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def text(self, path: str) -> str | None:
        blob = self.files.get(path)
        return self.blobs[blob].decode("utf-8") if blob else None

    def settings(self) -> Settings:
        """The settings, process and people of this tree (parsed once per version of each)."""
        config = self._once(("config", self.files.get(CONFIG)),
                            lambda: parse_config(self.text(CONFIG) or "company: ''\n"))
        process = self._once(("process", config.process, self.files.get(config.process or "")),
                             lambda: self._process(config))
        return self._once(("settings", self.files.get(CONFIG), self.files.get(config.process or ""),
                           self.files.get(PEOPLE)), lambda: Settings(config, process, self._people(process),
                                                                     self.files.get(PEOPLE)))

    def _once(self, key: tuple[Any, ...], make: Any) -> Any:
        if key not in self._parsed:
            self._parsed[key] = make()
        return self._parsed[key]

    def _process(self, config: Config) -> Process:
        text = self.text(config.process) if config.process else None
        return process_mod.parse(text, config.process) if text and config.process else process_mod.load(None)

    def _people(self, process: Process) -> People:
        roles = {rid for rid, role in process.roles.items() if role.is_global and not role.external}
        return parse_people(self.text(PEOPLE) or "people: []\n", roles)

    def project(self, process: Process, project_id: str, old: dict[str, str | None] | None = None) -> Project:
        """A project as this tree has it, or as it was before a commit changed the files in *old*."""
        def read(name: str) -> bytes | None:
            path = f"projects/{project_id}/{name}"
            blob = old[path] if old is not None and path in old else self.files.get(path)
            return self.blobs[blob] if blob else None

        parsed = self._once(("records", id(process)), ParsedRecords)
        return records.project_from(process, project_id, read, parsed)


def verify(root: Path, rev: str = "HEAD", project: str | None = None) -> list[Finding]:
    """Every finding of the history up to *rev*, oldest first (only *project*'s when given)."""
    if not store.git(root, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip():
        raise UsageError(f"--rev {rev}: no such commit here")
    commits = walk(root, rev)
    tree = Tree(root)
    tree.blobs = store.read_blobs(root, [c.blob for commit in commits for c in commit.changes if c.blob])
    findings: list[Finding] = []
    to_check_signatures: dict[str | None, tuple[People, list[Commit]]] = {}
    for commit in commits:
        before = _settings(tree, commit, findings)
        changed = {c.path: c.blob for c in commit.changes}
        old_files = {path: tree.files.get(path) for path in changed}
        for path, blob in changed.items():
            if blob is None:
                tree.files.pop(path, None)
            else:
                tree.files[path] = blob
        if before is None:
            continue
        findings += _settings_changes(commit, before, tree, changed)
        touched = _projects(changed)
        for project_id in sorted(touched):
            findings += _project_change(commit, before, old_files, tree, project_id)
        claimed = commit.trailer("Project")
        if claimed and claimed not in touched and commit.trailer("Decision") != Decision.RECORD.value:
            findings.append(Finding(commit.sha, f"says it {commit.trailer('Decision')}s {commit.trailer('Step') or 'a step'} "
                                    "but changes none of the project's files (a commit with no matching signature)",
                                    claimed, (commit.trailer("Step") or "").partition(".")[0],
                                    commit.trailer("Step") or ""))
        if before.config.require_signed_commits:
            to_check_signatures.setdefault(before.people_blob, (before.people, []))[1].append(commit)
    findings += _signatures(root, to_check_signatures)
    return [f for f in findings if project is None or f.project == project]


def _settings(tree: Tree, commit: Commit, findings: list[Finding]) -> Settings | None:
    """The settings a commit was made under (its parent's); None before the workspace exists."""
    if CONFIG not in tree.files:
        return None
    try:
        return tree.settings()
    except XmflowError as exc:
        findings.append(Finding(commit.sha, f"the settings before this commit cannot be read: {exc.message}"))
        return None


def _projects(changed: dict[str, str | None]) -> set[str]:
    return {parts[1] for parts in (path.split("/") for path in changed) if parts[0] == "projects" and len(parts) > 2}


def _settings_changes(commit: Commit, before: Settings, tree: Tree, changed: dict[str, str | None]) -> list[Finding]:
    """people.yaml, xmflow.yaml and the process change only by an admin (SPEC §2)."""
    guarded = {PEOPLE, CONFIG, *filter(None, [before.config.process])}
    touched = sorted(guarded & set(changed))
    if not touched:
        return []
    person = before.people.by_email(commit.email)
    if person is not None and "admin" in person.roles:
        return []
    who = person.label() if person else commit.email
    return [Finding(commit.sha, f"{', '.join(touched)} changed by {who}, who is not an admin "
                                "(only an admin changes people.yaml, xmflow.yaml and the process)")]


def _project_change(commit: Commit, settings: Settings, old_files: dict[str, str | None], tree: Tree,
                    project_id: str) -> list[Finding]:
    """One commit's change to one project, checked against what xmflow would have done."""
    def finding(message: str, stage: str = "", step: str = "", clause: str = "") -> Finding:
        return Finding(commit.sha, message, project_id, stage, step, clause)

    process = settings.process
    if commit.trailer("Project") != project_id:
        files = sorted({c.path.split("/")[2] for c in commit.changes if c.path.startswith(f"projects/{project_id}/")})
        stages = [stage.id for name in files if (stage := process.stage_of_file(name))]
        return [finding(f"{', '.join(files)} changed outside xmflow: the commit does not say it acts on {project_id} "
                        "(no Xmflow-Project trailer for it), so no signature covers this change",
                        stage=", ".join(stages or files))]
    try:
        before, after = tree.project(process, project_id, old_files), tree.project(process, project_id)
    except XmflowError as exc:
        return [finding(f"a record cannot be read: {exc.message}")]
    problems = _evidence_files(commit, project_id, old_files, tree, after, finding)
    new: list[Signoff] = []
    for stage in process.stages:
        old, now = before.record(stage.id).signoffs, after.record(stage.id).signoffs
        if now[:len(old)] != old:
            problems.append(finding(f"{stage.file}: a sign-off was rewritten or removed (sign-offs are only ever "
                                    "added, by `xmflow sign`)", stage.id))
        else:
            new += now[len(old):]
    decision = commit.trailer("Decision")
    author = settings.people.by_email(commit.email)
    if author is None:
        problems.append(finding(f"made by {commit.email}, who is not in people.yaml"))
    if decision in _SIGNING:
        problems += _signoff_commit(commit, settings, before, after, new, author, finding)
    elif decision == Decision.RECORD.value or decision == Decision.REOPEN.value:
        if any(s.decision is not Decision.REOPEN for s in new) or (new and decision == Decision.RECORD.value):
            problems.append(finding("a sign-off was added by a commit that is not a sign-off (Xmflow-Decision: "
                                    f"{decision})", new[0].step.split(".")[0], new[0].step))
        problems += _record_commit(settings, before, after, finding)
        problems += _reopens(settings, before, [s for s in new if s.decision is Decision.REOPEN], author, finding)
        problems += _ledgers(settings, before, after, author, finding)
    else:
        problems.append(finding(f"unknown Xmflow-Decision {decision!r}"))
    return problems


def _signoff_commit(commit: Commit, settings: Settings, before: Project, after: Project, new: list[Signoff],
                    author: Person | None, finding: Any) -> Iterator[Finding]:
    """A sign-off commit adds exactly the sign-off its trailers describe, by its author, on data
    it does not change, and the procedure would have allowed it."""
    step_id = commit.trailer("Step") or ""
    process = settings.process
    if not process.has_step(step_id):
        yield finding(f"signs an unknown step {step_id!r}", step=step_id)
        return
    step = process.step(step_id)
    mine = [s for s in new if s.step == step_id]
    if len(new) != 1 or not mine:
        yield finding(f"the commit signs {step_id} but its files {'add no' if not new else 'add other'} sign-off "
                      "for it (a commit with no matching signature)", step.stage, step_id, step.clause)
        return
    signoff = mine[0]
    trailers = {"Decision": signoff.decision.value, "Role": signoff.role, "Digest": signoff.digest,
                "On-Behalf-Of": signoff.on_behalf_of}
    for key, value in trailers.items():
        if commit.trailer(key) != value:
            yield finding(f"the sign-off in the file says {key.lower()} {value}, its commit says "
                          f"{commit.trailer(key)}", step.stage, step_id, step.clause)
    if signoff.at != commit.at:
        yield finding(f"the sign-off is dated {signoff.at.isoformat()}, its commit {commit.at.isoformat()}",
                      step.stage, step_id, step.clause)
    if author is not None and signoff.by != author.id:
        yield finding(f"signed in the name of {signoff.by} but committed by {author.label()} "
                      "(nobody signs for someone else)", step.stage, step_id, step.clause)
    if any(before.record(s.id).data != after.record(s.id).data for s in process.stages):
        yield finding("a sign-off commit also changed the records' data", step.stage, step_id, step.clause)
    actor = settings.people.by_id(signoff.by)
    signer = settings.people.by_id(signoff.on_behalf_of) if signoff.on_behalf_of else actor
    view = ProjectView(before, process, settings.config)
    if actor is None or signer is None:
        yield finding(f"signed by {signoff.on_behalf_of or signoff.by}, who is not in people.yaml at that commit",
                      step.stage, step_id)
        return
    if view.current_digest(step) != signoff.digest:
        yield finding("the sign-off's digest is not that of the data it was made on", step.stage, step_id, step.clause)
    refusals = sign_refusals(view, step, signer, signoff.role, signoff.decision)
    if signoff.on_behalf_of:
        refusals += delegation_refusals(view, step, actor, signer, signoff.role, settings.people, commit.at.date())
    for problem in refusals:
        yield finding(f"signed when the procedure refused it: {problem.message}", step.stage, step_id,
                      problem.clause or step.clause)


def _record_commit(settings: Settings, before: Project, after: Project, finding: Any) -> list[Finding]:
    """A change of the records: a completed stage changes only with --reopen (a reopen sign-off)."""
    return [finding(f"{why}, yet it was changed without --reopen (the signatures it had no longer match)", stage_id)
            for stage_id, why in unreopened_changes(settings.process, settings.config, before, after).items()]


def _reopens(settings: Settings, before: Project, reopens: list[Signoff], author: Person | None,
             finding: Any) -> list[Finding]:
    """A reopen is its author's, in a role they hold (or as admin), as `set --reopen` makes it."""
    view = ProjectView(before, settings.process, settings.config)
    problems = []
    for s in reopens:
        if author is None or s.by != author.id:
            problems.append(finding(f"a reopen in the name of {s.by}, committed by {author.label() if author else '?'}",
                                    s.step))
        elif not (holds_role(author, s.role, view) or (s.role == "admin" and "admin" in author.roles)):
            problems.append(finding(f"reopened by {author.label()} as {s.role}, a role they do not hold "
                                    "(only someone who signs in the stage, or an admin, reopens it)", s.step))
    return problems


def _ledgers(settings: Settings, before: Project, after: Project, author: Person | None,
             finding: Any) -> list[Finding]:
    """Invoices and receipts (4.0) are only added, each by its author, in a role the ledger names."""
    view = ProjectView(before, settings.process, settings.config)
    problems = []
    for ledger in settings.process.ledgers.values():
        old = view.value(ledger.field) or []
        new = ProjectView(after, settings.process, settings.config).value(ledger.field) or []
        if new[:len(old)] != old:
            problems.append(finding(f"{ledger.field}: an entry was changed or removed (they are only ever added)",
                                    ledger.stage))
            continue
        for entry in new[len(old):]:
            if author is None or entry.get("by") != author.id:
                problems.append(finding(f"{ledger.field}: an entry in the name of {entry.get('by')}, committed by "
                                        f"{author.label() if author else '?'}", ledger.stage))
            elif not any(holds_role(author, role, view) for role in ledger.roles):
                problems.append(finding(f"{ledger.field}: recorded by {author.label()}, who is not "
                                        f"{' or '.join(ledger.roles)}", ledger.stage, clause=ledger.clause))
    return problems


def _evidence_files(commit: Commit, project_id: str, old_files: dict[str, str | None], tree: Tree, after: Project,
                    finding: Any) -> list[Finding]:
    """A scan of a signed paper is added once, with the sign-off that names its hash, and never changed."""
    base = f"projects/{project_id}/files/"
    named = {s.evidence.file: s.evidence.sha256 for r in after.records.values() for s in r.signoffs if s.evidence}
    problems = []
    for change in commit.changes:
        if not change.path.startswith(base):
            continue
        rel = change.path[len(f"projects/{project_id}/"):]
        if old_files.get(change.path) is not None:
            problems.append(finding(f"{rel}: the scan of a signed paper was changed or removed"))
        elif change.blob and named.get(rel) != hashlib.sha256(tree.blobs[change.blob]).hexdigest():
            problems.append(finding(f"{rel}: added without a sign-off naming its SHA-256"))
    return problems


def _signatures(root: Path, by_people: dict[str | None, tuple[People, list[Commit]]]) -> list[Finding]:
    """Where xmflow.yaml requires signed commits: each is signed, well, by its author, with a key
    people.yaml listed at that commit (SSH; the allowed signers are made from it)."""
    findings = []
    for people, commits in by_people.values():
        allowed = "".join(f'{p.email} namespaces="git" {p.signing_key}\n' for p in people.persons if p.signing_key)
        checked = store.signatures(root, [c.sha for c in commits], allowed)
        for commit in commits:
            status, signer, _key = checked.get(commit.sha, ("N", "", ""))
            problem = _SIGNATURE_PROBLEMS.get(status, f"has a signature git judges {status!r}")
            if status == "G":
                problem = None if signer.lower() == commit.email.lower() else \
                    f"is signed with {signer}'s key, but its author is {commit.email}"
            if problem:
                findings.append(Finding(commit.sha, f"{problem} (xmflow.yaml requires signed commits)",
                                        commit.trailer("Project") or ""))
    return findings


_SIGNATURE_PROBLEMS = {
    "N": "is not signed", "B": "has a bad signature", "U": "is signed with a key people.yaml does not list",
    "E": "is signed, but the signature cannot be checked (a key people.yaml does not list?)",
    "X": "has an expired signature", "Y": "is signed with an expired key", "R": "is signed with a revoked key",
}

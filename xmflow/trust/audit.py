"""Verification of the history (SPEC §5): every commit replayed against the procedure as it stood
before it, so that what the files say was signed is known to have been signed, by the person who
held the role, in order.

The rules a commit is judged by are the *trusted* settings: ``people.yaml``, ``xmflow.yaml``, the
process and the acknowledgements as an admin last committed them. A change of them by anyone
else is a finding and is not taken up, so a salesman who gives himself a role in people.yaml
gains nothing by it. Each commit's change of each project is judged by the one list of checks in
:mod:`xmflow.trust.conformance`; where signed commits are required, each is signed by its author with a
key people.yaml lists. At the end, the settings of the last commit must be readable, and the
findings an admin acknowledged are set apart.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import ChainMap
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from xmflow import yamlio
from xmflow.errors import RecordError, StoreError, UsageError, XmflowError
from xmflow.git import store
from xmflow.i18n import N_, _, pgettext
from xmflow.model import Config, Decision, People, Project
from xmflow.procedure import parser
from xmflow.procedure.process import Process
from xmflow.records import acknowledgements as acks_mod
from xmflow.records import stages as records
from xmflow.records.acknowledgements import ACKNOWLEDGEMENTS, Acknowledgement
from xmflow.records.cache import KeptCache, ParsedRecords
from xmflow.records.history import Commit, Contents, processes_named, read_contents, stream, too_large, walk
from xmflow.records.workspace import CONFIG, PEOPLE, parse_config, parse_people
from xmflow.rules.change import Finding, ProjectChange, Scan, Settings
from xmflow.trust import checkpoint
from xmflow.trust.checkpoint import Checkpoint
from xmflow.trust.conformance import SKEW, invoice_numbers_used_once, judge, outside_xmflow

__all__ = ["Finding", "Report", "report", "verify"]

_T = TypeVar("_T")
TEMPLATES = "templates/"  # the workspace's own form templates (rendering.py reads them)
UNAUTHENTICATED = N_(
    "identities are taken from each commit's author and are not authenticated: xmflow.yaml does not "
    "require signed commits, so anyone who can commit can set GIT_AUTHOR_EMAIL to another person's "
    "(the admin's too). Turn on require_signed_commits (README: Running the server hook), and run the "
    "server's hook where the server says who pushes"
)  # the English, as scripts and tests name it


def unauthenticated() -> str:
    """:data:`UNAUTHENTICATED` in the language in use (a note of `verify`)."""
    return _(
        "identities are taken from each commit's author and are not authenticated: xmflow.yaml does not "
        "require signed commits, so anyone who can commit can set GIT_AUTHOR_EMAIL to another person's "
        "(the admin's too). Turn on require_signed_commits (README: Running the server hook), and run the "
        "server's hook where the server says who pushes"
    )


@dataclass(frozen=True)
class Report:
    """What `verify` found: the findings, those an admin acknowledged (with why), and notes."""

    rev: str
    findings: list[Finding]
    acknowledged: list[tuple[Finding, str]]
    notes: list[str]
    replayed: int = 0  # the commits replayed this time
    resumed: str = ""  # the commit it went on from (a checkpoint), "" from the first

    def as_json(self) -> dict[str, Any]:
        return {
            "rev": self.rev,
            "findings": [f.as_json() for f in self.findings],
            "acknowledged": [{**f.as_json(), "why": why} for f, why in self.acknowledged],
            "notes": self.notes,
            "replayed": self.replayed,
            "resumed_from": self.resumed or None,
        }


@dataclass
class Tree:
    """The files of the workspace as the replay has reached them (path → blob id), the trusted
    versions of the settings, their contents and what was parsed from them, each read once."""

    root: Path
    files: dict[str, str] = field(default_factory=dict)
    trusted: dict[str, str] = field(default_factory=dict)  # settings path → blob, as an admin left them
    invoices: dict[str, str] = field(default_factory=dict)  # each invoice number so far (casefolded) → its project
    blobs: dict[str, bytes] = field(default_factory=dict)
    _parsed: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def text(self, blob: str | None, name: str) -> str | None:
        """A settings file's text (None: no such file); not UTF-8, or one larger than any of
        xmflow's that no replayed commit read (committed before a checkpoint, named after it),
        is an error naming it."""
        if not blob:
            return None
        if blob not in self.blobs:
            size = store.blob_sizes(self.root, [blob]).get(blob, ("", 0))[1]
            if size > yamlio.MAX_BYTES:
                raise RecordError(name, too_large(size, yamlio.MAX_BYTES))
        return yamlio.decode(self.blobs[blob], name)

    def settings(self, files: dict[str, str] | None = None) -> Settings:
        """The settings, process and people of *files* (default: the trusted ones), parsed once
        per version of each."""
        files = self.trusted if files is None else files
        config = self.config(files)
        process = self._once(
            ("process", config.process, files.get(config.process or "")), lambda: self._process(config, files)
        )
        people = self._once(("people", id(process), files.get(PEOPLE)), lambda: self._people(process, files))
        return self._once(("settings", id(config), id(process), id(people)), lambda: Settings(config, process, people))

    def config(self, files: dict[str, str]) -> Config:
        blob = files.get(CONFIG)
        return self._once(("config", blob), lambda: parse_config(self.text(blob, CONFIG) or "company: ''\n"))

    def acknowledgements(self) -> tuple[Acknowledgement, ...]:
        blob = self.trusted.get(ACKNOWLEDGEMENTS)
        return self._once(("acks", blob), lambda: acks_mod.parse(self.text(blob, ACKNOWLEDGEMENTS) or ""))

    def guarded(self, config: Config | None) -> set[str]:
        """The settings files: people, settings, acknowledgements and the process file (see
        :func:`is_guarded` for the others an admin alone changes)."""
        return {PEOPLE, CONFIG, ACKNOWLEDGEMENTS, *filter(None, [config.process if config else None])}

    def guarded_files(self, *configs: Config | None) -> dict[str, str]:
        """The files of the tree an admin alone changes, under the settings *configs* name."""
        exact = set().union(*(self.guarded(config) for config in configs))
        return {path: blob for path, blob in self.files.items() if is_guarded(path, exact)}

    def current_config(self) -> Config | None:
        try:
            return self.config(self.files)
        except XmflowError:
            return None

    def trust_current(self) -> None:
        """Take the settings as the tree has them now (an admin committed them)."""
        self.trusted = self.guarded_files(self.current_config())

    def start_batch(self, contents: Contents, projects: set[str]) -> None:
        """Hold the contents of the next commits to replay and, of what came before, only the
        settings and the files of the projects they change (read in one go): what verify holds
        does not grow with the history."""
        settings = set(self.trusted.values()) | {blob for path, blob in self.files.items() if "/" not in path}
        wanted = {
            blob
            for path, blob in self.files.items()
            if (parts := path.split("/"))[0] == "projects" and len(parts) == 3 and parts[1] in projects
        }
        held = {blob: data for blob, data in self.blobs.items() if blob in settings or blob in wanted}
        self.blobs = _Blobs(
            self.root, {**store.read_blobs(self.root, sorted(wanted - held.keys())), **held, **contents.blobs}
        )
        self._parsed = {key: value for key, value in self._parsed.items() if key[0] != "records"}

    def _once(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        if key not in self._parsed:
            self._parsed[key] = make()
        found: _T = self._parsed[key]
        return found

    def _process(self, config: Config, files: dict[str, str]) -> Process:
        if not config.process:
            return parser.load(None)
        if config.process not in files:
            raise RecordError(
                config.process, _("missing: xmflow.yaml names it as the process, and there is no such file")
            )
        return parser.parse(self.text(files[config.process], config.process) or "", config.process)

    def _people(self, process: Process, files: dict[str, str]) -> People:
        roles = {rid for rid, role in process.roles.items() if role.is_global and not role.external}
        return parse_people(self.text(files.get(PEOPLE), PEOPLE) or "people: []\n", roles)

    def project(self, process: Process, project_id: str, old: dict[str, str | None] | None = None) -> Project:
        """A project as this tree has it, or as it was before a commit changed the files in *old*."""

        def read(name: str) -> bytes | None:
            path = f"projects/{project_id}/{name}"
            blob = old[path] if old is not None and path in old else self.files.get(path)
            return self.blobs[blob] if blob else None

        parsed = self._once(("records", id(process)), ParsedRecords)
        # the blob ids key the records read (ChainMap reads self.files, never writes it: the cast is for its typing)
        blobs: Mapping[str, str | None] = (
            self.files if old is None else ChainMap(old, cast("dict[str, str | None]", self.files))
        )
        return records.project_from(process, project_id, read, parsed, blobs)


def verify(root: Path, rev: str = "HEAD", project: str | None = None) -> list[Finding]:
    """Every finding of the history up to *rev* that no admin acknowledged, oldest first (only
    *project*'s when given)."""
    return report(root, rev, project).findings


def report(root: Path, rev: str = "HEAD", project: str | None = None, full: bool = False) -> Report:
    """Verify the history up to *rev*: the findings, the acknowledged ones, and notes. It goes on
    from the nearest checkpoint on the line (see :mod:`xmflow.trust.checkpoint`) unless *full*."""
    tip = store.commit_of(root, rev) or ""
    if rev.startswith("^") or ".." in rev or not re.fullmatch(r"[0-9a-f]{40}(?:[0-9a-f]{24})?", tip):
        one = not (tip or ".." in rev or rev.startswith("^"))
        raise UsageError(
            _("--rev {rev}: no such commit here").format(rev=rev)
            if one
            else _(
                "--rev {rev}: not one commit (a range or an exclusion names none): give a branch, a tag or a commit id"
            ).format(rev=rev)
        )
    if store.is_shallow(root):
        raise UsageError(
            _(
                "this clone has only part of the history (a shallow clone), so it cannot be verified: "
                "fetch the rest with `git fetch --unshallow`, then verify again"
            )
        )
    start, commits = _start(root, tip, full)
    tree = Tree(root, dict(start.files), dict(start.trusted), dict(start.invoices))
    tree.blobs = _Blobs(root, {})
    # Every process file xmflow.yaml names on the way, known before the first batch: a file
    # committed before the setting that names it is read (within its limit) as one.
    processes = set(start.processes) | processes_named(root, walk(root, tip, CONFIG, since=start.commit or None))
    findings, replayed = list(start.findings), 0
    signed: dict[str | None, tuple[People, list[Commit]]] = {}  # each kept without its changes
    for batch in _batches(commits, _BATCH):
        contents = read_contents(root, batch, processes)  # only what verify reads, each within its limit
        processes |= contents.processes
        tree.start_batch(contents, _projects({c.path: c.blob for commit in batch for c in commit.changes}))
        unreadable = _unreadable(contents)
        for commit in contents.commits:
            findings += _commit_shape(commit) + unreadable.get(commit.sha, []) + _replay(tree, commit, signed)
        replayed += len(batch)
    findings += _signatures(root, signed)
    if replayed or start.commit != tip:
        checkpoint.save(root, Checkpoint(tip, tree.files, tree.trusted, tree.invoices, sorted(processes), findings))
    findings += _rewritten_shared_history(root)
    findings += _tip_settings(tree, tip)
    try:
        acked = tree.acknowledgements()
        notes = [] if tree.settings().config.require_signed_commits else [unauthenticated()]
    except XmflowError:
        acked, notes = (), []  # the trusted settings are broken: their findings say so
    mine = [f for f in findings if project is None or f.project == project]
    known = [
        (f, next(a.why for a in acked if a.covers(f.commit, f.kind, f.project)))
        for f in mine
        if any(a.covers(f.commit, f.kind, f.project) for a in acked)
    ]
    left = [f for f in mine if not any(f is k for k, _why in known)]
    return Report(rev, left, known, notes, replayed=replayed, resumed=start.commit)


def _start(root: Path, tip: str, full: bool) -> tuple[Checkpoint, Iterator[Commit]]:
    """Where the replay starts — the nearest checkpoint on *tip*'s first-parent line, or the
    beginning — and the commits from there to *tip*, read as git writes them."""
    found = None if full else checkpoint.find(root, tip)
    if found is not None:
        if found.commit == tip:
            return found, iter(())
        commits = stream(root, tip, since=found.commit)
        first = next(commits, None)
        if first is not None and first.parents[:1] == (found.commit,):
            return found, itertools.chain([first], commits)
        if isinstance(commits, Generator):  # (it is: stream reads as git writes; closing stops that git)
            commits.close()
    return Checkpoint(""), stream(root, tip)


_BATCH = 2000  # commits replayed per reading of their contents: what verify holds at once, however long the history


def _batches(commits: Iterator[Commit], size: int) -> Iterator[list[Commit]]:
    while batch := list(itertools.islice(commits, size)):
        yield batch


class _Blobs(dict[str, bytes]):
    """The contents verify read for the commits it replays; a blob from before them (the replay
    went on from a checkpoint) is read when first needed. It was within its limit when its
    commit was replayed, or it would be no file of the tree."""

    def __init__(self, root: Path, read: dict[str, bytes]) -> None:
        super().__init__(read)
        self.root = root

    def __missing__(self, blob: str) -> bytes:
        found = store.read_blobs(self.root, [blob])
        if blob not in found:
            raise StoreError(
                _(
                    "git object {blob} is missing from this repository: fetch it (git fetch), or verify with --full"
                ).format(blob=blob)
            )
        self[blob] = found[blob]
        return found[blob]


def _commit_shape(commit: Commit) -> list[Finding]:
    """What neither xmflow nor git's own commands make on xmflow's line of history: a merge (the
    history is a line, and verify follows the first parent: what a merge brings from its other
    parents is never judged, so twenty commits can vanish behind one), or a date that is no time."""
    findings = []
    if len(commit.parents) > 1:
        findings.append(
            Finding(
                commit.sha,
                _(
                    "is a merge (of {parents}): xmflow's history is a line, and what a "
                    "merge brings from its other parents is not verified; an admin puts the "
                    "line right (xmflow sync rebases, it never merges)"
                ).format(parents=", ".join(p[:7] for p in commit.parents)),
                commit.trailer("Project") or "",
                kind="merge",
            )
        )
    if commit.bad_dates:
        findings.append(
            Finding(
                commit.sha,
                _(
                    "its {dates} is no time (a timezone or a year git does not make: the "
                    "commit was made by hand); verify reads it as {at}"
                ).format(dates=pgettext("between two items", " and ").join(commit.bad_dates), at=commit.at.isoformat()),
                commit.trailer("Project") or "",
                kind="bad-date",
            )
        )
    return findings


def _unreadable(contents: Contents) -> dict[str, list[Finding]]:
    """By commit, the files verify could not read (not a file, too large): each a finding; for the
    replay, no file of the workspace."""
    findings: dict[str, list[Finding]] = {}
    for item in contents.unreadable:
        parts = item.path.split("/", 2)
        project = parts[1] if parts[0] == "projects" and len(parts) > 1 else ""
        file = parts[2] if project and len(parts) == 3 else item.path
        findings.setdefault(item.commit, []).append(
            Finding(
                item.commit,
                _("{why}; verify judges the commit as if it had removed the file").format(why=item.why),
                project,
                kind=item.kind,
                file=file,
            )
        )
    return findings


def _replay(tree: Tree, commit: Commit, signed: dict[str | None, tuple[People, list[Commit]]]) -> list[Finding]:
    """Apply one commit to the tree and judge it against the trusted settings before it."""
    findings: list[Finding] = []
    before = _settings(tree, commit, findings)
    people_blob = tree.trusted.get(PEOPLE)
    changed = {c.path: c.blob for c in commit.changes}
    old_files = {path: tree.files.get(path) for path in changed}
    for path, blob in changed.items():
        if blob is None:
            tree.files.pop(path, None)
        else:
            tree.files[path] = blob
    findings += _settings_change(tree, commit, before, changed)
    if before is None:
        return findings
    if commit.committed_at and commit.at > commit.committed_at + SKEW:
        findings.append(
            Finding(
                commit.sha,
                _("dated {at}, after it was committed ({committed}): a change made in the future").format(
                    at=commit.at.isoformat(), committed=commit.committed_at.isoformat()
                ),
                commit.trailer("Project") or "",
                kind="future-dated",
            )
        )
    findings += _lookalikes(commit, before)
    touched = _projects(changed)
    for project_id in sorted(touched):
        findings += _project_change(commit, before, old_files, tree, project_id)
    claimed = commit.trailer("Project")
    if claimed and claimed not in touched and commit.trailer("Decision") != Decision.RECORD.value:
        step, decision = commit.trailer("Step") or "", commit.trailer("Decision")
        findings.append(
            Finding(
                commit.sha,
                _(
                    "says it {does} but changes none of the project's files (a commit with no matching signature)"
                ).format(does=_claimed(decision, step)),
                claimed,
                step.partition(".")[0],
                step,
                kind="no-signoff",
            )
        )
    if before.config.require_signed_commits:
        signed.setdefault(people_blob, (before.people, []))[1].append(replace(commit, changes=()))
    return findings


def _claimed(decision: str | None, step: str) -> str:
    """What a commit's trailers say it does, for a message: ``approves contract.draft``."""
    if not decision:
        return _("acts on the project")
    step = step or _("a step")
    does = {
        Decision.APPROVE.value: _("approves {step}"),
        Decision.REJECT.value: _("rejects {step}"),
        Decision.REOPEN.value: _("reopens {step}"),
    }.get(decision)
    return does.format(step=step) if does else _("{decision}s {step}").format(decision=decision, step=step)


def _settings(tree: Tree, commit: Commit, findings: list[Finding]) -> Settings | None:
    """The trusted settings a commit was made under; None before the workspace exists."""
    if CONFIG not in tree.trusted:
        return None
    try:
        return tree.settings()
    except XmflowError as exc:
        findings.append(
            Finding(
                commit.sha,
                _("the settings before this commit cannot be read: {error}").format(error=exc.message),
                kind="settings-unreadable",
            )
        )
        return None


def _settings_change(
    tree: Tree, commit: Commit, before: Settings | None, changed: dict[str, str | None]
) -> list[Finding]:
    """people.yaml, xmflow.yaml, the process and the acknowledgements change only by an admin
    (SPEC §2). An admin's change is taken up whole; anyone else's is a finding and is not."""
    guarded = tree.guarded(before.config if before else None) | tree.guarded(tree.current_config())
    touched = sorted(path for path in changed if is_guarded(path, guarded))
    if not touched:
        return []
    if before is None:  # the workspace's first settings, or settings nobody can read: take them
        tree.trust_current()
        return []
    person = before.people.by_email(commit.email)
    if person is not None and "admin" in person.roles:
        tree.trust_current()
        return []
    who = person.label() if person else commit.email
    return [
        Finding(
            commit.sha,
            _(
                "{files} changed by {who}, who is not an admin (only an admin changes people.yaml, "
                "xmflow.yaml, the process and the acknowledgements); the change is not taken "
                "up"
            ).format(files=", ".join(touched), who=who),
            kind="settings-by-non-admin",
        )
    ]


def _fold(name: str) -> str:
    """A name as a disk that ignores letter case and how an accent is written (macOS, Windows) sees it."""
    return unicodedata.normalize("NFC", name).casefold()


def _lookalikes(commit: Commit, settings: Settings) -> list[Finding]:
    """A file added under a name that is xmflow's only when letter case is ignored (``Projects/``,
    ``projects/ID/Contract.yaml``, ``People.yaml``): on a Mac or Windows disk it is the same file
    as xmflow's, so checking the commit out there writes it over the real one, unjudged."""
    process = settings.process
    top = {
        _fold(n): n
        for n in (
            PEOPLE,
            CONFIG,
            ACKNOWLEDGEMENTS,
            "projects",
            TEMPLATES.rstrip("/"),
            *filter(None, [settings.config.process]),
        )
    }
    stage_files = {_fold(s.file): s.file for s in process.stages}
    findings = []
    for change in commit.changes:
        if change.blob is None:
            continue
        parts = change.path.split("/")
        first = top.get(_fold(parts[0]))
        stage = stage_files.get(_fold(parts[2])) if first == "projects" and len(parts) == 3 else None
        for real, named in ((first, parts[0]), (stage, parts[2] if len(parts) == 3 else "")):
            if real is not None and real != named:
                project = parts[1] if first == "projects" and len(parts) > 1 else ""
                findings.append(
                    Finding(
                        commit.sha,
                        _(
                            "{path} differs from xmflow's {real} only in letter case: on a "
                            "Mac or Windows disk it is the same file and would be written "
                            "over it; an admin removes it"
                        ).format(path=change.path, real=real),
                        project,
                        kind="lookalike-name",
                        file=change.path,
                    )
                )
                break
    return findings


def _projects(changed: dict[str, str | None]) -> set[str]:
    return {parts[1] for parts in (path.split("/") for path in changed) if parts[0] == "projects" and len(parts) > 2}


def _project_change(
    commit: Commit, settings: Settings, old_files: dict[str, str | None], tree: Tree, project_id: str
) -> list[Finding]:
    """One commit's change to one project, judged by the conformance checks."""
    base = f"projects/{project_id}/"
    if commit.trailer("Project") != project_id:
        files = sorted({c.path.split("/")[2] for c in commit.changes if c.path.startswith(base)})
        return [outside_xmflow(commit.sha, project_id, files, settings.process)]
    try:
        before, after = (
            tree.project(settings.process, project_id, old_files),
            tree.project(settings.process, project_id),
        )
    except XmflowError as exc:
        return [
            Finding(
                commit.sha,
                _("a record cannot be read: {error}").format(error=exc.message),
                project_id,
                kind="record-unreadable",
            )
        ]
    scans = tuple(
        Scan(c.path[len(base) :], old_files.get(c.path) is not None, c.digest if c.blob else None)
        for c in commit.changes
        if c.path.startswith(base + "files/")
    )  # read_contents took each digest
    change = ProjectChange(
        project_id, commit.sha, commit.email, commit.at, commit.trailers, settings, before, after, scans
    )
    return judge(change) + list(invoice_numbers_used_once(change, tree.invoices))


def _rewritten_shared_history(root: Path) -> list[Finding]:
    """A shared branch that was rewritten on the server (a forced push past or without its hook)
    shows in this clone's reflog of its remote-tracking ref, as git's own ``forced-update``:
    commits that were there, and any sign-off they held, are gone from it."""
    if store.is_bare(root):
        return []  # the server's own refs: its hook refuses a rewrite before it happens
    findings = []
    for ref in store.ref_names(root, "refs/remotes"):
        entries = store.reflog_entries(root, ref)
        for i, (sha, subject, _when) in enumerate(entries):
            if "forced-update" in subject:
                old = entries[i + 1][0] if i + 1 < len(entries) else ""
                said = (
                    _(
                        "{branch} was rewritten on the shared repository (git fetch took a forced update from "
                        "{old} to {new}): commits it held, and any sign-off in them, are gone from it; its admin "
                        "restores them"
                    )
                    if old
                    else _(
                        "{branch} was rewritten on the shared repository (git fetch took a forced update to {new}): "
                        "commits it held, and any sign-off in them, are gone from it; its admin restores them"
                    )
                )
                findings.append(
                    Finding(
                        sha,
                        said.format(branch=ref.removeprefix("refs/remotes/"), old=old[:7], new=sha[:7]),
                        kind="history-rewritten",
                    )
                )
    return findings


def _tip_settings(tree: Tree, tip: str) -> list[Finding]:
    """The settings of the last commit must be readable: every client reads them next."""
    if not tip or CONFIG not in tree.files:
        return []
    try:
        tree.settings(tree.files)
        acks_mod.parse(tree.text(tree.files.get(ACKNOWLEDGEMENTS), ACKNOWLEDGEMENTS) or "")
    except XmflowError as exc:
        return [
            Finding(
                tip,
                _(
                    "the settings of the last commit cannot be read, so no xmflow command can work on it: {error}"
                ).format(error=exc.message),
                kind="settings-unreadable",
            )
        ]
    return []


def _signatures(root: Path, by_people: dict[str | None, tuple[People, list[Commit]]]) -> list[Finding]:
    """Where xmflow.yaml requires signed commits: each is signed, well, by its author, with a key
    people.yaml listed at that commit (SSH; the allowed signers are made from it)."""
    findings = []
    problems = _signature_problems()
    for people, commits in by_people.values():
        allowed = "".join(f'{p.email} namespaces="git" {p.signing_key}\n' for p in people.persons if p.signing_key)
        checked = store.signatures(root, [c.sha for c in commits], allowed)
        for commit in commits:
            status, signer, _key = checked.get(commit.sha, ("N", "", ""))
            problem: str | None = problems.get(status) or _("has a signature git judges {status}").format(
                status=repr(status)
            )
            if status == "G":
                problem = (
                    None
                    if signer.lower() == commit.email.lower()
                    else _("is signed with {signer}'s key, but its author is {email}").format(
                        signer=signer, email=commit.email
                    )
                )
            if problem:
                findings.append(
                    Finding(
                        commit.sha,
                        _("{problem} (xmflow.yaml requires signed commits)").format(problem=problem),
                        commit.trailer("Project") or "",
                        kind="signature",
                    )
                )
    return findings


def _signature_problems() -> dict[str, str]:
    """What is wrong with a commit's signature, by git's verdict on it (``%G?``)."""
    return {
        "N": _("is not signed"),
        "B": _("has a bad signature"),
        "U": _("is signed with a key people.yaml does not list"),
        "E": _("is signed, but the signature cannot be checked (a key people.yaml does not list?)"),
        "X": _("has an expired signature"),
        "Y": _("is signed with an expired key"),
        "R": _("is signed with a revoked key"),
    }


# -- the settings in force ------------------------------------------------------------------
@dataclass(frozen=True)
class SettingsInForce:
    """The settings of a commit judged against the history: the trusted ones (as an admin last
    committed them; None before the first commit or where they cannot be read) and, when the
    commit's own differ, why they are not trusted."""

    trusted: Settings | None
    refusal: str | None
    paths: tuple[str, ...] = ()  # the settings' paths the answer was read from


def settings_in_force(root: Path, rev: str = "HEAD") -> SettingsInForce:
    """Replay the commits that changed the settings files (one path-limited `git log`): whose
    changes were an admin's, and whether the settings of *rev* are the ones an admin left."""
    if not store.commit_of(root, rev):
        return SettingsInForce(None, None)
    paths = tuple(_settings_paths(root, rev))
    contents = read_contents(root, walk(root, rev, *paths))
    commits = contents.commits
    tree = Tree(root)
    tree.blobs = contents.blobs
    refused: list[tuple[Commit, str]] = []
    for commit in commits:
        before = _settings(tree, commit, [])
        for path, blob in ((c.path, c.blob) for c in commit.changes):
            if blob is None:
                tree.files.pop(path, None)
            else:
                tree.files[path] = blob
        problems = _settings_change(tree, commit, before, {c.path: c.blob for c in commit.changes})
        if problems:
            refused.append((commit, problems[0].message))
    try:
        trusted: Settings | None = tree.settings() if CONFIG in tree.trusted else None
    except XmflowError:
        trusted = None
    trusted_config = trusted.config if trusted else None
    if tree.guarded_files(tree.current_config(), trusted_config) == tree.trusted or not refused:
        return SettingsInForce(trusted, None, paths)
    commit, why = refused[-1]
    return SettingsInForce(
        trusted,
        paths=paths,
        refusal=_(
            "commit {commit}: {why}. xmflow acts only on people, settings and the process as an admin last committed "
            "them; an admin sets it right by committing the files as they should be, or acknowledges the change, "
            "taking the settings up as they are (xmflow verify --acknowledge {commit} -m WHY)"
        ).format(commit=commit.short, why=why),
    )


def untrusted_settings(root: Path, rev: str = "HEAD") -> str | None:
    """Why the settings of *rev* are not the ones an admin last committed — naming the commit
    that changed them and who made it — or None when they are. Commands act only on settings an
    admin committed (a salesman who gives himself a role with plain git gains nothing)."""
    return kept_settings(root, rev)[0]


def kept_settings(root: Path, rev: str = "HEAD") -> tuple[str | None, People | None]:
    """:func:`untrusted_settings`, and the people of the settings an admin last committed.

    The answer is kept (.git/xmflow/settings.LANG-TAG.pickle: the refusal is a message, kept in
    the language it was made in) with the commit it was for and the settings' paths: for a later
    commit whose history since then changed none of them (a sign-off, an edit of a record: nearly
    every command), it stands, and only those few commits are looked at, not the whole history."""
    tip = store.commit_of(root, rev) or ""
    kept: KeptCache[tuple[str, tuple[str, ...], str | None, People | None]] | None = None
    try:
        kept = KeptCache(store.git_dir(root), "settings")
    except StoreError:
        kept = None
    last = kept.get("last") if kept is not None else None
    if tip and last is not None and _unchanged_since(root, last[0], tip, last[1]):
        return last[2], last[3]
    found = settings_in_force(root, tip or rev)
    people = found.trusted.people if found.trusted else None
    if tip and kept is not None and found.paths:
        kept.put("last", (tip, found.paths, found.refusal, people))
        kept.save()
    return found.refusal, people


def _unchanged_since(root: Path, commit: str, tip: str, paths: tuple[str, ...]) -> bool:
    """Whether *tip* is *commit*, or follows it on the first-parent line with no commit since
    that touches any of *paths* (or adds a `.gitattributes` anywhere)."""
    if commit == tip:
        return True
    if not store.is_ancestor(root, commit, tip):
        return False
    line = store.first_parent_commits(root, commit, tip)
    if not line or store.first_parent(root, line[-1]) != commit:
        return False  # not on the first-parent line from the commit
    return not store.first_parent_commits(root, commit, tip, *paths, ":(glob)**/.gitattributes", limit=1)


def is_guarded(path: str, settings: set[str]) -> bool:
    """Whether only an admin changes *path*: the settings files (and anything put where one
    goes), the workspace's own form templates (a form must print what the records say), and
    `.gitattributes` anywhere (it changes how git writes the files out in every clone)."""
    return (
        path in settings
        or path.split("/", 1)[0] in settings
        or path.startswith(TEMPLATES)
        or path.rsplit("/", 1)[-1] == ".gitattributes"
    )


def _settings_paths(root: Path, rev: str) -> list[str]:
    """The paths of the settings up to *rev*: people, settings, acknowledgements, each process
    file xmflow.yaml has named, templates, the top `.gitattributes` and each one deeper that *rev*
    holds. Deeper ones are named exactly (from *rev*'s tree): a pathspec like
    ``**/.gitattributes`` makes git open every folder of every commit, 13 s at 3,000 projects
    against 0.5 s. One a non-admin added and removed again is no setting of *rev*; verify, which
    replays every file, names it."""
    named = processes_named(root, walk(root, rev, CONFIG))
    listed = store.paths_at(root, rev)
    deeper = sorted(f":(literal){path}" for path in listed if path.endswith("/.gitattributes"))
    return [PEOPLE, CONFIG, ACKNOWLEDGEMENTS, *sorted(named), TEMPLATES.rstrip("/"), ".gitattributes", *deeper]

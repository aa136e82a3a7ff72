"""A change to a project as the checks judge it (:mod:`xmflow.trust.conformance`): before and after,
who made it, when, and what its commit says; and what a check finds wrong with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from xmflow.i18n import _
from xmflow.model import Config, Decision, People, Person, Project, Signoff
from xmflow.procedure.process import Process
from xmflow.rules.project import ProjectView


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a change: which commit, project, stage and step, what, and its kind
    (a short name an admin can acknowledge it by)."""

    commit: str
    message: str
    project: str = ""
    stage: str = ""
    step: str = ""
    clause: str = ""
    kind: str = ""
    file: str = ""  # the file of the project it is about, when one (``contract.yaml``, ``files/…``)

    def __str__(self) -> str:
        where = " ".join(filter(None, [self.project, self.stage, f"({self.step})" if self.step else ""]))
        text = (
            _("{message} (clause {clause})").format(message=self.text, clause=self.clause) if self.clause else self.text
        )
        kind = f" [{self.kind}]" if self.kind else ""
        commit = _("commit {commit}").format(commit=self.commit[:7]) if self.commit else _("working tree")
        return f"{commit}{' · ' + where if where else ''}: {text}{kind}"

    @property
    def text(self) -> str:
        """The message, with the file it is about."""
        return f"{self.file}: {self.message}" if self.file else self.message

    def as_json(self) -> dict[str, str]:
        return {
            "commit": self.commit,
            "project": self.project,
            "stage": self.stage,
            "step": self.step,
            "clause": self.clause,
            "kind": self.kind,
            "file": self.file,
            "message": self.text,
        }


@dataclass(frozen=True)
class Settings:
    """The workspace's rules a change was made under: its settings, process and people."""

    config: Config
    process: Process
    people: People


@dataclass(frozen=True)
class Scan:
    """A file under a project's ``files/`` that a change added, changed or removed."""

    path: str  # inside the project's folder: ``files/…``
    existed: bool  # it was there before the change
    sha256: str | None  # the SHA-256 of its new content (None: removed)


@dataclass(frozen=True)
class ProjectChange:
    """One change to one project: before and after, who, when, and what its commit says."""

    project: str
    commit: str  # its commit; "" for the working tree's pending change
    email: str  # its author (pending: whoever is about to commit it; "" unknown)
    at: datetime  # when its author made it
    trailers: dict[str, str] | None  # its commit's Xmflow- trailers; None: not committed yet
    settings: Settings
    before: Project
    after: Project
    scans: tuple[Scan, ...] = ()
    _view: dict[str, ProjectView] = field(default_factory=dict, compare=False, repr=False)

    @property
    def process(self) -> Process:
        return self.settings.process

    @property
    def pending(self) -> bool:
        return self.trailers is None

    def trailer(self, key: str) -> str | None:
        return (self.trailers or {}).get(f"Xmflow-{key}")

    @cached_property
    def author(self) -> Person | None:
        return self.settings.people.by_email(self.email) if self.email else None

    def view(self, which: str) -> ProjectView:
        """The project ``before`` or ``after`` the change, seen through the process."""
        if which not in self._view:
            project = self.before if which == "before" else self.after
            self._view[which] = ProjectView(project, self.process, self.settings.config)
        return self._view[which]

    @cached_property
    def created(self) -> bool:
        """The change opens the project: nothing of it existed before."""
        return not any(r.exists for r in self.before.records.values())

    @cached_property
    def added(self) -> list[Signoff]:
        """The sign-offs the change appends (of stages whose earlier sign-offs it kept)."""
        found: list[Signoff] = []
        for stage in self.process.stages:
            old, new = self.before.record(stage.id).signoffs, self.after.record(stage.id).signoffs
            if new[: len(old)] == old:
                found += new[len(old) :]
        return found

    @cached_property
    def decision(self) -> str:
        """What the change does: its commit's Xmflow-Decision, or for a pending change what the
        sign-off it adds says (a reopen when it adds only reopens, a record when it adds none)."""
        if not self.pending:
            return self.trailer("Decision") or ""
        signs = [s for s in self.added if s.decision is not Decision.REOPEN]
        if signs:
            return signs[0].decision.value
        return Decision.REOPEN.value if self.added else Decision.RECORD.value

    def finding(
        self, message: str, kind: str, stage: str = "", step: str = "", clause: str = "", file: str = ""
    ) -> Finding:
        return Finding(self.commit, message, self.project, stage, step, clause, kind, file)

"""Acting in a workspace: who, when, and the one way a change is written and committed."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from xmflow import records, store
from xmflow.errors import StoreError, UsageError
from xmflow.model import Person, Project, Signoff, StageRecord
from xmflow.rules import ProjectView
from xmflow.workspace import CONFIG, PEOPLE, Workspace

_FIXED_TIME: ContextVar[datetime | None] = ContextVar("xmflow_fixed_time", default=None)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_DIVIDER = re.compile(r"^---", re.M)  # git interpret-trailers stops at such a line


def now() -> datetime:
    """The current time, timezone-aware (fixed inside :func:`fixed_time`)."""
    return _FIXED_TIME.get() or datetime.now().astimezone()


@contextlib.contextmanager
def fixed_time(when: datetime) -> Iterator[None]:
    """Act at *when*: the demo replays its script at the times it names, tests fix their clock.
    Not reachable from the command line, so nobody backdates a sign-off by a setting."""
    token = _FIXED_TIME.set(when)
    try:
        yield
    finally:
        _FIXED_TIME.reset(token)


def single_line(value: str | None, what: str) -> str | None:
    """A value that goes into a commit trailer or subject: one line, no control characters."""
    if value is None:
        return None
    if _CONTROL.search(value):
        raise UsageError(f"{what} must be a single line of text")
    return value.strip()


@dataclass
class Session:
    """Who is acting, where, and when."""

    ws: Workspace
    actor: Person
    at: datetime = field(default_factory=now)

    @classmethod
    def start(cls, ws: Workspace) -> Session:
        return cls(ws, ws.actor())

    def project_to_change(self, project_id: str) -> Project:
        """Load a project that is about to change. Refuses while its files, people.yaml,
        xmflow.yaml or the process file hold uncommitted edits: a change never builds on (or
        sweeps up) an edit made by hand, nor on roles nobody committed."""
        project = self.ws.project(project_id)
        self.require_clean(f"projects/{project_id}")
        return project

    def require_clean(self, *paths: str) -> None:
        settings = [CONFIG, PEOPLE, *([self.ws.config.process] if self.ws.config.process else [])]
        dirty = store.dirty_paths(self.ws.root, [*settings, *paths])
        if dirty:
            raise StoreError("uncommitted changes in " + ", ".join(dirty) +
                             ": commit them with git or discard them (git checkout -- FILE) first")

    def view(self, project: Project) -> ProjectView:
        return ProjectView(project, self.ws.process, self.ws.config)

    def commit(self, project_id: str, changed: dict[str, StageRecord], subject: str,
               trailers: dict[str, str | None], body: str | None = None,
               extra: dict[str, bytes] | None = None) -> str:
        """Write the changed stage records (and any extra files) and commit them as the person
        acting. Each record is read back before anything is written, so no change can leave a
        file that xmflow itself would refuse to read."""
        process = self.ws.process
        files: dict[str, bytes | None] = {}
        for stage_id, rec in changed.items():
            stage = process.stage(stage_id)
            text = records.dump_record(stage, rec)
            records.parse_record(stage, text, rec.path)
            files[rec.path] = text.encode("utf-8")
        files.update(extra or {})
        msg = message(subject, {"Xmflow-Project": project_id, **trailers}, body)
        return store.commit_files(self.ws.root, files, msg, store.Author(self.actor.name, self.actor.email), self.at)


@dataclass(frozen=True)
class Result:
    """What a change did: the project, the commit, and anything the user should know."""

    project: str
    commit: str
    summary: str
    signoff: Signoff | None = None
    notes: tuple[str, ...] = ()


def message(subject: str, trailers: dict[str, str | None], body: str | None = None) -> str:
    """A commit message: one subject line, the note if any, then the Xmflow- trailers as the
    last paragraph, where `git interpret-trailers --parse` finds them."""
    for key, value in trailers.items():
        single_line(value, key)
    if body and _DIVIDER.search(body):
        raise UsageError("a note may not have a line starting with --- (git would read it as the end of the message)")
    lines = [f"{key}: {value}" for key, value in trailers.items() if value]
    parts = [" ".join(subject.split())] + ([body.strip()] if body and body.strip() else []) + ["\n".join(lines)]
    return "\n\n".join(parts) + "\n"

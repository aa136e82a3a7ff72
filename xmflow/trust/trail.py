"""`xmflow log`: the audit trail of the projects, read from git history in one pass — who did
what, in which role, when, with what decision and reason, the client's signatory and scan, how
long each step waited, and the reject loops (3.5.2, 3.5.3)."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from xmflow.model import People
from xmflow.procedure.process import Process
from xmflow.records.history import Commit
from xmflow.records.logindex import Logged, logged

OUTSIDE = "outside"  # a change made with plain git, not through xmflow (verify names it)


@dataclass(frozen=True)
class Entry:
    """One change of a project: a sign-off, a reject, a reopen or a change of its records."""

    commit: str
    at: datetime
    project: str
    decision: str
    step: str | None
    role: str | None
    who: str  # the person's name (their id when no longer in people.yaml)
    on_behalf_of: str | None
    signatory: str | None
    evidence: str | None
    note: str
    subject: str
    waited: timedelta | None  # since the step could first be signed: what it follows was done

    def as_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "at": self.at.isoformat(),
            "project": self.project,
            "decision": self.decision,
            "step": self.step,
            "role": self.role,
            "who": self.who,
            "on_behalf_of": self.on_behalf_of,
            "signatory": self.signatory,
            "evidence": self.evidence,
            "note": self.note,
            "subject": self.subject,
            "waited_days": round(self.waited.total_seconds() / 86400, 2) if self.waited is not None else None,
        }


@dataclass(frozen=True)
class Loop:
    """A reject and what came of it: the step sent back, and when it was signed again."""

    project: str
    step: str
    rejected_at: datetime
    by: str
    reason: str
    back_to: str
    resolved_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "step": self.step,
            "rejected_at": self.rejected_at.isoformat(),
            "by": self.by,
            "reason": self.reason,
            "back_to": self.back_to,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }


class Trail:
    """The audit trail of every project, or of one, oldest first, read as git writes the history:
    iterate it once for its entries (those made on or after *since*, the *last* of them), and then
    :attr:`loops` holds the reject loops still open then or begun since. What is held at once is
    a commit and what each project's waits are measured from, not the history (with *last*: the
    last entries)."""

    def __init__(
        self,
        root: Path,
        process: Process,
        people: People,
        project: str | None = None,
        last: int | None = None,
        since: date | None = None,
    ) -> None:
        self.root, self.process, self.people, self.project = root, process, people, project
        self.last, self.since = last, since
        self._loops: list[Loop] = []
        self._start: datetime | None = None

    def __iter__(self) -> Iterator[Entry]:
        entries = (e for e in self._all() if self.since is None or e.at.date() >= self.since)
        if self.last is None:
            yield from entries
            return
        kept = collections.deque(entries, maxlen=self.last)  # waits are measured on the whole trail
        self._start = kept[0].at if kept else None
        yield from kept

    @property
    def loops(self) -> list[Loop]:
        """The reject loops, once the entries are read (see the class)."""
        loops = self._loops
        if self.since is not None:
            day = self.since
            loops = [
                loop
                for loop in loops
                if loop.rejected_at.date() >= day or loop.resolved_at is None or loop.resolved_at.date() >= day
            ]
        if self.last is not None:
            start = self._start
            loops = [
                loop for loop in loops if start is not None and (loop.resolved_at is None or loop.resolved_at >= start)
            ]
        return loops

    def _all(self) -> Iterator[Entry]:
        process, project = self.process, self.project
        ready: dict[tuple[str, str], datetime] = {}  # (project, step) → when it was signed, or sent back to
        last: dict[str, datetime] = {}  # project → its previous change
        looping: dict[tuple[str, str], list[int]] = {}  # (project, step) → its rejects not signed again yet
        self._loops = []
        for commit, pid in _changes(logged(self.root, project), project):
            ours = commit.trailer("Project") == pid
            step = commit.trailer("Step") if ours else None
            decision = (commit.trailer("Decision") or "") if ours else OUTSIDE
            entry = _entry(commit, pid, step, decision, self.people, _waited(process, commit, pid, step, ready, last))
            if step and decision == "approve":
                ready[(pid, step)] = commit.at
                for i in looping.pop((pid, step), []):  # each reject of it is signed again now
                    self._loops[i] = replace(self._loops[i], resolved_at=commit.at)
            elif step and decision == "reject" and process.has_step(step):
                back = process.step(step).on_reject
                ready[(pid, f"sent back to {back.to if back else step}")] = commit.at
                looping.setdefault((pid, step), []).append(len(self._loops))
                self._loops.append(Loop(pid, step, commit.at, entry.who, entry.note, back.to if back else step, None))
            last[pid] = commit.at
            yield entry


def trail(root: Path, process: Process, people: People, project: str | None = None) -> tuple[list[Entry], list[Loop]]:
    """The audit trail (oldest first) and the reject loops of every project, or of one."""
    found = Trail(root, process, people, project)
    return list(found), found.loops


def _changes(commits: Iterable[Logged], project: str | None) -> Iterator[tuple[Commit, str]]:
    """Each commit with each project whose files it changed: what its trailers claim is not
    enough to appear (a commit that changes nothing did nothing), and a change made with plain
    git appears too, as made outside xmflow."""
    for found in commits:
        for pid in found.projects:
            if project is None or pid == project:
                yield found.commit, pid


def _entry(
    commit: Commit, pid: str, step: str | None, decision: str, people: People, waited: timedelta | None
) -> Entry:
    person = people.by_email(commit.email)
    deputy = commit.trailer("On-Behalf-Of")
    deputy_person = people.by_id(deputy) if deputy else None
    return Entry(
        commit.sha,
        commit.at,
        pid,
        decision,
        step,
        commit.trailer("Role"),
        person.name if person else commit.author,
        deputy_person.name if deputy_person else deputy,
        commit.trailer("Signatory"),
        commit.trailer("Evidence"),
        commit.body,
        commit.subject,
        waited,
    )


def _waited(
    process: Process,
    commit: Commit,
    pid: str,
    step: str | None,
    ready: dict[tuple[str, str], datetime],
    last: dict[str, datetime],
) -> timedelta | None:
    """How long a sign-off waited: since the latest of the steps it follows was signed or a reject
    sent the work back to it (or, when nothing of the kind happened yet, since the project's
    previous change)."""
    if not step or not process.has_step(step):
        return None
    keys = [(pid, pre.step) for pre in process.step(step).after] + [(pid, f"sent back to {step}")]
    since = [ready[key] for key in keys if key in ready]
    start = max(since) if since else last.get(pid)
    return commit.at - start if start else None

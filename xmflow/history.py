"""The audit trail as git keeps it: a project's commits with their Xmflow- trailers, read in
one pass, and the sign-offs of the stage files matched to the commits that made them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from xmflow import store
from xmflow.model import Signoff
from xmflow.values import parse_time

_FIELDS = "%H%x1f%an%x1f%ae%x1f%aI%x1f%(trailers:only,unfold)%x1e"


@dataclass(frozen=True)
class Commit:
    """One commit of the history: who, when, and its Xmflow- trailers."""

    sha: str
    author: str
    email: str
    at: datetime
    trailers: dict[str, str]

    @property
    def short(self) -> str:
        return self.sha[:7]

    def trailer(self, key: str) -> str | None:
        return self.trailers.get(f"Xmflow-{key}")


def project_commits(root: Path, project_id: str) -> list[Commit]:
    """The commits that touched a project's folder, newest first (one `git log`)."""
    return [_commit(entry) for entry in store.log(root, _FIELDS, f"projects/{project_id}").split("\x1e")
            if entry.strip()]


def _commit(entry: str) -> Commit:
    sha, author, email, at, trailer_text = entry.strip("\n").split("\x1f")
    trailers: dict[str, str] = {}
    for line in trailer_text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.startswith("Xmflow-"):
            trailers.setdefault(key.strip(), value.strip())
    return Commit(sha, author, email, parse_time(at), trailers)


def signoff_commit(commits: list[Commit], project_id: str, signoff: Signoff, email: str) -> Commit | None:
    """The commit that made a sign-off: by the signer (*email*), at the same time, with the same
    project, step, decision and role in its trailers."""
    for commit in commits:
        if (commit.at == signoff.at and commit.email.lower() == email.lower() and commit.trailer("Project") == project_id
                and commit.trailer("Step") == signoff.step and commit.trailer("Decision") == signoff.decision.value
                and commit.trailer("Role") == signoff.role):
            return commit
    return None

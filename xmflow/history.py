"""The audit trail as git keeps it: a project's commits with their Xmflow- trailers, read in
one pass, and the sign-offs of the stage files matched to the commits that made them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from xmflow import store
from xmflow.model import Signoff
from xmflow.values import parse_time

_WALK = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%(trailers:only,unfold)%x1f%s%x1f%b%x1f"
_ZERO = "0" * 40


@dataclass(frozen=True)
class Change:
    """A file a commit added, changed or deleted; ``blob`` is its new content's id (None: deleted)."""

    path: str
    blob: str | None


@dataclass(frozen=True)
class Commit:
    """One commit of the history: who, when, its Xmflow- trailers and (from :func:`walk`) the
    files it changed and its message."""

    sha: str
    author: str
    email: str
    at: datetime
    trailers: dict[str, str]
    parents: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    changes: tuple[Change, ...] = ()
    committed_at: datetime | None = None   # the committer's date (a rebase moves it, not the author's)

    @property
    def short(self) -> str:
        return self.sha[:7]

    def trailer(self, key: str) -> str | None:
        return self.trailers.get(f"Xmflow-{key}")


def project_commits(root: Path, project_id: str) -> list[Commit]:
    """The commits that changed a project's folder, oldest first (one `git log`)."""
    return walk(root, "HEAD", f"projects/{project_id}")


def _trailers(text: str) -> dict[str, str]:
    """The Xmflow- trailers as git parsed them, by their canonical names (git matches keys
    case-insensitively, so does this)."""
    trailers: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        canonical = "-".join(part.capitalize() for part in key.strip().split("-"))
        if sep and canonical.startswith("Xmflow-"):
            trailers.setdefault(canonical, value.strip())
    return trailers


def walk(root: Path, rev: str = "HEAD", *paths: str) -> list[Commit]:
    """Every commit from the first to *rev* (the first-parent line) that changed *paths* (all
    of them when none are given), oldest first, with the files each changed and its message:
    in one ``git log``."""
    commits = []
    for entry in store.log_raw(root, _WALK, rev, *paths).split("\x1e"):
        if not entry.strip():
            continue
        sha, parents, author, email, at, committed, trailer_text, subject, body, raw = entry.split("\x1f", 9)
        changes = []
        for line in raw.splitlines():
            if line.startswith(":"):
                meta, _, path = line.partition("\t")
                new_blob = meta.split()[3]
                changes.append(Change(path, None if new_blob == _ZERO else new_blob))
        commits.append(Commit(sha, author, email, parse_time(at), _trailers(trailer_text), tuple(parents.split()),
                              subject, _note(body), tuple(changes), parse_time(committed)))
    return commits


def _note(body: str) -> str:
    """A message's note: its body without the closing paragraph of trailers."""
    paragraphs = body.strip().split("\n\n")
    if paragraphs and all(":" in line for line in paragraphs[-1].splitlines()):
        paragraphs = paragraphs[:-1]
    return "\n\n".join(paragraphs).strip()


def signoff_commit(commits: list[Commit], project_id: str, signoff: Signoff, email: str) -> Commit | None:
    """The commit that made a sign-off: by the signer (*email*), at the same time, with the same
    project, step, decision and role in its trailers."""
    for commit in commits:
        if (commit.at == signoff.at and commit.email.lower() == email.lower() and commit.trailer("Project") == project_id
                and commit.trailer("Step") == signoff.step and commit.trailer("Decision") == signoff.decision.value
                and commit.trailer("Role") == signoff.role):
            return commit
    return None

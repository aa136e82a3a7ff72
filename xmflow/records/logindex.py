"""The history read once: every commit of the first-parent line, with the projects whose files
it changed, kept in ``.git/xmflow/history/`` for `log` and for the commits the forms print.

Reading the history is git's most costly work here: `git log --raw` diffs each commit's tree with
its parent's, and with thousands of projects in one folder that is most of a minute for 200,000
commits. Commits never change, so what was read is kept, and each command reads only the commits
made since (when HEAD descends from the commit the index was made for; else it is made again):

- ``commits.jsonl``: one line per commit, oldest first (streamed back: memory of one line);
- ``signed/PROJECT.jsonl``: the commits that changed a project and carry its id in their
  trailers, where :func:`xmflow.records.history.signoff_commit` looks for a sign-off's commit;
- ``HEAD``: the commit the index is made for and how many bytes of each file that covers (what a
  command killed while adding wrote beyond is cut off by the next).

It only ever holds what git printed; it is not evidence (``verify`` reads git itself), and a file
that cannot be read is made again from the history.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from xmflow.git import store
from xmflow.records.history import Commit, stream
from xmflow.records.workspace import valid_project_id

_VERSION = "1"


@dataclass(frozen=True)
class Logged:
    """A commit of the line and the projects whose files it changed (sorted)."""

    commit: Commit
    projects: tuple[str, ...]


def touched(commit: Commit) -> tuple[str, ...]:
    """The projects whose files a commit changed: what it did, whatever its trailers claim."""
    return tuple(
        sorted(
            {
                parts[1]
                for parts in (c.path.split("/") for c in commit.changes)
                if parts[0] == "projects" and len(parts) > 2
            }
        )
    )


def logged(root: Path, project: str | None = None) -> Iterator[Logged]:
    """Every commit to HEAD that changed a project's files (or *project*'s), oldest first."""
    folder = _folder(root)
    given = 0
    if folder is not None:
        try:
            with _locked(folder):  # held while it is read: nobody makes it again meanwhile
                _bring_up_to_date(root, folder)
                for line in _lines(folder / "commits.jsonl", _covered(folder)["commits.jsonl"]):
                    found = _logged(line)
                    if project is None or project in found.projects:
                        given += 1
                        yield found
            return
        except (OSError, ValueError, KeyError, TypeError):  # a broken index: git's history, where it broke off
            with contextlib.suppress(OSError):
                (folder / "HEAD").unlink()
    yield from itertools.islice(_walked(root, project), given, None)


def _walked(root: Path, project: str | None) -> Iterator[Logged]:
    for commit in stream(root, "HEAD", f"projects/{project}") if project else stream(root):
        found = Logged(commit, touched(commit))
        if found.projects:
            yield found


def signoff_commits(root: Path, project_id: str) -> list[Commit]:
    """The commits that changed a project's files and name it in their trailers, oldest first:
    where :func:`xmflow.records.history.signoff_commit` finds a sign-off's commit."""
    folder = _folder(root)
    if folder is not None and valid_project_id(project_id):
        try:
            with _locked(folder):
                _bring_up_to_date(root, folder)
                name = f"signed/{project_id}.jsonl"
                size = _covered(folder).get(name, 0)
                return [_logged(line).commit for line in _lines(folder / name, size)] if size else []
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return [c for c in (found.commit for found in _walked(root, project_id)) if c.trailer("Project") == project_id]


def _folder(root: Path) -> Path | None:
    git_dir = root / ".git"
    return git_dir / "xmflow" / "history" if git_dir.is_dir() and store.head(root) else None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One command at a time adds to the index (readers wait for the few commits it adds)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _covered(folder: Path) -> dict[str, Any]:
    """What ``HEAD`` says: the commit the index is made for, and the bytes of each file it covers."""
    try:
        found = json.loads((folder / "HEAD").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) and found.get("version") == _VERSION else {}


def _bring_up_to_date(root: Path, folder: Path) -> None:
    tip = store.head(root)
    covered = _covered(folder)
    made_for = covered.get("commit") or ""
    if made_for == tip:
        return
    since = made_for if made_for and store.is_ancestor(root, made_for, tip or "") else None
    signed = folder / "signed"
    if since is None:  # made again from the first commit
        shutil.rmtree(signed, ignore_errors=True)
        covered = {}
    signed.mkdir(exist_ok=True)
    with (folder / "commits.jsonl").open("ab") as commits:
        commits.truncate(int(covered.get("commits.jsonl", 0)))  # what a command killed while adding left
        for path in signed.iterdir():
            os.truncate(path, int(covered.get(f"signed/{path.name}", 0)))
        for commit in stream(root, "HEAD", since=since):
            projects = touched(commit)
            if not projects:
                continue
            line = _line(commit, projects)
            commits.write(line)
            claimed = commit.trailer("Project")
            if claimed in projects and valid_project_id(claimed or ""):
                with (signed / f"{claimed}.jsonl").open("ab") as handle:
                    handle.write(line)
    sizes = {f"signed/{p.name}": p.stat().st_size for p in signed.iterdir()}
    sizes["commits.jsonl"] = (folder / "commits.jsonl").stat().st_size
    tmp = folder / f"HEAD.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"version": _VERSION, "commit": tip, **sizes}), "utf-8")
    os.replace(tmp, folder / "HEAD")


def _line(commit: Commit, projects: tuple[str, ...]) -> bytes:
    item = [
        commit.sha,
        commit.author,
        commit.email,
        commit.at.isoformat(),
        commit.trailers,
        commit.subject,
        commit.body,
        projects,
    ]
    return (json.dumps(item, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")


def _lines(path: Path, size: int) -> Iterator[bytes]:
    """The lines of *path* within its first *size* bytes (what ``HEAD`` covers)."""
    with path.open("rb") as handle:
        read = 0
        for line in handle:
            read += len(line)
            if read > size:
                return
            yield line


def _logged(line: bytes) -> Logged:
    sha, author, email, at, trailers, subject, body, projects = json.loads(line.decode("utf-8", "surrogateescape"))
    commit = Commit(sha, author, email, datetime.fromisoformat(at), trailers, subject=subject, body=body)
    return Logged(commit, tuple(projects))

"""The one module that talks to git.

xmflow commits through git itself (not GitPython's index), so the user's hooks and commit
signing apply. A change is written and committed as one unit: if anything fails, the files
are put back as they were and nothing is committed.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from xmflow.errors import StoreError


@dataclass(frozen=True)
class Author:
    """Who a commit is by."""

    name: str
    email: str


def git(root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    """Run git in *root* and return its standard output; a failure becomes a StoreError."""
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, check=False)
    except FileNotFoundError:
        raise StoreError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
        verb = next((a for a in args if not a.startswith("-") and "=" not in a), "command")
        raise StoreError(f"git {verb} failed: {detail}")
    return proc.stdout


def toplevel(path: Path) -> Path | None:
    """The root of the git work tree containing *path*, or None."""
    out = git(path, "rev-parse", "--show-toplevel", check=False).strip()
    return Path(out) if out else None


def init(path: Path) -> None:
    """Make *path* a git repository (no-op when it already is the root of one)."""
    path.mkdir(parents=True, exist_ok=True)
    if toplevel(path) != path.resolve():
        git(path, "init", "-q")


def config_value(root: Path, key: str) -> str | None:
    """A git configuration value as seen from *root*, or None."""
    value = git(root, "config", "--get", key, check=False).strip()
    return value or None


def identity(root: Path) -> tuple[str, str]:
    """git's author identity (name, email) as seen from *root*; refuses when there is none."""
    email = os.environ.get("GIT_AUTHOR_EMAIL") or config_value(root, "user.email")
    name = os.environ.get("GIT_AUTHOR_NAME") or config_value(root, "user.name")
    if not email:
        raise StoreError("git does not know who you are: git config --global user.email YOU@EXAMPLE.COM "
                         "(and user.name)")
    return name or email.split("@")[0], email


def log_raw(root: Path, fmt: str, rev: str = "HEAD", *paths: str) -> str:
    """``git log --raw`` from *rev* back, oldest first, following the first parent (a merge shows
    as what it changed on the branch): each entry in *fmt*, then its changed files, one pass."""
    if not git(root, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip():
        return ""
    return git(root, "-c", "core.quotePath=false", "log", "--reverse", "--first-parent", "-m", "--raw",
               "--no-abbrev", "--no-renames", f"--format={fmt}", rev, "--", *paths)


def read_blobs(root: Path, ids: list[str]) -> dict[str, bytes]:
    """The contents of these blobs, through one ``git cat-file --batch``."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    proc = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], input="\n".join(wanted).encode() + b"\n",
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise StoreError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
    out, pos, found = proc.stdout, 0, {}
    for blob in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split()
        if len(header) < 3:  # "<id> missing"
            pos = end + 1
            continue
        size = int(header[2])
        found[blob] = out[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
    return found


def signatures(root: Path, commits: list[str], allowed_signers: str) -> dict[str, tuple[str, str, str]]:
    """How git judges the signatures of *commits* (``%G?``, signer, key) against an SSH
    allowed-signers file with this text."""
    if not commits:
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".allowed_signers", encoding="utf-8", delete=False) as f:
        f.write(allowed_signers)
    try:
        out = git(root, "-c", f"gpg.ssh.allowedSignersFile={f.name}", "log", "--no-walk=unsorted",
                  "--format=%H%x1f%G?%x1f%GS%x1f%GK", *commits)
    finally:
        os.unlink(f.name)
    found = {}
    for line in out.splitlines():
        sha, status, signer, key = (line.split("\x1f") + ["", "", ""])[:4]
        found[sha] = (status, signer, key)
    return found


def head(root: Path) -> str | None:
    """The commit checked out, or None before the first commit."""
    return git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).strip() or None


def is_bare(path: Path) -> bool:
    """Whether *path* is a bare repository (one people push to, with no working tree)."""
    return git(path, "rev-parse", "--is-bare-repository", check=False).strip() == "true"


def hooks_dir(path: Path) -> Path:
    """Where git looks for this repository's hooks (core.hooksPath honoured)."""
    found = Path(git(path, "rev-parse", "--git-path", "hooks").strip())
    return found if found.is_absolute() else path / found


def is_shallow(root: Path) -> bool:
    """Whether this clone lacks part of the history (``git clone --depth``)."""
    return git(root, "rev-parse", "--is-shallow-repository", check=False).strip() == "true"


def read_at(root: Path, rev: str, path: str) -> str | None:
    """A file's text as of a commit, or None when it did not exist there (or is not UTF-8 text)."""
    content = read_bytes_at(root, rev, path)
    try:
        return content.decode("utf-8") if content is not None else None
    except UnicodeDecodeError:
        return None


def read_bytes_at(root: Path, rev: str, path: str) -> bytes | None:
    """A file's bytes as of a commit (a scan, say), or None when it did not exist there."""
    out = subprocess.run(["git", "-C", str(root), "show", f"{rev}:{path}"], capture_output=True, check=False)
    return out.stdout if out.returncode == 0 else None


def dirty_paths(root: Path, paths: list[str]) -> list[str]:
    """Paths under *paths* with uncommitted changes (staged, unstaged or untracked)."""
    out = git(root, "-c", "core.quotePath=false", "status", "--porcelain", "--untracked-files=all", "--", *paths)
    return [line[3:] for line in out.splitlines() if line]


def commit_files(root: Path, files: dict[str, bytes | None], message: str, author: Author,
                 when: datetime | None = None) -> str:
    """Write *files* (relative path → content, None deletes) and commit exactly them.

    Refuses when any of them has uncommitted changes, so a sign-off never sweeps up an edit
    made by hand. Returns the new commit id.
    """
    paths = sorted(files)
    dirty = dirty_paths(root, paths)
    if dirty:
        raise StoreError("uncommitted changes in " + ", ".join(dirty) +
                         ": commit or discard them first (git status shows them)")
    before = {p: _read(root / p) for p in paths}
    new_dirs = _missing_dirs(root, paths)
    try:
        for rel, content in files.items():
            _write(root / rel, content)
        git(root, "add", "-A", "-f", "--", *paths)  # -f: a scan is evidence even where .gitignore says *.pdf
        git(root, "commit", "-q", "--no-edit", "-m", message, "--", *paths, env=_identity(root, author, when))
    except BaseException as exc:
        _restore(root, before, new_dirs)
        git(root, "reset", "-q", "--", *paths, check=False)
        if isinstance(exc, OSError):
            raise StoreError(f"cannot write {exc.filename or 'a file'}: {exc.strerror}") from None
        raise
    return git(root, "rev-parse", "HEAD").strip()


def _restore(root: Path, before: dict[str, bytes | None], new_dirs: set[Path]) -> None:
    """Put every file back as it was and remove the folders made, whatever else fails."""
    for rel, content in before.items():
        try:
            _write(root / rel, content)
        except OSError:
            continue
    for folder in sorted(new_dirs, key=lambda d: len(d.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _missing_dirs(root: Path, paths: list[str]) -> set[Path]:
    """The folders that writing *paths* would create (removed again if the commit fails)."""
    missing = set()
    for rel in paths:
        folder = (root / rel).parent
        while folder != root and not folder.exists():
            missing.add(folder)
            folder = folder.parent
    return missing


def _identity(root: Path, author: Author, when: datetime | None) -> dict[str, str]:
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}
    if "GIT_COMMITTER_EMAIL" not in os.environ and not config_value(root, "user.email"):
        env.update(GIT_COMMITTER_NAME=author.name, GIT_COMMITTER_EMAIL=author.email)
    if when is not None:
        stamp = when.isoformat(timespec="seconds")
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return env


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write(path: Path, content: bytes | None) -> None:
    """Replace a file atomically (write aside, then rename), or remove it."""
    if content is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.xmflow-tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)

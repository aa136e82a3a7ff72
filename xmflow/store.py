"""The one module that runs git.

xmflow commits through git itself (not GitPython's index), so the user's hooks and commit
signing apply. A change is one commit, there whole or not at all: `commit_files` hands it to
`xmflow.journal`, which builds the commit in a scratch index before anything in the working
tree is touched and keeps a journal that lets the next command finish a killed one. The git run
here takes no optional locks (``GIT_OPTIONAL_LOCKS=0``): reading never writes git's index.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from xmflow.errors import StoreError


@dataclass(frozen=True)
class Author:
    """Who a commit is by."""

    name: str
    email: str


def git(root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True,
        data: str | bytes | None = None, tied: bool = False) -> str:
    """Run git in *root* and return its standard output; a failure becomes a StoreError. *data*
    goes to its standard input; a *tied* git dies with xmflow (on Linux, see `_tie`)."""
    binary = isinstance(data, bytes)
    prefix, before_exec = _tie() if tied else ([], None)
    try:
        proc = subprocess.run([*prefix, "git", "-C", str(root), *args], input=data, capture_output=True,
                              text=not binary, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", **(env or {})},
                              check=False, preexec_fn=before_exec)
    except FileNotFoundError:
        raise StoreError("git is not installed or not on PATH") from None
    out, err = (proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")) if binary else \
        (proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        detail = (err or out).strip() or f"exit status {proc.returncode}"
        verb = next((a for a in args if not a.startswith("-") and "=" not in a), "command")
        raise StoreError(f"git {verb} failed: {detail}")
    return out


@functools.cache
def _tie() -> tuple[list[str], Callable[[], None] | None]:
    """How to start a git that the kernel kills when xmflow dies (Linux's ``PR_SET_PDEATHSIG``):
    a ``git commit`` left running after ``kill -9`` of xmflow would otherwise land its commit
    after the next command had found that it never did. util-linux's ``setpriv`` sets it for the
    git it starts; without it, the child sets it itself (slower: Python forks instead of
    spawning). Elsewhere there is no such thing, and git is started as it is."""
    if not sys.platform.startswith("linux"):
        return [], None
    setpriv = shutil.which("setpriv")
    if setpriv and subprocess.run([setpriv, "--pdeathsig", "KILL", "--", "true"], capture_output=True,
                                  check=False).returncode == 0:
        return [setpriv, "--pdeathsig", "KILL", "--"], None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return [], None
    parent = os.getpid()

    def tie() -> None:
        prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        if os.getppid() != parent:  # xmflow died before the tie was made
            os._exit(1)
    return [], tie


def git_dir(root: Path) -> Path:
    """The repository's own folder for this work tree: ``.git``, or a linked worktree's folder."""
    dot = root / ".git"
    if "GIT_DIR" not in os.environ:
        if dot.is_dir():
            return dot
        try:  # a linked worktree's `.git` file: "gitdir: PATH"
            text = dot.read_text(encoding="utf-8").strip()
        except OSError:
            text = ""
        if text.startswith("gitdir: "):
            return (root / text[len("gitdir: "):]).resolve()
    return Path(git(root, "rev-parse", "--absolute-git-dir").strip())


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


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    """Whether *older* is in the history of *newer* (git's own reachability, not commit dates)."""
    return subprocess.run(["git", "-C", str(root), "merge-base", "--is-ancestor", older, newer],
                          capture_output=True, check=False).returncode == 0


def commits_only_in(root: Path, rev: str, *others: str) -> list[str]:
    """The commits reachable from *rev* and from none of *others* (``--all`` for every ref), newest
    first, topologically. Counted exactly: git's ``A..B`` walks by commit date and, where clocks
    disagreed (a child dated before its parent), can list commits that both histories share."""
    mine = git(root, "rev-list", "--topo-order", rev).split()
    if not others:
        return mine
    theirs = set(git(root, "rev-list", *others).split())
    return [sha for sha in mine if sha not in theirs]


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
    return [path for _, path in changes(root, paths)]


def changes(root: Path, paths: list[str]) -> list[tuple[str, str]]:
    """Each uncommitted change under *paths*: its two-letter status (``??`` untracked) and path."""
    out = git(root, "status", "--porcelain", "-z", "--no-renames", "--untracked-files=all", "--", *paths)
    return [(entry[:2], entry[3:]) for entry in out.split("\0") if entry]


def refuse_hand_edits(root: Path, paths: list[str]) -> None:
    """Refuse while any of *paths* holds uncommitted changes, saying how to put each right: a
    project's files change only through xmflow (a commit of them made with plain git is a
    `verify` finding); people.yaml, xmflow.yaml and the process file are the admin's to commit."""
    found = changes(root, paths)
    if found:
        raise StoreError("uncommitted changes in " + ", ".join(path for _, path in found) + ": " +
                         "; ".join(_advice(found)))


def _advice(changes: list[tuple[str, str]]) -> list[str]:
    records = [path for code, path in changes if path.startswith("projects/") and code != "??"]
    strays = [path for code, path in changes if path.startswith("projects/") and code == "??"]
    settings = [path for code, path in changes if not path.startswith("projects/") and code != "??"]
    new_settings = [path for code, path in changes if not path.startswith("projects/") and code == "??"]
    advice = []
    if records:
        advice.append(f"put {_quoted(records)} back with `git restore --staged --worktree -- {_quoted(records)}`, "
                      "then make the change with `xmflow set` or `xmflow edit` (a project's files change only "
                      "through xmflow: a commit made with plain git is a `verify` finding)")
    if strays:
        advice.append(f"move {_quoted(strays)} out of the workspace (a scan of a signed paper goes in with "
                      "`xmflow sign … --evidence FILE`)")
    if settings:
        advice.append(f"if you are the admin, commit {_quoted(settings)} with git; if not, put it back with "
                      f"`git restore --staged --worktree -- {_quoted(settings)}`")
    if new_settings:
        advice.append(f"if you are the admin, commit {_quoted(new_settings)} with git; if not, remove it")
    return advice


def _quoted(paths: list[str]) -> str:
    return " ".join(shlex.quote(path) for path in paths)


def commit_files(root: Path, files: dict[str, bytes | None], message: str, author: Author,
                 when: datetime | None = None) -> str:
    """Commit *files* (relative path → content, None deletes) as one change, authored by
    *author*, and put them in the working tree; returns the new commit id. Refuses when any of
    them has uncommitted changes, so a change never sweeps up an edit made by hand. A change is
    there whole or not at all, even when the command is killed (see `xmflow.journal`)."""
    from xmflow import journal  # it runs its git through this module

    return journal.commit(root, files, message, author, when)


def identity_env(root: Path, author: Author, when: datetime | None) -> dict[str, str]:
    """The environment that makes git commit as *author* at *when* (and, where git knows no
    committer, as the author's committer too)."""
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}
    if "GIT_COMMITTER_EMAIL" not in os.environ and not config_value(root, "user.email"):
        env.update(GIT_COMMITTER_NAME=author.name, GIT_COMMITTER_EMAIL=author.email)
    if when is not None:
        stamp = when.isoformat(timespec="seconds")
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return env

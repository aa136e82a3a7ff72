"""The one module that runs git.

xmflow commits through git itself (not GitPython's index), so the user's hooks and commit
signing apply. A change is one commit, there whole or not at all: `xmflow.git.journal.commit`
builds the commit in a scratch index before anything in the working
tree is touched and keeps a journal that lets the next command finish a killed one. Every git
run here (:data:`GIT_ENV`) takes no optional locks, so reading never writes git's index, and
ignores replace refs (``refs/replace/``), so xmflow reads each commit as it is, not the one git
would show in its place.

What git prints of a commit that its author wrote (message, name, email, trailers) can hold any
byte, so it is never cut on a byte: `log_fields` cuts git's output on a random token made for that
call, which nothing written before it can hold, and reads changed paths NUL-separated.
"""

from __future__ import annotations

import codecs
import ctypes
import functools
import hashlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from xmflow.errors import StoreError
from xmflow.i18n import _

# The environment of every git xmflow runs: no optional locks (reading never writes the index) and
# no replace refs (a `refs/replace/` ref would make git show another commit in place of one).
GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_NO_REPLACE_OBJECTS": "1"}
# What `git log` is told, whatever the configuration says: no signature check, note or --follow
# printed into the fields, and messages in UTF-8.
_LOG_OPTIONS = ("--no-show-signature", "--no-notes", "--no-follow", "--encoding=UTF-8", "--no-color")


class GitError(StoreError):
    """git itself failed: the message says so in the reader's language, *detail* is what git
    printed (its own words, passed through as they are, never translated)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class Author:
    """Who a commit is by."""

    name: str
    email: str


def _git(
    root: Path,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    data: str | bytes | None = None,
    tied: bool = False,
) -> str:
    """Run git in *root* and return its standard output; a failure becomes a StoreError. *data*
    goes to its standard input; a *tied* git dies with xmflow (on Linux, see `_tie`)."""
    binary = isinstance(data, bytes)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    prefix, before_exec = _tie() if tied else ([], None)
    try:
        proc = subprocess.run(
            [*prefix, "git", "-C", str(root), *args],
            input=data,
            capture_output=True,
            env=environment(env),
            check=False,
            preexec_fn=before_exec,
        )
    except FileNotFoundError:
        raise StoreError(_("git is not installed or not on PATH")) from None
    # Text that is not UTF-8 (a crafted commit's name or message, a path) is kept byte for byte
    # as lone surrogates: passed back to git it names the same thing; shown, it is escaped.
    out = proc.stdout.decode("utf-8", "replace" if binary else "surrogateescape")
    err = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        detail = (err or out).strip() or _("exit status {code}").format(code=proc.returncode)
        verb = next((a for a in args if not a.startswith("-") and "=" not in a), "command")
        raise GitError(_("git {verb} failed: {detail}").format(verb=verb, detail=detail), detail)
    return out


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: xmflow's own (:data:`GIT_ENV`) over the process's, *extra* over both."""
    return {**os.environ, **GIT_ENV, **(extra or {})}


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
    if (
        setpriv
        and subprocess.run([setpriv, "--pdeathsig", "KILL", "--", "true"], capture_output=True, check=False).returncode
        == 0
    ):
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
            return (root / text[len("gitdir: ") :]).resolve()
    return Path(_git(root, "rev-parse", "--absolute-git-dir").strip())


def toplevel(path: Path) -> Path | None:
    """The root of the git work tree containing *path*, or None."""
    out = _git(path, "rev-parse", "--show-toplevel", check=False).strip()
    return Path(out) if out else None


def init(path: Path) -> None:
    """Make *path* a git repository (no-op when it already is the root of one)."""
    path.mkdir(parents=True, exist_ok=True)
    if toplevel(path) != path.resolve():
        _git(path, "init", "-q")


def config_value(root: Path, key: str) -> str | None:
    """A git configuration value as seen from *root*, or None."""
    value = _git(root, "config", "--get", key, check=False).strip()
    return value or None


def identity(root: Path) -> tuple[str, str]:
    """git's author identity (name, email) as seen from *root*; refuses when there is none."""
    email = os.environ.get("GIT_AUTHOR_EMAIL") or config_value(root, "user.email")
    name = os.environ.get("GIT_AUTHOR_NAME") or config_value(root, "user.name")
    if not email:
        raise StoreError(
            _("git does not know who you are: git config --global user.email YOU@EXAMPLE.COM (and user.name)")
        )
    return name or email.split("@")[0], email


def log_fields(
    root: Path, placeholders: Sequence[str], *args: str, config: dict[str, str] | None = None, revs: Sequence[str] = ()
) -> list[tuple[list[str], str]]:
    """``git log ARGS`` with each commit's *placeholders* (``%H``, ``%an``, ``%B``…): for each commit,
    the fields exactly as git printed them, and what git printed after them (``--raw``'s changes).
    The fields are cut on a random token made for this call: a commit message may hold any byte
    (the \\x1e and \\x1f xmflow once cut on included), but not a token made after it was written.
    *config* is git configuration for this run (``-c KEY=VALUE``); *revs*, commits given on
    standard input (``--stdin``), however many (a command line holds a few thousand at most)."""
    token = secrets.token_hex(16)
    options = [a for key, value in (config or {}).items() for a in ("-c", f"{key}={value}")]
    stdin = ("--stdin",) if revs else ()
    out = _git(
        root,
        *options,
        "log",
        *_LOG_OPTIONS,
        _log_format(token, placeholders),
        *args,
        *stdin,
        data="".join(f"{rev}\n" for rev in revs) if revs else None,
    )
    before, *chunks = out.split(f"{token}<")
    if before.strip():
        raise StoreError(
            _("git log printed what xmflow does not expect: {text}").format(text=repr(before.strip()[:200]))
        )
    return [_log_entry(chunk, token, len(placeholders)) for chunk in chunks]


def log_stream(root: Path, placeholders: Sequence[str], *args: str) -> Iterator[tuple[list[str], str]]:
    """:func:`log_fields` read as git writes it, one commit at a time: what is held at once is
    one commit, not the whole history. A git that fails raises once what it printed is read."""
    token = secrets.token_hex(16)
    start = f"{token}<"
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            ["git", "-C", str(root), "log", *_LOG_OPTIONS, _log_format(token, placeholders), *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=environment(),
        )
        assert proc.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        buffer, first = "", True
        try:
            while block := proc.stdout.read(1 << 16):
                buffer += decoder.decode(block)
                *complete, buffer = buffer.split(start)
                for chunk in complete:
                    if first:
                        first = False
                        if chunk.strip():
                            raise StoreError(
                                _("git log printed what xmflow does not expect: {text}").format(
                                    text=repr(chunk.strip()[:200])
                                )
                            )
                        continue
                    yield _log_entry(chunk, token, len(placeholders))
            buffer += decoder.decode(b"", final=True)
            if not first and buffer:
                yield _log_entry(buffer, token, len(placeholders))
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            detail = errors.read().decode("utf-8", "replace").strip() or _("exit status {code}").format(code=code)
            raise StoreError(_("git {verb} failed: {detail}").format(verb="log", detail=detail))


def _log_format(token: str, placeholders: Sequence[str]) -> str:
    return f"--format={token}<{f'{token}|'.join(placeholders)}{token}>"


def _log_entry(chunk: str, token: str, count: int) -> tuple[list[str], str]:
    fields, found, rest = chunk.partition(f"{token}>")
    values = fields.split(f"{token}|")
    if not found or len(values) != count:
        raise StoreError(_("git log printed a commit xmflow cannot read: {text}").format(text=repr(chunk[:200])))
    return values, rest


@dataclass(frozen=True)
class RawChange:
    """One file a commit changed, as ``git log --raw`` gives it: its new mode (``000000``:
    deleted), its new content's id and its path, verbatim."""

    mode: str
    blob: str
    path: str


def log_raw(
    root: Path, placeholders: Sequence[str], rev: str = "HEAD", *paths: str, since: str | None = None
) -> list[tuple[list[str], list[RawChange]]]:
    """``git log --raw`` from *rev* back (to *since*, not included), oldest first, following the
    first parent (a merge shows as what it changed on the branch): each commit's *placeholders*
    (see `log_fields`) and the files it changed, in one pass. Paths come NUL-separated, so any
    name is read as it is."""
    if not commit_of(root, rev):
        return []
    entries = log_fields(root, placeholders, *_raw_log_args(rev, since, paths))
    return [(fields, _raw_changes(rest)) for fields, rest in entries]


def _raw_log_args(rev: str, since: str | None, paths: Sequence[str]) -> tuple[str, ...]:
    """The arguments of `log_raw` and `log_raw_stream`: *rev* back to *since*, oldest first, on
    the first-parent line, each commit's changed files NUL-separated."""
    return (
        "-z",
        "--reverse",
        "--first-parent",
        "-m",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        rev,
        *([f"^{since}"] if since else []),
        "--",
        *paths,
    )


def log_raw_stream(
    root: Path, placeholders: Sequence[str], rev: str = "HEAD", *paths: str, since: str | None = None
) -> Iterator[tuple[list[str], list[RawChange]]]:
    """:func:`log_raw`, one commit at a time as git writes it (memory of one commit)."""
    if not commit_of(root, rev):
        return
    for fields, rest in log_stream(root, placeholders, *_raw_log_args(rev, since, paths)):
        yield fields, _raw_changes(rest)


def _raw_changes(text: str) -> list[RawChange]:
    """The ``:OLDMODE NEWMODE OLD NEW STATUS`` NUL ``PATH`` NUL entries of ``git log -z --raw``."""
    items = text.split("\0")
    changes, i = [], 0
    while i < len(items):
        meta = items[i].lstrip("\n")
        if not meta:
            i += 1
            continue
        parts = meta.split()
        if not meta.startswith(":") or len(parts) < 5 or i + 1 >= len(items):
            raise StoreError(
                _("git log --raw printed what xmflow does not expect: {text}").format(text=repr(meta[:200]))
            )
        changes.append(RawChange(parts[1], parts[3], items[i + 1]))
        i += 2
    return changes


def read_blobs(root: Path, ids: list[str]) -> dict[str, bytes]:
    """The contents of these blobs, through one ``git cat-file --batch``; an id that is missing or
    not a blob (a submodule's commit) is left out. Callers bound what they ask for (`blob_sizes`)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    proc = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"],
        input="\n".join(wanted).encode() + b"\n",
        capture_output=True,
        check=False,
        env=environment(),
    )
    if proc.returncode != 0:
        raise StoreError(
            _("git {verb} failed: {detail}").format(
                verb="cat-file", detail=proc.stderr.decode(errors="replace").strip()
            )
        )
    out, pos, found = proc.stdout, 0, {}
    for blob in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode(errors="replace").split()
        if len(header) < 3:  # "<id> missing"
            pos = end + 1
            continue
        size = int(header[2])
        if header[1] == "blob":
            found[blob] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return found


def blob_sizes(root: Path, ids: list[str]) -> dict[str, tuple[str, int]]:
    """Each object's type and size in bytes (one ``git cat-file --batch-check``, nothing read);
    a missing one is left out."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    out = _git(
        root, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)", data="\n".join(wanted) + "\n"
    )
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            found[parts[0]] = (parts[1], int(parts[2]))
    return found


def blob_digests(root: Path, ids: list[str]) -> dict[str, str]:
    """The SHA-256 of each of these blobs, read through one ``git cat-file --batch`` a piece at a
    time, so that no blob is ever held in memory whole; a missing one, or one that is not a blob,
    is left out."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    found = {}
    with subprocess.Popen(
        ["git", "-C", str(root), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment(),
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for blob in wanted:  # one at a time: git answers each line before it reads the next
            proc.stdin.write(blob.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().decode(errors="replace").split()
            if len(header) < 3:  # "<id> missing"
                continue
            digest, left = hashlib.sha256(), int(header[2])
            while left:
                piece = proc.stdout.read(min(left, 1 << 20))
                if not piece:
                    raise StoreError(_("git cat-file stopped in the middle of {blob}").format(blob=blob))
                digest.update(piece)
                left -= len(piece)
            proc.stdout.read(1)  # the newline after the content
            if header[1] == "blob":
                found[blob] = digest.hexdigest()
        proc.stdin.close()
    return found


def signatures(root: Path, commits: list[str], allowed_signers: str) -> dict[str, tuple[str, str, str]]:
    """How git judges the signatures of *commits* (``%G?``, signer, key) against an SSH
    allowed-signers file with this text."""
    if not commits:
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".allowed_signers", encoding="utf-8", delete=False) as f:
        f.write(allowed_signers)
    try:
        entries = log_fields(
            root,
            ("%H", "%G?", "%GS", "%GK"),
            "--no-walk=unsorted",
            revs=commits,
            config={"gpg.ssh.allowedSignersFile": f.name},
        )
    finally:
        os.unlink(f.name)
    return {sha: (status, signer, key) for (sha, status, signer, key), __ in entries}


def head(root: Path) -> str | None:
    """The commit checked out, or None before the first commit."""
    return resolve(root, "HEAD")


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    """Whether *older* is in the history of *newer* (git's own reachability, not commit dates)."""
    return (
        subprocess.run(
            ["git", "-C", str(root), "merge-base", "--is-ancestor", older, newer],
            capture_output=True,
            check=False,
            env=environment(),
        ).returncode
        == 0
    )


def commits_only_in(root: Path, rev: str, *others: str) -> list[str]:
    """The commits reachable from *rev* and from none of *others* (``--all`` for every ref), newest
    first, topologically. Counted exactly: git's ``A..B`` walks by commit date and, where clocks
    disagreed (a child dated before its parent), can list commits that both histories share."""
    mine = _git(root, "rev-list", "--topo-order", rev).split()
    if not others:
        return mine
    theirs = set(_git(root, "rev-list", *others).split())
    return [sha for sha in mine if sha not in theirs]


def is_bare(path: Path) -> bool:
    """Whether *path* is a bare repository (one people push to, with no working tree)."""
    return _git(path, "rev-parse", "--is-bare-repository", check=False).strip() == "true"


def hooks_dir(path: Path) -> Path:
    """Where git looks for this repository's hooks (core.hooksPath honoured)."""
    found = Path(_git(path, "rev-parse", "--git-path", "hooks").strip())
    return found if found.is_absolute() else path / found


def is_shallow(root: Path) -> bool:
    """Whether this clone lacks part of the history (``git clone --depth``)."""
    return _git(root, "rev-parse", "--is-shallow-repository", check=False).strip() == "true"


# -- what names what: refs, commits, branches ------------------------------------------------
def resolve(root: Path, rev: str) -> str | None:
    """The object *rev* names (``rev-parse --verify``), or None when it names none."""
    return _git(root, "rev-parse", "--verify", "-q", rev, check=False).strip() or None


def rev_parse(root: Path, rev: str) -> str:
    """The object *rev* names (``rev-parse --verify``); git's error when it names none."""
    return _git(root, "rev-parse", "--verify", "-q", rev).strip()


def commit_of(root: Path, rev: str) -> str | None:
    """The commit *rev* is or points at (an annotated tag peeled); None when it is no commit."""
    return _git(root, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip() or None


def tree_of(root: Path, commit: str) -> str:
    """The id of a commit's tree."""
    return _git(root, "rev-parse", f"{commit}^{{tree}}").strip()


def first_parent(root: Path, commit: str) -> str | None:
    """A commit's first parent (``COMMIT^1``), or None when it has none (a root commit)."""
    try:
        return _git(root, "rev-parse", f"{commit}^1").strip() or None
    except GitError:
        return None


def object_type(root: Path, rev: str) -> str | None:
    """What *rev* is to git (``commit``, ``tree``, ``blob``, ``tag``), or None when there is no such object."""
    return _git(root, "cat-file", "-t", rev, check=False).strip() or None


def absolute_git_dir(root: Path) -> Path | None:
    """The repository's own git folder, absolute, as git finds it from *root*; None outside a repository."""
    found = _git(root, "rev-parse", "--absolute-git-dir", check=False).strip()
    return Path(found) if found else None


def git_paths(root: Path, *names: str) -> list[str]:
    """Where git keeps each of *names* (``rev-parse --git-path``: ``rebase-merge``, ``MERGE_HEAD``…),
    relative to *root* unless absolute; whether each exists is the caller's to look."""
    out = _git(root, "rev-parse", *[a for name in names for a in ("--git-path", name)])
    return [path for path in out.split("\n") if path]


def current_branch(root: Path) -> str | None:
    """The short name of the branch checked out (``main``); None on a detached HEAD."""
    return _git(root, "symbolic-ref", "--short", "-q", "HEAD", check=False).strip() or None


def current_branch_ref(root: Path) -> str | None:
    """The full ref of the branch HEAD names (``refs/heads/main``), or None when HEAD is detached."""
    return _git(root, "symbolic-ref", "-q", "HEAD", check=False).strip() or None


def is_branch_name(root: Path, name: str) -> bool:
    """Whether *name* is a valid branch name (``check-ref-format --branch``)."""
    return bool(_git(root, "check-ref-format", "--branch", name, check=False).strip())


def set_ref(root: Path, ref: str, commit: str, reason: str | None = None) -> None:
    """Point *ref* at *commit* (``update-ref``), with *reason* for its reflog when given."""
    _git(root, "update-ref", *(["-m", reason] if reason else []), ref, commit)


def delete_ref(root: Path, ref: str) -> None:
    """Delete *ref*; one that is not there, or cannot be deleted, is left as it is."""
    _git(root, "update-ref", "-d", ref, check=False)


def ref_names(root: Path, prefix: str) -> list[str]:
    """The full names of the refs under *prefix* (``refs/remotes``)."""
    return _git(root, "for-each-ref", "--format=%(refname)", prefix).split()


def has_refs(root: Path) -> bool:
    """Whether the repository has any ref at all."""
    return bool(_git(root, "for-each-ref", "--count=1", "--format=%(refname)").strip())


def newest_ref_target(root: Path, pattern: str) -> str | None:
    """What the ref under *pattern* whose commit is newest (by committer date) points at, or None."""
    newest = _git(root, "for-each-ref", "--count=1", "--sort=-committerdate", "--format=%(objectname)", pattern)
    return newest.strip() or None


def reflog_entries(root: Path, ref: str) -> list[tuple[str, str, str]]:
    """*ref*'s reflog, newest first: each entry's commit, git's words for how the ref moved
    (``fetch: forced-update``) and its committer date; none when the ref has no reflog."""
    log = _git(root, "reflog", "show", "--format=%H%x1f%gs%x1f%cI", ref, "--", check=False)
    fields = [line.split("\x1f") for line in log.splitlines() if line.count("\x1f") == 2]
    return [(sha, subject, when) for sha, subject, when in fields]


def merge_base(root: Path, one: str, other: str) -> str:
    """The best common ancestor of two commits; git's error when they have none."""
    return _git(root, "merge-base", one, other).strip()


def merge_base_or_none(root: Path, one: str, other: str) -> str | None:
    """The best common ancestor of two commits, or None when their histories are unrelated."""
    return _git(root, "merge-base", one, other, check=False).strip() or None


def root_commits(root: Path, rev: str) -> list[str]:
    """The commits with no parent in the history of *rev*."""
    return _git(root, "rev-list", "--max-parents=0", rev).split()


def ancestry(root: Path, rev: str) -> list[tuple[str, list[str]]]:
    """Every commit in the history of *rev*, each after its parents, with its parents."""
    lines = _git(root, "rev-list", "--reverse", "--topo-order", "--parents", rev).splitlines()
    return [(sha, parents) for sha, *parents in (line.split() for line in lines)]


def first_parent_commits(root: Path, since: str, tip: str, *paths: str, limit: int | None = None) -> list[str]:
    """The commits on *tip*'s first-parent line after *since* (``since..tip``), newest first; only
    those that change *paths* when given, at most *limit* when given."""
    return _git(
        root,
        "rev-list",
        "--first-parent",
        *([f"-{limit}"] if limit is not None else []),
        f"{since}..{tip}",
        *(["--", *paths] if paths else []),
    ).split()


def commits_changing(root: Path, rev: str, path: str) -> list[str]:
    """The commits in the history of *rev* that change *path*, oldest first."""
    return _git(root, "log", "--reverse", "--format=%H", rev, "--", path).split()


def commit_line(root: Path, rev: str) -> str:
    """A commit as a message names it: its short id and its subject in quotes (``abc1234 “subject”``)."""
    return _git(root, "log", "-1", "--format=%h “%s”", rev).strip()


def raw_commit(root: Path, commit: str) -> str:
    """A commit object as git stores it: its header (tree, parents, author, committer), a blank line, its message."""
    return _git(root, "cat-file", "commit", commit)


def patch_id(root: Path, commit: str) -> str:
    """git's patch id of the change a single-parent commit makes, taken ``--verbatim`` (every byte
    counts, whitespace too); empty when it changes nothing."""
    diff = _git(
        root,
        "diff-tree",
        "-p",
        "--no-renames",
        "--full-index",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        commit,
    )
    return _git(root, "patch-id", "--verbatim", data=diff).split(" ", 1)[0]


# -- what a commit holds ---------------------------------------------------------------------
def changed_paths(root: Path, old: str, new: str, *paths: str, quoted: bool = True) -> list[str]:
    """The paths that differ between two commits (under *paths* when given). *quoted*: as git
    prints them by default (a name with unusual characters in C-style quotes); else each as it is."""
    options = [] if quoted else ["-c", "core.quotePath=false"]
    return _git(root, *options, "diff", "--name-only", old, new, *(["--", *paths] if paths else [])).splitlines()


def conflicted_paths(root: Path) -> list[str]:
    """The paths a stopped merge or rebase left in conflict, each as it is."""
    out = _git(root, "-c", "core.quotePath=false", "diff", "--name-only", "--diff-filter=U")
    return [path for path in out.splitlines() if path]


def folders_at(root: Path, rev: str, folder: str) -> list[str]:
    """The folders directly in *folder* (``projects/``) at *rev*, as paths (``projects/2026-001``)."""
    return _git(root, "-c", "core.quotePath=false", "ls-tree", "-d", "--name-only", rev, folder).splitlines()


def object_ids_at(root: Path, rev: str, *folders: str) -> dict[str, str]:
    """Each file under *folders* at *rev* (path as it is) → its object id."""
    out = _git(root, "-c", "core.quotePath=false", "ls-tree", "-r", rev, "--", *folders)
    return {path: meta.split()[2] for meta, _tab, path in (line.partition("\t") for line in out.splitlines())}


def paths_at(root: Path, rev: str) -> list[str]:
    """The path of every file at *rev*, each as it is."""
    return [path for path in _git(root, "ls-tree", "-r", "-z", "--name-only", rev).split("\0") if path]


# -- the remote ------------------------------------------------------------------------------
def remote_names(root: Path) -> list[str]:
    """The remotes this repository knows (``origin``…)."""
    return _git(root, "remote").split()


def fetch(root: Path, remote: str, branch: str, tracking: str) -> None:
    """Fetch *branch* from *remote* into the ref *tracking*, whatever that ref held before (``+``)."""
    _git(root, "fetch", "-q", remote, f"+refs/heads/{branch}:{tracking}")


def remote_branch(root: Path, remote: str, branch: str) -> str | None:
    """The commit *branch* is at on *remote*, asked of the remote now; None when it has no such branch."""
    out = _git(root, "ls-remote", "--heads", remote, f"refs/heads/{branch}")
    return out.split()[0] if out.strip() else None


def push(root: Path, remote: str, commit: str, branch: str) -> None:
    """Push *commit* to *branch* on *remote*, never forced: git refuses what is not a fast-forward."""
    _git(root, "push", "-q", remote, f"{commit}:refs/heads/{branch}")


def clone_shared(source: Path, target: Path) -> None:
    """Clone *source* into the new folder *target*, sharing its objects (``--shared``), nothing hard-linked."""
    _git(target.parent, "clone", "-q", "--shared", "--no-hardlinks", str(source), str(target))


# -- moving the branch -----------------------------------------------------------------------
def fast_forward(root: Path, commit: str) -> None:
    """Move the branch, index and files forward to *commit* (``merge --ff-only``)."""
    _git(root, "merge", "-q", "--ff-only", commit)


def reset_keep(root: Path, commit: str) -> None:
    """Move the branch to *commit*, its index and files with it, keeping what nobody committed
    (``reset --keep``: git refuses when that would lose it)."""
    _git(root, "reset", "-q", "--keep", commit)


def rebase(root: Path, upstream: str) -> None:
    """Put the branch's own commits on top of *upstream* (``rebase``, never stashing, no other
    ref moved); a conflict stops it half-way, for the caller to look at and abort."""
    _git(root, "-c", "rebase.autoStash=false", "-c", "rebase.updateRefs=false", "rebase", "-q", upstream)


def abort_rebase(root: Path) -> None:
    """Abort a rebase stopped half-way: the branch, index and files as they were before it."""
    _git(root, "rebase", "--abort")


# -- building commits in a scratch index -------------------------------------------------------
def read_tree(root: Path, tree: str, index: str, prefix: str | None = None) -> None:
    """Read *tree* into the index file *index* (under *prefix*, ``projects/NEW/``, when given,
    added to what it holds; else in place of it)."""
    _git(root, "read-tree", *([f"--prefix={prefix}"] if prefix is not None else []), tree, env=_index(index))


def remove_from_index(root: Path, path: str, index: str) -> None:
    """Take *path* (a folder: all under it) out of the index file *index*; the files stay."""
    _git(root, "rm", "--cached", "-r", "-q", "-f", "--", path, env=_index(index))


def write_tree(root: Path, index: str) -> str:
    """Store the tree the index file *index* holds; its id."""
    return _git(root, "write-tree", env=_index(index)).strip()


def commit_tree(root: Path, tree: str, parents: Sequence[str], message_file: Path, env: dict[str, str]) -> str:
    """A new commit of *tree* with these *parents* and the message in *message_file*, made in the
    environment *env* (who wrote and committed it, when); its id. No branch moves."""
    args = [a for parent in parents for a in ("-p", parent)]
    return _git(root, "commit-tree", tree, *args, "-F", str(message_file), env=env).strip()


def _index(index: str) -> dict[str, str]:
    return {"GIT_INDEX_FILE": index}


# -- configuration ---------------------------------------------------------------------------
def set_config(root: Path, key: str, value: str) -> None:
    """Set a git configuration value in the repository at *root* (its own ``config`` file)."""
    _git(root, "config", key, value)


def read_at(root: Path, rev: str, path: str) -> str | None:
    """A file's text as of a commit, or None when it did not exist there (or is not UTF-8 text)."""
    content = read_bytes_at(root, rev, path)
    try:
        return content.decode("utf-8") if content is not None else None
    except UnicodeDecodeError:
        return None


def read_bytes_at(root: Path, rev: str, path: str) -> bytes | None:
    """A file's bytes as of a commit (a scan, say), or None when it did not exist there."""
    out = subprocess.run(
        ["git", "-C", str(root), "show", f"{rev}:{path}"], capture_output=True, check=False, env=environment()
    )
    return out.stdout if out.returncode == 0 else None


class Vouched(dict[str, str]):
    """The blob ids :func:`vouched_blobs` found, by path. *complete*: git vouches for every file
    under the path — none untracked (ignored ones included), changed, of another kind or in a
    conflict, no empty folder — so a path not here is no file, and need not be looked for."""

    complete: bool = False
    listing: str = ""  # a digest of git's listing of the path (paths, modes, blob ids): when complete,
    # of every file under it


def vouched_blobs(root: Path, path: str) -> Vouched:
    """The git blob id of each file under *path* whose working-tree content git vouches for, as
    ``git status`` would: in the index at stage 0 as a plain file, marked neither assume-unchanged
    nor skip-worktree, and not changed since (``git diff-files``: git's stat check, which looks
    at the content of a file changed within the index's own second); and whether they are all
    there is (``git ls-files -o``). Three git calls, no file read."""
    listed = _git(root, "ls-files", "--stage", "-v", "-z", "--", path)
    changed = set(_git(root, "diff-files", "--name-only", "-z", "--", path).split("\0")) - {""}
    blobs, others = Vouched(), 0
    for entry in listed.split("\0"):
        meta, __, name = entry.partition("\t")
        fields = meta.split(" ")
        if len(fields) == 4 and fields[0] == "H" and fields[1] == "100644" and fields[3] == "0" and name not in changed:
            blobs[name] = fields[2]
        elif entry:
            others += 1
    blobs.complete = (
        not changed
        and not others
        and not _folded_names(root)
        and not _git(root, "ls-files", "-o", "--directory", "-z", "--", path)
    )
    blobs.listing = hashlib.sha1(listed.encode("utf-8", "surrogateescape")).hexdigest()
    return blobs


def _folded_names(root: Path) -> bool:
    """Does git match file names loosely here (``core.ignorecase``, ``core.precomposeunicode``)?
    Then a folder it takes for one it knows (``HX-01`` for ``hx-01``) is not listed as untracked."""
    found = _git(root, "config", "--type=bool", "--get-regexp", r"^core\.(ignorecase|precomposeunicode)$", check=False)
    return any(line.split()[-1:] == ["true"] for line in found.splitlines())


def dirty_paths(root: Path, paths: list[str]) -> list[str]:
    """Paths under *paths* with uncommitted changes (staged, unstaged or untracked)."""
    return [path for __, path in changes(root, paths)]


def changes(root: Path, paths: list[str]) -> list[tuple[str, str]]:
    """Each uncommitted change under *paths*: its two-letter status (``??`` untracked) and path."""
    out = _git(root, "status", "--porcelain", "-z", "--no-renames", "--untracked-files=all", "--", *paths)
    return [(entry[:2], entry[3:]) for entry in out.split("\0") if entry]


def refuse_hand_edits(root: Path, paths: list[str]) -> None:
    """Refuse while any of *paths* holds uncommitted changes, saying how to put each right: a
    project's files change only through xmflow (a commit of them made with plain git is a
    `verify` finding); people.yaml, xmflow.yaml and the process file are the admin's to commit."""
    found = changes(root, paths)
    if found:
        raise StoreError(
            _("uncommitted changes in {files}: {advice}").format(
                files=", ".join(path for __, path in found), advice=_("; ").join(_advice(found))
            )
        )


def _advice(changes: list[tuple[str, str]]) -> list[str]:
    records = [path for code, path in changes if path.startswith("projects/") and code != "??"]
    strays = [path for code, path in changes if path.startswith("projects/") and code == "??"]
    settings = [path for code, path in changes if not path.startswith("projects/") and code != "??"]
    new_settings = [path for code, path in changes if not path.startswith("projects/") and code == "??"]
    advice = []
    if records:
        advice.append(
            _(
                "put {files} back with `git restore --staged --worktree -- {files}`, then make the change "
                "with `xmflow set` or `xmflow edit` (a project's files change only through xmflow: a commit "
                "made with plain git is a `verify` finding)"
            ).format(files=_quoted(records))
        )
    if strays:
        advice.append(
            _(
                "move {files} out of the workspace (a scan of a signed paper goes in with `xmflow sign … "
                "--evidence FILE`)"
            ).format(files=_quoted(strays))
        )
    if settings:
        advice.append(
            _(
                "if you are the admin, commit {files} with git; if not, put it back with `git restore "
                "--staged --worktree -- {files}`"
            ).format(files=_quoted(settings))
        )
    if new_settings:
        advice.append(
            _("if you are the admin, commit {files} with git; if not, remove it").format(files=_quoted(new_settings))
        )
    return advice


def _quoted(paths: list[str]) -> str:
    return " ".join(shlex.quote(path) for path in paths)


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


def credential(host: str, port: int, user: str) -> str | None:
    """The password git's credential helper holds for ``smtp://user@host:port``, or None; git is
    told never to ask at a terminal (a cron job or a hook has none)."""
    asked = f"protocol=smtp\nhost={host}:{port}\nusername={user}\n\n"
    try:
        found = subprocess.run(
            ["git", "credential", "fill"],
            input=asked,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if found.returncode != 0:
        return None
    values = dict(line.split("=", 1) for line in found.stdout.splitlines() if "=" in line)
    return values.get("password") or None

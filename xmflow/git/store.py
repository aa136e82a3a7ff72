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


def git(
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
    out = git(
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
    if not git(root, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip():
        return []
    entries = log_fields(
        root,
        placeholders,
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
    return [(fields, _raw_changes(rest)) for fields, rest in entries]


def log_raw_stream(
    root: Path, placeholders: Sequence[str], rev: str = "HEAD", *paths: str, since: str | None = None
) -> Iterator[tuple[list[str], list[RawChange]]]:
    """:func:`log_raw`, one commit at a time as git writes it (memory of one commit)."""
    if not git(root, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip():
        return
    for fields, rest in log_stream(
        root,
        placeholders,
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
    ):
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
    out = git(
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
    return git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).strip() or None


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
    listed = git(root, "ls-files", "--stage", "-v", "-z", "--", path)
    changed = set(git(root, "diff-files", "--name-only", "-z", "--", path).split("\0")) - {""}
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
        and not git(root, "ls-files", "-o", "--directory", "-z", "--", path)
    )
    blobs.listing = hashlib.sha1(listed.encode("utf-8", "surrogateescape")).hexdigest()
    return blobs


def _folded_names(root: Path) -> bool:
    """Does git match file names loosely here (``core.ignorecase``, ``core.precomposeunicode``)?
    Then a folder it takes for one it knows (``HX-01`` for ``hx-01``) is not listed as untracked."""
    found = git(root, "config", "--type=bool", "--get-regexp", r"^core\.(ignorecase|precomposeunicode)$", check=False)
    return any(line.split()[-1:] == ["true"] for line in found.splitlines())


def dirty_paths(root: Path, paths: list[str]) -> list[str]:
    """Paths under *paths* with uncommitted changes (staged, unstaged or untracked)."""
    return [path for __, path in changes(root, paths)]


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

"""A change in flight: committed whole or not at all, even when the command is killed.

`commit` stores the change's blobs, builds its tree in a scratch index (``GIT_INDEX_FILE``) and
has git itself make the commit (hooks and signing apply) before the working tree or the user's
index is touched; only then does it write the files (each atomically) and their index entries.
Just before the commit it writes a journal, ``<git dir>/xmflow/journal``: the commit the change
builds on and each path's new blob (or its deletion); it removes it when all is in place. The
next command that holds the workspace lock and finds a journal finishes the change or drops it
(`finish_interrupted`). git itself runs through `xmflow.git.store`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from xmflow.errors import StoreError, XmflowError
from xmflow.git import store
from xmflow.git.lock import lock_if_free, workspace_lock
from xmflow.i18n import _

_UNFINISHED = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply")
_LOCK_GRACE = 0.5  # seconds a git lock file must stand unchanged before it is taken as left behind
_INDEX_WAIT = 2.0  # seconds to wait for another git (a shell prompt's `git status`) to free the index


@dataclass(frozen=True)
class Pending:
    """A change that was being committed: what it built on and what it writes."""

    base: str | None  # the commit it builds on (None: the first commit)
    files: dict[str, str | None]  # path → its new blob id, or None when the change deletes it
    written_ns: int = 0  # when the journal was written (its file's mtime)

    def names(self) -> str:
        """The paths, for a message."""
        return ", ".join(sorted(self.files))


# -- committing -----------------------------------------------------------------------------------
def commit(
    root: Path, files: dict[str, bytes | None], message: str, author: store.Author, when: datetime | None = None
) -> str:
    """Commit *files* (relative path → content, None deletes) as one change, authored by
    *author*, and put them in the working tree; returns the new commit id. Refuses when any of
    them has uncommitted changes, so a change never sweeps up an edit made by hand. A change is
    there whole or not at all, even when the command is killed."""
    gdir = store.git_dir(root)
    with workspace_lock(gdir):
        finish_interrupted(root, gdir)
        _refuse_unready(root, gdir, sorted(files))
        base = store.head(root)
        try:
            blobs = {rel: None if data is None else _store_blob(root, rel, data) for rel, data in files.items()}
            index = _scratch_index(root, gdir, base, blobs)
            _write_journal(gdir, base, blobs)
            store._git(
                root,
                "commit",
                "-q",
                "--no-edit",
                "-m",
                message,
                tied=True,
                env={"GIT_INDEX_FILE": str(index), **store.identity_env(root, author, when)},
            )
        except BaseException as exc:
            pending = read(gdir)
            landed = _landed(root, pending) if pending else None
            if landed is None:
                clear(gdir)  # nothing was committed, and nothing was written
                raise
            _put_in_place(root, gdir, landed, files)  # git failed after its commit was made
            if not isinstance(exc, XmflowError):
                raise
            return landed
        new = store.head(root) or ""
        _put_in_place(root, gdir, new, files)
        return new


def _refuse_unready(root: Path, gdir: Path, paths: list[str]) -> None:
    """Refuse what a commit must not be made on: an unfinished merge or rebase (git would make a
    merge commit, or one in the middle of the rebase), git's index held by another git, a hand edit."""
    if any((gdir / name).exists() for name in _UNFINISHED):
        raise StoreError(
            _(
                "a git merge, rebase or cherry-pick is unfinished here: finish it or abort it "
                "(git merge --abort, git rebase --abort) first"
            )
        )
    if not _index_free(gdir):
        lock = gdir / "index.lock"
        raise StoreError(
            _(
                "git's index is locked ({lock}): another git command is running here. If none is, "
                "one was interrupted: remove {lock} and try again"
            ).format(lock=lock)
        )
    store.refuse_hand_edits(root, paths)


def _index_free(gdir: Path) -> bool:
    """Whether git's index is free, after waiting a moment for a git that holds it."""
    deadline = time.monotonic() + _INDEX_WAIT
    while (gdir / "index.lock").exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _store_blob(root: Path, rel: str, data: bytes) -> str:
    """Store one file's new content in git's object store (as `git add` would); its id."""
    return store._git(root, "hash-object", "-w", "--stdin", f"--path={rel}", data=data).strip()


def _scratch_index(root: Path, gdir: Path, base: str | None, blobs: dict[str, str | None]) -> Path:
    """An index holding the base commit's tree with the change applied. It starts as a copy of
    the user's index so that git reuses its stat data (it would read every file of the workspace
    otherwise); ``read-tree -m`` then makes it exactly the base's tree, without anything staged."""
    remove_scratch(gdir)
    index = folder(gdir) / f"index-{os.getpid()}"
    env = {"GIT_INDEX_FILE": str(index)}
    if base is None:
        store._git(root, "read-tree", "--empty", env=env)
    else:
        try:
            shutil.copyfile(gdir / "index", index)
            store._git(root, "read-tree", "-m", base, env=env)
        except (OSError, StoreError):  # no index yet, or one git cannot merge into (a conflict)
            index.unlink(missing_ok=True)
            store._git(root, "read-tree", base, env=env)
    zero = "0" * len(base or "")
    entries = "".join(
        f"100644 {blob}\t{rel}\0" if blob else f"0 {zero}\t{rel}\0"
        for rel, blob in sorted(blobs.items())
        if blob or base
    )
    store._git(root, "update-index", "-z", "--index-info", env=env, data=entries)
    return index


def _put_in_place(root: Path, gdir: Path, commit_id: str, contents: dict[str, bytes | None]) -> None:
    """After the commit: write its files and bring their index entries up to date, so `git
    status` is clean; then the journal goes. A failure keeps it, for the next command to finish."""
    try:
        for rel, content in sorted(contents.items()):
            _write(root / rel, content)
        if contents:
            if not _index_free(gdir):
                raise StoreError(
                    _("git's index is locked ({lock}) by another git command").format(lock=gdir / "index.lock")
                )
            store._git(root, "update-index", "--add", "--remove", "--", *sorted(contents), tied=True)
    except (OSError, StoreError) as exc:
        why = (
            _("cannot write {file}: {error}").format(file=exc.filename or _("a file"), error=exc.strerror)
            if isinstance(exc, OSError)
            else exc.message
        )
        raise StoreError(
            _(
                "the change is committed ({commit}) but its files are not all in place ({why}); the next "
                "xmflow command finishes writing them"
            ).format(commit=commit_id[:7], why=why)
        ) from None
    clear(gdir)


# -- finishing an interrupted change --------------------------------------------------------------
def finish_interrupted(root: Path, gdir: Path | None = None) -> str | None:
    """Finish or drop the change a killed command left in the journal, and say so on stderr in one
    plain line (the only thing printed outside the console: it happens before any command's own
    output, wherever it is found). Call it holding the workspace lock.

    HEAD is the journal's commit (its parent is the base, its tree holds the journal's blobs): the
    commit landed, so its files and index entries are put in place, except a file changed by hand
    since. HEAD is still the base: nothing was committed nor written, so the journal goes. Anything
    else (the branch moved by hand since): the journal goes too, and the message says so.
    """
    gdir = gdir or store.git_dir(root)
    pending = read(gdir)
    if pending is None:
        return None
    removed = _remove_left_locks(root, gdir, pending)
    landed = _landed(root, pending)
    if landed is not None:
        kept = _finish_files(root, gdir, landed, pending)
        note = _("finished writing the files of the interrupted change {commit} ({files})").format(
            commit=landed[:7], files=pending.names()
        )
        note += _("; left {files} as it was changed since").format(files=", ".join(kept)) if kept else ""
    else:
        clear(gdir)
        now = store.head(root)
        note = (
            _("the interrupted change to {files} was not committed; nothing of it was kept").format(
                files=pending.names()
            )
            if now == pending.base
            else _(
                "dropped the record of an interrupted change to {files}: the branch has moved since (to {commit}); "
                "`git status` shows anything left uncommitted"
            ).format(files=pending.names(), commit=now[:7] if now else _("no commit"))
        )
    if removed:
        note += _("; removed {files}, left by a git it ran").format(files=", ".join(removed))
    print(_("xmflow: {note}").format(note=note), file=sys.stderr)
    return note


def finish_if_free(root: Path) -> None:
    """For a reading command: finish an interrupted change when no other command is running (one
    that is may be making that very change), and go on either way. Never from inside the hooks of
    an xmflow commit in progress, nor where the workspace is not a git repository."""
    try:
        gdir = store.git_dir(root)
    except StoreError:
        return
    if not exists(gdir) or in_own_commit(gdir):
        return
    try:
        with lock_if_free(gdir) as mine:
            if mine:
                finish_interrupted(root, gdir)
    except XmflowError as exc:
        print(
            _("xmflow: an interrupted change could not be finished yet: {error}").format(error=exc.message),
            file=sys.stderr,
        )


def in_own_commit(gdir: Path) -> bool:
    """Whether this process runs inside the hooks of an xmflow commit in progress (git hands
    them the scratch index as ``GIT_INDEX_FILE``): then it must neither wait for the workspace
    lock nor touch the change in flight."""
    index = os.environ.get("GIT_INDEX_FILE") or ""
    return (
        bool(index)
        and Path(index).name.startswith("index-")
        and os.path.realpath(Path(index).parent) == os.path.realpath(folder(gdir))
    )


def _landed(root: Path, pending: Pending) -> str | None:
    """HEAD, when it is the commit of *pending* (its parent is the base and its tree holds the
    journal's blobs); else None."""
    now = store.head(root)
    if now is None or now == pending.base:
        return None
    parents = store._git(root, "rev-list", "--parents", "-n", "1", now).split()[1:]
    if parents != ([pending.base] if pending.base else []):
        return None
    tree = _tree_blobs(root, now, list(pending.files))
    return now if all(tree.get(rel) == blob for rel, blob in pending.files.items()) else None


def _tree_blobs(root: Path, rev: str, paths: list[str]) -> dict[str, str]:
    """The blob id of each of *paths* in *rev* (absent ones left out)."""
    found = {}
    for entry in filter(None, store._git(root, "ls-tree", "-z", "--full-tree", rev, "--", *paths).split("\0")):
        meta, __, rel = entry.partition("\t")
        found[rel] = meta.split()[2]
    return found


def _finish_files(root: Path, gdir: Path, commit_id: str, pending: Pending) -> list[str]:
    """Put the files of a landed commit in place. A file that is neither as it was before the
    change nor as the change made it was changed by hand since: it stays as it is, its index entry
    follows the commit (so `git status` shows the hand edit). Returns those."""
    new = store.read_blobs(root, [blob for blob in pending.files.values() if blob])
    old_ids = _tree_blobs(root, pending.base, list(pending.files)) if pending.base else {}
    old = store.read_blobs(root, list(old_ids.values()))
    placed: dict[str, bytes | None] = {}
    kept = []
    for rel, blob in sorted(pending.files.items()):
        path = root / rel
        path.with_name(f".{path.name}.xmflow-tmp").unlink(missing_ok=True)  # half a write of the killed command
        content = new[blob] if blob else None
        if _read(path) in (content, old.get(old_ids.get(rel, ""))):
            placed[rel] = content
        else:
            kept.append(rel)
    if kept:
        store._git(root, "reset", "-q", commit_id, "--", *kept, tied=True)
    _put_in_place(root, gdir, commit_id, placed)
    return kept


def _remove_left_locks(root: Path, gdir: Path, pending: Pending) -> list[str]:
    """Remove the git lock files a git of the interrupted command left when it was killed with it:
    those made after the journal was written (the command had found the index free before, and
    it takes no ref or index lock but in its commit and index update) that stand unchanged for a
    moment (a live git's lock comes and goes within that). Older ones are not xmflow's: they
    stay, and git's own message names them."""
    removed = []
    for lock in (gdir / "index.lock", gdir / "HEAD.lock", *_branch_lock(gdir)):
        try:
            stamp = lock.stat().st_mtime_ns
            if stamp < pending.written_ns:
                continue
            time.sleep(max(0.0, stamp / 1e9 + _LOCK_GRACE - time.time()))
            if lock.stat().st_mtime_ns != stamp:
                continue
            lock.unlink()
        except FileNotFoundError:
            continue
        removed.append(os.path.relpath(lock, root))
    return removed


def _branch_lock(gdir: Path) -> list[Path]:
    """The lock file of the branch HEAD names (in the common git folder of a linked worktree)."""
    try:
        ref = (gdir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return []
    if not ref.startswith("ref: refs/"):
        return []
    try:
        common = gdir / (gdir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        common = gdir
    return [common / f"{ref[5:]}.lock"]


# -- the journal's file ---------------------------------------------------------------------------
def folder(gdir: Path) -> Path:
    """xmflow's own folder in the repository's git folder (lock, journal, scratch index, cache)."""
    return gdir / "xmflow"


def exists(gdir: Path) -> bool:
    """Whether a change was left in flight (one stat: every command asks)."""
    return (folder(gdir) / "journal").is_file()


def _write_journal(gdir: Path, base: str | None, files: dict[str, str | None]) -> None:
    """Record the change about to be committed (written aside, then renamed: never half a journal)."""
    path = folder(gdir) / "journal"
    tmp = path.with_name("journal.tmp")
    try:
        tmp.write_text(
            json.dumps({"base": base, "files": files}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(
            _("cannot write xmflow's journal in {folder}: {error}").format(folder=path.parent, error=exc.strerror)
        ) from None


def read(gdir: Path) -> Pending | None:
    """The change left in flight, or None."""
    path = folder(gdir) / "journal"
    try:
        written = path.stat().st_mtime_ns
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StoreError(
            _(
                "{path}: xmflow's journal of an interrupted change cannot be read ({error}); if `git "
                "status` shows nothing to put right, remove it"
            ).format(path=path, error=exc)
        ) from None
    files, base = (data.get("files"), data.get("base")) if isinstance(data, dict) else (None, None)
    if not isinstance(files, dict) or not (base is None or isinstance(base, str)):
        raise StoreError(
            _(
                "{path}: this is not a journal xmflow wrote; if `git status` shows nothing to put right, remove it"
            ).format(path=path)
        )
    return Pending(base, {str(k): (str(v) if v else None) for k, v in files.items()}, written)


def clear(gdir: Path) -> None:
    """The change is complete, or was never committed: forget it and its scratch index."""
    (folder(gdir) / "journal").unlink(missing_ok=True)
    remove_scratch(gdir)


def remove_scratch(gdir: Path) -> None:
    """Remove every scratch index (and git's lock of one): only ever called holding the
    workspace lock, when none of them can be in use."""
    for path in folder(gdir).glob("index-*"):
        path.unlink(missing_ok=True)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
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

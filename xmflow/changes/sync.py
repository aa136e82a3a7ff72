"""`xmflow sync`: fetch the shared branch, put the local commits on top of it, check the result,
push; again when someone pushed first. Never a force push, never a lost local commit.

Project ids stay ``YYYY-NNN`` (SPEC §3). When two clones opened the same id, the unpushed one
is renumbered before the rebase (see :mod:`xmflow.changes.renumber`).

Nothing `xmflow verify` rejects is pushed, nor a change that undoes, unknowingly, a signature
made on the shared branch (see :mod:`xmflow.trust.outgoing`). Before anything moves, the branch tip is
saved under ``refs/xmflow/pre-sync``; whatever fails (a conflict, a check, a refused push), the
branch, index and files are put back to it. The workspace lock is held throughout, so a command
started meanwhile waits instead of committing in the middle of a rebase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from xmflow.changes import renumber
from xmflow.errors import RuleError, StoreError, UsageError, XmflowError
from xmflow.git import store
from xmflow.git.lock import workspace_lock
from xmflow.i18n import _
from xmflow.records.acknowledgements import ACKNOWLEDGEMENTS
from xmflow.records.workspace import CONFIG, PEOPLE, PROJECTS, Workspace
from xmflow.trust import checks, outgoing

ATTEMPTS = 5
SAVED = "refs/xmflow/pre-sync"
_UNFINISHED = ("rebase-merge", "rebase-apply", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD")
# git prints the server's refusal untranslated: `! [remote rejected] main -> main (pre-receive hook declined)`
_DECLINED = re.compile(r"\[remote rejected\][^\n]*\(([^)\n]*declined[^)\n]*)\)")
_REMOTE_LINE = re.compile(r"^remote: ?(.*?)\s*$", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class SyncReport:
    """What a sync did: commits received and pushed, projects renumbered (old id → new id)."""

    pulled: int
    pushed: int
    renumbered: dict[str, str]
    attempts: int


class SyncConflict(RuleError):
    """The same stage was changed here and on the shared branch (exit 1); nothing moved."""


@dataclass(frozen=True)
class _Target:
    """The shared branch: a remote and a branch name on it."""

    remote: str
    branch: str

    @property
    def tracking(self) -> str:
        return f"refs/remotes/{self.remote}/{self.branch}"

    @property
    def shown(self) -> str:
        return f"{self.remote}/{self.branch}"


def sync(ws: Workspace, remote: str = "origin", branch: str | None = None) -> SyncReport:
    """Pull (rebase), re-check, push, up to ATTEMPTS times; on any failure the branch is as it was."""
    root = ws.root
    with workspace_lock(_git_dir(root)):
        target = _preflight(ws, remote, branch)
        orig = _rev(root, "HEAD")
        store.set_ref(root, SAVED, orig, "xmflow sync: the branch before syncing")
        try:
            report = _attempts(ws, target, orig)
        except BaseException:
            _restore(root, orig)
            store.delete_ref(root, SAVED)
            raise
        store.delete_ref(root, SAVED)
    return report


def _git_dir(root: Path) -> Path:
    """The repository's own git folder, absolute: where the workspace lock lives."""
    found = store.absolute_git_dir(root)
    if found is None:
        raise UsageError(_("nothing to sync: this workspace is not in a git repository (xmflow init makes one)"))
    return found


@dataclass
class _Run:
    """One sync across its attempts: the branch before it, the ids renumbered (first id → last),
    each rewritten commit → the user's own commit, and the `xmflow check` problems the working
    tree had before it first moved (None while it has not)."""

    orig: str
    renumbered: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    forgiven: set[str] | None = None


def _attempts(ws: Workspace, target: _Target, orig: str) -> SyncReport:
    """Fetch, combine, check, push; again while someone else's push gets in first."""
    root, run = ws.root, _Run(orig)
    for attempt in range(1, ATTEMPTS + 1):
        tip = _fetch(root, target)
        if tip is not None:
            _combine(ws, target, tip, run)
        pulled = len(store.commits_only_in(root, tip, run.orig)) if tip else 0
        pushed = len(store.commits_only_in(root, "HEAD", *([tip] if tip else [])))
        if not pushed:
            return SyncReport(pulled, 0, run.renumbered, attempt)
        outgoing.refuse_unpushable(root, target.shown, tip, run.orig, run.forgiven, run.origins)
        if _push(root, target, tip):
            return SyncReport(pulled, pushed, run.renumbered, attempt)
    raise StoreError(
        _(
            "{branch} kept moving: others pushed first {attempts} times in a row. Nothing was pushed and "
            "your branch is as it was; run `xmflow sync` again in a moment"
        ).format(branch=target.shown, attempts=ATTEMPTS)
    )


# -- before anything moves ------------------------------------------------------------------
def _preflight(ws: Workspace, remote: str, branch: str | None) -> _Target:
    """Refuse what sync cannot safely work on: no commit, an unfinished rebase or merge, no such
    remote, a detached HEAD, uncommitted changes."""
    root = ws.root
    if store.head(root) is None:
        raise UsageError(_("nothing to sync: this workspace has no commit yet (xmflow init makes the first)"))
    for found in store.git_paths(root, *_UNFINISHED):
        if (root / found).exists():
            saved = store.resolve(root, SAVED)
            back = (
                _(
                    "; an interrupted `xmflow sync` left it: put your branch back as it was with `git rebase "
                    "--abort && git reset --keep {saved}`"
                ).format(saved=SAVED)
                if saved
                else ""
            )
            raise UsageError(
                _(
                    "a git rebase, merge or cherry-pick is unfinished here: finish it or abort it (git "
                    "rebase --abort, git merge --abort) before `xmflow sync`"
                )
                + back
            )
    remotes = store.remote_names(root)
    if remote not in remotes:
        said = (
            _(
                "no remote {remote} (remotes: {remotes}): add the shared repository with `git remote add {name} "
                "URL` or name one with --remote"
            )
            if remotes
            else _(
                "no remote {remote}: add the shared repository with `git remote add {name} URL` or name one with "
                "--remote"
            )
        )
        raise UsageError(said.format(remote=repr(remote), remotes=", ".join(remotes), name=remote))
    current = store.current_branch(root)
    if not current:
        raise UsageError(_("not on a branch (detached HEAD): `git switch BRANCH` first"))
    name = branch or current
    if not store.is_branch_name(root, name):
        raise UsageError(_("--branch: {name} is not a valid branch name").format(name=repr(name)))
    _require_clean(ws)
    return _Target(remote, name)


def _require_clean(ws: Workspace) -> None:
    """No uncommitted change to the records or settings (new files included), nor to any tracked
    file: the rebase must not touch, or be stopped by, work nobody committed."""
    try:
        process = [ws.config.process] if ws.config.process else []
    except XmflowError:
        process = []  # a broken xmflow.yaml is still synced (perhaps the fix is on the shared branch)
    store.refuse_hand_edits(ws.root, [CONFIG, PEOPLE, ACKNOWLEDGEMENTS, PROJECTS, *process])
    others = [path for code, path in store.changes(ws.root, []) if code != "??"]
    if others:
        raise UsageError(
            _(
                "uncommitted changes in {files}: commit them with git or put them back (git restore "
                "--staged --worktree -- {paths}) before `xmflow sync`"
            ).format(files=", ".join(others), paths=" ".join(others))
        )


# -- the remote -----------------------------------------------------------------------------
def _fetch(root: Path, target: _Target) -> str | None:
    """Fetch the shared branch into its remote-tracking ref; its commit, or None when the remote
    has no such branch yet. A shared branch that no longer holds what this clone received from it
    was rewritten (a forced push past the server's hook): refused, the tracking ref kept."""
    known = store.resolve(root, target.tracking)
    try:
        store.fetch(root, target.remote, target.branch, target.tracking)
    except StoreError as exc:
        if _remote_tip(root, target) is None:
            return None
        raise StoreError(
            _("cannot fetch {branch} from {remote}: {error}").format(
                branch=target.branch, remote=target.remote, error=exc.message
            )
        ) from None
    tip = _rev(root, target.tracking)
    if known and not _is_ancestor(root, known, tip):
        store.set_ref(root, target.tracking, known, "xmflow sync: the shared branch was rewritten; kept as received")
        lost = len(store.commits_only_in(root, known, tip))
        raise RuleError(
            _(
                "{branch} was rewritten on the shared repository: {lost} commit(s) this clone received "
                "from it are no longer there (a forced push, past or without the server's hook), and with "
                "them the sign-offs they held. Nothing was pushed and your branch is as it was. Tell your "
                "admin; the commits are still here: git log {tip}..{known}"
            ).format(branch=target.shown, lost=lost, tip=tip, known=known)
        )
    return tip


def _remote_tip(root: Path, target: _Target) -> str | None:
    """The shared branch's commit as the remote has it now (None: no such branch)."""
    try:
        return store.remote_branch(root, target.remote, target.branch)
    except StoreError as exc:
        raise StoreError(_("cannot reach {remote}: {error}").format(remote=target.remote, error=exc.message)) from None


def _push(root: Path, target: _Target, tip: str | None) -> bool:
    """Push HEAD to the shared branch, never forced. False when someone pushed first (the
    branch is no longer at *tip*): the caller fetches and tries again."""
    head = _rev(root, "HEAD")
    try:
        store.push(root, target.remote, head, target.branch)
    except StoreError as exc:
        # Someone pushed first: judged by where the branch is now, not by git's wording.
        if _remote_tip(root, target) != tip:
            return False
        said = exc.detail if isinstance(exc, store.GitError) else exc.message  # git's own words
        declined = _DECLINED.search(said)
        if declined:
            raise RuleError(_declined_message(target, said, declined.group(1))) from None
        detail = "\n".join(line.rstrip() for line in exc.message.splitlines())
        raise StoreError(
            _(
                "cannot push to {branch} on {remote}, so nothing was pushed and your branch is as it was: {detail}"
            ).format(branch=target.branch, remote=target.remote, detail=detail)
        ) from None
    store.set_ref(root, target.tracking, head)
    return True


def _declined_message(target: _Target, stderr: str, why: str) -> str:
    """The server's own rules refused the push: its reasons, as its hook printed them."""
    said = [_CONTROL.sub("", line) for line in _REMOTE_LINE.findall(stderr)]
    # git's own words, quoted as git printed them: the server's lines (in its language) after git's "remote:"
    reasons = "\n".join(f"  remote: {line}" for line in said if line.strip()) or f"  ({why})"
    return _(
        "{remote} refused the push to {branch} ({why}); its reasons:\n{reasons}\nNothing was pushed and your "
        "branch is as it was. Set right what the server names (or ask whoever runs it), then `xmflow sync` "
        "again."
    ).format(remote=target.remote, branch=target.branch, why=why, reasons=reasons)


# -- combining with the shared branch -------------------------------------------------------
def _combine(ws: Workspace, target: _Target, tip: str, run: _Run) -> None:
    """Put the local commits on top of *tip*: renumber clashing projects, rebase."""
    root = ws.root
    head = _rev(root, "HEAD")
    if _is_ancestor(root, tip, head):
        return  # nothing new on the shared branch
    if _is_ancestor(root, head, tip):
        store.fast_forward(root, tip)  # nothing local
        return
    if run.forgiven is None:
        run.forgiven = {str(p) for p in checks.check(Workspace(root))}
    renames = renumber.clashes(root, tip, head)
    if renames:
        rewritten = renumber.renumber(root, tip, head, renames)
        _trace(run.origins, {new: old for old, new in rewritten.items()})
        head = rewritten[head]
        store.reset_keep(root, head)
        for old, new in renames.items():
            first = next((k for k, v in run.renumbered.items() if v == old), old)
            run.renumbered[first] = new
    _rebase(ws, target, tip, run.origins)
    _trace(run.origins, _rebased_from(root, tip, head))


def _trace(origins: dict[str, str], rewritten: dict[str, str]) -> None:
    """Record that each new commit of *rewritten* (new → the commit it was made from) comes from
    that commit's original."""
    for new, old in rewritten.items():
        origins[new] = origins.get(old, old)


def _rebase(ws: Workspace, target: _Target, tip: str, origins: dict[str, str]) -> None:
    """``git rebase tip``; a conflict is aborted (the caller restores the branch) and reported
    as the projects and stages both sides changed."""
    root = ws.root
    try:
        store.rebase(root, tip)
    except StoreError as exc:
        if not _rebasing(root):
            raise StoreError(
                _("cannot put your commits on top of {branch}: {error}").format(branch=target.shown, error=exc.message)
            ) from None
        paths = store.conflicted_paths(root)
        stopped = store.resolve(root, "REBASE_HEAD") or ""
        ours = store.commit_line(root, origins.get(stopped, stopped))
        store.abort_rebase(root)
        if not paths:
            raise StoreError(
                _("cannot put your commits on top of {branch}: {error}").format(branch=target.shown, error=exc.message)
            ) from None
        raise SyncConflict(_conflict_message(ws, target, tip, paths, ours)) from None


def _conflict_message(ws: Workspace, target: _Target, tip: str, paths: list[str], ours: str) -> str:
    """Which project and stage both sides changed, who changed it there, and what to do."""
    base = store.merge_base(ws.root, tip, "HEAD")
    lines, people = [], set()
    for path in paths:
        theirs = store.log_fields(ws.root, ("%h", "%an", "%ae", "%s"), "-1", f"{base}..{tip}", "--", path)
        sha, name, email, subject = theirs[0][0] if theirs else ("", "", "", "")
        who = _who(ws, name, email)
        people.add(who)
        lines.append(
            _(
                "{stage}: changed here (your commit {ours}) and by {who} on {branch} (commit {commit} “{subject}”)"
            ).format(stage=_describe(ws, path), ours=ours, who=who, branch=target.shown, commit=sha, subject=subject)
        )
    lines.append(
        _(
            "Nothing was pushed; your commits and files are as they were. Talk to {people} and agree whose "
            "change stands. To build on theirs, drop your commit(s) to that stage (git rebase -i {branch}), run "
            "`xmflow sync`, then make your change again."
        ).format(people=", ".join(sorted(people)), branch=target.shown)
    )
    return "\n".join(lines)


def _describe(ws: Workspace, path: str) -> str:
    """``projects/2026-003/contract.yaml`` → ``2026-003 contract (contract.yaml)``."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != PROJECTS:
        return path
    try:
        stage = next((s.id for s in ws.process.stages if s.file == parts[2]), None)
    except XmflowError:
        stage = None
    return f"{parts[1]} {stage} ({parts[2]})" if stage else f"{parts[1]} ({parts[2]})"


def _who(ws: Workspace, name: str, email: str) -> str:
    try:
        person = ws.people.by_email(email)
    except XmflowError:
        person = None
    return person.label() if person else f"{name} <{email}>"


def _rebased_from(root: Path, tip: str, before_head: str) -> dict[str, str]:
    """Each rebased commit → the local commit it was made from (the rebase keeps author, date and message)."""
    local = {content: sha for sha, content in _by_content(root, f"{tip}..{before_head}")}
    return {sha: local[content] for sha, content in _by_content(root, f"{tip}..HEAD") if content in local}


def _by_content(root: Path, spec: str) -> list[tuple[str, tuple[str, ...]]]:
    """(commit, (its author date, email and message)) for each commit of *spec*, each field read
    exactly (a message cannot pass for another commit's)."""
    return [(sha, tuple(kept)) for (sha, *kept), __ in store.log_fields(root, ("%H", "%aI", "%ae", "%B"), spec)]


# -- git ------------------------------------------------------------------------------------
def _restore(root: Path, orig: str) -> None:
    """Put the branch, index and files back to the saved tip; say where it is if that fails."""
    try:
        if _rebasing(root):
            store.abort_rebase(root)
        if _rev(root, "HEAD") != orig:
            store.reset_keep(root, orig)
    except StoreError as exc:
        raise StoreError(
            _(
                "sync stopped and could not put your branch back by itself ({error}); your commits are "
                "safe at {saved}: git reset --keep {saved}"
            ).format(error=exc.message, saved=SAVED)
        ) from None


def _rev(root: Path, rev: str) -> str:
    return store.rev_parse(root, rev)


def _is_ancestor(root: Path, older: str, newer: str) -> bool:
    return store.is_ancestor(root, older, newer)


def _rebasing(root: Path) -> bool:
    """Whether a rebase is stopped half-way here."""
    return any((root / path).exists() for path in store.git_paths(root, "rebase-merge", "rebase-apply"))

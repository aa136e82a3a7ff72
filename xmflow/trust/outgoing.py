"""What `xmflow sync` may push: the local commits, put on top of the shared branch, checked
before they leave the clone.

Two refusals (exit 1), each naming what and who:

- a finding of ``xmflow verify`` on any commit that would be pushed (the server's hook would
  refuse it too). Findings on commits already on the shared branch are not the pusher's: the
  server accepted them, perhaps with an admin's acknowledgement, and they do not block;
- a signature that came from the shared branch and no longer counts on top of the local
  commits: someone signed there while this clone, not knowing, changed what they signed.

Commit ids in messages are the user's own: a rebased or renumbered commit is named by the
commit it was made from (*origins*: rewritten commit → the user's commit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from xmflow import i18n
from xmflow.errors import RuleError, XmflowError
from xmflow.git import store
from xmflow.i18n import _, ngettext
from xmflow.model import People, Project, Signoff
from xmflow.procedure.process import Process, Step
from xmflow.records import stages as records
from xmflow.records.history import signoff_commit, walk
from xmflow.records.workspace import PROJECTS, Workspace
from xmflow.rules.project import ProjectView
from xmflow.trust import audit, checks


@dataclass(frozen=True)
class Undone:
    """A signature from the shared branch that the local commits undo."""

    project: str
    step: Step
    signoff: Signoff
    made_in: str  # the commit that made it: ``abc1234 “subject”``
    changed_by: tuple[str, ...]  # the user's commits that changed its stage file, likewise


def refuse_unpushable(
    root: Path, shown: str, tip: str | None, orig: str, forgiven: set[str] | None, origins: dict[str, str]
) -> None:
    """Raise RuleError, naming each problem, unless the commits on top of *tip* (all of HEAD's
    when *tip* is None: a first push) may be pushed. *orig*: the branch before the sync;
    *forgiven*: the `xmflow check` problems its working tree had (None: the tree has not moved,
    so whatever check finds was there before)."""
    ws = Workspace(root)
    problems = [str(p) for p in checks.check(ws) if str(p) not in forgiven] if forgiven is not None else []
    mine = set(store.commits_only_in(root, "HEAD", *([tip] if tip else [])))
    found = [f for f in audit.verify(root) if f.commit in mine]
    if problems or found:
        raise RuleError(_unverified_message(root, shown, tip, orig, problems, found, origins))
    if tip is not None:
        undone = undone_signatures(ws, tip, orig, origins)
        if undone:
            raise RuleError(_undone_message(ws.people, shown, undone))


# -- verify ---------------------------------------------------------------------------------
def _unverified_message(
    root: Path,
    shown: str,
    tip: str | None,
    orig: str,
    problems: list[str],
    found: list[audit.Finding],
    origins: dict[str, str],
) -> str:
    """The findings, under the user's own commit ids, split into what the local commits had
    before the sync (theirs to redo through xmflow) and what the combination brought."""
    local = set(store.commits_only_in(root, orig, *([tip] if tip else [])))
    earlier = {_key(f) for f in audit.verify(root, orig) if f.commit in local}
    own = [f for f in found if _key(f) in earlier]
    combined = problems + [str(replace(f, commit=origins.get(f.commit, f.commit))) for f in found if f not in own]
    failed = [name for name, has in (("`xmflow verify`", found), ("`xmflow check`", problems)) if has]
    checks_failed = (
        _("{first} and {second}").format(first=failed[0], second=failed[1]) if len(failed) > 1 else failed[0]
    )
    lines = [
        (
            _(
                "nothing was pushed and your branch is as it was: your commits do not pass {checks} (the shared "
                "repository's hook would refuse them too)."
            )
            if found
            else _("nothing was pushed and your branch is as it was: your commits do not pass {checks}.")
        ).format(checks=checks_failed)
    ]
    if own:
        lines.append(_("Wrong in your commits themselves (a file changed by hand and committed with git, say):"))
        lines += [f"  - {replace(f, commit=origins.get(f.commit, f.commit))}" for f in own]
        lines.append(
            _(
                "Take such a commit out and make the change through xmflow: for your last commit, "
                "`git reset --soft HEAD~1`, then `git restore --staged --worktree FILE`; for an earlier one, "
                "`git rebase -i {shown}` and drop it. Then `xmflow set PROJECT FIELD=VALUE` (or `xmflow edit`) "
                "and `xmflow sync` again."
            ).format(shown=shown)
        )
    if combined:
        lines.append(
            _("Your commits no longer check out on top of {shown} (combined with what others pushed):").format(
                shown=shown
            )
        )
        lines += [f"  - {line}" for line in combined]
        lines.append(
            _(
                "Talk to whoever made the other change (git log {shown}), then sync again once one of you has "
                "set it right."
            ).format(shown=shown)
        )
    return "\n".join(lines)


def _key(finding: audit.Finding) -> tuple[str, ...]:
    return finding.project, finding.stage, finding.step, finding.clause, finding.message


# -- signatures from the shared branch ------------------------------------------------------
def undone_signatures(ws: Workspace, tip: str, orig: str, origins: dict[str, str]) -> list[Undone]:
    """Each signature that counts at *tip*, is not in the records of *orig* (it came from the
    other side) and no longer counts at HEAD, in the projects the local commits change."""
    root, process = ws.root, ws.process
    touched = sorted(_touched(root, tip))
    if not touched:
        return []
    at = {rev: _projects_at(root, process, rev, touched) for rev in (tip, orig, "HEAD")}
    undone = []
    for pid in touched:
        theirs, before, now = at[tip].get(pid), at[orig].get(pid), at["HEAD"].get(pid)
        if theirs is None:
            continue
        known = {s for r in before.records.values() for s in r.signoffs} if before else set()
        still = _counting(ws, now) if now else set()
        lost = [
            (step_id, s)
            for step_id, s in sorted(_counting(ws, theirs), key=lambda c: c[1].at)
            if s not in known and (step_id, s) not in still
        ]
        for step_id, s in lost:
            step = process.step(step_id)
            path = f"{PROJECTS}/{pid}/{process.stage(step.stage).file}"
            undone.append(Undone(pid, step, s, _made_in(ws, tip, pid, s), _changed_by(root, tip, path, origins)))
    return undone


def _touched(root: Path, tip: str) -> set[str]:
    """The projects whose files differ between *tip* and HEAD (what the local commits change)."""
    changed = store.changed_paths(root, tip, "HEAD", f"{PROJECTS}/", quoted=False)
    return {parts[1] for parts in (path.split("/") for path in changed) if len(parts) > 2}


def _projects_at(root: Path, process: Process, rev: str, ids: list[str]) -> dict[str, Project]:
    """These projects as commit *rev* has them (one ``ls-tree``, one ``cat-file``); a project
    missing there, or whose records cannot be read, is left out (verify speaks of those)."""
    files = store.object_ids_at(root, rev, *[f"{PROJECTS}/{i}/" for i in ids])
    blobs = store.read_blobs(root, list(files.values()))
    found = {}
    for pid in ids:
        if any(path.startswith(f"{PROJECTS}/{pid}/") for path in files):
            try:
                found[pid] = records.project_from(process, pid, _reader(files, blobs, f"{PROJECTS}/{pid}/"))
            except XmflowError:
                continue
    return found


def _reader(files: dict[str, str], blobs: dict[str, bytes], folder: str) -> Callable[[str], bytes | None]:
    """Read a project's stage file by name from the blobs of one commit (None: no such file)."""

    def read(name: str) -> bytes | None:
        blob = files.get(folder + name)
        return blobs.get(blob) if blob else None

    return read


def _counting(ws: Workspace, project: Project) -> set[tuple[str, Signoff]]:
    """The signatures that count on these records, by step id (of the steps that apply)."""
    view = ProjectView(project, ws.process, ws.config)
    return {
        (step.id, s) for step in ws.process.steps if view.applies(step) for s in view.valid_signatures(step).values()
    }


def _made_in(ws: Workspace, tip: str, pid: str, signoff: Signoff) -> str:
    """The commit of the shared branch that made a sign-off, as ``abc1234 “subject”``."""
    person = ws.people.by_id(signoff.by)
    commit = signoff_commit(walk(ws.root, tip, f"{PROJECTS}/{pid}"), pid, signoff, person.email) if person else None
    return (
        _("{commit} “{subject}”").format(commit=commit.short, subject=commit.subject)
        if commit
        else _("(its commit is not on the shared branch's main line)")
    )


def _changed_by(root: Path, tip: str, path: str, origins: dict[str, str]) -> tuple[str, ...]:
    """The local commits that changed *path*, oldest first, as ``abc1234 “subject”`` by the
    user's own ids."""
    local = set(store.commits_only_in(root, "HEAD", tip))
    shas = [sha for sha in store.commits_changing(root, "HEAD", path) if sha in local]
    if not shas:
        return ()
    found = store.log_fields(root, ("%h", "%s"), "--no-walk=unsorted", revs=[origins.get(c, c) for c in shas])
    return tuple(_("{commit} “{subject}”").format(commit=short, subject=subject) for (short, subject), _unused in found)


def _undone_message(people: People, shown: str, undone: list[Undone]) -> str:
    """Which signatures, who made them and where, what undoes them, and what to do."""
    lines, signers = [], []
    for u in undone:
        who = _signer(people, u.signoff)
        signers.append(who)
        yours = (
            ngettext("your commit {commits} changes", "your commits {commits} change", len(u.changed_by)).format(
                commits=", ".join(u.changed_by)
            )
            if u.changed_by
            else _("your commits change")
        )
        title = u.step.title if i18n.language() == "zh" else u.step.title_en or u.step.title
        lines.append(
            "  - "
            + _(
                "{project} {step} ({title}): signed by {who} on {day} in commit {commit}; {yours} what "
                "it signed, so it no longer counts"
            ).format(
                project=u.project,
                step=u.step.id,
                title=title,
                who=who,
                day=u.signoff.at.date().isoformat(),
                commit=u.made_in,
                yours=yours,
            )
        )
    talk = _names(list(dict.fromkeys(signers)))
    return (
        ngettext(
            "your changes would undo a signature made on {shown} since you last synced, which you had not seen:",
            "your changes would undo signatures made on {shown} since you last synced, which you had not seen:",
            len(undone),
        ).format(shown=shown)
        + "\n"
        + "\n".join(lines)
        + "\n"
        + _(
            "Nothing was pushed; your commits and files are as they were. Talk to {talk} first. To keep what they "
            "signed, drop your commit(s) to that stage (git rebase -i {shown}) and run `xmflow sync`. To make your "
            "change all the same, knowingly: drop them, run `xmflow sync`, make the change again on top of theirs "
            "(xmflow set then says whose signature it undoes), and ask them to sign again."
        ).format(talk=talk, shown=shown)
    )


def _names(names: list[str]) -> str:
    """People one after the other: 钱七 (qianqi)、赵六 (zhaoliu)."""
    out = names[0] if names else ""
    for name in names[1:]:
        out = _("{names}, {name}").format(names=out, name=name)
    return out


def _signer(people: People, s: Signoff) -> str:
    """Who made a sign-off, by name: a client's signatory with who recorded it, a 代签 with for whom."""

    def label(person_id: str) -> str:
        person = people.by_id(person_id)
        return person.label() if person else person_id

    if s.signatory:
        return _("{signatory} ({role}), recorded by {person}").format(
            signatory=s.signatory, role=s.role, person=label(s.by)
        )
    if s.on_behalf_of:
        return _("{person} for {other}").format(person=label(s.by), other=label(s.on_behalf_of))
    return label(s.by)

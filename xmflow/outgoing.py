"""What `xmflow sync` may push: the local commits, put on top of the shared branch, checked
before they leave the clone.

A finding of ``xmflow verify`` on any commit that would be pushed refuses the push (exit 1;
the server's hook would refuse it too). Findings on commits already on the shared branch are not
the pusher's: the server accepted them, perhaps with an admin's acknowledgement, and they do not
block.

Commit ids in messages are the user's own: a rebased or renumbered commit is named by the
commit it was made from (*origins*: rewritten commit → the user's commit).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from xmflow import audit, checks, store
from xmflow.errors import RuleError
from xmflow.workspace import Workspace


def refuse_unpushable(root: Path, shown: str, tip: str | None, orig: str, forgiven: set[str] | None,
                      origins: dict[str, str]) -> None:
    """Raise RuleError, naming each problem, unless the commits on top of *tip* (all of HEAD's
    when *tip* is None: a first push) may be pushed. *orig*: the branch before the sync;
    *forgiven*: the `xmflow check` problems its working tree had (None: the tree has not moved,
    so whatever check finds was there before)."""
    ws = Workspace(root)
    problems = [str(p) for p in checks.check(ws) if str(p) not in forgiven] if forgiven is not None else []
    mine = set(store.git(root, "rev-list", f"{tip}..HEAD" if tip else "HEAD").split())
    found = [f for f in audit.verify(root) if f.commit in mine]
    if problems or found:
        raise RuleError(_unverified_message(root, shown, tip, orig, problems, found, origins))


# -- verify ---------------------------------------------------------------------------------
def _unverified_message(root: Path, shown: str, tip: str | None, orig: str, problems: list[str],
                        found: list[audit.Finding], origins: dict[str, str]) -> str:
    """The findings, under the user's own commit ids, split into what the local commits had
    before the sync (theirs to redo through xmflow) and what the combination brought."""
    local = set(store.git(root, "rev-list", f"{tip}..{orig}" if tip else orig).split())
    earlier = {_key(f) for f in audit.verify(root, orig) if f.commit in local}
    own = [f for f in found if _key(f) in earlier]
    combined = problems + [str(replace(f, commit=origins.get(f.commit, f.commit))) for f in found if f not in own]
    failed = " and ".join(name for name, has in (("`xmflow verify`", found), ("`xmflow check`", problems)) if has)
    lines = [f"nothing was pushed and your branch is as it was: your commits do not pass {failed}"
             + (" (the shared repository's hook would refuse them too)." if found else ".")]
    if own:
        lines.append("Wrong in your commits themselves (a file changed by hand and committed with git, say):")
        lines += [f"  - {replace(f, commit=origins.get(f.commit, f.commit))}" for f in own]
        lines.append("Take such a commit out and make the change through xmflow: for your last commit, "
                     "`git reset --soft HEAD~1`, then `git restore --staged --worktree FILE`; for an earlier one, "
                     f"`git rebase -i {shown}` and drop it. Then `xmflow set PROJECT FIELD=VALUE` (or `xmflow edit`) "
                     "and `xmflow sync` again.")
    if combined:
        lines.append(f"Your commits no longer check out on top of {shown} (combined with what others pushed):")
        lines += [f"  - {line}" for line in combined]
        lines.append(f"Talk to whoever made the other change (git log {shown}), then sync again once one of you has "
                     "set it right.")
    return "\n".join(lines)


def _key(finding: audit.Finding) -> tuple[str, ...]:
    return finding.project, finding.stage, finding.step, finding.clause, finding.message

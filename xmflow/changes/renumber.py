"""Renumbering for `xmflow sync`: a project id opened in two clones at once (both `xmflow new`
→ ``2026-007``) stays with the shared branch; the unpushed clone's project takes the next free
number of its year.

The local commits are rewritten (files moved to the new folder, the ``Xmflow-Project`` trailer
and the subject's id changed, authors, committers and dates kept) before the rebase. A stage's
digest does not include the project id, so its sign-offs stay valid.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from xmflow.git import store
from xmflow.records.workspace import PROJECTS, next_project_id

_PERSON = re.compile(r"^(author|committer) (.*) <(.*)> (\d+ [+-]\d{4})$", re.M)
_PROJECT_TRAILER = re.compile(r"^(Xmflow-Project[ \t]*:[ \t]*)(\S+)([ \t]*)$", re.I | re.M)
_YEAR_ID = re.compile(r"(\d{4})-\d+")


def clashes(root: Path, tip: str, head: str) -> dict[str, str]:
    """Projects opened both here and on the shared branch since they parted (the same id, two
    projects), each with the next free id for it."""
    base = store.merge_base_or_none(root, tip, head)
    mine, theirs = project_ids(root, head), project_ids(root, tip)
    common = project_ids(root, base) if base else set()
    taken = mine | theirs | common
    renames = {}
    for old in sorted((mine - common) & (theirs - common)):
        renames[old] = free_id(old, taken)
        taken.add(renames[old])
    return renames


def free_id(old: str, taken: set[str]) -> str:
    """The next ``YYYY-NNN`` of the id's year; an id given with --id gets ``-2``, ``-3``…"""
    year = _YEAR_ID.fullmatch(old)
    if year:
        return next_project_id(sorted(taken), int(year.group(1)))
    return next(f"{old}-{n}" for n in range(2, len(taken) + 3) if f"{old}-{n}" not in taken)


def project_ids(root: Path, rev: str) -> set[str]:
    """The ids of the project folders at *rev*."""
    return {path.split("/", 1)[1] for path in store.folders_at(root, rev, f"{PROJECTS}/") if "/" in path}


def renumber(root: Path, tip: str, head: str, renames: dict[str, str]) -> dict[str, str]:
    """Rewrite the local commits (those not on *tip*) so each renamed project lives under its new
    id: each old commit → its rewrite. Authors, committers, dates and other trailers are kept."""
    mapping: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="xmflow-sync-") as scratch:
        index = os.path.join(scratch, "index")
        local = set(store.commits_only_in(root, head, tip))
        for sha, parents in store.ancestry(root, head):
            if sha not in local:
                continue
            tree = _renamed_tree(root, sha, renames, index)
            raw = store.raw_commit(root, sha)
            header, _, message = raw.partition("\n\n")
            msg_file = Path(scratch, "message")
            msg_file.write_text(renamed_message(message, renames), encoding="utf-8")
            env = {
                f"GIT_{role.upper()}_{part}": value
                for role, name, email, stamp in _PERSON.findall(header)
                for part, value in (("NAME", name), ("EMAIL", email), ("DATE", f"@{stamp}"))
            }
            mapping[sha] = store.commit_tree(root, tree, [mapping.get(p, p) for p in parents], msg_file, env)
    return mapping


def _renamed_tree(root: Path, sha: str, renames: dict[str, str], index: str) -> str:
    """The commit's tree with ``projects/OLD/`` moved to ``projects/NEW/`` (built in the scratch
    index file *index*)."""
    present = project_ids(root, sha) & set(renames)
    if not present:
        return store.tree_of(root, sha)
    store.read_tree(root, sha, index)
    for old in sorted(present):
        store.remove_from_index(root, f"{PROJECTS}/{old}", index)
        store.read_tree(root, f"{sha}:{PROJECTS}/{old}", index, prefix=f"{PROJECTS}/{renames[old]}/")
    return store.write_tree(root, index)


def renamed_message(message: str, renames: dict[str, str]) -> str:
    """The subject's leading id and the ``Xmflow-Project`` trailer (last paragraph) renamed."""
    first, space, rest = message.partition(" ")
    if first in renames:
        message = renames[first] + space + rest
    body, sep, trailers = message.rpartition("\n\n")
    trailers = _PROJECT_TRAILER.sub(lambda m: m[1] + renames.get(m[2], m[2]) + m[3], trailers)
    return body + sep + trailers

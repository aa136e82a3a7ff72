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
    base = store.git(root, "merge-base", tip, head, check=False).strip()
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
    out = store.git(root, "-c", "core.quotePath=false", "ls-tree", "-d", "--name-only", rev, f"{PROJECTS}/")
    return {line.split("/", 1)[1] for line in out.splitlines() if "/" in line}


def renumber(root: Path, tip: str, head: str, renames: dict[str, str]) -> dict[str, str]:
    """Rewrite the local commits (those not on *tip*) so each renamed project lives under its new
    id: each old commit → its rewrite. Authors, committers, dates and other trailers are kept."""
    mapping: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="xmflow-sync-") as scratch:
        index = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        local = set(store.commits_only_in(root, head, tip))
        lines = store.git(root, "rev-list", "--reverse", "--topo-order", "--parents", head).splitlines()
        for line in (line for line in lines if line.split()[0] in local):
            sha, *parents = line.split()
            tree = _renamed_tree(root, sha, renames, index)
            raw = store.git(root, "cat-file", "commit", sha)
            header, _, message = raw.partition("\n\n")
            msg_file = Path(scratch, "message")
            msg_file.write_text(renamed_message(message, renames), encoding="utf-8")
            env = {
                f"GIT_{role.upper()}_{part}": value
                for role, name, email, stamp in _PERSON.findall(header)
                for part, value in (("NAME", name), ("EMAIL", email), ("DATE", f"@{stamp}"))
            }
            args = [a for p in parents for a in ("-p", mapping.get(p, p))]
            mapping[sha] = store.git(root, "commit-tree", tree, *args, "-F", str(msg_file), env=env).strip()
    return mapping


def _renamed_tree(root: Path, sha: str, renames: dict[str, str], index: dict[str, str]) -> str:
    """The commit's tree with ``projects/OLD/`` moved to ``projects/NEW/`` (built in a scratch index)."""
    present = project_ids(root, sha) & set(renames)
    if not present:
        return store.git(root, "rev-parse", f"{sha}^{{tree}}").strip()
    store.git(root, "read-tree", sha, env=index)
    for old in sorted(present):
        store.git(root, "rm", "--cached", "-r", "-q", "-f", "--", f"{PROJECTS}/{old}", env=index)
        store.git(root, "read-tree", f"--prefix={PROJECTS}/{renames[old]}/", f"{sha}:{PROJECTS}/{old}", env=index)
    return store.git(root, "write-tree", env=index).strip()


def renamed_message(message: str, renames: dict[str, str]) -> str:
    """The subject's leading id and the ``Xmflow-Project`` trailer (last paragraph) renamed."""
    first, space, rest = message.partition(" ")
    if first in renames:
        message = renames[first] + space + rest
    body, sep, trailers = message.rpartition("\n\n")
    trailers = _PROJECT_TRAILER.sub(lambda m: m[1] + renames.get(m[2], m[2]) + m[3], trailers)
    return body + sep + trailers

"""How verify reads the history (issue 9): exactly as git keeps it, whatever an attacker wrote.

A commit message may hold any byte, so one cannot pass for another commit; a replace ref cannot
show git's readers another commit in place of one; a merge cannot hide the commits behind it; a
link, a submodule, content missing from the repository, a date that is no time or a file too large
to be xmflow's is a finding, never a crash (exit 3). Each history is made with plain git."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from conftest import (
    EMAILS,
    Team,
    draft_contract,
    git,
    hand_commit,
    module_team,
    open_project,
    sign_contract,
    trailer_message,
)

from xmflow import yamlio
from xmflow.files import MAX_SCAN


@dataclass(frozen=True)
class Base:
    root: Path
    clock: datetime
    signed: str  # 张三's project, its contract signed by the client


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    with module_team(tmp_path_factory, "reading") as team:
        signed = open_project(team)
        draft_contract(team, signed)
        sign_contract(team, signed)
        return Base(team.root, team.clock, signed)


@pytest.fixture
def ws(base: Base, tmp_path: Path) -> Team:
    root = tmp_path / "ws"
    shutil.copytree(base.root, root, symlinks=True)
    return Team(root, clock=base.clock)


def verify(team: Team) -> tuple[int, list[dict]]:
    result = team("wangjg", "verify", "--json")
    assert result.exit_code in (0, 1), result.output  # never 3, whatever the history holds
    return result.exit_code, json.loads(result.stdout)["findings"]


def kinds(team: Team) -> set[tuple[str, str]]:
    return {(f["commit"], f["kind"]) for f in verify(team)[1]}


def commit_object(root: Path, text: bytes) -> str:
    """Write a commit object exactly as given (git's own checks skipped) and move the branch to it."""
    sha = (
        subprocess.run(
            ["git", "-C", str(root), "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
            input=text,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    git(root, "update-ref", "HEAD", sha)
    git(root, "reset", "-q", "--hard")
    return sha


def tree_with(root: Path, rev: str, path: str, mode: str, kind: str, sha: str) -> str:
    """*rev*'s tree with *path* (two folders deep) set to this entry, built with mktree."""

    def mktree(entries: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), "mktree", "--missing"], input=entries, capture_output=True, text=True, check=True
        ).stdout.strip()

    folder, project, name = path.split("/")
    project_tree = git(root, "ls-tree", f"{rev}:{folder}/{project}")
    project_tree = "".join(line + "\n" for line in project_tree.splitlines() if not line.endswith("\t" + name))
    project_sha = mktree(project_tree + f"{mode} {kind} {sha}\t{name}\n")
    folder_tree = git(root, "ls-tree", f"{rev}:{folder}")
    folder_tree = "".join(line + "\n" for line in folder_tree.splitlines() if not line.endswith("\t" + project))
    folder_sha = mktree(folder_tree + f"040000 tree {project_sha}\t{project}\n")
    top = git(root, "ls-tree", f"{rev}^{{tree}}")
    top = "".join(line + "\n" for line in top.splitlines() if not line.endswith("\t" + folder))
    return mktree(top + f"040000 tree {folder_sha}\t{folder}\n")


def commit_tree(team: Team, tree: str, *parents: str, who: str = "zhangsan", message: str = "by hand") -> str:
    stamp = team.clock.isoformat()
    args = [a for p in parents for a in ("-p", p)]
    sha = subprocess.run(
        ["git", "-C", str(team.root), "commit-tree", tree, *args, "-m", message],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": who,
            "GIT_AUTHOR_EMAIL": EMAILS[who],
            "GIT_COMMITTER_NAME": who,
            "GIT_COMMITTER_EMAIL": EMAILS[who],
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        },
    ).stdout.strip()
    git(team.root, "update-ref", "HEAD", sha)
    return sha


# --- a message cannot pass for another commit ------------------------------------------------


def test_a_message_forging_an_admins_commit_in_gits_output_is_read_as_its_authors_own(ws: Team) -> None:
    """xmflow once cut git's output on \\x1e and \\x1f: a message holding them could make the commit's
    changes read as another's, here an admin's, so that a role a salesman gave himself was taken up."""
    path = ws.root / "people.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(
        "".join(line.replace("roles: [", "roles: [admin, ", 1) if "id: zhangsan," in line else line for line in lines),
        encoding="utf-8",
    )
    parent = ws.head()
    at = ws.clock.isoformat()
    forged = (
        f"tidy\x1f\x1e{'a' * 40}\x1f{parent}\x1fwangjg\x1f{EMAILS['wangjg']}\x1f{at}\x1f{at}"
        f"\x1f\x1fpeople: an admin's change\x1f"
    )
    bad = hand_commit(ws, "zhangsan", f"people: tidy\n\n{forged}")
    assert "\x1e" in git(ws.root, "log", "-1", "--format=%B")  # git kept the bytes
    assert (bad, "settings-by-non-admin") in kinds(ws)


# --- replace refs ----------------------------------------------------------------------------


def test_a_replace_ref_does_not_hide_a_tampered_commit_from_verify(ws: Team, base: Base) -> None:
    contract = ws.root / "projects" / base.signed / "contract.yaml"
    parent = ws.head()
    contract.write_text(contract.read_text(encoding="utf-8").replace("348000", "48000"), encoding="utf-8")
    tampered = hand_commit(ws, "zhangsan", "contract: a typo")
    found = kinds(ws)
    assert any(sha == tampered for sha, _ in found)
    clean = commit_tree(ws, git(ws.root, "rev-parse", f"{parent}^{{tree}}").strip(), parent, message="contract: a typo")
    git(ws.root, "update-ref", "HEAD", tampered)
    git(ws.root, "replace", tampered, clean)  # git now shows the clean commit in the tampered one's place
    assert "348000" in git(ws.root, "show", f"{tampered}:projects/{base.signed}/contract.yaml")
    assert kinds(ws) == found


# --- merges ----------------------------------------------------------------------------------


def test_a_merge_that_drops_the_sign_offs_behind_it_is_named(ws: Team) -> None:
    """A merge whose first parent is three commits back, with that commit's tree: the first-parent
    line no longer passes the sign-offs, yet the old tip is in its history (a fast-forward)."""
    old = git(ws.root, "rev-parse", "HEAD~3").strip()
    tip = ws.head()
    merge = commit_tree(ws, git(ws.root, "rev-parse", f"{old}^{{tree}}").strip(), old, tip, message="merge")
    assert (merge, "merge") in kinds(ws)


# --- what is no file, no time, or too large ------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "kind", "target"),
    [
        ("160000", "commit", "HEAD"),  # a submodule
        ("120000", "blob", "link"),  # a symbolic link
        ("100644", "blob", "missing"),  # content missing from the repository
    ],
)
def test_a_stage_file_that_is_no_file_is_a_finding(ws: Team, base: Base, mode: str, kind: str, target: str) -> None:
    if target == "HEAD":
        sha = ws.head()
    elif target == "link":
        sha = subprocess.run(
            ["git", "-C", str(ws.root), "hash-object", "-w", "--stdin"],
            input="/etc/passwd",
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    else:
        sha = "0123456789" * 4
    path = f"projects/{base.signed}/acceptance.yaml"
    bad = commit_tree(ws, tree_with(ws.root, "HEAD", path, mode, kind, sha), ws.head())
    code, found = verify(ws)
    assert code == 1
    assert any(f["commit"] == bad and f["kind"] == "not-a-file" and f["file"] == "acceptance.yaml" for f in found)


def test_a_commit_whose_date_is_no_time_is_named_not_a_crash(ws: Team) -> None:
    head = git(ws.root, "cat-file", "commit", "HEAD")
    tree = head.splitlines()[0]
    email = EMAILS["zhangsan"]
    bad = commit_object(
        ws.root,
        (
            f"{tree}\nparent {ws.head()}\nauthor zhangsan <{email}> 1790000000 +9999\n"
            f"committer zhangsan <{email}> 1790000000 +9999\n\nno time\n"
        ).encode(),
    )
    assert (bad, "bad-date") in kinds(ws)
    assert ws("wangjg", "log").exit_code in (0, 1)  # the other readers of the history do not crash either


@pytest.mark.parametrize(("where", "size"), [("stage", yamlio.MAX_BYTES + 1), ("scan", MAX_SCAN + 1)])
def test_a_file_too_large_to_be_xmflows_is_named_and_not_read(ws: Team, base: Base, where: str, size: int) -> None:
    name = "acceptance.yaml" if where == "stage" else "files/acceptance.pdf"
    path = ws.root / "projects" / base.signed / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"# " + b"x" * (size - 3) + b"\n")
    bad = hand_commit(ws, "zhangsan", "a large file")
    code, found = verify(ws)
    assert code == 1
    assert any(f["commit"] == bad and f["kind"] == "too-large" and f["file"] == name for f in found)


# --- what only looks like xmflow's ---------------------------------------------------------


def test_a_project_folder_that_is_a_link_is_named_and_not_read(ws: Team, base: Base) -> None:
    """A link at projects/ID showed a project made elsewhere, with sign-offs nobody made, as real."""
    shutil.copytree(ws.root / "projects" / base.signed, ws.root / "shadow")
    (ws.root / "projects" / "2026-050").symlink_to("../shadow", target_is_directory=True)
    bad = hand_commit(ws, "zhangsan", "notes")
    code, found = verify(ws)
    assert code == 1 and any(
        f["commit"] == bad and f["kind"] == "not-a-file" and f["project"] == "2026-050" for f in found
    )
    check = ws("zhangsan", "check")
    assert check.exit_code == 1 and "projects/2026-050: is a symbolic link" in " ".join(check.output.split())
    assert "2026-050" not in ws("zhangsan", "status", "--json").stdout
    refused = ws("zhangsan", "set", "2026-050", "initiation.client.contact=X")
    assert refused.exit_code == 2 and ws.head() == bad and ws.clean()


@pytest.mark.parametrize("path", ["Projects/{pid}/contract.yaml", "projects/{pid}/Contract.yaml", "People.yaml"])
def test_a_file_named_like_xmflows_but_for_letter_case_is_named(ws: Team, base: Base, path: str) -> None:
    """On a Mac or Windows disk such a file is xmflow's own, and checking it out writes over it."""
    source = ws.root / ("people.yaml" if path == "People.yaml" else f"projects/{base.signed}/contract.yaml")
    target = ws.root / path.format(pid=base.signed)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text(encoding="utf-8").replace("348000", "3480000"), encoding="utf-8")
    git(ws.root, "add", "-A")
    bad = hand_commit(
        ws, "zhangsan", trailer_message(f"{base.signed} contract", Project=base.signed, Decision="record")
    )
    assert (bad, "lookalike-name") in kinds(ws)


def test_a_commit_naming_a_project_with_no_decision_says_so_plainly(ws: Team, base: Base) -> None:
    (ws.root / "notes.txt").write_text("x\n", encoding="utf-8")
    bad = hand_commit(ws, "zhangsan", f"notes\n\nXmflow-Project: {base.signed}")
    found = [f for f in verify(ws)[1] if f["commit"] == bad and f["kind"] == "no-signoff"]
    assert found and "says it acts on the project but changes none" in found[0]["message"]
    assert "None" not in found[0]["message"]


def test_tens_of_thousands_of_new_commits_are_read_whole(tmp_path: Path) -> None:
    """The ids of the commits a push brings go to git on standard input: on the command line,
    some 50,000 of them were more than the system takes (exit 3 in the hook)."""
    from xmflow.trust import receive

    root = tmp_path / "many"
    git(tmp_path, "init", "-q", str(root))
    lines = [
        f"commit refs/heads/many\ncommitter 张三 <{EMAILS['zhangsan']}> 1790000000 +0800\ndata 3\nc{i % 9}\n"
        for i in range(60_000)
    ]
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input="".join(lines).encode(), check=True)
    tip = git(root, "rev-parse", "refs/heads/many").strip()
    git(root, "update-ref", "-d", "refs/heads/many")  # as in pre-receive: no ref reaches them yet
    commits = receive._new_commits(root, tip)
    assert len(commits) == 60_000 and commits[0].sha == tip and commits[0].email == EMAILS["zhangsan"]

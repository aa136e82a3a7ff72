"""Two commands at once and a command killed at any moment (issue 9): one changing command at a
time holds the workspace lock from reading to committing, and a change is committed whole or
not at all — the next command finds it there or absent, or finishes it and says so."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EMAILS, Team, draft_contract, git, module_team, open_project
from typer.testing import CliRunner

from xmflow.cli.entry import app
from xmflow.git.lock import workspace_lock

SEED = 9
LOOP = {  # the supervisor's reject loop (3.5.2): it can go round for ever, one sign at a time
    "contract.draft": ("zhangsan", ()),
    "contract.self_review": ("zhangsan", ()),
    "contract.supervisor_review": ("zhaoliu", ("--reject", "-m", "退回")),
}


# --- helpers -------------------------------------------------------------------------------------
def xmflow(root: Path, who: str, *args: str, group: bool = False, wait: float | None = None) -> subprocess.Popen:
    """Start `python -m xmflow -C ROOT ...` as its own process, acting as *who*; *group*: in a
    process group of its own, so that it can be killed with every git it runs."""
    env = {**os.environ, "GIT_AUTHOR_EMAIL": EMAILS[who]}
    if wait is not None:
        env["XMFLOW_LOCK_WAIT"] = str(wait)
    return subprocess.Popen(
        [sys.executable, "-m", "xmflow", "-C", str(root), *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=group,
    )


def finished(proc: subprocess.Popen) -> tuple[int, str]:
    """Wait for a command; its exit code and everything it printed."""
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out + err


def run(root: Path, who: str, *args: str):
    """Run a command in this process on the real clock (after commands made by other processes,
    a fixed test clock would date it in the past)."""
    return CliRunner().invoke(app, ["-C", str(root), *args], env={"GIT_AUTHOR_EMAIL": EMAILS[who]})


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def porcelain(root: Path) -> str:
    return git(root, "status", "--porcelain", "--untracked-files=all")


def read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def journal_of(root: Path) -> Path:
    return root / ".git" / "xmflow" / "journal"


def hook(root: Path, name: str, body: str) -> None:
    path = root / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)


def wait_for(path: Path, proc: subprocess.Popen) -> None:
    """Until *path* exists (a hook's marker): the command is at that point now."""
    for _ in range(600):
        if path.exists():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def next_step(root: Path, pid: str) -> str:
    states = {s["step"]: s["state"] for s in json.loads(run(root, "wangjg", "status", pid, "--json").stdout)["steps"]}
    return next(step for step in LOOP if states[step] == "waiting")


@dataclass
class Workspace:
    """A workspace with a project in the supervisor's reject loop (signs) and one whose contract
    is being filled in (sets)."""

    root: Path
    looping: str
    filling: str


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    with module_team(tmp_path_factory, "concurrency") as team:
        looping, filling = open_project(team), open_project(team)
        draft_contract(team, looping)
        return Workspace(team.root, looping, filling)


@pytest.fixture
def ws(base: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the base workspace (faster than making one each time)."""
    shutil.copytree(base.root, tmp_path / "ws", symlinks=True)
    return Workspace(tmp_path / "ws", base.looping, base.filling)


# --- kill -9 at random moments ---------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One change to kill: the command, and what its commit and file look like when it lands."""

    who: str
    args: tuple[str, ...]
    path: str
    trailer: str


def a_change(ws: Workspace, rng: random.Random, n: int) -> Change:
    kind = rng.choices(["sign", "set", "new"], weights=[3, 1, 1])[0]
    if kind == "set":
        return Change(
            "zhangsan",
            ("set", ws.filling, f"contract.notes=第{n}次"),
            f"projects/{ws.filling}/contract.yaml",
            f"Xmflow-Project: {ws.filling}",
        )
    if kind == "new":
        return Change(
            "zhangsan",
            ("new", f"项目{n}", "--client", "客户", "--budget", "1万", "--id", f"K{n}"),
            f"projects/K{n}/project.yaml",
            f"Xmflow-Project: K{n}",
        )
    step = next_step(ws.root, ws.looping)
    who, extra = LOOP[step]
    return Change(
        who, ("sign", ws.looping, step, *extra), f"projects/{ws.looping}/contract.yaml", f"Xmflow-Step: {step}"
    )


def one_run(ws: Workspace) -> float:
    """How long one whole `sign` takes here, start-up included (the horizon of the kills)."""
    step = next_step(ws.root, ws.looping)
    who, extra = LOOP[step]
    started = time.perf_counter()
    code, output = finished(xmflow(ws.root, who, "sign", ws.looping, step, *extra))
    assert code == 0, output
    return time.perf_counter() - started


def kill_and_check(ws: Workspace, rng: random.Random, n: int, run_time: float, group: bool) -> str:
    """Start a change, kill it at a random moment (every other one near its commit), run the
    next command and check that the change is there whole or not at all; returns where the kill
    landed."""
    change = a_change(ws, rng, n)
    before_head, before = head(ws.root), read(ws.root / change.path)
    proc = xmflow(ws.root, change.who, *change.args, group=group)
    if n % 2:
        time.sleep(rng.uniform(0, 1.1 * run_time))
    else:  # from the moment its journal appears (or its file changes): the change is being written
        while proc.poll() is None and not journal_of(ws.root).exists() and read(ws.root / change.path) == before:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.1 * run_time))
    try:
        os.killpg(proc.pid, signal.SIGKILL) if group else os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()
    in_flight, moved = journal_of(ws.root).exists(), head(ws.root) != before_head
    landed = (
        "after the command ended"
        if proc.returncode == 0
        else "during the commit, committed"
        if in_flight and moved
        else "during the commit, not committed"
        if in_flight
        else "after the commit"
        if moved
        else "before the commit"
    )

    after = run(ws.root, "wangjg", "status", ws.looping, "--json")  # the next command
    assert after.exit_code == 0, after.output
    assert porcelain(ws.root) == "", f"kill {n} ({landed}) left: {porcelain(ws.root)}"
    assert not journal_of(ws.root).exists()
    if head(ws.root) == before_head:
        assert read(ws.root / change.path) == before, f"kill {n} ({landed}): the file changed without a commit"
    else:
        assert git(ws.root, "rev-parse", "HEAD~1").strip() == before_head
        assert change.trailer in git(ws.root, "log", "-1", "--format=%B")
        assert git(ws.root, "show", f"HEAD:{change.path}").encode() == read(ws.root / change.path)
    if in_flight and moved:
        assert "finished writing the files of the interrupted change" in after.stderr
    return landed + (" (a git lock it left removed)" if "left by a git it ran" in after.stderr else "")


@pytest.mark.parametrize("group", [False, True], ids=["kill -9 of xmflow", "kill -9 of its process group"])
def test_a_change_killed_at_any_moment_is_there_whole_or_not_at_all(ws: Workspace, group: bool) -> None:
    rng = random.Random(SEED + group)
    run_time = max(one_run(ws), one_run(ws))
    landed = Counter(kill_and_check(ws, rng, n, run_time, group) for n in range(28 if not group else 22))
    print(
        f"\n{'killpg' if group else 'kill'} -9 at random moments of a {run_time * 1000:.0f} ms run: "
        f"{dict(sorted(landed.items()))}"
    )
    verified = run(ws.root, "wangjg", "verify")
    assert verified.exit_code == 0, verified.output


# --- killed at a known moment --------------------------------------------------------------------
def test_a_change_killed_after_its_commit_is_finished_by_the_next_changing_command(ws: Workspace) -> None:
    mark = ws.root.parent / "committed"
    hook(ws.root, "post-commit", f"touch '{mark}'; sleep 30")
    before = head(ws.root)
    proc = xmflow(ws.root, "zhaoliu", "sign", ws.looping, "contract.supervisor_review", group=True)
    wait_for(mark, proc)
    kill_group(proc)
    (ws.root / ".git" / "hooks" / "post-commit").unlink()
    landed = head(ws.root)
    assert landed != before and journal_of(ws.root).exists()
    assert "supervisor_review" not in (ws.root / f"projects/{ws.looping}/contract.yaml").read_text(encoding="utf-8")

    code, output = finished(xmflow(ws.root, "qianqi", "sign", ws.looping, "contract.business_review"))
    assert code == 0, output
    assert f"xmflow: finished writing the files of the interrupted change {landed[:7]}" in output
    assert git(ws.root, "rev-parse", "HEAD~1").strip() == landed and porcelain(ws.root) == ""
    text = (ws.root / f"projects/{ws.looping}/contract.yaml").read_text(encoding="utf-8")
    assert "contract.supervisor_review" in text and "contract.business_review" in text
    assert run(ws.root, "wangjg", "verify").exit_code == 0


def test_a_change_killed_before_its_commit_leaves_nothing_and_the_next_command_says_so(ws: Workspace) -> None:
    mark = ws.root.parent / "committing"
    hook(ws.root, "pre-commit", f"touch '{mark}'; sleep 30")
    before, path = head(ws.root), ws.root / f"projects/{ws.looping}/contract.yaml"
    text = path.read_bytes()
    proc = xmflow(ws.root, "zhaoliu", "sign", ws.looping, "contract.supervisor_review", group=True)
    wait_for(mark, proc)
    kill_group(proc)
    (ws.root / ".git" / "hooks" / "pre-commit").unlink()
    assert journal_of(ws.root).exists() and head(ws.root) == before and path.read_bytes() == text

    result = run(ws.root, "zhangsan", "set", ws.filling, "contract.notes=下一条")
    assert result.exit_code == 0, result.output
    assert f"the interrupted change to projects/{ws.looping}/contract.yaml was not committed" in result.stderr
    assert git(ws.root, "rev-parse", "HEAD~1").strip() == before and path.read_bytes() == text
    assert porcelain(ws.root) == "" and not list((ws.root / ".git" / "xmflow").glob("index-*"))

    hook(ws.root, "pre-commit", "echo 'hook says no' >&2; exit 1")  # a commit refused leaves nothing either
    refused = run(ws.root, "zhaoliu", "sign", ws.looping, "contract.supervisor_review")
    assert refused.exit_code == 2 and "hook says no" in refused.output
    assert not journal_of(ws.root).exists() and not list((ws.root / ".git" / "xmflow").glob("index-*"))
    assert porcelain(ws.root) == "" and path.read_bytes() == text


def test_a_git_lock_left_by_the_killed_command_is_removed_and_one_from_before_is_not(ws: Workspace) -> None:
    mark, lock = ws.root.parent / "committed", ws.root / ".git" / "index.lock"
    hook(ws.root, "post-commit", f"touch '{lock}' '{mark}'; sleep 30")  # as a git killed holding the index
    proc = xmflow(ws.root, "zhaoliu", "sign", ws.looping, "contract.supervisor_review", group=True)
    wait_for(mark, proc)
    kill_group(proc)
    (ws.root / ".git" / "hooks" / "post-commit").unlink()
    after = run(ws.root, "wangjg", "status", ws.looping, "--json")
    assert after.exit_code == 0
    assert "finished writing the files" in after.stderr and "removed .git/index.lock" in after.stderr
    assert not lock.exists() and porcelain(ws.root) == ""

    lock.touch()  # a git of the user's own, running or crashed: not xmflow's to remove
    before = head(ws.root)
    code, output = finished(xmflow(ws.root, "qianqi", "sign", ws.looping, "contract.business_review"))
    assert code == 2 and "git's index is locked" in output and str(lock) in output
    assert lock.exists() and head(ws.root) == before
    lock.unlink()
    assert porcelain(ws.root) == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_a_git_commit_does_not_outlive_a_killed_xmflow(ws: Workspace) -> None:
    """kill -9 of xmflow alone, in its commit: its git commit dies with it, rather than landing
    after the next command has found the change not committed and dropped it."""
    mark, done = ws.root.parent / "committing", ws.root.parent / "hook-done"
    hook(ws.root, "pre-commit", f"touch '{mark}'; sleep 1; touch '{done}'")
    before = head(ws.root)
    proc = xmflow(ws.root, "zhaoliu", "sign", ws.looping, "contract.supervisor_review", group=True)
    wait_for(mark, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result = run(ws.root, "wangjg", "status", ws.looping, "--json")
    assert "was not committed" in result.stderr
    for _ in range(300):  # the orphaned hook runs on; a git commit waiting for it would commit next
        if done.exists():
            break
        time.sleep(0.02)
    time.sleep(0.5)
    kill_group(proc)
    assert head(ws.root) == before and porcelain(ws.root) == ""


def test_a_file_edited_by_hand_after_the_kill_is_left_as_it_is(ws: Workspace) -> None:
    mark = ws.root.parent / "committed"
    hook(ws.root, "post-commit", f"touch '{mark}'; sleep 30")
    proc = xmflow(ws.root, "zhangsan", "set", ws.filling, "contract.notes=提交的", group=True)
    wait_for(mark, proc)
    kill_group(proc)
    (ws.root / ".git" / "hooks" / "post-commit").unlink()
    path = ws.root / f"projects/{ws.filling}/contract.yaml"
    path.write_text("notes: 手改的\n", encoding="utf-8")
    after = run(ws.root, "wangjg", "status", ws.filling, "--json")
    assert f"left projects/{ws.filling}/contract.yaml as it was changed since" in after.stderr
    assert path.read_text(encoding="utf-8") == "notes: 手改的\n"
    assert porcelain(ws.root) == f" M projects/{ws.filling}/contract.yaml\n"  # against the commit that landed
    assert "提交的" in git(ws.root, "show", f"HEAD:projects/{ws.filling}/contract.yaml")


def test_a_journal_whose_branch_moved_on_is_dropped_with_a_word(ws: Workspace) -> None:
    mark = ws.root.parent / "committing"
    hook(ws.root, "pre-commit", f"touch '{mark}'; sleep 30")
    proc = xmflow(ws.root, "zhangsan", "set", ws.filling, "contract.notes=x", group=True)
    wait_for(mark, proc)
    kill_group(proc)
    (ws.root / ".git" / "hooks" / "pre-commit").unlink()
    git(ws.root, "-c", "user.email=wangjg@example.com", "commit", "-q", "--allow-empty", "-m", "by hand")
    after = run(ws.root, "wangjg", "status", ws.filling, "--json")
    assert "dropped the record of an interrupted change" in after.stderr and "moved" in after.stderr
    assert not journal_of(ws.root).exists() and porcelain(ws.root) == ""


# --- two commands at once ------------------------------------------------------------------------
def test_two_sets_at_once_both_land_one_after_the_other(ws: Workspace) -> None:
    # xmflow's own pre-commit hook runs `xmflow check` while the first holds the lock (and keeps it
    # in its commit a while): the check neither waits for the lock nor touches the change in flight
    assert run(ws.root, "wangjg", "hooks", "install").exit_code == 0
    before = head(ws.root)
    first = xmflow(ws.root, "zhangsan", "set", ws.filling, "contract.number=HT-9")
    second = xmflow(ws.root, "zhangsan", "set", ws.filling, "contract.subject=展厅")
    for proc in (first, second):
        code, output = finished(proc)
        assert code == 0 and "interrupted" not in output, output
    data = json.loads(run(ws.root, "wangjg", "show", ws.filling, "--json").stdout)["stages"]["contract"]["data"]
    assert data["number"] == "HT-9" and data["subject"] == "展厅"
    committed = git(ws.root, "show", f"HEAD:projects/{ws.filling}/contract.yaml")
    assert "HT-9" in committed and "展厅" in committed
    assert git(ws.root, "rev-list", "--count", f"{before}..HEAD").strip() == "2"
    assert git(ws.root, "rev-list", "--merges", "HEAD") == "" and porcelain(ws.root) == ""
    assert run(ws.root, "wangjg", "verify").exit_code == 0


def test_two_signs_of_one_step_at_once_sign_it_once(ws: Workspace) -> None:
    hook(ws.root, "pre-commit", "sleep 0.3")
    procs = [xmflow(ws.root, "zhaoliu", "sign", ws.looping, "contract.supervisor_review") for _ in range(2)]
    results = sorted(finished(proc) for proc in procs)
    assert [code for code, _ in results] == [0, 1], results
    assert "already" in results[1][1] and "contract.supervisor_review" in results[1][1]
    text = (ws.root / f"projects/{ws.looping}/contract.yaml").read_text(encoding="utf-8")
    assert text.count("step: contract.supervisor_review") == 1 and porcelain(ws.root) == ""
    assert run(ws.root, "wangjg", "verify").exit_code == 0


def test_a_command_that_waits_too_long_is_refused_and_changes_nothing(ws: Workspace) -> None:
    before = head(ws.root)
    with workspace_lock(ws.root / ".git"):
        code, output = finished(xmflow(ws.root, "zhangsan", "set", ws.filling, "contract.notes=x", wait=0.3))
        assert code == 2 and "another xmflow command is running in this workspace" in output
        assert f"pid {os.getpid()}" in output
        reading = finished(xmflow(ws.root, "zhangsan", "status", ws.filling, "--json", wait=0.3))
        assert reading[0] == 0, reading  # reading commands do not wait
    assert head(ws.root) == before and porcelain(ws.root) == ""

    # each command run in this process (as the demo runs its script) lets go of it when it ends
    assert run(ws.root, "zhangsan", "set", ws.filling, "contract.notes=x").exit_code == 0
    assert run(ws.root, "zhangsan", "sign", ws.looping, "contract.business_review").exit_code == 1  # refused
    code, output = finished(xmflow(ws.root, "zhangsan", "set", ws.filling, "contract.notes=y", wait=0))
    assert code == 0, output


# --- hand edits, hooks, an unwritable .git/xmflow -------------------------------------------------
def test_a_staged_hand_edit_is_refused_with_advice_that_works(ws: Workspace) -> None:
    rel = f"projects/{ws.looping}/contract.yaml"
    path = ws.root / rel
    path.write_text(path.read_text(encoding="utf-8").replace("HT-1", "HT-666"), encoding="utf-8")
    git(ws.root, "add", rel)
    before = head(ws.root)
    result = run(ws.root, "zhaoliu", "sign", ws.looping, "contract.supervisor_review")
    message = " ".join(result.output.split())
    assert result.exit_code == 2 and f"uncommitted changes in {rel}" in message
    assert f"git restore --staged --worktree -- {rel}" in message and "xmflow set" in message
    assert "git checkout" not in message and head(ws.root) == before

    git(ws.root, "restore", "--staged", "--worktree", "--", rel)
    assert porcelain(ws.root) == ""
    assert run(ws.root, "zhaoliu", "sign", ws.looping, "contract.supervisor_review").exit_code == 0
    assert run(ws.root, "zhangsan", "set", ws.looping, "contract.notes=改由 xmflow").exit_code == 0


def test_a_staged_settings_edit_is_the_admins_to_commit(ws: Workspace) -> None:
    people = ws.root / "people.yaml"
    people.write_text(people.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    git(ws.root, "add", "people.yaml")
    result = run(ws.root, "zhangsan", "set", ws.filling, "contract.notes=x")
    message = " ".join(result.output.split())
    assert result.exit_code == 2 and "if you are the admin, commit people.yaml" in message
    assert "git restore --staged --worktree -- people.yaml" in message


def test_where_xmflows_folder_in_git_cannot_be_made_a_change_is_refused_plainly(team: Team) -> None:
    pid = open_project(team)
    (team.root / ".git" / "xmflow").rename(team.root.parent / "moved")
    (team.root / ".git" / "xmflow").write_text("not a folder")
    before = team.head()
    result = team("zhangsan", "set", pid, "contract.notes=x")
    assert result.exit_code == 2 and "cannot take the workspace lock in" in result.output
    assert team.head() == before and team.clean()
    assert team("wangjg", "status", pid).exit_code == 0  # reading still works

"""`xmflow sync`: two clones of one shared (bare) repository, each acting through the CLI."""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Team, draft_contract, git, hand_commit, open_project

from xmflow.changes import renumber
from xmflow.changes import sync as sync_mod
from xmflow.errors import StoreError
from xmflow.git.lock import workspace_lock
from xmflow.records.workspace import Workspace
from xmflow.trust import audit

_LOG = "%an|%ae|%aI|%s|%(trailers:key=Xmflow-Project,valueonly,separator=)|%(trailers:key=Xmflow-Digest,valueonly)"


@pytest.fixture
def clones(team: Team, tmp_path: Path) -> tuple[Team, Team, Path]:
    """Clone A (the `team` workspace) pushed to a bare server, and clone B made from the server.
    The server logs every update of a branch (old new), to show it only ever moves forward."""
    server = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    hook = server / "hooks" / "update"
    hook.write_text(f'#!/bin/sh\necho "$2 $3" >> "{server / "pushes.log"}"\n')
    hook.chmod(0o755)
    git(team.root, "remote", "add", "origin", str(server))
    git(team.root, "push", "-q", "-u", "origin", "main")
    clone = tmp_path / "b"
    subprocess.run(["git", "clone", "-q", str(server), str(clone)], check=True)
    return team, Team(clone, clock=datetime.fromisoformat("2026-09-01T14:00:00+08:00")), server


def server_head(server: Path) -> str:
    return git(server, "rev-parse", "main").strip()


def assert_only_forward(server: Path) -> None:
    """Every push moved the branch forward: each old tip is an ancestor of the new one."""
    for line in (server / "pushes.log").read_text().splitlines():
        old, new = line.split()
        if set(old) != {"0"}:
            ancestor = subprocess.run(["git", "-C", str(server), "merge-base", "--is-ancestor", old, new])
            assert ancestor.returncode == 0, f"the server's branch was forced from {old} to {new}"


def local_log(t: Team, since: str) -> list[str]:
    return git(t.root, "log", "--reverse", f"--format={_LOG}", f"{since}..HEAD").splitlines()


def sync(t: Team, who: str = "zhangsan"):
    return t(who, "sync")


def drafted_in_both(a: Team, b: Team) -> str:
    """A project A opened and drafted the contract of, on the server and in both clones."""
    pid = open_project(a)
    draft_contract(a, pid)
    a.ok("zhangsan", "sync")
    b.ok("lisi", "sync")
    return pid


def test_a_clean_sync_pushes_and_the_other_clone_receives_it(clones):
    a, b, server = clones
    pid = open_project(a)
    result = sync(a)
    assert result.exit_code == 0, result.output
    assert "0 commit(s) received, 3 pushed" in result.output
    assert server_head(server) == a.head()
    assert git(a.root, "rev-parse", "origin/main").strip() == a.head()
    result = sync(b, "lisi")
    assert result.exit_code == 0, result.output
    assert "3 commit(s) received, 0 pushed" in result.output
    assert b.head() == a.head() and b.state(pid, "initiation.submit") == "signed"
    again = sync(b, "lisi")
    assert again.exit_code == 0 and "0 commit(s) received, 0 pushed" in again.output
    assert_only_forward(server)


def test_a_shared_branch_rewritten_on_the_server_is_refused_and_kept_as_received(clones):
    a, b, server = clones
    open_project(a)
    a.ok("zhangsan", "sync")
    b.ok("lisi", "sync")
    received = a.head()
    git(server, "update-ref", "refs/heads/main", "main~2")  # a forced push past (or without) the server's hook
    open_project(a, who="lisi")
    before = a.head()
    result = a("lisi", "sync")
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert "origin/main was rewritten on the shared repository: 2 commit(s)" in said and "Tell your admin" in said
    assert a.head() == before and a.clean()
    assert git(a.root, "rev-parse", "origin/main").strip() == received  # what this clone received is kept
    assert server_head(server) != before
    # verify, too, names the rewrite (git's reflog keeps the forced update), and so does a plain `git fetch`.
    found = [f for f in audit.verify(a.root) if f.kind == "history-rewritten"]
    assert len(found) == 1 and "origin/main was rewritten on the shared repository" in found[0].message
    git(b.root, "fetch", "-q")
    assert [f.kind for f in audit.verify(b.root)] == ["history-rewritten"]


def test_both_clones_sign_different_projects_and_nothing_is_lost(clones):
    a, b, server = clones
    p1, p2 = open_project(a), open_project(a, who="lisi")
    a.ok("zhangsan", "sync")
    b.ok("lisi", "sync")
    draft_contract(a, p1)
    draft_contract(b, p2, who="lisi")
    signed_a, signed_b = local_log(a, "origin/main"), local_log(b, "origin/main")
    a.ok("zhangsan", "sync")
    result = b.ok("lisi", "sync")
    assert "3 commit(s) received, 3 pushed" in result.output
    a.ok("zhangsan", "sync")
    assert a.head() == b.head() == server_head(server)
    assert git(a.root, "rev-list", "--merges", "HEAD") == ""  # linear: rebased, never merged
    assert local_log(a, "HEAD~6") == signed_a + signed_b  # every commit, author, date and digest kept
    for t, pid in ((a, p1), (a, p2), (b, p1), (b, p2)):
        assert t.state(pid, "contract.self_review") == "signed"
    assert a.ok("wangjg", "verify").exit_code == 0
    assert_only_forward(server)


def test_someone_pushed_first_so_sync_fetches_and_tries_again(clones, monkeypatch):
    a, b, server = clones
    p1, p2 = open_project(a), open_project(a, who="lisi")
    a.ok("zhangsan", "sync")
    b.ok("lisi", "sync")
    draft_contract(a, p1)
    draft_contract(b, p2, who="lisi")
    real_fetch, fetches = sync_mod._fetch, []

    def fetch_then_b_pushes(root, target):
        tip = real_fetch(root, target)
        fetches.append(tip)
        if len(fetches) == 1:  # B gets in between A's fetch and A's push
            git(b.root, "push", "-q", "origin", "main")
        return tip

    monkeypatch.setattr(sync_mod, "_fetch", fetch_then_b_pushes)
    report = sync_mod.sync(Workspace(a.root))
    assert (report.attempts, report.pulled, report.pushed) == (2, 3, 3)
    assert server_head(server) == a.head() and git(a.root, "rev-parse", "HEAD~3").strip() == b.head()
    assert a.state(p1, "contract.self_review") == a.state(p2, "contract.self_review") == "signed"
    assert_only_forward(server)


def test_a_branch_that_keeps_moving_gives_up_and_leaves_the_branch_as_it_was(clones, monkeypatch):
    a, b, server = clones
    open_project(a)
    before, real_fetch = a.head(), sync_mod._fetch

    def fetch_then_b_pushes(root, target):
        tip = real_fetch(root, target)
        (b.root / "NOTES.md").write_text(f"{tip}\n")
        git(b.root, "add", "NOTES.md")
        git(b.root, "commit", "-qm", "notes")
        git(b.root, "push", "-q", "origin", "main")
        return tip

    monkeypatch.setattr(sync_mod, "_fetch", fetch_then_b_pushes)
    result = sync(a)
    assert result.exit_code == 2 and f"others pushed first {sync_mod.ATTEMPTS} times" in result.output
    assert a.head() == before and a.clean()
    assert git(a.root, "for-each-ref", sync_mod.SAVED) == ""
    assert_only_forward(server)


def test_the_same_new_id_in_two_clones_is_renumbered_with_its_signoffs_intact(clones):
    a, b, server = clones
    theirs = open_project(a)
    mine = b.json("lisi", "new", "乙方的项目", "--client", "乙公司", "--budget", "20万")["id"]
    assert mine == theirs == "2026-001"
    b.ok("lisi", "set", mine, "initiation.client.contact=王经理", "initiation.phase=跟踪")
    b.ok("lisi", "sign", mine, "initiation.submit")
    draft_contract(b, mine, who="lisi")
    before = local_log(b, "origin/main")
    a.ok("zhangsan", "sync")
    result = sync(b, "lisi")
    assert result.exit_code == 0, result.output
    assert "project 2026-001 was also made in another clone: yours is now 2026-002" in result.output
    assert "3 commit(s) received, 6 pushed" in result.output
    after = local_log(b, "origin/main~6")
    assert after == [line.replace("2026-001", "2026-002") for line in before]  # authors, dates, digests kept
    assert not git(b.root, "log", "--format=%s", "origin/main~6..HEAD").count("2026-001")
    assert b.json("lisi", "show", "2026-002")["stages"]["initiation"]["data"]["name"] == "乙方的项目"
    assert b.state("2026-002", "contract.self_review") == "signed"
    a.ok("zhangsan", "sync")
    assert a.json("zhangsan", "show", "2026-001")["stages"]["initiation"]["data"]["name"] == "测试项目"
    assert a.state("2026-002", "initiation.submit") == "signed"
    assert a.ok("wangjg", "verify").exit_code == 0
    assert_only_forward(server)


def test_renumbering_reports_the_new_id(clones):
    a, b, _ = clones
    open_project(a)
    b.json("lisi", "new", "乙方的项目", "--client", "乙公司", "--budget", "20万")
    b.json("lisi", "new", "乙方的第二个项目", "--client", "乙公司", "--budget", "20万")
    a.ok("zhangsan", "sync")
    report = sync_mod.sync(Workspace(b.root))
    assert report.renumbered == {"2026-001": "2026-003"}  # its 2026-002 is free on the shared branch: kept
    ids = sorted(p.name for p in (b.root / "projects").iterdir() if p.is_dir())
    assert ids == ["2026-001", "2026-002", "2026-003"]


def test_the_same_stage_changed_in_both_clones_stops_with_the_local_work_intact(clones):
    a, b, server = clones
    pid = open_project(a)
    a.ok("zhangsan", "sync")
    b.ok("lisi", "sync")
    draft_contract(a, pid)
    a.json("zhangsan", "new", "甲方的新项目", "--client", "甲公司", "--budget", "20万")
    b.json("lisi", "new", "乙方的新项目", "--client", "乙公司", "--budget", "20万")  # 2026-002 as well
    b.ok("zhangsan", "set", pid, "contract.number=HT-2", "contract.amount=30万")
    a.ok("zhangsan", "sync")
    head, status, pushed = b.head(), git(b.root, "status", "--porcelain", "--untracked-files=all"), server_head(server)
    result = sync(b)
    assert result.exit_code == 1
    assert f"{pid} contract (contract.yaml): changed here (your commit {head[:7]}" in result.output
    assert "张三 (zhangsan)" in result.output and "nothing was pushed" in result.output.lower()
    assert b.head() == head and git(b.root, "status", "--porcelain", "--untracked-files=all") == status
    assert git(b.root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert "乙方的新项目" in (b.root / "projects" / "2026-002" / "project.yaml").read_text(encoding="utf-8")
    assert not (b.root / "projects" / "2026-003").exists()
    assert git(b.root, "for-each-ref", sync_mod.SAVED) == ""
    assert server_head(server) == pushed
    assert_only_forward(server)


def test_a_combination_that_breaks_the_records_is_not_pushed(clones):
    a, b, server = clones
    pid = drafted_in_both(a, b)
    b.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    people = (a.root / "people.yaml").read_text(encoding="utf-8")
    (a.root / "people.yaml").write_text(
        people.replace("roles: [sales_supervisor]", "roles: [presales]"), encoding="utf-8"
    )
    git(a.root, "-c", "user.email=wangjg@example.com", "commit", "-qam", "赵六 moves to presales")
    a.ok("wangjg", "sync")
    head, pushed = b.head(), server_head(server)
    result = sync(b, "zhaoliu")
    assert result.exit_code == 1
    assert "no longer check out" in result.output and "contract.supervisor_review" in result.output
    assert f"commit {head[:7]}" in result.output  # the user's own commit, not the rebased copy that is gone
    assert b.head() == head and b.clean() and server_head(server) == pushed


def test_uncommitted_changes_are_refused_before_anything_is_fetched(clones):
    a, b, _ = clones
    pid = open_project(a)
    a.ok("zhangsan", "sync")
    b.ok("lisi", "sync")
    a.ok("zhangsan", "set", pid, "contract.number=HT-9")
    a.ok("zhangsan", "sync")
    record = b.root / "projects" / pid / "project.yaml"
    record.write_text(record.read_text(encoding="utf-8") + "# a note\n", encoding="utf-8")
    tracking, head = git(b.root, "rev-parse", "origin/main"), b.head()
    result = sync(b, "lisi")
    assert result.exit_code == 2
    assert f"uncommitted changes in projects/{pid}/project.yaml" in result.output
    assert git(b.root, "rev-parse", "origin/main") == tracking and b.head() == head
    assert record.read_text(encoding="utf-8").endswith("# a note\n")


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda t: git(t.root, "remote", "remove", "origin"), "no remote 'origin'"),
        (lambda t: git(t.root, "checkout", "-q", "--detach"), "detached HEAD"),
    ],
)
def test_sync_refuses_without_a_remote_or_a_branch(clones, setup, message):
    _, b, _ = clones
    setup(b)
    result = sync(b, "lisi")
    assert result.exit_code == 2 and message in result.output


def test_the_first_push_creates_the_shared_branch(team, tmp_path):
    server = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    git(team.root, "remote", "add", "origin", str(server))
    result = team("zhangsan", "sync")
    assert result.exit_code == 0, result.output
    assert server_head(server) == team.head()
    assert f"0 commit(s) received, {team.commits()} pushed" in result.output


def test_renumbering_rewrites_the_subject_id_and_the_project_trailer_only():
    message = (
        "2026-001 contract.draft: lisi approve as sales\n\nsee 2026-001 on paper\n\n"
        "Xmflow-Project: 2026-001\nXmflow-Step: contract.draft\nXmflow-Digest: sha256:ab\n"
    )
    assert renumber.renamed_message(message, {"2026-001": "2026-004"}) == (
        "2026-004 contract.draft: lisi approve as sales\n\nsee 2026-001 on paper\n\n"
        "Xmflow-Project: 2026-004\nXmflow-Step: contract.draft\nXmflow-Digest: sha256:ab\n"
    )


def test_a_clashing_id_takes_the_next_free_number_of_its_year():
    taken = {"2026-001", "2026-002", "2025-009", "ACME", "ACME-2"}
    assert renumber.free_id("2026-001", taken) == "2026-003"
    assert renumber.free_id("2025-009", taken) == "2025-010"
    assert renumber.free_id("ACME", taken) == "ACME-3"  # an id given with --id keeps its name


# -- nothing verify rejects is pushed (issue 9) ----------------------------------------------
def edit_by_hand(t: Team, pid: str, old: str, new: str, who: str = "zhangsan") -> str:
    """Change a signed contract with a plain file edit (as sed would) and commit it with plain git."""
    path = t.root / "projects" / pid / "contract.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return hand_commit(t, who, "合同金额改一下")


@pytest.mark.parametrize("others_pushed", [False, True], ids=["just-ahead", "rebased"])
def test_a_contract_edited_with_sed_and_committed_with_git_is_not_pushed(clones, others_pushed):
    a, b, server = clones
    pid = open_project(a)
    draft_contract(a, pid)
    a.ok("zhangsan", "sync")
    if others_pushed:  # the commit was already bad before the rebase: no excuse for pushing it
        b.ok("lisi", "sync")
        open_project(b, who="lisi")
        b.ok("lisi", "sync")
    bad = edit_by_hand(a, pid, "348000", "48000")
    head, pushed = a.head(), server_head(server)
    result = sync(a)
    assert result.exit_code == 1, result.output
    assert f"commit {bad[:7]} · {pid} contract" in result.output and "changed outside xmflow" in result.output
    assert "nothing was pushed" in result.output.lower() and "git reset --soft" in result.output
    assert "xmflow set" in result.output
    assert server_head(server) == pushed
    assert a.head() == head and a.clean() and git(a.root, "for-each-ref", sync_mod.SAVED) == ""
    assert_only_forward(server)


def test_a_bad_commit_already_on_the_server_does_not_block_a_clean_local_commit(clones):
    a, b, server = clones
    pid = drafted_in_both(a, b)
    edit_by_hand(a, pid, "348000", "48000")
    git(a.root, "push", "-q", "origin", "main")  # before the server had its hook
    assert a("wangjg", "verify").exit_code == 1
    open_project(b, who="lisi")  # clean, and made before B saw the bad commit: a rebase
    result = sync(b, "lisi")
    assert result.exit_code == 0, result.output
    assert "1 commit(s) received, 3 pushed" in result.output
    b.ok("lisi", "set", "2026-002", "contract.number=HT-7")  # now just ahead of the server
    result = sync(b, "lisi")
    assert result.exit_code == 0 and "0 commit(s) received, 1 pushed" in result.output
    assert server_head(server) == b.head()


def test_a_bad_commit_in_a_renumbered_project_is_named_by_your_own_commit_id(clones):
    a, b, server = clones
    open_project(a)
    mine = open_project(b, who="lisi")  # 2026-001 as well: renumbered when B syncs
    draft_contract(b, mine, who="lisi")
    bad = edit_by_hand(b, mine, "348000", "48000", who="lisi")
    a.ok("zhangsan", "sync")
    head, pushed = b.head(), server_head(server)
    result = sync(b, "lisi")
    assert result.exit_code == 1, result.output
    assert f"commit {bad[:7]} · 2026-002 contract" in result.output  # neither the renumbered nor the rebased copy
    assert b.head() == head and b.clean() and server_head(server) == pushed
    assert (b.root / "projects" / "2026-001" / "contract.yaml").exists()


def test_the_first_push_of_a_history_with_a_bad_commit_is_refused(team, tmp_path):
    server = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    git(team.root, "remote", "add", "origin", str(server))
    pid = open_project(team)
    draft_contract(team, pid)
    bad = edit_by_hand(team, pid, "348000", "48000")
    result = team("zhangsan", "sync")
    assert result.exit_code == 1 and f"commit {bad[:7]}" in result.output, result.output
    assert git(server, "for-each-ref") == ""


# -- a signature from the other side undone by the rebase -------------------------------------
def test_a_rebased_change_that_undoes_a_signature_from_the_shared_branch_stops_the_sync(clones):
    a, b, server = clones
    pid = open_project(a)
    draft_contract(a, pid)
    a.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    a.ok("zhangsan", "sync")
    b.ok("lisi", "sync")  # B has the contract, reviewed by the supervisor
    a.ok("qianqi", "sign", pid, "contract.business_review")
    signed = a.head()
    a.ok("qianqi", "sync")
    b.ok("zhangsan", "set", pid, "contract.notes=客户要求月底前交货")  # B had not seen the business review
    contract = b.root / "projects" / pid / "contract.yaml"
    head, text, pushed = b.head(), contract.read_text(encoding="utf-8"), server_head(server)
    result = sync(b)
    assert result.exit_code == 1, result.output
    assert f"{pid} contract.business_review" in result.output
    assert "钱七 (qianqi)" in result.output and f"commit {signed[:7]}" in result.output
    assert f"your commit {head[:7]}" in result.output
    assert "nothing was pushed" in result.output.lower()
    assert b.head() == head and b.clean() and contract.read_text(encoding="utf-8") == text
    assert git(b.root, "for-each-ref", sync_mod.SAVED) == ""
    assert server_head(server) == pushed and a.state(pid, "contract.business_review") == "signed"
    assert_only_forward(server)
    # Talked it over: B drops the change, syncs, and makes it again on top, knowingly.
    git(b.root, "reset", "-q", "--hard", "HEAD~1")
    b.ok("zhangsan", "sync")
    b.ok("zhangsan", "set", pid, "contract.notes=客户要求月底前交货")
    assert b.ok("zhangsan", "sync").exit_code == 0 and server_head(server) == b.head()


def test_a_rebased_change_that_undoes_only_your_own_signatures_syncs(clones):
    a, b, server = clones
    pid = drafted_in_both(a, b)
    b.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    b.ok("zhangsan", "set", pid, "contract.notes=客户要求月底前交货")  # undoes B's own review, and the draft
    open_project(a, who="lisi")  # something else arrives on the shared branch meanwhile
    a.ok("lisi", "sync")
    result = sync(b)
    assert result.exit_code == 0, result.output
    assert "3 commit(s) received, 2 pushed" in result.output and server_head(server) == b.head()
    assert b.state(pid, "contract.supervisor_review") != "signed"


def test_a_signature_made_while_sync_was_pushing_is_caught_on_the_next_attempt(clones, monkeypatch):
    a, b, server = clones
    pid = open_project(a)
    draft_contract(a, pid)
    a.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    a.ok("zhangsan", "sync")
    b.ok("lisi", "sync")
    open_project(a, who="lisi")
    a.ok("lisi", "sync")  # B will have to rebase
    b.ok("zhangsan", "set", pid, "contract.notes=客户要求月底前交货")
    head, real_fetch, fetches = b.head(), sync_mod._fetch, []

    def fetch_then_a_signs(root, target):
        tip = real_fetch(root, target)
        fetches.append(tip)
        if len(fetches) == 1:  # between B's first fetch and its push
            a.ok("qianqi", "sign", pid, "contract.business_review")
            git(a.root, "push", "-q", "origin", "main")
        return tip

    monkeypatch.setattr(sync_mod, "_fetch", fetch_then_a_signs)
    result = sync(b)
    assert result.exit_code == 1 and len(fetches) == 2, result.output
    assert "contract.business_review" in result.output and f"your commit {head[:7]}" in result.output
    assert b.head() == head and server_head(server) == a.head()


# -- the server's own refusal ---------------------------------------------------------------
def refuse_pushes(server: Path, reason: str) -> None:
    hook = server / "hooks" / "pre-receive"
    hook.write_text(f'#!/bin/sh\necho "{reason}" >&2\nexit 1\n', encoding="utf-8")
    hook.chmod(0o755)


def test_a_push_the_server_hook_refuses_exits_1_with_its_reasons(clones):
    a, b, server = clones
    open_project(a, who="lisi")
    a.ok("lisi", "sync")
    b.ok("lisi", "sync")
    open_project(b, who="lisi")
    b.ok("lisi", "sync")
    open_project(a)  # to be rebased on B's project, then refused
    refuse_pushes(server, "周末不接受推送 (no pushes at the weekend)")
    head, pushed = a.head(), server_head(server)
    result = sync(a)
    assert result.exit_code == 1, result.output
    assert "周末不接受推送 (no pushes at the weekend)" in result.output
    assert "nothing was pushed" in result.output.lower()
    assert a.head() == head and a.clean() and server_head(server) == pushed


def test_a_push_that_fails_on_the_server_for_another_reason_stays_exit_2(clones):
    a, _, server = clones
    open_project(a)
    git(server, "config", "receive.maxInputSize", "10")
    head, pushed = a.head(), server_head(server)
    result = sync(a)
    assert result.exit_code == 2, result.output
    assert "nothing was pushed" in result.output.lower()
    assert a.head() == head and server_head(server) == pushed


# -- the workspace lock -----------------------------------------------------------------------
def test_sync_holds_the_workspace_lock_from_start_to_end(clones, monkeypatch):
    a, b, _ = clones
    open_project(b, who="lisi")
    b.ok("lisi", "sync")
    open_project(a)
    git_dir = Path(git(a.root, "rev-parse", "--absolute-git-dir").strip())
    real_fetch, refusals = sync_mod._fetch, []

    def someone_signs() -> None:  # another command (its own thread: the lock is reentrant only within one)
        try:
            with workspace_lock(git_dir, wait=0.2):
                pass  # a `sign` started now would have committed in the middle of the rebase
        except StoreError as exc:
            refusals.append(exc.message)

    def fetch_while_someone_signs(root, target):
        other = threading.Thread(target=someone_signs)
        other.start()
        other.join()
        return real_fetch(root, target)

    monkeypatch.setattr(sync_mod, "_fetch", fetch_while_someone_signs)
    sync_mod.sync(Workspace(a.root))
    assert refusals and "another xmflow command is running" in refusals[0]
    with workspace_lock(git_dir, wait=0):  # and let go when done
        pass


def test_sync_waits_for_a_command_that_holds_the_lock(clones):
    a, _, server = clones
    open_project(a)
    git_dir = Path(git(a.root, "rev-parse", "--absolute-git-dir").strip())
    reports: list[sync_mod.SyncReport] = []
    waiting = threading.Thread(target=lambda: reports.append(sync_mod.sync(Workspace(a.root))))
    with workspace_lock(git_dir):  # another command is running
        waiting.start()
        time.sleep(0.5)
        assert waiting.is_alive() and server_head(server) != a.head()  # waiting, not pushing
    waiting.join(30)
    assert reports and reports[0].pushed == 3 and server_head(server) == a.head()


def test_a_sync_killed_in_its_rebase_says_how_to_put_the_branch_back(clones):
    a, _, _ = clones
    open_project(a)
    git(a.root, "update-ref", sync_mod.SAVED, "HEAD")  # what a killed sync leaves: its saved tip, a rebase half done
    (a.root / ".git" / "rebase-merge").mkdir()
    result = a("zhangsan", "sync")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and f"git rebase --abort && git reset --keep {sync_mod.SAVED}" in said

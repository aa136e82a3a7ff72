"""The shared repository (issue 9): the pre-receive hook that `xmflow hooks install --server` puts
in the bare repository people push to. History there only grows, a known pusher pushes their own
commits (or the copies `xmflow sync` makes), dates are sane, and every pushed tip verifies.

Each kind of tampering or bypass is a real `git push` to a local bare repository: git runs
receive-pack and the hook as children of the push, so a pusher variable set on the push reaches
the hook as a git server would set it. The workspace is dated a day before the test runs (its
clock is computed from now), so the hook's real clock judges it the same way on any day."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import (
    EMAILS,
    Team,
    draft_contract,
    git,
    hand_commit,
    isolate_git,
    keygen,
    new_team,
    open_project,
    signing,
)
from typer.testing import CliRunner

from xmflow.cli.entry import app
from xmflow.trust import receive

CHINA = timezone(timedelta(hours=8))
DECLINED = "pre-receive hook declined"
UNAUTHENTICATED = "are not authenticated"


def a_day_ago() -> datetime:
    """The workspace's clock: a day before now, to the minute (a day of commands fits in it)."""
    return (datetime.now(CHINA) - timedelta(days=1)).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Origin:
    """Built once: a workspace whose *review* project (lisi's) waits on the supervisor's review,
    its first history pushed to a bare repository with the hook."""

    ws: Path
    server: Path
    clock: datetime
    review: str


def make_server(bare: Path) -> Path:
    """A bare repository with xmflow's pre-receive hook."""
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    result = CliRunner().invoke(app, ["-C", str(bare), "hooks", "install", "--server"])
    assert result.exit_code == 0, result.output
    return bare


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Origin:
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("server-home"), mp)
        folder = tmp_path_factory.mktemp("server")
        start = a_day_ago()
        mp.setenv("GIT_AUTHOR_DATE", start.isoformat())  # xmflow init and the people commit, a day ago
        mp.setenv("GIT_COMMITTER_DATE", start.isoformat())
        team = new_team(folder / "ws")
        mp.delenv("GIT_AUTHOR_DATE")
        mp.delenv("GIT_COMMITTER_DATE")
        team.clock = start
        review = open_project(team, "50万", who="lisi")
        draft_contract(team, review, "49万", who="lisi")
        server = make_server(folder / "server.git")
        git(team.root, "remote", "add", "origin", str(server))
        first = subprocess.run(
            ["git", "-C", str(team.root), "push", "-q", "origin", "main"], capture_output=True, text=True
        )
        assert first.returncode == 0, first.stderr
        return Origin(team.root, server, team.clock, review)


@dataclass
class Shared:
    """A private copy of the origin: a clone (*team*) whose `origin` is the bare *server*."""

    team: Team
    server: Path

    def push(
        self, *args: str, pusher: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`git push ARGS` from the clone (or *cwd*), with the git server's pusher variables set."""
        return subprocess.run(
            ["git", "-C", str(cwd or self.team.root), "push", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(pusher or {})},
        )

    def refs(self) -> str:
        return git(self.server, "for-each-ref", "--format=%(objectname) %(refname)")

    def accepted(self, *args: str, pusher: dict[str, str] | None = None) -> str:
        """Push; it must be accepted. Returns what the hook said."""
        result = self.push(*args, pusher=pusher)
        assert result.returncode == 0, result.stderr
        return result.stderr

    def refused(
        self, *args: str, says: tuple[str, ...] = (), pusher: dict[str, str] | None = None, cwd: Path | None = None
    ) -> str:
        """Push; the hook must refuse it, say each of *says*, and leave every ref where it was."""
        before = self.refs()
        result = self.push(*args, pusher=pusher, cwd=cwd)
        text = " ".join(result.stderr.replace("remote:", " ").split())
        assert result.returncode != 0 and DECLINED in text, result.stderr
        for said in says:
            assert said in text, f"{said!r} not in:\n{result.stderr}"
        assert self.refs() == before
        return text


@pytest.fixture
def shared(origin: Origin, tmp_path: Path) -> Shared:
    root, server = tmp_path / "ws", tmp_path / "server.git"
    shutil.copytree(origin.ws, root, symlinks=True)
    shutil.copytree(origin.server, server, symlinks=True)
    git(root, "remote", "set-url", "origin", str(server))
    return Shared(Team(root, clock=origin.clock), server)


def admin_sets(team: Team, setting: str, env: dict[str, str] | None = None) -> str:
    """The admin (wangjg) adds a line to xmflow.yaml, by hand; returns the commit."""
    config = team.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + setting + "\n", encoding="utf-8")
    return hand_commit(team, "wangjg", f"xmflow.yaml: {setting}", env=env)


def open_new(team: Team, who: str, at: datetime | None = None) -> str:
    """*who* opens a project (one `xmflow new` commit), at *at* if given; the team's clock goes on
    where it was. Returns the commit."""
    clock = team.clock
    team.json(
        who, "new", f"{who}的项目", "--client", "客户", "--budget", "20万", **({"at": at.isoformat()} if at else {})
    )
    if at:
        team.clock = clock
    return team.head()


# --- history only grows: rewrite, deletion, unrelated histories ------------------------------


def test_a_force_push_erasing_sign_offs_is_refused(shared: Shared) -> None:
    text = shared.refused(
        "-f",
        "origin",
        "HEAD~3:main",
        says=(
            "refs/heads/main",
            "not a fast-forward",
            "remove 3 commit(s)",
            "history on the shared repository only grows; to undo a change, make a new commit",
        ),
    )
    assert "xmflow sync" in text


def test_an_amended_sign_off_pushed_with_force_is_refused(shared: Shared, origin: Origin) -> None:
    shared.team.ok("zhaoliu", "sign", origin.review, "contract.supervisor_review")
    shared.accepted("-q", "origin", "main")
    git(shared.team.root, "commit", "-q", "--amend", "--no-edit", "--date=" + shared.team.clock.isoformat())
    shared.refused("-f", "origin", "main", says=("refs/heads/main", "not a fast-forward", "remove 1 commit(s)"))


def test_a_rebased_history_pushed_with_force_is_refused(shared: Shared) -> None:
    git(shared.team.root, "rebase", "-q", "--force-rebase", "HEAD~3")  # the same changes, new commits
    shared.refused("-f", "origin", "main", says=("refs/heads/main", "remove 3 commit(s)"))


def test_an_unrelated_history_on_a_new_branch_is_refused(shared: Shared) -> None:
    root = shared.team.root
    git(root, "checkout", "-q", "--orphan", "other")
    hand_commit(shared.team, "lisi", "a history of its own")
    shared.refused("origin", "other", says=("refs/heads/other", "starts a history of its own", "git clone"))


@pytest.mark.parametrize(
    ("target", "says"),
    [("+main", "refs/heads/main: "), ("main:refs/heads/fresh", "refs/heads/fresh: ")],
    ids=["forced-over-main", "to-a-new-branch"],
)
def test_a_fresh_init_history_where_the_pusher_is_the_only_admin_is_refused(
    shared: Shared, tmp_path: Path, target: str, says: str
) -> None:
    fresh = tmp_path / "fresh"
    made = CliRunner().invoke(
        app,
        ["init", str(fresh), "--company", "测试公司"],
        env={"GIT_AUTHOR_EMAIL": EMAILS["lisi"], "GIT_AUTHOR_NAME": "李四"},
    )
    assert made.exit_code == 0, made.output
    assert "lisi@example.com" in (fresh / "people.yaml").read_text(encoding="utf-8")  # lisi, the only admin there
    why = "not a fast-forward" if target == "+main" else "starts a history of its own"
    shared.refused(str(shared.server), target, cwd=fresh, pusher={"XMFLOW_PUSHER": "lisi"}, says=(says, why))


@pytest.mark.parametrize("ref", ["refs/heads/release", "refs/tags/v1"], ids=["branch", "tag"])
def test_deleting_a_shared_ref_is_refused(shared: Shared, ref: str) -> None:
    shared.accepted("-q", "origin", f"HEAD:{ref}")
    shared.refused("origin", f":{ref}", says=(f"{ref}: deleting a ref is refused", "only grows"))


def test_moving_a_tag_backwards_is_refused_and_forwards_accepted(shared: Shared) -> None:
    root = shared.team.root
    git(root, "tag", "-a", "v1", "-m", "合同审核前", "HEAD~1")  # annotated: the hook peels it
    shared.accepted("-q", "origin", "refs/tags/v1")
    git(root, "tag", "-f", "-a", "v1", "-m", "合同审核前", "HEAD")  # forwards: still a line
    shared.accepted("-q", "-f", "origin", "refs/tags/v1")
    git(root, "tag", "-f", "-a", "v1", "-m", "合同审核前", "HEAD~2")
    shared.refused("-f", "origin", "refs/tags/v1", says=("refs/tags/v1", "not a fast-forward", "remove 2 commit(s)"))


def test_a_ref_that_points_at_no_commit_is_refused(shared: Shared) -> None:
    git(shared.team.root, "tag", "tree", "HEAD^{tree}")
    shared.refused("origin", "refs/tags/tree", says=("refs/tags/tree", "is a tree, not a commit"))


def test_a_merge_is_refused_even_when_it_is_a_fast_forward(shared: Shared) -> None:
    """A merge whose first parent is three commits back, with that commit's tree: the old tip is in
    its history, yet on the first-parent line the three commits are gone."""
    root, team = shared.team.root, shared.team
    old, tip = git(root, "rev-parse", "HEAD~3").strip(), team.head()
    stamp = team.clock.isoformat()
    merge = subprocess.run(
        ["git", "-C", str(root), "commit-tree", f"{old}^{{tree}}", "-p", old, "-p", tip, "-m", "merge"],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "GIT_AUTHOR_EMAIL": EMAILS["lisi"],
            "GIT_COMMITTER_EMAIL": EMAILS["lisi"],
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        },
    ).stdout.strip()
    shared.refused(
        "origin",
        f"{merge}:refs/heads/main",
        pusher={"XMFLOW_PUSHER": "lisi"},
        says=(f"commit {merge[:7]} is a merge", "merges are refused", "xmflow sync"),
    )


def test_a_replace_ref_is_refused(shared: Shared) -> None:
    root = shared.team.root
    git(root, "replace", "HEAD~1", "HEAD~2")
    old = git(root, "rev-parse", "HEAD~1").strip()
    shared.refused("origin", f"refs/replace/{old}", says=(f"refs/replace/{old}: replace refs are refused",))


def test_a_commit_whose_date_is_no_time_is_refused(shared: Shared) -> None:
    root = shared.team.root
    tree = git(root, "rev-parse", "HEAD^{tree}").strip()
    email = EMAILS["lisi"]
    text = (
        f"tree {tree}\nparent {shared.team.head()}\nauthor lisi <{email}> 1790000000 +9999\n"
        f"committer lisi <{email}> 1790000000 +9999\n\nno time\n"
    ).encode()
    bad = (
        subprocess.run(
            ["git", "-C", str(root), "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
            input=text,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    shared.refused("origin", f"{bad}:refs/heads/main", says=(f"commit {bad[:7]}: its author date", "is no time"))


# --- who pushes ---------------------------------------------------------------------------


PUSHERS = {
    "XMFLOW_PUSHER": "lisi",
    "GITEA_PUSHER_EMAIL": "LiSi@Example.com",
    "GITEA_PUSHER_NAME": "lisi",
    "GL_USERNAME": "lisi",
}  # how each git server names lisi (an email matches ignoring case)


@pytest.mark.parametrize("variable", list(PUSHERS))
def test_a_forged_author_with_a_known_pusher_is_refused(shared: Shared, variable: str) -> None:
    team, lisi = shared.team, PUSHERS[variable]
    pusher = {variable: lisi}
    open_new(team, "lisi")
    shared.accepted("-q", "origin", "main", pusher=pusher)  # lisi's own commit
    people = team.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace("roles: [sales]}", "roles: [sales, business_center]}"),
        encoding="utf-8",
    )
    forged = hand_commit(team, "wangjg", "people: 李四 also business centre")  # GIT_AUTHOR_EMAIL of the admin
    assert team("wangjg", "verify").exit_code == 0  # the history alone cannot tell
    shared.refused(
        "origin",
        "main",
        pusher=pusher,
        says=(
            f"commit {forged[:7]} is authored by wangjg <wangjg@example.com> but pushed by 李四 (lisi)",
            f"{variable}={lisi}",
            "not a copy of a commit already on the server",
        ),
    )


def test_a_sync_rebased_copy_of_a_colleagues_commit_is_accepted(shared: Shared) -> None:
    team, root = shared.team, shared.team.root
    base = team.head()
    git(root, "checkout", "-q", "-b", "zhangsan-work")
    original = open_new(team, "zhangsan")
    shared.accepted("-q", "origin", "zhangsan-work", pusher={"GL_USERNAME": "zhangsan"})
    git(root, "checkout", "-q", "main")
    admin_sets(team, "max_backdate_days: 45")  # meanwhile the shared branch moves on
    said = shared.accepted("-q", "origin", "main", pusher={"GL_USERNAME": "wangjg"})
    assert UNAUTHENTICATED not in said  # the server says who pushes
    git(root, "checkout", "-q", "-b", "lisi-work", base)
    git(root, "merge", "-q", "--ff-only", "zhangsan-work")  # lisi builds on zhangsan's commit
    open_new(team, "lisi")
    lisi = {"GL_USERNAME": "lisi", "GIT_COMMITTER_EMAIL": EMAILS["lisi"], "GIT_COMMITTER_NAME": "李四"}
    synced = team("lisi", "sync", "--branch", "main", env=lisi)
    assert synced.exit_code == 0, synced.output
    copy = git(root, "rev-parse", "HEAD~1").strip()
    assert copy != original and git(shared.server, "rev-parse", "main").strip() == team.head()
    assert git(root, "log", "-1", "--format=%ae %ce", copy).split() == [EMAILS["zhangsan"], EMAILS["lisi"]]


def test_a_copy_not_committed_by_the_pusher_or_changed_is_refused(shared: Shared) -> None:
    team, root = shared.team, shared.team.root
    git(root, "checkout", "-q", "-b", "zhangsan-work")
    original = open_new(team, "zhangsan")
    shared.accepted("-q", "origin", "zhangsan-work", pusher={"GL_USERNAME": "zhangsan"})
    git(root, "checkout", "-q", "main")
    admin_sets(team, "max_backdate_days: 45")
    git(root, "cherry-pick", original)  # committed by the test's own git identity, not lisi
    shared.refused(
        "origin",
        "main",
        pusher={"GL_USERNAME": "lisi"},
        says=(f"it copies {original[:7]}, already here, but was committed by committer@example.invalid",),
    )
    subprocess.run(
        ["git", "-C", str(root), "commit", "-q", "--amend", "-m", "改过的说明"],
        check=True,
        env={**os.environ, "GIT_COMMITTER_EMAIL": EMAILS["lisi"]},
    )
    shared.refused("origin", "main", pusher={"GL_USERNAME": "lisi"}, says=("not a copy of a commit already on",))


def test_a_copy_whose_change_differs_only_in_whitespace_is_refused(shared: Shared) -> None:
    """git's plain patch id ignores whitespace; in YAML a space can change a value (``a#b`` is
    text, ``a #b`` is ``a``): a copy is the same change byte for byte, or it is no copy."""
    team, root = shared.team, shared.team.root
    git(root, "checkout", "-q", "-b", "zhangsan-work")
    original = open_new(team, "zhangsan")
    shared.accepted("-q", "origin", "zhangsan-work", pusher={"GL_USERNAME": "zhangsan"})
    git(root, "checkout", "-q", "main")
    admin_sets(team, "max_backdate_days: 45")
    lisi = {**os.environ, "GIT_COMMITTER_EMAIL": EMAILS["lisi"], "GIT_COMMITTER_NAME": "李四"}
    subprocess.run(["git", "-C", str(root), "cherry-pick", original], check=True, capture_output=True, env=lisi)
    changed = [
        p for p in (root / "projects").glob("*/project.yaml") if "zhangsan的项目" in p.read_text(encoding="utf-8")
    ]
    changed[0].write_text(changed[0].read_text(encoding="utf-8").replace("客户", "客 户", 1), encoding="utf-8")
    git(root, "add", "-A")
    subprocess.run(["git", "-C", str(root), "commit", "-q", "--amend", "--no-edit"], check=True, env=lisi)
    copy = team.head()
    shared.refused(
        "origin",
        "main",
        pusher={"GL_USERNAME": "lisi"},
        says=(f"commit {copy[:7]} is authored by", "not a copy of a commit already on the server"),
    )


def test_a_project_folder_that_is_a_link_is_refused(shared: Shared) -> None:
    root = shared.team.root
    source = next(p for p in (root / "projects").iterdir())
    shutil.copytree(source, root / "shadow")
    (root / "projects" / "2026-050").symlink_to("../shadow", target_is_directory=True)
    hand_commit(shared.team, "lisi", "notes")
    shared.refused(
        "origin", "main", pusher={"XMFLOW_PUSHER": "lisi"}, says=("projects/2026-050", "is a symbolic link, not a file")
    )


def test_a_pusher_not_in_people_yaml_is_refused(shared: Shared) -> None:
    open_new(shared.team, "lisi")
    stranger = {"GL_USERNAME": "stranger"}
    shared.refused("origin", "main", pusher=stranger, says=("GL_USERNAME=stranger) is nobody in people.yaml",))
    shared.refused("origin", "HEAD~1:refs/heads/mine", pusher=stranger, says=("refs/heads/mine",))  # nothing new


def test_the_first_history_of_an_empty_repository_is_pushed_by_an_admin(shared: Shared, tmp_path: Path) -> None:
    empty = make_server(tmp_path / "empty.git")
    git(shared.team.root, "remote", "add", "empty", str(empty))
    refused = shared.push("empty", "main", pusher={"GL_USERNAME": "lisi"})
    assert refused.returncode != 0 and "is pushed by an admin of its people.yaml" in refused.stderr
    assert git(empty, "for-each-ref") == ""
    assert shared.push("-q", "empty", "main", pusher={"GL_USERNAME": "wangjg"}).returncode == 0


# --- dates ----------------------------------------------------------------------------------


def test_a_backdated_commit_is_refused_until_max_backdate_days_allows_it(shared: Shared) -> None:
    team = shared.team
    backdated = open_new(team, "lisi", at=datetime.now(CHINA) - timedelta(days=40))
    shared.refused(
        "origin", "main", says=(f"commit {backdated[:7]} is authored", "more than 30 days ago", "max_backdate_days")
    )
    admin_sets(team, "max_backdate_days: 60")
    shared.accepted("-q", "origin", "main")


def test_a_future_dated_commit_is_refused(shared: Shared) -> None:
    future = open_new(shared.team, "lisi", at=datetime.now(CHINA) + timedelta(days=1))
    shared.refused(
        "origin", "main", says=(f"commit {future[:7]} is authored", "in the future", "allows 5 minutes of skew")
    )


def test_a_commit_dated_before_its_parent_is_judged_by_history_not_by_dates(shared: Shared) -> None:
    """Clocks disagree: a commit made on a computer whose clock is behind is older than its parent.
    git's `A..B` walks by date and would take the parent for a commit the push removes."""
    ws = shared.team
    open_new(ws, "lisi", at=datetime.now(CHINA) - timedelta(hours=2))
    shared.accepted("-q", "origin", "main")
    behind = open_new(ws, "zhangsan", at=datetime.now(CHINA) - timedelta(days=5))
    shared.accepted("-q", "origin", "main")
    assert git(shared.server, "rev-parse", "main").strip() == behind
    shared.refused("-f", "-q", "origin", "HEAD~1:main", says=("not a fast-forward", "remove 1 commit(s)"))


@pytest.mark.parametrize(("ahead", "refused"), [(timedelta(minutes=4), False), (timedelta(minutes=6), True)])
def test_a_clock_up_to_five_minutes_ahead_is_allowed(shared: Shared, ahead: timedelta, refused: bool) -> None:
    """In process, with the server's clock given: the skew, to the minute."""
    old = git(shared.server, "rev-parse", "main").strip()
    made = datetime.now(CHINA).replace(microsecond=0)
    new = open_new(shared.team, "lisi", at=made)
    git(shared.server, "fetch", "-q", str(shared.team.root), "main")  # the objects, no ref: as in pre-receive
    report = receive.receive(shared.server, [receive.Update(old, new, "refs/heads/main")], {}, made - ahead)
    assert any("in the future" in r for r in report.refusals) is refused, report.refusals


# --- what the hook says -------------------------------------------------------------------


def test_the_server_verifies_only_the_commits_new_since_the_last_tip_it_verified(shared: Shared) -> None:
    before = git(shared.server, "rev-parse", "main").strip()
    open_new(shared.team, "lisi")
    said = " ".join(shared.accepted("origin", "main").replace("remote:", " ").split())
    assert (
        f"no findings up to {shared.team.head()[:7]} (1 commit(s) replayed from {before[:7]}, verified before)" in said
    )
    open_new(shared.team, "lisi")
    tip = shared.team.head()
    said = " ".join(shared.accepted("origin", "main").replace("remote:", " ").split())
    assert "(1 commit(s) replayed from" in said
    from xmflow.trust import audit

    assert audit.report(shared.server, tip).replayed == 0  # the hook left its checkpoint at the tip


def test_the_not_authenticated_note_is_printed_once(shared: Shared) -> None:
    open_new(shared.team, "lisi")
    said = shared.accepted("origin", "main", "main:refs/heads/copy")
    assert said.count(UNAUTHENTICATED) == 1 and "require_signed_commits: true" in said, said
    assert said.count("verified, no findings") == 2


def test_the_hook_command_exits_2_on_bad_input_and_1_on_a_refusal(shared: Shared) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["-C", str(shared.server), "hooks", "pre-receive"], input="main is mine\n")
    assert bad.exit_code == 2 and "standard input, line 1" in bad.output
    tip = git(shared.server, "rev-parse", "main").strip()
    deletion = runner.invoke(
        app, ["-C", str(shared.server), "hooks", "pre-receive"], input=f"{tip} {'0' * 40} refs/heads/main\n"
    )
    assert deletion.exit_code == 1 and "refs/heads/main: deleting a ref is refused" in deletion.output


# --- installing it ------------------------------------------------------------------------


def test_install_sets_gits_own_guards_and_replaces_an_older_xmflow_hook(tmp_path: Path) -> None:
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\n# xmflow-hook: an older one\nexit 0\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["-C", str(bare), "hooks", "install", "--server"])
    assert result.exit_code == 0, result.output
    assert f"installed {hook}" in result.output and os.access(hook, os.X_OK)
    assert "hooks pre-receive" in hook.read_text(encoding="utf-8")
    assert "receive.denyNonFastForwards=true, receive.denyDeletes=true" in result.output
    for key in ("receive.denyNonFastForwards", "receive.denyDeletes", "receive.fsckObjects"):
        assert git(bare, "config", "--get", key).strip() == "true"


def test_a_foreign_pre_receive_hook_is_left_alone(tmp_path: Path) -> None:
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexec gitlab-hook\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["-C", str(bare), "hooks", "install", "--server"], env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert "exists and is not xmflow's" in result.output and "hooks pre-receive" in result.output
    assert hook.read_text(encoding="utf-8") == "#!/bin/sh\nexec gitlab-hook\n"
    unset = subprocess.run(["git", "-C", str(bare), "config", "--get", "receive.denyDeletes"], capture_output=True)
    assert unset.returncode == 1  # nothing changed


# --- the server's hook: enforcement (moved from test_trust.py) -------------------------------


def test_5_the_server_accepts_clean_pushes_and_refuses_a_tampered_commit(shared: Shared, origin: Origin) -> None:
    ws = shared.team
    ws.ok("zhaoliu", "sign", origin.review, "contract.supervisor_review")
    shared.accepted("-q", "origin", "main")
    assert git(shared.server, "rev-parse", "main").strip() == ws.head()
    contract = ws.root / "projects" / origin.review / "contract.yaml"
    text = contract.read_text(encoding="utf-8")
    assert "amount: 490000.00" in text
    contract.write_text(text.replace("amount: 490000.00", "amount: 480000.00"), encoding="utf-8")
    bad = hand_commit(ws, "lisi", "改一下金额")
    shared.refused(
        "-q", "origin", "main", says=(f"commit {bad[:7]}", "changed outside xmflow", "finding(s) of `xmflow verify`")
    )


def test_settings_broken_at_the_tip_are_refused(shared: Shared) -> None:
    ws = shared.team
    (ws.root / "people.yaml").write_text("people: [\n", encoding="utf-8")
    broken = hand_commit(ws, "wangjg", "people: 误删", at=ws.clock.isoformat())
    shared.refused(
        "-q",
        "origin",
        "main",
        says=(f"commit {broken[:7]}", "settings of the last commit cannot be read", "people.yaml"),
    )


def test_a_role_given_by_a_non_admin_is_refused(shared: Shared, origin: Origin) -> None:
    ws = shared.team
    people = ws.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace("roles: [sales]}", "roles: [sales, admin]}", 1), encoding="utf-8"
    )
    bad = hand_commit(ws, "zhangsan", "people: 张三 admin", at=ws.clock.isoformat())
    shared.refused("-q", "origin", "main", says=(f"commit {bad[:7]}", "who is not an admin"))


def test_an_acknowledged_finding_no_longer_blocks_the_shared_branch(
    shared: Shared, origin: Origin, tmp_path: Path
) -> None:
    ws = shared.team
    contract = ws.root / "projects" / origin.review / "contract.yaml"
    contract.write_text(
        contract.read_text(encoding="utf-8").replace("amount: 490000.00", "amount: 480000.00"), encoding="utf-8"
    )
    bad = hand_commit(ws, "lisi", "改一下金额", at=ws.clock.isoformat())
    # The bad commit reached the server before it had the hook (or past it): every later push is refused …
    plain = tmp_path / "plain.git"
    shutil.copytree(shared.server, plain, symlinks=True)
    (plain / "hooks" / "pre-receive").unlink()
    git(ws.root, "push", "-q", str(plain), "main")
    shutil.rmtree(shared.server)
    shutil.copytree(plain, shared.server, symlinks=True)
    make_server_hook = CliRunner().invoke(app, ["-C", str(shared.server), "hooks", "install", "--server"])
    assert make_server_hook.exit_code == 0, make_server_hook.output
    ws.ok("lisi", "set", origin.review, "contract.notes=按新金额执行")
    shared.refused("-q", "origin", "main", says=(f"commit {bad[:7]}", "changed outside xmflow"))
    # … until an admin acknowledges it, in a commit of its own; a later bad commit is still refused.
    ws.ok("wangjg", "verify", "--acknowledge", bad, "-m", "金额由商务确认，见邮件")
    shared.accepted("-q", "origin", "main")
    contract.write_text(
        contract.read_text(encoding="utf-8").replace("amount: 480000.00", "amount: 470000.00"), encoding="utf-8"
    )
    later = hand_commit(ws, "lisi", "再改一下", at=ws.clock.isoformat())
    shared.refused("-q", "origin", "main", says=(f"commit {later[:7]}",))


def test_5_the_server_refuses_an_unsigned_commit_where_signing_is_required(
    shared: Shared, origin: Origin, tmp_path: Path
) -> None:
    team = shared.team
    keys = {who: keygen(tmp_path, who) for who in ("wangjg", "zhaoliu")}
    people = team.root / "people.yaml"
    text = people.read_text(encoding="utf-8")
    for who, key in keys.items():
        public = " ".join(key.with_suffix(".pub").read_text(encoding="utf-8").split()[:2])
        line = next(line for line in text.splitlines() if f"{{id: {who}," in line)
        text = text.replace(line, line[:-1] + f", signing_key: {public}}}")
    people.write_text(text, encoding="utf-8")
    hand_commit(team, "wangjg", "people: signing keys")
    admin_sets(team, "require_signed_commits: true", env=signing(keys["wangjg"]))
    team.ok("zhaoliu", "sign", origin.review, "contract.supervisor_review", env=signing(keys["zhaoliu"]))
    said = shared.accepted("-q", "origin", "main")
    assert UNAUTHENTICATED not in said  # signatures say who made each commit
    team.ok("qianqi", "sign", origin.review, "contract.business_review")
    shared.refused("-q", "origin", "main", says=("is not signed",))


def test_the_portal_is_rebuilt_after_each_accepted_push_and_not_after_a_refused_one(
    shared: Shared, origin: Origin, tmp_path: Path
) -> None:
    portal = tmp_path / "portal"
    result = CliRunner().invoke(app, ["-C", str(shared.server), "hooks", "install", "--server", "--site", str(portal)])
    assert result.exit_code == 0, result.output
    assert (shared.server / "hooks" / "post-receive").exists()
    shared.team.ok("zhaoliu", "sign", origin.review, "contract.supervisor_review", "-m", "同意")
    said = shared.accepted("-q", "origin", "main")
    assert "portal" in said, said
    page = (portal / f"project-{origin.review}.html").read_text(encoding="utf-8")
    head = git(shared.team.root, "rev-parse", "HEAD").strip()
    assert head in page and "contract.business_review" in page  # built from the pushed tip: the next step
    # incrementally: another project's push writes its pages and the portfolio, not this project's
    other = open_new(shared.team, "zhangsan")
    assert other
    before = (portal / f"project-{origin.review}.html").stat().st_mtime_ns
    shared.accepted("-q", "origin", "main")
    new_id = next(
        p.name for p in (shared.team.root / "projects").iterdir() if p.name not in {origin.review, ".gitkeep"}
    )
    assert (portal / f"project-{new_id}.html").exists()
    assert (portal / f"project-{origin.review}.html").stat().st_mtime_ns == before
    assert git(shared.team.root, "rev-parse", "HEAD").strip() in (portal / "index.html").read_text(encoding="utf-8")
    index = (portal / "index.html").stat().st_mtime_ns
    # a push the pre-receive hook refuses changes nothing of the portal
    (shared.team.root / "projects" / origin.review / "contract.yaml").write_text("amount: 1\n", encoding="utf-8")
    hand_commit(shared.team, "lisi", f"{origin.review} edited by hand")
    shared.refused("-q", "origin", "main")
    assert (portal / "index.html").stat().st_mtime_ns == index


def test_site_is_only_for_the_shared_repository(shared: Shared, tmp_path: Path) -> None:
    result = shared.team("wangjg", "hooks", "install", "--site", str(tmp_path / "p"))
    assert result.exit_code == 2 and "--server" in result.output


def test_the_portal_of_the_hook_is_refused_where_it_would_do_harm(shared: Shared, tmp_path: Path) -> None:
    """A file, a folder that holds the repository, one inside it, one of someone's own files: each is
    refused at install (naming --site), and no post-receive hook is installed."""
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "index.html").write_text("mine", encoding="utf-8")
    for site, says in (
        (afile, "a file, not a folder"),
        (tmp_path, "holds the repository"),
        (tmp_path.parent, "holds the repository"),
        (shared.server / "www", "inside the repository"),
        (mine, ".xmflow-site.json"),
    ):
        result = CliRunner().invoke(
            app, ["-C", str(shared.server), "hooks", "install", "--server", "--site", str(site)]
        )
        assert result.exit_code == 2 and says in result.output and f"--site {site}" in result.output, result.output
        assert not (shared.server / "hooks" / "post-receive").exists()
    assert (mine / "index.html").read_text(encoding="utf-8") == "mine" and afile.read_text(encoding="utf-8") == "x"


def test_the_hook_builds_the_portal_but_the_form_it_cannot_make_and_names_site(shared: Shared, tmp_path: Path) -> None:
    portal = tmp_path / "portal"
    result = CliRunner().invoke(app, ["-C", str(shared.server), "hooks", "install", "--server", "--site", str(portal)])
    assert result.exit_code == 0, result.output
    pid = open_project(shared.team, "150万")  # a key project: form1 shows the plan's approach, too big for it
    shared.team.ok("zhangsan", "set", pid, "plan.approach=" + "要求<b>x</b>" * 60000)
    said = " ".join(shared.accepted("-q", "origin", "main").replace("remote:", " ").split())
    assert f"project {pid}: form form1 is left out of the portal" in said, said
    assert {"index.html", "ar.html", f"project-{pid}.html", "person-zhangsan.html"} <= {
        p.name for p in portal.iterdir()
    }
    assert not (portal / f"form-{pid}.form1.html").exists()
    shutil.rmtree(portal)
    portal.write_text("now a file", encoding="utf-8")  # the hook's errors name its option, not site's -o
    open_new(shared.team, "zhangsan")
    said = " ".join(shared.accepted("-q", "origin", "main").replace("remote:", " ").split())
    assert f"--site {portal}: a file, not a folder" in said and "-o " not in said, said


def test_the_hook_prints_the_forms_as_pdf_when_installed_with_pdf(
    shared: Shared, origin: Origin, tmp_path: Path
) -> None:
    from xmflow.notify import notices

    portal = tmp_path / "portal"
    result = CliRunner().invoke(
        app, ["-C", str(shared.server), "hooks", "install", "--server", "--site", str(portal), "--pdf"]
    )
    assert result.exit_code == 0, result.output
    assert "--pdf" in (shared.server / "hooks" / "post-receive").read_text(encoding="utf-8")
    shared.team.ok("zhaoliu", "sign", origin.review, "contract.supervisor_review", "-m", "同意")
    shared.accepted("-q", "origin", "main")
    printed = sorted(p.name for p in portal.glob(f"form-{origin.review}.*.pdf"))
    if notices.pdf_possible():
        assert printed and all((portal / name).read_bytes().startswith(b"%PDF") for name in printed)
    else:
        assert printed == []
    assert (
        CliRunner().invoke(app, ["-C", str(shared.server), "hooks", "install", "--server", "--pdf"]).exit_code == 2
    )  # --pdf without --site

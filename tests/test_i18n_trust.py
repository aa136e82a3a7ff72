"""The history's guards in the reader's language (issue 11): verify's findings, the settings'
refusal, the store's and sync's errors, and the server hook's refusals, each in Chinese with
`--lang zh` and in English with `--lang en`, keeping commit ids, field paths, step ids, clause
numbers and commands as they are. What verify and check keep between commands (checkpoints, the
settings' answer) is kept per language: a cached finding is shown in the language asked for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Team, draft_contract, git, hand_commit, module_team, open_project, trailer_message
from typer.testing import CliRunner

from xmflow import i18n
from xmflow.cli.entry import app
from xmflow.git import store


@pytest.fixture(autouse=True)
def english_afterwards():
    """A command chooses the language of the whole process: leave it as the other tests read it."""
    yield
    i18n.use("en")


@dataclass(frozen=True)
class Base:
    root: Path
    clock: datetime
    drafted: str  # 张三's project, its contract drafted and self-reviewed: the supervisor's review is next


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    with module_team(tmp_path_factory, "i18n-trust") as team:
        drafted = open_project(team)
        draft_contract(team, drafted)
        return Base(team.root, team.clock, drafted)


@pytest.fixture
def ws(base: Base, tmp_path: Path) -> Team:
    root = tmp_path / "ws"
    shutil.copytree(base.root, root, symlinks=True)
    return Team(root, clock=base.clock)


def flat(text: str) -> str:
    return " ".join(text.split())


def in_(lang: str, team: Team, who: str, *args: str):
    """A command with ``--lang LANG`` (the tests' XMFLOW_LANG=en otherwise decides)."""
    return team(who, "--lang", lang, *args)


def review_without_a_signoff(team: Team, pid: str) -> str:
    """The supervisor commits, with plain git, a change of the contract whose trailers say it
    approves the review (3.5.2), and no sign-off: a commit with no matching signature."""
    contract = team.root / "projects" / pid / "contract.yaml"
    contract.write_text(contract.read_text(encoding="utf-8") + "notes: 看过了\n", encoding="utf-8")
    return hand_commit(
        team,
        "zhaoliu",
        trailer_message(
            f"sign {pid} contract.supervisor_review",
            Project=pid,
            Step="contract.supervisor_review",
            Decision="approve",
            Role="sales_supervisor",
        ),
    )


# --- verify's findings ---------------------------------------------------------------------------


def test_a_verify_finding_is_in_chinese_and_keeps_the_commit_the_step_and_the_clause(ws: Team, base: Base) -> None:
    bad = review_without_a_signoff(ws, base.drafted)
    zh = in_("zh", ws, "wangjg", "verify")
    assert zh.exit_code == 1, zh.output
    said = flat(zh.stderr)
    assert bad[:7] in said and base.drafted in said and "contract.supervisor_review" in said and "3.5.2" in said
    assert "该提交签署 contract.supervisor_review，但其文件没有为它加入签署记录（提交没有对应的签署）" in said
    assert "[no-signoff]" in said and "its files add no sign-off" not in said  # the kind is a name, not words
    en = in_("en", ws, "wangjg", "verify")
    assert en.exit_code == 1
    said = flat(en.stderr)
    assert "the commit signs contract.supervisor_review but its files add no sign-off for it" in said
    assert bad[:7] in said and "3.5.2" in said and "没有为它加入签署记录" not in said


def test_verifys_json_keeps_its_keys_kinds_and_ids_and_says_the_message_in_the_language(ws: Team, base: Base) -> None:
    bad = review_without_a_signoff(ws, base.drafted)
    found = json.loads(in_("zh", ws, "wangjg", "verify", "--json").stdout)
    (mine,) = [f for f in found["findings"] if f["commit"] == bad]
    assert (mine["kind"], mine["step"], mine["clause"], mine["project"]) == (
        "no-signoff",
        "contract.supervisor_review",
        "3.5.2",
        base.drafted,
    )
    assert "没有为它加入签署记录" in mine["message"]
    assert found["notes"] and "身份取自每个提交的作者，未经认证" in found["notes"][0]


def test_findings_kept_by_verify_are_shown_in_the_language_of_each_verify(ws: Team, base: Base) -> None:
    """verify keeps its findings with the commit it reached (a checkpoint in .git/xmflow): one in
    Chinese is not shown to a reader of English, nor the other way round."""
    bad = review_without_a_signoff(ws, base.drafted)

    def verified(lang: str) -> dict:
        result = in_(lang, ws, "wangjg", "verify", "--json")
        assert result.exit_code == 1, result.output
        return json.loads(result.stdout)

    def message(found: dict) -> str:
        return next(f["message"] for f in found["findings"] if f["commit"] == bad)

    zh = verified("zh")
    assert zh["resumed_from"] is None and "没有为它加入签署记录" in message(zh)
    en = verified("en")
    assert "its files add no sign-off for it" in message(en)
    again = verified("zh")  # from the Chinese checkpoint: nothing replayed, the same Chinese
    assert again["replayed"] == 0 and again["resumed_from"] == ws.head() and message(again) == message(zh)
    again = verified("en")
    assert again["replayed"] == 0 and message(again) == message(en)
    kept = sorted(
        p.name.split("-", 1)[0].split(".")[-1] for p in (store.git_dir(ws.root) / "xmflow" / "verified").glob("*.json")
    )
    assert kept == ["en", "zh"]


def test_the_settings_refusal_kept_between_commands_is_in_each_readers_language(ws: Team, base: Base) -> None:
    """`check` keeps its answer on the settings (.git/xmflow/settings.LANG-….pickle); the refusal
    in it is a message, shown in the language asked for whichever ran first."""
    people = ws.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace("roles: [sales]}", "roles: [sales, admin]}", 1), encoding="utf-8"
    )
    bad = hand_commit(ws, "zhangsan", "people: I am an admin now")
    for lang, words in (
        ("zh", f"提交 {bad[:7]}："),
        ("en", f"commit {bad[:7]}: "),
        ("zh", "xmflow 只按管理员最后提交的"),
    ):
        result = in_(lang, ws, "zhangsan", "check")
        assert result.exit_code == 1 and words in flat(result.output), (lang, result.output)
        assert f"xmflow verify --acknowledge {bad[:7]} -m" in flat(result.output)
    refused = in_("zh", ws, "zhangsan", "set", base.drafted, "contract.notes=x")
    assert refused.exit_code == 1 and "确认这次修改、按现状采用这些设置" in flat(refused.output)
    assert {p.name.split("-", 1)[0] for p in (ws.root / ".git" / "xmflow").glob("settings.*-*.pickle")} == {
        "settings.zh",
        "settings.en",
    }


# --- the store, the lock, sync ---------------------------------------------------------------------


def test_a_hand_edit_is_refused_in_chinese_with_the_path_and_the_git_command(ws: Team, base: Base) -> None:
    path = f"projects/{base.drafted}/contract.yaml"
    contract = ws.root / path
    contract.write_text(contract.read_text(encoding="utf-8").replace("HT-1", "HT-9"), encoding="utf-8")
    zh = in_("zh", ws, "zhangsan", "set", base.drafted, "contract.notes=x")
    assert zh.exit_code == 2
    assert (
        f"{path} 有未提交的修改：用 `git restore --staged --worktree -- {path}` 恢复 {path}，再用 `xmflow set` 或 "
        "`xmflow edit` 修改"
    ) in flat(zh.output)
    en = in_("en", ws, "zhangsan", "set", base.drafted, "contract.notes=x")
    assert en.exit_code == 2
    assert f"uncommitted changes in {path}: put {path} back with `git restore --staged --worktree -- {path}`" in flat(
        en.output
    )


def test_sync_without_a_remote_says_so_in_each_language(ws: Team) -> None:
    zh = in_("zh", ws, "zhangsan", "sync")
    assert zh.exit_code == 2
    assert "没有远程仓库 'origin'：用 `git remote add origin URL` 添加共享仓库，或用 --remote 指定一个" in flat(
        zh.output
    )
    en = in_("en", ws, "zhangsan", "sync")
    assert (
        en.exit_code == 2
        and "no remote 'origin': add the shared repository with `git remote add origin URL`" in flat(en.output)
    )


def test_another_command_holding_the_lock_is_named_in_chinese(ws: Team, base: Base) -> None:
    """The lock file says who holds it in no language (``pid N, since HH:MM:SS``); the refusal
    says it in the reader's."""
    import sys

    from conftest import EMAILS

    from xmflow.git.lock import workspace_lock

    env = {**os.environ, "GIT_AUTHOR_EMAIL": EMAILS["zhangsan"], "XMFLOW_LOCK_WAIT": "0.2"}
    with workspace_lock(store.git_dir(ws.root)):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "xmflow",
                "-C",
                str(ws.root),
                "--lang",
                "zh",
                "set",
                base.drafted,
                "contract.notes=x",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        content = (store.git_dir(ws.root) / "xmflow" / "lock").read_text(encoding="utf-8")
    assert content.startswith(f"pid {os.getpid()}, since ")  # the file: data, never translated
    said = flat(done.stderr)
    assert done.returncode == 2 and f"本工作区正在运行另一个 xmflow 命令（进程 {os.getpid()}，自 " in said, done.stderr
    assert "已等待 0.2 秒" in said


def test_a_sync_conflict_is_told_in_chinese_with_the_project_stage_and_commits(
    ws: Team, base: Base, tmp_path: Path
) -> None:
    server = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    git(ws.root, "remote", "add", "origin", str(server))
    git(ws.root, "push", "-q", "-u", "origin", "main")
    clone = tmp_path / "b"
    subprocess.run(["git", "clone", "-q", str(server), str(clone)], check=True)
    other = Team(clone, clock=ws.clock)
    pid = base.drafted
    ws.ok("zhangsan", "set", pid, "contract.number=HT-2")
    ws.ok("zhangsan", "sync")
    other.ok("zhangsan", "set", pid, "contract.number=HT-3")
    head = other.head()
    result = in_("zh", other, "zhangsan", "sync")
    assert result.exit_code == 1, result.output
    said = flat(result.output)
    assert f"{pid} contract (contract.yaml)：在这里被修改（你的提交 {head[:7]}" in said
    assert "也在 origin/main 上被 张三" in said
    assert "没有推送任何内容；你的提交和文件保持原样" in said and "git rebase -i origin/main" in said
    assert other.head() == head and other.clean()


def test_a_push_the_server_refuses_is_told_in_chinese_with_every_line_the_server_said(
    ws: Team, base: Base, tmp_path: Path
) -> None:
    """git's own words (the server's lines after git's ``remote:``) are passed through as they are,
    the first one too, inside xmflow's words in the reader's language."""
    server = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    git(ws.root, "remote", "add", "origin", str(server))
    git(ws.root, "push", "-q", "-u", "origin", "main")
    hook = server / "hooks" / "pre-receive"
    hook.write_text(
        '#!/bin/sh\necho "first: closed for the weekend" >&2\necho "second: 周一再来" >&2\nexit 1\n', encoding="utf-8"
    )
    hook.chmod(0o755)
    ws.ok("zhangsan", "set", base.drafted, "contract.number=HT-2")
    head = ws.head()
    result = in_("zh", ws, "zhangsan", "sync")
    assert result.exit_code == 1, result.output
    said = result.output
    assert "origin 拒绝了推送到 main（pre-receive hook declined）；原因：" in said
    assert "  remote: first: closed for the weekend\n  remote: second: 周一再来\n没有推送任何内容" in said
    assert ws.head() == head and ws.clean()


# --- the server's hook ----------------------------------------------------------------------------


def test_the_server_hook_speaks_the_locale_the_shared_repository_has(ws: Team, tmp_path: Path) -> None:
    """The pre-receive hook runs xmflow's command line in the bare repository, where no work tree
    holds xmflow.yaml: it speaks the locale of the settings its HEAD has (Chinese by default)."""
    server = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", str(server)], check=True)
    installed = CliRunner().invoke(app, ["-C", str(server), "hooks", "install", "--server"])
    assert installed.exit_code == 0, installed.output
    git(ws.root, "remote", "add", "origin", str(server))
    env = {k: v for k, v in os.environ.items() if k != "XMFLOW_LANG"}  # as on a server: nobody sets it

    def push(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(ws.root), "push", *args], capture_output=True, text=True, env=env)

    assert push("-q", "origin", "main").returncode == 0
    refused = push("origin", ":main")
    said = flat(refused.stderr.replace("remote:", " "))
    assert refused.returncode != 0 and "refs/heads/main：不允许删除引用：共享仓库上的历史只增不减" in said, (
        refused.stderr
    )
    assert "xmflow set … --reopen -m 原因" in said and "xmflow sync" in said
    config = ws.root / "xmflow.yaml"
    text = config.read_text(encoding="utf-8")
    assert "locale: zh" in text  # xmflow init's
    config.write_text(text.replace("locale: zh", "locale: en"), encoding="utf-8")
    now = datetime.now().astimezone().replace(microsecond=0)  # the server judges dates by its own clock
    hand_commit(ws, "wangjg", "xmflow.yaml: messages in English", at=now.isoformat())
    pushed = push("-q", "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    refused = push("origin", ":main")
    said = flat(refused.stderr.replace("remote:", " "))
    assert refused.returncode != 0 and "refs/heads/main: deleting a ref is refused: history on the shared" in said

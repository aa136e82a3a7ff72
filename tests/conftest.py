"""Fixtures: throw-away workspaces with an isolated git configuration, and people who act."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from xmflow.cli.entry import app
from xmflow.clock import fixed_time

EXAMPLE_PEOPLE = resources.files("xmflow.examples").joinpath("people.yaml").read_text(encoding="utf-8")
EMAILS = {
    "wangjg": "wangjg@example.com",
    "zhangsan": "zhangsan@example.com",
    "lisi": "lisi@example.com",
    "hewu": "hewu@example.com",
    "zhaoliu": "zhaoliu@example.com",
    "qianqi": "qianqi@example.com",
    "sunba": "sunba@example.com",
    "zhoujiu": "zhoujiu@example.com",
    "wushi": "wushi@example.com",
    "zhengyi": "zhengyi@example.com",
    "fenger": "fenger@example.com",
    "chensan": "chensan@example.com",
    "stranger": "stranger@example.org",
}


def isolate_git(home: Path, mp: pytest.MonkeyPatch) -> None:
    """Point git at a fresh configuration in *home*: a fixed committer, no identity from the
    environment, no system configuration, no terminal size."""
    config = home / "gitconfig"
    config.write_text(
        "[user]\n\tname = Test Committer\n\temail = committer@example.invalid\n[init]\n\tdefaultBranch = main\n"
    )
    mp.setenv("GIT_CONFIG_GLOBAL", str(config))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.setenv("HOME", str(home))
    mp.setenv("XMFLOW_LANG", "en")  # the tests read English; test_i18n asks for Chinese
    for var in ("COLUMNS", "LINES"):  # the terminal's size is the test's to set (pytest-xdist sets one)
        mp.delenv(var, raising=False)
    for var in (
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_DATE",
        "EDITOR",
        "VISUAL",
        "NO_COLOR",
    ):
        mp.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def english_between_tests() -> Iterator[None]:
    """A command run with --lang zh leaves xmflow speaking Chinese in this process: the next test
    starts in English again (as the library speaks before a command chooses)."""
    yield
    from xmflow import i18n

    i18n.use("en")


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's git configuration, identity or clock."""
    isolate_git(tmp_path_factory.mktemp("home"), monkeypatch)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


@dataclass
class Team:
    """The example company acting in one workspace: ``team("zhangsan", "sign", ...)``."""

    root: Path
    clock: datetime = field(default_factory=lambda: datetime.fromisoformat("2026-09-01T09:00:00+08:00"))
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, who: str, *args: str, at: str | None = None, env: dict[str, str] | None = None):
        self.clock = datetime.fromisoformat(at) if at else self.clock + timedelta(minutes=10)
        with fixed_time(self.clock):
            return self.runner.invoke(
                app, ["-C", str(self.root), *args], env={"GIT_AUTHOR_EMAIL": EMAILS[who], **(env or {})}
            )

    def ok(self, who: str, *args: str, **kwargs):
        """Run a command that must succeed."""
        result = self(who, *args, **kwargs)
        assert result.exit_code == 0, f"xmflow {' '.join(args)} as {who} → {result.exit_code}:\n{result.output}"
        return result

    def json(self, who: str, *args: str, **kwargs):
        return json.loads(self.ok(who, *args, "--json", **kwargs).stdout)

    def status(self, project: str) -> dict:
        return self.json("wangjg", "status", project, "--as-of", "2026-12-31")

    def state(self, project: str, step: str) -> str:
        return next(s for s in self.status(project)["steps"] if s["step"] == step)["state"]

    def on(self, day: str) -> str | None:
        """The time to record something that happened on *day*: that day at 17:00 while the clock
        is before it (a fact is not dated after the day it is recorded), else the clock's next step."""
        end = datetime.fromisoformat(f"{day}T17:00:00+08:00")
        return end.isoformat() if self.clock + timedelta(minutes=10) < end else None

    def commits(self) -> int:
        return int(git(self.root, "rev-list", "--count", "HEAD"))

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()

    def clean(self) -> bool:
        return git(self.root, "status", "--porcelain") == ""


@pytest.fixture
def team(tmp_path: Path) -> Team:
    """A fresh workspace with the example company's people, made through `xmflow init`."""
    return new_team(tmp_path / "ws")


ALL_TRUE = "{pricing: true, payment: true, delivery: true, warranty: true, liability: true}"
TERMS = "[{name: 预付款, percent: 30, due: signing, days: 7}, {name: 尾款, percent: 70, due: acceptance, days: 30}]"


def open_project(team: Team, budget: str = "35万", *extra: str, who: str = "zhangsan") -> str:
    """A submitted project (3.1.1); returns its id."""
    pid = team.json(who, "new", "测试项目", "--client", "甲方公司", "--budget", budget, *extra)["id"]
    team.ok(who, "set", pid, "initiation.client.contact=刘经理", "initiation.phase=跟踪")
    team.ok(who, "sign", pid, "initiation.submit")
    return pid


def draft_contract(team: Team, pid: str, amount: str = "34.8万", who: str = "zhangsan") -> None:
    """Fill in and sign the contract draft and the self-review (3.4, 3.5.1)."""
    team.ok(
        who,
        "set",
        pid,
        "contract.number=HT-1",
        "contract.template=company",
        f"contract.amount={amount}",
        f"contract.payment_terms={TERMS}",
        "contract.warranty_months=12",
        "contract.delivery_date=2026-12-01",
        f"contract.core_principles={ALL_TRUE}",
    )
    team.ok(who, "sign", pid, "contract.draft")
    team.ok(who, "sign", pid, "contract.self_review")


def stamp_contract(team: Team, pid: str, who: str = "zhangsan") -> None:
    """From the supervisor's review to the stamp, originals recorded: the client's signature is next."""
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review")
    team.ok("qianqi", "sign", pid, "contract.business_review")
    team.ok("qianqi", "sign", pid, "contract.stamp")
    team.ok(who, "set", pid, "contract.originals.copies=2", f"contract.originals.kept_by={who}")


def sign_contract(team: Team, pid: str, who: str = "zhangsan") -> None:
    """From the supervisor's review to the client's signature (3.5.2–3.6.2)."""
    stamp_contract(team, pid, who)
    team.ok(who, "sign", pid, "contract.client_sign", "--role", "client", "--signatory", "刘经理")


def plan_ready(team: Team, pid: str, who: str = "zhangsan", milestones: bool = True) -> None:
    """A key project's team, plan and sample details signed (and milestones set): the countersign is next."""
    team.ok(who, "set", pid, "initiation.team.kickoff_date=2026-09-01", f"initiation.team.members=[{who}]")
    team.ok(who, "sign", pid, "initiation.team")
    team.ok(
        who,
        "set",
        pid,
        "plan.approach=方案",
        "plan.samples.model=M",
        "plan.samples.configuration=C",
        "plan.samples.drawings=D",
        "plan.samples.color=黑",
        "plan.samples.silkscreen=S",
        *(["plan.milestones=[{name: 合同签订, due: 2026-10-15}]"] if milestones else []),
    )
    for step in ("plan.draft", "plan.sample_details"):
        team.ok(who, "sign", pid, step)


def shipped(team: Team, pid: str) -> None:
    """Ready, ordered and shipped (3.7.2)."""
    team.ok("zhengyi", "sign", pid, "installation.ready_to_ship")
    team.ok("qianqi", "sign", pid, "installation.ship_order")
    team.ok("zhangsan", "set", pid, "installation.shipped_date=2026-10-30", at=team.on("2026-10-30"))
    team.ok("zhangsan", "sign", pid, "installation.shipped")


def accepted(team: Team, pid: str) -> None:
    """Shipped, acceptance requested and signed by the client (3.7.2, 3.8)."""
    shipped(team, pid)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "acceptance.request_date=2026-11-07",
        "acceptance.accepted_date=2026-11-10",
        "acceptance.copies=2",
        at=team.on("2026-11-10"),
    )
    team.ok("zhangsan", "sign", pid, "acceptance.request")
    team.ok("zhangsan", "sign", pid, "acceptance.client_sign", "--role", "client", "--signatory", "刘经理")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files of the printed forms (tests/golden/) from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites the golden files instead of comparing with them."""
    return bool(request.config.getoption("--update-golden"))


def hand_commit(team: Team, who: str, message: str, at: str | None = None, env: dict[str, str] | None = None) -> str:
    """Commit every change of the working tree with plain git, as *who* would by hand (their
    identity, dated by the team's clock, moved on as for a command); returns the commit id."""
    import os

    team.clock = datetime.fromisoformat(at) if at else team.clock + timedelta(minutes=10)
    stamp = team.clock.isoformat()
    git(team.root, "add", "-A")
    subprocess.run(
        [
            "git",
            "-C",
            str(team.root),
            "-c",
            f"user.email={EMAILS[who]}",
            "-c",
            f"user.name={who}",
            "commit",
            "-q",
            "-m",
            message,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, **(env or {})},
    )
    return team.head()


def trailer_message(subject: str, **trailers: str) -> str:
    """A commit message ending in Xmflow- trailers: ``On_Behalf_Of="x"`` → ``Xmflow-On-Behalf-Of: x``."""
    return subject + "\n\n" + "\n".join(f"Xmflow-{key.replace('_', '-')}: {value}" for key, value in trailers.items())


def append_signoff(root: Path, project: str, stage: str, **fields: str) -> None:
    """Add a sign-off to the end of a stage file by hand (its `signoffs:` list comes last)."""
    path = root / "projects" / project / f"{stage}.yaml"
    text = path.read_text(encoding="utf-8")
    if not text.startswith("signoffs:") and "\nsignoffs:" not in text:
        text += "signoffs:\n"
    lines = [f"{'-' if i == 0 else ' '} {key}: {value}" for i, (key, value) in enumerate(fields.items())]
    path.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")


def digest_now(root: Path, project: str, step: str) -> str:
    """The digest a sign-off of *step* would carry on the working tree's data (what a forger computes)."""
    from xmflow.records.workspace import Workspace
    from xmflow.rules.project import ProjectView

    ws = Workspace(root)
    return ProjectView(ws.project(project), ws.process, ws.config).current_digest(ws.process.step(step))


def new_team(root: Path) -> Team:
    """A workspace as the `team` fixture makes it, for one built once per module."""
    result = CliRunner().invoke(
        app,
        ["init", str(root), "--company", "测试公司"],
        env={"GIT_AUTHOR_EMAIL": EMAILS["wangjg"], "GIT_AUTHOR_NAME": "王建国"},
    )
    assert result.exit_code == 0, result.output
    (root / "people.yaml").write_text(EXAMPLE_PEOPLE, encoding="utf-8")
    git(root, "add", "people.yaml")
    git(root, "-c", "user.email=wangjg@example.com", "commit", "-qm", "people")
    return Team(root)


@contextmanager
def module_team(factory: pytest.TempPathFactory, name: str) -> Iterator[Team]:
    """A fresh team for a module-scoped fixture, built with git isolated (as every test runs)."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(factory.mktemp(f"{name}-home"), mp)
        yield new_team(factory.mktemp(name) / "ws")


def keygen(folder: Path, name: str) -> Path:
    """A throw-away SSH key (ed25519, no passphrase) named *name* in *folder*."""
    if shutil.which("ssh-keygen") is None:
        pytest.fail(
            "ssh-keygen is needed to test signed commits: install openssh-client (apt-get install openssh-client)"
        )
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def signing(key: Path) -> dict[str, str]:
    """The environment that makes git (and so xmflow, which commits through git) sign with *key*."""
    config = {"gpg.format": "ssh", "user.signingkey": str(key), "commit.gpgsign": "true"}
    env = {"GIT_CONFIG_COUNT": str(len(config))}
    for i, (name, value) in enumerate(config.items()):
        env |= {f"GIT_CONFIG_KEY_{i}": name, f"GIT_CONFIG_VALUE_{i}": value}
    return env


def said(printed: str | Result) -> str:
    """Everything a command printed (stdout and stderr), with the terminal's line wrapping undone;
    *printed* is a command's result or the text itself (what `refused` returns)."""
    text = printed if isinstance(printed, str) else printed.output
    return " ".join(text.split())


class Refusal(str):
    """What a refused command printed: the text itself is stdout and stderr together (as
    `result.output`), `.stderr` the error stream alone (where a refusal's message goes)."""

    stderr: str

    def __new__(cls, result: Result) -> Refusal:
        refusal = super().__new__(cls, result.output)
        refusal.stderr = result.stderr
        return refusal


def refused(
    team: Team,
    who: str,
    *args: str,
    code: int = 1,
    at: str | None = None,
    env: dict[str, str] | None = None,
    dirty: bool = False,
) -> Refusal:
    """Run a command that must be refused with *code*, changing nothing: no new commit, HEAD where
    it was, the working tree as it was and clean (*dirty*: a tree left dirty on purpose need only
    stay as it was), and no internal error. Returns what it said (`said()` undoes the wrapping)."""
    head, commits, status = team.head(), team.commits(), git(team.root, "status", "--porcelain")
    result = team(who, *args, at=at, env=env)
    assert result.exit_code == code, f"xmflow {' '.join(args)} as {who} → {result.exit_code}:\n{result.output}"
    assert team.head() == head and team.commits() == commits, f"xmflow {' '.join(args)} committed"
    after = git(team.root, "status", "--porcelain")
    assert after == status and (dirty or after == ""), f"xmflow {' '.join(args)} left the tree:\n{after}"
    assert "internal error" not in result.output, result.output
    return Refusal(result)

"""A property-based fuzz of the command line (issue 9): for each command, odd arguments and
option values — empty strings, blanks, control characters and ANSI escapes, very long strings,
option-like values, unicode, paths (``.``, ``/``, ``/dev/null``, ``/dev/full``, a FIFO, missing
folders), impossible dates, odd amounts — against one small workspace built once per module.

Whatever the input: the exit code is 0, 1 or 2, never 3 (an internal error); no call hangs
(the inputs are bounded; what could block — a FIFO, a device given as a scan — runs in a
process of its own with a timeout); a refused command (1 or 2) changes nothing (HEAD, `git
status --porcelain` and the folder it ran in are as they were); and nothing printed carries a
raw escape character. The seed is fixed (derandomize) and the examples bounded, so CI is fast
and a failure repeats.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    EMAILS,
    Team,
    draft_contract,
    git,
    module_team,
    open_project,
    sign_contract,
    stamp_contract,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DEFAULT_EXAMPLES = 20  # per command; more where the odd value must get past several others
EXAMPLES = {"sign": 40, "edit": 40, "set": 30, "render": 30}  # about 360 calls in all


@dataclass(frozen=True)
class Place:
    """The workspace the fuzz runs against, and the odd files it may name."""

    team: Team
    signed: str  # a project whose contract the client signed (invoices, receipts, ar)
    stamped: str  # a project waiting for the client's signature (a scan may go with it)
    scratch: Path  # the folder the commands run in (relative output files land here)
    fifo: str
    folder: str
    scan: str
    big_scan: str


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Place:
    with module_team(tmp_path_factory, "fuzz") as team:
        signed, stamped = open_project(team), open_project(team)
        for pid in (signed, stamped):
            draft_contract(team, pid)
        sign_contract(team, signed)
        stamp_contract(team, stamped)
        odd = tmp_path_factory.mktemp("fuzz-files")
        os.mkfifo(odd / "fifo")
        (odd / "folder").mkdir()
        (odd / "scan.pdf").write_bytes(b"%PDF-1.4 a scan")
        with open(odd / "big.pdf", "wb") as handle:
            handle.truncate(21 * 1024 * 1024)  # sparse: over the 20 MB a scan may be
        return Place(
            team,
            signed,
            stamped,
            tmp_path_factory.mktemp("fuzz-cwd"),
            str(odd / "fifo"),
            str(odd / "folder"),
            str(odd / "scan.pdf"),
            str(odd / "big.pdf"),
        )


# --- what the fuzz types -----------------------------------------------------------------------

ODD = [
    "",
    " ",
    "\t",
    "\n",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "a\x1b[2Jb",
    "\x9b1m",
    "\u202eabc",
    "a\u2028b",
    "\x7f",
    "a\udc9b",
    "-5",
    "--x",
    "-",
    "--",
    "-0",
    "1e9999",
    "NaN",
    "inf",
    "0",
    "-1",
    "2026-02-30",
    "2026-13-01",
    "0000-01-01",
    "9999-12-31",
    "2017-12-5",
    "x" * 3000,
    "项目",
    "😀",
    "[bold]x[/bold]",
    "[/]",
    "=1+1",
    "@x",
    "- a\n1. b",
    "%s%n",
    "{0}",
    "$(true)",
    "a;b",
    "../x",
    "2026-001",
    "zhangsan",
    "client",
    "contract",
    "contract.draft",
    "form2",
    "volume",
    "HEAD",
    "origin",
]
PATHS = [
    "",
    ".",
    "/",
    "..",
    "/dev/null",
    "/dev/full",
    "/nonexistent/x.md",
    "nofolder/x.xlsx",
    "out.md",
    "out.html",
    "out.xlsx",
    "x.docx",
    "FIFO",
    "FOLDER",
]
SCANS = [
    "",
    ".",
    "/",
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/nonexistent/scan.pdf",
    "FIFO",
    "FOLDER",
    "SCAN",
    "BIG",
]
BLOCKING = {"/dev/zero", "/dev/urandom", "FIFO"}  # before the fix these blocked or read for ever
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # control characters: none may be printed as they are


# Any character but NUL, which no command line can hold (the kernel ends an argument there).
TEXT = st.text(st.characters(blacklist_characters="\x00"), max_size=12)


def odd_text(*likely: str) -> st.SearchStrategy[str]:
    """A value: a likely one most of the time (so that a command gets past its first argument
    to the others), else one of the odd ones or random text."""
    odd = [st.sampled_from(ODD), TEXT]
    return st.one_of(*([st.sampled_from(likely)] * 3 if likely else []), *odd)


def option(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    """An option with a value, or not given."""
    return st.one_of(st.just([]), values.map(lambda v: [name, v]))


def flag(name: str) -> st.SearchStrategy[list[str]]:
    return st.sampled_from([[], [name]])


def argv(*parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    """The arguments and options of a command, one after the other."""
    return st.tuples(*parts).map(lambda groups: [a for group in groups for a in group])


def arg(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return values.map(lambda v: [v])


def maybe(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), arg(values))


PROJECT = odd_text("P", "S")
STEP = odd_text(
    "contract.client_sign",
    "contract.client_sign",
    "acceptance.request",
    "installation.ready_to_ship",
    "contract.gm_approval",
    "plan.countersign",
)
DATE = odd_text("2026-09-10", "2026-12-31", "2027-01-01")
AMOUNT = odd_text("1万", "1,000.00", "0.001", "150万", "1.5亿", "99999999999999999")
ROLE = odd_text("client", "sales", "finance", "business_center", "boss")
PERSON = odd_text("zhangsan", "lisi", "nobody", "wushi")
FORM = odd_text("form1", "form2", "form4", "附表2", "XM-F04", "volume", "shipping-order")
STAGE = odd_text("contract", "installation", "initiation", "nosuchstage")
ASSIGN = odd_text(
    "contract.notes=备注",
    "contract.amount=1万",
    "installation.requirements=- a\n1. b",
    "contract.notes=",
    "initiation.name=新名",
    "x=y",
    "contract.nosuch=1",
    "contract.amount=1e9999",
    "plan.milestones=[{name: a, due: 2026-02-30}]",
    "contract.payment_terms=[[[[]]]]",
)
EDITORS = [
    "true",
    "false",
    'vi "',
    "",
    " ",
    "/nonexistent-editor",
    "sh -c 'echo notes: 备注 >> \"$1\"' sh",
    'sh -c \'printf "\\033[31m: [" > "$1"\' sh',
]

COMMANDS: dict[str, st.SearchStrategy[list[str]]] = {
    "new": argv(
        arg(odd_text("项目")),
        option("--client", odd_text("甲方")),
        option("--budget", AMOUNT),
        option("--sales", PERSON),
        option("--id", odd_text("X-1", "2026-001")),
        flag("--industry-need"),
        flag("--special"),
        flag("--json"),
    ),
    "set": argv(arg(PROJECT), st.lists(ASSIGN, max_size=3), option("-m", odd_text("备注")), flag("--reopen")),
    "edit": argv(arg(PROJECT), arg(STAGE), option("-m", odd_text("原因")), flag("--reopen")),
    "sign": argv(
        arg(PROJECT),
        arg(STEP),
        flag("--reject"),
        option("-m", odd_text("同意")),
        option("--role", ROLE),
        option("--signatory", odd_text("刘经理")),
        option("--evidence", st.sampled_from(SCANS)),
        option("--date", DATE),
        option("--on-behalf-of", PERSON),
    ),
    "status": argv(
        maybe(PROJECT),
        flag("--mine"),
        option("--role", ROLE),
        flag("--overdue"),
        flag("--key"),
        flag("--late"),
        flag("--warranty"),
        option("--xlsx", st.sampled_from(PATHS)),
        option("--as-of", DATE),
        flag("--json"),
    ),
    "show": argv(arg(PROJECT), maybe(STAGE), flag("--json")),
    "render": argv(
        arg(PROJECT), arg(FORM), option("--format", odd_text("md", "html")), option("-o", st.sampled_from(PATHS))
    ),
    "log": argv(maybe(PROJECT), flag("--json")),
    "verify": argv(maybe(PROJECT), option("--rev", odd_text("HEAD", "HEAD~1", "main")), flag("--json")),
    "check": argv(st.lists(odd_text(), max_size=1)),
    "invoice": argv(arg(PROJECT), arg(AMOUNT), option("--number", odd_text("FP-1")), option("--date", DATE)),
    "receive": argv(arg(PROJECT), arg(AMOUNT), option("--date", DATE), option("--ref", odd_text("回单"))),
    "ar": argv(
        option("--as-of", DATE),
        flag("--by-salesperson"),
        flag("--json"),
        flag("--csv"),
        option("--xlsx", st.sampled_from(PATHS)),
    ),
    "process show": argv(flag("--json"), st.lists(odd_text(), max_size=1)),
}
GLOBAL = argv(option("--lang", odd_text("zh", "en")), flag("--no-color"))
WHO = st.sampled_from(["zhangsan", "zhangsan", "zhangsan", "zhaoliu", "qianqi", "wushi", "wangjg", "stranger"])


# --- running one -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str


def placed(p: Place, args: list[str]) -> list[str]:
    """The fuzzed arguments, with the placeholders for this workspace's projects and files."""
    names = {"P": p.signed, "S": p.stamped, "FIFO": p.fifo, "FOLDER": p.folder, "SCAN": p.scan, "BIG": p.big_scan}
    return [names.get(a, a) for a in args]


def run(p: Place, who: str, args: list[str], env: dict[str, str], blocking: bool) -> Outcome:
    """One command, as *who*: in this process through CliRunner, or in a process of its own with
    a timeout when it names what could block."""
    full = ["-C", str(p.team.root), *args]
    if blocking:
        done = subprocess.run(
            [sys.executable, "-m", "xmflow", *full],
            capture_output=True,
            timeout=60,
            cwd=p.scratch,
            env={**os.environ, **env, "GIT_AUTHOR_EMAIL": EMAILS[who]},
        )
        return Outcome(done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace"))
    cwd = os.getcwd()
    os.chdir(p.scratch)
    try:
        result = p.team(who, *args, env=env)
    finally:
        os.chdir(cwd)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout + result.stderr)


def state(p: Place) -> tuple[str, str, list[str]]:
    return (
        p.team.head(),
        git(p.team.root, "status", "--porcelain", "--untracked-files=all"),
        sorted(os.listdir(p.scratch)),
    )


def check(p: Place, command: str, who: str, args: list[str], env: dict[str, str]) -> None:
    """Run one fuzzed command and assert what must hold whatever the input."""
    blocking = bool(BLOCKING & set(args))
    args = placed(p, args)
    before = state(p)
    outcome = run(p, who, [*command.split(), *args], env, blocking)
    shown = f"xmflow {command} {args!r} as {who} → {outcome.code}:\n{outcome.output[-2000:]}"
    assert outcome.code in (0, 1, 2), shown
    assert "internal error" not in outcome.output, shown
    assert not RAW.search(outcome.output), shown
    if outcome.code != 0:
        assert state(p) == before, "a refused command changed something: " + shown


FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    max_examples=DEFAULT_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("command", COMMANDS)
def test_odd_arguments_never_crash_hang_or_change_anything_when_refused(place: Place, command: str) -> None:
    @settings(FUZZ, max_examples=EXAMPLES.get(command, DEFAULT_EXAMPLES))
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        args = data.draw(COMMANDS[command], label="args")
        who = data.draw(WHO, label="who")
        env = {"EDITOR": data.draw(st.sampled_from(EDITORS), label="EDITOR")} if command == "edit" else {}
        check(place, command, who, args, env)

    fuzz()


def test_odd_global_options_never_crash(place: Place) -> None:
    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        command = data.draw(st.sampled_from(["status", "log", "process show", "ar"]), label="command")
        options = data.draw(GLOBAL, label="global")
        before = state(place)
        outcome = run(place, "wangjg", [*options, *command.split()], {}, blocking=False)
        assert outcome.code in (0, 2) and "internal error" not in outcome.output, outcome.output
        assert not RAW.search(outcome.output) and state(place) == before

    fuzz()

"""Hostile files (issue 9): whatever a stage file, people.yaml, xmflow.yaml or the process file
holds, xmflow reads it or refuses it naming the file (exit 2) — never an internal error (exit 3),
never a hang — and a refused change changes nothing.

Two layers, both with a fixed seed (``derandomize``) and a bounded number of examples:
- the readers, in-process, where an example costs about a millisecond: every input is read or
  refused with a RecordError that starts with the file's name, and what is read can be written
  back and read again unchanged and worked on by the rules (status, figures, payment schedule);
- the commands, on a throw-away copy of a small workspace where the hostile file is committed by
  the admin with plain git: `status`, `status PROJECT`, `show PROJECT`, `check`, `verify` and
  one `set` as the salesperson exit 0, 1 or 2, an exit 2 names the file, and a refused `set`
  leaves HEAD and the working tree as they were.
Hangs: every input is bounded (at most ~100 kB), each command runs under a SIGALRM watchdog that
fails the test by name, and the inputs that used to hang run once more in a subprocess with a
timeout (test_hangs_*).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import EMAILS, EXAMPLE_PEOPLE, Team, draft_contract, git, module_team, open_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xmflow import yamlio
from xmflow.errors import RecordError, XmflowError
from xmflow.model import Config, Project, StageRecord
from xmflow.money.figures import figures
from xmflow.money.receivables import receivable, schedule
from xmflow.procedure import parser, process
from xmflow.procedure.schema import FieldType
from xmflow.records import stages as records
from xmflow.records.workspace import parse_config, parse_people
from xmflow.reports import status as status_mod
from xmflow.rules.project import ProjectView
from xmflow.values import check_text

P = parser.load(None)
ROLES = {rid for rid, role in P.roles.items() if role.is_global and not role.external}
DAY = date(2026, 12, 1)
SIGNED, OPEN = "2026-001", "2026-002"  # the template's projects: a contract signed twice; one not yet submitted

# --- the inputs ------------------------------------------------------------------------------------

CONTRACT = yamlio.load(
    """\
number: HT-1
template: company
amount: 348000.00
payment_terms:
- {name: 预付款, percent: 30, due: signing, days: 7}
- {name: 尾款, percent: 70, due: acceptance, days: 30}
warranty_months: 12
delivery_date: 2026-12-01
core_principles: {pricing: true, payment: true, delivery: true, warranty: true, liability: true}
notes: 第一行
signoffs:
- step: contract.draft
  decision: approve
  by: zhangsan
  role: sales
  at: 2026-09-01T09:50:00+08:00
  digest: sha256:fd40ecd988951f29fb4b1ae452a2004e9356b6451990e9c190228c606eef45c0
- step: contract.client_sign
  decision: approve
  by: zhangsan
  role: client
  at: 2026-09-02T10:00:00+08:00
  digest: sha256:b3340afe5d7f8e14ec16781a93381ac5ca8d9bfaef806562046aa7d187aae8ee
  comment: 同意
  signatory: 刘经理
  evidence: {file: files/contract.client_sign-0123456789ab.pdf, sha256: '%s'}
  signed_on: 2026-09-02
"""
    % ("0" * 64),
    "contract.yaml",
).data
INITIATION = yamlio.load(
    """\
name: 第二
client: {name: 乙, contact: x}
budget: 100000.00
phase: 咨询
sales: zhangsan
opened: 2026-09-01
team: {kickoff_date: 2026-09-03, members: [zhangsan], briefing: 交底}
""",
    "project.yaml",
).data
PEOPLE = yamlio.load(
    EXAMPLE_PEOPLE + "delegations:\n  - {from: zhaoliu, to: sunba, roles: [sales_supervisor], "
    "since: 2026-09-01, until: 2026-09-30}\n",
    "people.yaml",
).data
CONFIG = {
    "company": "测试公司",
    "currency": "CNY",
    "key_threshold": "1000000.00",
    "locale": "zh",
    "process": "process.yaml",
    "require_signed_commits": "false",
    "max_backdate_days": "30",
}
PROCESS = yamlio.load(parser.default_text(), "process.yaml").data

ODD = [
    "NO",
    "no",
    "on",
    "Off",
    "y",
    "010",
    "0755",
    "1:30",
    "~",
    "",
    "null",
    "1.10",
    "1e3",
    ".inf",
    ".nan",
    "-1",
    "-0",
    "0x1F",
    "1_000",
    "13800138000",
    "2026-02-30",
    "2026-9-1",
    "2099-12-31",
    "9999-12-31",
    "0000-01-01",
    "150万",
    "1.5亿",
    "-5万",
    "¥1,500,000.00",
    "1,5,0",
    "0.001",
    "跟踪",
    "咨询",
    "true",
    "True",
    "FALSE",
    "yes",
    "\x1b[31m红\x1b[0m",
    "a\nb",
    "a\rb",
    "line\u2028sep",
    "nul\x00",
    "del\x7f",
    "\x85",
    "tab\there",
    "'",
    '"',
    "- x",
    "{a: b}",
    "[x]",
    "&a",
    "*a",
    "!x",
    "%x",
    "#",
    "zhangsan",
    "nobody",
    "admin",
    "sales",
    "client",
    "team",
    "approve",
    "reopen",
    "contract.draft",
    "initiation.name",
    "key",
    "always",
    "text",
    "money",
    "date",
    "initiation",
    "x.y",
    "$key_threshold",
    "$nosuch",
    "$initiation.name",
    "NaN",
    "99999999999",
    "sha256:" + "0" * 64,
    "2026-09-01T09:00:00+08:00",
    "2026-09-01T09:00:00",
    "2026-09-01T09:00:00.5+08:00",
    "files/../../x",
    "/dev/zero",
    "../process.yaml",
    "process.yaml",
    ".git/config",
    "a" * 300,
]
LONG = st.builds(
    lambda text, n: text * n,
    st.sampled_from(["1", "9,", "a", "中", "x\n", "\x1b[", "- ", "{"]),
    st.integers(200, 20_000),
)
UNPRINTABLE = [
    "\x1b[31m红\x1b[0m",
    "清屏\x1b[2J",
    "\x1b]0;title\x07",
    "a\x00b",
    "a\x7fb",
    "a\x9bb",
    "一\n二",
    "一\r\n二",
    "a\u2028b",
    "\x85",
    "\x1b",
]
SCALARS = st.one_of(st.sampled_from(ODD), st.sampled_from(UNPRINTABLE), st.text(max_size=12), LONG)


def _keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data).union(*(_keys(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(_keys(v) for v in data))
    return set()


KEYS = st.one_of(
    st.sampled_from(sorted(_keys([CONTRACT, INITIATION, PEOPLE, CONFIG, PROCESS]))), st.text(min_size=1, max_size=8)
)
VALUES = st.recursive(
    st.none() | SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=10,
)


def _paths(data: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value in *data* (the document itself excluded)."""
    found = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, path + (i,))
    return found


def _apply(data: Any, path: tuple, op: str, value: Any, key: str) -> Any:
    """*data* with one change at *path*: its value replaced, removed, or a key/item added."""
    parent = data
    try:
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if op == "replace":
            parent[last] = value
        elif op == "delete":
            del parent[last]
        elif isinstance(parent[last], dict):
            parent[last][key] = value
        elif isinstance(parent[last], list):
            parent[last].append(value)
    except (KeyError, IndexError, TypeError):
        pass  # an earlier change took the path away
    return data


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """*base* with one to three changes at random places: wrong types, unknown keys, gaps, and
    pieces of the document itself in the wrong place (a step's id where a field belongs)."""
    data, paths = copy.deepcopy(base), _paths(base)
    pieces = st.sampled_from(paths).map(lambda path: copy.deepcopy(_at(base, path)))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):  # mostly one: the first fault hides the others
        op = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        value = draw(st.one_of(VALUES, pieces))
        data = _apply(data, draw(st.sampled_from(paths)), op, value, draw(KEYS))
    return data


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _line(draw: st.DrawFn, lines: list[str]) -> int:
    return draw(st.integers(0, max(len(lines) - 1, 0)))


def _on_value(draw: st.DrawFn, text: str, make: Callable[[str], str]) -> str:
    """*text* with the value of one `key: value` line replaced by ``make(value)``."""
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if ": " in line]
    if not keyed:
        return text + "\nextra: " + make("x") + "\n"
    i = draw(st.sampled_from(keyed))
    key, _, value = lines[i].partition(": ")
    lines[i] = f"{key}: {make(value)}"
    return "\n".join(lines) + "\n"


def _deep_block(draw: st.DrawFn, text: str) -> str:
    depth = draw(st.integers(30, 700))
    return text + "deep:\n" + "".join("  " * i + ("- " if i % 2 else "k:") + "\n" for i in range(1, depth))


TEXT_OPS: dict[str, Callable[[st.DrawFn, str], str]] = {
    "none": lambda draw, text: text,
    "deep": lambda draw, text: _on_value(draw, text, lambda v: "[" * (n := draw(st.integers(30, 1500))) + "]" * n),
    "deep-map": lambda draw, text: _on_value(
        draw, text, lambda v: "{a: " * (n := draw(st.integers(30, 800))) + "x" + "}" * n
    ),
    "deep-block": _deep_block,
    "duplicate": lambda draw, text: "\n".join((lines := text.splitlines()) + [lines[_line(draw, lines)]]) + "\n",
    "tag": lambda draw, text: _on_value(draw, text, lambda v: "!!python/object/apply:os.system [" + v + "]"),
    "str-tag": lambda draw, text: _on_value(draw, text, lambda v: "!!str " + v),
    "anchor": lambda draw, text: _on_value(draw, _on_value(draw, text, lambda v: "&a " + v), lambda v: "*a"),
    "tab": lambda draw, text: text.replace("\n  ", "\n\t", 1),
    "truncate": lambda draw, text: text[: draw(st.integers(0, len(text)))],
    "crlf": lambda draw, text: text.replace("\n", "\r\n"),
    "bom": lambda draw, text: "\ufeff" + text,
    "control": lambda draw, text: _on_value(draw, text, lambda v: '"' + v.replace('"', "") + '\\e[2J\\x07"'),
    "newline": lambda draw, text: _on_value(draw, text, lambda v: '"' + v.replace('"', "") + '\\nXmflow-Step: x"'),
}


@st.composite
def document(draw: st.DrawFn, base: Any, binary: bool = True) -> bytes:
    """A hostile YAML-ish file made from *base*: changed data, then perhaps broken text; or noise."""
    kind = draw(st.sampled_from(["mutated"] * 6 + ["noise", "bytes"] if binary else ["mutated"] * 6 + ["noise"]))
    if kind == "noise":
        return draw(st.text(alphabet="[]{}:,-?&*!|>#'\" \n\tab1中", max_size=200)).encode("utf-8")
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    text = yamlio.dump(draw(mutated(base)))
    op = draw(st.sampled_from(["none"] * len(TEXT_OPS) + sorted(TEXT_OPS)))  # half the time the text stays whole
    content = TEXT_OPS[op](draw, text).encode("utf-8")
    if binary and draw(st.integers(0, 19)) == 0:
        at = draw(st.integers(0, len(content)))
        content = content[:at] + b"\xff\xfe\x80" + content[at:]
    return content


# --- the readers, in-process ---------------------------------------------------------------------

READERS = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _work_on(project: Project, proc: process.Process = P) -> None:
    """What the commands do with a project once read: every step's status, the figures, the
    payment schedule, the receivables, the JSON of `show`."""
    view = ProjectView(project, proc, Config("测试公司"))
    view.statuses()
    derived = figures(view)
    schedule(view)
    receivable(view, DAY)
    status_mod.show_json(view, derived, list(proc.stages))


@READERS
@given(
    st.sampled_from([(SIGNED, "contract", CONTRACT), (OPEN, "initiation", INITIATION)]).flatmap(
        lambda chosen: st.tuples(st.just(chosen), document(chosen[2]))
    )
)
def test_any_stage_file_is_read_or_refused_naming_it(case: tuple[tuple[str, str, Any], bytes]) -> None:
    (pid, stage_id, _), content = case
    stage = P.stage(stage_id)
    rel = f"projects/{pid}/{stage.file}"
    try:
        project = records.project_from(P, pid, lambda name: content if name == stage.file else None)
    except RecordError as exc:
        assert exc.message.startswith(rel), exc.message
        return
    record = project.record(stage_id)
    written = records.dump_record(stage, record)
    again = records.parse_record(stage, written, rel)
    assert (again.data, again.signoffs) == (record.data, record.signoffs)
    assert_clean_text(stage.fields, record.data)
    assert_nothing_dropped(yamlio.load(content.decode("utf-8"), rel).data, yamlio.load(written, rel).data)
    _work_on(project)


def assert_clean_text(ftype: FieldType, value: Any) -> None:
    """Every text accepted is free of control characters, and on one line unless multiline."""
    if isinstance(value, dict):
        for name, sub in value.items():
            assert_clean_text(ftype.fields[name], sub)
    elif isinstance(value, list):
        for item in value:
            assert_clean_text(ftype.item, item)
    elif isinstance(value, str) and ftype.kind in ("text", "person"):
        check_text(value, multiline=ftype.multiline)


def assert_nothing_dropped(raw: dict[str, Any], written: dict[str, Any]) -> None:
    """Each filled-in field of each sign-off read is written back (none is silently dropped)."""
    for before, after in zip((raw or {}).get("signoffs") or [], (written or {}).get("signoffs") or [], strict=True):
        filled = {k for k, v in before.items() if v not in (None, {}, []) and (not isinstance(v, str) or v.strip())}
        assert filled <= set(after), f"sign-off fields {filled - set(after)} were read and dropped"


@READERS
@given(document(PEOPLE, binary=False))
def test_any_people_file_is_read_or_refused_naming_it(content: bytes) -> None:
    try:
        people = parse_people(content.decode("utf-8"), ROLES)
    except RecordError as exc:
        assert exc.message.startswith("people.yaml"), exc.message
        return
    for person in people.persons:
        assert all(isinstance(v, str) and "\n" not in v for v in (person.id, person.name, person.email))
        assert person.roles <= ROLES and isinstance(person.signing_key, str | None)
    assert all(isinstance(d.until, date) and d.roles for d in people.delegations)


@READERS
@given(document(CONFIG, binary=False))
def test_any_settings_file_is_read_or_refused_naming_it(content: bytes) -> None:
    try:
        config = parse_config(content.decode("utf-8"))
    except RecordError as exc:
        assert exc.message.startswith("xmflow.yaml"), exc.message
        return
    assert config.locale in ("zh", "en") and config.key_threshold >= 0 and 0 <= config.max_backdate_days <= 99_999
    assert isinstance(config.company, str) and isinstance(config.require_signed_commits, bool)
    assert config.process is None or not config.process.startswith("/") and ".." not in config.process.split("/")


SAMPLES = [
    records.dump_record(P.stage("contract"), records.parse_record(P.stage("contract"), yamlio.dump(CONTRACT), "c")),
    yamlio.dump(INITIATION),
]


@settings(READERS, max_examples=80)  # each example parses a whole process: 50 ms
@given(document(PROCESS))
def test_any_process_file_is_read_or_refused_naming_it(content: bytes) -> None:
    try:
        proc = parser.parse_bytes(content, "process.yaml")
    except RecordError as exc:
        assert exc.message.startswith("process.yaml"), exc.message
        return
    proc.as_json()
    for stage in proc.stages:
        for sample in SAMPLES:
            try:
                record = records.parse_record(stage, sample, f"projects/{SIGNED}/{stage.file}")
            except RecordError:
                continue
            empty = {s.id: StageRecord(s.id, s.file) for s in proc.stages}
            _work_on(Project(SIGNED, {**empty, stage.id: record}), proc)


# --- the commands, on a workspace ------------------------------------------------------------------

COMMANDS = settings(
    derandomize=True,
    max_examples=12,
    deadline=None,
    database=None,
    # the autouse `isolated_git` only points git at a throw-away configuration:
    # every example may share it; each builds its own workspace copy below.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
READING = (("status",), ("status", SIGNED), ("show", SIGNED), ("check",), ("verify",))
CHANGE = ("set", OPEN, "initiation.phase=跟踪")
WATCHDOG = 60  # seconds: no command of a six-commit workspace takes a second


class Hang(BaseException):
    """A command ran past the watchdog (BaseException: no handler of the CLI may swallow it)."""


@contextlib.contextmanager
def watchdog(what: str, seconds: int = WATCHDOG) -> Iterator[None]:
    def ring(signum: int, frame: Any) -> None:
        raise Hang(f"{what} still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    """A workspace with a contract drafted and reviewed by its salesperson (SIGNED), a project not
    yet submitted (OPEN), and a copy of the default process as process.yaml (not in use)."""
    with module_team(tmp_path_factory, "fuzz") as team:
        pid = open_project(team)
        draft_contract(team, pid)
        other = team.json("zhangsan", "new", "第二", "--client", "乙", "--budget", "10万")["id"]
        team.ok("zhangsan", "set", other, "initiation.client.contact=x", "initiation.phase=咨询")
        assert (pid, other) == (SIGNED, OPEN)
        (team.root / "process.yaml").write_text(parser.default_text(), encoding="utf-8")
        admin_commit(team.root, "the default process, written out")
        return team.root, team.clock


def admin_commit(root: Path, message: str) -> None:
    """Commit everything as the admin, with plain git (the way a hand edit reaches the history)."""
    git(root, "add", "-A")
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            f"user.email={EMAILS['wangjg']}",
            "-c",
            "user.name=王建国",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
        ],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_DATE": "2026-09-02T09:00:00+08:00",
            "GIT_COMMITTER_DATE": "2026-09-02T09:00:00+08:00",
        },
    )


@contextlib.contextmanager
def workspace_with(template: tuple[Path, datetime], files: dict[str, bytes]) -> Iterator[Team]:
    """A private copy of the template with *files* written and committed by the admin."""
    folder = Path(tempfile.mkdtemp(prefix="xmflow-fuzz-"))
    try:
        root = folder / "ws"
        shutil.copytree(template[0], root, symlinks=True)
        for name, content in files.items():
            (root / name).write_bytes(content)
        admin_commit(root, "hostile input")
        yield Team(root, clock=template[1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_commands(team: Team, names: tuple[str, ...]) -> None:
    """Every reading command and the one change: exit 0, 1 or 2, never 3; an exit 2 names one of
    *names*; the reading commands change nothing, nor does the change when it is refused."""
    before = snapshot(team)
    for args in READING:
        run_one(team, args, names)
    assert snapshot(team) == before, "a reading command changed the workspace"
    code, output = run_one(team, CHANGE, names)
    if code == 0:
        assert team.commits() == before[0] + 1 and team.clean(), output
    else:
        assert snapshot(team) == before, f"a refused set (exit {code}) changed the workspace: {output}"


def run_one(team: Team, args: tuple[str, ...], names: tuple[str, ...]) -> tuple[int, str]:
    """One command as the salesperson, under the watchdog: its exit code and its output."""
    with watchdog(" ".join(args)):
        result = team("zhangsan", *args)
    output = " ".join(result.output.split())
    assert result.exit_code in (0, 1, 2), f"xmflow {' '.join(args)} → {result.exit_code}: {output}"
    if result.exit_code == 2:
        assert any(name in output for name in names) or "nothing changes" in output, (
            f"xmflow {' '.join(args)} → 2 without naming {' or '.join(names)}: {output}"
        )
    return result.exit_code, output


def snapshot(team: Team) -> tuple[int, str, str]:
    """What a command may not change unless it succeeds: the commits and the working tree."""
    return team.commits(), team.head(), git(team.root, "status", "--porcelain")


@COMMANDS
@given(
    case=st.sampled_from([(SIGNED, "contract.yaml", CONTRACT), (OPEN, "project.yaml", INITIATION)]).flatmap(
        lambda chosen: st.tuples(st.just(chosen), document(chosen[2]))
    )
)
def test_commands_on_a_hostile_stage_file(
    template: tuple[Path, datetime], case: tuple[tuple[str, str, Any], bytes]
) -> None:
    (pid, name, _), content = case
    rel = f"projects/{pid}/{name}"
    with workspace_with(template, {rel: content}) as team:
        run_commands(team, (rel,))


@COMMANDS
@given(content=document(PEOPLE))
def test_commands_on_a_hostile_people_file(template: tuple[Path, datetime], content: bytes) -> None:
    with workspace_with(template, {"people.yaml": content}) as team:
        run_commands(team, ("people.yaml",))


@COMMANDS
@given(content=document(CONFIG))
def test_commands_on_a_hostile_settings_file(template: tuple[Path, datetime], content: bytes) -> None:
    names = ["xmflow.yaml"]
    with contextlib.suppress(XmflowError, UnicodeDecodeError):
        names += filter(None, [parse_config(content.decode("utf-8")).process])  # a process it names
    with workspace_with(template, {"xmflow.yaml": content}) as team:
        run_commands(team, tuple(names))


@COMMANDS
@given(content=document(PROCESS))
def test_commands_on_a_hostile_process_file(template: tuple[Path, datetime], content: bytes) -> None:
    settings_text = (template[0] / "xmflow.yaml").read_bytes() + b"process: process.yaml\n"
    with workspace_with(template, {"process.yaml": content, "xmflow.yaml": settings_text}) as team:
        run_commands(team, ("process.yaml",))


# --- each finding of issue 9, by name ----------------------------------------------------------------

DEEP_LIST = "[" * 600 + "]" * 600
DEEP_BLOCK = "\n" + "".join("  " * i + "k:\n" for i in range(1, 600)) + "  " * 600 + "x\n"


def settle(team: Team, *args: str, code: int, who: str = "zhangsan") -> str:
    """Run a command that must exit with *code* and change nothing; its output on one line."""
    before = snapshot(team)
    with watchdog(" ".join(args)):
        result = team(who, *args)
    output = " ".join(result.output.split())
    assert result.exit_code == code, f"xmflow {' '.join(args)} → {result.exit_code}: {output}"
    assert snapshot(team) == before
    return output


@pytest.mark.parametrize(("deep", "line"), [(DEEP_LIST, 2), (DEEP_BLOCK, 34)], ids=["flow", "block"])
def test_nesting_600_levels_deep_in_a_stage_file_makes_only_its_project_unreadable(
    template: tuple[Path, datetime], deep: str, line: int
) -> None:
    rel = f"projects/{OPEN}/project.yaml"
    with workspace_with(template, {rel: f"name: 第二\nclient: {deep}".encode()}) as team:
        output = settle(team, "status", code=2)
        assert f"{rel}:{line}: nested too deeply" in output and SIGNED in output  # the others are listed
        assert settle(team, "status", SIGNED, code=0)
        assert f"{rel}:{line}: nested too deeply" in settle(team, "status", OPEN, code=2)
        assert rel in settle(team, "check", code=1)
        assert OPEN in settle(team, "verify", code=1)  # changed outside xmflow: a finding, not a crash
        assert rel in settle(team, "set", OPEN, "initiation.phase=跟踪", code=2)


@pytest.mark.parametrize("name", ["people.yaml", "xmflow.yaml", "process.yaml"])
def test_nesting_600_levels_deep_in_people_settings_or_process_is_refused_naming_the_file(
    template: tuple[Path, datetime], name: str
) -> None:
    settings_text = (template[0] / "xmflow.yaml").read_bytes() + b"process: process.yaml\n"
    files = {"xmflow.yaml": settings_text, name: b"people: []\n" + f"x: {DEEP_LIST}\n".encode()}
    with workspace_with(template, files) as team:
        assert f"{name}:2: nested too deeply" in settle(team, "status", code=2)
        assert f"{name}:2: nested too deeply" in settle(team, "check", code=1)
        assert f"{name}:2: nested too deeply" in settle(team, "verify", code=1)  # unreadable at the tip: a finding


def test_nesting_600_levels_deep_in_a_set_value_is_refused_naming_the_argument(template: tuple[Path, datetime]) -> None:
    with workspace_with(template, {}) as team:
        output = settle(team, "set", OPEN, f"contract.payment_terms={DEEP_LIST}", code=2)
        assert "value of contract.payment_terms:1: nested too deeply" in output


def test_nesting_600_levels_deep_in_edit_is_refused(template: tuple[Path, datetime], tmp_path: Path) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\nopen(sys.argv[1], 'w').write('name: x\\nclient: {DEEP_LIST}\\n')\n")
    with workspace_with(template, {}) as team:
        result = team("zhangsan", "edit", OPEN, "initiation", env={"EDITOR": f"{sys.executable} {editor}"})
        assert result.exit_code == 2 and "nested too deeply" in result.output
        assert team.clean()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("id: zhangsan", "id: [x]", "people.1.id: must be a person's id, not a list"),
        ("roles: [sales]", "roles: [[sales]]", "people.1.roles.0: must be a role name, not a list"),
        ("email: zhangsan@example.com", "email: [a]", "people.1.email: must be an email address, not a list"),
        ("name: 张三", "name: {a: b}", "people.1.name: must be text, not a mapping"),
        (
            "roles: [sales]}",
            "roles: [sales], signing_key: [x]}",
            "people.1.signing_key: must be a public key on one line",
        ),
        ("{from: zhaoliu,", "{from: [x],", "delegations.0.from: must be a person's id, not a list"),
    ],
)
def test_wrong_types_in_people_yaml_are_refused_and_check_fails(
    template: tuple[Path, datetime], old: str, new: str, field: str
) -> None:
    text = EXAMPLE_PEOPLE.replace(
        "{id: zhangsan, name: 张三, email: zhangsan@example.com, roles: [sales]}",
        "{id: zhangsan, name: 张三, email: zhangsan@example.com, roles: [sales]}",
        1,
    )
    text += "delegations:\n  - {from: zhaoliu, to: sunba, roles: [sales_supervisor], until: 2026-09-30}\n"
    line = next(i for i, row in enumerate(text.splitlines(), 1) if old in row)
    with workspace_with(template, {"people.yaml": text.replace(old, new, 1).encode()}) as team:
        assert f"people.yaml:{line}: {field}" in settle(team, "check", code=1)
        assert f"people.yaml:{line}: {field}" in settle(team, "status", code=2)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("process: [a]", "process: must be a file's path, not a list"),
        ("key_threshold: -1", "key_threshold: must not be negative"),
        ("company: {a: b}", "company: must be text, not a mapping"),
        ("process: /dev/zero", "process: '/dev/zero' must be a path relative to the workspace"),
        ("process: ../elsewhere.yaml", "process: '../elsewhere.yaml' must name a file inside the workspace"),
    ],
)
def test_wrong_types_in_xmflow_yaml_are_refused_and_check_fails(
    template: tuple[Path, datetime], setting: str, message: str
) -> None:
    key = setting.split(":")[0]
    lines = [
        row
        for row in (template[0] / "xmflow.yaml").read_text(encoding="utf-8").splitlines()
        if not row.startswith(key + ":")
    ] + [setting]
    with workspace_with(template, {"xmflow.yaml": "\n".join(lines).encode() + b"\n"}) as team:
        assert f"xmflow.yaml:{len(lines)}: {message}" in settle(team, "check", code=1)
        assert f"xmflow.yaml:{len(lines)}: {message}" in settle(team, "status", code=2)


def test_a_cycle_in_the_process_after_is_refused_naming_the_steps(template: tuple[Path, datetime]) -> None:
    cycled = parser.default_text().replace("after: [contract.draft]\n", "after: [contract.draft, contract.stamp]\n", 1)
    settings_text = (template[0] / "xmflow.yaml").read_bytes() + b"process: process.yaml\n"
    with workspace_with(template, {"process.yaml": cycled.encode(), "xmflow.yaml": settings_text}) as team:
        output = settle(team, "status", code=2)
        assert "process.yaml:" in output and "goes round in a circle" in output and "contract.self_review" in output


def test_a_project_id_over_255_characters_is_a_usage_error(template: tuple[Path, datetime]) -> None:
    long_id = "P" * 300
    with workspace_with(template, {}) as team:
        assert "project id" in settle(team, "new", "X", "--client", "C", "--budget", "1万", "--id", long_id, code=2)
        assert "no project" in settle(team, "status", long_id, code=2)
        assert "no project" in settle(team, "set", long_id, "initiation.phase=跟踪", code=2)


@pytest.mark.parametrize("value", ["\x1b[31m红色\x1b[0m", "a\x07b", "清屏\x1b[2J"])
def test_control_characters_are_refused_by_set_in_every_text_field(template: tuple[Path, datetime], value: str) -> None:
    with workspace_with(template, {}) as team:
        for field in ("initiation.name", "contract.notes", "initiation.client.contact"):
            assert "control character" in settle(team, "set", OPEN, f"{field}={value}", code=2)


def test_control_characters_are_refused_in_a_signoff_comment(template: tuple[Path, datetime]) -> None:
    with workspace_with(template, {}) as team:
        team.ok("zhangsan", "set", OPEN, "initiation.phase=跟踪")
        settle(team, "sign", OPEN, "initiation.submit", "-m", "同意\x1b[2J", code=2)


def test_a_newline_in_a_one_line_field_is_refused_and_allowed_where_multiline(template: tuple[Path, datetime]) -> None:
    with workspace_with(template, {}) as team:
        assert "initiation.name: must be a single line" in settle(team, "set", OPEN, "initiation.name=一\n二", code=2)
        team.ok("zhangsan", "set", OPEN, "contract.notes=第一行\n第二行", "plan.approach=一期\n二期")
        rel = f"projects/{OPEN}/project.yaml"
        (team.root / rel).write_text('name: "一\\n二"\n', encoding="utf-8")
        admin_commit(team.root, "a line break by hand")
        assert f"{rel}:1: initiation.name: must be a single line" in settle(team, "status", OPEN, code=2)


def test_a_signoff_evidence_that_is_not_a_mapping_is_an_error_not_dropped(template: tuple[Path, datetime]) -> None:
    rel = f"projects/{SIGNED}/contract.yaml"
    text = (template[0] / rel).read_text(encoding="utf-8") + "  evidence: notamap\n"
    line = text.count("\n")
    with workspace_with(template, {rel: text.encode()}) as team:
        assert f"{rel}:{line}: sign-off 2: `evidence` must be a mapping of file, sha256" in settle(
            team, "status", SIGNED, code=2
        )


# --- hangs, in a subprocess with a timeout -------------------------------------------------------


def xmflow_in_subprocess(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """xmflow as its own process, killed after 60 s: a hang fails the test instead of the suite."""
    return subprocess.run(
        [sys.executable, "-m", "xmflow", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GIT_AUTHOR_EMAIL": EMAILS["zhangsan"]},
    )


@pytest.mark.parametrize("make", ["fifo", "device", "folder"])
def test_hangs_none_when_the_process_file_is_a_fifo_a_device_or_a_folder(
    template: tuple[Path, datetime], make: str
) -> None:
    settings_text = (template[0] / "xmflow.yaml").read_bytes() + b"process: process.yaml\n"
    with workspace_with(template, {"xmflow.yaml": settings_text}) as team:
        target = team.root / "process.yaml"
        target.unlink()
        {
            "fifo": lambda: os.mkfifo(target),
            "device": lambda: target.symlink_to("/dev/zero"),
            "folder": lambda: target.mkdir(),
        }[make]()
        for args in (("status",), ("check",)):
            result = xmflow_in_subprocess(team.root, *args)
            assert result.returncode in (1, 2) and "process.yaml" in result.stderr, result.stderr


@pytest.mark.parametrize("make", ["link", "fifo"])
def test_hangs_none_when_a_stage_file_is_a_link_to_a_device_or_a_fifo(
    template: tuple[Path, datetime], make: str
) -> None:
    rel = f"projects/{OPEN}/project.yaml"
    with workspace_with(template, {}) as team:
        path = team.root / rel
        path.unlink()
        if make == "link":  # git keeps a link: pushed, it would stop every clone reading /dev/zero
            path.symlink_to("/dev/zero")
            admin_commit(team.root, "a link where a stage file belongs")
        else:
            os.mkfifo(path)
        for args in (("status",), ("status", OPEN), ("check",)):
            result = xmflow_in_subprocess(team.root, *args)
            assert result.returncode in (1, 2) and rel in result.stderr, result.stderr


def test_hangs_none_on_an_amount_of_a_hundred_thousand_digits(template: tuple[Path, datetime]) -> None:
    rel = f"projects/{OPEN}/project.yaml"
    with workspace_with(template, {rel: ("budget: " + "1" * 100_000 + "x\n").encode()}) as team:
        result = xmflow_in_subprocess(team.root, "status", OPEN)
        assert result.returncode == 2 and f"{rel}:1: initiation.budget: must be an amount of money" in " ".join(
            result.stderr.split()
        )


@pytest.mark.parametrize("name", ["people.yaml", "xmflow.yaml"])
def test_a_people_or_settings_file_that_is_not_utf8_is_refused_naming_it(
    template: tuple[Path, datetime], name: str
) -> None:
    with workspace_with(template, {name: (template[0] / name).read_bytes() + b"\xff\xfe\n"}) as team:
        assert name in settle(team, "status", code=2)

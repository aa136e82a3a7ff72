"""Odd input on the command line and hostile data on the way out (issue 9, "Bad input: zero
internal errors"): each case exits 2 naming the option, the argument or the file, changes
nothing, and prints nothing raw. tests/test_fuzz_cli.py fuzzes the same doors."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import (
    EMAILS,
    Team,
    draft_contract,
    git,
    hand_commit,
    module_team,
    open_project,
    refused,
    sign_contract,
    stamp_contract,
)

from xmflow import files
from xmflow.cli import spreadsheets
from xmflow.cli.console import Out
from xmflow.cli.entry import app
from xmflow.errors import UsageError
from xmflow.forms import rendering
from xmflow.values import visible

ESC = "\x1b[31m红字\x1b[0m"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Team, str, str]:
    """A workspace built once: a project whose contract the client has signed, and one whose
    contract waits for the client's signature (which a scan may go with). The tests using it
    only make commands that must be refused, or that change nothing."""
    with module_team(tmp_path_factory, "odd") as team:
        signed, stamped = open_project(team), open_project(team)
        for pid in (signed, stamped):
            draft_contract(team, pid)
        sign_contract(team, signed)
        stamp_contract(team, stamped)
        return team, signed, stamped


@pytest.fixture
def odd(workspace: tuple[Team, str, str]) -> tuple[Team, str]:
    return workspace[0], workspace[1]


@pytest.fixture
def stamped(workspace: tuple[Team, str, str]) -> tuple[Team, str]:
    return workspace[0], workspace[2]


def run_xmflow(team: Team, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """xmflow in a process of its own, for what could block the caller (a FIFO, a device)."""
    env = {**os.environ, "GIT_AUTHOR_EMAIL": EMAILS["zhangsan"]}
    return subprocess.run(
        [sys.executable, "-m", "xmflow", "-C", str(team.root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def is_char_device(path: str) -> bool:
    return stat.S_ISCHR(os.stat(path).st_mode)


# --- 1. output files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", ".", "/", "..", "folder/", "{tmp}", "{tmp}/no-such-folder/form2.md"],
    ids=["empty", "dot", "root", "dotdot", "trailing-slash", "a-folder", "missing-folder"],
)
def test_render_o_refuses_an_empty_name_a_folder_and_a_missing_folder(odd, tmp_path: Path, name: str) -> None:
    team, pid = odd
    message = refused(
        team, "zhangsan", "render", pid, "form2", "-o", name.format(tmp=tmp_path), code=2, dirty=True
    ).stderr
    assert "-o" in message and ("empty" in message or "folder" in message), message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["status", "ar"])
@pytest.mark.parametrize("name", ["", ".", "/", "{tmp}/no-such-folder/book.xlsx"])
def test_status_and_ar_xlsx_refuse_an_empty_name_a_folder_and_a_missing_folder(
    odd, tmp_path: Path, command: str, name: str
) -> None:
    team, _ = odd
    message = refused(team, "wangjg", command, "--xlsx", name.format(tmp=tmp_path), code=2, dirty=True).stderr
    assert "--xlsx" in message and ("empty" in message or "folder" in message)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_render_o_dev_full_reports_the_failure_and_the_device_stays(odd) -> None:
    team, pid = odd
    assert is_char_device("/dev/full")
    message = refused(team, "zhangsan", "render", pid, "form2", "-o", "/dev/full", code=2, dirty=True).stderr
    assert "-o /dev/full" in message and "No space left on device" in message
    assert is_char_device("/dev/full"), "xmflow replaced /dev/full with a file"


def test_render_o_dev_null_writes_in_place_and_the_device_stays(odd) -> None:
    team, pid = odd
    assert team.ok("zhangsan", "render", pid, "form2", "-o", "/dev/null").stdout == ""
    assert is_char_device("/dev/null"), "xmflow replaced /dev/null with a file"
    assert not [p for p in Path("/dev").iterdir() if p.name.endswith(".xmflow-tmp")]


def test_render_to_a_standard_output_that_is_full_reports_the_failure(odd) -> None:
    team, pid = odd
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "xmflow", "-C", str(team.root), "render", pid, "form2"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2 and "standard output" in result.stderr and "No space left" in result.stderr


@pytest.mark.parametrize("args", [("status",), ("status", "--json"), ("log",), ("ar", "--csv"), ("process", "export")])
def test_a_standard_output_that_is_full_is_reported_and_one_closed_early_is_not_an_error(odd, args) -> None:
    team, _ = odd
    command = [sys.executable, "-m", "xmflow", "-C", str(team.root), *args]
    with open("/dev/full", "w") as full:
        done = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 2 and "cannot write to the standard output" in done.stderr, done.stderr
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(1)
    reader.stdout.close()  # like `| head -c 1`
    assert reader.wait(timeout=60) == 0 and b"internal error" not in reader.stderr.read()


def test_a_change_whose_report_cannot_be_written_is_made_and_says_so(team: Team) -> None:
    pid = open_project(team)
    head = team.head()
    env = {**os.environ, "GIT_AUTHOR_EMAIL": EMAILS["zhangsan"]}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "xmflow", "-C", str(team.root), "set", pid, "contract.notes=备注"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            env=env,
        )
    assert done.returncode == 0 and "the change is made all the same" in done.stderr, done.stderr
    assert team.head() != head and team.clean()


def test_render_o_a_fifo_nobody_reads_is_refused_without_waiting(odd, tmp_path: Path) -> None:
    team, pid = odd
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = run_xmflow(team, "render", pid, "form2", "-o", str(fifo))
    assert result.returncode == 2 and "a pipe nobody reads from" in result.stderr


def test_render_o_through_a_link_replaces_the_file_and_keeps_the_link(odd, tmp_path: Path) -> None:
    team, pid = odd
    (tmp_path / "real.md").write_text("old", encoding="utf-8")
    (tmp_path / "link.md").symlink_to("real.md")
    team.ok("zhangsan", "render", pid, "form2", "-o", str(tmp_path / "link.md"))
    assert (tmp_path / "link.md").is_symlink() and (tmp_path / "real.md").read_text(encoding="utf-8").startswith("#")


def test_render_o_docx_is_refused_rather_than_written_as_markdown(odd, tmp_path: Path) -> None:
    team, pid = odd
    message = refused(
        team, "zhangsan", "render", pid, "form2", "-o", str(tmp_path / "form2.docx"), code=2, dirty=True
    ).stderr
    assert "-o" in message and ".docx" in message and "--format" in message
    assert not (tmp_path / "form2.docx").exists()
    team.ok("zhangsan", "render", pid, "form2", "-o", str(tmp_path / "form2.docx"), "--format", "html")  # said so
    assert (tmp_path / "form2.docx").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EACCES, errno.EIO])
def test_a_write_that_fails_leaves_no_partial_file_and_the_old_one_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: int
) -> None:
    target = tmp_path / "form2.md"
    target.write_bytes(b"the old form")
    real_write = os.write

    def write_then_fail(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[:10]))
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(files.os, "write", write_then_fail)
    with pytest.raises(UsageError) as caught:
        files.write_whole(target, b"x" * 5_000_000, "-o")
    assert "-o" in caught.value.message and os.strerror(failure) in caught.value.message
    assert target.read_bytes() == b"the old form" and [p.name for p in tmp_path.iterdir()] == ["form2.md"]


# --- 2. the editor ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("EDITOR", 'vi "', "No closing quotation"),
        ("VISUAL", "nano 'x", "No closing quotation"),
        ("EDITOR", "", "is empty"),
        ("EDITOR", "  ", "is empty"),
    ],
)
def test_an_editor_with_an_unclosed_quote_or_empty_is_a_usage_error_naming_the_variable(
    odd, variable: str, value: str, said: str
) -> None:
    team, pid = odd
    message = refused(team, "zhangsan", "edit", pid, "installation", code=2, env={variable: value}, dirty=True).stderr
    assert f"${variable}" in message and said in message


# --- 3. --evidence ---------------------------------------------------------------------------

CLIENT_SIGNS = ("contract.client_sign", "--role", "client", "--signatory", "刘经理", "--evidence")


@pytest.mark.parametrize("scan", ["/dev/zero", "/dev/urandom", "/dev/null", "fifo", "folder"])
def test_evidence_must_be_a_regular_file_not_a_device_a_fifo_or_a_folder(stamped, tmp_path: Path, scan: str) -> None:
    team, pid = stamped
    if scan == "fifo":
        scan = str(tmp_path / "scan.pdf")
        os.mkfifo(scan)
    elif scan == "folder":
        scan = str(tmp_path)
    head = team.head()
    result = run_xmflow(team, "sign", pid, *CLIENT_SIGNS, scan)  # in a process of its own: it could block
    assert result.returncode == 2 and f"--evidence {scan}" in result.stderr, result.stderr
    assert ("is a folder" if scan == str(tmp_path) else "not a regular file") in result.stderr
    assert team.head() == head and team.clean()


def test_evidence_over_20_mb_is_refused(stamped, tmp_path: Path) -> None:
    team, pid = stamped
    scan = tmp_path / "huge.pdf"
    with open(scan, "wb") as handle:
        handle.truncate(files.MAX_SCAN + 1)  # sparse: nothing written
    message = refused(team, "zhangsan", "sign", pid, *CLIENT_SIGNS, str(scan), code=2, dirty=True).stderr
    assert "20 MB" in message and "--evidence" in message
    message = refused(
        team, "zhangsan", "sign", pid, *CLIENT_SIGNS, str(tmp_path / "missing.pdf"), code=2, dirty=True
    ).stderr
    assert "--evidence" in message


def test_evidence_is_read_with_the_limit_even_if_the_file_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"x" * 100)
    monkeypatch.setattr(files, "check_scan", lambda *args: None)  # as if it grew after it was looked at
    with pytest.raises(UsageError, match="larger than"):
        files.read_scan(scan, "--evidence", limit=50)
    assert files.read_scan(scan, "--evidence", limit=100) == b"x" * 100


# --- 4. empty strings are not "absent" --------------------------------------------------------

EMPTY_CASES = [
    ("status", ""),
    ("show", "{pid}", ""),
    ("status", "--role", ""),
    ("status", "--as-of", ""),
    ("status", "--xlsx", ""),
    ("show", ""),
    ("sign", "{pid}", "acceptance.request", "--on-behalf-of", ""),
    ("sign", "{pid}", "acceptance.request", "--role", ""),
    ("sign", "{pid}", "acceptance.request", "--signatory", ""),
    ("sign", "{pid}", "acceptance.request", "-m", ""),
    ("sign", "{pid}", "acceptance.request", "--evidence", ""),
    ("sign", "{pid}", "acceptance.request", "--date", ""),
    ("sign", "{pid}", ""),
    ("new", "x", "--client", "c", "--budget", "1", "--sales", ""),
    ("new", "x", "--client", "c", "--budget", "1", "--id", ""),
    ("new", "x", "--client", "c", "--budget", ""),
    ("new", "x", "--client", "c", "--budget", " "),
    ("new", "x", "--client", "", "--budget", "1"),
    ("receive", "{pid}", "1", "--ref", "  "),
    ("sign", "{pid}", "acceptance.request", "-m", " "),
    ("init", "--company", " "),
    ("new", "", "--client", "c", "--budget", "1"),
    ("set", "{pid}", "contract.notes=x", "-m", ""),
    ("set", "{pid}", ""),
    ("set", "", "contract.notes=x"),
    ("edit", "{pid}", ""),
    ("edit", "{pid}", "contract", "-m", " "),
    ("render", "{pid}", ""),
    ("render", "{pid}", "form2", "-o", ""),
    ("log", ""),
    ("verify", ""),
    ("verify", "--rev", ""),
    ("sync", "--remote", ""),
    ("sync", "--branch", ""),
    ("invoice", "{pid}", "1", "--number", ""),
    ("invoice", "{pid}", "", "--number", "N1"),
    ("receive", "{pid}", "1", "--ref", ""),
    ("ar", "--as-of", ""),
    ("ar", "--xlsx", ""),
    ("init", "--company", ""),
    ("init", ""),
    ("demo", ""),
    ("-C", "", "status"),
]


@pytest.mark.parametrize("args", EMPTY_CASES, ids=[" ".join(a).replace("{pid}", "P") or "''" for a in EMPTY_CASES])
def test_empty_strings_are_not_taken_as_absent(odd, args: tuple[str, ...]) -> None:
    team, pid = odd
    args = tuple(a.format(pid=pid) for a in args)
    message = refused(team, "zhangsan", *args, code=2, env={"EDITOR": "true"}, dirty=True).stderr
    assert "empty" in message, message


def all_commands(group=None, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    group = group or typer.main.get_command(app)
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += all_commands(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


def test_every_option_and_argument_of_every_command_refuses_an_empty_value(odd) -> None:
    """Not only the cases above: every option that takes a value and every argument, of every
    command (`xmflow --help` and each command's --help list them)."""
    team, _ = odd
    checked = []
    for path, command in all_commands():
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        for param in command.params:
            if param.param_type_name == "option" and not param.is_flag and param.opts[0] != "--help":
                args = (*path, param.opts[0], "")
            elif param.param_type_name == "argument":
                args = (*path, *["x"] * arguments.index(param), "")
            else:
                continue
            message = refused(team, "zhangsan", *args, code=2, dirty=True).stderr
            assert "empty" in message and (param.opts[0] in message or (param.name or "").upper() in message), message
            checked.append(" ".join(args))
    assert len(checked) > 40, checked


@pytest.mark.parametrize(
    "args",
    [
        ("status", "{long}"),
        ("show", "{long}"),
        ("log", "{long}"),
        ("verify", "{long}"),
        ("render", "{long}", "form2"),
        ("new", "x", "--client", "c", "--budget", "1", "--id", "{long}"),
    ],
)
def test_a_project_id_longer_than_a_folder_name_is_refused_naming_the_argument(odd, args: tuple[str, ...]) -> None:
    team, _ = odd
    message = refused(team, "zhangsan", *(a.format(long="x" * 3000) for a in args), code=2, dirty=True).stderr
    assert "no project" in message or "not a project id" in message or "--id" in message and "at most 64" in message
    assert len(message) < 400, message  # the id is not printed whole


def test_status_xlsx_is_for_the_portfolio_not_one_project(odd, tmp_path: Path) -> None:
    team, pid = odd
    message = refused(team, "wangjg", "status", pid, "--xlsx", str(tmp_path / "s.xlsx"), code=2, dirty=True).stderr
    assert "leave out PROJECT" in message
    assert not (tmp_path / "s.xlsx").exists()


# --- 5. control characters -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [ESC, "a\x9b31m", "a\x07", "a\u2028b", "a\udc9b"],
    ids=["ansi", "c1-csi", "bell", "line-separator", "not-utf8"],
)
def test_typed_text_with_control_characters_is_refused_naming_the_option(odd, text: str) -> None:
    team, pid = odd
    cases = [
        (("sign", pid, "acceptance.request", "-m", text), "-m"),
        (("set", pid, "contract.notes=备注", "-m", text), "-m"),
        (("sign", pid, "acceptance.client_sign", "--signatory", text), "--signatory"),
        (("new", text, "--client", "甲方", "--budget", "1万"), "NAME"),
        (("new", "项目", "--client", text, "--budget", "1万"), "--client"),
        (("invoice", pid, "1万", "--number", text), "--number"),
        (("receive", pid, "1万", "--ref", text), "--ref"),
    ]
    for args, option in cases:
        message = refused(team, "zhangsan", *args, code=2, dirty=True).stderr
        assert message.startswith(f"xmflow: {option} must be"), message
        assert "\x1b" not in message and "\x9b" not in message


def test_a_note_may_have_several_lines(team: Team) -> None:
    pid = open_project(team)
    team.ok("zhangsan", "set", pid, "contract.notes=备注", "-m", "第一行\n第二行\t制表")
    assert "第一行\n第二行" in git(team.root, "log", "-1", "--format=%B")


def test_rich_markup_and_control_characters_are_shown_as_text_in_the_terminal(capsys: pytest.CaptureFixture) -> None:
    out = Out("zh", color=True)
    out.line(f"[bold red]x[/] {ESC}")
    out.error("[link=file:///etc/passwd]y[/link] \x9b2J \u202eabc")
    out.note("\x07bell")
    printed = capsys.readouterr()
    assert "[bold red]x[/]" in printed.out and "\\x1b[31m红字\\x1b[0m" in printed.out
    assert "[link=file:///etc/passwd]y[/link]" in printed.err
    assert "\\x9b2J" in printed.err and "\\u202eabc" in printed.err
    assert not any(c in printed.out + printed.err for c in "\x1b\x9b\x07\u202e")
    assert visible("a\tb\nc") == "a\tb\nc"  # a tab and a line break are text


def test_json_for_scripts_escapes_every_control_character(capsys: pytest.CaptureFixture) -> None:
    import json

    Out().json({"name": f"{ESC}\x9b\u2028\u202e"})
    printed = capsys.readouterr().out
    assert not any(c in printed for c in "\x1b\x9b\u2028\u202e")
    assert json.loads(printed) == {"name": f"{ESC}\x9b\u2028\u202e"}  # the data exactly


def test_a_note_with_an_ansi_escape_in_the_history_is_shown_visibly_by_log(team: Team) -> None:
    pid = open_project(team)
    (team.root / "projects" / pid / "contract.yaml").write_text("notes: 备注\n", encoding="utf-8")
    hand_commit(team, "zhangsan", f"{pid} note {ESC}\n\n{ESC}\n\nXmflow-Project: {pid}\nXmflow-Decision: record")
    result = team.ok("wangjg", "log")
    assert "\x1b" not in result.output and "\\x1b[31m" in result.output


def test_a_client_named_with_rich_markup_prints_as_written(team: Team) -> None:
    pid = team.json("zhangsan", "new", "[bold]项目[/bold]", "--client", "[red]甲方[/red]", "--budget", "1万")["id"]
    portfolio = team.ok("wangjg", "status", env={"COLUMNS": "250"}).stdout
    assert "[bold]项目[/bold]" in portfolio and "[red]甲方[/red]" in portfolio
    assert "[red]甲方[/red]" in team.ok("wangjg", "status", pid).stdout


@pytest.mark.parametrize(
    "text",
    [
        "- 伪造条目",
        "* 伪造",
        "+ 伪造",
        "1. 第一",
        "12) 第十二",
        "# 标题",
        "> 引用",
        "---",
        "===",
        "    缩进成代码",
        "| a | b |",
    ],
)
def test_md_forms_print_a_line_of_data_as_text_not_markup(team: Team, text: str) -> None:
    pid = open_project(team, "150万")
    team.ok("zhangsan", "set", pid, f"plan.approach=第一段\n{text}\n末段", f"plan.notes={text}")
    result = team.ok("zhangsan", "--lang", "zh", "render", pid, "form1")
    body = result.stdout.split("## 三、项目实施方案（3.2.1）", 1)[1].split("## 四、", 1)[0]
    lines = [line for line in body.splitlines() if line.strip()]
    assert lines[0] == "第一段" and lines[-1] == "末段" and len(lines) == 3, lines
    marker = lines[1]
    assert not marker.startswith(("- ", "* ", "+ ", "#", ">", "---", "===", " ", "|")), marker
    assert not __import__("re").match(r"\d+[.)] ", marker), marker
    notes = next(line for line in result.stdout.split("## 备注", 1)[1].splitlines() if line.strip())
    assert not notes.startswith(("- ", "* ", "+ ", "#", ">", "---", "===", "|")), notes


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_md_and_html_forms_show_control_characters_visibly(fmt: str) -> None:
    env = rendering.environment(None, fmt)
    for value in (ESC, "a\x9b2J", "\u202eabc", "a\x07"):
        printed = env.from_string("{{ value }} {{ value | paragraphs }} {{ [value] | join }}").render(value=value)
        assert not any(c in printed for c in "\x1b\x9b\u202e\x07"), printed
        assert "x1b" in printed or "x9b" in printed or "u202e" in printed or "x07" in printed


def test_csv_cells_starting_like_a_formula_are_escaped(team: Team) -> None:
    pid = team.json("zhangsan", "new", '=HYPERLINK("http://x")', "--client", "@SUM(1+1)", "--budget", "1万")["id"]
    team.ok("zhangsan", "set", pid, "initiation.client.contact=刘经理", "initiation.phase=跟踪")
    team.ok("zhangsan", "sign", pid, "initiation.submit")
    draft_contract(team, pid, "1万")
    sign_contract(team, pid)
    text = team.ok("wangjg", "ar", "--csv").stdout
    row = next(line for line in text.splitlines() if line.startswith(pid))
    assert "'=HYPERLINK" in row and "'@SUM(1+1)" in row
    assert spreadsheets.csv_text("-5") == "'-5" and spreadsheets.csv_text("\tx") == "'\tx"
    assert spreadsheets.csv_text("x\x1by") == "x\\x1by" and spreadsheets.csv_text(5) == 5


def test_workbook_cells_are_text_never_formulas_and_hold_no_control_characters(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    book = tmp_path / "status.xlsx"
    spreadsheets.write_table(book, "项目状态", [["项目", "名称"], ["=1+1", f"x{ESC}\x01"]])
    sheet = load_workbook(book).active
    assert sheet.cell(row=2, column=1).value == "=1+1" and sheet.cell(row=2, column=1).data_type == "s"
    assert sheet.cell(row=2, column=2).value == "x\\x1b[31m红字\\x1b[0m\\x01"


# --- 6. templates ----------------------------------------------------------------------------

HOSTILE = {
    "nested-range": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "nested-small-ranges": "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "rounds-an-if-skips": "{% for i in range(10000) %}{% for j in range(10000) if false %}{% endfor %}{% endfor %}",
    "macro-recursion": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "string-repetition": "{{ 'x' * 10**9 }}",
    "power": "{{ 10 ** 100000000 > 1 }}",
    "printf-width": "{{ '%0999999999d' % 1 }}",
    "format-width": "{{ '{:>999999999}'.format(1) }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "center-filter": "{{ 'x' | center(10**9) }}",
    "replace": "{{ ('x' * 100000) | replace('x', 'y' * 1000) }}",
    "concat-doubling": "{% set ns = namespace(s='x') %}"
    "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "list-doubling": "{% set l = [1] %}{% for i in range(40) %}{% set _ = l.extend(l) %}{% endfor %}",
    "output-size": "{% for i in range(10000) %}{% include 'big.j2' %}{% endfor %}",
    "slice": "{{ [1] | slice(10**8) | list }}",
}


RENDER_EACH = """
import json, sys, time
from pathlib import Path
from typer.testing import CliRunner
from xmflow.cli.entry import app
root, pid, cases = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
found = {}
for name, body in cases.items():
    (root / "templates" / "form4.j2").write_text("{% extends base %}{% block body %}" + body + "{% endblock %}")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["-C", str(root), "render", pid, "form4"])
    found[name] = [result.exit_code, result.stderr, result.stdout[:100], time.monotonic() - started]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def hostile(workspace: tuple[Team, str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """Every hostile template rendered in one process of its own (before the bounds it hung)."""
    import json

    team, pid, _ = workspace
    copy = tmp_path_factory.mktemp("hostile") / "ws"
    subprocess.run(["git", "clone", "-q", str(team.root), str(copy)], check=True, capture_output=True)
    (copy / "templates").mkdir()
    (copy / "templates" / "big.j2").write_text("y" * 100_000, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", RENDER_EACH, str(copy), pid, json.dumps(HOSTILE)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("case", HOSTILE)
def test_a_workspace_template_cannot_hang_render_or_fill_the_memory(hostile: dict[str, list], case: str) -> None:
    code, message, printed, seconds = hostile[case]
    assert code == 2 and "form4.j2" in message and printed == "", message
    assert "internal error" not in message and seconds < 30

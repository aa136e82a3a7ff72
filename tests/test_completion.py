"""Issue 11: shell completion — `xmflow --install-completion` / `--show-completion`, and what a
TAB offers (project ids, steps, stages, field paths and their values, forms, people, roles),
from the workspace, through click's completion protocol as the shells' scripts drive it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Team, module_team, open_project
from typer.testing import CliRunner

from xmflow.cli import completion
from xmflow.cli.entry import app

BIN = Path(sys.executable).parent  # where the console script `xmflow` is


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """A workspace with two projects, the example company's people."""
    with module_team(tmp_path_factory, "completion") as team:
        open_project(team)
        open_project(team, "5万", who="lisi")
        yield team


def complete(
    line: str,
    *,
    shell: str = "bash",
    cwd: Path | None = None,
    mode: str = "words",
    instruction: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[list[str], str]:
    """The candidates a TAB at the end of *line* gets, as the shell's script asks for them (bash:
    COMP_WORDS/COMP_CWORD split as bash splits them, or COMP_LINE; zsh: the words typed), and stderr."""
    given = {"_XMFLOW_COMPLETE": instruction or f"complete_{shell}", **(env or {})}
    if shell == "bash" and mode == "words":
        words = bash_words(line)
        given |= {
            "COMP_WORDS": "\n".join(words),
            "COMP_CWORD": str(len(words) - 1 if not line.endswith(" ") else len(words)),
        }
    elif shell == "bash":
        given |= {"COMP_LINE": line, "COMP_POINT": str(len(line))}
    else:
        given |= {"_TYPER_COMPLETE_ARGS": line}
    old = Path.cwd()
    os.chdir(cwd or old)
    try:
        result = CliRunner().invoke(app, [], prog_name="xmflow", env=given)
    finally:
        os.chdir(old)
    assert result.exit_code == 0, (line, result.output, result.exception)
    return [c for c in result.stdout.split("\n") if c], result.stderr


def bash_words(line: str) -> list[str]:
    """The words bash makes of a line for COMP_WORDS: split at blanks, and at `=` which is a word of its own."""
    words = []
    for word in line.split():
        head, eq, rest = word.partition("=")
        words += [head, "=", rest] if eq and rest else [head, "="] if eq else [word]
    return [w for w in words if w]


def values(candidates: list[str]) -> list[str]:
    return [c.split("\t")[0] for c in candidates]


# -- what a TAB offers -------------------------------------------------------------------------
def test_commands_complete_by_their_start(ws: Team) -> None:
    found, err = complete("xmflow s", cwd=ws.root)
    assert found == ["set", "sign", "show", "status", "sync", "site"] and err == ""
    assert "process" in complete("xmflow ", cwd=ws.root)[0]


def test_project_ids_complete_where_a_project_is_named(ws: Team) -> None:
    ids = sorted(p.name for p in (ws.root / "projects").iterdir() if p.is_dir())
    assert len(ids) == 2
    for line in (
        "xmflow sign ",
        "xmflow set ",
        "xmflow show ",
        "xmflow status ",
        "xmflow render ",
        "xmflow edit ",
        "xmflow invoice ",
        "xmflow receive ",
        "xmflow log ",
        "xmflow verify ",
    ):
        assert complete(line, cwd=ws.root)[0] == ids, line
    assert complete(f"xmflow sign {ids[1][:-1]}", cwd=ws.root)[0] == [i for i in ids if i.startswith(ids[1][:-1])]


def test_dash_c_names_the_workspace_completed_from(ws: Team, tmp_path: Path) -> None:
    assert complete("xmflow sign ", cwd=tmp_path)[0] == []  # no workspace here: nothing, and no error
    assert len(complete(f"xmflow -C {ws.root} sign ", cwd=tmp_path)[0]) == 2
    assert len(complete(f"xmflow --lang en -C {ws.root} status ", cwd=tmp_path)[0]) == 2


def test_step_ids_complete_for_sign_with_their_titles_in_the_language(ws: Team) -> None:
    found = complete("xmflow sign 2026-001 contract.s", cwd=ws.root)[0]
    assert found == ["contract.self_review", "contract.supervisor_review", "contract.stamp"]
    zh = complete("xmflow --lang zh sign 2026-001 contract.su", shell="zsh", cwd=ws.root)[0]
    en = complete("xmflow --lang en sign 2026-001 contract.su", shell="zsh", cwd=ws.root)[0]
    assert zh == ["contract.supervisor_review\t主管审核（条款 3.5.2）"]
    assert en == ["contract.supervisor_review\tsupervisor review (clause 3.5.2)"]


def test_stages_forms_roles_people_and_choices(ws: Team) -> None:
    assert complete("xmflow edit 2026-001 co", cwd=ws.root)[0] == ["contract", "collection"]
    assert complete("xmflow show 2026-001 ins", cwd=ws.root)[0] == ["installation"]
    assert complete("xmflow render 2026-001 form", cwd=ws.root)[0] == ["form1", "form2", "form3", "form4"]
    assert "volume" in complete("xmflow render 2026-001 ", cwd=ws.root)[0]
    assert complete("xmflow status --role sales", cwd=ws.root)[0] == ["sales", "sales_supervisor"]
    assert complete("xmflow sign 2026-001 contract.draft --role cl", cwd=ws.root)[0] == ["client"]
    assert complete("xmflow new 项目 --sales ", cwd=ws.root)[0] == ["zhangsan", "lisi"]  # who holds the sales role
    assert len(complete("xmflow sign 2026-001 contract.draft --on-behalf-of ", cwd=ws.root)[0]) == 12
    assert complete("xmflow --lang ", cwd=ws.root)[0] == ["zh", "en"]
    assert "--reject" in complete("xmflow sign 2026-001 contract.draft --r", cwd=ws.root)[0]
    assert complete("xmflow process ", cwd=ws.root)[0] == ["show", "export"]


def test_field_paths_complete_a_part_at_a_time(ws: Team) -> None:
    stages = complete("xmflow set 2026-001 ", cwd=ws.root)[0]
    assert stages[:3] == ["initiation.", "plan.", "samples."] and all(s.endswith(".") for s in stages)
    assert complete("xmflow set 2026-001 con", cwd=ws.root)[0] == ["contract."]
    assert complete("xmflow set 2026-001 contract.am", cwd=ws.root)[0] == ["contract.amount="]
    fields = complete("xmflow set 2026-001 contract.", cwd=ws.root)[0]
    assert "contract.core_principles." in fields and "contract.payment_terms=" in fields
    assert complete("xmflow set 2026-001 contract.payment_terms.0.", cwd=ws.root)[0] == [
        "contract.payment_terms.0.name=",
        "contract.payment_terms.0.percent=",
        "contract.payment_terms.0.due=",
        "contract.payment_terms.0.days=",
    ]
    assert complete("xmflow set 2026-001 contract.core_principles.pr", cwd=ws.root)[0] == [
        "contract.core_principles.pricing="
    ]
    # what only its own command writes is not offered (invoice, receive); nor a field given already
    assert complete("xmflow set 2026-001 collection.", cwd=ws.root)[0] == ["collection.notes="]
    assert complete("xmflow set 2026-001 collection.invoices.0.", cwd=ws.root)[0] == []
    assert complete("xmflow set 2026-001 contract.amount=1 contract.am", cwd=ws.root)[0] == []
    assert complete("xmflow set 2026-001 nosuch.", cwd=ws.root)[0] == []
    described = complete("xmflow --lang en set 2026-001 contract.am", shell="zsh", cwd=ws.root)[0]
    assert described == ["contract.amount=\tan amount of money"]


def test_values_complete_after_the_equals_sign_as_each_shell_replaces_them(ws: Team) -> None:
    """Bash breaks words at `=` and replaces only what follows it; zsh keeps the word whole."""
    assert complete("xmflow set 2026-001 initiation.phase=", cwd=ws.root)[0] == ["接触", "咨询", "跟踪"]
    assert complete("xmflow set 2026-001 initiation.phase=跟", cwd=ws.root)[0] == ["跟踪"]
    assert complete("xmflow set 2026-001 initiation.phase=跟", cwd=ws.root, mode="line")[0] == ["跟踪"]
    assert complete("xmflow set 2026-001 initiation.phase=", shell="zsh", cwd=ws.root)[0] == [
        "initiation.phase=接触",
        "initiation.phase=咨询",
        "initiation.phase=跟踪",
    ]
    assert complete("xmflow set 2026-001 installation.on_site=", cwd=ws.root)[0] == ["是", "否"]
    assert complete("xmflow set 2026-001 initiation.sales=", cwd=ws.root)[0] == ["zhangsan", "lisi"]
    assert complete("xmflow set 2026-001 contract.payment_terms.1.due=s", cwd=ws.root)[0] == ["signing", "shipment"]
    assert complete("xmflow set 2026-001 contract.amount=", cwd=ws.root)[0] == []  # an amount: nothing to offer
    # an option's value after `=`: click's own split
    assert complete("xmflow new 项目 --sales=zh", cwd=ws.root)[0] == ["zhangsan"]


def test_clicks_order_of_the_instruction_is_read_too(ws: Team) -> None:
    assert complete("xmflow s", instruction="bash_complete", cwd=ws.root)[0] == [
        "set",
        "sign",
        "show",
        "status",
        "sync",
        "site",
    ]
    assert complete("xmflow s", shell="zsh", instruction="zsh_complete", cwd=ws.root)[0][0].startswith("set\t")


# -- never loudly -------------------------------------------------------------------------------
@pytest.mark.parametrize("breakage", ["config", "people", "process", "not a workspace"])
def test_a_broken_workspace_completes_nothing_it_cannot_read_and_says_nothing(tmp_path: Path, breakage: str) -> None:
    from conftest import new_team

    team = new_team(tmp_path / "ws")
    open_project(team)
    root = team.root
    if breakage == "config":
        (root / "xmflow.yaml").write_text("company: [unclosed\n", encoding="utf-8")
    elif breakage == "people":
        (root / "people.yaml").write_bytes(b"\xff\xfe not utf-8")
    elif breakage == "process":
        (root / "xmflow.yaml").write_text("company: x\nprocess: missing.yaml\n", encoding="utf-8")
    else:
        (root / "xmflow.yaml").unlink()
    for line in (
        "xmflow sign 2026-001 contract.",
        "xmflow set 2026-001 contract.",
        "xmflow new x --sales ",
        "xmflow render 2026-001 ",
    ):
        found, err = complete(line, cwd=root)
        assert err == "", (line, err)
        if breakage in ("config", "process", "not a workspace") or "--sales" in line:
            assert found == [], (line, found)
    ids, err = complete("xmflow sign ", cwd=root)
    assert err == "" and ids == ([] if breakage == "not a workspace" else ["2026-001"])  # ids: the folders alone


def test_an_error_inside_a_completion_is_no_error_of_the_command_line(
    ws: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr("xmflow.records.workspace.Workspace.project_ids", broken)
    assert complete("xmflow sign ", cwd=ws.root) == ([], "")
    monkeypatch.setattr("xmflow.cli.completion.Bash.get_completion_args", broken)
    assert complete("xmflow sign ", cwd=ws.root) == ([], "")


def test_completing_a_project_id_reads_no_record(ws: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder listing is enough: not one file of a project is opened, nor git asked."""
    import xmflow.git.store
    import xmflow.records.stages
    import xmflow.yamlio

    def forbidden(*args, **kwargs):
        raise AssertionError(f"read for a completion: {args[:2]}")

    real = xmflow.yamlio.read_file

    def read_file(path, *args, **kwargs):
        if "projects" in Path(path).parts:
            forbidden(path)
        return real(path, *args, **kwargs)

    for name in ("load_project", "project_key"):
        monkeypatch.setattr(xmflow.records.stages, name, forbidden)
    monkeypatch.setattr(xmflow.git.store, "vouched_blobs", forbidden)
    monkeypatch.setattr(xmflow.yamlio, "read_file", read_file)
    monkeypatch.setattr(subprocess, "run", forbidden)
    assert len(complete("xmflow sign ", cwd=ws.root)[0]) == 2
    assert "contract.amount=" in complete("xmflow set 2026-001 contract.a", cwd=ws.root)[0]


# -- the scripts, and their installation ---------------------------------------------------------
def test_show_completion_prints_the_script_of_the_shell_in_use(ws: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    for shell, marks in {
        "bash": [
            "complete -o default -F _xmflow_completion xmflow",
            "_XMFLOW_COMPLETE=complete_bash",
            "COMP_LINE",
            "compopt -o nospace",
        ],
        "zsh": ["#compdef xmflow", "_XMFLOW_COMPLETE=complete_zsh", "compdef _xmflow_completion xmflow"],
        "fish": ["complete --command xmflow", "_XMFLOW_COMPLETE=complete_fish"],
    }.items():
        monkeypatch.setattr(completion, "shell_of", lambda shell=shell: shell)
        result = runner.invoke(app, ["--show-completion"], prog_name="xmflow")
        assert result.exit_code == 0, result.output
        assert all(mark in result.stdout for mark in marks), (shell, result.stdout)
        sourced = runner.invoke(app, [], prog_name="xmflow", env={"_XMFLOW_COMPLETE": f"source_{shell}"})
        assert sourced.stdout.strip() == result.stdout.strip()


def test_an_unknown_shell_is_said_with_the_way_to_choose_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import shellingham

    def undetected(*args, **kwargs):
        raise shellingham.ShellDetectionFailure()

    monkeypatch.setattr(shellingham, "detect_shell", undetected)
    result = CliRunner().invoke(
        app, ["--lang", "en", "--show-completion"], prog_name="xmflow", env={"SHELL": "/bin/tcsh"}
    )
    assert result.exit_code == 2 and "cannot tell your shell (tcsh)" in result.stderr
    assert "_XMFLOW_COMPLETE=source_bash xmflow" in result.stderr
    zh = CliRunner().invoke(app, ["--lang", "zh", "--show-completion"], prog_name="xmflow", env={"SHELL": "/bin/tcsh"})
    assert "无法判断" in zh.stderr


def test_install_completion_writes_the_script_and_loads_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path.home()  # the tests' own (conftest)
    (home / ".bashrc").write_text("alias ll='ls -l'", encoding="utf-8")
    monkeypatch.setattr(completion, "shell_of", lambda: "bash")
    for _round in range(2):
        result = CliRunner().invoke(app, ["--lang", "en", "--install-completion"], prog_name="xmflow")
        assert result.exit_code == 0, result.output
    script = home / ".bash_completions" / "xmflow.sh"
    assert f"bash completion installed in {script}" in result.stdout
    assert "complete -o default -F _xmflow_completion xmflow" in script.read_text(encoding="utf-8")
    assert (home / ".bashrc").read_text(encoding="utf-8") == f"alias ll='ls -l'\nsource {script}\n"
    monkeypatch.setattr(completion, "shell_of", lambda: "zsh")
    result = CliRunner().invoke(app, ["--lang", "zh", "--install-completion"], prog_name="xmflow")
    assert result.exit_code == 0 and "已安装" in result.stdout
    assert (home / ".zfunc" / "_xmflow").is_file()
    assert "fpath+=~/.zfunc" in (home / ".zshrc").read_text(encoding="utf-8")


def _environment(ws: Team) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "XMFLOW_LANG": "en"}


def test_the_bash_script_in_bash(ws: Team, tmp_path: Path) -> None:
    """The script as bash runs it: its COMPREPLY for a line (bash splits `initiation.phase=` in three)."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    script = tmp_path / "xmflow.bash"
    script.write_text(completion.script_text("bash"), encoding="utf-8")

    def reply(line: str) -> list[str]:
        words = bash_words(line)
        current = len(words) if line.endswith(" ") else len(words) - 1
        array = " ".join(shlex.quote(w) for w in [*words, *([""] if line.endswith(" ") else [])])
        program = (
            f"source {script}; COMP_WORDS=({array}); COMP_CWORD={current}; COMP_LINE={shlex.quote(line)}; "
            f"COMP_POINT={len(line)}; _xmflow_completion xmflow; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        )
        done = subprocess.run(
            [bash, "--norc", "--noprofile", "-c", program],
            cwd=ws.root,
            env=_environment(ws),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr
        return [line for line in done.stdout.split("\n") if line]

    assert reply("xmflow sign ") == ["2026-001", "2026-002"]
    assert reply("xmflow set 2026-001 initiation.phase=") == ["接触", "咨询", "跟踪"]
    assert reply("xmflow set 2026-001 initiation.ph") == ["initiation.phase="]


def test_the_zsh_script_in_zsh(ws: Team, tmp_path: Path) -> None:
    """The zsh script's own work, with zsh's completion functions stood in for: the candidates that
    end a word (`.`, `=`) go to _describe without a space after them."""
    zsh = shutil.which("zsh")
    if zsh is None:
        pytest.skip("no zsh (apt-get install zsh)")
    script = tmp_path / "_xmflow"
    script.write_text(completion.script_text("zsh"), encoding="utf-8")

    def described(line: str) -> str:
        words = line.split(" ")
        program = (
            '_describe() { print -r -- "describe $*: ${(P)4}" }; _files() { print files }; compdef() { }; '
            f"source {script}; words=({' '.join(shlex.quote(w) for w in words)}); CURRENT={len(words)}; "
            "_xmflow_completion"
        )
        done = subprocess.run(
            [zsh, "-f", "-c", program], cwd=ws.root, env=_environment(ws), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr
        return done.stdout.strip()

    assert described("xmflow set 2026-001 contract.am") == (
        "describe -t values xmflow unspaced -S : contract.amount=:an amount of money"
    )
    assert (
        described("xmflow render 2026-001 form4") == "describe -t values xmflow spaced: form4:project acceptance report"
    )
    assert described("xmflow render nosuch-project-file-prefix-") == "files"


def test_a_completion_costs_a_start_of_xmflow_not_a_read_of_the_projects(tmp_path: Path) -> None:
    """Through the console script, in a workspace of 300 projects whose records would not even
    parse: every id is offered, in about the time xmflow takes to start (measured: see the report)."""
    from conftest import new_team

    team = new_team(tmp_path / "ws")
    for n in range(300):
        folder = team.root / "projects" / f"2026-{n:03d}"
        folder.mkdir(parents=True)
        (folder / "project.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    env = {**_environment(team), "_XMFLOW_COMPLETE": "complete_bash", "COMP_WORDS": "xmflow\nsign\n", "COMP_CWORD": "2"}
    start = time.perf_counter()
    done = subprocess.run([str(BIN / "xmflow")], cwd=team.root, env=env, capture_output=True, text=True, timeout=60)
    took = time.perf_counter() - start
    assert done.returncode == 0 and done.stderr == ""
    assert len(done.stdout.split()) == 300
    assert took < 10, took  # a generous bound for a loaded machine: about 0.3 s alone


def test_the_fish_script_in_fish(ws: Team, tmp_path: Path) -> None:
    """fish's own `complete -C LINE`: the candidates with their descriptions, files where xmflow has none."""
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("no fish (apt-get install fish)")
    script = tmp_path / "xmflow.fish"
    script.write_text(completion.script_text("fish"), encoding="utf-8")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF")

    def offered(line: str) -> list[str]:
        done = subprocess.run(
            [fish, "-N", "-c", f"source {script}; complete -C {shlex.quote(line)}"],
            cwd=ws.root,
            env={**_environment(ws), "XDG_CONFIG_HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return [line for line in done.stdout.split("\n") if line]

    assert offered("xmflow sign 2026-001 contract.su") == [
        "contract.supervisor_review\tsupervisor review (clause 3.5.2)"
    ]
    assert offered("xmflow set 2026-001 initiation.phase=跟") == ["initiation.phase=跟踪"]
    assert offered(f"xmflow sign 2026-001 contract.draft --evidence {tmp_path}/sc") == [f"{tmp_path}/scan.pdf"]

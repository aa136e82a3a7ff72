"""Shell completion: ``xmflow --install-completion`` / ``--show-completion``, and the candidates
the shell asks for at each TAB (project ids, step ids, stage ids, field paths and their values,
forms, people, roles), taken from the workspace the command line names (``-C`` or here).

The shell runs ``xmflow`` with ``_XMFLOW_COMPLETE=complete_bash`` (or ``complete_zsh``…; click's
order ``bash_complete`` is read too) and the words typed so far; :func:`run` answers with one
candidate a line. A completion reads only what it names: the list of project folders, the
process, people.yaml, never a project's records, and it never fails loudly: a broken workspace,
or any error at all, completes nothing.

Field paths are completed a part at a time, as git completes paths: ``con`` → ``contract.``,
``contract.am`` → ``contract.amount=``, then the value where the field has few (是/否, an enum's
values, the people who may be named). A candidate that ends in ``.`` or ``=`` is not followed by a
space: the scripts below tell the shell so. Bash splits words at ``=``; its script hands over the
line itself (COMP_LINE) and the candidates are cut to the part bash replaces.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterable, MutableMapping
from datetime import date
from pathlib import Path
from typing import Any

import typer
from typer._click.shell_completion import CompletionItem, ShellComplete, split_arg_string

from xmflow import i18n
from xmflow.i18n import _
from xmflow.labels import in_language, title_of

Candidates = list[tuple[str, str]]

SHELLS = ("bash", "zsh", "fish")
NO_SPACE = (".", "=")  # a candidate ending so is a part of a word: the shell adds no space after it

_BASH_SCRIPT = r"""
%(complete_func)s() {
    local IFS=$'\n'
    COMPREPLY=( $( env COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" COMP_WORDBREAKS="$COMP_WORDBREAKS" \
                   COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD="$COMP_CWORD" \
                   %(complete_var)s=complete_bash "$1" 2>/dev/null ) )
    local word
    for word in "${COMPREPLY[@]}"; do
        if [[ $word == *[.=] ]]; then
            compopt -o nospace 2>/dev/null
            break
        fi
    done
    return 0
}

complete -o default -F %(complete_func)s %(prog_name)s
"""

_ZSH_SCRIPT = r"""
#compdef %(prog_name)s

%(complete_func)s() {
    local -a spaced unspaced
    local line value help entry
    for line in "${(@f)$(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" %(complete_var)s=complete_zsh %(prog_name)s 2>/dev/null)}"; do
        [[ -n $line ]] || continue
        value=${line%%%%$'\t'*}
        help=${line#*$'\t'}
        entry=${value//:/\\:}
        if [[ $line == *$'\t'* && -n $help ]]; then
            entry+=":$help"
        fi
        if [[ $value == *[.=] ]]; then
            unspaced+=("$entry")
        else
            spaced+=("$entry")
        fi
    done
    if (( ${#spaced} + ${#unspaced} == 0 )); then
        _files
        return
    fi
    (( ${#spaced} )) && _describe -t values %(prog_name)s spaced
    (( ${#unspaced} )) && _describe -t values %(prog_name)s unspaced -S ''
    return 0
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    %(complete_func)s "$@"
else
    compdef %(complete_func)s %(prog_name)s
fi
"""

_FISH_SCRIPT = r"""
function %(complete_func)s
    set -l found (env _TYPER_COMPLETE_ARGS=(commandline -cp) %(complete_var)s=complete_fish %(prog_name)s 2>/dev/null)
    if test (count $found) -gt 0
        printf '%%s\n' $found
    else
        __fish_complete_path (commandline -ct)
    end
end

complete --command %(prog_name)s --no-files --arguments '(%(complete_func)s)'
"""


def _with_whitespace_end(line: str) -> bool:
    """Whether the cursor is after a word (a new, empty word is being completed)."""
    return not line or line[-1] in " \t\n" and not line.endswith(("\\ ", "\\\t"))


def _split(line: str) -> tuple[list[str], str]:
    """The words before the one being completed (without the program's name), and that one."""
    words = split_arg_string(line)[1:]
    if _with_whitespace_end(line) or not words:
        return words, ""
    return words[:-1], words[-1]


class _Shell(ShellComplete):
    """What the three shells share: the variables of their scripts."""

    def source_vars(self) -> dict[str, Any]:
        return {"complete_func": self.func_name, "complete_var": self.complete_var, "prog_name": self.prog_name}


class Bash(_Shell):
    """Bash: the line as typed (COMP_LINE, COMP_POINT), else its words (COMP_WORDS, COMP_CWORD)
    with the ``=`` bash splits off put back; a candidate is cut to the part of the word bash
    replaces (what follows its last word-break character, ``=`` or ``:``)."""

    name = "bash"
    source_template = _BASH_SCRIPT
    _kept = ""  # the start of the word being completed that bash does not replace

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("COMP_LINE")
        if line is not None:
            args, incomplete = _split(_before_cursor(line, os.environ.get("COMP_POINT", "")))
        else:
            args, incomplete = _glued_words(
                split_arg_string(os.environ.get("COMP_WORDS", "")), int(os.environ.get("COMP_CWORD") or 0)
            )
        breaks = os.environ.get("COMP_WORDBREAKS", " \t\n\"'><=;|&(:")
        cut = max((incomplete.rfind(c) for c in breaks if c not in " \t\n\"'"), default=-1)
        self._kept = incomplete[: cut + 1]
        return args, incomplete

    def format_completion(self, item: CompletionItem) -> str:
        value = str(item.value)
        return value[len(self._kept) :] if self._kept and value.startswith(self._kept) else value


def _before_cursor(line: str, point: str) -> str:
    """COMP_LINE up to COMP_POINT (in characters, as bash 5 counts; a count past the end, as a
    count in bytes may be, is the end)."""
    try:
        at = int(point)
    except ValueError:
        return line
    return line[:at] if 0 <= at < len(line) else line


def _glued_words(words: list[str], current: int) -> tuple[list[str], str]:
    """COMP_WORDS as the words typed: ``a``, ``=``, ``b`` (bash breaks words at ``=``) is ``a=b``.
    Returns the words before the current one (without the program's name) and the current one."""
    glued: list[str] = []
    at = 0
    for i, word in enumerate(words):
        if glued and i > 1 and (word == "=" or words[i - 1] == "="):
            glued[-1] += word
        else:
            glued.append(word)
        if i == current:
            at = len(glued) - 1
    if current >= len(words):  # the cursor on a new word: it is empty
        glued.append("")
        at = len(glued) - 1
    return glued[1:at], glued[at] if at > 0 else ""


class Zsh(_Shell):
    """Zsh: the words up to the cursor (its script's ``words[1,$CURRENT]``); one candidate a
    line, ``value<TAB>description``."""

    name = "zsh"
    source_template = _ZSH_SCRIPT

    def get_completion_args(self) -> tuple[list[str], str]:
        return _split(os.environ.get("_TYPER_COMPLETE_ARGS", ""))

    def format_completion(self, item: CompletionItem) -> str:
        help_text = " ".join((item.help or "").split())
        return f"{item.value}\t{help_text}" if help_text else str(item.value)


class Fish(Zsh):
    """Fish: the command line up to the cursor; ``value<TAB>description`` lines, as fish reads them."""

    name = "fish"
    source_template = _FISH_SCRIPT


_CLASSES: dict[str, type[_Shell]] = {"bash": Bash, "zsh": Zsh, "fish": Fish}


# -- answering the shell ------------------------------------------------------------------------
def run(cli: Any, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None) -> None:
    """When the shell asks (``_XMFLOW_COMPLETE`` set), answer and end; else return at once.
    Takes the place of click's ``_main_shell_completion``."""
    complete_var = complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()
    instruction = os.environ.get(complete_var)
    if not instruction:
        return
    sys.exit(answer(cli, ctx_args, prog_name, complete_var, instruction))


def answer(cli: Any, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str, instruction: str) -> int:
    """Print the script (``source_bash``) or the candidates (``complete_bash``); click's order
    (``bash_source``, ``bash_complete``) is read as well."""
    first, _sep, second = instruction.partition("_")
    action, shell = (first, second) if first in ("source", "complete") else (second, first)
    comp_cls = _CLASSES.get(shell)
    if comp_cls is None or action not in ("source", "complete"):
        typer.echo(
            _(
                "{instruction}: not a completion instruction (complete_bash, complete_zsh, "
                "complete_fish, or source_… for the script)"
            ).format(instruction=instruction),
            err=True,
        )
        return 1
    comp = comp_cls(cli, ctx_args, prog_name, complete_var)
    if action == "source":
        typer.echo(comp.source())
        return 0
    try:
        from xmflow.cli import lang as cli_lang

        args, _incomplete = comp.get_completion_args()
        i18n.use(cli_lang.language_of(args))  # --lang and -C as the line gives them
        cli_lang.speak(cli)
        text = comp.complete()
    except Exception:  # a completion never fails loudly: nothing to offer
        text = ""
    if text:
        typer.echo(text)
    return 0


# -- --show-completion, --install-completion ---------------------------------------------------
def shell_of(environ: MutableMapping[str, str] | None = None) -> str:
    """The shell xmflow runs under (bash, zsh or fish), else a usage error saying how to choose."""
    from xmflow.errors import UsageError

    environ = os.environ if environ is None else environ
    name = None
    try:
        import shellingham

        name = shellingham.detect_shell()[0]
    except Exception:  # not found: the login shell then
        name = None
    if name not in SHELLS:
        name = Path(environ.get("SHELL", "")).name or name
    if name not in SHELLS:
        raise UsageError(
            _(
                "cannot tell your shell ({shell}): completion is for bash, zsh and fish; for one of "
                "them, print its script with _XMFLOW_COMPLETE=source_bash xmflow (or source_zsh, "
                "source_fish)"
            ).format(shell=name or "?")
        )
    return name


def script(ctx: typer.Context, shell: str) -> str:
    """The completion script of *shell* for this program (by the name it was started as)."""
    root = ctx.find_root()
    name = root.info_name or ""
    return script_text(shell, name if name and not any(c.isspace() for c in name) else "xmflow", root.command)


def script_text(shell: str, prog: str = "xmflow", cli: Any = None) -> str:
    """The completion script of *shell* for the program *prog*."""
    var = f"_{prog}_COMPLETE".replace("-", "_").upper()
    return _CLASSES[shell](cli, {}, prog, var).source().strip() + "\n"


def show_callback(ctx: typer.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from xmflow.cli.common import out_of

    out_of(ctx).text(script(ctx, _shell_or_exit(ctx)))
    raise typer.Exit()


def install_callback(ctx: typer.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from xmflow.cli.common import out_of
    from xmflow.errors import UsageError

    shell = _shell_or_exit(ctx)
    out = out_of(ctx)
    try:
        path = install(shell, script(ctx, shell), Path.home())
    except UsageError as exc:
        out.error(exc.message)
        raise typer.Exit(exc.exit_code) from None
    out.line(_("{shell} completion installed in {path}").format(shell=shell, path=path))
    out.line(_("It works in a new terminal (or in this one after: source {rc}).").format(rc=_RC[shell]))
    raise typer.Exit()


def _shell_or_exit(ctx: typer.Context) -> str:
    from xmflow.cli.common import out_of
    from xmflow.errors import UsageError

    try:
        return shell_of()
    except UsageError as exc:
        out_of(ctx).error(exc.message)
        raise typer.Exit(exc.exit_code) from None


_RC = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "fish": "~/.config/fish/config.fish"}


def install(shell: str, text: str, home: Path) -> Path:
    """Write the script where *shell* finds it, and have the shell's start-up file load it
    (once: running it again changes nothing but the script). Returns the script's path."""
    if shell == "fish":
        path = home / ".config" / "fish" / "completions" / "xmflow.fish"
        _write(path, text)
        return path
    if shell == "zsh":
        path, line = home / ".zfunc" / "_xmflow", "fpath+=~/.zfunc; autoload -Uz compinit; compinit"
    else:
        path = home / ".bash_completions" / "xmflow.sh"
        line = f"source {shlex.quote(str(path))}"
    _write(path, text)
    rc = home / _RC[shell].removeprefix("~/")
    old = rc.read_text(encoding="utf-8") if rc.is_file() else ""
    if line not in old.splitlines():
        _write(rc, old + ("" if not old or old.endswith("\n") else "\n") + line + "\n")
    return path


def _write(path: Path, text: str) -> None:
    from xmflow.errors import UsageError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(_("cannot write {path}: {reason}").format(path=path, reason=exc.strerror)) from None


# -- the candidates -----------------------------------------------------------------------------
def _quiet(complete: Callable[[typer.Context, str], Iterable[tuple[str, str]]]) -> Callable[..., Candidates]:
    """A completion that offers nothing rather than fail."""

    def guarded(ctx: typer.Context, incomplete: str) -> Candidates:
        try:
            return [
                (value, help_text) for value, help_text in complete(ctx, incomplete) if value.startswith(incomplete)
            ]
        except Exception:  # a broken workspace completes nothing
            return []

    guarded.__name__ = complete.__name__
    guarded.__doc__ = complete.__doc__
    return guarded


def _workspace(ctx: typer.Context) -> Any:
    """The workspace the command line is in: ``-C`` as typed so far, else the current folder
    (opened lazily: what a completion does not ask for is not read)."""
    from xmflow.records.workspace import Workspace

    return Workspace.find(Path(ctx.find_root().params.get("path") or "."))


@_quiet
def projects(ctx: typer.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    """The workspace's project ids: the names of the folders under projects/ (nothing is read),
    only those that are ids (a folder named ``x;rm -rf ~`` or holding an escape is not offered)."""
    from xmflow.records.workspace import valid_project_id

    return [(pid, "") for pid in _workspace(ctx).project_ids() if valid_project_id(pid)]


@_quiet
def steps(ctx: typer.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    """Every step of the process, with its title and clause."""
    return [
        (
            st.id,
            _("{title} (clause {clause})").format(title=title_of(st), clause=st.clause) if st.clause else title_of(st),
        )
        for st in _workspace(ctx).process.steps
    ]


@_quiet
def stages(ctx: typer.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    """Every stage of the process, with its title."""
    return [(s.id, title_of(s)) for s in _workspace(ctx).process.stages]


@_quiet
def forms(ctx: typer.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    """The forms of the process by id, and ``volume`` (the whole project)."""
    found = [
        (f.id, in_language(f"{f.title}（{f.annex}）" if f.annex else f.title, f.title_en))
        for f in _workspace(ctx).process.forms.values()
    ]
    return [*found, ("volume", _("the whole project, every form in one volume"))]


@_quiet
def roles(ctx: typer.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    """The roles of the process."""
    return [(r.id, title_of(r)) for r in _workspace(ctx).process.roles.values()]


def _person(p: Any) -> tuple[str, str]:
    return p.id, p.name


@_quiet
def salespeople(ctx: typer.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    """The people of people.yaml who may be a project's salesperson (hold the role the process names)."""
    ws = _workspace(ctx)
    role = ws.process.salesperson_role
    return [_person(p) for p in ws.people.persons if role is None or role in p.roles]


@_quiet
def delegators(ctx: typer.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    """Whom one may sign for: the people who delegate a role in people.yaml (everyone when none does)."""
    people = _workspace(ctx).people
    by = {d.by for d in people.delegations}
    return [_person(p) for p in people.persons if p.id in by or not by]


@_quiet
def fields(ctx: typer.Context, incomplete: str) -> Iterable[tuple[str, str]]:
    """``set PROJECT stage.field=value``: a stage, then its fields a part at a time, then the
    values of a field that has few; the fields already given are not offered again, nor those
    only their own command writes."""
    ws = _workspace(ctx)
    process = ws.process
    path, eq, _value = incomplete.partition("=")
    if eq:
        return _values(ws, path)
    stage_id, dot, rest = path.partition(".")
    if not dot:
        return [(f"{s.id}.", title_of(s)) for s in process.stages]
    stage = next((s for s in process.stages if s.id == stage_id), None)
    if stage is None:
        return []
    *parents, _last = rest.split(".")
    ftype = stage.fields
    for part in parents:
        if ftype is None or ftype.readonly:
            return []
        if ftype.kind == "list":
            if not (part.isascii() and part.isdigit()):
                return []
            ftype = ftype.item
        else:
            ftype = ftype.child(part)
    if ftype is None or ftype.readonly:
        return []
    prefix = ".".join([stage_id, *parents])
    given = {text.partition("=")[0].strip() for text in ctx.params.get("assignments") or ()}
    if ftype.kind != "map":  # an item of a list of values: installation.staff.0
        return [] if ftype.kind == "list" or prefix in given else [(f"{prefix}=", ftype.describe())]
    found = []
    for name, sub in ftype.fields.items():
        full = f"{prefix}.{name}"
        if sub.readonly or full in given:
            continue
        found.append((f"{full}." if sub.kind == "map" else f"{full}=", sub.describe()))
    return found


def _values(ws: Any, path: str) -> Candidates:
    """The values a field may take, where they are few: 是/否, an enum's, the people it may name,
    today for a date."""
    ftype = ws.process.field_type(path)
    if ftype is None or ftype.readonly:
        return []
    if ftype.kind == "bool":
        choices = [("是", ""), ("否", "")]
    elif ftype.kind == "enum":
        choices = [(v, "") for v in ftype.values]
    elif ftype.kind == "person":
        choices = [
            _person(p)
            for p in ws.people.persons
            if ftype.role is None or ftype.role in p.roles or not _is_global(ws, ftype.role)
        ]
    elif ftype.kind == "date":
        choices = [(date.today().isoformat(), _("today"))]
    else:
        choices = []
    return [(f"{path}={value}", help_text) for value, help_text in choices]


def _is_global(ws: Any, role_id: str) -> bool:
    role = ws.process.roles.get(role_id)
    return role is None or role.is_global

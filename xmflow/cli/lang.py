"""The command line in the language of its reader: chosen before the arguments are parsed, so
that ``--help``, usage lines and the parser's own errors speak it as the commands do.

typer fixes every help text when it builds the commands, in English; :func:`speak` puts each
one's translation in place (and a short help made from it: click shortens text at spaces,
which Chinese has none of), and :func:`show_usage_error` says the parser's errors (click's
English, without gettext) through the catalogue.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.core
from typer._click import exceptions as click_errors
from typer._click.core import Context
from typer._click.formatting import HelpFormatter, wrap_text
from typer._click.utils import echo, make_default_short_help

from xmflow import i18n
from xmflow.i18n import N_, _

_GLOBAL_FLAGS = ("--no-color", "--debug", "--version", "-h", "--help")


def language_of(argv: list[str]) -> str:
    """The language of a command line: ``--lang``, else ``XMFLOW_LANG``, else the locale of the
    workspace it runs in (``-C`` or here), else the system's, else Chinese."""
    lang = path = None
    args = iter(argv)
    for arg in args:
        if arg == "--lang":
            lang = next(args, None)
        elif arg.startswith("--lang="):
            lang = arg.removeprefix("--lang=")
        elif arg == "-C":
            path = next(args, None)
        elif arg.startswith("-C"):
            path = arg[2:]
        elif arg not in _GLOBAL_FLAGS:
            break  # the command's name: what follows is its own
    if lang in i18n.LANGUAGES:
        return lang
    if os.environ.get("XMFLOW_LANG") in i18n.LANGUAGES:
        return os.environ["XMFLOW_LANG"]
    from xmflow.errors import XmflowError
    from xmflow.records.workspace import Workspace

    try:
        return Workspace.find(Path(path) if path else Path.cwd()).config.locale
    except (XmflowError, OSError, ValueError):
        from xmflow.trust.receive import locale_of  # a shared (bare) repository: its hook speaks its committed locale

        return locale_of(path) or i18n.of_system() or i18n.DEFAULT


_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")
_TOKENS = re.compile(r"\s+|[\u2e80-\uffff]|[^\s\u2e80-\uffff]+")
_NO_BREAK_BEFORE = set("，。；：、！？）」』”’》…%")  # Chinese punctuation never starts a line
_NO_BREAK_AFTER = set("（「『“‘《")  # nor do opening brackets end one


def cells(text: str) -> int:
    """The columns *text* takes in a terminal: a Chinese character takes two."""
    return len(text) + len(_WIDE.findall(text))


def _fill(text: str, width: int, initial_indent: str, subsequent_indent: str) -> str:
    """One paragraph wrapped at *width* columns, a Chinese character counted as two: a line may
    end between any two Chinese characters (as at a space), not before a comma or a closing
    bracket, nor after an opening one (the character before them goes down with them)."""
    pieces: list[tuple[str, str, bool]] = []  # (the space before, the text, may a line start with it)
    before, space = "", ""
    for token in _TOKENS.findall(text):
        if token.isspace():
            space = token.replace("\n", " ")
            continue
        breakable = (
            (bool(space) or bool(_WIDE.match(token)) or bool(_WIDE.match(before[-1:])))
            and token[0] not in _NO_BREAK_BEFORE
            and before[-1:] not in _NO_BREAK_AFTER
        )
        pieces.append((space if before else "", token, breakable))
        before, space = token, ""
    lines: list[str] = []
    line: list[tuple[str, str, bool]] = []
    indent = initial_indent

    def room(of: list[tuple[str, str, bool]]) -> int:
        return cells(indent) + sum(cells(gap + token) for gap, token, _ok in of) - (cells(of[0][0]) if of else 0)

    for piece in pieces:
        if line and room([*line, piece]) > width:
            cut = len(line) if piece[2] else next((i for i in range(len(line) - 1, 0, -1) if line[i][2]), 0)
            if cut:
                lines.append(indent + "".join(gap + token for gap, token, _ok in line[:cut]).lstrip(" "))
                line, indent = line[cut:], subsequent_indent
        line.append(piece)
    lines.append(indent + "".join(gap + token for gap, token, _ok in line).lstrip(" "))
    return "\n".join(line.rstrip() for line in lines)


def wrap(
    text: str, width: int = 78, initial_indent: str = "", subsequent_indent: str = "", preserve_paragraphs: bool = False
) -> str:
    """click's ``wrap_text``, for text with Chinese in it too: measured in terminal columns, and
    broken between Chinese characters, which have no spaces to break at. Text without Chinese
    is click's to wrap, exactly as it would."""
    if not _WIDE.search(text):
        return wrap_text(text, width, initial_indent, subsequent_indent, preserve_paragraphs)
    if not preserve_paragraphs:
        return _fill(text, width, initial_indent, subsequent_indent)
    out = []
    for paragraph in re.split(r"\n\s*\n", text.expandtabs()):
        lines = paragraph.splitlines()
        if lines and lines[0].strip() == "\b":  # click's mark of a block kept as written
            out.append("\n".join(initial_indent + line for line in lines[1:]))
            continue
        joined = ""
        for part in (line.strip() for line in lines):
            glue = "" if _WIDE.match(joined[-1:]) and _WIDE.match(part[:1]) else " "
            joined = f"{joined}{glue}{part}" if joined else part
        out.append(_fill(joined, width, initial_indent, subsequent_indent))
    return "\n\n".join(out)


class _Formatter(HelpFormatter):
    """click's help formatter, in the language in use: its words from the catalogue, and Chinese
    wrapped as Chinese (by terminal columns, between characters)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        prefix = _("Usage: ") if prefix is None else prefix
        if not _WIDE.search(prefix + args):
            super().write_usage(prog, args, prefix)
            return
        usage_prefix = f"{prefix:>{self.current_indent}}{prog} "
        self.write(wrap(args, self.width - self.current_indent, usage_prefix, " " * cells(usage_prefix)) + "\n")

    def write_heading(self, heading: str) -> None:
        colon = "：" if _WIDE.search(heading) else ":"
        self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        self.write(wrap(text, self.width, indent, indent, preserve_paragraphs=True) + "\n")

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not any(_WIDE.search(first + second) for first, second in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first_col = min(max((cells(first) for first, _second in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cells(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cells(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, max(self.width - first_col - 2, 10), preserve_paragraphs=True).splitlines()
            self.write(f"{lines[0] if lines else ''}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class _Context(Context):
    formatter_class = _Formatter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if (option := self.command.get_help_option(self)) is not None:
            option.help = _(HELP_OPTION)


HELP_OPTION = N_("Show this message and exit.")


def _commands(command: Any) -> Iterator[Any]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


def short_help(text: str) -> str:
    """The short help click would make of *text*, uncut: its first sentence."""
    return make_default_short_help(text, max_length=10**6)


def help_texts(command: Any) -> Iterator[str]:
    """Every help text of *command* and the commands under it, in English: the catalogue's."""
    for cmd in _commands(command):
        english = cmd.__dict__.get("_english") or (cmd.help, cmd.short_help, [p.help for p in cmd.params])
        help_text, short, params = english
        if help_text:
            yield help_text
            yield short or short_help(help_text)
        yield from (text for text in params if text)
    yield HELP_OPTION


def speak(command: Any) -> None:
    """Put the help of *command* and of every command under it in the language in use, each
    command's short help (in the list of commands) its first sentence whole: click would cut it
    at 45 characters with "...", and at a space, which Chinese has none of."""
    typer.core._ = _  # typer's own words: Options, required, default…
    for cmd in _commands(command):
        cmd.context_class = _Context
        if "_english" not in cmd.__dict__:
            cmd._english = (cmd.help, cmd.short_help, [p.help for p in cmd.params])
        help_text, short, params = cmd._english
        cmd.help = _(help_text) if help_text else help_text
        cmd.short_help = _(short or short_help(help_text)) if help_text else short
        for param, text in zip(cmd.params, params, strict=True):
            param.help = _(text) if text else text
            _name_the_value(param)


def _name_the_value(param: Any) -> None:
    """What a usage line calls a value, in words, not Python's (``<str>``, ``{project}``): an
    argument by its name in capitals (PROJECT), a text option's value as TEXT (文本)."""
    if "_metavar" not in param.__dict__:
        param._metavar = param.metavar
    if param._metavar is not None:
        return
    if param.param_type_name == "argument" and param.name:
        param.metavar = param.name.upper()
    elif getattr(param.type, "name", "") in ("str", "text") and not getattr(param, "is_flag", False):
        param.metavar = _("TEXT")


# click's messages (typer vendors click without gettext), as the catalogue knows them.
_PATTERNS = (
    (
        re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)", re.S),
        N_("Got unexpected extra arguments ({args})"),
    ),
    (re.compile(r"Option '(?P<name>.+)' requires an argument\."), N_("Option '{name}' requires an argument.")),
    (
        re.compile(r"Option '(?P<name>.+)' requires (?P<n>\d+) arguments\."),
        N_("Option '{name}' requires {n} arguments."),
    ),
    (re.compile(r"Option '(?P<name>.+)' does not take a value\."), N_("Option '{name}' does not take a value.")),
    (re.compile(r"'(?P<value>.*)' is not one of (?P<choices>.*)\.", re.S), N_("'{value}' is not one of {choices}.")),
    (re.compile(r"'(?P<value>.*)' is not a valid (?P<kind>\w[\w ]*)\.", re.S), N_("'{value}' is not a valid {kind}.")),
    (
        re.compile(r"(?P<value>.+) is not in the range (?P<range>.+)\.", re.S),
        N_("{value} is not in the range {range}."),
    ),
)


# the kinds of value click names in "'x' is not a valid …"
_KINDS = {
    "integer": N_("integer"),
    "int range": N_("whole number in range"),
    "float": N_("number"),
    "float range": N_("number in range"),
    "boolean": N_("yes or no"),
}


def _said(message: str) -> str:
    for pattern, msgid in _PATTERNS:
        if found := pattern.fullmatch(message):
            values = found.groupdict()
            if values.get("kind") in _KINDS:
                values["kind"] = _(_KINDS[values["kind"]])
            return _(msgid).format(**values)
    return message


def _message(exc: click_errors.ClickException) -> str:
    hint = ""
    param = getattr(exc, "param", None)
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click_errors.BadParameter):
        given = exc.param_hint if exc.param_hint is not None else (param.get_error_hint(ctx) if param else None)
        hint = click_errors._join_param_hints(given) or ""
    if isinstance(exc, click_errors.MissingParameter):
        kind = exc.param_type or (param.param_type_name if param else "parameter")
        said = {"argument": _("Missing argument {name}."), "option": _("Missing option {name}.")}.get(
            kind, _("Missing parameter {name}.")
        )
        return said.format(name=hint).replace("  ", " ").replace(" .", ".")
    if isinstance(exc, click_errors.NoSuchOption):
        text = _("No such option: {name}").format(name=click_errors._escape_control_characters(exc.option_name))
        if exc.possibilities:
            text += " " + _("(Possible options: {options})").format(options=", ".join(sorted(exc.possibilities)))
        return text
    if isinstance(exc, click_errors.BadParameter):
        if not hint:
            return _("Invalid value: {message}").format(message=_said(exc.message))
        return _("Invalid value for {name}: {message}").format(name=hint, message=_said(exc.message))
    if isinstance(exc, click_errors.FileError):
        return exc.format_message()
    return _said(exc.format_message())


def show_usage_error(exc: click_errors.ClickException) -> None:
    """Say a command-line error as click would (usage, where to find help, the error), in the
    language in use."""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click_errors.NoArgsIsHelpError):
        exc.show()
        return
    if ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = (
                _("Try '{command} {option}' for help.").format(
                    command=ctx.command_path, option=ctx.help_option_names[0]
                )
                + "\n"
            )
        echo(f"{ctx.get_usage()}\n{hint}", file=sys.stderr, color=ctx.color)
    echo(_("Error: {message}").format(message=_message(exc)), file=sys.stderr, color=ctx.color if ctx else None)

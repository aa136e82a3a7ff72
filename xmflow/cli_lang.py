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
from typer._click.formatting import HelpFormatter
from typer._click.utils import echo, make_default_short_help

from xmflow import i18n
from xmflow.i18n import _, N_

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
    from xmflow.workspace import Workspace

    try:
        return Workspace.find(Path(path) if path else Path.cwd()).config.locale
    except (XmflowError, OSError, ValueError):
        return i18n.of_system() or i18n.DEFAULT


class _Formatter(HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _("Usage: ") if prefix is None else prefix)


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
    """Put the help of *command* and of every command under it in the language in use."""
    typer.core._ = _  # typer's own words: Options, required, default…
    english_only = i18n.language() == "en"
    for cmd in _commands(command):
        cmd.context_class = _Context
        if "_english" not in cmd.__dict__:
            if english_only:
                continue
            cmd._english = (cmd.help, cmd.short_help, [p.help for p in cmd.params])
        help_text, short, params = cmd._english
        cmd.help = _(help_text) if help_text else help_text
        cmd.short_help = (_(short or short_help(help_text)) if help_text and not english_only else short)
        for param, text in zip(cmd.params, params, strict=True):
            param.help = _(text) if text else text


# click's messages (typer vendors click without gettext), as the catalogue knows them.
_PATTERNS = (
    (re.compile(r"Got unexpected extra arguments? \((?P<args>.*)\)", re.S), N_("Got unexpected extra arguments ({args})")),
    (re.compile(r"Option '(?P<name>.+)' requires an argument\."), N_("Option '{name}' requires an argument.")),
    (re.compile(r"Option '(?P<name>.+)' requires (?P<n>\d+) arguments\."), N_("Option '{name}' requires {n} arguments.")),
    (re.compile(r"Option '(?P<name>.+)' does not take a value\."), N_("Option '{name}' does not take a value.")),
    (re.compile(r"'(?P<value>.*)' is not one of (?P<choices>.*)\.", re.S), N_("'{value}' is not one of {choices}.")),
    (re.compile(r"'(?P<value>.*)' is not a valid (?P<kind>\w+)\.", re.S), N_("'{value}' is not a valid {kind}.")),
)


def _said(message: str) -> str:
    for pattern, msgid in _PATTERNS:
        if found := pattern.fullmatch(message):
            return _(msgid).format(**found.groupdict())
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
            kind, _("Missing parameter {name}."))
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
            hint = _("Try '{command} {option}' for help.").format(command=ctx.command_path,
                                                                   option=ctx.help_option_names[0]) + "\n"
        echo(f"{ctx.get_usage()}\n{hint}", file=sys.stderr, color=ctx.color)
    echo(_("Error: {message}").format(message=_message(exc)), file=sys.stderr, color=ctx.color if ctx else None)

"""The language xmflow speaks: gettext catalogues with English message ids, Chinese by default.

Every message a person reads is written in English inside ``_()`` and translated from the
catalogue ``xmflow/locale/zh/LC_MESSAGES/xmflow.po`` (compiled next to it as ``xmflow.mo``)::

    raise UsageError(_("no project {project}").format(project=project))

The text inside ``_()`` is a literal (never an f-string: the catalogue holds the text before its
values are put in); values go in by name with ``str.format`` after translating, so a translation
may put them in another order. Text made when a module is imported, before the command line is
read, is marked with ``N_()`` and translated with ``_()`` where it is shown.

The language of a command is chosen once, before its arguments are parsed (so that ``--help``
and the command line's own errors speak it too): ``--lang``, else ``XMFLOW_LANG``, else the
workspace's ``locale``, else the system's (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``
naming ``en`` or ``zh``), else Chinese.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "xmflow"
LANGUAGES = ("zh", "en")
DEFAULT = "zh"
LOCALE_DIR = Path(__file__).parent / "locale"

_catalogues: dict[str, gettext.NullTranslations] = {}
_language = "en"  # until a command chooses: library use and import time speak the message ids
_current: gettext.NullTranslations = gettext.NullTranslations()


def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of *language* (English: the message ids themselves)."""
    if language not in _catalogues:
        _catalogues[language] = gettext.translation(DOMAIN, LOCALE_DIR, [language], fallback=True)
    return _catalogues[language]


def use(language: str) -> None:
    """Speak *language* (``zh`` or ``en``) from now on."""
    global _language, _current
    _language = language if language in LANGUAGES else DEFAULT
    _current = catalogue(_language) if _language != "en" else gettext.NullTranslations()


def language() -> str:
    return _language


def _(message: str) -> str:
    """*message* (English) in the language in use."""
    return _current.gettext(message)


def N_(message: str) -> str:
    """Mark *message* for the catalogue where it is made; ``_()`` translates it where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """*message* as meant in *context*, for an English word with two Chinese ones."""
    return _current.pgettext(context, message)


def of_system(environ: os._Environ[str] | dict[str, str] | None = None) -> str | None:
    """The language the system's locale variables name, as gettext reads them, if zh or en."""
    environ = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        for name in value.split(":"):
            code = name.split(".")[0].split("_")[0].split("@")[0].lower()
            if code in LANGUAGES:
                return code
        if value and var != "LANGUAGE":
            return None  # the first variable set decides (C, POSIX, fr_FR: none of ours)
    return None


# The command line's own words (typer's help sections and errors), for the catalogue.
TYPER_WORDS = (
    N_("Options"),
    N_("Arguments"),
    N_("Commands"),
    N_("required"),
    N_("default: {default}"),
    N_("(dynamic)"),
    N_("env var: {var}"),
    N_("Aborted!"),
    N_("Missing command."),
    N_("No such command {name!r}."),
)

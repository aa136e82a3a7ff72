"""The one family of errors xmflow raises; the CLI turns them into messages and exit codes."""

from __future__ import annotations


class XmflowError(Exception):
    """Base error: a plain-language message and the exit code it maps to."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(XmflowError):
    """Bad usage or bad input on the command line (exit 2)."""


class RecordError(XmflowError):
    """A record or configuration file is malformed (exit 2); names file, line and field."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)


class ProcessError(RecordError):
    """The process definition is malformed (exit 2)."""


class RuleError(XmflowError):
    """The procedure refuses the action (exit 1); the message names the clause."""

    exit_code = 1


class StoreError(XmflowError):
    """git failed or the repository is not in a state xmflow can work in (exit 2)."""


class TemplateError(XmflowError):
    """A form's template is missing or broken, or its output cannot be made (exit 2)."""

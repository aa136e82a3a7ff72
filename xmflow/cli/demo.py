"""The demo workspace: the script in ``examples/demo.yaml`` replayed through the real commands,
each run by the person it names at the time it names, so the git history is a real audit trail."""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import typer

from xmflow import i18n, yamlio
from xmflow.changes.actions import init_workspace
from xmflow.cli.app import app
from xmflow.clock import fixed_time
from xmflow.errors import UsageError, XmflowError
from xmflow.git import journal, store
from xmflow.i18n import _
from xmflow.records.workspace import PEOPLE
from xmflow.values import parse_date

TZ = timezone(timedelta(hours=8))  # the company's time zone (China Standard Time)
SHOWCASE = "2026-001"


def _examples() -> resources.abc.Traversable:
    return resources.files("xmflow.examples")


@dataclass(frozen=True)
class Script:
    """The demo: its company, the day its status is shown for, its commands in time order."""

    company: str
    today: date
    lines: list[tuple[datetime, str, str]]  # (when, person id, command line)


def script() -> Script:
    """Read ``examples/demo.yaml``."""
    doc = yamlio.load(_examples().joinpath("demo.yaml").read_text(encoding="utf-8"), "examples/demo.yaml")
    lines = [
        (datetime.fromisoformat(when).replace(tzinfo=TZ), who, command) for when, who, command in doc.data["script"]
    ]
    lines.sort(key=lambda line: line[0])  # stable: the file's order within a minute
    return Script(doc.data["company"], parse_date(doc.data["today"]), lines)


def build(path: Path | None = None) -> Path:
    """Build the demo workspace at *path* (default: a new temporary folder); return its root."""
    root = (path or Path(tempfile.mkdtemp(prefix="xmflow-demo-"))).resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(_("{folder} is not an empty folder: give the demo a new one").format(folder=root))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(_("cannot make {folder}: {reason}").format(folder=root, reason=exc.strerror)) from None
    demo = script()
    people = yamlio.load(_examples().joinpath(PEOPLE).read_text(encoding="utf-8"), PEOPLE).data["people"]
    emails = {p["id"]: p["email"] for p in people}
    admin = people[0]
    start = demo.lines[0][0] - timedelta(days=1)
    init_workspace(root, demo.company, admin["name"], admin["email"], start)
    people_text = _examples().joinpath(PEOPLE).read_bytes()
    journal.commit(
        root,
        {PEOPLE: people_text},
        "people: the demo company's staff\n\nXmflow-Decision: record\n",
        store.Author(admin["name"], admin["email"]),
        start + timedelta(minutes=5),
    )
    command = typer.main.get_command(app)
    with resources.as_file(_examples()) as examples:
        for when, who, text in demo.lines:
            # in the language of the command that builds it: each command chooses its own otherwise
            args = ["--lang", i18n.language(), "-C", str(root), *shlex.split(text.replace("{examples}", str(examples)))]
            with (
                _acting(emails[who], when),
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()) as err,
            ):
                code = command.main(args, prog_name="xmflow", standalone_mode=False)
            if code:
                raise XmflowError(
                    _("demo step failed ({who} at {when}): xmflow {command}\n{errors}").format(
                        who=who, when=f"{when:%Y-%m-%d %H:%M}", command=text, errors=err.getvalue()
                    )
                )
    return root


@contextlib.contextmanager
def _acting(email: str, when: datetime) -> Iterator[None]:
    """Run as this person (their git author identity) at this time."""
    saved = {k: os.environ.get(k) for k in ("GIT_AUTHOR_EMAIL", "GIT_AUTHOR_NAME")}
    os.environ["GIT_AUTHOR_EMAIL"] = email
    os.environ.pop("GIT_AUTHOR_NAME", None)
    try:
        with fixed_time(when):
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

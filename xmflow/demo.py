"""The demo workspace: the script in ``examples/demo.yaml`` replayed through the real commands,
each run by the person it names at the time it names, so the git history is a real audit trail."""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from xmflow import store, yamlio
from xmflow.errors import UsageError, XmflowError
from xmflow.values import parse_date
from xmflow.workspace import PEOPLE

TZ = timezone(timedelta(hours=8))  # the company's time zone (China Standard Time)
SHOWCASE = "2026-001"


def _examples() -> resources.abc.Traversable:
    return resources.files("xmflow.examples")


def script() -> tuple[str, date, list[tuple[datetime, str, str]]]:
    """The demo's company, its "today" and its commands (time, person, command) in time order."""
    doc = yamlio.load(_examples().joinpath("demo.yaml").read_text(encoding="utf-8"), "examples/demo.yaml")
    lines = []
    for i, (when, who, command) in enumerate(doc.data["script"]):
        lines.append((datetime.fromisoformat(when).replace(tzinfo=TZ), who, command))
    lines.sort(key=lambda line: line[0])
    return doc.data["company"], parse_date(doc.data["today"]), lines


TODAY = date(2026, 11, 28)


def build(path: Path | None = None) -> Path:
    """Build the demo workspace at *path* (default: a new temporary folder); return its root."""
    from xmflow.cli import app  # noqa: PLC0415 - the demo drives the real command line
    import typer  # noqa: PLC0415

    root = (path or Path(tempfile.mkdtemp(prefix="xmflow-demo-"))).resolve()
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"{root} is not empty: give the demo a new folder")
    company, _, lines = script()
    people = yamlio.load(_examples().joinpath(PEOPLE).read_text(encoding="utf-8"), PEOPLE).data["people"]
    emails = {p["id"]: p["email"] for p in people}
    admin = people[0]
    start = lines[0][0] - timedelta(days=1)
    from xmflow.actions import init_workspace  # noqa: PLC0415

    init_workspace(root, company, admin["name"], admin["email"], start)
    people_text = _examples().joinpath(PEOPLE).read_bytes()
    store.commit_files(root, {PEOPLE: people_text}, "people: the demo company's staff\n\nXmflow-Decision: record\n",
                       store.Author(admin["name"], admin["email"]), start + timedelta(minutes=5))
    command = typer.main.get_command(app)
    scan_dir = Path(tempfile.mkdtemp(prefix="xmflow-demo-files-"))
    scan = scan_dir / "acceptance-scan.txt"
    scan.write_bytes(_examples().joinpath("acceptance-scan.txt").read_bytes())
    for when, who, text in lines:
        args = ["-C", str(root), *shlex.split(text.replace("{examples}", str(scan_dir)))]
        with _acting(emails[who], when), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()) as err:
            code = command.main(args, prog_name="xmflow", standalone_mode=False)
        if code:
            raise XmflowError(f"demo step failed ({who} at {when:%Y-%m-%d %H:%M}): xmflow {text}\n{err.getvalue()}")
    return root


@contextlib.contextmanager
def _acting(email: str, when: datetime) -> Iterator[None]:
    """Run as this person (git author identity) at this time (XMFLOW_NOW)."""
    saved = {k: os.environ.get(k) for k in ("GIT_AUTHOR_EMAIL", "GIT_AUTHOR_NAME", "XMFLOW_NOW")}
    os.environ["GIT_AUTHOR_EMAIL"] = email
    os.environ.pop("GIT_AUTHOR_NAME", None)
    os.environ["XMFLOW_NOW"] = when.isoformat()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

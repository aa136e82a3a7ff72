"""Acting in a workspace: who, when, and the one way a change is written and committed."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from xmflow import yamlio
from xmflow.clock import now
from xmflow.errors import RuleError, StoreError, UsageError
from xmflow.git import journal, store
from xmflow.git.lock import workspace_lock
from xmflow.i18n import _
from xmflow.model import Person, Project, Signoff, StageRecord
from xmflow.records import stages as records
from xmflow.records.acknowledgements import ACKNOWLEDGEMENTS
from xmflow.records.workspace import CONFIG, PEOPLE, Workspace
from xmflow.rules.project import ProjectView
from xmflow.values import check_text

_DIVIDER = re.compile(r"^---", re.M)  # git interpret-trailers stops at such a line
_HELD: list[contextlib.ExitStack] = []  # the workspace locks of the sessions started and not yet closed


def single_line(value: str | None, what: str) -> str | None:
    """A value that goes into a commit trailer or subject: one line, no control characters."""
    if value is None:
        return None
    try:
        return check_text(value).strip()
    except ValueError as exc:
        raise UsageError(f"{what}: {exc}") from None


@dataclass
class Session:
    """Who is acting, where, and when; holding the workspace lock from before the records are
    read until the change is committed and its files are in place."""

    ws: Workspace
    actor: Person
    at: datetime = field(default_factory=now)
    _held: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, init=False, repr=False, compare=False)

    @classmethod
    def start(cls, ws: Workspace, *, untrusted_settings_ok: bool = False) -> Session:
        """Begin a change: take the workspace lock (a second command waits for the first, then
        refuses), finish any change a killed command left half done, refuse settings that are not
        as an admin last committed them (only an admin's acknowledgement, *untrusted_settings_ok*,
        works on those: an admin of the trusted people.yaml), then see who is acting.

        The command line releases the lock when the command ends (`end_of_command`, registered by
        `cli_common.workspace_of` with the command's context: under typer's CliRunner and in the
        demo, many commands run in one process); a caller outside a command uses the session as a
        context manager or calls :meth:`close`.
        """
        gdir = store.git_dir(ws.root)
        if journal.in_own_commit(gdir):
            raise StoreError(_("xmflow cannot change the records from the hooks of its own commit in progress"))
        held = contextlib.ExitStack()
        held.enter_context(workspace_lock(gdir))
        try:
            journal.finish_interrupted(ws.root, gdir)
            session = cls(ws, ws.actor())
            _require_trusted(ws, session.actor, untrusted_settings_ok)
        except BaseException:
            held.close()
            raise
        session._held = held
        _HELD.append(held)
        return session

    def close(self) -> None:
        """Release the workspace lock (again is harmless)."""
        self._held.close()
        if self._held in _HELD:
            _HELD.remove(self._held)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def project_to_change(self, project_id: str) -> Project:
        """Load a project that is about to change. Refuses while its files, people.yaml,
        xmflow.yaml or the process file hold uncommitted edits: a change never builds on (or
        sweeps up) an edit made by hand, nor on roles nobody committed."""
        project = self.ws.project(project_id)
        self.require_clean(f"projects/{project_id}")
        return project

    def require_clean(self, *paths: str) -> None:
        """Refuse while *paths*, people.yaml, xmflow.yaml or the process file hold uncommitted
        edits, saying how to put each right (`store.refuse_hand_edits`)."""
        settings = [CONFIG, PEOPLE, ACKNOWLEDGEMENTS, *([self.ws.config.process] if self.ws.config.process else [])]
        store.refuse_hand_edits(self.ws.root, [*settings, *paths])

    def view(self, project: Project) -> ProjectView:
        return ProjectView(project, self.ws.process, self.ws.config)

    def commit(
        self,
        project_id: str,
        changed: dict[str, StageRecord],
        subject: str,
        trailers: dict[str, str | None],
        body: str | None = None,
        extra: dict[str, bytes] | None = None,
    ) -> str:
        """Write the changed stage records (and any extra files) and commit them as the person
        acting. Each record is read back before anything is written, so no change can leave a
        file that xmflow itself would refuse to read."""
        process = self.ws.process
        files: dict[str, bytes | None] = {}
        for stage_id, rec in changed.items():
            stage = process.stage(stage_id)
            text = records.dump_record(stage, rec)
            records.parse_record(stage, text, rec.path)
            files[rec.path] = encoded = text.encode("utf-8")
            if len(encoded) > yamlio.MAX_BYTES:  # xmflow would not read it back: refused before it is written
                raise UsageError(
                    _(
                        "{file} would be {size} bytes, more than the {most} xmflow reads of a stage file: "
                        "shorten what you give (a scan goes in with --evidence, not in a field)"
                    ).format(file=rec.path, size=f"{len(encoded):,}", most=f"{yamlio.MAX_BYTES:,}")
                )
        files.update(extra or {})
        msg = message(subject, {"Xmflow-Project": project_id, **trailers}, body)
        return journal.commit(self.ws.root, files, msg, store.Author(self.actor.name, self.actor.email), self.at)


def _require_trusted(ws: Workspace, actor: Person, admin_may: bool) -> None:
    """Commands act only on people, settings and process as an admin last committed them."""
    from xmflow.trust import audit  # the history of the settings is read only by changing commands

    if audit.untrusted_settings(ws.root) is None:  # kept from the last command while no setting changed
        return
    found = audit.settings_in_force(ws.root)
    if found.refusal is None:
        return
    admin = found.trusted and found.trusted.people.by_email(actor.email)
    if not (admin_may and admin and "admin" in admin.roles):
        raise RuleError(found.refusal)


def end_of_command() -> None:
    """Release the workspace lock of every session the command started (when it ends, however)."""
    while _HELD:
        _HELD.pop().close()


@dataclass(frozen=True)
class Result:
    """What a change did: the project, the commit, and anything the user should know."""

    project: str
    commit: str
    summary: str
    signoff: Signoff | None = None
    notes: tuple[str, ...] = ()
    notice: str | None = None  # the Message-ID of the notice the sign-off sends (Xmflow-Notice)


def message(subject: str, trailers: dict[str, str | None], body: str | None = None) -> str:
    """A commit message: one subject line, the note if any, then the Xmflow- trailers as the
    last paragraph, where `git interpret-trailers --parse` finds them."""
    for key, value in trailers.items():
        single_line(value, key)
    if body and _DIVIDER.search(body):
        raise UsageError(
            _("a note may not have a line starting with --- (git would read it as the end of the message)")
        )
    lines = [f"{key}: {value}" for key, value in trailers.items() if value]
    parts = [" ".join(subject.split())] + ([body.strip()] if body and body.strip() else []) + ["\n".join(lines)]
    return "\n\n".join(parts) + "\n"

"""The workspace: finding it, its settings (xmflow.yaml), its people and who is acting."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from xmflow import yamlio
from xmflow.errors import RecordError, RuleError, UsageError, XmflowError
from xmflow.git import store
from xmflow.i18n import _
from xmflow.model import Config, Delegation, People, Person, Project
from xmflow.procedure import parser
from xmflow.procedure.process import Process
from xmflow.procedure.schema import FieldError, FieldType, convert
from xmflow.records import stages as records
from xmflow.records.cache import KeptCache, RecordCache
from xmflow.records.settings import CONFIG_TYPE, PEOPLE_TYPE
from xmflow.values import quoted

CONFIG = "xmflow.yaml"
PEOPLE = "people.yaml"
PROJECTS = "projects"
MAX_ID = 64  # characters of a project's or a person's id: a folder name stays far below 255 bytes
_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID}}}")

_EMAIL = re.compile(r'[^@\s<>(),;:"\[\]\\]+@[^@\s<>(),;:"\[\]\\]+')
_MAX_BACKDATE = 99_999  # days: a date that far back is still a date


def find_root(start: Path) -> Path:
    """The nearest folder at or above *start* holding ``xmflow.yaml``, like git finds ``.git``."""
    try:
        start = start.resolve()
        for folder in (start, *start.parents):
            if (folder / CONFIG).is_file():
                return folder
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte: no folder of that name
        raise UsageError(
            _("cannot look for a workspace in {folder}: {reason}").format(
                folder=quoted(str(start)[:80]), reason=getattr(exc, "strerror", None) or exc
            )
        ) from None
    raise UsageError(
        _("no xmflow workspace here or above {folder} (no {config}): run `xmflow init` or pass -C PATH").format(
            folder=start, config=CONFIG
        )
    )


def _typed(doc: yamlio.Document, ftype: FieldType) -> dict[str, Any]:
    """A settings file's data converted by its type; an error names file, line and field."""
    try:
        return convert(ftype, doc.data) or {}
    except FieldError as exc:
        dotted = ".".join(str(p) for p in exc.path)
        raise RecordError(
            doc.where(exc.path),
            _("{field}: {problem}").format(field=dotted, problem=exc.message) if dotted else exc.message,
        ) from None


def parse_config(text: str, name: str = CONFIG) -> Config:
    """Read ``xmflow.yaml`` strictly: each setting of its type (CONFIG_TYPE)."""
    doc = yamlio.load(text, name)
    data = _typed(doc, CONFIG_TYPE)
    backdate = data.get("max_backdate_days")
    if backdate is not None and backdate > _MAX_BACKDATE:
        raise RecordError(
            doc.where(("max_backdate_days",)), _("max_backdate_days: at most {most} days").format(most=_MAX_BACKDATE)
        )
    process = data.get("process")
    if process is not None:
        _check_process_path(process, doc)
    given = {key: value for key, value in data.items() if value is not None}  # the others keep their defaults
    return Config(**{"company": "", **given})


def _check_process_path(path: str, doc: yamlio.Document) -> None:
    """`process:` names a file of the workspace: a relative path that stays inside it."""
    parts = PurePosixPath(path).parts
    if path.startswith(("/", "\\")) or PureWindowsPath(path).drive or "\\" in path:
        raise RecordError(
            doc.where(("process",)),
            _(
                "process: {path} must be a path relative to the workspace (e.g. process.yaml), with / between folders"
            ).format(path=quoted(path)),
        )
    if ".." in parts or ".git" in parts or not parts or path.endswith("/"):
        raise RecordError(
            doc.where(("process",)),
            _("process: {path} must name a file inside the workspace (no .., not in .git)").format(path=quoted(path)),
        )
    if "/".join(parts) != path:  # ./process.yaml, a//b: git names the file otherwise, and guards would miss it
        raise RecordError(
            doc.where(("process",)),
            _("process: write {right}, not {path} (the file's name as git gives it)").format(
                right=quoted("/".join(parts)), path=quoted(path)
            ),
        )


def parse_people(text: str, roles: set[str], name: str = PEOPLE) -> People:
    """Read ``people.yaml`` strictly (PEOPLE_TYPE): known keys, unique ids and emails, roles the
    process knows."""
    doc = yamlio.load(text, name)
    listed = doc.data.get("people") if isinstance(doc.data, dict) else None
    if doc.data is not None and not isinstance(doc.data, dict) or isinstance(listed, (str, dict)):
        raise RecordError(name, _("must have a `people:` list"))
    data = _typed(doc, PEOPLE_TYPE)
    persons: list[Person] = []
    for i, item in enumerate(data.get("people") or []):
        persons.append(_person(doc, i, item, roles, persons))
    return People(tuple(persons), _delegations(doc, data.get("delegations"), persons))


def _person(doc: yamlio.Document, i: int, item: dict[str, Any], roles: set[str], persons: list[Person]) -> Person:
    """One entry of ``people:``, already typed, checked against the process's roles and the others."""
    where = ("people", i)
    for key in ("id", "name", "email"):
        if not item.get(key):
            raise RecordError(doc.where(where), _("person {number} has no `{key}`").format(number=i + 1, key=key))
    if not _ID.fullmatch(item["id"]):
        raise RecordError(
            doc.where(where + ("id",)),
            _("id {id} may hold only letters, digits, - and _ (at most {most})").format(
                id=quoted(item["id"]), most=MAX_ID
            ),
        )
    if any(c.isspace() for c in item["email"]):
        raise RecordError(
            doc.where(where + ("email",)),
            _("email {email}: an email address has no spaces").format(email=quoted(item["email"])),
        )
    if not _EMAIL.fullmatch(item["email"]):  # one address: a mail's To: must not name another
        raise RecordError(
            doc.where(where + ("email",)),
            _("email {email}: one address, name@domain, without commas, quotes, brackets or <>").format(
                email=quoted(item["email"])
            ),
        )
    person_roles = item.get("roles") or []
    for j, role in enumerate(person_roles):
        if role not in roles:
            raise RecordError(
                doc.where(where + ("roles", j)),
                _("unknown role {role} (known: {known})").format(role=quoted(role), known=", ".join(sorted(roles))),
            )
    if any(p.id == item["id"] for p in persons) or any(p.email.lower() == item["email"].lower() for p in persons):
        raise RecordError(
            doc.where(where),
            _("id {id} or email {email} appears twice").format(id=quoted(item["id"]), email=quoted(item["email"])),
        )
    return Person(item["id"], item["name"], item["email"], frozenset(person_roles), item.get("signing_key"))


def _delegations(
    doc: yamlio.Document, spec: list[dict[str, Any]] | None, persons: list[Person]
) -> tuple[Delegation, ...]:
    """``delegations:`` (转交/代签): ``{from: ID, to: ID, roles: [...], until: DATE, since: DATE}``,
    typed by DELEGATION_TYPE; *to* may sign for *from* in those roles, which *from* must hold,
    until that day."""
    ids = {p.id: p for p in persons}
    found = []
    for i, item in enumerate(spec or []):
        where = ("delegations", i)
        for key in ("from", "to", "until"):
            if not item.get(key):
                raise RecordError(
                    doc.where(where), _("delegation {number} has no `{key}`").format(number=i + 1, key=key)
                )
        for key in ("from", "to"):
            if item[key] not in ids:
                raise RecordError(
                    doc.where(where + (key,)),
                    _("{person} is not a person in people.yaml").format(person=quoted(item[key])),
                )
        roles = item.get("roles") or []
        if not roles:
            raise RecordError(doc.where(where + ("roles",)), _("roles must be a list of the roles delegated"))
        missing = [r for r in roles if r not in ids[item["from"]].roles]
        if missing:
            raise RecordError(
                doc.where(where + ("roles",)),
                _("{person} does not hold {roles}: only a role one holds can be delegated").format(
                    person=item["from"], roles=", ".join(missing)
                ),
            )
        if item["from"] == item["to"]:
            raise RecordError(doc.where(where), _("a person does not delegate to themselves"))
        until, since = item["until"], item.get("since")
        if since and since > until:
            raise RecordError(
                doc.where(where),
                _("delegation {number}: since {since} is after until {until}").format(
                    number=i + 1, since=since, until=until
                ),
            )
        found.append(Delegation(item["from"], item["to"], frozenset(roles), until, since))
    return tuple(found)


@dataclass
class Workspace:
    """An open workspace. Reads its files lazily, once."""

    root: Path

    @classmethod
    def find(cls, start: Path) -> Workspace:
        return cls(find_root(start))

    def text_if_any(self, name: str) -> str | None:
        """A workspace file's text, or None when there is none; only a regular UTF-8 file is read
        (a FIFO, a device or a link is an error naming it, not a hang)."""
        content = yamlio.read_file(self.root / name, name)
        return yamlio.decode(content, name) if content is not None else None

    def _text(self, name: str) -> str:
        text = self.text_if_any(name)
        if text is None:
            raise RecordError(name, _("missing: this workspace is incomplete (xmflow init makes it)"))
        return text

    @cached_property
    def config(self) -> Config:
        return parse_config(self._text(CONFIG))

    @cached_property
    def process(self) -> Process:
        name = self.config.process
        return parser.load(self.root / name if name else None, name)

    @cached_property
    def people(self) -> People:
        roles = {rid for rid, role in self.process.roles.items() if role.is_global and not role.external}
        return parse_people(self._text(PEOPLE), roles)

    def identity_email(self) -> str | None:
        """Who is acting: GIT_AUTHOR_EMAIL if set, else git's user.email."""
        return os.environ.get("GIT_AUTHOR_EMAIL") or store.config_value(self.root, "user.email")

    def actor(self) -> Person:
        """The person acting, from git's author identity; refuses anyone not in people.yaml."""
        email = self.identity_email()
        person = self.people.by_email(email) if email else None
        if person is None:
            shown = email or _("(no git user.email set)")
            raise RuleError(
                _(
                    "{email} is not in {people}: you may read but not change anything. Ask an admin to add "
                    "you to {people}, or set your git identity: git config user.email YOUR@EMAIL"
                ).format(email=shown, people=PEOPLE)
            )
        return person

    def project_ids(self) -> list[str]:
        base = self.root / PROJECTS
        if base.is_symlink() or not base.is_dir():
            return []
        # A project is a folder of its own: a link to one elsewhere is no project (`check` names it).
        with os.scandir(base) as entries:  # the kind of each entry comes with the listing: no stat per project
            return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))

    def kept(self, name: str, *tagged: str) -> KeptCache[Any] | None:
        """A cache of what is derived from the records, in .git (None where .git is not a
        folder), tagged by the settings it depends on besides the records themselves."""
        git_dir = self.root / ".git"
        if not git_dir.is_dir():
            return None
        settings = [self.process.text, self.text_if_any(PEOPLE) or "", self.text_if_any(CONFIG) or ""]
        shared = {
            **{f"step:{s.id}": s for s in self.process.steps},
            **{f"person:{p.id}": p for p in self.people.persons},
        }
        return KeptCache(git_dir, name, *settings, *tagged, shared=shared)

    @cached_property
    def blobs(self) -> store.Vouched:
        """The git blob ids of the project files git vouches for (:func:`store.vouched_blobs`):
        the records the cache has under those ids are not read again. Empty outside git."""
        if not (self.root / ".git").is_dir():
            return store.Vouched()
        try:
            return store.vouched_blobs(self.root, PROJECTS)
        except XmflowError:
            return store.Vouched()

    def project_key(self, project_id: str) -> str:
        """The key of a project's records (:attr:`Project.key`), reading only the files git does
        not vouch for; a project that cannot be read has none ("")."""
        try:
            return records.project_key(self.root, self.process, project_id, self.blobs)
        except XmflowError:
            return ""

    @cached_property
    def record_cache(self) -> RecordCache | None:
        """The parsed-record cache in .git (None where .git is not a folder, as in a worktree)."""
        git_dir = self.root / ".git"
        return RecordCache(git_dir, self.process.text) if git_dir.is_dir() else None

    def project(self, project_id: str, cached: bool = False) -> Project:
        folder = self.root / PROJECTS / project_id
        if not _ID.fullmatch(project_id) or not folder.is_dir() or folder.is_symlink() or folder.parent.is_symlink():
            known = self.project_ids()
            shown = quoted(project_id if len(project_id) <= MAX_ID else project_id[:MAX_ID] + "…")
            if not known:
                raise UsageError(_("no project {project}").format(project=shown))
            raise UsageError(
                _("no project {project} (projects: {projects})").format(
                    project=shown, projects=", ".join(known[:8]) + (" …" if len(known) > 8 else "")
                )
            )
        if not cached:
            return records.load_project(self.root, self.process, project_id)
        return records.load_project(self.root, self.process, project_id, self.record_cache, self.blobs)


def valid_project_id(text: str) -> bool:
    """Letters, digits, - and _, at most MAX_ID of them: a folder name on every system."""
    return bool(_ID.fullmatch(text))


def next_project_id(existing: list[str], year: int) -> str:
    """``YYYY-NNN``: the year of creation and the next free number in that year."""
    numbers = [int(pid[5:]) for pid in existing if re.fullmatch(rf"{year}-\d+", pid)]
    return f"{year}-{max(numbers, default=0) + 1:03d}"

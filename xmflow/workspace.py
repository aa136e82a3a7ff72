"""The workspace: finding it, its settings (xmflow.yaml), its people and who is acting."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from xmflow import process as process_mod
from xmflow import records, store, yamlio
from xmflow.cache import RecordCache
from xmflow.errors import RecordError, RuleError, UsageError, XmflowError
from xmflow.model import Config, Delegation, People, Person, Project
from xmflow.process import Process
from xmflow.rules import ProjectView
from xmflow.values import parse_date, parse_money

CONFIG = "xmflow.yaml"
PEOPLE = "people.yaml"
PROJECTS = "projects"
_ID = re.compile(r"[A-Za-z0-9_-]+")
_CONFIG_KEYS = {"company", "currency", "key_threshold", "locale", "process", "require_signed_commits", "max_backdate_days"}


def find_root(start: Path) -> Path:
    """The nearest folder at or above *start* holding ``xmflow.yaml``, like git finds ``.git``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG).is_file():
            return folder
    raise UsageError(f"no xmflow workspace here or above {start} (no {CONFIG}): run `xmflow init` or pass -C PATH")


def parse_config(text: str, name: str = CONFIG) -> Config:
    """Read ``xmflow.yaml`` strictly."""
    doc = yamlio.load(text, name)
    data = doc.data or {}
    if not isinstance(data, dict):
        raise RecordError(name, "must be a mapping of settings")
    for key in data:
        if key not in _CONFIG_KEYS:
            raise RecordError(doc.where((key,)), f"unknown setting {key!r} (known: {', '.join(sorted(_CONFIG_KEYS))})")
    try:
        threshold = parse_money(data.get("key_threshold") or "1000000")
    except ValueError as exc:
        raise RecordError(doc.where(("key_threshold",)), f"key_threshold: {exc}") from None
    locale = data.get("locale") or "zh"
    if locale not in ("zh", "en"):
        raise RecordError(doc.where(("locale",)), "locale must be zh or en")
    signed = data.get("require_signed_commits") or "false"
    if signed not in ("true", "false"):
        raise RecordError(doc.where(("require_signed_commits",)), "require_signed_commits must be true or false")
    backdate = str(data.get("max_backdate_days") or "30")
    if not backdate.isascii() or not backdate.isdigit() or len(backdate) > 5:
        raise RecordError(doc.where(("max_backdate_days",)), "max_backdate_days must be a whole number of days")
    return Config(company=str(data.get("company") or ""), currency=str(data.get("currency") or "CNY"),
                  key_threshold=threshold, locale=locale, process=data.get("process") or None,
                  require_signed_commits=signed == "true", max_backdate_days=int(backdate))


def parse_people(text: str, roles: set[str], name: str = PEOPLE) -> People:
    """Read ``people.yaml`` strictly: known keys, unique ids and emails, roles the process knows."""
    doc = yamlio.load(text, name)
    data = doc.data or {}
    if not isinstance(data, dict) or not isinstance(data.get("people") or [], list):
        raise RecordError(name, "must have a `people:` list")
    for key in data:
        if key not in ("people", "delegations"):
            raise RecordError(doc.where((key,)), f"unknown section {key!r} (known: people, delegations)")
    persons: list[Person] = []
    for i, item in enumerate(data.get("people") or []):
        where = ("people", i)
        if not isinstance(item, dict):
            raise RecordError(doc.where(where), "each person is a mapping with id, name, email, roles")
        for key in item:
            if key not in ("id", "name", "email", "roles", "signing_key"):
                raise RecordError(doc.where(where + (key,)), f"unknown field {key!r}")
        for key in ("id", "name", "email"):
            if not item.get(key):
                raise RecordError(doc.where(where), f"person {i + 1} has no `{key}`")
        if not _ID.fullmatch(item["id"]):
            raise RecordError(doc.where(where + ("id",)), f"id {item['id']!r} may hold only letters, digits, - and _")
        person_roles = item.get("roles") or []
        if not isinstance(person_roles, list):
            raise RecordError(doc.where(where + ("roles",)), "roles must be a list")
        for role in person_roles:
            if role not in roles:
                raise RecordError(doc.where(where + ("roles",)), f"unknown role {role!r} (known: {', '.join(sorted(roles))})")
        if any(p.id == item["id"] for p in persons) or any(p.email.lower() == item["email"].lower() for p in persons):
            raise RecordError(doc.where(where), f"id {item['id']!r} or email {item['email']!r} appears twice")
        persons.append(Person(item["id"], item["name"], item["email"], frozenset(person_roles), item.get("signing_key")))
    return People(tuple(persons), _delegations(doc, data.get("delegations"), persons))


def _delegations(doc: yamlio.Document, spec: Any, persons: list[Person]) -> tuple[Delegation, ...]:
    """``delegations:`` (转交/代签): ``{from: ID, to: ID, roles: [...], until: DATE, since: DATE}``;
    *to* may sign for *from* in those roles, which *from* must hold, until that day."""
    if spec is None:
        return ()
    if not isinstance(spec, list):
        raise RecordError(doc.where(("delegations",)), "`delegations` must be a list")
    ids = {p.id: p for p in persons}
    found = []
    for i, item in enumerate(spec):
        where = ("delegations", i)
        if not isinstance(item, dict) or set(item) - {"from", "to", "roles", "until", "since"}:
            raise RecordError(doc.where(where), "a delegation is {from, to, roles, until, since}")
        for key in ("from", "to", "until"):
            if not item.get(key):
                raise RecordError(doc.where(where), f"delegation {i + 1} has no `{key}`")
        for key in ("from", "to"):
            if item[key] not in ids:
                raise RecordError(doc.where(where + (key,)), f"{item[key]!r} is not a person in people.yaml")
        roles = item.get("roles") or []
        if not isinstance(roles, list) or not roles:
            raise RecordError(doc.where(where + ("roles",)), "roles must be a list of the roles delegated")
        missing = [r for r in roles if r not in ids[item["from"]].roles]
        if missing:
            raise RecordError(doc.where(where + ("roles",)), f"{item['from']} does not hold {', '.join(missing)}: "
                                                             "only a role one holds can be delegated")
        if item["from"] == item["to"]:
            raise RecordError(doc.where(where), "a person does not delegate to themselves")
        try:
            until = parse_date(item["until"])
            since = parse_date(item["since"]) if item.get("since") else None
        except ValueError as exc:
            raise RecordError(doc.where(where), f"delegation {i + 1}: {exc}") from None
        if since and since > until:
            raise RecordError(doc.where(where), f"delegation {i + 1}: since {since} is after until {until}")
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
        """A workspace file's text, or None when there is none."""
        try:
            return (self.root / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise RecordError(name, f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None

    def _text(self, name: str) -> str:
        try:
            return (self.root / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RecordError(name, "missing: this workspace is incomplete (xmflow init makes it)") from None

    @cached_property
    def config(self) -> Config:
        return parse_config(self._text(CONFIG))

    @cached_property
    def process(self) -> Process:
        name = self.config.process
        return process_mod.load(self.root / name if name else None, name)

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
            shown = email or "(no git user.email set)"
            raise RuleError(f"{shown} is not in {PEOPLE}: you may read but not change anything. "
                            f"Ask an admin to add you to {PEOPLE}, or set your git identity: "
                            "git config user.email YOUR@EMAIL")
        return person

    def project_ids(self) -> list[str]:
        base = self.root / PROJECTS
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))

    @cached_property
    def record_cache(self) -> RecordCache | None:
        """The parsed-record cache in .git (None where .git is not a folder, as in a worktree)."""
        git_dir = self.root / ".git"
        return RecordCache(git_dir, self.process.text) if git_dir.is_dir() else None

    def views(self) -> tuple[list[ProjectView], list[str]]:
        """Every project seen through the process, and the errors of those whose records cannot
        be read: one broken file does not hide the rest. Read once per command, through the
        record cache (the portfolio and its receivables share them)."""
        return self._views

    @cached_property
    def _views(self) -> tuple[list[ProjectView], list[str]]:
        views, problems = [], []
        for pid in self.project_ids():
            try:
                views.append(ProjectView(self.project(pid, cached=True), self.process, self.config))
            except XmflowError as exc:
                problems.append(exc.message)
        if self.record_cache is not None:
            self.record_cache.save()
        return views, problems

    def project(self, project_id: str, cached: bool = False) -> Project:
        if not _ID.fullmatch(project_id) or not (self.root / PROJECTS / project_id).is_dir():
            known = self.project_ids()
            hint = f" (projects: {', '.join(known[:8])}{' …' if len(known) > 8 else ''})" if known else ""
            raise UsageError(f"no project {project_id!r}{hint}")
        return records.load_project(self.root, self.process, project_id, self.record_cache if cached else None)


def valid_project_id(text: str) -> bool:
    return bool(_ID.fullmatch(text))


def next_project_id(existing: list[str], year: int) -> str:
    """``YYYY-NNN``: the year of creation and the next free number in that year."""
    numbers = [int(pid[5:]) for pid in existing if re.fullmatch(rf"{year}-\d+", pid)]
    return f"{year}-{max(numbers, default=0) + 1:03d}"

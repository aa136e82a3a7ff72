"""The records xmflow works on, as frozen values. This module imports nothing from the package but
the language it speaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from xmflow.i18n import _


class Decision(StrEnum):
    """What a sign-off says."""

    APPROVE = "approve"
    REJECT = "reject"
    RECORD = "record"
    REOPEN = "reopen"


class StepState(StrEnum):
    """Where a step stands."""

    SIGNED = "signed"
    WAITING = "waiting"  # everything it needs is there: waiting for its signer
    BLOCKED = "blocked"  # something it needs is missing
    SKIPPED = "skipped"  # its condition does not hold for this project
    DECLINED = "declined"  # its signer answered no, and that is an answer (3.1.2 C: the VP declines)
    STOPPED = "stopped"  # the project was withdrawn (终止) before it was signed


@dataclass(frozen=True)
class Person:
    """Someone in ``people.yaml``."""

    id: str
    name: str
    email: str
    roles: frozenset[str]
    signing_key: str | None = None

    def label(self) -> str:
        """How a message names the person: 张三 (zhangsan), in Chinese 张三（zhangsan）."""
        return _("{name} ({id})").format(name=self.name, id=self.id)


@dataclass(frozen=True)
class Delegation:
    """转交/代签: *to* signs for *by* in these roles, from *since* (if given) until *until*."""

    by: str
    to: str
    roles: frozenset[str]
    until: date
    since: date | None = None

    def covers(self, role: str, day: date) -> bool:
        return role in self.roles and day <= self.until and (self.since is None or self.since <= day)


@dataclass(frozen=True)
class People:
    """Everyone in ``people.yaml``, by id and by email, and who signs for whom."""

    persons: tuple[Person, ...]
    delegations: tuple[Delegation, ...] = ()

    def grant(self, to: str, by: str, role: str, day: date) -> Delegation | None:
        """The delegation that lets *to* sign for *by* in *role* on *day*, if there is one."""
        return next((d for d in self.delegations if d.to == to and d.by == by and d.covers(role, day)), None)

    def by_id(self, person_id: str) -> Person | None:
        return next((p for p in self.persons if p.id == person_id), None)

    def by_email(self, email: str) -> Person | None:
        email = email.strip().lower()
        return next((p for p in self.persons if p.email.lower() == email), None)


@dataclass(frozen=True)
class Config:
    """``xmflow.yaml``: the workspace's settings."""

    company: str
    currency: str = "CNY"
    key_threshold: Decimal = Decimal("1000000.00")
    locale: str = "zh"
    process: str | None = None
    require_signed_commits: bool = False
    max_backdate_days: int = 30  # the server refuses commits dated further back (or in the future)
    notify: dict[str, Any] | None = None  # notices' channels (xmflow.notify.mail.NOTIFY_TYPE)

    def setting(self, name: str) -> Any:
        return getattr(self, name, None)


@dataclass(frozen=True)
class Evidence:
    """A scan of a paper signature, copied into the project and hashed."""

    file: str
    sha256: str


@dataclass(frozen=True)
class Signoff:
    """One sign-off as kept in a stage file (and in the commit's trailers)."""

    step: str
    decision: Decision
    by: str
    role: str
    at: datetime
    digest: str
    comment: str | None = None
    signatory: str | None = None
    evidence: Evidence | None = None
    signed_on: date | None = None
    on_behalf_of: str | None = None  # 代签: signed by `by` for this person, under a delegation


@dataclass(frozen=True)
class StageRecord:
    """One stage file of a project: its typed fields and its sign-offs."""

    stage: str
    path: str
    data: dict[str, Any] = field(default_factory=dict)
    signoffs: tuple[Signoff, ...] = ()
    exists: bool = False


@dataclass(frozen=True)
class Project:
    """A project: its id and one record per stage of the process (empty when not started)."""

    id: str
    records: dict[str, StageRecord]
    key: str = ""  # what its stage files hold, as one digest (read through a cache; "" otherwise)

    def record(self, stage: str) -> StageRecord:
        return self.records[stage]


@dataclass(frozen=True)
class Problem:
    """Something wrong or missing, as a value: where, which field, which clause, what."""

    where: str
    message: str
    clause: str = ""
    field: str = ""

    def __str__(self) -> str:
        said = (
            _("{message} (clause {clause})").format(message=self.message, clause=self.clause)
            if self.clause
            else self.message
        )
        return f"{self.where}: {said}" if self.where else said

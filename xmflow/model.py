"""The records xmflow works on, as frozen values. This module imports nothing from the package."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Decision(StrEnum):
    """What a sign-off says."""

    APPROVE = "approve"
    REJECT = "reject"
    RECORD = "record"
    REOPEN = "reopen"


class StepState(StrEnum):
    """Where a step stands."""

    SIGNED = "signed"
    WAITING = "waiting"    # everything it needs is there: waiting for its signer
    BLOCKED = "blocked"    # something it needs is missing
    SKIPPED = "skipped"    # its condition does not hold for this project


@dataclass(frozen=True)
class Person:
    """Someone in ``people.yaml``."""

    id: str
    name: str
    email: str
    roles: frozenset[str]
    signing_key: str | None = None

    def label(self) -> str:
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class People:
    """Everyone in ``people.yaml``, by id and by email."""

    persons: tuple[Person, ...]

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
        clause = f" (clause {self.clause})" if self.clause else ""
        return f"{self.where}: {self.message}{clause}" if self.where else f"{self.message}{clause}"

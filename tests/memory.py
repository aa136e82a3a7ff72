"""Projects built in memory, for the tests of the rules and the money: no git, no files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from xmflow.model import Config, Decision, Project, Signoff, StageRecord, StepState
from xmflow.procedure import parser
from xmflow.records import stages as records
from xmflow.rules.project import ProjectView
from xmflow.values import parse_money

PROCESS = parser.load(None)
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


class Build:
    """A project built in memory: fields set and steps signed on the data as it then is."""

    def __init__(self, budget: str = "35万", config: Config | None = None, **initiation: Any) -> None:
        self.config = config or Config("测试公司")
        self.project = Project(
            "2026-001", {s.id: StageRecord(s.id, f"projects/2026-001/{s.file}") for s in PROCESS.stages}
        )
        self.clock = T0
        fields = {
            "name": "项目",
            "client": {"name": "甲方", "contact": "刘经理"},
            "phase": "跟踪",
            "budget": parse_money(budget),
            "sales": "zhangsan",
            **initiation,
        }
        self.set("initiation", **fields)

    def set(self, stage: str, **fields: Any) -> Build:
        record = self.project.record(stage)
        self.project.records[stage] = replace(record, data={**record.data, **fields}, exists=True)
        return self

    def sign(
        self,
        step_id: str,
        by: str = "zhangsan",
        role: str = "sales",
        decision: Decision = Decision.APPROVE,
        comment: str | None = None,
        signed_on: date | None = None,
    ) -> Build:
        self.clock += timedelta(hours=1)
        step = PROCESS.step(step_id)
        digest = self.view().current_digest(step)
        signoff = Signoff(step_id, decision, by, role, self.clock, digest, comment, signed_on=signed_on)
        self.project.records[step.stage] = records.with_signoff(self.project.record(step.stage), signoff)
        return self

    def view(self) -> ProjectView:
        return ProjectView(self.project, PROCESS, self.config)

    def state(self, step_id: str) -> StepState:
        return self.view().status(PROCESS.step(step_id)).state


def contract_ready(build: Build, who: str = "zhangsan") -> Build:
    build.set(
        "contract",
        number="HT-1",
        template="company",
        amount=parse_money("30万"),
        payment_terms=[{"name": "全款", "percent": Decimal(100), "due": "acceptance", "days": 30}],
        warranty_months=12,
        delivery_date=T0.date(),
        core_principles={k: True for k in ("pricing", "payment", "delivery", "warranty", "liability")},
    )
    return build.sign("initiation.submit", by=who).sign("contract.draft", by=who).sign("contract.self_review", by=who)

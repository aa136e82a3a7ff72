"""Where projects stand: the portfolio and one project, as data (console.py draws it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from xmflow import i18n
from xmflow.i18n import _
from xmflow.labels import title_of
from xmflow.model import Decision, Person, Problem, Project, Signoff, StepState
from xmflow.money.figures import ZERO, Figures, figure, figures
from xmflow.money.receivables import Entry, Installment, entries, schedule, until
from xmflow.procedure.conditions import Derived
from xmflow.procedure.process import RECEIPTS, Stage, Step
from xmflow.procedure.schema import plain
from xmflow.records.workspace import Workspace
from xmflow.rules.project import ProjectView, StepStatus, holds_role, makers, people_for

WARRANTY_SOON = timedelta(days=60)  # `status --warranty`: warranties ending within this of --as-of


@dataclass(frozen=True)
class NextStep:
    """A step that can be worked on now, the roles it waits for and who holds them."""

    step: Step
    state: StepState  # waiting or blocked
    missing: tuple[Problem, ...]  # what it still needs besides its signatures
    roles: tuple[str, ...]
    people: tuple[Person, ...]
    waiting_days: int = 0  # since it could first be signed: what it follows was done, or a reject sent it back

    @property
    def late(self) -> bool:
        """Ready to be signed (everything it needs is there) and waiting longer than the process
        allows it (its `due_days`): the escalation. A step still missing something (a settlement
        waiting for the client's money) is not late for its signer."""
        return (
            self.state is StepState.WAITING
            and self.step.due_days is not None
            and self.waiting_days > self.step.due_days
        )


@dataclass(frozen=True)
class Summary:
    """One line of the portfolio."""

    id: str
    name: str
    client: str
    sales: str
    sales_name: str
    key: bool
    stage: str
    closed: bool
    next: tuple[NextStep, ...]
    waiting_days: int
    last: Signoff | None
    overdue: tuple[dict[str, Any], ...]
    amount: Decimal | None
    received: Decimal
    warranty_end: date | None = None
    withdrawn: Signoff | None = None  # the sign-off that withdrew it (终止): closed, and nothing waits

    @property
    def late(self) -> tuple[NextStep, ...]:
        """The next steps waiting longer than the process allows them (their `due_days`)."""
        return tuple(n for n in self.next if n.late)


@dataclass(frozen=True)
class Report:
    """One project in full: its summary and every step's status, stage by stage."""

    summary: Summary
    steps: tuple[StepStatus, ...]
    schedule: tuple[Installment, ...] = ()
    notes: tuple[str, ...] = ()  # what happened that the steps alone do not say (a decline, a withdrawal)


@dataclass(frozen=True)
class Standing:
    """A project's summary before the day is applied: all its records say, whatever the day.
    :meth:`on` gives the summary of one day (how long each step has waited, the milestones
    overdue, what was received by then) with arithmetic alone, so the portfolio keeps these."""

    summary: Summary  # its figures of the day left at nought
    since: date | None  # the day it last moved (its last sign-off, else opened)
    ready: tuple[date | None, ...]  # the day each next step could first be signed
    milestones: tuple[dict[str, Any], ...]  # those not done that have a due date
    receipts: tuple[Entry, ...]

    def on(self, as_of: date) -> Summary:
        s = self.summary  # made field by field: dataclasses.replace costs more than the day's arithmetic
        nexts = tuple(
            NextStep(n.step, n.state, n.missing, n.roles, n.people, _days(ready, as_of))
            for n, ready in zip(s.next, self.ready, strict=True)
        )
        return Summary(
            s.id,
            s.name,
            s.client,
            s.sales,
            s.sales_name,
            s.key,
            s.stage,
            s.closed,
            nexts,
            0 if s.closed else _days(self.since, as_of),
            s.last,
            () if s.closed else tuple(m for m in self.milestones if m["due"] < as_of),
            s.amount,
            until(self.receipts, as_of),
            s.warranty_end,
            s.withdrawn,
        )


def _days(since: date | None, as_of: date) -> int:
    """Whole days from *since* to *as_of*; none before it, or with no day to count from."""
    return max((as_of - since).days, 0) if since else 0


def by_warranty_end(rows: list[Summary]) -> list[Summary]:
    """`status --warranty`: the warranty that ends first, first (one without an end, last)."""
    return sorted(rows, key=lambda s: (s.warranty_end is None, s.warranty_end or date.max))


def warranty_days_left(s: Summary, as_of: date) -> int | None:
    """Days from *as_of* to the end of the project's warranty (0 on its last day, less once it has ended)."""
    return (s.warranty_end - as_of).days if s.warranty_end else None


def summary(ws: Workspace, view: ProjectView, statuses: list[StepStatus], as_of: date) -> Summary:
    """One project's line of the portfolio on *as_of*."""
    return standing(ws, view, statuses).on(as_of)


def standing(ws: Workspace, view: ProjectView, statuses: list[StepStatus]) -> Standing:
    """One project's :class:`Standing`."""
    waiting = [
        st
        for st in statuses
        if st.state in (StepState.WAITING, StepState.BLOCKED) and not view.missing_prerequisites(st.step)
    ]
    nexts = tuple(_next_step(ws, view, st) for st in waiting)
    pending = [st for st in statuses if st.state in (StepState.WAITING, StepState.BLOCKED)]
    stage = (nexts[0].step.stage if nexts else pending[0].step.stage) if pending else "closed"
    if view.withdrawn is not None:
        stage = next(s.id for s in view.process.stages if s.halts)
    last = view.last_signoff()
    sales = figure(view, "salesperson") or ""
    person = ws.people.by_id(sales)
    closed = not pending  # nothing waits on a closed project, and none of its milestones is late
    line = Summary(
        view.project.id,
        figure(view, "name") or "",
        figure(view, "client") or "",
        sales,
        person.name if person else sales,
        view.key,
        stage,
        closed,
        nexts,
        0,
        last,
        (),
        figure(view, "contract_amount"),
        ZERO,
        figures(view).warranty_end,
        view.withdrawn,
    )
    milestones = tuple(m for m in figure(view, "milestones") or [] if m.get("due") and not m.get("done"))
    return Standing(
        line,
        last.at.date() if last else figure(view, "opened"),
        tuple(_ready_since(view, st) for st in waiting),
        milestones,
        entries(view, RECEIPTS),
    )


def _next_step(ws: Workspace, view: ProjectView, st: StepStatus) -> NextStep:
    """Who may act on a step: holders of its waiting roles, less anyone barred from reviewing
    their own work (how long it has waited is the day's: :meth:`Standing.on`)."""
    barred = makers(view, view.process.stage(st.step.stage)) if st.step.review else set()
    people = {p.id: p for r in st.waiting_roles for p in people_for(r, view, ws.people) if p.id not in barred}
    return NextStep(st.step, st.state, st.missing, st.waiting_roles, tuple(people.values()))


def _ready_since(view: ProjectView, st: StepStatus) -> date | None:
    """When a step could first be signed: the latest signature of what it follows, or the reject
    that sent the work back to it; for a first step, the day the project was opened."""
    days = [
        s.at.date()
        for pre in st.step.after
        if view.applies(view.process.step(pre.step))
        for s in view.valid_signatures(view.process.step(pre.step)).values()
    ]
    for s in view.project.record(st.step.stage).signoffs:
        back = view.process.step(s.step).on_reject if view.process.has_step(s.step) else None
        if s.decision is Decision.REJECT and back is not None and back.to == st.step.id:
            days.append(s.at.date())
    return max(days) if days else figure(view, "opened")


def report(ws: Workspace, project: Project, as_of: date) -> Report:
    """Every step of one project, and its summary."""
    view = ProjectView(project, ws.process, ws.config)
    statuses = view.statuses()
    return Report(
        summary(ws, view, statuses, as_of), tuple(statuses), tuple(schedule(view)), tuple(happened(ws, view, statuses))
    )


def happened(ws: Workspace, view: ProjectView, statuses: list[StepStatus]) -> list[str]:
    """In words, what the steps' states alone do not say: a withdrawal (终止), a decline and what it
    means (3.1.2 C), a signature held up by a step that now comes first (a special project that
    became key after its contract was drafted)."""
    said = []
    if (stopped := view.withdrawn) is not None:
        halting = next(s for s in view.process.stages if s.halts)
        said.append(
            _(
                "withdrawn (终止) on {day}, approved by {who}: {reason}. It takes no more sign-offs; to go "
                "on with it: xmflow set {project} {stage}.reason= --reopen -m WHY"
            ).format(
                day=stopped.at.date(),
                who=_person(ws, stopped.by),
                reason=str(view.value(f"{halting.id}.reason") or ""),
                project=view.project.id,
                stage=halting.id,
            )
        )
    held = {st.step.id for st in statuses if st.state in (StepState.WAITING, StepState.BLOCKED) and st.signed}
    for st in statuses:
        if st.state is StepState.DECLINED and st.rejected is not None:
            reject = st.step.on_reject
            means = (
                (reject.means_en or reject.means)
                if reject and i18n.language() == "en"
                else (reject.means if reject else "")
            )
            if view.key:  # key all the same (its budget, an industry need): the decline changes nothing of that
                means = _("The project is a key project all the same (clause 3.1.2 A or B).")
            said.append(
                _("{step} ({title}) declined by {who} on {day}: {comment}. {means}").format(
                    step=st.step.id,
                    title=title_of(st.step),
                    who=_person(ws, st.rejected.by),
                    day=st.rejected.at.date(),
                    comment=st.rejected.comment or "—",
                    means=means,
                )
            )
        first = [pre.step for pre in st.step.after if pre.when.holds(view) and not view.satisfied(pre.step)]
        if st.step.id in held and first and not set(first) <= held:  # the first signature held up, not each after it
            became_key = view.key and any(_needs_key(view, pre) for pre in first)
            said.append(
                (
                    _(
                        "{step} was signed on {day}, but the project has since become a key project (clause "
                        "3.1.2) and {first} now come first: the signature counts again once they are signed"
                    )
                    if became_key
                    else _(
                        "{step} was signed on {day}, but {first} now come first: the signature counts again "
                        "once they are signed"
                    )
                ).format(step=st.step.id, day=max(s.at for s in st.signed).date(), first=", ".join(first))
            )
    return said


def _needs_key(view: ProjectView, step_id: str) -> bool:
    """Does *step_id* (or anything it follows) apply only to key projects?"""
    step = view.process.step(step_id)
    conditions = (view.process.stage(step.stage).when, step.when)
    if any(isinstance(c, Derived) and c.name == "key" for c in conditions):
        return True
    return any(_needs_key(view, pre.step) for pre in step.after if not view.satisfied(pre.step))


def _person(ws: Workspace, person_id: str) -> str:
    person = ws.people.by_id(person_id)
    return person.name if person else person_id


def waits_on(person: Person, summary: Summary, view: ProjectView) -> bool:
    """Does a next step wait on this person? A client's signature waits on the project's own
    salesperson (the first of its recorders) and on whoever signs the step's other part (customer
    service records the registration form it signs), not on everyone who may record it."""
    for n in summary.next:
        for role_id in n.roles:
            role = view.process.roles[role_id]
            acting = [*role.recorded_by[:1], *(r for r in n.step.roles if r != role_id)] if role.external else [role_id]
            if person in n.people and any(holds_role(person, r, view) for r in acting):
                return True
    return False


# -- JSON -------------------------------------------------------------------------------------
def signoff_json(s: Signoff) -> dict[str, Any]:
    return {
        "step": s.step,
        "decision": s.decision.value,
        "by": s.by,
        "role": s.role,
        "at": s.at.isoformat(timespec="seconds"),
        "comment": s.comment,
        "signatory": s.signatory,
        "digest": s.digest,
        "evidence": s.evidence.file if s.evidence else None,
        "signed_on": s.signed_on.isoformat() if s.signed_on else None,
        "on_behalf_of": s.on_behalf_of,
    }


def summary_json(s: Summary) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "client": s.client,
        "sales": s.sales,
        "sales_name": s.sales_name,
        "key": s.key,
        "stage": s.stage,
        "closed": s.closed,
        "withdrawn": s.withdrawn is not None,
        "waiting_days": s.waiting_days,
        "last_signoff": signoff_json(s.last) if s.last else None,
        "next": [
            {
                "step": n.step.id,
                "title": n.step.title,
                "clause": n.step.clause,
                "roles": list(n.roles),
                "people": [p.id for p in n.people],
                "missing": [str(m) for m in n.missing],
            }
            for n in s.next
        ],
        "overdue_milestones": plain(list(s.overdue)),
        "late": [{"step": n.step.id, "due_days": n.step.due_days, "waiting_days": n.waiting_days} for n in s.late],
        "warranty_end": plain(s.warranty_end),
        "amount": plain(s.amount),
        "received": plain(s.received),
    }


def step_json(st: StepStatus) -> dict[str, Any]:
    return {
        "step": st.step.id,
        "title": st.step.title,
        "clause": st.step.clause,
        "state": st.state.value,
        "roles": list(st.step.roles),
        "waiting_roles": list(st.waiting_roles) if st.state != StepState.SIGNED else [],
        "signed": [signoff_json(s) for s in st.signed],
        "missing": [str(m) for m in st.missing],
        "stale": [signoff_json(s) for s in st.stale],
        "changed_since": [signoff_json(s) for s in st.changed_since],
        "rejected": signoff_json(st.rejected) if st.rejected else None,
        "why": list(st.why),
    }


def report_json(r: Report) -> dict[str, Any]:
    return {
        **summary_json(r.summary),
        "steps": [step_json(st) for st in r.steps],
        "payment_schedule": [i.as_json() for i in r.schedule],
        "notes": list(r.notes),
    }


def show_json(view: ProjectView, derived: Figures, stages: list[Stage]) -> dict[str, Any]:
    """`show --json`: the records as stored, their sign-offs, and the derived figures; "key" on top."""
    wanted = {stage.id for stage in stages}
    body = {
        rec.stage: {"data": plain(rec.data), "signoffs": [signoff_json(s) for s in rec.signoffs]}
        for rec in view.project.records.values()
        if rec.exists and rec.stage in wanted
    }
    return {
        "id": view.project.id,
        "key": view.key,
        "derived": plain(derived.as_dict()),
        "payment_schedule": [i.as_json() for i in schedule(view)],
        "stages": body,
    }

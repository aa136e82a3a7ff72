"""The procedure's rules, as generic functions over the process and a project's records.

Nothing here knows a particular step: where a step stands, what it is missing, who may sign
it and what a reject undoes all follow from the process definition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from xmflow import i18n
from xmflow.i18n import _, pgettext
from xmflow.labels import title_of, yes_no
from xmflow.model import Config, Decision, People, Person, Problem, Project, Signoff, StepState
from xmflow.procedure.conditions import Condition, FieldTrue, resolve_ref
from xmflow.procedure.process import Process, Requirement, Stage, Step
from xmflow.procedure.schema import FieldError, convert, is_filled, plain
from xmflow.records import stages as records


@dataclass
class Replay:
    """A stage's sign-offs replayed in order: which still count, which stand through a loop
    (3.5.3), and the reject that sent a step back."""

    counting: dict[str, dict[str, Signoff]] = field(default_factory=dict)
    standing: set[Signoff] = field(default_factory=set)
    rejected: dict[str, Signoff] = field(default_factory=dict)
    looping: set[str] = field(default_factory=set)  # steps a loop waits to have signed again


@dataclass(frozen=True)
class StepStatus:
    """Where one step of one project stands, and what it still needs."""

    step: Step
    state: StepState
    signed: tuple[Signoff, ...] = ()  # the signatures that count
    waiting_roles: tuple[str, ...] = ()  # roles still to sign
    missing: tuple[Problem, ...] = ()  # prerequisites and fields not there yet
    stale: tuple[Signoff, ...] = ()  # signatures undone by a later change
    changed_since: tuple[Signoff, ...] = ()  # signatures that stand through a loop (3.5.3)
    rejected: Signoff | None = None  # the reject that sent it back, if any (or declined it)
    why: tuple[str, ...] = ()  # skipped: why it does not apply, and how it would


# -- words of the messages ----------------------------------------------------------------------
def role_name(process: Process, role_id: str) -> str:
    """A role as a person reads it in a message: in English its id (an English word already:
    ``sales_supervisor``), in Chinese its title with the id one types (``部门主管（sales_supervisor）``)."""
    role = process.roles.get(role_id)
    if role is None or i18n.language() == "en":
        return role_id
    return _("{title} ({role})").format(title=title_of(role), role=role_id)


def listing(items: Iterable[str]) -> str:
    """``a, b, c`` (in Chinese ``a、b、c``)."""
    return pgettext("a list of names", ", ").join(items)


def either(items: Iterable[str]) -> str:
    """``a or b``."""
    return pgettext("a list of alternatives", " or ").join(items)


def both(items: Iterable[str]) -> str:
    """``a and b``."""
    return pgettext("a list of conditions", " and ").join(items)


def _shown(value: Any) -> str:
    """A value a requirement expects or finds, as a person reads it: yes/no, never True or False."""
    return yes_no(value) if isinstance(value, bool) or value is None else str(plain(value))


class ProjectView:
    """A project seen through the process: facts for conditions, and the state of every step."""

    def __init__(self, project: Project, process: Process, config: Config) -> None:
        self.project = project
        self.process = process
        self.config = config
        self._replays: dict[str, Replay] = {}
        self._derived: dict[str, bool] = {}
        self._digests: dict[str, str] = {}
        self._satisfied: dict[str, bool] = {}

    # -- facts asked by conditions ---------------------------------------------------------
    def value(self, path: str) -> Any:
        stage_id, __, rest = path.partition(".")
        record = self.project.records.get(stage_id)
        return records.get_path(record.data, rest.split(".")) if record and rest else None

    def setting(self, name: str) -> Any:
        return self.config.setting(name)

    def derived(self, name: str) -> bool:
        if name not in self._derived:
            self._derived[name] = False  # guards against a definition that refers to itself
            self._derived[name] = self.process.derived[name].holds(self)
        return self._derived[name]

    def is_signed(self, step_id: str) -> bool:
        step = self.process.step(step_id)
        valid = self.valid_signatures(step)
        return bool(valid) and (not step.needs_all_roles or all(r in valid for r in step.roles))

    # -- sign-offs ---------------------------------------------------------------------------
    def replay(self, stage: Stage) -> Replay:
        if stage.id not in self._replays:
            self._replays[stage.id] = replay(stage, self.project.record(stage.id).signoffs, self.process)
        return self._replays[stage.id]

    def current_digest(self, step: Step) -> str:
        """The digest a signature of *step* would carry now (the view's records never change)."""
        if step.id not in self._digests:
            stage = self.process.stage(step.stage)
            data = self.project.record(stage.id).data
            self._digests[step.id] = records.digest(stage, data, self.process.signed_fields(step.id))
        return self._digests[step.id]

    def valid_signatures(self, step: Step) -> dict[str, Signoff]:
        """The signatures of a step that count: made on the data as it is now, or standing."""
        replayed = self.replay(self.process.stage(step.stage))
        counting = replayed.counting.get(step.id, {})
        if not counting:
            return {}
        digest = self.current_digest(step)
        return {role: s for role, s in counting.items() if s.digest == digest or s in replayed.standing}

    def stands(self, step: Step) -> bool:
        """Signed, and kept through a reject loop (3.5.3): it holds while the loop goes round."""
        standing = self.replay(self.process.stage(step.stage)).standing
        valid = self.valid_signatures(step)
        return bool(valid) and all(s in standing for s in valid.values())

    def looping(self, step_id: str) -> bool:
        """A step a reject loop sent back (3.5.3: the draft, for the client round)."""
        return step_id in self.replay(self.process.stage(self.process.step(step_id).stage)).looping

    def applies(self, step: Step) -> bool:
        return self.process.stage(step.stage).when.holds(self) and step.when.holds(self)

    def satisfied(self, step_id: str) -> bool:
        """A step is satisfied when it does not apply to this project, or when it is signed, what
        it needs still holds (a settlement against a changed contract amount does not), and
        everything it follows is satisfied in turn (a reopened contract holds up what came
        after). A signature kept through a loop waits for the loop's own steps, nothing else."""
        if step_id not in self._satisfied:
            self._satisfied[step_id] = False  # guards against a cycle in the process
            step = self.process.step(step_id)
            exempt = self.stands(step)
            self._satisfied[step_id] = (
                not self.applies(step)
                or self.declined(step) is not None
                or (
                    self.is_signed(step_id)
                    and not self.missing_fields(step)
                    and not self.missing_prerequisites(step, lambda pre: exempt and self.looping(pre))
                )
            )
        return self._satisfied[step_id]

    def declined(self, step: Step) -> Signoff | None:
        """The decline that answered *step*, if its reject is an answer and it stands (3.1.2 C)."""
        if step.on_reject is None or not step.on_reject.declines:
            return None
        return self.replay(self.process.stage(step.stage)).rejected.get(step.id)

    @cached_property
    def withdrawn(self) -> Signoff | None:
        """The sign-off that withdrew the project (终止): the last of a complete `halts` stage."""
        for stage in self.process.stages:
            if stage.halts and self.stage_complete(stage):
                return max(
                    (s for s in self.project.record(stage.id).signoffs if s.decision is Decision.APPROVE),
                    key=lambda s: s.at,
                    default=None,
                )
        return None

    def stage_complete(self, stage: Stage) -> bool:
        return all(self.satisfied(step.id) for step in stage.steps) and any(self.applies(s) for s in stage.steps)

    @cached_property
    def key(self) -> bool:
        return self.derived("key") if "key" in self.process.derived else False

    # -- what a step needs -----------------------------------------------------------------
    def missing_prerequisites(self, step: Step, exempt: Callable[[str], bool] = lambda _pre: False) -> list[Problem]:
        problems = []
        for pre in step.after:
            if pre.when.holds(self) and not self.satisfied(pre.step) and not exempt(pre.step):
                needed = self.process.step(pre.step)
                if self.is_signed(pre.step) and not self.missing_fields(needed):
                    # signed, and held up by what it follows in turn: name that, not a signature there is already
                    deeper = self.missing_prerequisites(needed)
                    if deeper:
                        problems += [p for p in deeper if p not in problems]
                        continue
                problems.append(
                    Problem(
                        step.id,
                        _("needs {step} ({title}) signed first: xmflow sign {project} {step}").format(
                            step=pre.step, title=title_of(needed), project=self.project.id
                        ),
                        needed.clause,
                    )
                )
        return problems

    def missing_fields(self, step: Step) -> list[Problem]:
        return [p for req in step.requires if (p := self.check_requirement(step, req)) is not None]

    def check_requirement(self, step: Step, req: Requirement) -> Problem | None:
        if not req.when.holds(self):
            return None
        value = self.value(req.field)

        def problem(message: str, **values: Any) -> Problem:
            return Problem(step.id, message.format(field=req.field, **values), step.clause, req.field)

        if req.min_items is not None and len(value or []) < req.min_items:
            return problem(_("{field} needs at least {count} item(s)"), count=req.min_items)
        for i, item in enumerate(value or [] if req.each_has else []):
            lacking = [name for name in req.each_has if not is_filled(item.get(name))]
            if lacking:
                return problem(_("{field} item {number} has no {names}"), number=i + 1, names=listing(lacking))
        if req.sum is not None:
            total = sum((Decimal(item.get(req.sum) or 0) for item in value or []), Decimal(0))
            expected = self._expected(req, req.sum)
            if expected is not None and total != expected:
                return problem(
                    _("{field} {part} must add up to {expected} (now {total})"),
                    part=req.sum,
                    expected=_shown(expected),
                    total=_shown(total),
                )
            return None
        if req.all_true:
            ftype = self.process.field_type(req.field)
            names = list(ftype.fields) if ftype else []
            unchecked = [n for n in names if (value or {}).get(n) is not True]
            if unchecked:
                return problem(_("{field} not all checked: {names} must be true"), names=listing(unchecked))
            return None
        if req.equals is not None:
            expected = self._expected(req, None)
            if value != expected:
                if value is None:
                    return problem(_("{field} must be {expected} (is missing)"), expected=_shown(expected))
                return problem(
                    _("{field} must be {expected} (is {value})"), expected=_shown(expected), value=_shown(value)
                )
            return None
        if not is_filled(value):
            return problem(_("{field} is missing"))
        return None

    def _expected(self, req: Requirement, sub: str | None) -> Any:
        """The value a requirement expects, typed like the field it checks."""
        expected = resolve_ref(req.equals, self)
        ftype = self.process.field_type(req.field)
        if sub and ftype is not None and ftype.item is not None:
            ftype = ftype.item.child(sub)
        if ftype is None or ftype.kind in ("list", "map") or expected is None:
            return expected
        try:
            return convert(ftype, expected)
        except FieldError:
            return expected

    # -- status --------------------------------------------------------------------------------
    def status(self, step: Step) -> StepStatus:
        replayed = self.replay(self.process.stage(step.stage))
        counting = replayed.counting.get(step.id, {})
        valid = self.valid_signatures(step)
        stale = tuple(s for role, s in counting.items() if role not in valid)
        standing = tuple(s for role, s in valid.items() if s.digest != self.current_digest(step))
        rejected = replayed.rejected.get(step.id)
        if not self.applies(step):
            return StepStatus(step, StepState.SKIPPED, why=tuple(not_applying(self, step)))
        if (declined := self.declined(step)) is not None:
            return StepStatus(step, StepState.DECLINED, rejected=declined)
        if self.satisfied(step.id):
            return StepStatus(step, StepState.SIGNED, tuple(valid.values()), changed_since=standing)
        waiting = tuple(r for r in step.roles if r not in valid) if step.needs_all_roles else step.roles
        missing = tuple(self.missing_prerequisites(step) + self.missing_fields(step))
        state = StepState.BLOCKED if missing else StepState.WAITING
        if self.withdrawn is not None and not self.process.stage(step.stage).halts:
            state, waiting, missing = StepState.STOPPED, (), ()
        return StepStatus(step, state, tuple(valid.values()), waiting, missing, stale, standing, rejected)

    def statuses(self) -> list[StepStatus]:
        return [self.status(step) for step in self.process.steps]

    def last_signoff(self) -> Signoff | None:
        """The latest sign-off of the project, in any stage."""
        signoffs = [s for r in self.project.records.values() for s in r.signoffs]
        return max(signoffs, key=lambda s: s.at, default=None)


def replay(stage: Stage, signoffs: tuple[Signoff, ...], process: Process) -> Replay:
    """Replay a stage's sign-offs in order. A reject clears its return point and what follows,
    except the signatures its loop keeps, which stand through the change (3.5.3); a reopen
    clears the whole stage."""
    replayed = Replay()
    order = [s.id for s in stage.steps]
    for signoff in signoffs:
        if (
            signoff.decision is Decision.APPROVE
            and signoff.step in order
            and signoff.role in process.step(signoff.step).roles
        ):  # a sign-off in another role is no signature
            replayed.counting.setdefault(signoff.step, {})[signoff.role] = signoff
            replayed.rejected.pop(signoff.step, None)
            replayed.looping.discard(signoff.step)
        elif (
            signoff.decision is Decision.REJECT
            and signoff.step in order
            and signoff.role in process.step(signoff.step).roles
        ):  # nor is a reject in another role
            step = process.step(signoff.step)
            if step.on_reject and step.on_reject.declines:  # an answer: it undoes the step's own signature only
                replayed.counting.pop(step.id, None)
                replayed.rejected[signoff.step] = signoff
                continue
            target = step.on_reject.to if step.on_reject else step.id
            keeps = set(step.on_reject.keeps) if step.on_reject else set()
            start = min(order.index(target) if target in order else len(order), order.index(step.id))
            for step_id in order[start:]:
                if step_id in keeps:
                    replayed.standing.update(replayed.counting.get(step_id, {}).values())
                else:
                    replayed.counting.pop(step_id, None)
            if keeps:
                replayed.looping.add(target)
            replayed.rejected[signoff.step] = signoff
        elif signoff.decision is Decision.REOPEN:
            replayed.counting.clear()
            replayed.standing.clear()
            replayed.looping.clear()
    return replayed


def holds_role(person: Person, role_id: str, view: ProjectView) -> bool:
    """May *person* act in *role_id* on this project? A client role is recorded by its recorders."""
    role = view.process.roles.get(role_id)
    if role is None:
        return False
    if role.external:
        return any(holds_role(person, other, view) for other in role.recorded_by if other != role_id)
    if role.is_global and role_id not in person.roles:
        return False
    if role.named_in:
        named = [view.value(path) for path in role.named_in]
        return any(person.id == v or (isinstance(v, list) and person.id in v) for v in named)
    return True


def people_for(role_id: str, view: ProjectView, people: People) -> list[Person]:
    """Everyone who may act in a role on this project."""
    return [p for p in people.persons if holds_role(p, role_id, view)]


def makers(view: ProjectView, stage: Stage) -> set[str]:
    """Whose work a stage is: whoever ever signed its own steps (not reviews, not the client's),
    however often it has gone round since, and whoever its own project-scoped roles name (the
    project's salesperson does not issue the shipping order for their own project). They may
    not review it."""
    roles = view.process.roles
    own = [step for step in stage.steps if not step.review]
    ids = {step.id for step in own}
    signed = {
        who
        for s in view.project.record(stage.id).signoffs
        if s.step in ids and s.decision is Decision.APPROVE and s.role in roles and not roles[s.role].external
        for who in (s.by, s.on_behalf_of)
        if who
    }
    named: set[str] = set()
    for role in {roles[r] for step in own for r in step.roles if r in roles and not roles[r].external}:
        for path in role.named_in:
            value = view.value(path)
            named.update(value if isinstance(value, list) else [value] if value else [])
    return signed | named


def sign_refusals(view: ProjectView, step: Step, person: Person, role: str, decision: Decision) -> list[Problem]:
    """Every reason the procedure refuses this sign-off; empty when it may go ahead."""
    problems: list[Problem] = []
    if (stopped := view.withdrawn) is not None and not view.process.stage(step.stage).halts:
        problems.append(Problem(step.id, withdrawn_words(view, stopped), step.clause))
        return problems
    if not view.applies(step):
        conds = [c.describe() for c in (view.process.stage(step.stage).when, step.when) if not c.holds(view)]
        problems.append(
            Problem(
                step.id,
                _("does not apply to this project ({conditions} does not hold)").format(conditions=both(conds)),
                step.clause,
            )
        )
        return problems
    if role not in step.roles:
        problems.append(
            Problem(
                step.id,
                _("is not signed as {role}: it is signed by {roles}").format(
                    role=role, roles=listing(role_name(view.process, r) for r in step.roles)
                ),
                step.clause,
            )
        )
    elif not holds_role(person, role, view):
        problems.append(
            Problem(
                step.id,
                _("{person} may not sign as {role}: {requirement}").format(
                    person=person.label(), role=role_name(view.process, role), requirement=role_requirement(view, role)
                ),
                step.clause,
            )
        )
    valid = view.valid_signatures(step)
    if role in valid and decision is not Decision.REJECT:
        done = valid[role]
        problems.append(
            Problem(
                step.id,
                _("already signed as {role} by {signer} on {day}").format(
                    role=role_name(view.process, role), signer=done.by, day=done.at.date()
                ),
                step.clause,
            )
        )
    elif view.is_signed(step.id) and view.satisfied(step.id):
        problems.append(Problem(step.id, _("is already complete"), step.clause))
    elif view.is_signed(step.id):
        problems.append(
            Problem(
                step.id, _("is signed already: it waits for what it follows (below), not for a signature"), step.clause
            )
        )
    if decision is Decision.REJECT and step.on_reject is None:
        problems.append(Problem(step.id, _("cannot be rejected: the procedure gives it no return point"), step.clause))
    problems += view.missing_prerequisites(step)
    if decision is Decision.APPROVE:
        problems += view.missing_fields(step)
    if step.review and person.id in makers(view, view.process.stage(step.stage)):
        problems.append(
            Problem(
                step.id,
                _(
                    "{person} signed this stage's own work and may not approve it (nobody approves their own work)"
                ).format(person=person.label()),
                step.clause,
            )
        )
    return problems


def delegation_refusals(
    view: ProjectView, step: Step, actor: Person, signer: Person, role: str, people: People, day: date
) -> list[Problem]:
    """代签: *actor* signs for *signer* only under a delegation of that role valid on *day*, and
    neither of them may approve their own work."""
    problems = []
    if people.grant(actor.id, signer.id, role, day) is None:
        said = dict(actor=actor.label(), signer=signer.label(), role=role_name(view.process, role), day=day)
        near = [d for d in people.delegations if d.to == actor.id and d.by == signer.id and role in d.roles]
        ended = max((d.until for d in near if d.until < day), default=None)
        starts = min((d.since for d in near if d.since and d.since > day), default=None)
        if ended is not None:
            text = _(
                "{actor} may not sign for {signer} as {role} on {day}: the delegation in people.yaml ended on {until}"
            ).format(until=ended, **said)
        elif starts is not None:
            text = _(
                "{actor} may not sign for {signer} as {role} on {day}: the delegation in people.yaml starts on {since}"
            ).format(since=starts, **said)
        else:
            text = _(
                "{actor} may not sign for {signer} as {role} on {day}: people.yaml has no such delegation "
                "(delegations: from, to, roles, until)"
            ).format(**said)
        problems.append(Problem(step.id, text, step.clause))
    if step.review and actor.id in makers(view, view.process.stage(step.stage)):
        problems.append(
            Problem(
                step.id,
                _("{actor} signed this stage's own work and may not approve it, not even for someone else").format(
                    actor=actor.label()
                ),
                step.clause,
            )
        )
    return problems


def role_requirement(view: ProjectView, role_id: str) -> str:
    """In words, who holds a role on this project."""
    role = view.process.roles[role_id]
    if role.external:
        return _("{role} is recorded by {recorders} with --signatory").format(
            role=role_name(view.process, role_id),
            recorders=either(role_name(view.process, r) for r in role.recorded_by),
        )
    parts = (
        [_("needs the role {role} in people.yaml").format(role=role_name(view.process, role_id))]
        if role.is_global
        else []
    )
    if role.named_in:
        parts.append(_("must be named in {fields}").format(fields=either(role.named_in)))
    return both(parts)


def eligible_roles(view: ProjectView, step: Step, person: Person) -> list[str]:
    """The roles of a step this person could sign in now."""
    valid = view.valid_signatures(step)
    return [r for r in step.roles if holds_role(person, r, view) and not (step.needs_all_roles and r in valid)]


def withdrawn_words(view: ProjectView, stopped: Signoff) -> str:
    """Why a withdrawn project takes no sign-off, and how it goes on."""
    halting = next(s for s in view.process.stages if s.halts)
    reason = view.value(f"{halting.id}.reason") or ""
    return _(
        "project {project} was withdrawn on {day} ({reason}): it takes no more sign-offs; to go on with it, "
        "reopen {stage}: xmflow set {project} {stage}.reason= --reopen -m WHY"
    ).format(project=view.project.id, day=stopped.at.date(), reason=str(reason).strip(), stage=halting.id)


def not_applying(view: ProjectView, step: Step) -> list[str]:
    """Why *step* does not apply to this project, each with what would make it apply: a field
    that decides it (`installation.on_site` 未设置) names the command that sets it."""
    failing: list[Condition] = [c for c in (view.process.stage(step.stage).when, step.when) if not c.holds(view)]
    said = []
    for cond in failing:
        if isinstance(cond, FieldTrue):
            ftype = view.process.field_type(cond.path)
            value = _("yes") if ftype is not None and ftype.kind == "bool" else "…"
            said.append(
                _("{field} is not set: it applies once it is (xmflow set {project} {field}={value})").format(
                    field=cond.path, project=view.project.id, value=value
                )
            )
        else:
            said.append(_("{condition} does not hold").format(condition=cond.describe()))
    return said

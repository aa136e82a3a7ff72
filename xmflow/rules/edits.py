"""What a change of the records needs, as rules shared by the commands that make changes (`new`,
`set`, `edit`) and by the checks that judge changes made by any means (:mod:`xmflow.trust.conformance`):
who may edit a stage, which stages a change must reopen and why, and which dates that record
what happened it sets in the future."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from xmflow.i18n import _
from xmflow.labels import title_of
from xmflow.model import Config, Decision, Person, Project, StageRecord
from xmflow.procedure.process import Process, Stage, Step
from xmflow.procedure.schema import FieldType, signed_part
from xmflow.rules.project import ProjectView, holds_role, listing, role_name


def may_edit(person: Person, process: Process, stage_id: str, view: ProjectView) -> bool:
    """May *person* change this stage's fields on this project (`set`, `edit`)?"""
    return any(holds_role(person, role, view) for role in process.editors(stage_id))


def editors_wording(process: Process, stage_id: str) -> str:
    """Who edits a stage, in words: ``only sales (the project's own), team, sales_supervisor … may``."""
    names = [
        _("{role} (the project's own)").format(role=role_name(process, r))
        if process.roles[r].named_in and process.roles[r].is_global
        else role_name(process, r)
        for r in process.editors(stage_id)
        if r in process.roles
    ]
    return _("only {roles} may change stage {stage}").format(roles=listing(names), stage=stage_id)


def edited_stages(process: Process, before: Project, after: Project) -> list[str]:
    """The stages whose fields a change edits, leaving out the ledgers, which their own command
    writes under their own rule (invoices, receipts)."""
    return [
        s.id for s in process.stages if _editable(s, before.record(s.id).data) != _editable(s, after.record(s.id).data)
    ]


def _editable(stage: Stage, data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k in stage.fields.fields and stage.fields.fields[k].readonly)}


def future_facts(process: Process, before: Project, after: Project, day: date) -> list[tuple[Stage, str, date]]:
    """The fact dates (`past: true`) a change sets or changes to a day after *day*."""
    found = []
    for stage in process.stages:
        old = dict(_dates(stage.fields, before.record(stage.id).data, stage.id))
        for path, value in _dates(stage.fields, after.record(stage.id).data, stage.id):
            if value > day and old.get(path) != value:
                found.append((stage, path, value))
    return found


def _dates(ftype: FieldType, value: Any, path: str) -> Iterator[tuple[str, date]]:
    """Each fact date inside a value, with its dotted path."""
    if ftype.kind == "date" and getattr(ftype, "past", False) and isinstance(value, date):
        yield path, value
    elif ftype.kind == "map" and isinstance(value, dict):
        for name, sub in ftype.fields.items():
            if name in value:
                yield from _dates(sub, value[name], f"{path}.{name}")
    elif ftype.kind == "list" and isinstance(value, list) and ftype.item is not None:
        for i, item in enumerate(value):
            yield from _dates(ftype.item, item, f"{path}.{i}")


def reopen_reasons(
    before: ProjectView, after: ProjectView, data: dict[str, dict[str, Any]], changed: dict[str, StageRecord]
) -> dict[str, str]:
    """The stages a change must reopen, and why: a completed stage whose signed data changes; a
    stage with a signed or rejected step the change makes no longer apply; a stage with a signed
    step the change holds up elsewhere."""
    reasons: dict[str, str] = {}
    for stage_id in changed:
        stage = before.process.stage(stage_id)
        old = before.project.record(stage_id).data
        if before.stage_complete(stage) and signed_part(stage.fields, data[stage_id]) != signed_part(stage.fields, old):
            reasons[stage_id] = _("stage {stage} ({title}) is complete").format(stage=stage_id, title=title_of(stage))
    for step in before.process.steps:
        if before.applies(step) and not after.applies(step) and _has_signoffs(before, step):
            reasons.setdefault(
                step.stage,
                _("this change makes {step} no longer apply, though it was signed or rejected").format(step=step.id),
            )
        elif step.stage not in changed and before.is_signed(step.id) and _held_up(before, after, step):
            reasons.setdefault(step.stage, _("this change holds up {step}, already signed").format(step=step.id))
    return reasons


def _held_up(before: ProjectView, after: ProjectView, step: Step) -> bool:
    """Does a change undo a signed step elsewhere: a step it follows now applies and is not
    signed (3.3.3: samples now required before the contract), or what it needs no longer holds
    (a settlement against a changed contract amount)? Prerequisites that are merely being
    signed again do not count: the step holds again once they are."""
    if not before.satisfied(step.id):
        return False
    newly = [
        pre.step
        for pre in step.after
        if not before.applies(before.process.step(pre.step))
        and after.applies(after.process.step(pre.step))
        and not after.is_signed(pre.step)
    ]
    return bool(newly) or bool(after.missing_fields(step))


def _has_signoffs(view: ProjectView, step: Any) -> bool:
    replayed = view.replay(view.process.stage(step.stage))
    return bool(replayed.counting.get(step.id) or step.id in replayed.rejected)


def reopen_needed(
    process: Process, config: Config, before: Project, after: Project, seen: ProjectView | None = None
) -> dict[str, str]:
    """The stages a change of the records must reopen, and why (the reopens it adds aside).
    *seen*: *before* as a view already worked out (what it derived is not derived again)."""
    changed = {s.id: after.record(s.id) for s in process.stages if before.record(s.id).data != after.record(s.id).data}
    if not changed:
        return {}
    data = {s.id: after.record(s.id).data for s in process.stages}
    without_reopen = replace(
        after, records={sid: replace(r, signoffs=before.record(sid).signoffs) for sid, r in after.records.items()}
    )
    return reopen_reasons(
        seen or ProjectView(before, process, config), ProjectView(without_reopen, process, config), data, changed
    )


def unreopened_changes(
    process: Process, config: Config, before: Project, after: Project, seen: ProjectView | None = None
) -> dict[str, str]:
    """The stages a change of the records should have reopened (`xmflow set --reopen`) and did
    not, with the reason: a completed stage changed, a signed step undone elsewhere."""
    reasons = reopen_needed(process, config, before, after, seen)
    reopened = {
        s.step
        for st in process.stages
        for s in after.record(st.id).signoffs[len(before.record(st.id).signoffs) :]
        if s.decision is Decision.REOPEN
    }
    return {stage_id: why for stage_id, why in reasons.items() if stage_id not in reopened}


def reopen_role_ok(person: Person, role: str, stage_ids: list[str], view: ProjectView) -> bool:
    """May *person* reopen in *role* as part of a change that edits or reopens *stage_ids*? An
    admin may; so may whoever signs in one of those stages, in that role (`set --reopen` gives a
    stage reopened only as a consequence — the settlement, when the contract amount changes —
    the role the person signs in for the change)."""
    if role == "admin":
        return "admin" in person.roles
    process = view.process
    signing = {
        r
        for sid in stage_ids
        for step in process.stage(sid).steps
        for r in step.roles
        if r in process.roles and not process.roles[r].external
    }
    return role in signing and holds_role(person, role, view)

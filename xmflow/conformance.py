"""Whether a change to the records is one the procedure allows.

These are the rules about *changes* (before → after), as opposed to the rules about where a
project stands (``rules``): which stages a change must reopen, and why. `set` and `edit` apply
them before they commit; `check`, `verify`, `sync` and the server's hook apply them to changes
made by any means.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from xmflow.model import Config, Decision, Project, StageRecord
from xmflow.process import Process, Step
from xmflow.rules import ProjectView
from xmflow.schema import signed_part


def reopen_reasons(before: ProjectView, after: ProjectView, data: dict[str, dict[str, Any]],
                    changed: dict[str, StageRecord]) -> dict[str, str]:
    """The stages a change must reopen, and why: a completed stage whose signed data changes; a
    stage with a signed or rejected step the change makes no longer apply; a stage with a signed
    step the change holds up elsewhere."""
    reasons: dict[str, str] = {}
    for stage_id in changed:
        stage = before.process.stage(stage_id)
        old = before.project.record(stage_id).data
        if before.stage_complete(stage) and signed_part(stage.fields, data[stage_id]) != signed_part(stage.fields, old):
            reasons[stage_id] = f"stage {stage_id} ({stage.title}) is complete"
    for step in before.process.steps:
        if before.applies(step) and not after.applies(step) and _has_signoffs(before, step):
            reasons.setdefault(step.stage, f"this change makes {step.id} no longer apply, though it was signed or rejected")
        elif step.stage not in changed and before.is_signed(step.id) and _held_up(before, after, step):
            reasons.setdefault(step.stage, f"this change holds up {step.id}, already signed")
    return reasons


def _held_up(before: ProjectView, after: ProjectView, step: Step) -> bool:
    """Does a change undo a signed step elsewhere: a step it follows now applies and is not
    signed (3.3.3: samples now required before the contract), or what it needs no longer holds
    (a settlement against a changed contract amount)? Prerequisites that are merely being
    signed again do not count: the step holds again once they are."""
    if not before.satisfied(step.id):
        return False
    newly = [pre.step for pre in step.after if not before.applies(before.process.step(pre.step))
             and after.applies(after.process.step(pre.step)) and not after.is_signed(pre.step)]
    return bool(newly) or bool(after.missing_fields(step))


def _has_signoffs(view: ProjectView, step: Any) -> bool:
    replayed = view.replay(view.process.stage(step.stage))
    return bool(replayed.counting.get(step.id) or step.id in replayed.rejected)


def unreopened_changes(process: Process, config: Config, before: Project, after: Project) -> dict[str, str]:
    """The stages a change of the records should have reopened (`xmflow set --reopen`) and did
    not, with the reason: a completed stage changed, a signed step undone elsewhere."""
    changed = {s.id: after.record(s.id) for s in process.stages if before.record(s.id).data != after.record(s.id).data}
    if not changed:
        return {}
    data = {s.id: after.record(s.id).data for s in process.stages}
    without_reopen = replace(after, records={sid: replace(r, signoffs=before.record(sid).signoffs)
                                             for sid, r in after.records.items()})
    reasons = reopen_reasons(ProjectView(before, process, config), ProjectView(without_reopen, process, config),
                             data, changed)
    reopened = {s.step for st in process.stages for s in after.record(st.id).signoffs[len(before.record(st.id).signoffs):]
                 if s.decision is Decision.REOPEN}
    return {stage_id: why for stage_id, why in reasons.items() if stage_id not in reopened}



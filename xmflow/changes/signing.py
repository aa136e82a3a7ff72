"""Signing a step (SPEC §4 `sign`, §5): the role it is signed in, the procedure's refusals, the
sign-off written into the stage file and the commit's trailers."""

from __future__ import annotations

import difflib
import hashlib
import re
from datetime import date
from pathlib import Path

from xmflow import files
from xmflow.changes.session import Result, Session, single_line
from xmflow.errors import RuleError, UsageError
from xmflow.i18n import _, pgettext
from xmflow.model import Decision, Evidence, Person, Signoff
from xmflow.money.figures import figure
from xmflow.procedure.process import Step
from xmflow.records import stages as records
from xmflow.rules.project import (
    ProjectView,
    delegation_refusals,
    either,
    eligible_roles,
    holds_role,
    listing,
    role_name,
    role_requirement,
    sign_refusals,
)
from xmflow.values import brief, make_message_id


def find_step(session: Session, step_id: str) -> Step:
    """The step named, or a usage error suggesting the nearest names."""
    process = session.ws.process
    if not process.has_step(step_id):
        close = difflib.get_close_matches(step_id, [s.id for s in process.steps], n=3)
        if close:
            raise UsageError(
                _("no step {step} (did you mean {names}?)").format(step=brief(step_id), names=listing(close))
            )
        raise UsageError(_("no step {step} (xmflow process show lists them)").format(step=brief(step_id)))
    return process.step(step_id)


def choose_role(view: ProjectView, step: Step, person: Person, role: str | None, signatory: str | None) -> str:
    """The role a sign-off is made in: the one given, the client's when a signatory is named,
    or the only one of the step's roles this person may sign now."""
    roles = view.process.roles
    if role is not None:
        if role not in step.roles:
            raise UsageError(
                _("{step} is signed by {roles}, not {role}").format(
                    step=step.id, roles=listing(role_name(view.process, r) for r in step.roles), role=role
                )
            )
        return role
    if view.is_signed(step.id) and view.satisfied(step.id):  # signed and held up: sign_refusals says by what
        signers = listing(
            _("{person} ({role})").format(person=s.by, role=role_name(view.process, s.role))
            for s in view.valid_signatures(step).values()
        )
        said = _("{step} is already complete: signed by {signers}").format(step=step.id, signers=signers)
        raise RuleError(
            _("{message} (clause {clause})").format(message=said, clause=step.clause) if step.clause else said
        )
    external = [r for r in step.roles if roles[r].external]
    if signatory and external:
        return external[0]
    mine = [r for r in eligible_roles(view, step, person) if not roles[r].external]
    if len(mine) == 1:
        return mine[0]
    if len(mine) > 1:
        raise UsageError(
            _("you may sign {step} as {roles}: say which with --role").format(
                step=step.id, roles=either(role_name(view.process, r) for r in mine)
            )
        )
    if any(holds_role(person, r, view) for r in external):
        raise UsageError(
            _("{step}: record the client's (甲方) signature with --role {role} --signatory NAME").format(
                step=step.id, role=external[0]
            )
        )
    wanted = pgettext("a list of sentences", "; ").join(
        role_requirement(view, r)
        if roles[r].is_global
        # which names the role
        else _("{role} {requirement}").format(role=role_name(view.process, r), requirement=role_requirement(view, r))
        for r in step.roles
        if not roles[r].external
    )
    if not step.clause:
        raise RuleError(
            _("{person} may not sign {step}: {wanted}").format(person=person.label(), step=step.id, wanted=wanted)
        )
    raise RuleError(
        _("{person} may not sign {step} (clause {clause}): {wanted}").format(
            person=person.label(), step=step.id, clause=step.clause, wanted=wanted
        )
    )


def sign_step(
    session: Session,
    project_id: str,
    step_id: str,
    *,
    reject: bool = False,
    comment: str | None = None,
    role: str | None = None,
    signatory: str | None = None,
    evidence: Path | None = None,
    paper_date: date | None = None,
    on_behalf_of: str | None = None,
) -> Result:
    """Sign (or reject) a step of a project as the person acting (or for someone who delegated
    the role to them), in one commit."""
    project = session.project_to_change(project_id)
    step = find_step(session, step_id)
    view = session.view(project)
    if reject and not (comment and comment.strip()):
        raise UsageError(_("a reject needs a reason: -m WHY"))
    signatory = single_line(signatory, "--signatory")
    signer = _delegator(session, on_behalf_of) if on_behalf_of else session.actor
    chosen = choose_role(view, step, signer, role, signatory)
    _check_client_options(session, view, chosen, signatory, evidence, paper_date)
    if paper_date:
        _check_paper_after_what_it_follows(view, step, paper_date)
    decision = Decision.REJECT if reject else Decision.APPROVE
    problems = sign_refusals(view, step, signer, chosen, decision)
    if on_behalf_of:
        problems += delegation_refusals(view, step, session.actor, signer, chosen, session.ws.people, session.at.date())
    if problems:
        raise RuleError(
            _("cannot sign {step} for {project}:").format(step=step.id, project=project_id)
            + "\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    extra, proof = _evidence(project_id, step, evidence)
    signoff = Signoff(
        step.id,
        decision,
        session.actor.id,
        chosen,
        session.at,
        view.current_digest(step),
        comment.strip() if comment else None,
        signatory,
        proof,
        paper_date,
        on_behalf_of,
    )
    record = records.with_signoff(project.record(step.stage), signoff)
    trailers = {
        "Xmflow-Step": step.id,
        "Xmflow-Decision": decision.value,
        "Xmflow-Role": chosen,
        "Xmflow-Clause": step.clause,
        "Xmflow-Digest": signoff.digest,
        "Xmflow-Signatory": signatory,
        "Xmflow-Evidence": f"sha256:{proof.sha256}" if proof else None,
        "Xmflow-On-Behalf-Of": on_behalf_of,
    }
    notice = _notice_id(session, project_id, signoff) if step.notice and not reject else None  # the mail's, after it
    trailers["Xmflow-Notice"] = notice
    verb = "rejects" if reject else "signs"
    subject = f"{project_id} {step.id}: {session.actor.id} {verb} as {chosen}" + (
        f" for {on_behalf_of}" if on_behalf_of else ""
    )
    commit = session.commit(project_id, {step.stage: record}, subject, trailers, comment, extra)
    done = _("{step} reject by {person} as {role}") if reject else _("{step} approve by {person} as {role}")
    summary = done.format(step=step.id, person=session.actor.label(), role=role_name(view.process, chosen))
    return Result(project_id, commit, summary, signoff, notice=notice)


def _notice_id(session: Session, project_id: str, signoff: Signoff) -> str:
    """The Message-ID of the notice a sign-off sends, made from the sign-off (the same sign-off,
    the same id: the demo's history is the same on every machine)."""
    return make_message_id(
        session.ws.config.company, project_id, signoff.step, signoff.by, signoff.at.isoformat(), signoff.digest or ""
    )


def _delegator(session: Session, person_id: str) -> Person:
    person = session.ws.people.by_id(person_id)
    if person is None:
        raise UsageError(_("--on-behalf-of {person}: no such person in people.yaml").format(person=person_id))
    return person


def _check_client_options(
    session: Session,
    view: ProjectView,
    role: str,
    signatory: str | None,
    evidence: Path | None,
    paper_date: date | None,
) -> None:
    """--signatory, --evidence and --date belong to the client's (甲方) signatures, made on paper;
    a scan is a regular file of at most 20 MB (looked at, not opened, here)."""
    if session.ws.process.roles[role].external:
        if not signatory:
            raise UsageError(
                _("as {role}: name the client's signer with --signatory NAME").format(
                    role=role_name(view.process, role)
                )
            )
        if evidence is not None:
            files.check_scan(evidence, "--evidence")
        if paper_date and paper_date > session.at.date():
            raise UsageError(_("--date {day}: a paper cannot be signed in the future").format(day=paper_date))
        opened = figure(view, "opened")
        if paper_date and opened and paper_date < opened:
            raise UsageError(
                _("--date {day}: before the project was opened ({opened})").format(day=paper_date, opened=opened)
            )
        return
    for given, option in ((signatory, "--signatory"), (evidence, "--evidence"), (paper_date, "--date")):
        if given:
            raise UsageError(
                _("{option} is only for the client's (甲方) signatures (--role client)").format(option=option)
            )


def _check_paper_after_what_it_follows(view: ProjectView, step: Step, paper_date: date) -> None:
    """The client signs a paper the company signed first: its day is not before the signatures of
    the steps the client's step follows (what `verify` calls backdated)."""
    for pre in step.after:
        if not view.process.has_step(pre.step):
            continue
        for earlier in view.valid_signatures(view.process.step(pre.step)).values():
            signed = earlier.signed_on or earlier.at.date()
            if paper_date < signed:
                raise UsageError(
                    _("--date {day}: before {step} was signed ({signed}); the client signs the paper after it").format(
                        day=paper_date, step=pre.step, signed=signed
                    )
                )


def _evidence(project_id: str, step: Step, path: Path | None) -> tuple[dict[str, bytes], Evidence | None]:
    """The scan of the signed paper: copied into the project, named by its SHA-256."""
    if path is None:
        return {}, None
    content = files.read_scan(path, "--evidence")
    digest = hashlib.sha256(content).hexdigest()
    suffix = path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", path.suffix.lower()) else ""
    rel = f"projects/{project_id}/files/{step.id}-{digest[:12]}{suffix}"
    return {rel: content}, Evidence(rel.split("/", 2)[2], digest)

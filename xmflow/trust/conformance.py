"""Whether a change to a project is one the procedure allows: one list of pure checks.

A change is a project before and after a commit (or, for `xmflow check`, before and after the
working tree's pending edit), with who made it, when, and what its commit says it does. The
checks in :data:`CHECKS` are small pure functions over such a change; `verify` (and so the
server's hook and `sync`) runs them on every commit of the history, `check` on the pending
change; `set`, `edit` and `new` apply the same rules (:mod:`xmflow.rules.edits`) before they commit.
Nothing here reads git or files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

from xmflow.i18n import _, pgettext
from xmflow.labels import title_of
from xmflow.model import Decision, Signoff
from xmflow.money.figures import figure
from xmflow.money.ledgers import ledger_refusals
from xmflow.procedure.process import INVOICES, Process, Step
from xmflow.procedure.schema import persons
from xmflow.rules.change import Finding, ProjectChange
from xmflow.rules.edits import (
    edited_stages,
    editors_wording,
    future_facts,
    may_edit,
    reopen_needed,
    reopen_role_ok,
    unreopened_changes,
)
from xmflow.rules.project import delegation_refusals, holds_role, sign_refusals

_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
SKEW = timedelta(minutes=10)  # clocks of two machines may disagree this much (a rebase elsewhere)
_SIGNING = (Decision.APPROVE.value, Decision.REJECT.value)


Check = Callable[[ProjectChange], Iterator[Finding]]


def judge(change: ProjectChange) -> list[Finding]:
    """Every finding of one change of a project that xmflow made (or could make: a pending change)."""
    return [finding for check in CHECKS for finding in check(change)]


def outside_xmflow(commit: str, project: str, files: list[str], process: Process) -> Finding:
    """A commit changed a project's files without saying it acts on that project: not xmflow's,
    so no signature covers it, and nothing else it did can be judged by what it claims."""
    stages = [stage.id for name in files if (stage := process.stage_of_file(name))]
    return Finding(
        commit,
        _(
            "{files} changed outside xmflow: the commit does not say it acts on {project} (no "
            "Xmflow-Project trailer for it), so no signature covers this change"
        ).format(files=", ".join(files), project=project),
        project,
        ", ".join(stages or files),
        kind="outside-xmflow",
    )


# -- every change ---------------------------------------------------------------------------
def signoffs_only_added(change: ProjectChange) -> Iterator[Finding]:
    """A stage's sign-offs are only ever appended, by `xmflow sign` (SPEC §5)."""
    for stage in change.process.stages:
        old, new = change.before.record(stage.id).signoffs, change.after.record(stage.id).signoffs
        if new[: len(old)] != old:
            yield change.finding(
                _("a sign-off was rewritten or removed (sign-offs are only ever added, by `xmflow sign`)"),
                "signoff-rewritten",
                stage.id,
                file=stage.file,
            )


def scans_kept(change: ProjectChange) -> Iterator[Finding]:
    """A scan of a signed paper is added once, with the sign-off that names its hash, and never
    changed or removed."""
    named = {
        s.evidence.file: s.evidence.sha256 for r in change.after.records.values() for s in r.signoffs if s.evidence
    }
    for scan in change.scans:
        if scan.existed:
            yield change.finding(_("the scan of a signed paper was changed or removed"), "scan-changed", file=scan.path)
        elif not change.pending and scan.sha256 and named.get(scan.path) != scan.sha256:
            yield change.finding(_("added without a sign-off naming its SHA-256"), "scan-unnamed", file=scan.path)


def author_known(change: ProjectChange) -> Iterator[Finding]:
    """Only the people in people.yaml change anything (SPEC §2); a commit says who made it."""
    if change.email and change.author is None:
        yield change.finding(
            _("made by {email}, who is not in people.yaml").format(email=change.email), "author-unknown"
        )
    elif not change.email and not change.pending:
        yield change.finding(_("made by nobody: the commit has no author email"), "author-unknown")


def decision_known(change: ProjectChange) -> Iterator[Finding]:
    known = {d.value for d in Decision}
    if change.decision not in known:
        yield change.finding(
            _("unknown Xmflow-Decision {decision}").format(decision=repr(change.decision)), "unknown-decision"
        )


def facts_not_in_future(change: ProjectChange) -> Iterator[Finding]:
    """A date that records something that happened (`past: true` in the process: the day it
    shipped, the day the client accepted) is not later than the day it is recorded."""
    day = change.at.date()
    for stage, path, value in future_facts(change.process, change.before, change.after, day):
        yield change.finding(
            _(
                "{path} is {value}, after the day it was recorded ({day}): a date that records what "
                "happened cannot be in the future"
            ).format(path=path, value=value, day=day),
            "future-date",
            stage.id,
        )


# -- a change of the records (record, reopen) -----------------------------------------------
def record_adds_no_signoff(change: ProjectChange) -> Iterator[Finding]:
    """Fields are changed by `set`/`edit`; a sign-off only by `sign` (a reopen by --reopen)."""
    if change.decision in _SIGNING:
        return
    signs = [s for s in change.added if s.decision is not Decision.REOPEN]
    reopens = [s for s in change.added if s.decision is Decision.REOPEN]
    odd = signs or (reopens if change.decision == Decision.RECORD.value else [])
    if odd:
        yield change.finding(
            _("a sign-off was added by a commit that is not a sign-off (Xmflow-Decision: {decision})").format(
                decision=change.decision
            ),
            "signoff-by-record",
            odd[0].step.split(".")[0],
            odd[0].step,
        )


def reopened_where_needed(change: ProjectChange) -> Iterator[Finding]:
    """A completed stage changes only with --reopen, nor may a change undo a signed step elsewhere."""
    if change.decision in _SIGNING:
        return
    found = unreopened_changes(
        change.process, change.settings.config, change.before, change.after, change.view("before")
    )
    for stage_id, why in found.items():
        yield change.finding(
            _(
                "{why}, yet it was changed without --reopen (the signatures it had no longer "
                "match): change it with xmflow set --reopen -m WHY"
            ).format(why=why),
            "not-reopened",
            stage_id,
        )


def reopens_by_signers(change: ProjectChange) -> Iterator[Finding]:
    """A reopen is its author's, in a role they hold for the change (someone who signs in the
    stage, or an admin), and only where the change needs it (a completed stage changed, a signed
    step undone), as `set --reopen` makes it."""
    reopens = [s for s in change.added if s.decision is Decision.REOPEN]
    if not reopens:
        return
    author, view = change.author, change.view("before")
    needed = reopen_needed(change.process, change.settings.config, change.before, change.after, view)
    related = sorted({s.step for s in reopens} | set(edited_stages(change.process, change.before, change.after)))
    for s in reopens:
        if author is None or s.by != author.id:
            yield change.finding(
                _("a reopen in the name of {person}, committed by {author}").format(
                    person=s.by, author=author.label() if author else "?"
                ),
                "reopen-by-other",
                s.step,
            )
        elif not reopen_role_ok(author, s.role, related, view):
            yield change.finding(
                _(
                    "reopened by {author} as {role}, not a role they sign in for this change (only "
                    "someone who signs in the stage, or an admin, reopens it)"
                ).format(author=author.label(), role=s.role),
                "reopen-role",
                s.step,
            )
        if s.step not in needed:
            yield change.finding(
                _(
                    "stage {stage} reopened, though the change needs no reopening there (--reopen is "
                    "for a completed stage or a signed step the change undoes)"
                ).format(stage=s.step),
                "reopen-unneeded",
                s.step,
            )


def signoffs_in_place(change: ProjectChange) -> Iterator[Finding]:
    """Each sign-off added names a step of the stage whose file holds it, and a reopen its own stage."""
    process = change.process
    for stage in process.stages:
        old, new = change.before.record(stage.id).signoffs, change.after.record(stage.id).signoffs
        for s in new[len(old) :] if new[: len(old)] == old else ():
            if s.decision is Decision.REOPEN:
                wrong = s.step != stage.id or (s.role not in process.roles)
            else:
                wrong = not process.has_step(s.step) or process.step(s.step).stage != stage.id
            if wrong:
                yield change.finding(
                    _("a sign-off of {step} as {role} in the file of stage {stage}, where it does not belong").format(
                        step=s.step, role=s.role, stage=stage.id
                    ),
                    "signoff-misplaced",
                    stage.id,
                    file=stage.file,
                )


def persons_known(change: ProjectChange) -> Iterator[Finding]:
    """A person field names someone in people.yaml who holds the role it asks for (the project's
    salesperson holds `sales`), as `set` checks."""
    people = change.settings.people
    for stage in change.process.stages:
        new = persons(stage.fields, change.after.record(stage.id).data) - persons(
            stage.fields, change.before.record(stage.id).data
        )
        for person_id, role in sorted(new, key=str):
            person = people.by_id(person_id)
            if person is None:
                yield change.finding(
                    _("names {person}, who is not in people.yaml").format(person=person_id), "unknown-person", stage.id
                )
            elif role and role not in person.roles:
                yield change.finding(
                    _("names {person} where the field needs the role {role}").format(person=person.label(), role=role),
                    "unknown-person",
                    stage.id,
                )


def ledger_entries_allowed(change: ProjectChange) -> Iterator[Finding]:
    """Invoices and receipts (4.0) follow the client's signature, stay within the contract, are
    dated no earlier than it and numbered once — what `xmflow invoice`/`receive` refuse."""
    before, after = change.view("before"), change.view("after")
    for ledger in change.process.ledgers.values():
        old, new = before.value(ledger.field) or [], after.value(ledger.field) or []
        if new[: len(old)] == old and len(new) > len(old):
            for problem in ledger_refusals(before, ledger, new[len(old) :]):
                yield change.finding(
                    _("{field}: recorded when the procedure refused it: {problem}").format(
                        field=ledger.field, problem=problem
                    ),
                    "ledger-refused",
                    ledger.stage,
                    clause=ledger.clause,
                )


def invoice_numbers_used_once(change: ProjectChange, used: dict[str, str]) -> Iterator[Finding]:
    """An invoice number is used once across every project (4.0), as `xmflow invoice` refuses:
    *used* holds each number recorded so far (casefolded) and the project it is in, and takes up
    the numbers this change adds. Within one project, `ledger_entries_allowed` names a repeat."""
    ledger = change.process.ledgers[INVOICES]
    old, new = change.view("before").value(ledger.field) or [], change.view("after").value(ledger.field) or []
    if new[: len(old)] != old:
        return  # ledgers_append_only names it
    for entry in new[len(old) :]:
        number = str(entry.get("number") or "")
        other = used.setdefault(number.casefold(), change.project)
        if other != change.project:
            yield change.finding(
                _(
                    "{field}: invoice number {number} is already recorded (project {other}); an "
                    "invoice number is used once"
                ).format(field=ledger.field, number=number, other=other),
                "ledger-refused",
                ledger.stage,
                clause=ledger.clause,
            )


def ledgers_append_only(change: ProjectChange) -> Iterator[Finding]:
    """Invoices and receipts (4.0) are only added, each by its author, in a role the ledger names."""
    before, after, author = change.view("before"), change.view("after"), change.author
    for ledger in change.process.ledgers.values():
        old, new = before.value(ledger.field) or [], after.value(ledger.field) or []
        if new[: len(old)] != old:
            yield change.finding(
                _("{field}: an entry was changed or removed (they are only ever added)").format(field=ledger.field),
                "ledger-changed",
                ledger.stage,
            )
            continue
        for entry in new[len(old) :]:
            if author is None or entry.get("by") != author.id:
                yield change.finding(
                    _("{field}: an entry in the name of {person}, made by {author}").format(
                        field=ledger.field,
                        person=entry.get("by"),
                        author=author.label() if author else change.email or "?",
                    ),
                    "ledger-author",
                    ledger.stage,
                )
            elif not any(holds_role(author, role, before) for role in ledger.roles):
                yield change.finding(
                    _("{field}: recorded by {author}, who is not {roles}").format(
                        field=ledger.field,
                        author=author.label(),
                        roles=pgettext("between two items", " or ").join(ledger.roles),
                    ),
                    "ledger-role",
                    ledger.stage,
                    clause=ledger.clause,
                )


def editors_only(change: ProjectChange) -> Iterator[Finding]:
    """Who may change what: a stage's fields are changed only by its editors (the process's
    `editors`: by default the project's salesperson and team, whoever signs the stage, admin)."""
    if change.author is None:
        return
    for stage_id in edited_stages(change.process, change.before, change.after):
        if not may_edit(change.author, change.process, stage_id, change.view("after" if change.created else "before")):
            stage = change.process.stage(stage_id)
            yield change.finding(
                _("{stage} ({title}) changed by {author}, who may not change it ({editors})").format(
                    stage=stage.id,
                    title=title_of(stage),
                    author=change.author.label(),
                    editors=editors_wording(change.process, stage_id),
                ),
                "not-an-editor",
                stage_id,
            )


# -- a sign-off (approve, reject) -------------------------------------------------------------
def signoff_as_described(change: ProjectChange) -> Iterator[Finding]:
    """A sign-off commit adds exactly the sign-off its trailers describe, by its author, at its
    time, on data it does not change."""
    if change.decision not in _SIGNING:
        return
    step_id = change.trailer("Step") if not change.pending else _signed(change)[0].step if _signed(change) else ""
    if not change.process.has_step(step_id or ""):
        yield change.finding(
            _("signs an unknown step {step}").format(step=repr(step_id)), "unknown-step", step=step_id or ""
        )
        return
    step = change.process.step(step_id or "")  # a known step: not None, not ""
    signoff = _signoff_of(change, step)
    if signoff is None:
        said = (
            _("the commit signs {step} but its files add no sign-off for it (a commit with no matching signature)")
            if not change.added
            else _(
                "the commit signs {step} but its files add other sign-off for it (a commit with no matching signature)"
            )
        )
        yield change.finding(said.format(step=step.id), "no-signoff", step.stage, step.id, step.clause)
        return
    if not change.pending:
        trailers = {
            "Decision": signoff.decision.value,
            "Role": signoff.role,
            "Digest": signoff.digest,
            "On-Behalf-Of": signoff.on_behalf_of,
        }
        for key, value in trailers.items():
            if change.trailer(key) != value:
                yield change.finding(
                    _("the sign-off in the file says {key} {value}, its commit says {said}").format(
                        key=key.lower(), value=value, said=change.trailer(key)
                    ),
                    "trailer-mismatch",
                    step.stage,
                    step.id,
                    step.clause,
                )
        if signoff.at != change.at:
            yield change.finding(
                _("the sign-off is dated {at}, its commit {committed}").format(
                    at=signoff.at.isoformat(), committed=change.at.isoformat()
                ),
                "signoff-time",
                step.stage,
                step.id,
                step.clause,
            )
    if change.author is not None and signoff.by != change.author.id:
        yield change.finding(
            _("signed in the name of {person} but committed by {author} (nobody signs for someone else)").format(
                person=signoff.by, author=change.author.label()
            ),
            "signed-for-another",
            step.stage,
            step.id,
            step.clause,
        )
    if any(change.before.record(s.id).data != change.after.record(s.id).data for s in change.process.stages):
        yield change.finding(
            _("a sign-off commit also changed the records' data"),
            "signoff-changed-data",
            step.stage,
            step.id,
            step.clause,
        )


def notice_as_described(change: ProjectChange) -> Iterator[Finding]:
    """A commit names a notice (``Xmflow-Notice``: the Message-ID of the mail it sends) only when
    it approves a step whose process sends one, and names it as a Message-ID."""
    said = change.trailer("Notice")
    if said is None:
        return
    step_id = change.trailer("Step") or ""
    step = change.process.step(step_id) if change.process.has_step(step_id) else None
    if change.decision != Decision.APPROVE.value or step is None or step.notice is None:
        yield change.finding(
            _("the commit names a notice (Xmflow-Notice {message}) but approves no step that sends one").format(
                message=said
            ),
            "notice-unexpected",
            step.stage if step else "",
            step_id,
        )
    elif not _MESSAGE_ID.fullmatch(said):
        yield change.finding(
            _("Xmflow-Notice {message} is not a Message-ID (<…@…>)").format(message=said),
            "notice-malformed",
            step.stage,
            step.id,
            step.clause,
        )


def signoff_allowed(change: ProjectChange) -> Iterator[Finding]:
    """The procedure would have allowed the sign-off when it was made: the signer held the role,
    what it follows was signed, what it needs was there, nobody approved their own work, a
    delegation covered it, and its digest is that of the data signed."""
    step, signoff = _step_and_signoff(change)
    if step is None or signoff is None:
        return
    people, view = change.settings.people, change.view("before")
    actor = people.by_id(signoff.by)
    signer = people.by_id(signoff.on_behalf_of) if signoff.on_behalf_of else actor
    if actor is None or signer is None:
        yield change.finding(
            _("signed by {person}, who is not in people.yaml at that commit").format(
                person=signoff.on_behalf_of or signoff.by
            ),
            "signer-unknown",
            step.stage,
            step.id,
        )
        return
    if view.current_digest(step) != signoff.digest:
        yield change.finding(
            _("the sign-off's digest is not that of the data it was made on"),
            "digest-mismatch",
            step.stage,
            step.id,
            step.clause,
        )
    refusals = sign_refusals(view, step, signer, signoff.role, signoff.decision)
    if signoff.on_behalf_of:
        refusals += delegation_refusals(view, step, actor, signer, signoff.role, people, signoff.at.date())
    for problem in refusals:
        yield change.finding(
            _("signed when the procedure refused it: {problem}").format(problem=problem.message),
            "refused",
            step.stage,
            step.id,
            problem.clause or step.clause,
        )


def signoff_in_order(change: ProjectChange) -> Iterator[Finding]:
    """A sign-off is not dated before the signatures of the steps it follows (a backdated
    sign-off), nor a client's paper before the company's signature it was signed on."""
    step, signoff = _step_and_signoff(change)
    if step is None or signoff is None:
        return
    view = change.view("before")
    for pre in step.after:
        if not change.process.has_step(pre.step):
            continue
        for earlier in view.valid_signatures(change.process.step(pre.step)).values():
            if earlier.at > signoff.at + SKEW:
                yield change.finding(
                    _(
                        "dated {at}, before {step}'s signature of {earlier} that it follows (a backdated sign-off)"
                    ).format(
                        at=signoff.at.isoformat(timespec="minutes"),
                        step=pre.step,
                        earlier=earlier.at.isoformat(timespec="minutes"),
                    ),
                    "backdated",
                    step.stage,
                    step.id,
                    step.clause,
                )
            elif signoff.signed_on and signoff.signed_on < (earlier.signed_on or earlier.at.date()):
                yield change.finding(
                    _("the client's paper is dated {day}, before {step} was signed ({signed})").format(
                        day=signoff.signed_on, step=pre.step, signed=earlier.signed_on or earlier.at.date()
                    ),
                    "backdated",
                    step.stage,
                    step.id,
                    step.clause,
                )


def paper_dated_sanely(change: ProjectChange) -> Iterator[Finding]:
    """The day a client signed on paper (`--date`) is not after the day it was recorded, nor
    before the project was opened."""
    step, signoff = _step_and_signoff(change)
    if step is None or signoff is None or signoff.signed_on is None:
        return
    opened = figure(change.view("before"), "opened")
    if signoff.signed_on > signoff.at.date():
        yield change.finding(
            _("the client's paper is dated {day}, after the day it was recorded ({recorded})").format(
                day=signoff.signed_on, recorded=signoff.at.date()
            ),
            "future-date",
            step.stage,
            step.id,
            step.clause,
        )
    elif opened and signoff.signed_on < opened:
        yield change.finding(
            _("the client's paper is dated {day}, before the project was opened ({opened})").format(
                day=signoff.signed_on, opened=opened
            ),
            "backdated",
            step.stage,
            step.id,
            step.clause,
        )


def _signed(change: ProjectChange) -> list[Signoff]:
    return [s for s in change.added if s.decision is not Decision.REOPEN]


def _signoff_of(change: ProjectChange, step: Step) -> Signoff | None:
    """The one sign-off of *step* the change adds, or None when it adds none or others too."""
    mine = [s for s in change.added if s.step == step.id]
    return mine[0] if len(change.added) == 1 and mine else None


def _step_and_signoff(change: ProjectChange) -> tuple[Step | None, Signoff | None]:
    if change.decision not in _SIGNING:
        return None, None
    signed = _signed(change)
    step_id = change.trailer("Step") if not change.pending else signed[0].step if signed else None
    if not step_id or not change.process.has_step(step_id):
        return None, None
    step = change.process.step(step_id)
    return step, _signoff_of(change, step)


CHECKS: tuple[Check, ...] = (
    signoffs_only_added,
    signoffs_in_place,
    scans_kept,
    author_known,
    decision_known,
    facts_not_in_future,
    persons_known,
    record_adds_no_signoff,
    reopened_where_needed,
    reopens_by_signers,
    ledgers_append_only,
    ledger_entries_allowed,
    editors_only,
    signoff_as_described,
    notice_as_described,
    signoff_allowed,
    signoff_in_order,
    paper_dated_sanely,
)

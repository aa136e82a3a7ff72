"""The words of xmflow's tables — column headers, states of steps, decisions, totals — in the
language in use (their English is the catalogue's message id; see :mod:`xmflow.i18n`); and the
titles the process gives in both languages (:func:`title_of`).

The terminal (cli/console.py), the workbooks and the CSV (cli/spreadsheets.py, reports/) name
their columns here, so a column is called the same wherever it is shown.
"""

from __future__ import annotations

import functools
from typing import Protocol

from xmflow import i18n
from xmflow.i18n import pgettext


def label(key: str) -> str:
    """The word for *key* (``project``, ``signed``, ``d_reject``…) in the language in use."""
    return _table(i18n.language())[key]


def label_or(key: str) -> str:
    """The word for *key*, or *key* itself when it has none (an ageing bucket: ``0-30``)."""
    return _table(i18n.language()).get(key, key)


def has_label(key: str) -> bool:
    return key in _table(i18n.language())


@functools.cache
def _table(language: str) -> dict[str, str]:
    """Every word of the tables in *language* (made once per language: a table of 10,000 rows
    asks for the same few words at every row)."""
    del language  # the key of the cache: the words are the catalogue's in use
    return {
        # columns
        "project": pgettext("table", "project"),
        "name": pgettext("table", "name"),
        "client": pgettext("table", "client"),
        "sales": pgettext("table", "sales"),
        "key": pgettext("table", "key"),
        "stage": pgettext("table", "stage"),
        "next": pgettext("table", "next step"),
        "who": pgettext("table", "waiting on"),
        "waiting": pgettext("table", "days waiting"),
        "overdue": pgettext("table", "overdue milestones"),
        "amount": pgettext("table", "contract amount"),
        "step": pgettext("table", "step"),
        "state": pgettext("table", "state"),
        "signers": pgettext("table", "signed / to sign"),
        "missing": pgettext("table", "missing"),
        "clause": pgettext("table", "clause"),
        "roles": pgettext("table", "roles"),
        "title": pgettext("table", "title"),
        "form": pgettext("table", "form"),
        "when": pgettext("table", "applies when"),
        "after": pgettext("table", "after"),
        "number": pgettext("table", "number"),
        "role": pgettext("table", "role"),
        "sum": pgettext("table", "amount"),
        "percent": pgettext("table", "percent"),
        "event": pgettext("table", "event"),
        "event_date": pgettext("table", "event date"),
        "due_date": pgettext("table: the day a term falls due", "due"),
        "warranty_end": pgettext("table", "warranty ends"),
        "due": pgettext("table: the amount fallen due", "due"),
        "invoiced": pgettext("table", "invoiced"),
        "received": pgettext("table", "received"),
        "receivable": pgettext("table", "receivable"),
        "not_due": pgettext("table", "not yet due"),
        "late": pgettext("table", "late"),
        "time": pgettext("table", "time"),
        "note": pgettext("table", "note"),
        "waited": pgettext("table", "days waited"),
        "commit": pgettext("table", "commit"),
        "decision": pgettext("table", "decision"),
        "by": pgettext("table", "by"),
        # the portfolio's cells, the totals, the titles of tables and charts
        "money_mine": pgettext("table", "money waiting on you"),
        "what": pgettext("table", "what"),
        "since": pgettext("table", "since"),
        "invoice": pgettext("money", "to invoice: fallen due, not invoiced"),
        "collect": pgettext("money", "invoiced, waiting for the money"),
        "unreceived": pgettext("table", "contract not yet received"),
        # the events payment terms count from (4.0): in English the ids people type in `due:`
        "ev_signing": pgettext("payment event", "signing"),
        "ev_shipment": pgettext("payment event", "shipment"),
        "ev_acceptance": pgettext("payment event", "acceptance"),
        "ev_warranty_end": pgettext("payment event", "warranty_end"),
        "closed": pgettext("table", "closed"),
        "withdrawn": pgettext("table", "withdrawn (终止)"),
        "none": pgettext("table", "(none)"),
        "yes": pgettext("table", "yes"),
        "total": pgettext("table", "total"),
        "schedule": pgettext("table", "payment schedule"),
        "ageing": pgettext("table", "receivables ageing (by due date)"),
        "pipeline": pgettext("table", "projects by stage"),
        "late_steps": pgettext("table", "late steps"),
        "forms": pgettext("table", "forms"),
        "revisions": pgettext("table", "revisions"),
        # the states of a step
        "signed": pgettext("step state", "signed"),
        "waiting_state": pgettext("step state", "waiting"),
        "blocked": pgettext("step state", "blocked"),
        "skipped": pgettext("step state", "skipped"),
        "declined": pgettext("step state", "declined"),
        "stopped": pgettext("step state", "stopped"),
        # the decisions of the audit trail
        "d_approve": pgettext("decision", "approve"),
        "d_reject": pgettext("decision", "reject"),
        "d_record": pgettext("decision", "record"),
        "d_reopen": pgettext("decision", "reopen"),
        "d_outside": pgettext("decision", "outside xmflow"),
        # the columns of the procedure's revisions (修订记录)
        "version": pgettext("revision", "version"),
        "chapter": pgettext("revision", "chapter"),
        "content": pgettext("revision", "content"),
        "date": pgettext("revision", "date"),
        "prepared_by": pgettext("revision", "prepared by"),
        "reviewed_by": pgettext("revision", "reviewed by"),
        "approved_by": pgettext("revision", "approved by"),
    }


def yes_no(value: bool | None) -> str:
    """A yes/no value as a person reads it (是/否), never True or False; none as —."""
    if value is None:
        return "—"
    return pgettext("a yes/no value", "yes") if value else pgettext("a yes/no value", "no")


def in_language(zh: str, en: str) -> str:
    """A title the process gives in both languages (a stage's, a step's, a role's, a form's), in
    the language in use: the Chinese where it gives no English."""
    return en if i18n.language() == "en" and en else zh


class Titled(Protocol):
    """What the process titles in both languages: a stage, a step, a role, a form."""

    @property
    def title(self) -> str: ...
    @property
    def title_en(self) -> str: ...


def title_of(thing: Titled) -> str:
    """The title of a stage, step, role or form of the process in the language in use."""
    return in_language(thing.title, thing.title_en)

"""Acknowledged findings: an admin's record that a finding of a commit is known, and why.

A commit already on the shared repository cannot be taken back (history only grows), so a
mistake there would be a finding for ever, and the server's hook would refuse every later push.
An admin acknowledges it instead, in a commit of its own that adds an entry to
``acknowledgements.yaml``; `verify` then lists the finding as acknowledged, not as a finding.
An entry names one commit, one kind of finding and the project, so it never hides anything
else — not a later commit, not another kind of finding of the same commit. The file is guarded
like ``people.yaml``: only an admin's change of it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xmflow import yamlio
from xmflow.errors import RecordError
from xmflow.i18n import _
from xmflow.values import check_text

ACKNOWLEDGEMENTS = "acknowledgements.yaml"
_KEYS = ("commit", "finding", "project", "why")


@dataclass(frozen=True)
class Acknowledgement:
    """A finding an admin has acknowledged: its commit, its kind, its project, and why."""

    commit: str
    finding: str
    project: str
    why: str

    def covers(self, commit: str, kind: str, project: str) -> bool:
        return self.commit == commit and self.finding == kind and self.project == project


def parse(text: str, name: str = ACKNOWLEDGEMENTS) -> tuple[Acknowledgement, ...]:
    """Read the acknowledgements file strictly (file and line in every error)."""
    doc = yamlio.load(text, name)
    data = doc.data or {}
    if not isinstance(data, dict) or set(data) - {"acknowledged"}:
        raise RecordError(
            name, _("must have one section, `acknowledged:`, a list of {{commit, finding, project, why}}").format()
        )
    items = data.get("acknowledged") or []
    if not isinstance(items, list):
        raise RecordError(doc.where(("acknowledged",)), _("`acknowledged` must be a list"))
    return tuple(_entry(doc, i, item) for i, item in enumerate(items))


def _entry(doc: yamlio.Document, index: int, item: Any) -> Acknowledgement:
    where = ("acknowledged", index)
    if not isinstance(item, dict) or set(item) - set(_KEYS):
        raise RecordError(
            doc.where(where), _("an acknowledgement is a mapping of {keys}").format(keys=", ".join(_KEYS))
        )
    values = {}
    for key in _KEYS:
        value = item.get(key)
        if value is None and key == "project":
            value = ""
        if not isinstance(value, str) or (not value and key != "project"):
            raise RecordError(
                doc.where(where + (key,)),
                _("acknowledgement {number}: `{key}` must be text").format(number=index + 1, key=key),
            )
        try:
            values[key] = check_text(value, multiline=key == "why")
        except ValueError as exc:
            raise RecordError(
                doc.where(where + (key,)),
                _("acknowledgement {number}: `{key}` {problem}").format(number=index + 1, key=key, problem=exc),
            ) from None
    if len(values["commit"]) != 40 or not all(c in "0123456789abcdef" for c in values["commit"]):
        raise RecordError(
            doc.where(where + ("commit",)),
            _("acknowledgement {number}: `commit` must be a full commit id (40 hex digits)").format(number=index + 1),
        )
    return Acknowledgement(**values)


def dump(entries: tuple[Acknowledgement, ...]) -> str:
    """The file's text, entries in the order they were made."""
    header = (
        "# Findings of `xmflow verify` an admin has acknowledged (xmflow verify --acknowledge COMMIT -m WHY).\n"
        "# Each names one commit, one kind of finding and its project; it hides nothing else.\n"
    )
    body = {
        "acknowledged": [
            {"commit": a.commit, "finding": a.finding, "project": a.project or None, "why": a.why} for a in entries
        ]
    }
    body["acknowledged"] = [{k: v for k, v in item.items() if v is not None} for item in body["acknowledged"]]
    return header + yamlio.dump(body)

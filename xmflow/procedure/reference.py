"""The reference of the stage fields, made from the process: `xmflow process show --fields`.

For each stage, each field a record may hold (``contract.payment_terms.N.percent``: N is an
item's number), its type in words (:meth:`FieldType.describe`), the steps that require it (and
what they require of it), the steps that fill it in, the conditions it decides, and whether it
is written only by its own command, notes progress after signing, holds line breaks or is a
day that has come. In the language in use: a table a stage in the terminal, or Markdown
(``--markdown``: ``examples/fields.zh.md`` and ``examples/fields.en.md`` are made so from the
packaged process, and a test keeps them so); ``--json`` gives the same as data, in English.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from xmflow import i18n
from xmflow.i18n import _, pgettext
from xmflow.labels import in_language, title_of
from xmflow.procedure.conditions import Always, Condition, referenced_fields
from xmflow.procedure.process import INVOICES, RECEIPTS, Process, Requirement, Stage
from xmflow.procedure.schema import FieldType

ITEM = "N"  # a list's item in a field path: contract.payment_terms.N.name (N: 0, 1, …)

LEDGER_COMMANDS = {INVOICES: "xmflow invoice", RECEIPTS: "xmflow receive"}  # the commands that write them
COMMANDS = {
    "zh": "xmflow --lang zh process show --fields --markdown",
    "en": "xmflow --lang en process show --fields --markdown",
}


@dataclass(frozen=True)
class Field:
    """One field of a stage, and what the process says of it."""

    path: str
    ftype: FieldType
    required: tuple[tuple[str, Requirement], ...] = ()  # (step id, what it requires)
    filled: tuple[str, ...] = ()  # steps that fill it in (`fills`)
    decides: tuple[str, ...] = ()  # the stages and steps whose condition reads it
    derives: tuple[str, ...] = ()  # the derived names (key) whose condition reads it


@dataclass(frozen=True)
class StageFields:
    """A stage and its fields, in the order the process gives them."""

    stage: Stage
    fields: tuple[Field, ...]
    editors: tuple[str, ...]


def reference(process: Process) -> list[StageFields]:
    """Every stage of *process* with every field it holds."""
    required: dict[str, list[tuple[str, Requirement]]] = {}
    filled: dict[str, list[str]] = {}
    decides: dict[str, list[str]] = {}
    derives: dict[str, list[str]] = {}

    def reads(cond: Condition, what: str, into: dict[str, list[str]] = decides) -> None:
        for path in referenced_fields(cond):
            if what not in into.setdefault(_generic(path), []):
                into[_generic(path)].append(what)

    for name, cond in process.derived.items():
        reads(cond, name, derives)
    for stage in process.stages:
        reads(stage.when, stage.id)
        for step in stage.steps:
            reads(step.when, step.id)
            for req in step.requires:
                required.setdefault(_generic(req.field), []).append((step.id, req))  # its `when`: said there
            for path in step.fills:
                filled.setdefault(_generic(path), []).append(step.id)
    return [
        StageFields(
            stage,
            tuple(
                Field(
                    path,
                    ftype,
                    tuple(required.get(path, ())),
                    tuple(filled.get(path, ())),
                    tuple(decides.get(path, ())),
                    tuple(derives.get(path, ())),
                )
                for path, ftype in _walk(stage.fields, stage.id)
            ),
            process.editors(stage.id),
        )
        for stage in process.stages
    ]


def _walk(ftype: FieldType, prefix: str) -> Iterator[tuple[str, FieldType]]:
    """Each field under *ftype* by its path, a mapping's fields after it, a list's items' after it."""
    for name, sub in ftype.fields.items():
        path = f"{prefix}.{name}"
        yield path, sub
        if sub.kind == "map":
            yield from _walk(sub, path)
        elif sub.kind == "list" and sub.item is not None and sub.item.kind == "map":
            yield from _walk(sub.item, f"{path}.{ITEM}")


def _generic(path: str) -> str:
    """A path as the reference names it: an item's number as N (milestones.0.due → milestones.N.due)."""
    return ".".join(ITEM if part.isdigit() else part for part in path.split("."))


# -- the words ------------------------------------------------------------------------------------
def _listed(items: Iterable[str]) -> str:
    """Names one after another: ``a, b`` (Chinese: ``a、b``)."""
    return pgettext("between the names of a list", ", ").join(items)


def _role(process: Process, role_id: str) -> str:
    role = process.roles.get(role_id)
    return title_of(role) if role else role_id


def _value(ftype: FieldType | None, value: Any) -> str:
    """A value the process compares a field with, as a person writes it: 是/否, a field's path."""
    text = str(value)
    if text.startswith("$"):
        return text[1:]
    if ftype is not None and ftype.kind == "bool" and text.lower() in ("true", "false"):
        return (
            "是" if text.lower() == "true" else "否"
        )  # untranslated: how a yes/no field is written, in both languages
    return text


def type_words(process: Process, f: Field) -> str:
    """The type of a field in words, a person's with the role they must hold."""
    words = f.ftype.describe()
    if f.ftype.kind == "person" and f.ftype.role:
        return _("{type}, holding the role {role}").format(type=words, role=_role(process, f.ftype.role))
    return words


def requirement_words(process: Process, step_id: str, req: Requirement) -> str:
    """``contract.draft (at least 1 item; each with name, percent, due; percent adds up to 100)``."""
    ftype = process.field_type(req.field)
    item = ftype.item if ftype is not None and ftype.kind == "list" else None
    parts = []
    if req.min_items is not None:
        parts.append(_("{count} or more items").format(count=req.min_items))
    if req.each_has:
        parts.append(_("each with {fields}").format(fields=", ".join(req.each_has)))
    if req.sum is not None:
        total = _value(None, req.equals) if req.equals is not None else "?"
        parts.append(_("{field} adds up to {total}").format(field=req.sum, total=total))
    elif req.equals is not None:
        parts.append(_("= {value}").format(value=_value(item or ftype, req.equals)))
    if req.all_true:
        parts.append(_("each 是"))
    if not isinstance(req.when, Always):
        parts.append(_("when {condition}").format(condition=req.when.describe()))
    if not parts:
        return step_id
    return _("{step} ({conditions})").format(step=step_id, conditions="; ".join(parts))


def notes(process: Process, f: Field) -> list[str]:
    """What else to know of a field, a line each."""
    found = []
    if f.ftype.readonly:
        command = next(
            (LEDGER_COMMANDS.get(ledger.id) for ledger in process.ledgers.values() if ledger.field == f.path), None
        )
        found.append(
            _("written only by {command}, not by set or edit").format(command=command)
            if command
            else _("written only by its own command, not by set or edit")
        )
    if f.ftype.tracking:
        found.append(
            _("progress noted after signing: no signature covers it, a completed stage takes it without --reopen")
        )
    if f.ftype.multiline:
        found.append(_("may hold line breaks"))
    if f.ftype.past:
        found.append(_("a day that has come, not one in the future"))
    if f.filled:
        found.append(_("filled in at {steps}").format(steps=_listed(f.filled)))
    if f.derives:
        found.append(_("decides {names}").format(names=_listed(f.derives)))
    if f.decides:
        found.append(_("decides whether these apply: {steps}").format(steps=_listed(f.decides)))
    return found


def heading(stage: Stage) -> str:
    """``contract — 合同 (contract.yaml, clause 3.4)``."""
    title = title_of(stage)
    if stage.clause:
        return _("{stage} — {title} ({file}, clause {clause})").format(
            stage=stage.id, title=title, file=stage.file, clause=stage.clause
        )
    return _("{stage} — {title} ({file})").format(stage=stage.id, title=title, file=stage.file)


def about(process: Process, entry: StageFields) -> list[str]:
    """The lines under a stage's heading: when it applies, who changes its fields."""
    lines = []
    if not isinstance(entry.stage.when, Always):
        lines.append(_("Applies when: {condition}").format(condition=entry.stage.when.describe()))
    if entry.editors:
        lines.append(_("Changed by: {roles}").format(roles=_listed(_role(process, r) for r in entry.editors)))
    return lines


def headers() -> list[str]:
    return [
        pgettext("fields reference", "field"),
        pgettext("fields reference", "type"),
        pgettext("fields reference", "required by"),
        pgettext("fields reference", "notes"),
    ]


def rows(process: Process, entry: StageFields) -> list[tuple[str, str, list[str], list[str]]]:
    """A row a field: its path, its type, the steps that require it, the notes."""
    return [
        (
            f.path,
            type_words(process, f),
            [requirement_words(process, step, req) for step, req in f.required],
            notes(process, f),
        )
        for f in entry.fields
    ]


def title(process: Process) -> str:
    return _("Stage fields: {process} ({document})").format(
        process=in_language(process.name, process.name_en), document=process.document
    )


def intro() -> str:
    return _(
        "Each stage's fields as the process defines them: their type, the steps that require them, and "
        "what else to know. N in a path is an item's number, from 0: xmflow set PROJECT "
        "contract.payment_terms.0.percent=30."
    )


# -- the outputs ----------------------------------------------------------------------------------
def markdown(process: Process) -> str:
    """The reference as a Markdown document, in the language in use."""
    made = _("Generated by `{command}`: do not edit by hand.").format(
        command=COMMANDS.get(i18n.language(), COMMANDS["en"])
    )
    out = [f"<!-- {made} -->", "", f"# {_md(title(process))}", "", _md(intro()), ""]
    for entry in reference(process):
        out += [f"## {_md(heading(entry.stage))}", ""]
        lines = about(process, entry)
        if lines:
            out += [*(f"- {_md(line)}" for line in lines), ""]
        names = headers()
        out += ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
        for path, words, required, said in rows(process, entry):
            cells = [f"`{path}`", _md(words), "<br>".join(_md(r) for r in required), "<br>".join(_md(n) for n in said)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    """Text as Markdown shows it as written: no table cell ends at a |, no * starts emphasis, no <
    starts a tag (an _ inside a word is a letter to GitHub's Markdown)."""
    return text.replace("|", "\\|").replace("*", "\\*").replace("<", "&lt;")


def as_json_data(process: Process) -> dict[str, Any]:
    """The reference as data, for scripts: ids, kinds and flags (English, as JSON stays)."""
    return {
        "process": process.name,
        "document": process.document,
        "stages": [
            {
                "id": e.stage.id,
                "title": e.stage.title,
                "title_en": e.stage.title_en,
                "file": e.stage.file,
                "clause": e.stage.clause,
                "when": e.stage.when.describe(str),
                "editors": list(e.editors),
                "fields": [_field_json(f) for f in e.fields],
            }
            for e in reference(process)
        ],
    }


def _field_json(f: Field) -> dict[str, Any]:
    t = f.ftype
    return {
        "path": f.path,
        "type": _type_json(t),
        "readonly": t.readonly,
        "tracking": t.tracking,
        "multiline": t.multiline,
        "past": t.past,
        "required_by": [
            {
                "step": step,
                "when": req.when.describe(str),
                "equals": req.equals,
                "min_items": req.min_items,
                "each_has": list(req.each_has),
                "sum": req.sum,
                "all_true": req.all_true,
            }
            for step, req in f.required
        ],
        "filled_by": list(f.filled),
        "decides": list(f.decides),
        "derives": list(f.derives),
    }


def _type_json(t: FieldType) -> dict[str, Any]:
    found: dict[str, Any] = {"kind": t.kind}
    if t.kind == "enum":
        found["values"] = list(t.values)
    if t.kind == "person" and t.role:
        found["role"] = t.role
    if t.kind == "list" and t.item is not None:
        found["item"] = _type_json(t.item)
    if t.kind == "map":
        found["fields"] = list(t.fields)
    return found


def show(out: Any, process: Process, as_json: bool = False, as_markdown: bool = False) -> None:
    """`process show --fields`: the reference in the terminal, as Markdown or as JSON."""
    if as_json:
        out.json(as_json_data(process))
    elif as_markdown:
        out.text(markdown(process))
    else:
        out.sections(
            title(process),
            intro(),
            [
                (
                    heading(e.stage),
                    about(process, e),
                    headers(),
                    [
                        [path, words, "\n".join(required), "\n".join(said)]
                        for path, words, required, said in rows(process, e)
                    ],
                )
                for e in reference(process)
            ],
        )

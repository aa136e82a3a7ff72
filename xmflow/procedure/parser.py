"""Reading a process file: its YAML into the typed process, every key known and of its type,
each error naming the file and line; :mod:`xmflow.procedure.crosschecks` then checks every reference.
The packaged default (``process.yaml`` next to this module) or a workspace's own is loaded here."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from xmflow import yamlio
from xmflow.errors import ProcessError, RecordError
from xmflow.i18n import _, pgettext
from xmflow.procedure.conditions import Condition, parse_condition
from xmflow.procedure.crosschecks import SETTINGS, Checker
from xmflow.procedure.process import (
    DEFAULT_NAME,
    FIGURES,
    Form,
    Ledger,
    Notice,
    PaymentEvent,
    Prerequisite,
    Process,
    Reject,
    Requirement,
    Role,
    Stage,
    Step,
)
from xmflow.procedure.schema import FieldType, parse_field_type
from xmflow.values import as_written, brief, quoted

_TOP = {
    "name",
    "name_en",
    "document",
    "revisions",
    "roles",
    "derived",
    "stages",
    "ledgers",
    "figures",
    "forms",
    "payment_events",
    "editors",
}
_ROLE = {"title", "title_en", "global", "named_in", "external", "recorded_by"}
_STAGE = {"id", "title", "title_en", "file", "clause", "form", "when", "fields", "steps", "editors", "halts"}
_STEP = {
    "id",
    "title",
    "title_en",
    "clause",
    "roles",
    "mode",
    "review",
    "when",
    "after",
    "requires",
    "on_reject",
    "form",
    "fills",
    "due_days",
    "notify",
}
_NOTIFY = {"to", "template", "forms"}
_REQUIREMENT = {"field", "when", "equals", "min_items", "each_has", "all_true", "sum"}
_REJECT = {"to", "keeps", "declines", "means", "means_en"}
_LEDGER = {"stage", "field", "roles", "clause", "after"}
_FORM = {"number", "title", "title_en", "annex", "clause", "copies", "stamps", "when"}
_PARTIES = {"company", "client"}
_ID = re.compile(r"[^\W\d][\w-]*")  # a stage's, a step's or a role's id: a word, no dots
_FIELD_REF = re.compile(r"[^\W\d][\w-]*(\.\w+)+")
MAX_DAYS = 99_999


def _dotted(sub: yamlio.Path) -> str:
    """The field names in a path inside a field type: ``("fields", "a", "list", "type")`` → ``.a``."""
    names, i = [], 0
    while i < len(sub):
        if sub[i] == "fields" and i + 1 < len(sub):
            names.append(str(sub[i + 1]))
            i += 2
        else:
            i += 1
    return "".join("." + name for name in names)


class Parser:
    """One process document → :class:`Process`."""

    def __init__(self, doc: yamlio.Document) -> None:
        self.doc = doc
        if not isinstance(doc.data, dict):
            raise ProcessError(doc.name, _("a process file must be a mapping with `stages`"))
        self.data: dict[str, Any] = doc.data

    def fail(self, path: yamlio.Path, message: str) -> ProcessError:
        return ProcessError(self.doc.where(path), message)

    def mapping(self, spec: Any, path: yamlio.Path, known: set[str], what: str) -> dict[str, Any]:
        """*spec* as a mapping whose keys are all *known*; *what* is what the entry is, in words."""
        if not isinstance(spec, dict):
            raise self.fail(path, _("a {what} must be a mapping").format(what=what))
        for key in spec:
            if key not in known:
                raise self.fail(
                    path + (key,),
                    _("unknown {what} field {name} (known: {known})").format(
                        what=what, name=brief(key), known=", ".join(sorted(known))
                    ),
                )
        return spec

    def get(self, node: dict[str, Any], path: yamlio.Path, key: str, default: Any = ..., kind: type = str) -> Any:
        """``node[key]``, which must be a *kind* (text, a mapping, a list); *default* when absent
        or empty (a missing key without a default is an error)."""
        value = node.get(key)
        if value is None:
            if default is ...:
                raise self.fail(path, _("missing `{key}`").format(key=key))
            return default
        if not isinstance(value, kind):
            raise self.fail(path + (key,), _("`{key}` must be {kind}").format(key=key, kind=_kind_words()[kind]))
        return value

    def flag(self, node: dict[str, Any], path: yamlio.Path, key: str, default: bool = False) -> bool:
        value = node.get(key)
        if value is None:
            return default
        if str(value).lower() not in ("true", "false"):
            raise self.fail(path + (key,), _("`{key}` must be true or false").format(key=key))
        return str(value).lower() == "true"

    def names(self, node: dict[str, Any], path: yamlio.Path, key: str) -> tuple[str, ...]:
        value = node.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(path + (key,), _("`{key}` must be a list of names").format(key=key))
        return tuple(value)

    def number(self, node: dict[str, Any], path: yamlio.Path, key: str, what: str) -> int | None:
        """A whole number of at most MAX_DAYS (days, items, copies), or None when absent."""
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.isascii() or not value.isdigit() or int(value) > MAX_DAYS:
            raise self.fail(
                path + (key,),
                _("`{key}` must be a whole number of {what} (at most {most})").format(
                    key=key, what=what, most=f"{MAX_DAYS:,}"
                ),
            )
        return int(value)

    def identifier(self, node: dict[str, Any], path: yamlio.Path, key: str = "id") -> str:
        value: str = self.get(node, path, key)
        if not _ID.fullmatch(value):
            raise self.fail(path + (key,), _not_an_id(value))
        return value

    def field_ref(self, value: Any, path: yamlio.Path) -> str:
        if not isinstance(value, str) or not _FIELD_REF.fullmatch(value):
            raise self.fail(
                path,
                _("{value} is not a field (STAGE.FIELD, e.g. contract.amount)").format(value=brief(as_written(value))),
            )
        return value

    def condition(self, spec: Any, path: yamlio.Path) -> Condition:
        try:
            return parse_condition(spec, set(self.get(self.data, (), "derived", {}, kind=dict)))
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    def process(self, text: str) -> Process:
        data = self.mapping(self.data, (), _TOP, pgettext("an entry of the process file", "process"))
        roles = {
            self.key(rid, ("roles", rid)): self.role(rid, spec, ("roles", rid))
            for rid, spec in self.get(data, (), "roles", kind=dict).items()
        }
        derived = {
            name: self.condition(spec, ("derived", name))
            for name, spec in self.get(data, (), "derived", {}, kind=dict).items()
        }
        stages = tuple(
            self.stage(spec, ("stages", i)) for i, spec in enumerate(self.get(data, (), "stages", kind=list))
        )
        ledgers = {
            lid: self.ledger(lid, spec, ("ledgers", lid))
            for lid, spec in self.get(data, (), "ledgers", {}, kind=dict).items()
        }
        figures = self.get(data, (), "figures", kind=dict)
        missing = [name for name in FIGURES if name not in figures]
        if missing:
            raise self.fail(
                ("figures",), _("`figures` must name the field of: {names}").format(names=", ".join(missing))
            )
        figures = {name: self.field_ref(ref, ("figures", name)) for name, ref in figures.items()}
        revisions = self.revisions(data.get("revisions"))
        self.check_unique(stages)
        checker = Checker(self.doc)
        checker.order(stages, derived)
        forms = self.forms(data.get("forms"), stages)
        self.check_notice_forms(stages, forms)
        events = self.payment_events(data.get("payment_events"))
        process = Process(
            self.get(data, (), "name", ""),
            self.get(data, (), "name_en", ""),
            self.get(data, (), "document", ""),
            revisions,
            roles,
            derived,
            stages,
            ledgers,
            figures,
            forms,
            events,
            self.doc.name,
            text,
            self.names(data, (), "editors"),
        )
        checker.all(process)
        return process

    def key(self, rid: str, path: yamlio.Path) -> str:
        if not _ID.fullmatch(rid):
            raise self.fail(path, _not_an_id(rid))
        return rid

    def revisions(self, spec: Any) -> tuple[dict[str, str], ...]:
        """The revision record (版序, 章节, 修订内容, 修订日期, 编制, 审核, 批准)."""
        if spec is None:
            return ()
        if not isinstance(spec, list) or not all(
            isinstance(rev, dict) and all(isinstance(v, str | None) for v in rev.values()) for rev in spec
        ):
            raise self.fail(
                ("revisions",), _("`revisions` must be a list of mappings (version, chapter, content, …) of text")
            )
        return tuple({str(k): v or "" for k, v in rev.items()} for rev in spec)

    def role(self, rid: str, spec: Any, path: yamlio.Path) -> Role:
        spec = self.mapping(spec, path, _ROLE, pgettext("an entry of the process file", "role"))
        return Role(
            rid,
            self.get(spec, path, "title", rid),
            self.get(spec, path, "title_en", rid),
            self.flag(spec, path, "global", True),
            self.names(spec, path, "named_in"),
            self.flag(spec, path, "external"),
            self.names(spec, path, "recorded_by"),
        )

    def stage(self, spec: Any, path: yamlio.Path) -> Stage:
        spec = self.mapping(spec, path, _STAGE, pgettext("an entry of the process file", "stage"))
        sid = self.identifier(spec, path)
        if not re.fullmatch(r"[A-Za-z0-9_-]+\.yaml", self.get(spec, path, "file")):
            raise self.fail(path + ("file",), _("a stage's `file` is a plain file name ending in .yaml"))
        fields = {
            name: self.field_type(sid, name, sub, path + ("fields", name))
            for name, sub in self.get(spec, path, "fields", kind=dict).items()
        }
        steps = tuple(
            self.step(sid, st, path + ("steps", i)) for i, st in enumerate(self.get(spec, path, "steps", kind=list))
        )
        return Stage(
            sid,
            self.get(spec, path, "title"),
            self.get(spec, path, "title_en", sid),
            self.get(spec, path, "file"),
            self.get(spec, path, "clause", ""),
            FieldType("map", fields=fields),
            steps,
            self.condition(spec.get("when"), path + ("when",)),
            self.get(spec, path, "form", None),
            self.names(spec, path, "editors"),
            self.flag(spec, path, "halts"),
        )

    def field_type(self, stage_id: str, name: str, spec: Any, path: yamlio.Path) -> FieldType:
        if name == "signoffs":
            raise self.fail(path, _("`signoffs` is where a stage file keeps its sign-offs: name the field otherwise"))
        try:
            return parse_field_type(spec, lambda sub: f"{self.doc.where(path + sub)}: {stage_id}.{name}{_dotted(sub)}")
        except ValueError as exc:
            raise ProcessError("", str(exc)) from None

    def step(self, stage_id: str, spec: Any, path: yamlio.Path) -> Step:
        spec = self.mapping(spec, path, _STEP, pgettext("an entry of the process file", "step"))
        after = tuple(
            self.prerequisite(p, path + ("after", i))
            for i, p in enumerate(self.get(spec, path, "after", [], kind=list))
        )
        requires = tuple(
            self.requirement(r, path + ("requires", i))
            for i, r in enumerate(self.get(spec, path, "requires", [], kind=list))
        )
        on_reject = None
        if spec.get("on_reject") is not None:
            reject = self.mapping(spec["on_reject"], path + ("on_reject",), _REJECT, "on_reject")
            where = path + ("on_reject",)
            declines = self.flag(reject, where, "declines")
            own = f"{stage_id}.{self.identifier(spec, path)}"
            on_reject = Reject(
                self.get(reject, where, "to", own if declines else ...),
                self.names(reject, where, "keeps"),
                declines,
                self.get(reject, where, "means", ""),
                self.get(reject, where, "means_en", ""),
            )
        mode = self.get(spec, path, "mode", "any")
        if mode not in ("any", "all"):
            raise self.fail(path + ("mode",), _("`mode` must be `any` or `all` (会签)"))
        fills = tuple(self.field_ref(ref, path + ("fills",)) for ref in self.names(spec, path, "fills"))
        notice = self.notice(spec["notify"], path + ("notify",)) if spec.get("notify") is not None else None
        return Step(
            f"{stage_id}.{self.identifier(spec, path)}",
            stage_id,
            self.get(spec, path, "title"),
            self.get(spec, path, "clause", ""),
            self.names(spec, path, "roles"),
            mode,
            self.flag(spec, path, "review"),
            self.condition(spec.get("when"), path + ("when",)),
            after,
            requires,
            on_reject,
            self.get(spec, path, "form", None),
            fills,
            self.get(spec, path, "title_en", ""),
            self.number(spec, path, "due_days", pgettext("a whole number of", "days")),
            notice,
        )

    def notice(self, spec: Any, path: yamlio.Path) -> Notice:
        """``notify: {to: [ROLE…], template: FILE.j2, forms: [FORM…]}``: whom the step's approval tells."""
        spec = self.mapping(spec, path, _NOTIFY, "notify")
        to = self.names(spec, path, "to")
        if not to:
            raise self.fail(path + ("to",), _("notify: `to` must name at least one role to tell"))
        template = self.get(spec, path, "template")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+\.j2", template) or template.startswith("."):
            raise self.fail(
                path + ("template",), _("notify: `template` is a plain file name ending in .j2 (under templates/)")
            )
        return Notice(to, template, self.names(spec, path, "forms"))

    def prerequisite(self, spec: Any, path: yamlio.Path) -> Prerequisite:
        if isinstance(spec, str):
            return Prerequisite(spec)
        spec = self.mapping(spec, path, {"step", "when"}, pgettext("an entry of the process file", "prerequisite"))
        return Prerequisite(self.get(spec, path, "step"), self.condition(spec.get("when"), path + ("when",)))

    def requirement(self, spec: Any, path: yamlio.Path) -> Requirement:
        spec = self.mapping(spec, path, _REQUIREMENT, pgettext("an entry of the process file", "requirement"))
        equals = spec.get("equals")
        if isinstance(equals, str) and equals.startswith("$") and "." not in equals and equals[1:] not in SETTINGS:
            raise self.fail(
                path + ("equals",),
                _("{value} is not a setting (settings: {settings})").format(
                    value=brief(equals), settings=", ".join(SETTINGS)
                ),
            )
        return Requirement(
            self.field_ref(spec.get("field"), path + ("field",)),
            self.condition(spec.get("when"), path + ("when",)),
            equals,
            self.number(spec, path, "min_items", pgettext("a whole number of", "items")),
            self.names(spec, path, "each_has"),
            self.flag(spec, path, "all_true"),
            self.get(spec, path, "sum", None),
        )

    def ledger(self, lid: str, spec: Any, path: yamlio.Path) -> Ledger:
        spec = self.mapping(spec, path, _LEDGER, pgettext("an entry of the process file", "ledger"))
        return Ledger(
            lid,
            self.get(spec, path, "stage"),
            self.field_ref(spec.get("field"), path + ("field",)),
            self.names(spec, path, "roles"),
            self.get(spec, path, "clause", ""),
            self.get(spec, path, "after"),
        )

    def payment_events(self, spec: Any) -> dict[str, PaymentEvent]:
        """What each payment term's `due` counts from: {EVENT: {step|field|figure: REF}}."""
        if spec is None:
            return {}
        if not isinstance(spec, dict):
            raise self.fail(
                ("payment_events",), _("`payment_events` must be a mapping of event → {{step|field|figure: …}}")
            )
        events = {}
        for name, entry in spec.items():
            path = ("payment_events", name)
            if (
                not isinstance(entry, dict)
                or len(entry) != 1
                or next(iter(entry)) not in ("step", "field", "figure")
                or not isinstance(next(iter(entry.values())), str)
            ):
                raise self.fail(
                    path, _("an event is one of {{step: STEP}}, {{field: FIELD}}, {{figure: warranty_end}}")
                )
            kind, ref = next(iter(entry.items()))
            events[name] = PaymentEvent(kind, ref)
        return events

    def forms(self, spec: Any, stages: tuple[Stage, ...]) -> dict[str, Form]:
        """The printed forms, in the order a project's volume binds them (4.2). A process without
        a `forms:` table still names its forms on its stages and steps: those are made plain."""
        covered: dict[str, list[str]] = {}
        for stage in stages:
            for step in stage.steps:
                if fid := step.form or stage.form:
                    covered.setdefault(fid, []).append(step.id)
        if spec is None:
            return {fid: Form(fid, fid, fid, fid, steps=tuple(steps)) for fid, steps in covered.items()}
        if not isinstance(spec, dict):
            raise self.fail(("forms",), _("`forms` must be a mapping of form name → number, title, …"))
        forms = {fid: self.form(fid, entry, ("forms", fid), tuple(covered.get(fid, ()))) for fid, entry in spec.items()}
        for i, stage in enumerate(stages):
            named = [(("stages", i, "form"), stage.form)] + [
                (("stages", i, "steps", j, "form"), step.form) for j, step in enumerate(stage.steps)
            ]
            for path, fid in named:
                if fid is not None and fid not in forms:
                    raise self.fail(
                        path,
                        _("form {form} is not in the `forms` table (forms: {forms})").format(
                            form=quoted(fid), forms=", ".join(forms)
                        ),
                    )
        seen: dict[str, str] = {}
        for fid, form in forms.items():
            for name in {n.casefold() for n in form.names()}:
                if name in seen:
                    raise self.fail(
                        ("forms", fid),
                        _("forms {first} and {second} both go by the name {name}").format(
                            first=seen[name], second=fid, name=quoted(name)
                        ),
                    )
                seen[name] = fid
        return forms

    def form(self, fid: str, spec: Any, path: yamlio.Path, steps: tuple[str, ...]) -> Form:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", fid):
            raise self.fail(path, _("a form's name has only letters, digits, - and _ (it names its template)"))
        spec = self.mapping(spec, path, _FORM, pgettext("an entry of the process file", "form"))
        copies = str(spec.get("copies", 1))
        if not copies.isascii() or not copies.isdigit() or int(copies) < 1:
            raise self.fail(path + ("copies",), _("`copies` must be a whole number of at least 1"))
        if int(copies) > 99:
            raise self.fail(path + ("copies",), _("`copies`: at most 99"))
        stamps = self.names(spec, path, "stamps")
        unknown = [p for p in stamps if p not in _PARTIES]
        if unknown:
            raise self.fail(
                path + ("stamps",),
                _("unknown party {party} (parties: company, client)").format(party=quoted(unknown[0])),
            )
        return Form(
            fid,
            self.get(spec, path, "number"),
            self.get(spec, path, "title"),
            self.get(spec, path, "title_en", fid),
            self.get(spec, path, "annex", ""),
            self.get(spec, path, "clause", ""),
            int(copies),
            stamps,
            self.condition(spec.get("when"), path + ("when",)),
            steps,
        )

    def check_notice_forms(self, stages: tuple[Stage, ...], forms: dict[str, Form]) -> None:
        for i, stage in enumerate(stages):
            for j, step in enumerate(stage.steps):
                for fid in step.notice.forms if step.notice else ():
                    if fid not in forms:
                        raise self.fail(
                            ("stages", i, "steps", j, "notify", "forms"),
                            _("notify: form {form} is not in the `forms` table (forms: {forms})").format(
                                form=quoted(fid), forms=", ".join(forms) or "-"
                            ),
                        )

    def check_unique(self, stages: tuple[Stage, ...]) -> None:
        seen: set[str] = set()
        for i, stage in enumerate(stages):
            if stage.id in seen or stage.file in seen:
                raise self.fail(
                    ("stages", i),
                    _("stage {stage} or its file {file} is defined twice").format(
                        stage=quoted(stage.id), file=quoted(stage.file)
                    ),
                )
            seen |= {stage.id, stage.file}
            step_ids: set[str] = set()
            for j, step in enumerate(stage.steps):
                if step.id in step_ids:
                    raise self.fail(
                        ("stages", i, "steps", j), _("step {step} is defined twice").format(step=quoted(step.id))
                    )
                step_ids.add(step.id)
        if not any(stage.steps for stage in stages):
            raise self.fail(("stages",), _("a process needs at least one step (the first opens a project)"))


def _kind_words() -> dict[type, str]:
    """What `get` wants a value to be, in words."""
    return {str: _("text"), dict: _("a mapping"), list: _("a list")}


def _not_an_id(value: str) -> str:
    return _("{value} is not an id (a word: letters, digits, _ and -, no dots)").format(value=brief(value))


def default_text() -> str:
    """The text of the packaged default process."""
    return resources.files("xmflow.procedure").joinpath(DEFAULT_NAME).read_text(encoding="utf-8")


@cache
def _parse_cached(text: str, name: str) -> Process:
    return parse(text, name)


def load(path: Path | None, display: str | None = None) -> Process:
    """Load the process at *path*, or the packaged default when *path* is None. The file must
    be a regular file (not a FIFO or a device: reading one would never end) inside the workspace."""
    if path is None:
        return _parse_cached(default_text(), f"(default) {DEFAULT_NAME}")
    name = display or str(path)
    if display and not _inside(path, display):
        raise ProcessError(name, _("the process file is a link that leads out of the workspace"))
    try:
        content = yamlio.read_file(path, name, follow_links=True)
    except RecordError as exc:
        raise ProcessError("", exc.message) from None
    if content is None:
        raise ProcessError(name, _("cannot read the process file: No such file or directory"))
    return parse_bytes(content, name)


def parse_bytes(content: bytes, name: str) -> Process:
    """The process in a file's bytes (UTF-8 text, else an error naming the file)."""
    try:
        text = yamlio.decode(content, name)
    except RecordError as exc:
        raise ProcessError("", exc.message) from None
    return _parse_cached(text, name)


def _inside(path: Path, relative: str) -> bool:
    """Whether *path*, which names *relative* inside a workspace, stays inside it once links are followed."""
    root = path
    for _part in PurePosixPath(relative).parts:
        root = root.parent
    return path.resolve().is_relative_to(root.resolve())


def parse(text: str, name: str) -> Process:
    """Parse and validate a process definition; errors name the file, line and entry."""
    try:
        doc = yamlio.load(text, name)
    except ProcessError:
        raise
    except RecordError as exc:
        raise ProcessError("", exc.message) from None
    return Parser(doc).process(text)

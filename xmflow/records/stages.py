"""Reading, checking and writing stage records: the one place that knows the files' format.

A stage file holds the stage's fields, then ``signoffs:``, the sign-offs made in that stage
in order. Reading is strict: an unknown field or a value of the wrong type is an error that
names the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from xmflow import yamlio
from xmflow.errors import RecordError, XmflowError
from xmflow.git.store import Vouched
from xmflow.i18n import _
from xmflow.model import Decision, Evidence, Project, Signoff, StageRecord
from xmflow.procedure.process import Process, Stage
from xmflow.procedure.schema import FieldError, FieldType, convert, plain, signed_part
from xmflow.records.cache import ParsedRecords, RecordCache
from xmflow.values import brief, parse_time, quoted

SIGNOFFS = "signoffs"
_TEXT = FieldType("text")
# A sign-off as a stage file keeps it, typed like the stage's own fields: one line each, but
# the comment (a reviewer's reasons may run to several lines); `at` is read as a time below.
SIGNOFF_TYPE = FieldType(
    "map",
    fields={
        "step": _TEXT,
        "decision": FieldType("enum", values=tuple(d.value for d in Decision)),
        "by": FieldType("person"),
        "role": _TEXT,
        "at": _TEXT,
        "digest": _TEXT,
        "comment": FieldType("text", multiline=True),
        "signatory": _TEXT,
        "evidence": FieldType("map", fields={"file": _TEXT, "sha256": _TEXT}),
        "signed_on": FieldType("date"),
        "on_behalf_of": FieldType("person"),
    },
)
_EVIDENCE_FILE = re.compile(r"files/[^/\\.][^/\\]*")  # what `sign --evidence` writes: files/STEP-HASH.ext
_SHA256 = re.compile(r"[0-9a-f]{64}")


def project_dir(root: Path, project_id: str) -> Path:
    return root / "projects" / project_id


def load_project(
    root: Path,
    process: Process,
    project_id: str,
    cache: RecordCache | None = None,
    blobs: Mapping[str, str | None] | None = None,
) -> Project:
    """Read every stage file of a project (a missing file is an empty record; a link, a FIFO or a
    device where a stage file belongs is an error naming it). *blobs* holds the git blob ids of
    the files whose working-tree content git vouches for (:func:`xmflow.git.store.vouched_blobs`):
    those found in *cache* are not read at all."""
    return project_from(process, project_id, _reader(root, project_id), cache, blobs)


def project_key(root: Path, process: Process, project_id: str, blobs: Mapping[str, str | None]) -> str:
    """The key :func:`load_project` gives the project (:attr:`Project.key`), reading only the
    stage files git does not vouch for."""
    return _key([key for _stage, key, _content in _stage_keys(process, project_id, _reader(root, project_id), blobs)])


def _reader(root: Path, project_id: str) -> Callable[[str], bytes | None]:
    """Read a project's files by name; a name not in its folder's listing is no file, without
    trying to open it (most stages of most projects have none yet)."""
    listing: set[str] | None = None

    def read(name: str) -> bytes | None:
        nonlocal listing
        base = project_dir(root, project_id)  # here, not before: a warm portfolio reads nothing
        if listing is None:
            try:
                listing = set(os.listdir(base))
            except OSError:  # read_file says why
                return yamlio.read_file(base / name, f"projects/{project_id}/{name}")
        return yamlio.read_file(base / name, f"projects/{project_id}/{name}") if name in listing else None

    return read


def project_from(
    process: Process,
    project_id: str,
    read: Callable[[str], bytes | None],
    cache: ParsedRecords | None = None,
    blobs: Mapping[str, str | None] | None = None,
) -> Project:
    """A project from its stage files as *read* gives them (by file name; None: no such file),
    from the working tree or from any commit of the history. Through a *cache*, a record is
    looked up by its path and git blob id (from *blobs* by path, where known, else of the bytes
    read) and parsed only when missing."""
    if cache is None:
        records = {}
        for stage in process.stages:
            rel = f"projects/{project_id}/{stage.file}"
            content = read(stage.file)
            records[stage.id] = (
                StageRecord(stage.id, rel) if content is None else parse_record(stage, yamlio.decode(content, rel), rel)
            )
        return Project(project_id, records)
    records, keys = {}, []
    for stage, key, content in _stage_keys(process, project_id, read, blobs or {}):
        rel = f"projects/{project_id}/{stage.file}"
        keys.append(key)
        record = StageRecord(stage.id, rel) if key == "-" else cache.get(key)
        if record is None:
            vouched = content is None  # keyed by git's blob id, the bytes not read yet
            content = read(stage.file) if content is None else content
            if content is None or (vouched and ParsedRecords.key(rel, blob_id(content)) != key):
                # gone or changed since git vouched for it (while this command ran): read as it is now
                return project_from(process, project_id, read, cache)
            record = parse_record(stage, yamlio.decode(content, rel), rel)
            cache.put(key, record)
        records[stage.id] = record
    return Project(project_id, records, _key(keys))


def _stage_keys(
    process: Process, project_id: str, read: Callable[[str], bytes | None], blobs: Mapping[str, str | None]
) -> Iterator[tuple[Stage, str, bytes | None]]:
    """Each stage, the cache key of its file ("-": no file), and the bytes read to make the key
    (None when git's blob id made it without reading). Where *blobs* is complete
    (:class:`xmflow.git.store.Vouched`), a stage file not in it is none, without looking."""
    for stage in process.stages:
        rel = f"projects/{project_id}/{stage.file}"
        blob = blobs.get(rel)
        content = None
        if blob is None:
            content = None if isinstance(blobs, Vouched) and blobs.complete else read(stage.file)
            if content is None:
                yield stage, "-", None
                continue
            blob = blob_id(content)
        yield stage, ParsedRecords.key(rel, blob), content


def _key(keys: list[str]) -> str:
    return hashlib.sha1(" ".join(keys).encode()).hexdigest()


def blob_id(content: bytes) -> str:
    """The id git gives these bytes as a blob (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def parse_record(stage: Stage, text: str, name: str) -> StageRecord:
    """Parse the text of a stage file, strictly."""
    doc = yamlio.load(text, name)
    raw = doc.data if doc.data is not None else {}
    if not isinstance(raw, dict):
        raise RecordError(doc.where(()), _("a stage file must be a mapping of fields"))
    raw = dict(raw)
    raw_signoffs = raw.pop(SIGNOFFS, None) or []
    try:
        data = convert(stage.fields, raw)
    except FieldError as exc:
        dotted = ".".join(str(p) for p in (stage.id, *exc.path))
        raise RecordError(
            doc.where(exc.path), _("{field}: {problem}").format(field=dotted, problem=exc.message)
        ) from None
    if not isinstance(raw_signoffs, list):
        raise RecordError(doc.where((SIGNOFFS,)), _("`signoffs` must be a list"))
    signoffs = tuple(_signoff(item, doc, i) for i, item in enumerate(raw_signoffs))
    return StageRecord(stage.id, name, _prune(data), signoffs, True)


def _signoff(item: Any, doc: yamlio.Document, index: int) -> Signoff:
    where = (SIGNOFFS, index)
    if not isinstance(item, dict):
        raise RecordError(doc.where(where), _("a sign-off must be a mapping"))
    for key in item:
        if key not in SIGNOFF_TYPE.fields:
            raise RecordError(doc.where(where + (key,)), _("unknown sign-off field {name}").format(name=brief(key)))
    try:
        typed = convert(SIGNOFF_TYPE, item, where)
    except FieldError as exc:
        inner = ".".join(str(p) for p in exc.path[2:])
        raise RecordError(
            doc.where(exc.path),
            _("sign-off {number}: `{field}` {problem}").format(number=index + 1, field=inner, problem=exc.message),
        ) from None
    for key in ("step", "decision", "by", "role", "at", "digest"):
        if not typed.get(key):
            raise RecordError(
                doc.where(where), _("sign-off {number} has no `{field}`").format(number=index + 1, field=key)
            )
    evidence = typed.get("evidence")
    if evidence is not None:
        evidence = _evidence(evidence, doc, where + ("evidence",), index)
    try:
        at = parse_time(typed["at"])
    except ValueError as exc:
        raise RecordError(
            doc.where(where + ("at",)), _("sign-off {number}: {problem}").format(number=index + 1, problem=exc)
        ) from None
    return Signoff(
        step=typed["step"],
        decision=Decision(typed["decision"]),
        by=typed["by"],
        role=typed["role"],
        at=at,
        digest=typed["digest"],
        comment=typed.get("comment"),
        signatory=typed.get("signatory"),
        evidence=evidence,
        signed_on=typed.get("signed_on"),
        on_behalf_of=typed.get("on_behalf_of"),
    )


def _evidence(value: dict[str, str], doc: yamlio.Document, where: yamlio.Path, index: int) -> Evidence:
    """The scan a client's sign-off names: a file of the project's ``files/`` and its SHA-256."""
    file, sha256 = value.get("file"), value.get("sha256")
    if not file or not sha256:
        raise RecordError(
            doc.where(where), _("sign-off {number}: `evidence` needs both `file` and `sha256`").format(number=index + 1)
        )
    if not _EVIDENCE_FILE.fullmatch(file):
        raise RecordError(
            doc.where(where + ("file",)),
            _(
                "sign-off {number}: `evidence.file` must name a file in the project's files/ folder (got {value})"
            ).format(number=index + 1, value=brief(file)),
        )
    if not _SHA256.fullmatch(sha256):
        raise RecordError(
            doc.where(where + ("sha256",)),
            _("sign-off {number}: `evidence.sha256` must be 64 hex digits (got {value})").format(
                number=index + 1, value=brief(sha256)
            ),
        )
    return Evidence(file, sha256)


def _prune(value: Any) -> Any:
    """Drop unfilled entries (None, empty mappings) from mappings, so a record compares and
    digests by content."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v is not None and v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def dump_record(stage: Stage, record: StageRecord) -> str:
    """The text of a stage file: fields in the process's order, then the sign-offs."""
    ordered = _ordered(stage.fields, record.data)
    body = plain(ordered)
    if record.signoffs:
        body[SIGNOFFS] = [_plain_signoff(s) for s in record.signoffs]
    return yamlio.dump(body) if body else ""


def _ordered(ftype: FieldType, value: Any) -> Any:
    if ftype.kind == "map" and isinstance(value, dict):
        return {k: _ordered(ftype.fields[k], value[k]) for k in ftype.fields if k in value and value[k] is not None}
    if ftype.kind == "list" and isinstance(value, list) and ftype.item:
        return [_ordered(ftype.item, v) for v in value]
    return value


def _plain_signoff(s: Signoff) -> dict[str, Any]:
    at = s.at.isoformat(
        timespec="seconds" if not s.at.microsecond else "auto"
    )  # as read: a hand-written fraction stays
    out: dict[str, Any] = {
        "step": s.step,
        "decision": s.decision.value,
        "by": s.by,
        "role": s.role,
        "at": at,
        "digest": s.digest,
    }
    if s.comment:
        out["comment"] = s.comment
    if s.signatory:
        out["signatory"] = s.signatory
    if s.evidence:
        out["evidence"] = {"file": s.evidence.file, "sha256": s.evidence.sha256}
    if s.signed_on:
        out["signed_on"] = s.signed_on.isoformat()
    if s.on_behalf_of:
        out["on_behalf_of"] = s.on_behalf_of
    return out


def canonical(value: Any) -> str:
    """The canonical encoding that digests are made of: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=plain)


def digest(stage: Stage, data: dict[str, Any], fields: frozenset[str] | None = None) -> str:
    """SHA-256 of the canonical encoding of a stage's data, or of the given top-level *fields*
    of it (what a step signs, Process.signed_fields); tracking fields are never part of it."""
    scope = {k: v for k, v in data.items() if fields is None or k in fields}
    return "sha256:" + hashlib.sha256(canonical(signed_part(stage.fields, scope)).encode("utf-8")).hexdigest()


def get_path(data: dict[str, Any], parts: list[str]) -> Any:
    """The value at a path inside a stage's data (list items by index), or None."""
    value: Any = data
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def set_path(data: dict[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
    """A copy of *data* with the value at *parts* replaced (None removes it)."""
    head, rest = parts[0], parts[1:]
    if rest and rest[0].isdigit() and not rest[0].isascii():
        raise IndexError(_("{value} is not an item number").format(value=quoted(rest[0])))
    result = dict(data)
    if not rest:
        if value is None:
            result.pop(head, None)
        else:
            result[head] = value
        return result
    child = result.get(head)
    if rest[0].isdigit():
        items = list(child or [])
        index = int(rest[0])
        if index > len(items):
            raise IndexError(
                _("item {index} of {field} does not exist (it has {count})").format(
                    index=index, field=head, count=len(items)
                )
            )
        if index == len(items):
            items.append({})
        items[index] = set_path(items[index], rest[1:], value) if rest[1:] else value
        result[head] = [item for item in items if item is not None]
    else:
        result[head] = set_path(child if isinstance(child, dict) else {}, rest, value)
    pruned: dict[str, Any] = _prune(result)  # a mapping stays a mapping
    return pruned


def with_signoff(record: StageRecord, signoff: Signoff) -> StageRecord:
    return replace(record, signoffs=record.signoffs + (signoff,), exists=True)


def field_problems(stage: Stage, text: str, name: str) -> list[str]:
    """Every field of a stage file's text that does not fit its type, each as parse_record says
    it (file, line, field), for `xmflow edit` to list them all at once; none when its YAML cannot
    be read (that error is the one to fix first)."""
    try:
        doc = yamlio.load(text, name)
    except XmflowError:
        return []
    raw = doc.data if isinstance(doc.data, dict) else {}
    said: list[str] = []

    def check(ftype: FieldType, value: Any, path: tuple[str | int, ...]) -> None:
        """Each item of a list and each field of a mapping on its own, so that one's error does
        not hide the next one's."""
        if ftype.kind == "map" and isinstance(value, dict) and path:
            for key, sub in value.items():
                child = ftype.child(key) if isinstance(key, str) else None
                if child is None:
                    _said(FieldError(path, ""), {key: sub}, ftype)
                else:
                    check(child, sub, (*path, key))
            return
        if ftype.kind == "list" and isinstance(value, list) and ftype.item is not None:
            for i, item in enumerate(value):
                check(ftype.item, item, (*path, i))
            return
        try:
            convert(ftype, value, path)
        except FieldError as exc:
            _say(exc)

    def _said(_at: FieldError, value: Any, ftype: FieldType) -> None:
        try:
            convert(ftype, value, _at.path)
        except FieldError as exc:
            _say(exc)

    def _say(exc: FieldError) -> None:
        dotted = ".".join(str(p) for p in (stage.id, *exc.path))
        said.append(f"{doc.where(exc.path)}: " + _("{field}: {problem}").format(field=dotted, problem=exc.message))

    for key, value in raw.items():
        if key == SIGNOFFS:
            continue
        child = stage.fields.child(key) if isinstance(key, str) else None
        if child is None:
            try:
                convert(stage.fields, {key: value})
            except FieldError as exc:
                _say(exc)
        else:
            check(child, value, (key,))
    return said

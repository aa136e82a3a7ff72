"""The one YAML reader and writer.

Reading composes the node tree (libyaml when available) and turns it into plain
``dict``/``list``/``str``/``None`` values, remembering the line of every value. No implicit
typing happens here: ``NO`` stays ``"NO"``, ``010`` stays ``"010"``; the schema converts.
Nesting is bounded (:data:`MAX_DEPTH`): no record or process needs more, and everything that
walks the values afterwards may recurse without fear. Explicit tags (``!!python/object``) and
aliases are refused rather than silently read as text.
Writing keeps key order and Chinese text as is, with a fixed indent, so diffs stay small.
"""

from __future__ import annotations

import errno
import os
import pathlib
import stat
from dataclasses import dataclass, field
from typing import Any

import yaml

from xmflow.errors import RecordError
from xmflow.i18n import _
from xmflow.values import quoted

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]  # the base is chosen at run time (libyaml's or not): typed Any
    """Composes nodes without resolving tags: the schema, not YAML 1.1, decides what a value is."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        return _TAGS[kind]


_TAGS = {
    yaml.ScalarNode: "tag:yaml.org,2002:str",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}

Path = tuple[str | int, ...]
_NULLS = {"", "~", "null", "Null", "NULL"}
# Mappings and lists inside one another, counting the document itself as level 1. The default
# process goes 9 deep and a stage file 4; libyaml's own limit is 1,000, beyond Python's stack.
MAX_DEPTH = 32
MAX_BYTES = 1_000_000  # a YAML file of xmflow's: the default process is about 20 kB, a stage file 2 kB


@dataclass
class Document:
    """A parsed YAML document: its plain data and the line (1-based) of each value by path."""

    name: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def where(self, path: Path) -> str:
        """``file:line`` of the value at *path*, or of its nearest ancestor."""
        while path and path not in self.lines:
            path = path[:-1]
        line = self.lines.get(path)
        return f"{self.name}:{line}" if line else self.name


def load(text: str, name: str) -> Document:
    """Parse *text* (named *name* in errors) into a :class:`Document`."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a control character)
        line = text.count("\n", 0, exc.position) + 1
        raise RecordError(
            f"{name}:{line}",
            _("not valid YAML: a control character (U+{code}) at position {position}").format(
                code=f"{exc.character:04X}" if isinstance(exc.character, int) else exc.character,
                position=exc.position + 1,
            ),
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise RecordError(where, _("not valid YAML: {problem}").format(problem=_problem(exc))) from None
    except RecursionError:  # pragma: no cover - only the pure-Python composer recurses
        raise RecordError(name, _too_deep()) from None
    doc = Document(name, None)
    if node is not None:
        doc.data = _plain(node, (), doc, set())
    return doc


def _problem(exc: yaml.YAMLError) -> str:
    """What libyaml found wrong: in the language in use when it is one of the problems it reports
    most often, else as libyaml says it."""
    problem = str(getattr(exc, "problem", None) or exc)
    return {
        "mapping values are not allowed in this context": _("mapping values are not allowed in this context"),
        "did not find expected key": _("did not find expected key"),
        "did not find expected ',' or ']'": _("did not find expected ',' or ']'"),
        "did not find expected ',' or '}'": _("did not find expected ',' or '{brace}'").format(brace="}"),
        "did not find expected '-' indicator": _("did not find expected '-' indicator"),
        "did not find expected node content": _("did not find expected node content"),
        "did not find expected <document start>": _("did not find expected <document start>"),
        "found character that cannot start any token": _("found character that cannot start any token"),
        "found unexpected end of stream": _("found unexpected end of stream"),
        "found unknown escape character": _("found unknown escape character"),
        "found undefined alias": _("found undefined alias"),
        "could not find expected ':'": _("could not find expected ':'"),
        "found a tab character that violates indentation": _("found a tab character that violates indentation"),
        "block sequence entries are not allowed in this context": _(
            "block sequence entries are not allowed in this context"
        ),
        "but found another document": _("but found another document"),
        "did not find expected comment or line break": _("did not find expected comment or line break"),
    }.get(problem, problem)


def _too_deep() -> str:
    return _("nested too deeply (more than {depth} levels of lists and mappings)").format(depth=MAX_DEPTH)


def _plain(node: yaml.Node, path: Path, doc: Document, seen: set[int]) -> Any:
    """The plain value of *node*; its depth is the length of *path* (bounded by MAX_DEPTH)."""
    if id(node) in seen:  # the same node twice: an alias (&name / *name)
        raise _error(node, doc, _("YAML aliases (&name, *name) are not supported"))
    if node.tag != _TAGS.get(type(node)):
        raise _error(
            node,
            doc,
            _("YAML tags ({tag}) are not supported: write the value plainly").format(
                tag=node.tag.replace("tag:yaml.org,2002:", "!!")
            ),
        )
    if len(path) >= MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
        raise _error(node, doc, _too_deep())
    seen.add(id(node))
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        if not node.style and node.value in _NULLS:
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, path + (i,), doc, seen) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _TAGS[yaml.ScalarNode]:
                raise _error(key_node, doc, _("a key must be a plain name"))
            key = key_node.value
            if key in result:
                raise _error(key_node, doc, _("field {name} appears twice").format(name=quoted(key)))
            result[key] = _plain(value_node, path + (key,), doc, seen)
        return result
    raise _error(node, doc, _("not a YAML value xmflow can read"))


def _error(node: yaml.Node, doc: Document, message: str) -> RecordError:
    return RecordError(f"{doc.name}:{node.start_mark.line + 1}", message)


def read_file(path: pathlib.Path, name: str, follow_links: bool = False) -> bytes | None:
    """The bytes of the YAML file at *path* (named *name* in errors), None when there is none.

    Only a regular file of at most MAX_BYTES is read: it is opened without blocking and looked
    at before it is read, so a FIFO, a device (/dev/zero), a folder or a link (unless
    *follow_links*) is an error naming the file, not a hang or a crash."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow_links else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RecordError(name, _("is a link, not a file: xmflow reads only the files it writes")) from None
        raise RecordError(name, _cannot_read(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RecordError(name, _("is not a regular file (a folder, a device or a pipe?)"))
        if info.st_size > MAX_BYTES:
            raise RecordError(
                name,
                _("is {size} bytes: more than {most} is no file of xmflow's").format(
                    size=f"{info.st_size:,}", most=f"{MAX_BYTES:,}"
                ),
            )
        return os.read(fd, MAX_BYTES + 1)[:MAX_BYTES]
    except OSError as exc:
        raise RecordError(name, _cannot_read(exc)) from None
    finally:
        os.close(fd)


def _cannot_read(exc: OSError) -> str:
    return _("cannot be read: {reason}").format(reason=exc.strerror)


def decode(content: bytes, name: str) -> str:
    """*content* as UTF-8 text, or an error naming the file and the first byte that is not."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(name, _("not UTF-8 text (byte {position})").format(position=exc.start)) from None


class _Dumper(yaml.SafeDumper):
    """Quotes only what a YAML reader could take for null or a boolean; everything else plain."""


def _plain_int(dumper: yaml.SafeDumper, value: int) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value))


_Dumper.add_representer(int, _plain_int)  # bool keeps its own representer


_Dumper.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag.endswith((":null", ":bool"))]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


def dump(data: Any) -> str:
    """Stable YAML text of plain data (dicts keep their order, Chinese stays readable)."""
    return yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, indent=2, width=100, default_flow_style=False
    )

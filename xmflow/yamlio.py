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

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """Composes nodes without resolving tags: the schema, not YAML 1.1, decides what a value is."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        return _TAGS[kind]


_TAGS = {yaml.ScalarNode: "tag:yaml.org,2002:str", yaml.SequenceNode: "tag:yaml.org,2002:seq",
         yaml.MappingNode: "tag:yaml.org,2002:map"}

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
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise RecordError(where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:  # pragma: no cover - only the pure-Python composer recurses
        raise RecordError(name, f"nested too deeply (more than {MAX_DEPTH} levels of lists and mappings)") from None
    doc = Document(name, None)
    if node is not None:
        doc.data = _plain(node, (), doc, set())
    return doc


def _plain(node: yaml.Node, path: Path, doc: Document, seen: set[int]) -> Any:
    """The plain value of *node*; its depth is the length of *path* (bounded by MAX_DEPTH)."""
    if id(node) in seen:  # the same node twice: an alias (&name / *name)
        raise _error(node, doc, "YAML aliases (&name, *name) are not supported")
    if node.tag != _TAGS.get(type(node)):
        raise _error(node, doc, f"YAML tags ({node.tag.replace('tag:yaml.org,2002:', '!!')}) are not supported: "
                                "write the value plainly")
    if len(path) >= MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
        raise _error(node, doc, f"nested too deeply (more than {MAX_DEPTH} levels of lists and mappings)")
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
                raise _error(key_node, doc, "a key must be a plain name")
            key = key_node.value
            if key in result:
                raise _error(key_node, doc, f"field {key!r} appears twice")
            result[key] = _plain(value_node, path + (key,), doc, seen)
        return result
    raise _error(node, doc, "not a YAML value xmflow can read")


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
            raise RecordError(name, "is a link, not a file: xmflow reads only the files it writes") from None
        raise RecordError(name, f"cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RecordError(name, "is not a regular file (a folder, a device or a pipe?)")
        if info.st_size > MAX_BYTES:
            raise RecordError(name, f"is {info.st_size:,} bytes: more than {MAX_BYTES:,} is no file of xmflow's")
        return os.read(fd, MAX_BYTES + 1)[:MAX_BYTES]
    except OSError as exc:
        raise RecordError(name, f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)


def decode(content: bytes, name: str) -> str:
    """*content* as UTF-8 text, or an error naming the file and the first byte that is not."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(name, f"not UTF-8 text (byte {exc.start})") from None


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
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, indent=2, width=100,
                     default_flow_style=False)

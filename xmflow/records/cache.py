"""Caches that make a large workspace fast: parsed stage records, and what the portfolio
derives from each project.

Records are keyed by their path and git blob id (git's own, or of the bytes read), under a tag
of the process (and of xmflow's own source) they were read under, so a changed file, a new
revision of the process or another version of xmflow is simply a miss. The caches live in the
repository's own ``.git`` folder (never committed, never shared) and hold what the last full
read used. What they keep may hold messages (a project's problems, the settings' refusal), made
in the language of the command that kept them: each language has its own file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Generic, TypeVar

from xmflow.model import StageRecord

_VERSION = b"xmflow-records-4"  # 2: text one line unless multiline, sign-offs typed; 3: kept caches; 4: blob ids
T = TypeVar("T")


class ParsedRecords:
    """Parsed records by content, in memory (a replay of the history reads each version once)."""

    def __init__(self) -> None:
        self.used: dict[str, StageRecord] = {}

    @staticmethod
    def key(rel: str, blob: str) -> str:
        """A record's key: its path and the git blob id of its bytes."""
        return hashlib.sha1(f"{rel}\0{blob}".encode("utf-8", "surrogateescape")).hexdigest()

    def get(self, key: str) -> StageRecord | None:
        return self.used.get(key)

    def put(self, key: str, record: StageRecord) -> None:
        self.used[key] = record


class KeptCache(Generic[T]):
    """Values by key, kept in ``.git/xmflow/NAME.LANG-TAG.pickle`` between runs (LANG: the
    language in use, the messages a value holds are in it; a file of each language): TAG digests
    everything the values were derived from besides their key (xmflow's version, the process,
    the settings), so a change of any of them is another file and every lookup a miss. A file
    that cannot be read is an empty cache, and it is read at the first lookup, not before.
    Objects of the settings the values hold (a step of the process, a person) are kept as
    references to *shared* (by name) and resolved against them again, not copied. A value is
    only ever what this code computed from that key, so a hit gives what a cold run gives."""

    def __init__(self, git_dir: Path, name: str, *tagged: str, shared: Mapping[str, object] | None = None) -> None:
        from xmflow import i18n

        parts = [_VERSION, code_tag().encode(), *(t.encode("utf-8", "surrogateescape") for t in tagged)]
        tag = hashlib.sha1(b"\0".join(parts))
        self.name = f"{name}.{i18n.language()}"  # what it keeps may hold messages, in the language they were made in
        self.path = git_dir / "xmflow" / f"{self.name}-{tag.hexdigest()[:16]}.pickle"
        self.shared = dict(shared or {})
        self.used: dict[str, T] = {}
        self._old: dict[str, T] | None = None
        self.changed = False  # a value was put that the file does not hold

    @property
    def old(self) -> dict[str, T]:
        """What the file holds (read once)."""
        if self._old is None:
            try:
                with self.path.open("rb") as handle:
                    unpickler = pickle.Unpickler(handle)
                    # the pickle module's documented hook, set on the instance; typeshed has it as a method
                    unpickler.persistent_load = self.shared.__getitem__  # type: ignore[method-assign]
                    loaded = unpickler.load()
                self._old = loaded if isinstance(loaded, dict) else {}
            except Exception:  # any unreadable cache (truncated, garbage, another version's) is empty
                self._old = {}
        return self._old

    def get(self, key: str) -> T | None:
        value = self.old.get(key)
        if value is not None:
            self.used[key] = value
        return value

    def put(self, key: str, value: T) -> None:
        self.used[key] = value
        self.changed = True

    def save(self, prune: bool = True) -> None:
        """Write the entries used (atomically), and with *prune* only those: a command that
        looked up everything it could need drops what nobody needs any more. A cache that
        cannot be written is no error."""
        if not self.changed and (not prune or self._old is None or self.used.keys() == self.old.keys()):
            return
        kept = self.used if prune else {**self.old, **self.used}
        refs = {id(obj): ref for ref, obj in self.shared.items()}
        try:
            self.path.parent.mkdir(exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
                if refs:  # asked of every object written: only where there is something to refer to
                    # the pickle module's documented hook, set on the instance; typeshed has it as a method
                    pickler.persistent_id = lambda obj: refs.get(id(obj))  # type: ignore[method-assign]
                pickler.dump(kept)
            os.replace(tmp, self.path)
            for stale in self.path.parent.glob(f"{self.name}-*.pickle"):  # of other settings, days or versions
                if stale != self.path:
                    stale.unlink(missing_ok=True)
        except OSError:
            pass


class RecordCache(KeptCache[StageRecord], ParsedRecords):
    """Parsed records by content (see :class:`ParsedRecords`), kept in .git between runs."""

    def __init__(self, git_dir: Path, process_text: str) -> None:
        KeptCache.__init__(self, git_dir, "records", process_text)


@functools.cache
def code_tag() -> str:
    """A digest of xmflow's own source and data: a checkpoint written by other code is never read."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    for item in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".yaml") and p.is_file()):
        digest.update(item.relative_to(package).as_posix().encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()[:16]

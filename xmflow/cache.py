"""A cache of parsed stage records, so the portfolio of a large workspace reads fast.

Records are keyed by the SHA-1 of the file's bytes, its path and the process it was read
under, so a changed file or a new revision of the process is simply a miss. The cache lives
in the repository's own ``.git`` folder (never committed, never shared) and holds only what
the last read found.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

from xmflow.model import StageRecord

_VERSION = b"xmflow-records-2"  # 2: text is one line unless multiline, sign-offs typed


class ParsedRecords:
    """Parsed records by content, in memory (a replay of the history reads each version once)."""

    def __init__(self) -> None:
        self.used: dict[str, StageRecord] = {}

    @staticmethod
    def key(rel: str, content: bytes) -> str:
        return hashlib.sha1(rel.encode("utf-8") + b"\0" + content).hexdigest()

    def get(self, key: str) -> StageRecord | None:
        return self.used.get(key)

    def put(self, key: str, record: StageRecord) -> None:
        self.used[key] = record


class RecordCache(ParsedRecords):
    """Parsed records by content, kept in .git between runs; :meth:`save` keeps only the
    entries used since loading."""

    def __init__(self, git_dir: Path, process_text: str) -> None:
        tag = hashlib.sha1(_VERSION + process_text.encode("utf-8")).hexdigest()[:16]
        super().__init__()
        self.path = git_dir / "xmflow" / f"records-{tag}.pickle"
        self.old: dict[str, StageRecord] = {}
        try:
            with self.path.open("rb") as handle:
                self.old = pickle.load(handle)
        except (OSError, pickle.PickleError, EOFError, AttributeError, TypeError, ValueError):
            self.old = {}

    def get(self, key: str) -> StageRecord | None:
        record = self.old.get(key)
        if record is not None:
            self.used[key] = record
        return record

    def save(self) -> None:
        """Write the entries used (atomically); a cache that cannot be written is no error."""
        if self.used.keys() == self.old.keys():
            return
        try:
            self.path.parent.mkdir(exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with tmp.open("wb") as handle:
                pickle.dump(self.used, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            pass

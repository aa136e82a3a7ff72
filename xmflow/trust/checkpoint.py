"""Where `verify` left off, so that it goes on from there: after one new commit it replays one.

A checkpoint holds what the replay of the history up to a commit built: the workspace's files
(path → blob id), the settings an admin left, the invoice numbers used, the process files named,
and the findings of every commit up to it. Each verify of a commit keeps its checkpoint in
``.git/xmflow/verified/`` (in a bare repository, ``xmflow/verified/``); the next one starts from
the nearest on its first-parent line.

A checkpoint is a cache, never a source of truth: it is taken only when it was written by this
very code (its name carries a digest of xmflow's own source, so another version, or a changed
file, never reads it), its content matches the digest written with it, and its commit is on the
line being verified. The findings it holds are messages, in the language of the verify that made
them, so each language has its own checkpoints (``TAG.LANG-COMMIT.json``, :data:`KEEP` of each):
a verify in Chinese never shows a finding an English one kept, nor the other way round.
Anything else, and `verify` replays the history from the start, as `verify --full` always does.
Findings depend only on the commits up to a checkpoint, never on the clock or on refs, so going
on from one gives what a full replay gives.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xmflow import i18n
from xmflow.git import store
from xmflow.records.cache import code_tag
from xmflow.rules.change import Finding

KEEP = 8  # checkpoints kept per repository and language: the tips of the branches verified lately


@dataclass
class Checkpoint:
    """The replay's state after *commit* (see the module's docstring)."""

    commit: str
    files: dict[str, str] = field(default_factory=dict)
    trusted: dict[str, str] = field(default_factory=dict)
    invoices: dict[str, str] = field(default_factory=dict)
    processes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _folder(root: Path) -> Path:
    return store.git_dir(root) / "xmflow" / "verified"


def _prefix() -> str:
    """The start of the names of this code's checkpoints in the language in use (their findings'):
    ``TAG.LANG``."""
    return f"{code_tag()}.{i18n.language()}"


def find(root: Path, tip: str) -> Checkpoint | None:
    """The nearest checkpoint in the history of *tip* (git's reachability; the caller checks
    that it is on the first-parent line), or None."""
    folder = _folder(root)
    try:
        names = sorted(folder.glob(f"{_prefix()}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None
    for path in names:
        commit = path.stem.rsplit("-", 1)[-1]
        if commit == tip or store.is_ancestor(root, commit, tip):
            found = _read(path, commit)
            if found is not None:
                return found
    return None


def _read(path: Path, commit: str) -> Checkpoint | None:
    """A checkpoint's content, or None when it cannot be read or is not what was written."""
    try:
        raw = path.read_bytes()
        digest, __, body = raw.partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() != digest:
            raise ValueError("digest")  # untranslated: never shown, caught below
        data: dict[str, Any] = json.loads(body)
        found = Checkpoint(
            commit,
            dict(data["files"]),
            dict(data["trusted"]),
            dict(data["invoices"]),
            list(data["processes"]),
            [Finding(**f) for f in data["findings"]],
        )
    except (OSError, ValueError, KeyError, TypeError):
        with contextlib.suppress(OSError):
            path.unlink()  # broken: the next verify writes it again
        return None
    return found if data.get("commit") == commit else None


def save(root: Path, checkpoint: Checkpoint) -> None:
    """Keep *checkpoint* (atomically) and the latest KEEP-1 others; one that cannot be written
    is no error (the next verify replays more)."""
    folder = _folder(root)
    body = json.dumps(
        {
            "commit": checkpoint.commit,
            "files": checkpoint.files,
            "trusted": checkpoint.trusted,
            "invoices": checkpoint.invoices,
            "processes": checkpoint.processes,
            "findings": [asdict(f) for f in checkpoint.findings],
        },
        separators=(",", ":"),
    ).encode("ascii")  # ASCII: a path that is not UTF-8 is kept escaped
    path = folder / f"{_prefix()}-{checkpoint.commit}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
        os.replace(tmp, path)
        old = sorted(folder.glob(f"{_prefix()}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
        for stale in old + [p for p in folder.glob("*.json") if not p.name.startswith(code_tag())]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass

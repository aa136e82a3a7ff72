"""Build a large workspace for the benchmark (bench/run.py): ``bench/build.py SIZE DEST``.

Making thousands of projects through the real commands would take hours, so the real thing is
made once at small size and multiplied: ``xmflow demo`` builds a workspace through the real
commands (twelve people, six projects, every kind of sign-off), then its history is written
again with ``git fast-import``, each project commit once per copy. Copies are interleaved (every
copy of a demo commit before the next demo commit), so dates stay in order as verify expects;
settings commits (anything not under ``projects/<id>/``) are written once.

What changes per copy is only what must be unique: the project id (its folder, the
``Xmflow-Project`` trailer, the subject and any text naming it) and the invoice numbers (used
once across every project, 4.0). Authors, committers, dates, messages and trailers are kept.
A sign-off's digest covers its stage's data but not the project id; it does cover the invoice
list (no step names it), so the digests of a stage holding renamed invoices are computed again
with xmflow's own ``records.digest``, in the file and in the ``Xmflow-Digest`` trailer.
``xmflow -C DEST verify`` then finds nothing, as on the demo itself.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from xmflow.procedure.process import Process, Stage
from xmflow.records import stages as records
from xmflow.records.workspace import PROJECTS, Workspace

_DEMO_ID = re.compile(r"(\d{4})-\d+")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Change:
    """One path a commit changes, as ``git diff-tree --raw`` names it (blob None: deleted)."""

    mode: str
    blob: str | None
    path: str


@dataclass(frozen=True)
class DemoCommit:
    """A commit of the demo's history, with what is needed to write it again."""

    author: str  # the header lines, as git keeps them (name, email, seconds, zone)
    committer: str
    message: str
    changes: tuple[Change, ...]
    project: str | None  # the project it changes, or None for a settings commit


@dataclass
class Copy:
    """What one copy of the demo renames: its project ids, its invoice numbers, and the digests
    that changed with them (per project: a digest means something only in its own project)."""

    index: int
    ids: dict[str, str]  # demo id → this copy's (the last copy may hold fewer projects)
    tokens: dict[str, str]  # the ids and the invoice numbers, demo's → this copy's
    digests: dict[str, dict[str, str]] = field(default_factory=dict)


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["git", "-C", str(root), *args], input=stdin, check=True, capture_output=True).stdout


def make_demo(path: Path) -> None:
    """The demo workspace, made by the real commands of the installed xmflow."""
    subprocess.run(
        [sys.executable, "-m", "xmflow", "--no-color", "demo", str(path)], check=True, stdout=subprocess.DEVNULL
    )


def read_objects(root: Path, shas: list[str]) -> dict[str, bytes]:
    """The bytes of many objects in one ``git cat-file --batch``."""
    out = git(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in shas).encode())
    objects, pos = {}, 0
    for sha in shas:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        objects[sha] = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return objects


def read_changes(root: Path, sha: str) -> tuple[Change, ...]:
    """What a commit changes against its parent (the root commit: everything it adds)."""
    fields = git(root, "diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--root", sha).split(b"\0")
    changes = []
    for meta, path in zip(fields[0:-1:2], fields[1::2], strict=True):
        _, new_mode, _, new_blob, status = meta.decode().split()
        deleted = status == "D"
        changes.append(Change(new_mode, None if deleted else new_blob, path.decode()))
    return tuple(changes)


def project_of(path: str) -> str | None:
    """The project a path belongs to (``projects/<id>/…``), or None (settings, ``projects/.gitkeep``)."""
    parts = path.split("/")
    return parts[1] if parts[0] == PROJECTS and len(parts) > 2 else None


def read_history(root: Path) -> list[DemoCommit]:
    """The demo's commits, oldest first, along the first parent (the demo makes no merge)."""
    shas = git(root, "rev-list", "--reverse", "--first-parent", "HEAD").decode().split()
    raw = read_objects(root, shas)
    history = []
    for sha in shas:
        header, _, message = raw[sha].decode().partition("\n\n")
        lines = dict(line.split(" ", 1) for line in header.splitlines())
        unexpected = set(lines) - {"tree", "parent", "author", "committer"}
        if unexpected:
            raise SystemExit(f"demo commit {sha} has {', '.join(sorted(unexpected))}: not written again as is")
        changes = read_changes(root, sha)
        projects = {p for p in map(project_of, (c.path for c in changes)) if p}
        if len(projects) > 1:
            raise SystemExit(f"demo commit {sha} changes {len(projects)} projects; one copy each is not enough")
        history.append(
            DemoCommit(lines["author"], lines["committer"], message, changes, projects.pop() if projects else None)
        )
    return history


def invoice_numbers(root: Path, process: Process, history: list[DemoCommit]) -> list[str]:
    """Every invoice number the demo ever records (each version of the ledger's stage file)."""
    ledger = process.ledgers["invoices"]
    stage = process.stage(ledger.stage)
    blobs = {
        c.blob: c.path
        for commit in history
        for c in commit.changes
        if c.blob and c.path.endswith("/" + stage.file) and project_of(c.path)
    }
    numbers: dict[str, None] = {}
    for blob, content in read_objects(root, list(blobs)).items():
        data = records.parse_record(stage, content.decode(), blobs[blob]).data
        for entry in records.get_path(data, ledger.field.split(".")[1:]) or []:
            numbers[str(entry["number"])] = None
    return list(numbers)


def new_ids(demo_ids: list[str], size: int) -> list[dict[str, str]]:
    """For each copy, demo id → its id there: ``YYYY-NNNN`` numbered on through the copies
    (the width fits SIZE, so ids sort in creation order as the demo's do)."""
    width = max(3, len(str(size)))
    years = []
    for pid in demo_ids:
        match = _DEMO_ID.fullmatch(pid)
        if not match:
            raise SystemExit(f"demo project {pid!r} is not YYYY-NNN")
        years.append(match.group(1))
    copies = []
    for k in range(math.ceil(size / len(demo_ids))):
        numbers = range(k * len(demo_ids) + 1, min(size, (k + 1) * len(demo_ids)) + 1)
        copies.append({pid: f"{year}-{n:0{width}d}" for pid, year, n in zip(demo_ids, years, numbers, strict=False)})
    return copies


def renamed_invoice(number: str, k: int) -> str:
    """Copy 0 keeps the demo's numbers; copy k adds ``-k`` (checked unique in make_copies)."""
    return number if k == 0 else f"{number}-{k}"


def make_copies(demo_ids: list[str], numbers: list[str], size: int) -> list[Copy]:
    copies = [
        Copy(k, ids, {**ids, **{n: renamed_invoice(n, k) for n in numbers}})
        for k, ids in enumerate(new_ids(demo_ids, size))
    ]
    all_numbers = [renamed_invoice(n, c.index).casefold() for c in copies for n in numbers]
    if len(set(all_numbers)) != len(all_numbers):
        raise SystemExit("renamed invoice numbers are not unique")
    return copies


def token_pattern(tokens: list[str]) -> re.Pattern[str]:
    """The demo's ids and invoice numbers as whole tokens: not inside a longer name such as the
    archive volume ``XM-2026-001`` or the contract number ``HT-2026-031``."""
    alternatives = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


class Writer:
    """Writes the fast-import stream: each distinct blob once, commits in a line on ``main``."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.marks: dict[bytes, int] = {}
        self.next_mark = 1
        self.last_commit: int | None = None
        self.commits = 0

    def _mark(self) -> int:
        self.next_mark += 1
        return self.next_mark - 1

    def _data(self, content: bytes) -> None:
        self.out.write(b"data %d\n" % len(content))
        self.out.write(content)
        self.out.write(b"\n")

    def blob(self, content: bytes) -> int:
        if content not in self.marks:
            self.marks[content] = self._mark()
            self.out.write(b"blob\nmark :%d\n" % self.marks[content])
            self._data(content)
        return self.marks[content]

    def commit(self, author: str, committer: str, message: str, files: list[tuple[str, int | None, str]]) -> None:
        """One commit on top of the last: *files* are (mode, blob mark or None to delete, path)."""
        for _, _, path in files:
            if "\n" in path or path.startswith('"'):
                raise SystemExit(f"path {path!r} would need quoting in the fast-import stream")
        mark = self._mark()
        self.out.write(f"commit refs/heads/main\nmark :{mark}\nauthor {author}\ncommitter {committer}\n".encode())
        self._data(message.encode())
        if self.last_commit is not None:
            self.out.write(b"from :%d\n" % self.last_commit)
        for mode, blob, path in files:
            self.out.write(f"D {path}\n".encode() if blob is None else f"M {mode} :{blob} {path}\n".encode())
        self.out.write(b"\n")
        self.last_commit = mark
        self.commits += 1


class Multiplier:
    """Writes each demo commit once per copy, renamed (see the module's docstring)."""

    def __init__(
        self, demo: Path, process: Process, history: list[DemoCommit], copies: list[Copy], numbers: list[str]
    ) -> None:
        self.process = process
        self.history = history
        self.copies = copies
        self.tokens = token_pattern([*copies[0].tokens, *numbers])
        self.stages = {stage.file: stage for stage in process.stages}
        self.blobs = read_objects(demo, sorted({c.blob for commit in history for c in commit.changes if c.blob}))

    def write(self, writer: Writer) -> None:
        for commit in self.history:
            if commit.project is None:
                files = [(c.mode, c.blob and writer.blob(self.blobs[c.blob]), c.path) for c in commit.changes]
                writer.commit(commit.author, commit.committer, commit.message, files)
                continue
            for copy in self.copies:
                if commit.project in copy.ids:
                    self.write_copy(writer, commit, copy)

    def write_copy(self, writer: Writer, commit: DemoCommit, copy: Copy) -> None:
        project = copy.ids[commit.project]
        digests = copy.digests.setdefault(project, {})
        files = []
        for change in commit.changes:
            path = self.rename(change.path, copy)
            blob = None
            if change.blob:
                blob = writer.blob(self.content(change, path, copy, digests))
            files.append((change.mode, blob, path))
        writer.commit(commit.author, commit.committer, self.rename(commit.message, copy, digests), files)

    def rename(self, text: str, copy: Copy, digests: dict[str, str] | None = None) -> str:
        """*text* with the copy's ids and invoice numbers, and the digests that changed with them."""
        text = self.tokens.sub(lambda m: copy.tokens[m.group(0)], text)
        return _DIGEST.sub(lambda m: digests.get(m.group(0), m.group(0)), text) if digests else text

    def content(self, change: Change, path: str, copy: Copy, digests: dict[str, str]) -> bytes:
        """A file of the copy: a scan as it is; a stage file renamed, its digests made anew when
        renaming changed its data."""
        original = self.blobs[change.blob]
        stage = self.stages.get(path.rsplit("/", 1)[1]) if path.count("/") == 2 else None
        if stage is None:
            return original
        text = original.decode()
        renamed = self.tokens.sub(lambda m: copy.tokens[m.group(0)], text)
        if renamed != text:
            self.record_digests(stage, text, renamed, path, digests)
        return self.rename(renamed, copy, digests).encode()

    def record_digests(self, stage: Stage, old_text: str, new_text: str, path: str, digests: dict[str, str]) -> None:
        """Each sign-off of the file that was made on this data (its digest is the data's) gets the
        digest of the renamed data; one made on earlier data was mapped when that data was written."""
        old, new = records.parse_record(stage, old_text, path), records.parse_record(stage, new_text, path)
        for signoff in old.signoffs:
            if signoff.digest in digests:
                continue
            fields = self.process.signed_fields(signoff.step)
            if records.digest(stage, old.data, fields) == signoff.digest:
                digests[signoff.digest] = records.digest(stage, new.data, fields)


def fast_import(dest: Path, multiplier: Multiplier) -> int:
    """A new repository at DEST holding the multiplied history on ``main``, checked out; the
    number of commits written."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    with subprocess.Popen(["git", "-C", str(dest), "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        writer = Writer(proc.stdin)
        multiplier.write(writer)
        proc.stdin.write(b"done\n")
        proc.stdin.close()
        if proc.wait() != 0:
            raise SystemExit(f"git fast-import failed (exit {proc.returncode})")
    git(dest, "reset", "-q", "--hard", "main")
    return writer.commits


def demo_ids(history: list[DemoCommit]) -> list[str]:
    return sorted({c.project for c in history if c.project})


def build(size: int, dest: Path) -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xmflow-bench-demo-") as scratch:
        demo = Path(scratch, "demo")
        make_demo(demo)
        made = time.perf_counter()
        process = Workspace(demo).process
        history = read_history(demo)
        ids = demo_ids(history)
        numbers = invoice_numbers(demo, process, history)
        copies = make_copies(ids, numbers, size)
        commits = fast_import(dest, Multiplier(demo, process, history, copies, numbers))
    done = time.perf_counter()
    projects = sum(len(c.ids) for c in copies)
    print(
        f"{dest}: {projects} projects, {commits} commits ({len(copies)} copies of the demo's "
        f"{len(ids)} projects and {len(history)} commits)"
    )
    print(f"built in {done - started:.1f} s: demo {made - started:.1f} s, fast-import and checkout {done - made:.1f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", type=int, help="number of projects (1000, 3000, 10000)")
    parser.add_argument("dest", type=Path, help="the workspace to make (must not exist, or be an empty folder)")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("SIZE must be at least 1")
    if args.dest.exists() and any(args.dest.iterdir()):
        parser.error(f"{args.dest} exists and is not empty")
    build(args.size, args.dest)


if __name__ == "__main__":
    main()

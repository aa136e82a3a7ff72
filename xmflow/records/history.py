"""The audit trail as git keeps it: a project's commits with their Xmflow- trailers, read in
one pass, and the sign-offs of the stage files matched to the commits that made them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from xmflow import yamlio
from xmflow.errors import XmflowError
from xmflow.files import MAX_SCAN
from xmflow.git import store
from xmflow.i18n import _
from xmflow.model import Signoff
from xmflow.records.acknowledgements import ACKNOWLEDGEMENTS
from xmflow.records.workspace import CONFIG, PEOPLE, parse_config

# What `walk` reads of each commit; git's output is cut on a token of the call (store.log_fields).
_WALK = ("%H", "%P", "%an", "%ae", "%aI", "%at", "%cI", "%ct", "%(trailers:only,unfold)", "%s", "%b")
_ZERO = "0" * 40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FILE_MODES = ("100644", "100755", "100664")  # what git keeps a file as (the last: in old repositories)
SETTINGS_READ = (PEOPLE, CONFIG, ACKNOWLEDGEMENTS, ".gitattributes")  # with every process xmflow.yaml names
FOLDERS_READ = ("projects/", "templates/")


@dataclass(frozen=True)
class Change:
    """A file a commit added, changed or deleted; ``blob`` is its new content's id (None: deleted),
    ``mode`` its git mode (a file, a symbolic link, a submodule) and ``digest`` the SHA-256 of its
    content where `read_contents` read it for one (the scans under a project's folder)."""

    path: str
    blob: str | None
    mode: str = "100644"
    digest: str | None = None


@dataclass(frozen=True)
class Commit:
    """One commit of the history: who, when, its Xmflow- trailers and (from :func:`walk`) the
    files it changed and its message. ``bad_dates`` names a date git printed that is no time (a
    timezone such as +9999, made by hand): ``at`` is then read in UTC from the seconds."""

    sha: str
    author: str
    email: str
    at: datetime
    trailers: dict[str, str]
    parents: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    changes: tuple[Change, ...] = ()
    committed_at: datetime | None = None  # the committer's date (a rebase moves it, not the author's)
    bad_dates: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return self.sha[:7]

    def trailer(self, key: str) -> str | None:
        return self.trailers.get(f"Xmflow-{key}")


def _trailers(text: str) -> dict[str, str]:
    """The Xmflow- trailers as git parsed them, by their canonical names (git matches keys
    case-insensitively, so does this)."""
    trailers: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        canonical = "-".join(part.capitalize() for part in key.strip().split("-"))
        if sep and canonical.startswith("Xmflow-"):
            trailers.setdefault(canonical, value.strip())
    return trailers


def walk(root: Path, rev: str = "HEAD", *paths: str, since: str | None = None) -> list[Commit]:
    """Every commit from the first (or from after *since*) to *rev* (the first-parent line) that
    changed *paths* (all of them when none are given), oldest first, with the files each changed
    and its message: in one ``git log``. Whatever a commit's author wrote, it is read as that
    commit's own."""
    return [_commit(fields, raw) for fields, raw in store.log_raw(root, _WALK, rev, *paths, since=since)]


def stream(root: Path, rev: str = "HEAD", *paths: str, since: str | None = None) -> Iterator[Commit]:
    """:func:`walk`, one commit at a time as git writes them: the memory of one commit however
    long the history."""
    for fields, raw in store.log_raw_stream(root, _WALK, rev, *paths, since=since):
        yield _commit(fields, raw)


def _commit(fields: list[str], raw: list[store.RawChange]) -> Commit:
    sha, parents, author, email, at, at_epoch, committed, committed_epoch, trailer_text, subject, body = fields
    authored, commit_time, bad = commit_times(at, at_epoch, committed, committed_epoch)
    changes = tuple(Change(c.path, None if c.blob == _ZERO else c.blob, c.mode) for c in raw)
    return Commit(
        sha,
        author,
        email,
        authored,
        _trailers(trailer_text),
        tuple(parents.split()),
        subject,
        _note(body),
        changes,
        commit_time,
        bad,
    )


def commit_times(
    authored: str, authored_epoch: str, committed: str, committed_epoch: str
) -> tuple[datetime, datetime, tuple[str, ...]]:
    """A commit's author and committer dates (``%aI %at %cI %ct``), and which of them is no time
    (see `git_time`), named for a message."""
    (at, bad_author), (committed_at, bad_committer) = (
        git_time(authored, authored_epoch),
        git_time(committed, committed_epoch),
    )
    bad: tuple[str, ...] = ()
    if bad_author or bad_committer:  # rare: the words are looked up only then, not for every commit
        bad = tuple(
            what.format(date=repr(text))
            for what, text, is_bad in (
                (_("author date {date}"), authored, bad_author),
                (_("committer date {date}"), committed, bad_committer),
            )
            if is_bad
        )
    return at, committed_at, bad


def git_time(iso: str, epoch: str) -> tuple[datetime, bool]:
    """A commit's date as git prints it (``%aI`` and ``%at``), and whether it was no time: a
    timezone out of range (``+9999``, ``-2400``, made by hand), a year past 9998 or nothing
    readable. Such a date is taken in UTC from the seconds, or as the epoch; it never raises."""
    try:
        value = datetime.fromisoformat(iso.strip())
        if value.tzinfo is not None and value.year < 9999:
            return value, False
    except ValueError:
        pass
    try:
        value = datetime.fromtimestamp(int(epoch.strip()), UTC)
        return (value, True) if value.year < 9999 else (_EPOCH, True)
    except (ValueError, OverflowError, OSError):
        return _EPOCH, True


def _note(body: str) -> str:
    """A message's note: its body without the closing paragraph of trailers."""
    paragraphs = body.strip().split("\n\n")
    if paragraphs and all(":" in line for line in paragraphs[-1].splitlines()):
        paragraphs = paragraphs[:-1]
    return "\n\n".join(paragraphs).strip()


def signoff_commit(commits: list[Commit], project_id: str, signoff: Signoff, email: str) -> Commit | None:
    """The commit that made a sign-off: by the signer (*email*), at the same time, with the same
    project, step, decision and role in its trailers."""
    for commit in commits:
        if (
            commit.at == signoff.at
            and commit.email.lower() == email.lower()
            and commit.trailer("Project") == project_id
            and commit.trailer("Step") == signoff.step
            and commit.trailer("Decision") == signoff.decision.value
            and commit.trailer("Role") == signoff.role
        ):
            return commit
    return None


# -- what verify reads of the history -------------------------------------------------------
@dataclass(frozen=True)
class Unreadable:
    """A file a commit made that verify cannot read: not a file (a symbolic link, a submodule,
    content missing from the repository) or too large; ``kind`` names the finding."""

    commit: str
    path: str
    kind: str
    why: str


@dataclass
class Contents:
    """What verify reads of a history: the commits, each change it cannot read taken as the
    file's removal (it is no file of the workspace); the blobs it parses (settings, templates and
    stage files); and what could not be read. Scans carry their SHA-256 (``Change.digest``)."""

    commits: list[Commit]
    blobs: dict[str, bytes] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)
    processes: set[str] = field(default_factory=set)  # the process files xmflow.yaml has named


def read_contents(root: Path, commits: list[Commit], processes: Iterable[str] = ()) -> Contents:
    """Read what verify needs of *commits*, and nothing else: the settings files (people.yaml,
    xmflow.yaml, acknowledgements.yaml, each process file a version of xmflow.yaml named,
    .gitattributes, templates/) and what is under projects/ — a stage file whole, anything deeper
    (a scan) as its SHA-256, streamed. Each blob's size is asked first: one over its limit is
    never read. Files elsewhere (a stranger's 100 MB file at the top) are not read at all.
    *processes*: the process files named before the first of *commits* (verify going on from
    a checkpoint)."""
    named = set(processes) | processes_named(root, commits)
    settings = set(SETTINGS_READ) | named
    sizes = store.blob_sizes(
        root,
        [
            ch.blob
            for c in commits
            for ch in c.changes
            if ch.blob and ch.mode in FILE_MODES and _reading(ch.path, settings)
        ],
    )
    kept, unreadable = [], []
    for commit in commits:
        changes = []
        for change in commit.changes:
            # A link or a submodule is never xmflow's, wherever it is (a project folder that is a
            # link would show a project's files from elsewhere); a file xmflow reads, within its limit.
            read = change.blob is not None and (
                change.mode not in FILE_MODES or _reading(change.path, settings) is not None
            )
            problem = _problem(change, sizes, _limit(change.path, settings)) if read else None
            if problem:
                unreadable.append(Unreadable(commit.sha, change.path, *problem))
                change = replace(change, blob=None)  # for the replay, no file of the workspace
            changes.append(change)
        kept.append(replace(commit, changes=tuple(changes)))
    to_read = [(ch.blob, _reading(ch.path, settings)) for c in kept for ch in c.changes if ch.blob]
    blobs = store.read_blobs(root, [blob for blob, how in to_read if how == "text"])
    digests = store.blob_digests(root, [blob for blob, how in to_read if how == "digest"])
    if digests:
        kept = [
            replace(c, changes=tuple(replace(ch, digest=digests.get(ch.blob or "")) for ch in c.changes)) for c in kept
        ]
    return Contents(kept, blobs, unreadable, named)


def _reading(path: str, settings: set[str]) -> str | None:
    """How verify reads a file: ``text`` (it parses it), ``digest`` (a scan: only its SHA-256
    counts) or None (not at all)."""
    parts = path.split("/")
    if path in settings or (parts[0] == "projects" and len(parts) == 3) or path.startswith("templates/"):
        return "text"
    return "digest" if parts[0] == "projects" and len(parts) > 3 else None


def _limit(path: str, settings: set[str]) -> int:
    """The largest file verify reads at *path*: a YAML file of xmflow's (a setting, a stage file)
    as the working tree reads it (yamlio.MAX_BYTES); a template or a scan, as a scan (files.MAX_SCAN)."""
    parts = path.split("/")
    yaml_file = (path in settings and path != ".gitattributes") or (parts[0] == "projects" and len(parts) == 3)
    return yamlio.MAX_BYTES if yaml_file else MAX_SCAN


def _problem(change: Change, sizes: dict[str, tuple[str, int]], limit: int) -> tuple[str, str] | None:
    """Why a file a commit made cannot be read — (finding kind, what it is and what to do) — or
    None when it can."""
    if change.mode not in FILE_MODES:
        links = {"120000": _("a symbolic link"), "160000": _("a submodule (a link to a commit of another repository)")}
        what = links.get(change.mode) or _("an entry of git mode {mode}").format(mode=change.mode)
        return "not-a-file", _(
            "is {what}, not a file: xmflow's files are plain files; an admin commits it as one"
        ).format(what=what)
    found = sizes.get(change.blob or "")
    if found is None:
        return "not-a-file", _(
            "its content ({blob}) is missing from this repository: fetch it (git fetch), or an "
            "admin commits the file again"
        ).format(blob=(change.blob or "")[:7])
    kind, size = found
    if kind != "blob":
        return "not-a-file", _("is a git {kind}, not a file's content: an admin commits it as a file").format(kind=kind)
    if size > limit:
        return "too-large", too_large(size, limit)
    return None


def too_large(size: int, limit: int) -> str:
    """Why a file of *size* bytes is not read, for a message naming it."""
    return _(
        "is {size} bytes: more than {limit} is no file of xmflow's, so it is not read; an admin removes it"
    ).format(size=f"{size:,}", limit=f"{limit:,}")


def processes_named(root: Path, commits: list[Commit]) -> set[str]:
    """The process files the versions of xmflow.yaml in *commits* name (one that cannot be read,
    or is larger than any of xmflow's, names none)."""
    configs = [ch for c in commits for ch in c.changes if ch.path == CONFIG and ch.blob and ch.mode in FILE_MODES]
    sizes = store.blob_sizes(root, [ch.blob for ch in configs if ch.blob])
    named = set()
    for content in store.read_blobs(
        root, [ch.blob for ch in configs if ch.blob and not _problem(ch, sizes, yamlio.MAX_BYTES)]
    ).values():
        try:
            process = parse_config(yamlio.decode(content, CONFIG)).process
        except XmflowError:
            continue
        if process:
            named.add(process)
    return named

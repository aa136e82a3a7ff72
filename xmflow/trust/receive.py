"""The server side of a push (`xmflow hooks pre-receive`): what the shared repository accepts.

git runs the pre-receive hook once per push, before any ref moves, with the pushed objects in
quarantine; a refusal refuses the whole push. The rules, in the order they are applied:

- History only grows, whatever the ref (branches, tags, anything under ``refs/``): no deletion,
  no update that is not a fast-forward of the ref's current commit, no ref that does not point
  at a commit (annotated tags are peeled), and, once the repository holds any ref, no new root
  commit (an unrelated history, such as a fresh ``xmflow init``). An empty repository accepts
  its first history. History is a line: no new commit is a merge (verify follows the first
  parent, so what a merge's other parents bring, or take away, would go unjudged). Nothing is
  pushed under ``refs/replace/`` (a replace ref shows another commit in place of one), and every
  git the hook runs ignores replace refs (``GIT_NO_REPLACE_OBJECTS``).
- Where the git server says who pushes (:data:`PUSHER_VARIABLES`), the pusher is a person of the
  people.yaml the server trusted before the push, and each new commit is the pusher's own, or a
  copy of a commit already on the server (same author, author date, message and patch) that the
  pusher committed: what ``xmflow sync``'s rebase makes of a colleague's commit. The first
  history of an empty repository is pushed by an admin of its own people.yaml.
- No new commit is dated in the future (beyond :data:`SKEW`) or further back than
  ``max_backdate_days`` (xmflow.yaml of the pushed tip), except a copy's author date, which was
  judged when the original came.
- Each pushed tip that brings new commits passes :func:`xmflow.trust.audit.verify`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from xmflow.errors import UsageError, XmflowError
from xmflow.git import store
from xmflow.i18n import _, pgettext
from xmflow.model import Config, People, Person
from xmflow.procedure import parser
from xmflow.records.history import commit_times
from xmflow.records.workspace import CONFIG, PEOPLE, parse_config, parse_people
from xmflow.trust import audit

SKEW = timedelta(minutes=5)  # how far a commit's clock may run ahead of the server's
PUSHER_VARIABLES = ("XMFLOW_PUSHER", "GITEA_PUSHER_EMAIL", "GITEA_PUSHER_NAME", "GL_USERNAME")
_LINE = re.compile(r"([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (refs/\S+)")
_NEW = ("%H", "%P", "%an", "%ae", "%aI", "%at", "%ce", "%cI", "%ct")
_SAME = ("%H", "%P", "%an", "%ae", "%aI", "%B")  # what a rebase keeps of a commit


@dataclass(frozen=True)
class Update:
    """One line of git's input: a ref, the commit the server has (zeros: none) and the pushed one."""

    old: str
    new: str
    ref: str

    @property
    def created(self) -> bool:
        return set(self.old) == {"0"}

    @property
    def deleted(self) -> bool:
        return set(self.new) == {"0"}


@dataclass(frozen=True)
class NewCommit:
    """A pushed commit the server does not have yet: who made it and when."""

    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    authored: datetime
    committer_email: str
    committed: datetime
    bad_dates: tuple[str, ...] = ()  # a date git printed that is no time (a timezone of +9999, made by hand)

    @property
    def short(self) -> str:
        return self.sha[:7]


@dataclass(frozen=True)
class Pusher:
    """Who pushes, as the git server said it: (variable, value) pairs, first the most explicit."""

    claims: tuple[tuple[str, str], ...]

    def shown(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.claims)


@dataclass
class Report:
    """What the hook found: refusals, the findings of each verified tip, and notes."""

    refusals: list[str] = field(default_factory=list)
    verified: list[tuple[str, str, audit.Report]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.refusals and not any(found.findings for __, _commit, found in self.verified)


@dataclass
class _Push:
    """One push as the hook judges it: the repository, the clock and what is read once."""

    root: Path
    now: datetime
    pusher: Pusher | None
    first_history: bool
    judged: set[str] = field(default_factory=set)
    people: dict[str, People] = field(default_factory=dict)


def _grows() -> str:
    return _(
        "history on the shared repository only grows; to undo a change, make a new commit (xmflow set … "
        "--reopen -m WHY, or git revert) and push it (xmflow sync)"
    )


def read_updates(text: str) -> list[Update]:
    """git's ``old new ref`` lines; anything else is bad input (exit 2)."""
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line.strip())
        if not match:
            raise UsageError(
                _(
                    "standard input, line {number}: expected `OLD NEW REF` as git gives it to a "
                    "pre-receive hook (got {line})"
                ).format(number=number, line=repr(line.strip()[:80]))
            )
        updates.append(Update(*match.groups()))
    return updates


def pusher_of(environ: Mapping[str, str]) -> Pusher | None:
    """Who pushes, where the git server says it (Gitea/Forgejo, GitLab, or ``XMFLOW_PUSHER`` from
    SSH ``command=``); None where it does not."""
    claims = tuple((name, environ[name].strip()) for name in PUSHER_VARIABLES if environ.get(name, "").strip())
    return Pusher(claims) if claims else None


def person_of(pusher: Pusher, people: People) -> Person | None:
    """The person a pusher is: the first claim that names one (an email by email, ignoring case;
    anything else by id)."""
    for __, value in pusher.claims:
        person = people.by_email(value) if "@" in value else people.by_id(value)
        if person is not None:
            return person
    return None


def receive(root: Path, updates: list[Update], environ: Mapping[str, str], now: datetime) -> Report:
    """Judge a whole push against the rules of this module (all or nothing)."""
    push = _Push(root, now, pusher_of(environ), first_history=not _has_refs(root))
    report = Report()
    signing_off = False
    for update in updates:
        commit = _judge_ref(push, update, report)
        if commit is None:
            continue
        config = _config_at(root, commit)
        signing_off = signing_off or not config.require_signed_commits
        if _judge_commits(push, update, commit, config, report):
            report.verified.append((update.ref, commit, audit.report(root, commit)))
    if push.pusher is None and signing_off:
        report.notes.append(
            _(
                "identities are taken from each commit's author and are not authenticated: this "
                "server does not say who pushes and xmflow.yaml does not require signed commits, so "
                "anyone who can push can commit in another person's name (GIT_AUTHOR_EMAIL). To fix "
                "it, run this hook where the pusher is known (Gitea/Forgejo, GitLab, or SSH with "
                "XMFLOW_PUSHER; see the README), or have an admin set require_signed_commits: true in "
                "xmflow.yaml"
            )
        )
    return report


def _judge_ref(push: _Push, update: Update, report: Report) -> str | None:
    """The shape of one ref's update: the commit it brings, or None when it is refused (or a
    deletion) and nothing more is to be judged."""
    root, ref = push.root, update.ref
    if ref.startswith("refs/replace/"):
        report.refusals.append(
            _(
                "{ref}: replace refs are refused: a ref under refs/replace/ makes git show another "
                "commit in place of one in the history, rewriting it as readers see it; to change "
                "something, make a new commit and push it (xmflow sync)"
            ).format(ref=ref)
        )
        return None
    if update.deleted:
        report.refusals.append(_("{ref}: deleting a ref is refused: {why}").format(ref=ref, why=_grows()))
        return None
    commit = _commit_of(root, update.new)
    if commit is None:
        report.refusals.append(
            _(
                "{ref}: {object} is a {kind}, not a commit: refs on the shared repository point at "
                "commits (a tag at a commit)"
            ).format(ref=ref, object=update.new[:7], kind=_kind(root, update.new))
        )
        return None
    old = None if update.created else _commit_of(root, update.old)  # None too for a ref at no commit
    if old is not None:
        dropped = 0 if store.is_ancestor(root, old, commit) else len(store.commits_only_in(root, old, commit))
        if dropped:
            report.refusals.append(
                _(
                    "{ref}: {commit} is not a fast-forward of the server's {old}: it would remove "
                    "{dropped} commit(s) from the shared history (a forced push, an amended or a "
                    "rebased commit): {why}. To bring your clone up to date: xmflow sync"
                ).format(ref=ref, commit=commit[:7], old=old[:7], dropped=dropped, why=_grows())
            )
            return None
    if not push.first_history:
        new = set(store.commits_only_in(root, commit, "--all"))
        roots = [sha for sha in store.root_commits(root, commit) if sha in new]
        if roots:
            report.refusals.append(
                _(
                    "{ref}: {commit} starts a history of its own (root commit {root}), unrelated "
                    "to the shared repository's: clone the shared repository (git clone) and make "
                    "your changes there"
                ).format(ref=ref, commit=commit[:7], root=roots[0][:7])
            )
            return None
    return commit


def _judge_commits(push: _Push, update: Update, commit: str, config: Config, report: Report) -> bool:
    """The pusher, and the authors and dates of the commits new to the server; whether there are
    any (and so something to verify)."""
    person = _pusher_person(push, push.pusher, update, commit, report) if push.pusher else None
    new = _new_commits(push.root, commit)
    oldest = push.now - _window(config)
    for c in new:
        if c.sha in push.judged:
            continue
        push.judged.add(c.sha)
        if len(c.parents) > 1:
            report.refusals.append(
                _(
                    "commit {commit} is a merge (of {parents}): xmflow's history is a line: merges "
                    "are refused; use xmflow sync (it puts your commits on top, never merges)"
                ).format(commit=c.short, parents=", ".join(p[:7] for p in c.parents))
            )
        by_other = person is not None and not push.first_history and c.email.lower() != person.email.lower()
        needs_original = not push.first_history and (by_other or c.authored < oldest)
        original = _original_of(push.root, c) if needs_original else None
        if by_other and person is not None and push.pusher is not None:
            report.refusals += _authorship(c, person, push.pusher, original)
        report.refusals += _dates(c, config, push, original is not None)
    return bool(new)


def _pusher_person(push: _Push, pusher: Pusher, update: Update, commit: str, report: Report) -> Person | None:
    """The pusher as a person of the people.yaml the server trusted before this push (the first
    history: its own, and an admin there); None (refused) when they are not in it."""
    trusted = commit if push.first_history else _trusted_rev(push.root, update)
    try:
        people = _people_at(push, trusted)
    except XmflowError as exc:
        report.refusals.append(
            _("{ref}: cannot tell who pushes ({pusher}): people.yaml as of {commit} cannot be read: {error}").format(
                ref=update.ref, pusher=pusher.shown(), commit=trusted[:7], error=exc.message
            )
        )
        return None
    person = person_of(pusher, people)
    if person is None:
        report.refusals.append(
            _(
                "{ref}: the pusher ({pusher}) is nobody in people.yaml as of {commit}: only the "
                "people listed there push to the shared repository; an admin adds them (their id, "
                "and the email their git server account uses)"
            ).format(ref=update.ref, pusher=pusher.shown(), commit=trusted[:7])
        )
    elif push.first_history and "admin" not in person.roles:
        report.refusals.append(
            _(
                "{ref}: the first history of this repository is pushed by an admin of its "
                "people.yaml, and {person} ({pusher}) is not one"
            ).format(ref=update.ref, person=person.label(), pusher=pusher.shown())
        )
        return None
    return person


def _authorship(c: NewCommit, person: Person, pusher: Pusher, original: str | None) -> list[str]:
    """A commit by someone else passes only as a copy of one the server has, committed by the pusher."""
    if original is not None and c.committer_email.lower() == person.email.lower():
        return []
    why = (
        _("it copies {original}, already here, but was committed by {committer}, not by the pusher").format(
            original=original[:7], committer=c.committer_email
        )
        if original
        else _("it is not a copy of a commit already on the server")
    )
    return [
        _(
            "commit {commit} is authored by {author} <{email}> but pushed by {person} ({pusher}), and {why}: each "
            "person pushes their own commits, and copies that `xmflow sync` made of commits already on the server; "
            "ask {author} to push it"
        ).format(commit=c.short, author=c.author, email=c.email, person=person.label(), pusher=pusher.shown(), why=why)
    ]


def _dates(c: NewCommit, config: Config, push: _Push, copy: bool) -> list[str]:
    """Not in the future (beyond the skew); not older than max_backdate_days (the first history
    and a copy's author date excepted: they were made, or judged, before)."""
    if c.bad_dates:
        return [
            _(
                "commit {commit}: its {dates} is no time (a timezone or a year git does not make: the commit was "
                "made by hand); make the commit again with git or xmflow"
            ).format(commit=c.short, dates=pgettext("between two items", " and ").join(c.bad_dates))
        ]
    problems = []
    oldest = push.now - _window(config)
    for authored, when in ((True, c.authored), (False, c.committed)):
        if when > push.now + SKEW:
            said = (
                _(
                    "commit {commit} is authored {at}, in the future (the server's clock says {now}, and allows "
                    "{skew} of skew): check the clock of the computer that made it, then make the commit again"
                )
                if authored
                else _(
                    "commit {commit} is committed {at}, in the future (the server's clock says {now}, and allows "
                    "{skew} of skew): check the clock of the computer that made it, then make the commit again"
                )
            )
            problems.append(
                said.format(
                    commit=c.short, at=when.isoformat(), now=push.now.isoformat(timespec="seconds"), skew=_minutes(SKEW)
                )
            )
        elif when < oldest and not push.first_history and not (copy and authored):
            said = (
                _(
                    "commit {commit} is authored {at}, more than {days} days ago (max_backdate_days in xmflow.yaml): "
                    "the server takes commits made within that many days; make the change again now, or ask an "
                    "admin to raise max_backdate_days"
                )
                if authored
                else _(
                    "commit {commit} is committed {at}, more than {days} days ago (max_backdate_days in xmflow.yaml): "
                    "the server takes commits made within that many days; make the change again now, or ask an admin "
                    "to raise max_backdate_days"
                )
            )
            problems.append(said.format(commit=c.short, at=when.isoformat(), days=config.max_backdate_days))
    return problems


def _original_of(root: Path, c: NewCommit) -> str | None:
    """A commit already on the server (reachable from a ref) that *c* copies: the same author,
    author date, message and patch (git's patch id, as ``git cherry`` compares them)."""
    if len(c.parents) != 1:
        return None
    mine = _same(root, "--no-walk", c.sha)
    if not mine:
        return None
    __, key = mine[0]
    for sha, other in _same(root, "--all", "--no-merges", "-F", "-i", f"--author={c.email}"):
        if other == key and _same_patch(root, sha, c.sha):
            return sha
    return None


def _same(root: Path, *args: str) -> list[tuple[str, tuple[str, ...]]]:
    """(commit, what a rebase keeps of it: author, author date, message) of single-parent commits."""
    return [
        (sha, tuple(kept))
        for (sha, parents, *kept), __ in store.log_fields(root, _SAME, *args)
        if len(parents.split()) == 1
    ]


def _same_patch(root: Path, original: str, copy: str) -> bool:
    """Whether two single-parent commits make the same change, byte for byte: git's patch id of
    each diff taken ``--verbatim`` (the plain patch id, as ``--cherry-mark`` compares, ignores
    whitespace, and in YAML a space changes a value: ``a#b`` is text, ``a #b`` is ``a``)."""

    return store.patch_id(root, original) == store.patch_id(root, copy) != ""


def _new_commits(root: Path, commit: str) -> list[NewCommit]:
    """The commits reachable from *commit* that no ref of the server reaches: exactly those new
    to it (in pre-receive, the refs have not moved yet)."""
    new = store.commits_only_in(root, commit, "--all")
    commits: list[NewCommit] = []
    if not new:
        return commits
    for fields, __ in store.log_fields(root, _NEW, "--no-walk=unsorted", revs=new):
        sha, parents, author, email, authored, authored_epoch, committer, committed, committed_epoch = fields
        at, committed_at, bad = commit_times(authored, authored_epoch, committed, committed_epoch)
        commits.append(NewCommit(sha, tuple(parents.split()), author, email, at, committer, committed_at, bad))
    return commits


def _trusted_rev(root: Path, update: Update) -> str:
    """Whose people.yaml judges the pusher: the ref's commit before the push; for a new ref the
    repository's HEAD branch (else its most recently changed branch, else any ref)."""
    old = None if update.created else _commit_of(root, update.old)
    if old:
        return old
    head = _commit_of(root, "HEAD")
    if head:
        return head
    for pattern in ("refs/heads", "refs"):
        newest = store.newest_ref_target(root, pattern)
        if newest and (found := _commit_of(root, newest)):
            return found
    raise UsageError(_("the repository has refs but none reaches a commit: it cannot say whose people.yaml to trust"))


def _people_at(push: _Push, rev: str) -> People:
    """people.yaml as of a commit (read once per push), checked against that commit's process."""
    if rev not in push.people:
        config = parse_config(store.read_at(push.root, rev, CONFIG) or "company: ''\n")
        process_text = store.read_at(push.root, rev, config.process) if config.process else None
        process = parser.parse(process_text, config.process) if process_text and config.process else parser.load(None)
        roles = {rid for rid, role in process.roles.items() if role.is_global and not role.external}
        push.people[rev] = parse_people(store.read_at(push.root, rev, PEOPLE) or "people: []\n", roles)
    return push.people[rev]


def _config_at(root: Path, rev: str) -> Config:
    """xmflow.yaml as of a commit; the defaults where it is missing or unreadable (verify names it)."""
    try:
        return parse_config(store.read_at(root, rev, CONFIG) or "company: ''\n")
    except XmflowError:
        return Config(company="")


def _window(config: Config) -> timedelta:
    return timedelta(days=config.max_backdate_days)


def _minutes(span: timedelta) -> str:
    return _("{n} minutes").format(n=int(span.total_seconds() // 60))  # SKEW: 5, never 1


def _has_refs(root: Path) -> bool:
    return store.has_refs(root)


def _commit_of(root: Path, rev: str) -> str | None:
    """The commit *rev* is or points at (an annotated tag peeled); None when it is no commit."""
    return store.commit_of(root, rev)


def _kind(root: Path, sha: str) -> str:
    """What an object is, for a message: ``tree``, ``blob``, ``tag of a tree``…"""
    kind = store.object_type(root, sha) or _("missing object")
    if kind == "tag":
        return _("tag of a {kind}").format(kind=store.object_type(root, f"{sha}^{{}}") or _("missing object"))
    return kind


def locale_of(path: str | Path | None) -> str | None:
    """The language of a shared (bare) repository's messages (*path*, else here), for its hook's
    pushers: the ``locale`` of xmflow.yaml as its HEAD has it (the settings the server trusts);
    None where it is no bare repository or has no settings yet."""
    try:
        folder = Path(path) if path else Path.cwd()
        if not ((folder / "HEAD").is_file() and (folder / "objects").is_dir()) or not store.is_bare(folder):
            return None  # a look at two names first: most folders are no repository, and git costs a start
        text = store.read_at(folder, "HEAD", CONFIG)
        return parse_config(text).locale if text is not None else None
    except (XmflowError, OSError, ValueError):
        return None

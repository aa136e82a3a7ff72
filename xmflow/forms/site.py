"""`xmflow site`: a static web portal of the workspace, for the people who never open a terminal.

The pages are made from what `status`, `ar` and `render` read (the portfolio's lines, each
project's report, the receivables, the forms as HTML) and say the commit they were built from.
They are read-only by construction: no form, no script, nothing that changes anything; each
waiting step shows the `xmflow sign …` command to copy. Every page is self-contained (its CSS
inline, its charts inline SVG) and links to the others by relative paths, so the folder works
from ``file://`` and behind any web server. Everything from the records is escaped (Jinja's
autoescape), with control characters shown as their escapes.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import hashlib
import html
import http.server
import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from xmflow import i18n
from xmflow.errors import RecordError, TemplateError, UsageError, XmflowError
from xmflow.files import write_whole
from xmflow.forms import model as forms
from xmflow.forms import rendering
from xmflow.git import store
from xmflow.i18n import _
from xmflow.labels import label, label_or, title_of
from xmflow.model import StepState
from xmflow.money import receivables
from xmflow.money.receivables import BUCKETS, NOT_DUE
from xmflow.procedure.process import Stage
from xmflow.records.workspace import Workspace
from xmflow.reports import overview, wording
from xmflow.reports.status import Summary, report
from xmflow.rules.project import ProjectView
from xmflow.trust import trail
from xmflow.values import format_money, visible

MANIFEST = ".xmflow-site.json"  # in the portal's folder: the files the last build wrote, the only ones a build deletes
_OURS = re.compile(r"(index|ar|(project|person|form)-[A-Za-z0-9_.-]+)\.html|form-[A-Za-z0-9_.-]+\.pdf")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_STATE_KEY = {
    StepState.SIGNED: "signed",
    StepState.WAITING: "waiting_state",
    StepState.BLOCKED: "blocked",
    StepState.SKIPPED: "skipped",
    StepState.DECLINED: "declined",
    StepState.STOPPED: "stopped",
}


@dataclass
class Built:
    """What a build wrote: the folder, the commit it was built from, the pages (relative paths)."""

    folder: Path
    commit: str
    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # pages of an earlier build left as they were (`only`)


def page_name(kind: str, ident: str) -> str:
    """The file of a page: ``project-2026-001.html``; an id that is not a plain file name is
    named by its digest, so no id from the records can reach outside the folder."""
    safe = (
        ident
        if _SAFE_NAME.fullmatch(ident) and not ident.startswith(".")
        else ("h" + hashlib.sha256(ident.encode("utf-8")).hexdigest()[:16])
    )
    return f"{kind}-{safe}.html"


def form_page_name(project_id: str, form_id: str) -> str:
    return page_name("form", f"{project_id}.{form_id}")


# system folders, a portal never goes into them: it would mix its pages with the system's files
_SYSTEM = tuple(
    Path(p)
    for p in (
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/home",
        "/lib",
        "/lib32",
        "/lib64",
        "/media",
        "/mnt",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/srv",
        "/sys",
        "/tmp",
        "/usr",
        "/usr/local",
        "/var",
        "/var/tmp",
    )
)


def check_folder(folder: Path, repository: Path, option: str, bare: bool = False) -> None:
    """Refuse a portal folder where building or serving it does harm: a file, a system folder or
    a home folder, inside the *repository* (a workspace, or with *bare* the shared repository) or
    around it (whoever serves the portal would serve the records and git's folder too)."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(_("{option} {folder}: a file, not a folder").format(option=option, folder=folder))
    real = folder.resolve()
    if real == Path(real.anchor) or real in _SYSTEM or real in _homes():
        raise UsageError(
            _(
                "{option} {folder}: a system folder or a home folder; give the portal a folder of its "
                "own, e.g. {example}"
            ).format(option=option, folder=folder, example=folder / "portal")
        )
    held = [repository.resolve(), *([] if bare else [store.git_dir(repository).resolve()])]
    if any(real == h or h in real.parents for h in held):
        if bare:
            raise UsageError(
                _("{option} {folder}: inside the repository; the portal goes into a folder of its own").format(
                    option=option, folder=folder
                )
            )
        raise UsageError(
            _(
                "{option} {folder}: inside the workspace; the portal goes into a folder of its own, "
                "outside it (its pages are not records, and serving it must not serve the "
                "repository)"
            ).format(option=option, folder=folder)
        )
    around = next((h for h in held if real in h.parents), None)
    if around is not None:
        raise UsageError(
            _(
                "{option} {folder}: it holds the repository {repository}; the portal goes into a "
                "folder of its own, outside it (serving it must not serve the repository)"
            ).format(option=option, folder=folder, repository=around)
        )


def _homes() -> set[Path]:
    """The home folder of whoever builds, and the folders of /home (the people's homes)."""
    found = {Path(os.path.expanduser("~")).resolve()}
    try:
        found |= {p.resolve() for p in Path("/home").iterdir()}
    except OSError:
        pass
    return found


def earlier_files(folder: Path, option: str) -> set[str]:
    """The files an earlier build wrote into *folder*, from its manifest: the only ones a build
    may replace or delete. A folder that holds anything but no manifest of xmflow's is refused
    (its index.html, its pages are someone's own files)."""
    try:
        if not folder.is_dir() or not any(folder.iterdir()):
            return set()
        manifest = folder / MANIFEST
        if manifest.is_symlink() or not manifest.is_file():
            raise UsageError(
                _(
                    "{option} {folder}: the folder holds files no build of xmflow wrote (it has no "
                    "{manifest}); give an empty folder or a new one, where xmflow replaces and deletes "
                    "only the pages it wrote"
                ).format(option=option, folder=folder, manifest=MANIFEST)
            )
        data = json.loads(manifest.read_bytes())
    except OSError as exc:
        raise UsageError(f"{option} {folder}: {exc.strerror}") from None
    except ValueError:
        data = None
    files = data.get("files") if isinstance(data, dict) and data.get("xmflow") == "site" else None
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        raise UsageError(
            _("{option} {folder}: {manifest} is not one xmflow wrote; give an empty folder or a new one").format(
                option=option, folder=folder, manifest=MANIFEST
            )
        )
    return {name for name in files if _OURS.fullmatch(name)}


def _write_manifest(built: Built, files: set[str], option: str) -> None:
    """The portal's manifest: what the build wrote (or kept), from which commit (JSON, not translated)."""
    data = {"xmflow": "site", "commit": built.commit, "files": sorted(files)}
    _write(built.folder / MANIFEST, (json.dumps(data, indent=1) + "\n").encode("utf-8"), option)


def build(
    ws: Workspace, folder: Path, as_of: date, only: set[str] | None = None, pdf: bool = False, option: str = "-o"
) -> Built:
    """Write the portal of *ws* into *folder* (made if need be): index.html, ar.html, a page per
    project, per person and per form of each project. With *only*, the pages of the other projects
    an earlier build wrote are kept as they are (each says the commit it was built from), and
    only those projects', the portfolio's and the people's are written again. With *pdf*, each
    form also as a PDF ready to print (WeasyPrint, the pdf extra). A page that cannot be made is
    a problem of the build, left out (and not linked); *option* is what the errors call the folder."""
    check_folder(folder, ws.root, option)
    earlier = earlier_files(folder, option)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(_("cannot make {folder}: {reason}").format(folder=folder, reason=exc.strerror)) from None
    built = Built(folder, store.head(ws.root) or "")
    try:
        _pages(ws, built, as_of, only, pdf, earlier, option)
    except BaseException:
        with contextlib.suppress(XmflowError, OSError):  # what went wrong first is what is said
            _write_manifest(built, earlier | set(built.pages) | set(built.kept), option)  # deletable later
        raise
    _write_manifest(built, set(built.pages) | set(built.kept), option)
    _sweep(folder, earlier - set(built.pages) - set(built.kept))
    return built


def _pages(
    ws: Workspace, built: Built, as_of: date, only: set[str] | None, pdf: bool, earlier: set[str], option: str
) -> None:
    """The pages of :func:`build`: the projects' first, so the others link only to those made."""
    folder, commit = built.folder, built.commit
    env = environment()
    found, problems = overview.lines(ws, as_of)
    built.problems.extend(problems)
    shown: set[str] = set()  # the projects whose page is in the folder: the only ones linked
    common = {
        "commit": commit,
        "short": commit[:8] or _("(no commit yet)"),
        "company": ws.config.company,
        "as_of": as_of,
        "lang": i18n.language(),
        "index": "index.html",
        "ar_page": "ar.html",
        "shown": shown,
    }

    def write(name: str, template: str, **context: Any) -> None:
        text = env.get_template(template).render(**common, **context)
        _write(folder / name, text.encode("utf-8"), option)
        built.pages.append(name)

    summaries = [line.summary for line in found]
    history: dict[str, list[tuple[str, ...]]] = {}
    for entry in trail.Trail(ws.root, ws.process, ws.people):  # the audit trail, read once for every project
        history.setdefault(entry.project, []).append(wording.trail_row(entry, ws.process))
    for s in summaries:
        page, forms_of = page_name("project", s.id), form_page_name(s.id, "")[:-5]
        before = sorted(n for n in earlier if (n == page or n.startswith(forms_of)) and (folder / n).is_file())
        if only is not None and s.id not in only and page in before:
            built.kept.extend(before)
            shown.add(s.id)
            continue
        try:
            _project(ws, s.id, as_of, write, built, history.get(s.id, []), pdf, option)
            shown.add(s.id)
        except (TemplateError, RecordError) as exc:
            built.problems.append(
                _("project {project}: its page is left out of the portal: {reason}").format(
                    project=s.id, reason=exc.message
                )
            )
    people = list(ws.people.persons)
    waiting = {p.id: [line for line in overview.select(found, as_of, mine=p)] for p in people}
    owed_rows = [line.receivable for line in found if line.receivable is not None]
    owed = receivables.total(owed_rows, label("total"))
    write(
        "index.html",
        "site-index.j2",
        rows=[_row(s, ws) for s in summaries],
        pipeline=_bars(_pipeline(summaries, ws)),
        ageing=_bars(_ageing(owed), money=True),
        late=[(s, n, wording.waiting_on(n, ws.process)) for s in summaries for n in s.late],
        people=[
            (p, page_name("person", p.id), len(waiting[p.id]), len(overview.money_for(p, found, ws, as_of)))
            for p in people
        ],
    )
    for p in people:
        lines = waiting[p.id]
        mine = [
            (
                line.summary,
                [(n, wording.waiting_on(n, ws.process)) for n in line.summary.next if p in n.people]
                or [(n, wording.waiting_on(n, ws.process)) for n in line.summary.next],
            )
            for line in lines
        ]
        write(
            page_name("person", p.id),
            "site-person.j2",
            person=p,
            mine=mine,
            roles=[wording.role_title(r, ws.process) for r in p.roles],
            money=overview.money_for(p, found, ws, as_of),
        )
    write(
        "ar.html",
        "site-ar.j2",
        rows=sorted(owed_rows, key=lambda r: r.project),
        total=owed,
        ageing=_bars(_ageing(owed), money=True),
        buckets=(NOT_DUE, *BUCKETS),
    )


def _write(path: Path, data: bytes, option: str = "-o") -> None:
    """A page of the portal, in place of whatever stood under its name: a link there is removed,
    not followed (whoever may write the folder does not aim the build at another file)."""
    if path.is_symlink():
        path.unlink()
    write_whole(path, data, option)


def _sweep(folder: Path, gone: set[str]) -> None:
    """Remove the pages of an earlier build that this one did not write (a project renumbered, a
    person gone): a link to them would show what is no longer so. Only names a build gives its
    pages, listed in the manifest: any other file is left alone."""
    for name in gone:
        path = folder / name
        if _OURS.fullmatch(name) and (path.is_symlink() or path.is_file()):
            path.unlink(missing_ok=True)


def _project(
    ws: Workspace,
    project_id: str,
    as_of: date,
    write: Any,
    built: Built,
    history: list[tuple[str, ...]],
    pdf: bool = False,
    option: str = "-o",
) -> None:
    """A project's page (its steps, payment schedule, audit trail), and its forms as HTML pages; a
    form that cannot be made is a problem of the build, listed on the page without a link."""
    project = ws.project(project_id)
    rep = report(ws, project, as_of)
    view = ProjectView(project, ws.process, ws.config)
    form_links: list[tuple[str, str, str | None, str | None]] = []
    for form in forms.forms_of(ws.process, view):
        name = form_page_name(project_id, form.id)
        printed = None
        try:
            text = rendering.render_form(ws, project_id, form.id, "html")
        except (TemplateError, RecordError) as exc:
            built.problems.append(
                _("project {project}: form {form} is left out of the portal: {reason}").format(
                    project=project_id, form=form.id, reason=exc.message
                )
            )
            form_links.append((rendering._local(form), form.number, None, None))
            continue
        _write(built.folder / name, str(text).encode("utf-8"), option)
        built.pages.append(name)
        if pdf:
            printed = name.removesuffix(".html") + ".pdf"
            _write(built.folder / printed, rendering.html_to_pdf(str(text)), option)
            built.kept.append(printed)  # not a page, but the build's: the sweep keeps it
        form_links.append((rendering._local(form), form.number, name, printed))
    stages: list[tuple[Stage, list[dict[str, Any]]]] = []
    nexts = {n.step.id: wording.waiting_on(n, ws.process) for n in rep.summary.next}
    for st in rep.steps:
        if not stages or stages[-1][0].id != st.step.stage:
            stages.append((ws.process.stage(st.step.stage), []))
        late = next((n for n in rep.summary.late if n.step.id == st.step.id), None)
        stages[-1][1].append(
            {
                "status": st,
                "title": title_of(st.step),
                "state": label(_STATE_KEY[st.state]),
                "css": st.state.value,
                "signed": [
                    (wording.signer(x, ws.process, ws.people), x.at.strftime("%Y-%m-%d %H:%M")) for x in st.signed
                ],
                "to_sign": (
                    [nexts[st.step.id]]
                    if st.step.id in nexts
                    else [wording.role_title(r, ws.process) for r in st.waiting_roles]
                    if st.state in (StepState.WAITING, StepState.BLOCKED)
                    else []
                ),
                "missing": [str(m.message) for m in st.missing] + list(st.why),
                "rejected": (wording.signer(st.rejected, ws.process, ws.people), st.rejected.comment or "")
                if st.rejected
                else None,
                "late": late,
                "command": f"xmflow sign {project_id} {st.step.id}" if st.state is StepState.WAITING else "",
            }
        )
    write(
        page_name("project", project_id),
        "site-project.j2",
        s=rep.summary,
        row=_row(rep.summary, ws),
        stages=[(stage, title_of(stage), rows) for stage, rows in stages],
        notes=rep.notes,
        schedule=[(i, label_or("ev_" + i.event).removeprefix("ev_")) for i in rep.schedule],
        forms=form_links,
        history=history,
        history_keys=("time", "step", "decision", "by", "role", "note", "waited", "commit"),
    )


def _row(s: Summary, ws: Workspace) -> dict[str, Any]:
    """One project's line of the portfolio, as the pages show it."""
    if s.withdrawn is not None:
        stage = label("withdrawn")
    elif s.closed:
        stage = label("closed")
    else:
        stage = title_of(ws.process.stage(s.stage))
    return {
        "s": s,
        "stage": stage,
        "next": [(n, wording.waiting_on(n, ws.process)) for n in s.next],
        "amount": format_money(s.amount) if s.amount is not None else "",
    }


def _pipeline(rows: list[Summary], ws: Workspace) -> dict[str, Decimal | int]:
    """How many projects are at each stage (as `status` draws it under the portfolio)."""
    counts: dict[str, Decimal | int] = {
        title_of(st): sum(1 for r in rows if not r.closed and r.stage == st.id)
        for st in ws.process.stages
        if not st.halts
    }
    counts[label("closed")] = sum(1 for r in rows if r.closed and r.withdrawn is None)
    counts[label("withdrawn")] = sum(1 for r in rows if r.withdrawn is not None)
    return counts


def _ageing(owed: receivables.Receivable) -> dict[str, Decimal | int]:
    return {label_or(k): owed.ageing.get(k, Decimal(0)) for k in (NOT_DUE, *BUCKETS)}


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label, the value as shown, its length in the SVG (0–100)."""

    name: str
    shown: str
    length: float


def _bars(values: dict[str, Decimal | int], money: bool = False) -> list[Bar]:
    top = max((v for v in values.values()), default=0) or 1
    return [
        Bar(name, format_money(Decimal(v)) if money else str(v), round(100 * float(v) / float(top), 1))
        for name, v in values.items()
    ]


def environment() -> jinja2.Environment:
    """The pages' templates: xmflow's own (packaged), HTML autoescape, undefined names an error,
    the words from xmflow's catalogue in the language of the command."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("xmflow.templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    # jinja2.ext.i18n adds this method to the environment when it is loaded: Environment does not declare it
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=False, pgettext=i18n.pgettext)  # type: ignore[attr-defined]
    env.filters.update(
        money=lambda v: format_money(v) if v is not None else "", label=label, label_or=label_or, page_of=page_name
    )
    return env


def _finalize(value: Any) -> Any:
    """``{{ value }}``: nothing for a blank, control characters made visible (then escaped)."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return visible(value) if isinstance(value, str) else value


_LOCAL = re.compile(r"(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?", re.IGNORECASE)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """The portal's files, read-only (GET and HEAD; anything else is not implemented), nothing
    outside its folder, no listing of folders, quiet, its errors in the language of the command."""

    server: _Server  # the one it is made for: serve() makes the server, the server the handlers

    def list_directory(self, path: Any) -> None:
        self.send_error(404)
        return None

    def send_head(self) -> Any:
        """Only for an address of this computer (a page of another site that its DNS points here,
        to read the portal, names itself in Host), only the portal's own pages, as regular files:
        a link in the folder, a stray file, a NUL in the address are not found."""
        if not _LOCAL.fullmatch(self.headers.get("Host", "")):
            self.send_error(421)
            return None
        try:
            directory = Path(self.directory)
            path = Path(self.translate_path(self.path))
            name = "index.html" if path == directory else path.name if path.parent == directory else ""
            if not _OURS.fullmatch(name):
                raise FileNotFoundError(name)
            # the name, in the folder opened once, never through a link: nothing can swap it for one
            # between a check and the open
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=self.server.folder_fd)
        except (ValueError, OSError):
            self.send_error(404)
            return None
        page = os.fdopen(fd, "rb")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            page.close()
            self.send_error(404)
            return None
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(name))
        self.send_header("Content-Length", str(info.st_size))
        self.send_header("Last-Modified", email.utils.formatdate(info.st_mtime, usegmt=True))
        self.end_headers()
        return page

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """An error as a small page of the portal's own, in the language of the command."""
        reason = {
            404: _("There is no such page in the portal."),
            421: _(
                "This server answers only for this computer: open http://127.0.0.1:{port}/ or http://localhost:{port}/."
            ).format(port=getattr(self.server, "server_port", "PORT")),
            501: _("The portal is read-only: it answers only GET and HEAD."),
        }.get(code, _("The server cannot answer this request."))
        body = _ERROR_PAGE.format(
            lang="zh-CN" if i18n.language() == "zh" else "en", code=code, reason=html.escape(reason)
        ).encode("utf-8")
        self.close_connection = True
        self.send_response(code)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


_ERROR_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{code}</title></head>
<body><h1>{code}</h1><p>{reason}</p></body>
</html>
"""


class _Server(http.server.ThreadingHTTPServer):
    """The server of :func:`serve`: it holds the portal's folder open (each page is opened in it,
    by its name), and closes it with itself."""

    folder_fd = -1

    def server_close(self) -> None:
        super().server_close()
        if self.folder_fd >= 0:
            os.close(self.folder_fd)
            self.folder_fd = -1


def serve(folder: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """A web server for one person on this computer (127.0.0.1 only) over the portal in *folder*;
    *port* 0 takes a free one. The caller runs ``serve_forever()`` and closes it."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise UsageError(f"{folder}: {exc.strerror}") from None
    try:
        server = _Server(("127.0.0.1", port), functools.partial(_Handler, directory=str(folder)))
    except OSError as exc:
        os.close(fd)
        raise UsageError(
            _("cannot serve on 127.0.0.1:{port} ({reason}): choose another --port").format(
                port=port, reason=exc.strerror
            )
        ) from None
    server.folder_fd = fd
    return server

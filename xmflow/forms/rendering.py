"""Printing forms: one Jinja environment over the workspace's templates and the packaged ones,
in Markdown for a terminal, HTML for an A4 page, PDF made from the HTML.

Templates come from the repository, which everyone with push access can change, so they run
in Jinja's sandbox, bounded (:class:`BoundedSandbox`) so that no template can hang `render` or
fill the memory; user data is escaped for HTML (and for Markdown, where it would otherwise be
read as markup), with control characters made visible; a name a template uses that the data does
not have is an error, never a silent blank.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal, overload

import jinja2
from markupsafe import Markup

from xmflow import i18n
from xmflow.clock import now
from xmflow.errors import TemplateError, UsageError, XmflowError
from xmflow.files import write_whole
from xmflow.forms import model as forms
from xmflow.forms.sandbox import BUDGET, BoundedSandbox, spend
from xmflow.git import store
from xmflow.i18n import _
from xmflow.model import Person
from xmflow.money.figures import split_amount
from xmflow.procedure.process import Form, Step
from xmflow.records import history, logindex
from xmflow.records.workspace import Workspace
from xmflow.rules.project import ProjectView
from xmflow.values import format_money, money_in_words, visible

FORMATS = ("md", "html", "pdf")
_EXTENSIONS = {"": "md", "md": "md", "markdown": "md", "txt": "md", "html": "html", "htm": "html", "pdf": "pdf"}
VOLUME = "volume"
_BLANK_LINES = re.compile(r"\n{3,}")
_MD_SPECIAL = re.compile(r"([\\`*_<>|\[\]#&~])")
_MD_NUMBERED = re.compile(r"^([ \t]*\d{1,9})([.)])(?=\s|$)")  # 1. or 1) starts a numbered list
_MD_BULLET = re.compile(r"^([ \t]*)([-+](?=\s|$)|[-=](?=[-= \t]*$))")  # a list item, a rule, a heading's line


def environment(root: Path | None, fmt: str) -> BoundedSandbox:
    """The Jinja environment of one output format (md, html, pdf; txt for a notice's plain text):
    the workspace's templates/ before the packaged ones (a file of the same name overrides),
    strict about undefined names, HTML autoescape,
    bounded work; the templates' words (``_()``, ``ngettext``, ``pgettext``, English message ids)
    in the language of the command, from xmflow's catalogue, and ``lang`` (zh or en) for what
    only one language writes (capital numerals)."""
    folders = [str(root / "templates")] if root and (root / "templates").is_dir() else []
    folders.append(str(resources.files("xmflow.templates")))
    finalize = {"md": _markdown_finalize, "txt": _text_finalize}.get(fmt, _finalize)
    env = BoundedSandbox(
        loader=_ConfinedLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=fmt != "txt",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # as tests/catalogue.py extracts {% trans %} blocks
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=False, pgettext=i18n.pgettext)  # type: ignore[attr-defined]
    env.filters.update(
        money=_money,
        words=_words,
        day=_day,
        check=_check,
        person=_person,
        people=_people,
        percent=_percent,
        unit=_unit,
        local=_local,
        step=_step,
        alternatives=_alternatives,
        annex=_annex,
        css_counter=_css_counter,
        paragraphs=_markdown_paragraphs if fmt == "md" else _finalize,
        shares=_shares,
    )
    if fmt == "md":
        env.filters.update(join=_markdown_join, replace=_markdown_replace)
    env.globals.update(
        format=fmt if fmt in ("md", "txt") else "html",
        base=f"base.{'md' if fmt == 'md' else 'html'}.j2",
        ui=f"ui.{'md' if fmt == 'md' else 'html'}.j2",
        lang=i18n.language(),
    )
    env.bound_filters()
    return env


class _ConfinedLoader(jinja2.FileSystemLoader):
    """Templates from these folders only: a link in a workspace's templates/ pointing elsewhere
    (``leak.j2 → /etc/passwd``) is refused, so a template pushed by a colleague cannot print
    the files of whoever renders it."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename or "").resolve()
        if not any(real.is_relative_to(Path(folder).resolve()) for folder in self.searchpath):
            raise TemplateError(
                _("template {template} links outside its folder ({filename} → {real}): refused").format(
                    template=template, filename=filename, real=real
                )
            )
        return source, filename, uptodate


def _finalize(value: Any) -> Any:
    """What ``{{ value }}`` prints in HTML: nothing for a blank; anything else as itself (then
    escaped), with control characters made visible; what it writes counts against the render's
    budget."""
    if value is None:
        return ""
    spend(0, len(str(value)))
    if isinstance(value, Markup):
        return Markup(visible(value))
    return visible(value) if isinstance(value, str) else value


def _text_finalize(value: Any) -> Any:
    """What ``{{ value }}`` prints in plain text (a notice's mail): as :func:`_finalize`, unescaped."""
    if value is None:
        return ""
    spend(0, len(str(value)))
    return visible(value) if isinstance(value, str) else value


def _markdown_finalize(value: Any) -> Any:
    """In Markdown, user data is escaped so that nothing in it reads as markup (a client named
    ``<script>`` or ``a|b`` stays text and does not break a table, ``- x`` or ``1. x`` does not
    start a list), on one line, with control characters made visible."""
    if value is None:
        return ""
    spend(0, len(str(value)))
    if isinstance(value, Markup):
        return Markup(visible(value))
    return Markup(_markdown_line(" ".join(visible(str(value)).splitlines())))


def _markdown_line(text: str) -> str:
    """One line of text, escaped for Markdown: its special characters, and a list marker, a rule
    or a numbered item at its start."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_NUMBERED.sub(r"\1\\\2", text, count=1)
    return _MD_BULLET.sub(r"\1\\\2", text, count=1)


def _markdown_paragraphs(value: Any) -> Any:
    """Text of several lines (a plan's approach) as Markdown paragraphs, each line escaped (and
    not indented: four spaces would make it code)."""
    if value is None:
        return None
    spend(0, len(str(value)))
    lines = visible(str(value)).splitlines()
    return Markup("\n\n".join(_markdown_line(line.lstrip(" \t")) for line in lines if line.strip()))


@jinja2.pass_environment
def _markdown_join(env: jinja2.Environment, value: Any, d: str = "", attribute: str | int | None = None) -> Markup:
    """``join`` in Markdown: each item escaped for Markdown (Jinja's own escapes them for HTML)."""
    items = map(jinja2.filters.make_attrgetter(env, attribute), value) if attribute is not None else value
    return Markup(d.join(_markdown_finalize(item) for item in items))


def _markdown_replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    """``replace`` in Markdown: a plain text (escaped when printed), not HTML."""
    return str(value).replace(old, new, -1 if count is None else count)


def _shares(amount: Decimal | None, percents: list[Decimal | None]) -> list[Decimal | None]:
    """An amount split by percents to the fen, adding up exactly (payment terms)."""
    return split_amount(amount, percents) if amount is not None else [None for _unused in percents]


def _unit(value: Any, unit: str) -> str | None:
    """A count with its unit (``12 个月``, ``2 份``), or a blank. *unit* is the translated text
    with ``{n}`` where the count goes (``ngettext("{n} month", "{n} months", n)``)."""
    return None if value is None else unit.format(n=value)


def _money(value: Decimal | None) -> str:
    return format_money(value) if value is not None else ""


def _words(value: Decimal | None) -> str:
    """An amount in capital numerals (人民币壹佰肆拾玖万元整), as contracts write it."""
    return money_in_words(value) if value is not None else ""


def _day(value: date | datetime | None, blank: str | None = None, narrow: bool = False) -> str:
    """A date as the form's language writes it (2026年11月28日, 2026-11-28); a blank to fill in
    by hand (*blank*, else one of the language's: ``　　年　　月　　日``, narrower in a table;
    ``____ - __ - __``, which is no Markdown: the underscores stand apart)."""
    if value is not None:
        return forms.day(value)
    if blank is not None:
        return blank
    if i18n.language() == "zh":
        return Markup("　 年　 月　 日" if narrow else "　　年　　月　　日")
    return Markup("____ - __ - __")


def _check(value: Any) -> str:
    """A tick box: ☑ when checked, ☐ when not."""
    return "☑" if value is True else "☐"


def _person(value: Person | None) -> str:
    return value.name if value is not None else ""


def _people(values: list[Person | str] | None) -> str:
    """Names, one after the other: 张三、李四."""
    return forms.joined([p.name if isinstance(p, Person) else str(p) for p in values or []], _("{names}, {name}"))


def _local(thing: Any, capital: bool = True) -> str:
    """The title of a stage, step, role or form in the language of the form: the process's
    ``title``, or its ``title_en`` in English (with a capital, unless inside a sentence)."""
    english: str = getattr(thing, "title_en", "")
    if i18n.language() == "zh" or not english:
        title: str = thing.title
        return title
    return english[:1].upper() + english[1:] if capital else english


def _step(step: Any) -> str:
    """A step as its line on a form names it: 主管审核（3.5.2）."""
    return _("{step} ({clause})").format(step=_local(step), clause=step.clause)


def _alternatives(roles: Any) -> str:
    """The roles that may sign a line: 销售／客服中心."""
    return forms.joined([_local(r) for r in roles], _("{roles} / {role}"))


def _annex(form: Any) -> str:
    """The procedure's number of a form (附表4; Annex 4 in English), or a blank."""
    found = re.fullmatch(r"附表\s*(\d+)", form.annex or "")
    return _("Annex {n}").format(n=found.group(1)) if found else form.annex


def _css_counter(text: str) -> Markup:
    """A page counter message (``第 {page} 页 / 共 {pages} 页``) as CSS ``content``."""
    parts = re.split(r"\{(page|pages)\}", text)
    out = [f'"{_css_string(part)}"' if i % 2 == 0 else f"counter({part})" for i, part in enumerate(parts)]
    return Markup(" ".join(part for part in out if part != '""'))


def _css_string(text: str) -> str:
    return "".join(c if c.isalnum() or c in " /.,:;-()" or ord(c) > 127 else f"\\{ord(c):x} " for c in text)


def _percent(value: Decimal | None) -> str:
    return f"{value.normalize():f}%" if value is not None else ""


@overload
def render_form(ws: Workspace, project_id: str, form_name: str, fmt: Literal["pdf"]) -> bytes: ...
@overload
def render_form(ws: Workspace, project_id: str, form_name: str, fmt: str) -> str | bytes: ...
def render_form(ws: Workspace, project_id: str, form_name: str, fmt: str) -> str | bytes:
    """One form of one project, in *fmt* (md, html or pdf)."""
    form = _form(ws, form_name)
    view = ProjectView(ws.project(project_id), ws.process, ws.config)
    env = environment(ws.root, fmt)
    page = forms.form_page(ws, view, form, _history(ws, project_id), _printing(ws, project_id, now()), _reader(ws))
    text = _render(env, f"{form.id}.j2", **_context(page), standalone=True)
    return html_to_pdf(text) if fmt == "pdf" else text


def render_notice(ws: Workspace, project_id: str, step: Step, attached: list[str]) -> tuple[str, tuple[str, ...]]:
    """The words of the notice a step's approval sends (its ``notify.template``, plain text): the
    subject (the first line) and the lines of the text. The template has each stage's fields by
    the stage's id, ``project_id``, ``project_name``, ``client``, ``sales`` (a person), ``step`` and
    ``attached``, the file names of the forms that go with it."""
    if step.notice is None:
        raise TemplateError(_("{step} sends no notice").format(step=step.id))
    process = ws.process
    view = ProjectView(ws.project(project_id), process, ws.config)
    stages = forms.stage_fields(ws, view.project)
    sales = ws.people.by_id(str(view.value(process.figure("salesperson")) or ""))
    text = _render(
        environment(ws.root, "txt"),
        step.notice.template,
        **stages,
        project_id=project_id,
        project_name=view.value(process.figure("name")) or "",
        client=view.value(process.figure("client")) or "",
        sales=sales,
        step=step,
        attached=attached,
    )
    subject, *lines = text.strip("\n").splitlines() or [""]
    while lines and not lines[-1].strip():
        lines.pop()
    return subject.strip() or step.id, tuple(lines)


def render_volume(ws: Workspace, project_id: str, fmt: str) -> str | bytes:
    """The project bound as one document for archiving (4.2 装订成册): a cover with the project
    and its volume number, a table of contents, then every form that applies, in order."""
    view = ProjectView(ws.project(project_id), ws.process, ws.config)
    env = environment(ws.root, fmt)
    commits = _history(ws, project_id)
    printed, read_at = _printing(ws, project_id, now()), _reader(ws)
    pages = [forms.form_page(ws, view, form, commits, printed, read_at) for form in forms.forms_of(ws.process, view)]
    bodies = [Markup(_render(env, f"{page.form.id}.j2", **_context(page), standalone=False)) for page in pages]
    if not pages and not ws.process.forms:
        raise TemplateError(
            _("the process ({source}) has no forms: there is no volume to bind").format(source=ws.process.source)
        )
    cover = (
        pages[0]
        if pages
        else forms.form_page(ws, view, next(iter(ws.process.forms.values())), commits, printed, read_at)
    )
    text = _render(
        env,
        "volume.j2",
        **_context(cover),
        pages=list(zip(pages, bodies, strict=True)),
        standalone=True,
        volume=view.value(ws.process.optional_figure("volume")),
    )
    return html_to_pdf(text) if fmt == "pdf" else text


def _printing(ws: Workspace, project_id: str, at: datetime) -> forms.Printing:
    """What a printed page says about itself, read from git: the commit checked out, and whether
    what the page is printed from has changes not yet committed."""
    commit = store.head(ws.root)
    uncommitted = bool(store.dirty_paths(ws.root, forms.Printing.sources(ws, project_id)))
    return forms.Printing(commit[:7] if commit else None, uncommitted, at)


def _reader(ws: Workspace) -> forms.ReadAt:
    """How the forms read a file as a commit had it: from git, in the workspace."""

    def read_at(commit: str, path: str) -> str | None:
        return store.read_at(ws.root, commit, path)

    return read_at


def _history(ws: Workspace, project_id: str) -> list[history.Commit]:
    """The project's commits, which the forms print next to each signature; a shallow clone
    has not got them all, and a paper form must not show a signature as unrecorded when it is not."""
    if store.is_shallow(ws.root):
        raise UsageError(
            _(
                "this clone is shallow: a form prints the commit of every signature, which needs "
                "the whole history (git fetch --unshallow)"
            )
        )
    return logindex.signoff_commits(ws.root, project_id)


def _context(page: forms.FormPage) -> dict[str, Any]:
    """A template's names: ``page``, and each stage's fields by the stage's id (``contract``)."""
    return {**page.stages, "page": page}


def format_for(output: Path | None, chosen: str | None = None) -> str:
    """The format to write: the one chosen, else the one an output file's extension asks for
    (``form4.pdf``; a ``.txt`` file or a name without extension gets Markdown), else Markdown.
    A chosen format that contradicts the extension is refused, and so is an extension xmflow
    cannot write (``.docx``) unless --format says what to write into it."""
    suffix = output.suffix.lower().lstrip(".") if output else ""
    implied = _EXTENSIONS.get(suffix)
    if chosen and implied and suffix and chosen != implied:
        raise UsageError(
            _("--format {format} does not fit -o {output} (a .{suffix} file): change one of them").format(
                format=chosen, output=output, suffix=suffix
            )
        )
    if not chosen and implied is None:
        raise UsageError(
            _(
                "-o {output}: xmflow cannot write a .{suffix} file; it writes {extensions} files (or say "
                "what to write into it with --format md|html|pdf); nothing was written"
            ).format(output=output, suffix=suffix, extensions=writable())
        )
    return chosen or implied or "md"


def writable() -> str:
    """The extensions -o may name, by format: ``.md (.markdown, .txt), .html (.htm), .pdf``."""
    return ", ".join(
        " ".join([f".{ext}", *([f"({', '.join('.' + x for x in more)})"] if more else [])])
        for ext, *more in ([x for x in _EXTENSIONS if x and _EXTENSIONS[x] == fmt] for fmt in FORMATS)
    )


def write(content: str | bytes, output: Path | None) -> None:
    """Write a rendered form to *output* whole (see files.write_whole), or to standard output."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if output is not None:
        write_whole(output, data, "-o")
        return
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # the reader stopped early (| head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:  # > /dev/full, a disk that is full
        raise UsageError(
            _("cannot write the form to the standard output ({error})").format(error=exc.strerror)
        ) from None


def _form(ws: Workspace, name: str) -> Form:
    form = ws.process.form(name)
    if form is None:
        names = ", ".join(f"{f.id} ({f.title})" for f in ws.process.forms.values())
        raise UsageError(
            _("no form '{name}' (forms: {forms}, or {volume} for the whole project)").format(
                name=name, forms=names, volume=VOLUME
            )
        )
    return form


def _render(env: BoundedSandbox, name: str, **context: Any) -> str:
    """Render one template, within the budget of the environment's render; a missing, broken or
    runaway template names itself and the line."""
    token = BUDGET.set(env.budget)
    try:
        text = env.get_template(name).render(**context)
        return _BLANK_LINES.sub("\n\n", text) if env.globals["format"] in ("md", "txt") else text
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            _("no template {name} (in templates/ or the packaged ones)").format(name=exc.name)
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError) as exc:
        raise TemplateError(
            _("template {name}{line}: {error}").format(name=name, line=_template_line(exc), error=exc)
        ) from None
    except XmflowError as exc:  # a step the form does not have, asked for by the template
        raise TemplateError(
            _("template {name}{line}: {error}").format(name=name, line=_template_line(exc), error=exc.message)
        ) from None
    except Exception as exc:  # a template is code from the repository: whatever it raises is its own error
        raise TemplateError(
            _("template {name}{line}: {error}").format(
                name=name, line=_template_line(exc), error=f"{type(exc).__name__}: {exc}"
            )
        ) from None
    finally:
        BUDGET.reset(token)


def _template_line(exc: BaseException) -> str:
    """Where in a template an error happened, from the traceback Jinja rewrites to point there."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f" ({Path(filename).name}:{tb.tb_lineno})"
        tb = tb.tb_next
    return where


def html_to_pdf(html: str, loader: Callable[[], Any] | None = None) -> bytes:
    """The PDF of an HTML page, through WeasyPrint (the optional extra ``pdf``)."""
    try:
        weasyprint = (loader or _import_weasyprint)()
    except ImportError:
        raise UsageError(
            _(
                "PDF needs WeasyPrint, xmflow's optional extra pdf: pip install '.[pdf]' in the folder "
                "of xmflow's source (or use --format html and print it from a browser)"
            )
        ) from None
    except OSError as exc:  # WeasyPrint is there, but the Pango libraries it needs are not
        raise UsageError(
            _(
                "WeasyPrint cannot start ({error}); install Pango and a CJK font, e.g. "
                "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk"
            ).format(error=exc)
        ) from None
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=_fetch_nothing(weasyprint)).write_pdf()
    return pdf


def _fetch_nothing(weasyprint: Any) -> Any:
    """A URL fetcher that fetches nothing: a form is self-contained, and a template must not make
    the PDF carry a local file or call a server."""
    fetcher = getattr(weasyprint.urls, "URLFetcher", None)
    if fetcher is not None:
        return fetcher(allowed_protocols=())

    def refuse(url: str, *args: Any, **kwargs: Any) -> Any:  # WeasyPrint before URLFetcher existed
        raise ValueError(_("a form loads nothing from outside ({url})").format(url=url))

    return refuse


def _import_weasyprint() -> Any:
    import weasyprint

    return weasyprint

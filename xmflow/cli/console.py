"""The one module that draws with rich: tables and messages for a terminal, JSON for scripts."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from xmflow import i18n
from xmflow.errors import UsageError
from xmflow.i18n import _
from xmflow.labels import in_language, label, label_or, title_of, yes_no
from xmflow.model import People, Project, StepState
from xmflow.money.figures import Figures
from xmflow.money.receivables import Installment
from xmflow.procedure.conditions import Always
from xmflow.procedure.process import Process, Stage
from xmflow.procedure.schema import plain
from xmflow.records.stages import dump_record
from xmflow.reports import wording
from xmflow.reports.overview import Money
from xmflow.reports.portfolio import Glance
from xmflow.reports.status import Report
from xmflow.reports.tables import Cell
from xmflow.reports.tables import Row as ReportRow
from xmflow.reports.tables import Table as ReportTable
from xmflow.trust.trail import Trail
from xmflow.values import format_money, visible

_STATE_STYLE = {
    StepState.SIGNED: ("signed", "green"),
    StepState.WAITING: ("waiting_state", "yellow"),
    StepState.BLOCKED: ("blocked", "red"),
    StepState.SKIPPED: ("skipped", "dim"),
    StepState.DECLINED: ("declined", "magenta"),
    StepState.STOPPED: ("stopped", "dim"),
}
_REVISION_COLUMNS = ("version", "chapter", "content", "date", "prepared_by", "reviewed_by", "approved_by")


# What must not reach a terminal as it is: C0 controls but tab and newline, DEL, C1, the line and
# paragraph separators, the bidirectional overrides and isolates (text that reads backwards), and
# lone surrogates (the bytes of an argument that was not UTF-8), which cannot even be encoded.
TABLE_ROWS = 2000  # `log` draws a table of at most this many rows; more go out as lines
PORTFOLIO_ROWS = 200  # `status` draws at most this many projects in a table (`--all`: every one)
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")  # json escapes C0


def shown(value: Any) -> str:
    """A value as a person reads it: yes/no as 是/否, none as —, money as ¥1,500,000.00, a day
    as 2026-12-20; never a Python word (True, None)."""
    if isinstance(value, bool) or value is None:
        return yes_no(value)
    if isinstance(value, Decimal):
        return format_money(value)
    return str(plain(value))


def _cell(cell: object, style: str = "") -> Text:
    """A table cell shown as written: never read as rich markup, control characters made visible."""
    if isinstance(cell, Text):
        return Text(visible(cell.plain), style=cell.style)
    return Text(visible(str(cell)), style=style)


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row whose text is shown as written: user data never reaches rich's markup."""
    table.add_row(*(_cell(cell) for cell in cells))


class OutputError(UsageError):
    """The standard output cannot be written (a full disk): bad usage, said on stderr."""


def _quiet_stdout() -> None:
    """Send what is left for the standard output to /dev/null, so that the interpreter's last
    flush does not fail again (and end the command with exit 120)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Console(Console):
    """rich's console, but a reader that stops early (``| head``) is not an error of ours: the
    rest is not written, and the command ends as it would (rich's own ends it with exit 1,
    which means "refused")."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _quiet_stdout()


def _json_text(data: Any, indent: str = "") -> str:
    inner = indent + "  "
    if isinstance(data, list) and len(data) > PORTFOLIO_ROWS:
        return "[\n" + ",\n".join(inner + json.dumps(item, ensure_ascii=False) for item in data) + f"\n{indent}]"
    if isinstance(data, dict) and data and any(isinstance(v, list) and len(v) > PORTFOLIO_ROWS for v in data.values()):
        items = (f"{inner}{json.dumps(k, ensure_ascii=False)}: {_json_text(v, inner)}" for k, v in data.items())
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    return json.dumps(data, ensure_ascii=False, indent=2).replace("\n", "\n" + indent)


class Out:
    """Where output goes, in which language, with or without colour."""

    def __init__(self, lang: str | None = None, color: bool = True) -> None:
        self.lang = lang if lang in i18n.LANGUAGES else i18n.language()
        no_color = not color or "NO_COLOR" in os.environ
        self.console = _Console(no_color=no_color, highlight=False, soft_wrap=True)
        if not self.console.is_terminal and "COLUMNS" not in os.environ:
            self.console.width = 160  # piped or captured: a wide table beats a mangled one
        self.err = _Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)

    def t(self, key: str) -> str:
        """The word of a table for *key* (a column, a state, a total) in the language in use."""
        return label(key)

    def _print(self, *objects: Any) -> None:
        """Print on the standard output; one that cannot be written (a full disk) is bad usage,
        said on stderr, and a reader that has gone is the end of the output."""
        try:
            self.console.print(*objects)
        except OSError as exc:
            _quiet_stdout()
            raise OutputError(_("cannot write to the standard output ({reason})").format(reason=exc.strerror)) from None

    def _print_err(self, *objects: Any) -> None:
        with contextlib.suppress(OSError):  # a standard error that cannot be written: nowhere left to say it
            self.err.print(*objects)

    def text(self, text: str) -> None:
        """Plain text as it is (CSV, the process file), for files and scripts."""
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
        except OSError as exc:
            _quiet_stdout()
            raise OutputError(_("cannot write to the standard output ({reason})").format(reason=exc.strerror)) from None

    def json(self, data: Any) -> None:
        """JSON for scripts: the data exactly, with every control character written as an escape.
        Indented, but a list of more than PORTFOLIO_ROWS items (the portfolio, the receivables of
        a large workspace) has an item per line: the same JSON, written at the C encoder's speed."""
        text = _json_text(data)
        self.text(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")

    def json_list(self, key: str, items: Iterable[dict[str, Any]], rest: Callable[[], dict[str, Any]]) -> None:
        """``{KEY: [items…], …rest()}`` as :meth:`json` writes it, the items written as they come
        (*rest* is asked for after them): the memory of one item however many there are."""
        it = iter(items)
        first = list(itertools.islice(it, PORTFOLIO_ROWS + 1))
        if len(first) <= PORTFOLIO_ROWS:
            self.json({key: first, **rest()})
            return
        safe = functools.partial(_JSON_UNSAFE.sub, lambda m: f"\\u{ord(m.group()):04x}")
        self.text(f"{{\n  {json.dumps(key)}: [\n")
        every = itertools.chain(first, it)
        chunks = (
            ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in chunk)
            for chunk in iter(lambda: list(itertools.islice(every, 1000)), [])
        )
        for n, chunk in enumerate(chunks):
            self.text(safe((",\n" if n else "") + chunk))
        tail = "".join(f",\n  {json.dumps(k, ensure_ascii=False)}: {_json_text(v, '  ')}" for k, v in rest().items())
        self.text(safe(f"\n  ]{tail}\n}}\n"))

    def line(self, text: str, style: str | None = None) -> None:
        self._print(Text(visible(text), style=style or ""))

    def error(self, text: str) -> None:
        self._print_err(Text(f"xmflow: {visible(text)}", style="bold red"))

    def note(self, text: str) -> None:
        self._print_err(Text(visible(text), style="yellow"))

    # -- status ---------------------------------------------------------------------------------
    def projects(self, found: ReportTable, every: bool = False) -> None:
        """The portfolio (`status`): a table of at most PORTFOLIO_ROWS rows in a terminal (all with
        *every*), the rest said in one line; piped, more than that go out as a line each
        (tab-separated), written as they go: a table of 10,000 rows costs more to draw than to
        compute. A cell of several lines (the next steps, whom they wait on) has a line each in the
        table and is joined with "; " on a line."""
        if not found.rows:
            self.line(self.t("none"))
            return
        if len(found.rows) > PORTFOLIO_ROWS and not self.console.is_terminal:
            self._tsv(found.headings, (_cells(found, row, "; ") for row in found.rows))
            return
        shown = found.rows if every else found.rows[:PORTFOLIO_ROWS]
        table = Table(show_lines=False, header_style="bold")
        for column in found.columns:
            if column.key in _WARRANTY_COLUMNS:
                table.add_column(column.heading, justify="right")
            else:
                right = column.key in _RIGHT_COLUMNS
                table.add_column(column.heading, overflow="fold", justify="right" if right else "left")
        for row in shown:
            _row(table, *_cells(found, row, "\n"))
        self._print(table)
        if len(shown) < len(found.rows):
            self.line(
                _(
                    "{total} projects, the first {shown} above: xmflow status --all for every one, or pipe it "
                    "(| less) for a line each"
                ).format(shown=len(shown), total=len(found.rows)),
                style="yellow",
            )

    def money(self, items: list[Money]) -> None:
        """`status --mine`: the money that waits on this person (to invoice, or to collect)."""
        table = Table(title=self.t("money_mine"), header_style="bold")
        for key in ("project", "name", "what", "sum", "since", "waited"):
            table.add_column(self.t(key), overflow="fold", justify="right" if key in ("sum", "waited") else "left")
        for m in items:
            _row(table, m.project, m.name, self.t(m.kind), format_money(m.amount), str(m.since or "—"), str(m.days))
        self._print(table)

    def show(self, project: Project, stages: list[Stage], derived: Figures, plan: list[Installment]) -> None:
        """`show`: the derived figures on one line (named in the language in use, yes/no as
        是/否, none as —), then each stage's record as stored."""
        names = {
            "key": "key",
            "contract_amount": "amount",
            "invoiced": "invoiced",
            "received": "received",
            "outstanding": "unreceived",
            "warranty_end": "warranty_end",
        }  # of the contract, not ar's invoiced
        figures = "  ".join(f"{label_or(names.get(k, k))}: {shown(v)}" for k, v in derived.as_dict().items())
        self.line(f"# {project.id}  {figures}", style="bold")
        self.schedule(plan, None)
        for stage in stages:
            record = project.record(stage.id)
            if record.exists:
                self.line(f"\n## {stage.id} — {title_of(stage)} ({record.path})", style="bold cyan")
                self.line(dump_record(stage, record).rstrip())

    def report(self, r: Report, process: Process, people: People | None = None) -> None:
        """`status PROJECT`: every step, stage by stage, who signed it or whom it waits for (by
        name and role), what it still needs; then the payment schedule."""
        s = r.summary
        key = f" [{self.t('key')}]" if s.key else ""
        self.line(f"{s.id}  {s.name}  {s.client}{key}", style="bold")
        table = Table(header_style="bold")
        for key_ in ("step", "title", "clause", "state", "signers", "missing"):
            table.add_column(self.t(key_), overflow="fold")
        current = None
        for st in r.steps:
            if st.step.stage != current:
                current = st.step.stage
                stage = process.stage(current)
                table.add_section()
                _row(
                    table,
                    Text(title_of(stage), style="bold cyan"),
                    "",
                    stage.clause,
                    "",
                    "",
                    "",
                )
            label, style = _STATE_STYLE[st.state]
            who = [f"{wording.signer(x, process, people)} {x.at.date()}" for x in st.signed]
            if st.state in (StepState.WAITING, StepState.BLOCKED):
                who.append("→ " + "/".join(wording.role_title(role, process) for role in st.waiting_roles))
            notes = [str(m.message) for m in st.missing]
            notes += [
                _("the signature of {name} ({day}) no longer matches: sign again").format(
                    name=wording.person(x.by, people), day=x.at.date()
                )
                for x in st.stale
            ]
            notes += [
                _("changed since {name} signed ({day})").format(name=wording.person(x.by, people), day=x.at.date())
                for x in st.changed_since
            ]
            notes += list(st.why)  # not applying: why, and how it would
            if st.rejected and st.state is StepState.DECLINED:
                notes.append(
                    _("declined by {name} ({day}): {reason}").format(
                        name=wording.signer(st.rejected, process, people),
                        day=st.rejected.at.date(),
                        reason=st.rejected.comment or "",
                    )
                )
            elif st.rejected:
                notes.append(
                    _("rejected by {name}: {reason}").format(
                        name=wording.signer(st.rejected, process, people), reason=st.rejected.comment or ""
                    )
                )
            for n in (n for n in s.late if n.step.id == st.step.id):
                notes.append(_("late: {waited} > {due} days").format(waited=n.waiting_days, due=st.step.due_days))
            _row(
                table,
                st.step.id,
                title_of(st.step),
                st.step.clause,
                Text(self.t(label), style=style),
                "\n".join(who),
                "\n".join(notes),
            )
        self._print(table)
        for note in r.notes:
            self.line(note, style="yellow")
        self.schedule(list(r.schedule), s.warranty_end)

    def schedule(self, plan: list[Installment], warranty_end: Any) -> None:
        """The contract's payment schedule (4.0) and the end of after-sales service (3.9.2)."""
        if plan:
            table = Table(title=self.t("schedule"), header_style="bold")
            for key in ("name", "percent", "event", "event_date", "due_date", "sum"):
                table.add_column(self.t(key), justify="right" if key in ("percent", "sum") else "left")
            for i in plan:
                _row(
                    table,
                    i.name,
                    f"{i.percent}%" if i.percent is not None else "",
                    f"{label_or('ev_' + i.event).removeprefix('ev_')} +{i.days}",
                    str(i.event_date or "—"),
                    str(i.due or "—"),
                    format_money(i.amount) if i.amount is not None else "",
                )
            self._print(table)
        if warranty_end:
            self.line(f"{self.t('warranty_end')}: {shown(warranty_end)}")

    def process(self, process: Process) -> None:
        self.line(f"{process.name} ({process.name_en}) {process.document}", style="bold")
        table = Table(header_style="bold")
        for col in ("step", "title", "roles", "clause", "when", "after", "form"):
            table.add_column(self.t(col), overflow="fold")
        for stage in process.stages:
            table.add_section()
            when = "" if isinstance(stage.when, Always) else stage.when.describe()
            _row(
                table,
                Text(f"{stage.id} ({stage.file})", style="bold cyan"),
                title_of(stage),
                "",
                stage.clause,
                when,
                "",
                stage.form or "",
            )
            for step in stage.steps:
                roles = (" + " if step.needs_all_roles else " | ").join(step.roles)
                _row(
                    table,
                    step.id,
                    title_of(step),
                    roles,
                    step.clause,
                    step.when.describe(),
                    ", ".join(p.step for p in step.after),
                    step.form or "",
                )
        self._print(table)
        if process.forms:
            forms = Table(title=self.t("forms"), header_style="bold")
            for col in ("form", "number", "title", "when", "step"):
                forms.add_column(self.t(col), overflow="fold")
            for form in process.forms.values():
                title = f"{form.title}（{form.annex}）" if form.annex else form.title
                _row(
                    forms,
                    form.id,
                    form.number,
                    in_language(title, form.title_en),
                    form.when.describe(),
                    ", ".join(form.steps),
                )
            self._print(forms)
        if process.revisions:
            revisions = Table(title=self.t("revisions"), header_style="bold")
            for key in _REVISION_COLUMNS:
                revisions.add_column(self.t(key))
            for rev in process.revisions:
                _row(revisions, *(rev.get(key, "") for key in _REVISION_COLUMNS))
            self._print(revisions)

    def sections(
        self, title: str, intro: str, sections: list[tuple[str, list[str], list[str], list[list[str]]]]
    ) -> None:
        """A document of tables (`process show --fields`, worded by reference.py): its title and
        introduction, then each section's heading, lines and table."""
        self.line(title, style="bold")
        self.line(intro)
        for heading, lines, headers, rows in sections:
            self.line("")
            self.line(heading, style="bold cyan")
            for text in lines:
                self.line(text)
            table = Table(header_style="bold")
            for header in headers:
                table.add_column(header, overflow="fold")
            for row in rows:
                _row(table, *row)
            self._print(table)

    # -- the audit trail ------------------------------------------------------------------------
    def trail(self, found: Trail, process: Process) -> None:
        """`log`: one row per change, then the reject loops. A table in a terminal; piped (to a
        pager, grep, a file) or longer than a screen can take, one tab-separated line per change,
        written as it goes: drawing a table of the whole history would cost more than reading it."""
        keys = ("time", "project", "step", "decision", "by", "role", "note", "waited", "commit")
        entries = iter(found)
        first = list(itertools.islice(entries, TABLE_ROWS + 1))
        if not first:
            self.line(self.t("none"))
            return
        rows = (wording.trail_row(e, process) for e in itertools.chain(first, entries))
        if self.console.is_terminal and len(first) <= TABLE_ROWS:
            table = Table(header_style="bold")
            for key in keys:
                table.add_column(self.t(key), overflow="fold", justify="right" if key == "waited" else "left")
            for row in rows:
                _row(table, *row)
            self._print(table)
        else:
            self._tsv([self.t(key) for key in keys], rows)
        loops = found.loops
        for loop in loops:
            days = f"{(loop.resolved_at - loop.rejected_at).total_seconds() / 86400:.1f}" if loop.resolved_at else "…"
            self.line(
                _(
                    "reject {project} {step} → {back_to}: {name} {day} “{reason}”, signed again after {days} days"
                ).format(
                    project=loop.project,
                    step=loop.step,
                    back_to=loop.back_to,
                    name=loop.by,
                    day=f"{loop.rejected_at:%Y-%m-%d}",
                    reason=loop.reason,
                    days=days,
                ),
                style="yellow",
            )

    def findings(self, findings: list[Any], checked: str) -> None:
        """`verify` and `check`: each finding on stderr, or one line saying all is well."""
        for finding in findings:
            self._print_err(Text(visible(str(finding)), style="red"))
        if not findings and checked:
            self.line(checked, style="green")

    # -- receivables ----------------------------------------------------------------------------
    def ar(self, found: ReportTable, ageing: dict[str, Decimal], every: bool = False) -> None:
        """`ar` (:func:`xmflow.reports.receivables.table`): its rows (each subtotal in italics, a
        line under it), the total in bold, then *ageing* (what all clients owe) as bars. In a
        terminal at most PORTFOLIO_ROWS projects are drawn unless *every* (every subtotal and the
        total are drawn all the same); piped, more than that go out as a line each (tab-separated)."""
        projects = found.projects
        if projects > PORTFOLIO_ROWS and not self.console.is_terminal:
            self._tsv(found.headings, (_cells(found, row) for row in found.rows))
            return
        table = Table(header_style="bold")
        for column in found.columns:
            text = not column.money
            table.add_column(column.heading, justify="left" if text else "right", overflow="fold", no_wrap=not text)
        budget = projects if every else PORTFOLIO_ROWS
        for row in found.rows:
            if row.kind == "row":
                if budget > 0:
                    table.add_row(*(_cell(c) for c in _cells(found, row)))
                budget -= 1
                continue
            if row.kind == "total":  # under a line (a subtotal has one under it already)
                table.add_section()
            table.add_row(*(_cell(c, _ROW_STYLE[row.kind]) for c in _cells(found, row)))
            if row.kind == "subtotal":
                table.add_section()
        self._print(table)
        if budget < 0:
            self.line(
                _(
                    "{total} projects, the first {shown} above (subtotals and the total count all): "
                    "xmflow ar --all, --csv or --xlsx for every one"
                ).format(shown=PORTFOLIO_ROWS, total=projects),
                style="yellow",
            )
        self.bars(self.t("ageing"), ageing, money=True)

    def _tsv(self, header: list[str] | None, rows: Iterable[list[str] | tuple[str, ...]]) -> None:
        """Rows as lines of tab-separated cells (each cell on one line), written as they go."""
        if header is not None:
            self.text("\t".join(header) + "\n")
        it = iter(rows)
        while chunk := list(itertools.islice(it, 1000)):
            self.text("".join("\t".join(visible(" ".join(c.split())) for c in row) + "\n" for row in chunk))

    def bars(self, title: str, values: dict[str, Any], money: bool = False, width: int = 40) -> None:
        """A bar chart in the terminal: one bar per label, as long as its share of the largest."""
        top = max((v for v in values.values()), default=0) or 1
        self.line(title, style="bold")
        label_width = max((cell_len(label_or(k)) for k in values), default=0)
        for key, value in values.items():
            name = label_or(key)
            name += " " * (label_width - cell_len(name))
            bar = "█" * round(width * value / top) if value else ""
            amount = format_money(value) if money else str(value)
            self._print(Text(f"  {visible(name)} ") + Text(bar, style="cyan") + Text(f" {amount}"))

    def glance(self, found: Glance) -> None:
        """Under the portfolio (:func:`xmflow.reports.portfolio.glance`): how many projects at
        each stage, what clients owe by age, and the steps waiting too long."""
        self.line("")
        self.bars(self.t("pipeline"), found.pipeline)
        if found.ageing is not None:
            self.bars(self.t("ageing"), found.ageing, money=True)
        if found.late or found.late_groups:
            self.line(self.t("late_steps"), style="bold red")
        for late in found.late:
            self.line(
                "  "
                + _("{project} {step}: {waited} > {due} days — {who}").format(
                    project=late.project, step=late.step, waited=late.waited, due=late.due, who=late.who
                ),
                style="red",
            )
        for group in found.late_groups:
            ids = ", ".join(group.projects[:3]) + (", …" if len(group.projects) > 3 else "")
            self.line(
                "  "
                + _("{step} — {who}: {count} projects late, the longest {longest} days ({ids})").format(
                    step=group.step, who=group.who, count=len(group.projects), longest=group.longest, ids=ids
                ),
                style="red",
            )


_RIGHT_COLUMNS = frozenset(("waiting", "amount"))  # the portfolio's columns of numbers, to the right
_WARRANTY_COLUMNS = frozenset(("warranty_end", "days_left"))  # `status --warranty`'s: to the right, never folded
_ROW_STYLE = {"row": "", "subtotal": "italic", "total": "bold"}


def _cells(table: ReportTable, row: ReportRow, between: str = " ") -> list[str]:
    """A row of a report's table as text: an amount (a cell of a money column) as ¥1,500,000.00,
    nothing as blank, several lines joined by *between*."""
    return [_text(cell, column.money, between) for cell, column in zip(row.cells, table.columns, strict=True)]


def _text(cell: Cell, money: bool, between: str) -> str:
    if cell is None:
        return ""
    if money and isinstance(cell, Decimal):
        return format_money(cell)
    if isinstance(cell, tuple):
        return between.join(cell)
    return str(cell)

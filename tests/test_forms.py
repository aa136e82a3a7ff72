"""`xmflow render`: the printed forms (附表1–4 and the others) made from a project's records.

The demo workspace is built once per session (read-only for most tests); golden files in
tests/golden/ pin every form of the showcase project in Chinese, as the company prints them, and
tests/golden/en/ the same forms in English (``--lang en``). Regenerate them after a deliberate change
with ``python -m pytest tests/test_forms.py --update-golden`` and review the diff before committing.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest
from conftest import Team, draft_contract, git, isolate_git, open_project, shipped, sign_contract, stamp_contract
from typer.testing import CliRunner

from xmflow.cli import app as cli
from xmflow.cli import demo
from xmflow.cli.entry import app
from xmflow.clock import fixed_time
from xmflow.errors import ProcessError, UsageError
from xmflow.forms import rendering
from xmflow.procedure import parser

PRINTED = datetime.fromisoformat("2026-11-28T10:00:00+08:00")  # the demo's "today"
GOLDEN = Path(__file__).parent / "golden"
SHOWCASE, SMALL, PLAN_WAITING, BLANK = "2026-001", "2026-002", "2026-004", "2026-006"
FORMS = ("form1", "sample-request", "form2", "shipping-order", "form3", "form4", "registration", "archive-list")
CLIENT = "深圳华信科技有限公司"
COMPANY = "深圳市星辰显示科技有限公司"
BLANK_DAY = "　　年　　月　　日"
DAY = re.compile(r"2026年\d{1,2}月\d{1,2}日")
PROCESS = parser.load(None)
STEP_BY_LINE = {f"{s.title}（{s.clause}）": s for s in PROCESS.steps}
ROLE_BY_TITLE = {r.title: r.id for r in PROCESS.roles.values()}


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, built once. The autouse `isolated_git` is per test, so the same git
    identity is set here by hand: the committer is part of every commit id the forms print."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("demo-home"), mp)
        return demo.build(tmp_path_factory.mktemp("demo") / "ws")


@pytest.fixture
def demo_copy(demo_ws: Path, tmp_path: Path) -> Path:
    """A private copy of the demo workspace, with an empty templates/ folder to override in."""
    root = tmp_path / "ws"
    shutil.copytree(demo_ws, root, symlinks=True)
    (root / "templates").mkdir()
    return root


def render(root: Path, *args: str, lang: str = "zh"):
    """`xmflow --lang LANG -C ROOT render ARGS` at the fixed printing time (the forms in Chinese,
    as the company prints them, unless *lang* says otherwise)."""
    with fixed_time(PRINTED):
        return CliRunner().invoke(app, ["--lang", lang, "-C", str(root), "render", *args])


def rendered(root: Path, *args: str, lang: str = "zh") -> str:
    result = render(root, *args, lang=lang)
    assert result.exit_code == 0, f"render {' '.join(args)} → {result.exit_code}:\n{result.output}"
    assert result.stderr == ""
    return result.stdout


def render_refused(root: Path, *args: str, lang: str = "en") -> str:
    """Render that must fail with exit 2 and print nothing on standard output; the message (in
    English, as the rest of the suite reads them, unless *lang* says otherwise)."""
    result = render(root, *args, lang=lang)
    assert result.exit_code == 2, f"render {' '.join(args)} → {result.exit_code}:\n{result.output}"
    assert result.stdout == "", "a refused render printed (part of) a form"
    return result.stderr


def cells(row: str) -> list[str]:
    """The cells of a Markdown table row (a `\\|` inside a cell does not split it)."""
    assert row.startswith("|") and row.endswith("|"), row
    return [c.strip(" ") for c in re.split(r"(?<!\\)\|", row)[1:-1]]  # not the full-width blanks


def opinion_rows(md: str) -> list[list[str]]:
    """The rows of every opinion column (意见栏) table of a Markdown form."""
    rows, inside = [], False
    for line in md.splitlines():
        if line.startswith("| 环节（条款） |"):
            inside = True
        elif inside and line.startswith("|---"):
            continue
        elif inside and line.startswith("|"):
            rows.append(cells(line))
        else:
            inside = False
    return rows


def row_of(md: str, first_cell: str) -> list[list[str]]:
    return [cells(line) for line in md.splitlines() if line.startswith(f"| {first_cell} |")]


def trailers(root: Path, commit: str) -> dict[str, str]:
    """The author name and Xmflow- trailers of a commit."""
    out = git(root, "log", "-1", "--format=%an%x1f%(trailers:only,unfold)", commit)
    author, _, text = out.partition("\x1f")
    found = {"author": author}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            found[key.strip()] = value.strip()
    return found


def commit_exists(root: Path, commit: str) -> bool:
    return (
        subprocess.run(
            ["git", "-C", str(root), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True
        ).returncode
        == 0
    )


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF as pdftotext reads it, with the layout's whitespace removed (a table's
    cells come out on lines of their own)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is not installed: apt-get install poppler-utils (CI's .ci/run installs it)")
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return re.sub(r"\s+", "", out.decode("utf-8"))


def require_weasyprint() -> None:
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        pytest.fail("WeasyPrint is not installed: pip install -e '.[pdf]' (the PDF forms need it)")
    except OSError as exc:
        pytest.fail(f"WeasyPrint cannot start ({exc}): apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk")


# --- 1. golden files --------------------------------------------------------------------------

GOLDEN_CASES = [
    *[(SHOWCASE, form, fmt, lang) for lang in ("zh", "en") for form in FORMS for fmt in ("md", "html")],
    *[(BLANK, form, fmt, lang) for lang in ("zh", "en") for form in ("form2", "form4") for fmt in ("md", "html")],
    *[(SMALL, "volume", "md", lang) for lang in ("zh", "en")],
]


STYLE = resources.files("xmflow.templates").joinpath("style.css").read_text(encoding="utf-8")


def without_style(html: str) -> str:
    """A page with its inlined style sheet (templates/style.css, the same on every page) left
    out, so that a change of layout does not rewrite every golden file; the sheet must be there."""
    if "<style>" not in html:
        return html
    assert html.count(STYLE) == 1, "the page does not inline templates/style.css"
    return html.replace(STYLE, "/* templates/style.css */\n")


def test_html_pages_have_no_external_resources(demo_ws: Path) -> None:
    """A print-ready page stands alone: the style sheet inlined, no links, scripts or remote fonts."""
    html = rendered(demo_ws, SHOWCASE, "volume", "--format", "html")
    assert html.count("<style>") == 1 and STYLE in html
    assert not re.search(r"<link|<script|<img|@import|url\(|https?://", html)
    assert re.search(r"@page\s*\{\s*size: A4", STYLE) and "Noto Serif CJK SC" in STYLE


@pytest.mark.parametrize(
    ("project", "form", "fmt", "lang"), GOLDEN_CASES, ids=[f"{lang}/{p}-{f}.{x}" for p, f, x, lang in GOLDEN_CASES]
)
def test_forms_of_the_demo_match_their_golden_files(
    demo_ws: Path, update_golden: bool, project: str, form: str, fmt: str, lang: str
) -> None:
    """Each form in Chinese (tests/golden/) and in English (tests/golden/en/, `--lang en`)."""
    text = without_style(rendered(demo_ws, project, form, "--format", fmt, lang=lang))
    path = (GOLDEN if lang == "zh" else GOLDEN / lang) / f"{project}-{form}.{fmt}"
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    if not path.is_file():
        pytest.fail(
            f"no golden file {path.relative_to(Path(__file__).parent.parent)}: run "
            "`python -m pytest tests/test_forms.py --update-golden`, read the file, commit it"
        )
    expected = path.read_bytes().decode("utf-8")
    if text != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(True), text.splitlines(True), f"golden/{path.name}", "rendered"
                )
            )[:80]
        )
        pytest.fail(
            f"{path.relative_to(GOLDEN)} differs from the rendered form (if the change is meant, rerun with "
            f"--update-golden and review the diff):\n{diff}"
        )


def test_form2_prints_the_amount_in_figures_and_in_capitals(demo_ws: Path) -> None:
    md = rendered(demo_ws, SHOWCASE, "form2")
    assert row_of(md, "合同金额") == [["合同金额", "¥1,490,000.00"]]
    assert row_of(md, "大写") == [["大写", "人民币壹佰肆拾玖万元整"]]
    assert row_of(md, "甲方（客户）") == [["甲方（客户）", CLIENT]]
    assert "数据版本 " + git(demo_ws, "rev-parse", "--short=7", "HEAD").strip() in md
    assert "打印于 2026年11月28日" in md


def test_every_amount_a_form_shows_is_also_in_capitals(demo_ws: Path) -> None:
    """Form 1's budget and form 4's contract amount are written in capitals too (人民币…元整), as
    form 2 writes the contract amount: on every form, an amount field is followed by its capitals."""
    from decimal import Decimal

    from xmflow.values import money_in_words

    form1 = rendered(demo_ws, SHOWCASE, "form1")
    assert row_of(form1, "项目预算") == [["项目预算", "¥1,500,000.00"]]
    assert row_of(form1, "大写") == [["大写", "人民币壹佰伍拾万元整"]]
    form4 = rendered(demo_ws, SHOWCASE, "form4")
    assert row_of(form4, "合同金额") == [["合同金额", "¥1,490,000.00"]]
    assert row_of(form4, "大写") == [["大写", "人民币壹佰肆拾玖万元整"]]
    amounts = 0
    for project in (SHOWCASE, SMALL, BLANK):
        for form in FORMS:
            lines = rendered(demo_ws, project, form).splitlines()
            for i, line in enumerate(lines):
                if line.startswith("|") and len(cells(line)) == 2 and cells(line)[1].startswith("¥"):
                    amount = Decimal(cells(line)[1].lstrip("¥").replace(",", ""))
                    assert cells(lines[i + 1]) == ["大写", money_in_words(amount)], (project, form, line)
                    amounts += 1
    assert amounts >= 6


@pytest.mark.parametrize(
    "edited", ["projects/2026-001/acceptance.yaml", "people.yaml", "xmflow.yaml", "templates/form4.j2"]
)
def test_the_footer_says_when_the_data_printed_is_not_committed(demo_copy: Path, edited: str) -> None:
    """The footer names the commit the page was printed from (the project, the people, the
    settings and the templates as of that commit) and says when any of them had changes not
    committed yet, so a paper copy leads back to exactly what it shows."""
    head = git(demo_copy, "rev-parse", "--short=7", "HEAD").strip()
    assert rendered(demo_copy, SHOWCASE, "form4").rstrip().endswith(f"数据版本 {head} · 打印于 2026年11月28日")
    path = demo_copy / edited
    if edited.startswith("templates/"):
        path.write_text("{% extends base %}{% block body %}{% endblock %}\n", encoding="utf-8")
    else:
        with path.open("a", encoding="utf-8") as f:
            f.write("# a note made by hand\n")
    assert f"数据版本 {head}（含未提交修改） · 打印于" in rendered(demo_copy, SHOWCASE, "form4")


# --- 2. escaping ------------------------------------------------------------------------------

NASTY = '<script>alert(1)</script> & "A|B"'


def test_a_client_name_with_markup_is_escaped_in_html_and_markdown(team: Team) -> None:
    pid = team.json("zhangsan", "new", "测试项目", "--client", NASTY, "--budget", "35万")["id"]
    html = rendered(team.root, pid, "form2", "--format", "html")
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;A|B&#34;</td>" in html
    assert "<script" not in html
    md = rendered(team.root, pid, "form2")
    client_rows = [line for line in md.splitlines() if line.startswith("| 甲方（客户） |")]
    assert client_rows == [r'| 甲方（客户） | \<script\>alert(1)\</script\> \& "A\|B" |']
    assert cells(client_rows[0]) == ["甲方（客户）", r'\<script\>alert(1)\</script\> \& "A\|B"']
    # Every row of every table has as many cells as its header: nothing broke a table.
    table: list[str] = []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {len(cells(row)) for row in table if not row.startswith("|---")}
            assert len(widths) == 1, table
        table = []
    stamp = next(line for line in rendered(team.root, pid, "form4").splitlines() if "甲方（盖章）" in line)
    assert r'\<script\>alert(1)\</script\> \& "A\|B"' in stamp


# --- 3. templates of the workspace ------------------------------------------------------------


def test_a_workspace_template_overrides_the_packaged_form(demo_copy: Path) -> None:
    (demo_copy / "templates" / "form4.j2").write_text(
        "{% extends base %}{% block body %}<p>WORKSPACE-FORM4 {{ page.client }}</p>{% endblock %}\n", encoding="utf-8"
    )
    html = rendered(demo_copy, SHOWCASE, "form4", "--format", "html")
    assert f"<p>WORKSPACE-FORM4 {CLIENT}</p>" in html
    assert "背书栏" not in html  # the packaged body is gone; the frame (base.html.j2) stays
    assert '<section class="form" id="form4">' in html and "项目验收报告" in html
    assert "WORKSPACE-FORM4" not in rendered(demo_copy, SHOWCASE, "form2", "--format", "html")


def test_a_workspace_ui_template_overrides_the_building_blocks(demo_copy: Path) -> None:
    packaged = (Path(str(resources.files("xmflow.templates"))) / "ui.html.j2").read_text(encoding="utf-8")
    assert "<h2>{{ title }}</h2>\n{% endmacro %}" in packaged
    (demo_copy / "templates" / "ui.html.j2").write_text(
        packaged.replace("<h2>{{ title }}</h2>\n{% endmacro %}", "<h2>UI-MARK {{ title }}</h2>\n{% endmacro %}", 1),
        encoding="utf-8",
    )
    assert "<h2>UI-MARK 一、项目及交付情况</h2>" in rendered(demo_copy, SHOWCASE, "form4", "--format", "html")
    assert "UI-MARK" not in rendered(demo_copy, SHOWCASE, "form4")  # the Markdown blocks are ui.md.j2


@pytest.mark.parametrize(
    ("name", "body", "said"),
    [
        ("form4.j2", "{% extends base %}{% block body %}{% if %}{% endblock %}\n", "form4.j2:1"),
        ("form4.j2", "{% extends base %}{% block body %}\n{{ contract.nosuchfield }}{% endblock %}\n", "nosuchfield"),
        ("form4.j2", "{% extends base %}{% block body %}{{ nosuchname }}{% endblock %}\n", "nosuchname"),
        ("ui.html.j2", "{% macro section(title) %}<h2>{{ title }}</h2>{% endmacro %\n", "ui.html.j2"),
    ],
    ids=["syntax", "undefined-field", "undefined-name", "broken-ui"],
)
def test_a_broken_template_exits_2_naming_itself_and_prints_nothing(
    demo_copy: Path, name: str, body: str, said: str
) -> None:
    (demo_copy / "templates" / name).write_text(body, encoding="utf-8")
    message = render_refused(demo_copy, SHOWCASE, "form4", "--format", "html")
    assert name in message and said in message


@pytest.mark.parametrize(
    "expression", ["''.__class__.__mro__[1].__subclasses__()", "contract._data", "page.form.when.__init__.__globals__"]
)
def test_a_template_cannot_escape_the_sandbox(demo_copy: Path, expression: str) -> None:
    (demo_copy / "templates" / "form4.j2").write_text(
        "{% extends base %}{% block body %}{{ " + expression + " }}{% endblock %}\n", encoding="utf-8"
    )
    message = render_refused(demo_copy, SHOWCASE, "form4")
    assert "form4.j2" in message and "unsafe" in message


@pytest.mark.parametrize(
    "expression",
    ['page.lines("acceptance.requst")', "range(10 ** 7) | list | length"],
    ids=["step-typo", "sandbox-range-limit"],
)
def test_a_template_failing_while_it_runs_exits_2_naming_itself(demo_copy: Path, expression: str) -> None:
    # Product bugs: rendering._render turns only UndefinedError, SecurityError, AttributeError and
    # TypeError into a TemplateError that names the template and line. The sandbox's own
    # OverflowError (range limit) escapes as an "internal error", exit 3; FormPage.lines's error for a
    # step name mistyped in a template does not say which template (and line) has the typo.
    (demo_copy / "templates" / "form4.j2").write_text(
        "{% extends base %}{% block body %}{{ " + expression + " }}{% endblock %}\n", encoding="utf-8"
    )
    message = render_refused(demo_copy, SHOWCASE, "form4")
    assert "form4.j2" in message and "internal error" not in message, message


# --- 4. form 2's changes since the supervisor signed (3.5.3) ---------------------------------------


def test_3_5_3_form2_marks_changes_since_supervisor_in_red(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid, "34.8万")
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review", "-m", "同意")
    supervisor = team.head()[:7]
    assert trailers(team.root, supervisor)["Xmflow-Step"] == "contract.supervisor_review"
    before = rendered(team.root, pid, "form2", "--format", "html")
    assert "签字后修改" not in before and 'class="changed"' not in before and 'class="was"' not in before

    team.ok("qianqi", "sign", pid, "contract.business_review", "--reject", "-m", "金额改为36万，请与客户确认")
    team.ok("zhangsan", "set", pid, "contract.amount=36万")
    team.ok("zhangsan", "sign", pid, "contract.draft", "-m", "客户已确认")

    html = rendered(team.root, pid, "form2", "--format", "html")
    assert '<td class="changed">¥360,000.00 <span class="was">原：¥348,000.00</span></td>' in html
    heading = next(line for line in html.splitlines() if "签字后修改" in line)
    assert heading.startswith('<h2 class="changed">') and "部门主管 赵六" in heading and supervisor in heading
    assert '<td>合同金额</td>\n<td class="was">¥348,000.00</td><td class="changed">¥360,000.00</td>' in html
    assert html.count('<td class="was">') == 1  # the amount is the only change

    md = rendered(team.root, pid, "form2")
    assert row_of(md, "合同金额") == [
        ["合同金额", "**¥360,000.00** ⟵ 已修改（原：¥348,000.00）"],
        ["合同金额", "¥348,000.00", "**¥360,000.00**"],
    ]
    assert f"## 签字后修改（对比 部门主管 赵六 2026年9月1日 签字时 {supervisor}）" in md
    supervisor_line = next(r for r in opinion_rows(md) if r[0] == "主管审核（3.5.2）")
    assert supervisor_line[2] == "同意（签字后有修改）" and supervisor_line[5] == supervisor  # not 同意：同意


def test_3_5_3_form2_without_a_reject_loop_has_no_changes(demo_ws: Path) -> None:
    html = rendered(demo_ws, SMALL, "form2", "--format", "html")
    assert "签字后修改" not in html and 'class="changed"' not in html and 'class="was"' not in html
    md = rendered(demo_ws, SMALL, "form2")
    assert "签字后修改" not in md and "已修改" not in md
    # The showcase went through the business centre's round: its delivery date is marked.
    showcase = rendered(demo_ws, SHOWCASE, "form2")
    assert row_of(showcase, "交货日期")[0] == ["交货日期", "**2026年11月10日** ⟵ 已修改（原：2026年11月1日）"]


# --- 5. signature blocks --------------------------------------------------------------------------


def test_signed_steps_show_signer_date_decision_and_the_commit_that_signed(demo_ws: Path) -> None:
    lines = 0
    for form in FORMS:
        for step_line, role, decision, name, day, commit in opinion_rows(rendered(demo_ws, SHOWCASE, form)):
            where = f"{form}: {step_line} ({role})"
            step = STEP_BY_LINE[step_line]
            assert decision.startswith("同意"), where
            assert DAY.fullmatch(day), where
            assert re.fullmatch(r"[0-9a-f]{7}", commit), where
            assert commit_exists(demo_ws, commit), where
            found = trailers(demo_ws, commit)
            assert found["Xmflow-Step"] == step.id, where
            assert found["Xmflow-Role"] == ROLE_BY_TITLE[role] and found["Xmflow-Decision"] == "approve", where
            # The client's signatory, with the colleague who recorded it (刘经理 ← 张三).
            signer = f"{found['Xmflow-Signatory']} ← {found['author']}" if role == "甲方" else found["author"]
            assert name == signer, where
            lines += 1
    assert lines == 27  # every step of the complete project that is on a form, one line per role


def test_unsigned_steps_print_a_blank_line_to_sign_by_hand(demo_ws: Path) -> None:
    md = rendered(demo_ws, BLANK, "form2")
    rows = opinion_rows(md)
    assert [r[0] for r in rows] == [
        "合同草拟（3.4.1–3.4.2）",
        "销售初审（核心原则条款）（3.5.1）",
        "主管审核（3.5.2）",
        "商务中心审核（3.5.3）",
        "商务中心盖章（3.5.3, 3.6.1）",
        "甲方签署合同（3.6.2）",
    ]
    assert all(r[2:] == ["□同意 □退回", "________", BLANK_DAY, ""] for r in rows)
    html = rendered(demo_ws, BLANK, "form2", "--format", "html")
    assert len(re.findall(r"<td>□同意　□退回</td><td></td><td[^>]*>[　 ]*年[　 ]*月[　 ]*日</td><td></td>", html)) == 6


def test_a_countersign_step_prints_one_line_per_role(demo_ws: Path) -> None:
    waiting = [r for r in opinion_rows(rendered(demo_ws, PLAN_WAITING, "form1")) if r[0] == "项目会签（3.3.1）"]
    assert [r[1] for r in waiting] == ["销售", "甲方"]
    assert waiting[0][2:5] == ["同意", "张三", "2026年11月5日"] and commit_exists(demo_ws, waiting[0][5])
    assert waiting[1][2:] == ["□同意 □退回", "________", BLANK_DAY, ""]
    done = [r for r in opinion_rows(rendered(demo_ws, SHOWCASE, "form1")) if r[0] == "项目会签（3.3.1）"]
    assert [(r[1], r[3]) for r in done] == [("销售", "张三"), ("甲方", "刘经理 ← 张三")]


def test_a_client_signature_shows_the_signatory_and_the_date_on_paper(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    stamp_contract(team, pid)
    team.ok(
        "zhangsan",
        "sign",
        pid,
        "contract.client_sign",
        "--role",
        "client",
        "--signatory",
        "周总",
        "--date",
        "2026-09-15",
        at="2026-09-20T10:00:00+08:00",
    )
    line = next(r for r in opinion_rows(rendered(team.root, pid, "form2")) if r[0] == "甲方签署合同（3.6.2）")
    assert line[1:5] == ["甲方", "同意", "周总 ← 张三", "2026年9月15日"]  # 周总 signed, 张三 recorded it; not the 20th
    found = trailers(team.root, line[5])
    assert found["Xmflow-Step"] == "contract.client_sign" and found["Xmflow-Signatory"] == "周总"


# --- 6. form 4: what is signed on paper (3.8.2, 3.9.1) ----------------------------------------------


def test_3_8_2_form4_carries_the_clients_signature_copies_and_stamps(demo_ws: Path) -> None:
    md = rendered(demo_ws, SHOWCASE, "form4")
    assert row_of(md, "甲方签字人") == [["甲方签字人", "刘经理"]]
    assert row_of(md, "验收日期") == [["验收日期", "2026年11月10日"]]
    client = next(r for r in opinion_rows(md) if r[0] == "甲方签署验收报告（3.8.2）")
    assert client[1:5] == ["甲方", "同意", "刘经理 ← 张三", "2026年11月10日"]
    assert "本表一式两份，双方各执一份。" in md
    assert f"- 甲方（盖章）：{CLIENT}　日期：{BLANK_DAY}" in md
    assert f"- 乙方（盖章）：{COMPANY}　日期：{BLANK_DAY}" in md
    html = rendered(demo_ws, SHOWCASE, "form4", "--format", "html")
    assert html.count('<div class="stamp">') == 2
    assert f'<div class="stamp">甲方（盖章）：{CLIENT}<br><br>日期：{BLANK_DAY}</div>' in html
    assert f'<div class="stamp">乙方（盖章）：{COMPANY}<br><br>日期：{BLANK_DAY}</div>' in html
    assert "本表一式两份" in html
    # A blank form 4 still says how many copies and has both stamp boxes.
    blank = rendered(demo_ws, BLANK, "form4")
    assert row_of(blank, "报告份数") == [["报告份数", "一式两份"]] and "本表一式两份" in blank
    assert "甲方（盖章）：深圳会展服务公司" in blank and "乙方（盖章）：" in blank


def test_3_9_1_form4_has_the_endorsement_of_customer_service(demo_ws: Path) -> None:
    md = rendered(demo_ws, SHOWCASE, "form4")
    endorsement = md[md.index("## 三、背书栏（客服中心，3.9.1）") :]
    assert row_of(endorsement, "验收日期（保修起算）") == [["验收日期（保修起算）", "2026年11月10日"]]
    assert row_of(endorsement, "保修截止") == [["保修截止", "2027年11月10日"]]
    line = next(r for r in opinion_rows(endorsement) if r[0] == "客服中心背书（3.9.1）")
    assert line[1:5] == ["客服中心", "同意：资料齐全，同意接收", "吴十", "2026年11月11日"]
    assert trailers(demo_ws, line[5])["Xmflow-Step"] == "handover.endorse"
    blank = opinion_rows(rendered(demo_ws, BLANK, "form4"))
    assert [r for r in blank if r[0] == "客服中心背书（3.9.1）"][0][2:] == ["□同意 □退回", "________", BLANK_DAY, ""]


# --- 7. names, outputs and errors ---------------------------------------------------------------


def test_a_form_goes_by_its_id_title_annex_or_number(demo_ws: Path) -> None:
    form4 = rendered(demo_ws, SHOWCASE, "form4")
    assert form4.startswith("# 项目验收报告（附表4）\n")
    for name in ("附表4", "项目验收报告", "xm-f04", "XM-F04", "FORM4"):
        assert rendered(demo_ws, SHOWCASE, name) == form4, name


def test_an_unknown_form_or_project_exits_2(demo_ws: Path) -> None:
    message = render_refused(demo_ws, SHOWCASE, "附表9")
    assert "no form '附表9'" in message
    assert all(form in message for form in FORMS) and "项目验收报告" in message and "volume" in message
    assert "no project '2026-999'" in render_refused(demo_ws, "2026-999", "form4")


def test_output_file_format_comes_from_its_extension(demo_ws: Path, tmp_path: Path) -> None:
    for name in ("out.html", "out.HTM"):
        result = render(demo_ws, SHOWCASE, "form4", "-o", str(tmp_path / name))
        assert result.exit_code == 0 and result.stdout == "", result.output
        assert (tmp_path / name).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result = render(demo_ws, SHOWCASE, "form4", "-o", str(tmp_path / "out.txt"))
    assert result.exit_code == 0 and (tmp_path / "out.txt").read_text(encoding="utf-8").startswith("# 项目验收报告")
    require_weasyprint()
    result = render(demo_ws, SHOWCASE, "archive-list", "-o", str(tmp_path / "out.pdf"))
    assert result.exit_code == 0 and result.stdout == "", result.output
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")
    assert not list(tmp_path.glob(".*xmflow-tmp"))


def test_a_pdf_is_not_printed_to_a_terminal(demo_ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_is_terminal", lambda: True)
    message = render_refused(demo_ws, SHOWCASE, "form4", "--format", "pdf")
    assert "-o" in message


# --- 8. PDF -----------------------------------------------------------------------------------


def test_form4_as_pdf_has_real_chinese_text(demo_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_weasyprint()
    monkeypatch.setattr(cli, "_is_terminal", lambda: False)  # standard output is a pipe: the PDF goes there
    result = render(demo_ws, SHOWCASE, "form4", "--format", "pdf")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"%PDF")
    text = pdf_text(result.stdout_bytes, tmp_path)
    assert "项目验收报告" in text and CLIENT in text and "本表一式两份" in text, text[:400]


def test_the_volume_as_pdf_has_every_form_in_a_cjk_font(demo_ws: Path, tmp_path: Path) -> None:
    """Real Chinese text, not boxes: every form's title is there, set in a CJK font that is embedded."""
    require_weasyprint()
    out = tmp_path / "volume.pdf"
    rendered(demo_ws, SHOWCASE, "volume", "-o", str(out))
    text = pdf_text(out.read_bytes(), tmp_path)
    assert all(form.title in text for form in PROCESS.forms.values()), text[:400]
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"CJK|Han|WenQuanYi|SimSun|Song|Hei", fonts), fonts


A4_MM = (210, 297)
MARGIN_MM = 14  # style.css: @page { margin: 14mm 14mm 16mm 14mm }


def pages_as_images(pdf: Path, dpi: int = 30) -> list[tuple[int, int, bytes]]:
    """Each page of a PDF as pdftoppm rasterises it in grey: (width, height, one byte a pixel)."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is not installed: apt-get install poppler-utils (CI's .ci/run installs it)")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(pdf), str(pdf.with_suffix(""))], check=True)
    pages = []
    for image in sorted(pdf.parent.glob(f"{pdf.stem}-*.pgm")):
        data = image.read_bytes()
        magic, width, height, depth, pixels = data.split(maxsplit=4)  # a binary PGM: P5 W H 255 then the pixels
        assert magic == b"P5" and depth == b"255"
        pages.append((int(width), int(height), pixels))
    return pages


def ink_outside_the_margins(pdf: Path, dpi: int = 30) -> list[str]:
    """Where a page has ink beyond its left or right margin (a printer clips it there), as
    ``page 3: 11 mm past the right margin``."""
    found = []
    for number, (width, height, pixels) in enumerate(pages_as_images(pdf, dpi), 1):
        assert abs(width / dpi * 25.4 - A4_MM[0]) < 2 and abs(height / dpi * 25.4 - A4_MM[1]) < 2, "not A4"
        per_mm = width / A4_MM[0]
        edge = (A4_MM[0] - MARGIN_MM) * per_mm
        left, right = int(MARGIN_MM * per_mm) - 1, int(edge) + 1  # a pixel for antialiasing
        inked = {x for y in range(height) for x in (*range(left), *range(right, width)) if pixels[y * width + x] < 250}
        if inked and max(inked) >= right:
            found.append(f"page {number}: {(max(inked) + 1 - edge) / per_mm:.0f} mm past the right margin")
        elif inked:
            found.append(f"page {number}: ink in the left margin")
    return found


def test_no_form_prints_beyond_the_margins_of_an_a4_page(demo_ws: Path, tmp_path: Path) -> None:
    """Every form's PDF, rasterised: nothing passes the printable area of the page (the stamp
    boxes of form 4 and the registration form once ran 11 mm past the right margin)."""
    require_weasyprint()
    for project in (SHOWCASE, BLANK):
        out = tmp_path / f"{project}.pdf"
        rendered(demo_ws, project, "volume", "-o", str(out))
        assert ink_outside_the_margins(out) == [], project
    # The check itself sees a box that runs past the margin.
    wide = tmp_path / "wide.pdf"
    wide.write_bytes(
        rendering.html_to_pdf(
            f"<style>{STYLE}</style><div style='margin-left:150mm;width:40mm;height:10mm;background:#000'></div>"
        )
    )
    assert ink_outside_the_margins(wide) in (
        ["page 1: 7 mm past the right margin"],  # 8 mm, to a pixel at 30 dpi
        ["page 1: 8 mm past the right margin"],
    )


@pytest.mark.parametrize("project", ["2026-001", "2026-002", "2026-003", "2026-004", "2026-005", "2026-006"])
def test_every_form_of_every_demo_project_renders(demo_ws: Path, project: str) -> None:
    """Whatever stage a project is at, each form prints (as a blank where nothing is filled in)."""
    for form in PROCESS.forms.values():
        md = rendered(demo_ws, project, form.id)
        html = rendered(demo_ws, project, form.id, "--format", "html")
        assert md.startswith(f"# {form.title}") and f"<h1>{form.title}" in html
        assert f"表单编号 {form.number}" in md and f"表单编号：{form.number}" in html


def test_without_weasyprint_pdf_names_the_extra_to_install() -> None:
    def missing() -> None:
        raise ImportError("No module named 'weasyprint'")

    with pytest.raises(UsageError) as info:
        rendering.html_to_pdf("<p>x</p>", loader=missing)
    # xmflow is not on the package index: the extra is installed from its source ('.[pdf]').
    assert "pip install '.[pdf]'" in info.value.message and info.value.exit_code == 2
    assert "xmflow[pdf]" not in info.value.message

    def no_pango() -> None:
        raise OSError("cannot load library 'libpango-1.0-0'")

    with pytest.raises(UsageError) as info:
        rendering.html_to_pdf("<p>x</p>", loader=no_pango)
    assert "libpango" in info.value.message and "fonts-noto-cjk" in info.value.message


def test_without_weasyprint_the_command_exits_2_and_writes_no_file(
    demo_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> None:
        raise ImportError("No module named 'weasyprint'")

    monkeypatch.setattr(rendering, "_import_weasyprint", missing)
    assert "pip install '.[pdf]'" in render_refused(demo_ws, SHOWCASE, "form4", "-o", str(tmp_path / "f.pdf"))
    assert list(tmp_path.iterdir()) == []


# --- 9. the volume (4.2) ------------------------------------------------------------------------


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section class="form" id="([^"]+)">', html)


def test_4_2_volume_binds_cover_contents_and_every_form_in_order(demo_ws: Path) -> None:
    html = rendered(demo_ws, SHOWCASE, "volume", "--format", "html")
    assert html.count("<!DOCTYPE html>") == 1 and html.count("<html") == 1 and html.count("</html>") == 1
    cover = html[html.index('<section class="cover">') : html.index('<section class="toc">')]
    assert "<h1>项目资料卷</h1>" in cover and CLIENT in cover and "<td>XM-2026-001</td>" in cover
    assert '<td class="label">表单数</td><td>8</td>' in cover
    toc = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', html)
    assert [t[0] for t in toc] == list(FORMS) == list(PROCESS.forms)
    assert ("form4", "XM-F04 项目验收报告（附表4）") in toc
    assert section_ids(html) == list(FORMS)
    assert html.index('<section class="toc">') < html.index('<section class="form" id="form1">')


def test_4_2_volume_of_a_small_project_has_only_the_forms_that_apply(demo_ws: Path) -> None:
    html = rendered(demo_ws, SMALL, "volume", "--format", "html")
    assert section_ids(html) == ["form2", "shipping-order", "form4", "registration", "archive-list"]
    assert 'href="#form1"' not in html and "项目实施方案书（附表1）</a>" not in html
    md = rendered(demo_ws, SMALL, "VOLUME")
    assert md.startswith("# 项目资料卷：2026-002 会议室显示屏采购\n") and "# 项目实施方案书" not in md


# --- 10. the process's forms table ------------------------------------------------------------------

TEXT = parser.default_text()


def parse_error(old: str, new: str) -> tuple[str, str]:
    """The default process with *old* replaced once by *new*: its text and the parse error."""
    assert TEXT.count(old) == 1, old
    text = TEXT.replace(old, new, 1)
    with pytest.raises(ProcessError) as info:
        parser.parse(text, "p.yaml")
    assert info.value.exit_code == 2
    return text, info.value.message


def line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


def test_a_stage_naming_a_form_not_in_the_table() -> None:
    text, message = parse_error("    form: form2\n    fields:", "    form: form9\n    fields:")
    assert message.startswith(
        f"p.yaml:{line_of(text, '    form: form9')}: form 'form9' is not in the `forms` table "
        "(forms: form1, sample-request, form2,"
    )


def test_two_forms_going_by_the_same_name() -> None:
    old = "registration: {number: XM-F07,"
    text, message = parse_error(old, "registration: {number: xm-f04,")
    assert (
        message
        == f"p.yaml:{line_of(text, '  registration: {')}: forms form4 and registration both go by the name 'xm-f04'"
    )
    text, message = parse_error("title: 出货指令,", "title: 项目验收报告,")
    assert message.endswith("forms shipping-order and form4 both go by the name '项目验收报告'")


@pytest.mark.parametrize("copies", ["0", "-1", "two"])
def test_a_form_made_in_no_copies(copies: str) -> None:
    text, message = parse_error("copies: 2,", f"copies: {copies},")
    assert message == f"p.yaml:{line_of(text, '  form4: {')}: `copies` must be a whole number of at least 1"


def test_a_form_stamped_by_an_unknown_party() -> None:
    old = "clause: 3.5.2, stamps: [company]}"
    text, message = parse_error(old, "clause: 3.5.2, stamps: [bank]}")
    assert message == f"p.yaml:{line_of(text, '  form2: {')}: unknown party 'bank' (parties: company, client)"


def test_the_default_forms_table() -> None:
    assert list(PROCESS.forms) == list(FORMS)
    form4 = PROCESS.forms["form4"]
    assert (form4.number, form4.annex, form4.title, form4.copies, form4.stamps) == (
        "XM-F04",
        "附表4",
        "项目验收报告",
        2,
        ("client", "company"),
    )
    assert form4.steps == ("acceptance.request", "acceptance.client_sign", "handover.endorse")
    assert PROCESS.form("xm-f04") is form4 and PROCESS.form("附表4") is form4 and PROCESS.form("附表9") is None


# --- 11. what a review found: a template may not reach outside, paper must be right ---------


def test_a_template_linking_outside_its_folder_is_refused(demo_copy: Path, tmp_path: Path) -> None:
    """A link committed in templates/ (leak.txt → a secret file) must not print the file of
    whoever renders the form."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42\n", encoding="utf-8")
    (demo_copy / "templates" / "leak.txt").symlink_to(secret)
    (demo_copy / "templates" / "form4.j2").write_text('{% include "leak.txt" %}\n', encoding="utf-8")
    message = render_refused(demo_copy, SHOWCASE, "form4", "--format", "html")
    assert "leak.txt links outside its folder" in message and "TOP-SECRET-42" not in message


def test_a_pdf_carries_no_file_and_calls_no_server(tmp_path: Path) -> None:
    """WeasyPrint fetches nothing: a template cannot attach a local file to the PDF nor make
    the renderer call out (the forms have no external resources)."""
    require_weasyprint()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42\n", encoding="utf-8")
    html = (
        f'<html><head><link rel="attachment" href="{secret.as_uri()}"></head>'
        f'<body><p>表</p><img src="{secret.as_uri()}"><img src="http://192.0.2.1/track.png"></body></html>'
    )
    pdf = rendering.html_to_pdf(html)
    assert pdf.startswith(b"%PDF") and b"TOP-SECRET-42" not in pdf and b"EmbeddedFile" not in pdf


def test_a_shallow_clone_is_refused_rather_than_printing_signatures_without_commits(
    demo_ws: Path, tmp_path: Path
) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "3", demo_ws.as_uri(), str(shallow)], check=True)
    message = render_refused(shallow, SHOWCASE, "form2")
    assert "shallow" in message and "git fetch --unshallow" in message


def test_a_line_break_in_user_data_does_not_make_markdown(team: Team) -> None:
    pid = team.json("zhangsan", "new", "政府展厅", "--client", "会展中心", "--budget", "35万")["id"]
    answer = team("zhangsan", "set", pid, "initiation.name=政府展厅\n---\n- 伪造条目")  # a name is one line
    assert answer.exit_code == 2 and "single line" in " ".join(answer.output.split())
    team.ok(
        "zhangsan",
        "set",
        pid,
        "initiation.client.name=会展 # 中心",
        "acceptance.remarks=第一行\n---\n- 伪造条目\n1. 第二条\n# 标题",
    )  # remarks take several lines
    md = rendered(team.root, pid, "form4")
    assert md.splitlines()[0] == r"# 项目验收报告（附表4）"
    data = [line for line in md.splitlines() if any(word in line for word in ("伪造条目", "第二条", "标题"))]
    assert len(data) >= 3, md
    assert not [line for line in data if line.lstrip().startswith(("---", "- ", "1. ", "#"))], data
    assert [line for line in md.splitlines() if line.startswith(("---", "#"))] == [
        "# 项目验收报告（附表4）",
        "## 一、项目及交付情况",
        "## 二、验收",
        "## 验收结论（甲方填写）",
        "## 备注",
        "## 验收签字",
        "## 三、背书栏（客服中心，3.9.1）",
        "## 客服中心意见",
        "## 背书签字",
        "---",
    ]
    assert row_of(md, "甲方（客户）") == [["甲方（客户）", r"会展 \# 中心"]]


def test_3_5_3_a_reject_prints_its_reason_and_a_blank_line_for_the_next_signature(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid, "34.8万")
    team.ok("zhaoliu", "sign", pid, "contract.supervisor_review", "-m", "同意")
    team.ok("qianqi", "sign", pid, "contract.business_review", "--reject", "-m", "付款比例请与客户再确认")
    rows = [r for r in opinion_rows(rendered(team.root, pid, "form2")) if r[0] == "商务中心审核（3.5.3）"]
    assert rows[0][1:4] == ["商务中心", "退回：付款比例请与客户再确认", "钱七"]
    assert re.fullmatch(r"[0-9a-f]{7}", rows[0][5])
    assert rows[1][1:] == ["商务中心", "□同意 □退回", "________", BLANK_DAY, ""]  # the business centre signs here next


def round_rows(md: str) -> list[list[str]]:
    """The rows of the reject rounds table (退回及重新签字) of a Markdown form."""
    rows, inside = [], False
    for line in md.splitlines():
        if line.startswith("| 轮次 |"):
            inside = True
        elif inside and line.startswith("|") and not line.startswith("|---"):
            rows.append(cells(line))
        elif not line.startswith("|---"):
            inside = False
    return rows


def test_3_5_2_3_5_3_the_final_form2_shows_every_reject_round_and_its_re_signature(demo_ws: Path) -> None:
    """The showcase's contract went back twice (the supervisor, 3.5.2; the business centre, 3.5.3)
    and was signed again each time: the final 附表2 still shows both rounds — who rejected, why,
    when, in which commit, and who signed again when."""
    md = rendered(demo_ws, SHOWCASE, "form2")
    rounds = round_rows(md)
    assert [r[:5] for r in rounds] == [
        ["1", "主管审核（3.5.2）", "赵六（部门主管）", "违约责任未设上限，请补充后重新提交", "2026年9月30日"],
        [
            "2",
            "商务中心审核（3.5.3）",
            "钱七（商务中心）",
            "交货期改为2026-11-10（已红字标注），请与客户确认",
            "2026年10月5日",
        ],
    ]
    assert [r[6:8] for r in rounds] == [["赵六", "2026年10月2日"], ["钱七", "2026年10月9日"]]
    for r, step in zip(rounds, ("contract.supervisor_review", "contract.business_review"), strict=True):
        assert trailers(demo_ws, r[5])["Xmflow-Decision"] == "reject" and trailers(demo_ws, r[5])["Xmflow-Step"] == step
        assert (
            trailers(demo_ws, r[8])["Xmflow-Decision"] == "approve" and trailers(demo_ws, r[8])["Xmflow-Step"] == step
        )
    # The opinion column is what counts now: the signatures made again, no reject line.
    assert not [r for r in opinion_rows(md) if r[2].startswith("退回")]
    html = rendered(demo_ws, SHOWCASE, "form2", "--format", "html")
    assert "<h2>退回及重新签字</h2>" in html and "违约责任未设上限，请补充后重新提交" in html
    assert html.index("退回及重新签字") < html.index("审核意见及签字")
    # A project that went through no reject has no such table.
    assert "退回及重新签字" not in rendered(demo_ws, SMALL, "form2") + rendered(
        demo_ws, SMALL, "form2", "--format", "html"
    )


def test_a_clients_reject_shows_its_signatory_with_who_recorded_it_and_the_round(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    sign_contract(team, pid)
    shipped(team, pid)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "acceptance.request_date=2026-11-07",
        "acceptance.accepted_date=2026-11-10",
        "acceptance.copies=2",
        at="2026-11-10T09:00:00+08:00",
    )
    team.ok("zhangsan", "sign", pid, "acceptance.request")
    team.ok(
        "zhangsan",
        "sign",
        pid,
        "acceptance.client_sign",
        "--reject",
        "--role",
        "client",
        "--signatory",
        "王总",
        "-m",
        "屏幕有坏点，请更换",
    )
    md = rendered(team.root, pid, "form4")
    line = next(r for r in opinion_rows(md) if r[0] == "甲方签署验收报告（3.8.2）")
    assert line[1:4] == ["甲方", "退回：屏幕有坏点，请更换", "王总 ← 张三"]
    assert round_rows(md) == [
        [
            "1",
            "甲方签署验收报告（3.8.2）",
            "王总 ← 张三（甲方）",
            "屏幕有坏点，请更换",
            "2026年11月10日",
            line[5],
            "（待重新签字）",
            "",
            "",
        ]
    ]
    team.ok("zhangsan", "sign", pid, "acceptance.request")
    team.ok("wushi", "sign", pid, "acceptance.client_sign", "--role", "client", "--signatory", "王总", "-m", "同意。")
    md = rendered(team.root, pid, "form4")
    line = next(r for r in opinion_rows(md) if r[0] == "甲方签署验收报告（3.8.2）")
    assert line[1:4] == ["甲方", "同意", "王总 ← 吴十"]  # 同意 once, not 同意：同意。
    assert [r[6:8] for r in round_rows(md)] == [["王总 ← 吴十", "2026年11月10日"]]
    assert row_of(md, "甲方签字人") == [["甲方签字人", "王总"]]  # the client's own signer, on the client's line


@pytest.mark.parametrize(
    ("decision", "comment", "shown"),
    [
        ("approve", "同意", None),
        ("approve", " 同意。 ", None),
        ("approve", "Approved", None),
        ("approve", "同意！", None),
        ("approve", "同意，请尽快盖章", "同意，请尽快盖章"),
        ("approve", "不同意", "不同意"),
        ("reject", "退回", None),
        ("reject", "同意", "同意"),
        ("approve", None, None),
    ],
)
def test_a_comment_that_only_repeats_the_decision_is_not_printed_again(
    decision: str, comment: str | None, shown: str | None
) -> None:
    from xmflow.forms.model import Signature
    from xmflow.model import Decision, Signoff

    signoff = Signoff("contract.draft", Decision(decision), "zhangsan", "sales", PRINTED, "sha256:x", comment)
    step = PROCESS.step("contract.draft")
    assert Signature(step, (PROCESS.roles["sales"],), signoff).remark == shown


def test_payment_terms_add_up_to_the_contract_amount_to_the_fen(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid, "100000.01")
    team.ok(
        "zhangsan",
        "set",
        pid,
        "contract.payment_terms=[{name: 预付款, percent: 33.33, due: signing, days: 7}, "
        "{name: 到货款, percent: 33.33, due: shipment, days: 7}, {name: 验收款, percent: 33.34, due: acceptance}]",
    )
    rows = [cells(line) for line in rendered(team.root, pid, "form2").splitlines() if re.match(r"\| [123] \|", line)]
    assert [r[-1] for r in rows] == ["¥33,330.00", "¥33,330.00", "¥33,340.01"]  # ¥100,000.01 in all


def test_split_amount_is_exact_and_leaves_no_fen_behind() -> None:
    from decimal import Decimal as D

    from xmflow.money.figures import split_amount

    assert split_amount(D("100000.01"), [D("33.33"), D("33.33"), D("33.34")]) == [
        D("33330.00"),
        D("33330.00"),
        D("33340.01"),
    ]
    assert split_amount(D("1490000.00"), [D(30), D(60), D(10)]) == [D("447000.00"), D("894000.00"), D("149000.00")]
    assert split_amount(D("100.00"), [D(50), None]) == [D("50.00"), None]  # terms not yet complete: no remainder


def test_a_format_that_contradicts_the_output_file_is_refused(demo_ws: Path, tmp_path: Path) -> None:
    message = render_refused(demo_ws, SHOWCASE, "form4", "--format", "pdf", "-o", str(tmp_path / "form4.md"))
    assert "--format pdf does not fit" in message and not (tmp_path / "form4.md").exists()


@pytest.mark.parametrize("name", ["x.docx", "x.DOC", "form4.odt", "x.rtf"])
def test_an_output_file_of_a_format_it_cannot_write_is_refused_naming_those_it_can(
    demo_ws: Path, tmp_path: Path, name: str
) -> None:
    """`render -o x.docx` is not written as Markdown under a Word file's name: refused, exit 2,
    saying which extensions it writes, and no file is made."""
    message = " ".join(render_refused(demo_ws, SHOWCASE, "form4", "-o", str(tmp_path / name)).split())
    assert f"cannot write a .{name.rpartition('.')[2].lower()} file" in message
    assert ".md (.markdown, .txt), .html (.htm), .pdf" in message and "--format md|html|pdf" in message
    assert "nothing was written" in message
    assert list(tmp_path.iterdir()) == []
    chinese = render_refused(demo_ws, SHOWCASE, "form4", "-o", str(tmp_path / name), lang="zh")
    assert (
        "不能写" in chinese and ".md (.markdown, .txt), .html (.htm), .pdf" in chinese and "未写入任何文件" in chinese
    )
    assert list(tmp_path.iterdir()) == []


def test_a_signature_is_matched_only_to_a_commit_by_its_signer() -> None:
    from xmflow.model import Decision, Signoff
    from xmflow.records.history import Commit, signoff_commit

    at = datetime.fromisoformat("2026-10-02T09:00:00+08:00")
    signoff = Signoff("contract.supervisor_review", Decision.APPROVE, "zhaoliu", "sales_supervisor", at, "sha256:x")
    trailer = {
        "Xmflow-Project": "2026-001",
        "Xmflow-Step": signoff.step,
        "Xmflow-Decision": "approve",
        "Xmflow-Role": "sales_supervisor",
    }
    forged = Commit("a" * 40, "李四", "lisi@example.com", at, trailer)
    genuine = Commit("b" * 40, "赵六", "zhaoliu@example.com", at, trailer)
    assert signoff_commit([forged], "2026-001", signoff, "zhaoliu@example.com") is None
    assert signoff_commit([forged, genuine], "2026-001", signoff, "ZhaoLiu@example.com") is genuine


def test_a_reader_that_stops_early_is_not_an_error(demo_ws: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "xmflow", "--lang", "zh", "-C", str(demo_ws), "render", SHOWCASE, "volume"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(5) == "# 项".encode()[:5]
    proc.stdout.close()  # like `| head -c 5`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and "internal error" not in err, err


# --- 12. both languages ---------------------------------------------------------------------------


def template_messages() -> dict[str, str]:
    """The templates' own words: each message id without placeholders, with its Chinese."""
    import gettext as gettext_module

    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    from xmflow import i18n

    chinese = i18n.catalogue("zh")
    assert isinstance(chinese, gettext_module.GNUTranslations), "no compiled Chinese catalogue"
    found = {}
    templates = Path(str(resources.files("xmflow.templates")))
    for _file, _line, message, _comments, context in extract_from_dir(
        templates, [("**.j2", "jinja2")], keywords=DEFAULT_KEYWORDS
    ):
        if isinstance(message, str) and "{" not in message:
            found[message] = chinese.pgettext(context, message) if context else chinese.gettext(message)
    return found


def test_a_chinese_form_has_every_word_of_its_template_in_chinese(demo_ws: Path) -> None:
    """The templates are written with English message ids; printed in Chinese, none of them is
    left in English (a message missing from the catalogue would be)."""
    messages = template_messages()
    assert len(messages) > 100 and messages["Opinions and signatures"] == "审核意见及签字"
    english = [m for m, zh in messages.items() if m == zh]
    assert english == [], f"template messages without Chinese: {english}"
    words = {m for m in messages if len(m) >= 4 and re.search("[A-Za-z]{3}", m)}
    for project in (SHOWCASE, BLANK):
        for form in [*FORMS, "volume"]:
            for fmt in ("md", "html"):
                page = rendered(demo_ws, project, form, "--format", fmt)
                left = sorted(m for m in words if re.search(rf"(?<![A-Za-z]){re.escape(m)}(?![A-Za-z])", page))
                assert left == [], (project, form, fmt, left)


def test_a_form_in_english_speaks_english_and_writes_amounts_in_figures(demo_ws: Path) -> None:
    """`--lang en`: the process's English titles, English words and dates; the amounts in figures
    only (capital numerals, 人民币…元整, are a Chinese contract's way), the client's signatory with
    who recorded it, and each reject round."""
    form2 = rendered(demo_ws, SHOWCASE, "form2", lang="en")
    assert form2.startswith("# Contract review confirmation form (Annex 2)\n")
    assert "· Form No. XM-F02 · Project 2026-001 " in form2 and "Marketing Project Control Procedure" in form2
    assert row_of(form2, "Contract amount") == [["Contract amount", "¥1,490,000.00"]]
    assert "大写" not in form2 and "In capitals" not in form2 and "人民币" not in form2
    assert row_of(form2, "Delivery date") == [
        ["Delivery date", "**2026-11-10** ⟵ changed (was: 2026-11-01)"],
        ["Delivery date", "2026-11-01", "**2026-11-10**"],
    ]
    assert row_of(form2, "Warranty") == [["Warranty", "12 months"]]
    rows = {r[0]: r for r in opinion_rows_en(form2)}
    assert rows["Supervisor review (3.5.2)"][1:5] == [
        "Department supervisor",
        "Approved (changed after signing)",
        "赵六",
        "2026-10-02",
    ]
    assert rows["Client signs the contract (3.6.2)"][1:4] == ["Client", "Approved", "刘经理 ← 张三"]
    assert (
        "## Rejects and signatures made again" in form2
        and "| 1 | Supervisor review (3.5.2) | 赵六 (Department supervisor) |" in form2
    )
    assert form2.rstrip().endswith(
        "Data version " + git(demo_ws, "rev-parse", "--short=7", "HEAD").strip() + " · printed on 2026-11-28"
    )
    form1 = rendered(demo_ws, SHOWCASE, "form1", lang="en")
    assert row_of(form1, "Project budget") == [["Project budget", "¥1,500,000.00"]] and "人民币" not in form1
    assert row_of(form1, "Key project") == [["Key project", "Yes"]]
    form4 = rendered(demo_ws, SHOWCASE, "form4", lang="en")
    assert row_of(form4, "Contract amount") == [["Contract amount", "¥1,490,000.00"]] and "人民币" not in form4
    assert "This form is made in 2 copies, one for each party." in form4
    assert f"- Client (stamp): {CLIENT}　Date: ____ - __ - __" in form4
    blank = rendered(demo_ws, BLANK, "form2", lang="en")
    assert "| Contract drafted (3.4.1–3.4.2) | Sales | □ approve □ reject | ________ | ____ - __ - __ |  |" in blank
    for form in PROCESS.forms.values():
        title = form.title_en[0].upper() + form.title_en[1:]
        assert rendered(demo_ws, SHOWCASE, form.id, lang="en").startswith(f"# {title}"), form.id
        html = rendered(demo_ws, SHOWCASE, form.id, "--format", "html", lang="en")
        assert f"<h1>{title}" in html and '<html lang="en">' in html and "Page " in html, form.id
    zh = rendered(demo_ws, SHOWCASE, "form4", "--format", "html")
    assert '<html lang="zh-CN">' in zh and "Page " not in zh and "counter(page)" in zh


def opinion_rows_en(md: str) -> list[list[str]]:
    return [
        cells(line)
        for line in md.splitlines()
        if line.startswith("| ") and re.match(r"\| [A-Z][^|]* \([0-9.–, ]+\) \|", line)
    ]


def test_no_form_in_english_prints_beyond_the_margins_either(demo_ws: Path, tmp_path: Path) -> None:
    """English words take more room than Chinese ones: the English forms stay inside the page too."""
    require_weasyprint()
    out = tmp_path / "volume-en.pdf"
    rendered(demo_ws, SHOWCASE, "volume", "-o", str(out), lang="en")
    assert ink_outside_the_margins(out) == []
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "Projectacceptancereport" in text and "Page1of" in text


def test_the_index_of_signoff_commits_prints_what_the_history_says(demo_copy: Path) -> None:
    """The commits next to each signature come from .git/xmflow/history/ (kept up to date from the
    commits since it was made): the same forms warm, broken, missing, after a new commit and
    after HEAD went back to before the commits it was made for."""
    shutil.rmtree(demo_copy / "templates")
    index = demo_copy / ".git" / "xmflow" / "history"
    shutil.rmtree(index, ignore_errors=True)
    cold = {form: rendered(demo_copy, SHOWCASE, form) for form in FORMS}
    assert (index / "signed" / f"{SHOWCASE}.jsonl").is_file() and (index / "HEAD").is_file()
    assert {form: rendered(demo_copy, SHOWCASE, form) for form in FORMS} == cold  # warm
    (index / "signed" / f"{SHOWCASE}.jsonl").write_text("[[1, 2", "utf-8")
    assert {form: rendered(demo_copy, SHOWCASE, form) for form in FORMS} == cold  # broken
    shutil.rmtree(index)
    # HEAD goes back to before the last sign-off of the showcase: its line is blank again.
    last = git(demo_copy, "log", "-1", "--format=%H", "--", f"projects/{SHOWCASE}").strip()
    head = git(demo_copy, "rev-parse", "HEAD").strip()
    rendered(demo_copy, SHOWCASE, "form4")  # made for HEAD
    git(demo_copy, "reset", "-q", "--hard", f"{last}~1")
    back = {form: rendered(demo_copy, SHOWCASE, form) for form in FORMS}
    assert back != cold and last[:7] not in "".join(back.values())
    shutil.rmtree(index)
    assert {form: rendered(demo_copy, SHOWCASE, form) for form in FORMS} == back  # as a cold run
    git(demo_copy, "reset", "-q", "--hard", head)  # and forward again
    assert {form: rendered(demo_copy, SHOWCASE, form) for form in FORMS} == cold

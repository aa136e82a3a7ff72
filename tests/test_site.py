"""`xmflow site -o DIR`: the static portal of the demo workspace, read back as HTML and in a real
browser (headless Debian Chromium driven by Playwright)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from conftest import Team, git, isolate_git, refused
from typer.testing import CliRunner

from xmflow.cli import demo
from xmflow.cli.entry import app

EVIL = "<script>alert(1)</script>"
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/site-shots")


class Page(HTMLParser):
    """What the tests read of a page: its links, the resources it loads, its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.resources: list[str] = []
        self.scripts = 0
        self.text: list[str] = []
        self.commit: str | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        for attr in ("src", "srcset", "poster", "data", "background"):
            if found.get(attr):
                self.resources.append(found[attr] or "")
        if tag == "link" and found.get("href"):
            self.resources.append(found["href"] or "")
        if tag == "code" and "commit" in (found.get("class") or ""):
            self.commit = found.get("data-commit")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def read(path: Path) -> tuple[Page, str]:
    text = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return page, text


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The demo workspace with one more project, whose client and name are HTML, and its portal
    in Chinese: (workspace, portal folder, the commit it was built from)."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("site-home"), mp)
        root = demo.build(tmp_path_factory.mktemp("site") / "demo")
        team = Team(root)
        team.clock = datetime.fromisoformat("2026-11-27T10:00:00+08:00")
        pid = team.json("zhangsan", "new", '<img src=x onerror="alert(2)">', "--client", EVIL, "--budget", "20万")["id"]
        team.ok("zhangsan", "set", pid, "initiation.client.contact=刘经理", "initiation.phase=跟踪")
        team.ok("zhangsan", "sign", pid, "initiation.submit")
        out = tmp_path_factory.mktemp("portal") / "site"
        result = CliRunner().invoke(
            app, ["-C", str(root), "--lang", "zh", "site", "-o", str(out), "--as-of", "2026-11-28"]
        )
        assert result.exit_code == 0, result.output
        assert "index.html" in result.stdout
        return root, out, git(root, "rev-parse", "HEAD").strip()


def test_every_link_resolves_and_nothing_comes_from_outside(portal: tuple[Path, Path, str]) -> None:
    root, out, commit = portal
    pages = sorted(out.glob("*.html"))
    portal_pages = [p for p in pages if not p.name.startswith("form-")]
    assert {"index.html", "ar.html", "project-2026-001.html", "person-qianqi.html"} <= {p.name for p in pages}
    assert any(p.name.startswith("form-2026-001.") for p in pages)
    for path in pages:
        page, text = read(path)
        for link in page.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{path.name}: {link} leaves the portal"
            if parts.path:
                assert (out / unquote(parts.path)).is_file(), f"{path.name}: {link} does not resolve"
        assert page.resources == [], f"{path.name} loads {page.resources}"
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text), path.name
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//|@import", text), path.name
        assert page.scripts == 0, f"{path.name} has a script"
    for path in portal_pages:  # every page of the portal says the commit it was built from
        page, _text = read(path)
        assert page.commit == commit, path.name
        assert commit in page.words and commit[:8] in page.words, path.name


def test_user_data_is_text_and_waiting_steps_show_the_command(portal: tuple[Path, Path, str]) -> None:
    root, out, commit = portal
    index, text = read(out / "index.html")
    assert EVIL in index.words  # shown as text …
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # … never as markup
    assert "<img" not in text and 'onerror="alert' not in text
    newest = next(p for p in sorted(out.glob("project-*.html")) if EVIL in read(p)[0].words)
    page, text = read(newest)
    assert page.scripts == 0 and "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in text
    # Chinese by default, with the procedure's words
    assert "项目组合" in index.words and "各阶段项目数" in index.words and "应收账龄（按到期日）" in index.words
    project, _text = read(out / "project-2026-003.html")
    assert "xmflow sign 2026-003 contract.business_review" in project.words
    assert "已签" in project.words and "商务中心：钱七" in project.words  # who it waits on, by name
    signed = git(root, "log", "-1", "--format=%h", "--abbrev=7", "--", "projects/2026-003/contract.yaml").strip()
    assert "历史记录" in project.words and signed in project.words  # its audit trail, with the commits
    assert "付款计划" in project.words and "¥393,000.00" in project.words  # its payment schedule
    qianqi, _text = read(out / "person-qianqi.html")  # the business centre: the late review waits on him
    assert "xmflow sign 2026-003 contract.business_review" in qianqi.words
    assert "25 > 3" in qianqi.words
    ar, _text = read(out / "ar.html")
    assert "¥941,000.00" in ar.words
    assert f"project-{newest.stem.removeprefix('project-')}.html" in {l for p in [index] for l in p.links}


def test_english_with_lang(portal: tuple[Path, Path, str], tmp_path: Path) -> None:
    root, _out, _commit = portal
    result = CliRunner().invoke(
        app, ["-C", str(root), "--lang", "en", "site", "-o", str(tmp_path / "en"), "--as-of", "2026-11-28"]
    )
    assert result.exit_code == 0, result.output
    index, _text = read(tmp_path / "en" / "index.html")
    assert "Portfolio" in index.words and "projects by stage" in index.words and "项目组合" not in index.words


def test_refuses_a_file_for_a_folder(portal: tuple[Path, Path, str], tmp_path: Path) -> None:
    root, _out, _commit = portal
    (tmp_path / "f").write_text("x")
    result = CliRunner().invoke(app, ["-C", str(root), "site", "-o", str(tmp_path / "f")])
    assert result.exit_code == 2 and "a file, not a folder" in result.output


# -- in a real browser ------------------------------------------------------------------------
def _browser() -> Any:
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail(
            "the browser test needs Playwright: pip install '.[test]' (never `playwright install`: "
            "it drives Debian's Chromium)"
        )
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"the browser test needs Debian's Chromium at {CHROMIUM}: apt-get install chromium")
    return sync_api


def test_in_chromium(portal: tuple[Path, Path, str]) -> None:
    root, out, commit = portal
    sync_api = _browser()
    SHOTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            outside: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file://") else None)
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

            page.goto((out / "index.html").as_uri())
            assert page.title().startswith("项目组合")
            bars = page.locator("svg.bars rect.bar")
            assert bars.count() >= 10
            widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(bars.count())]
            assert max(widths) == 250 and sum(1 for w in widths if w > 0) >= 3
            box = bars.first.bounding_box()
            assert box is not None and box["height"] > 10  # drawn, not only present
            assert page.get_by_text(EVIL, exact=True).count() >= 1  # the client's name shows as text
            assert page.locator("script").count() == 0
            page.screenshot(path=str(SHOTS / "index.png"), full_page=True)

            page.locator("a[href='project-2026-003.html']").first.click()  # a link to a project page works
            page.wait_for_load_state()
            assert page.url.endswith("/project-2026-003.html")
            assert page.locator("code.cmd", has_text="xmflow sign 2026-003 contract.business_review").count() == 1
            assert page.locator("code.commit").inner_text() == commit
            page.screenshot(path=str(SHOTS / "project.png"), full_page=True)

            page.locator("a", has_text="项目实施方案书").first.click()  # and on to a form
            page.wait_for_load_state()
            assert "form-2026-003.form1.html" in page.url and page.locator("h1").count() >= 1

            evil = next(
                p
                for p in sorted(out.glob("project-*.html"))
                if EVIL in p.read_text(encoding="utf-8").replace("&lt;", "<").replace("&gt;", ">")
            )
            page.goto(evil.as_uri())
            assert page.get_by_text(EVIL).count() >= 1 and page.locator("img").count() == 0
            page.screenshot(path=str(SHOTS / "escaped.png"), full_page=True)

            page.goto((out / "person-qianqi.html").as_uri())
            assert page.locator("code.cmd", has_text="contract.business_review").count() >= 1
            page.screenshot(path=str(SHOTS / "person.png"), full_page=True)
            assert errors == [] and outside == [] and dialogs == []
        finally:
            browser.close()
    print(f"chromium: {time.monotonic() - started:.1f}s")


def test_needs_a_folder_or_serve(portal: tuple[Path, Path, str]) -> None:
    root, _out, _commit = portal
    result = CliRunner().invoke(app, ["-C", str(root), "site"])
    assert result.exit_code == 2 and "give -o DIR" in result.output


def test_serve_for_one_person(portal: tuple[Path, Path, str]) -> None:
    """`site --serve`: the real command, in its own process, serves the portal on 127.0.0.1 only,
    read-only, nothing outside its folder; a polite kill stops it and removes its temporary folder."""
    root, _out, commit = portal
    env = {**os.environ, "XMFLOW_LANG": "en"}
    server = subprocess.Popen(
        [sys.executable, "-m", "xmflow", "-C", str(root), "site", "--serve", "--as-of", "2026-11-28"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        wrote = server.stdout.readline()
        serving = server.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", serving)
        assert found, (wrote, serving, server.stderr.read() if server.poll() is not None else "")
        base = found.group(0)
        folder = Path(re.search(r"into (\S+) \(commit", wrote).group(1))  # type: ignore[union-attr]
        with urllib.request.urlopen(base) as response:
            index = response.read().decode("utf-8")
            assert response.status == 200 and "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert commit in index and "Portfolio" in index
        with urllib.request.urlopen(base + "project-2026-003.html") as response:
            assert "xmflow sign 2026-003 contract.business_review" in response.read().decode("utf-8")
        for path, method, code in (
            ("", "POST", 501),
            ("index.html", "PUT", 501),
            ("%2e%2e/%2e%2e/etc/passwd", "GET", 404),
            ("../xmflow.yaml", "GET", 404),
        ):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(
                    urllib.request.Request(base + path, data=b"x" if method != "GET" else None, method=method)
                )
            assert refused.value.code == code, (path, method)
        with socket.socket() as other:  # this computer only
            addresses = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {
                "127.0.0.1"
            }
            for address in addresses:
                assert other.connect_ex((address, int(found.group(1)))) != 0
    finally:
        server.terminate()
        code = server.wait(timeout=10)
    assert code == 0 and not folder.exists()


def test_an_empty_workspace_and_a_second_build(team: Team, tmp_path: Path) -> None:
    out = tmp_path / "portal"
    out.mkdir()
    team.ok("wangjg", "site", "-o", str(out))  # an empty folder: the portal's from now on
    manifest = json.loads((out / ".xmflow-site.json").read_text(encoding="utf-8"))
    assert manifest["commit"] == team.head() and set(manifest["files"]) == {p.name for p in out.glob("*.html")}
    # a page an earlier build wrote (a project renumbered since): removed; anything else: left alone,
    # even a file with a page's name, or one the manifest names that is no page's
    (out / "project-2025-999.html").write_text("old")
    (out / "project-mine.html").write_text("mine")
    (out / "notes.txt").write_text("mine")
    manifest["files"] += ["project-2025-999.html", "notes.txt", "../victim.html"]
    (out / ".xmflow-site.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "victim.html").write_text("mine")
    result = team("wangjg", "--lang", "zh", "site", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert not (out / "project-2025-999.html").exists()
    assert all(
        (where / name).read_text() == "mine"
        for where, name in ((out, "project-mine.html"), (out, "notes.txt"), (tmp_path, "victim.html"))
    )
    assert "project-2025-999.html" not in json.loads((out / ".xmflow-site.json").read_text(encoding="utf-8"))["files"]
    index, _text = read(out / "index.html")
    assert "（无）" in index.words and index.commit == team.head()
    assert {p.name for p in out.glob("*.html")} >= {"index.html", "ar.html", "person-wangjg.html"}


def test_a_folder_of_someone_elses_files_is_refused_and_left_as_it_was(team: Team, tmp_path: Path) -> None:
    """No manifest of an earlier build: nothing in the folder is xmflow's to replace or delete."""
    out = tmp_path / "mine"
    out.mkdir()
    names = ("index.html", "project-plan.html", "person-boss.html", "form-report.pdf", "notes.txt")
    for name in names:
        (out / name).write_text("mine", encoding="utf-8")
    said = refused(team, "wangjg", "site", "-o", str(out), code=2)
    assert str(out) in said and ".xmflow-site.json" in said and "empty folder" in said
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert all((out / name).read_text(encoding="utf-8") == "mine" for name in names)
    (out / ".xmflow-site.json").write_text('{"files": ["notes.txt"]}', encoding="utf-8")  # not xmflow's
    said = refused(team, "wangjg", "site", "-o", str(out), code=2)
    assert "is not one xmflow wrote" in said and (out / "index.html").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("where", ["/", "home", "/tmp", "/usr"])
def test_a_system_folder_or_the_home_folder_is_refused(team: Team, where: str) -> None:
    folder = Path(os.path.expanduser("~") if where == "home" else where)
    said = refused(team, "wangjg", "site", "-o", str(folder), code=2)
    assert "a system folder or a home folder" in said
    assert not (folder / ".xmflow-site.json").exists() and not (folder / "ar.html").exists()


def test_a_folder_that_holds_the_workspace_is_refused(team: Team) -> None:
    """Serving the portal would serve the workspace, its .git and its records."""
    for around in (team.root.parent, team.root.parent.parent):
        said = refused(team, "wangjg", "site", "-o", str(around), code=2)
        assert "holds the repository" in said and str(team.root) in said
    assert not (team.root.parent / "index.html").exists() and not (team.root.parent / ".xmflow-site.json").exists()


def test_a_form_that_cannot_be_made_is_a_problem_and_the_rest_is_built(team: Team, tmp_path: Path) -> None:
    """A field too big for a form's budget leaves out that form, said as a problem (exit 2); every
    other page is written, and no page links to one that is not there."""
    from conftest import open_project

    pid = open_project(team, "150万")  # a key project: 附表1 (form1) applies, with the plan's approach
    team.ok("zhangsan", "set", pid, "plan.approach=" + "要求<b>x</b>" * 60000)
    other = open_project(team)
    out = tmp_path / "portal"
    result = team("wangjg", "site", "-o", str(out))
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"project {pid}: form form1 is left out of the portal" in said, said
    assert not (out / f"form-{pid}.form1.html").exists()
    written = {p.name for p in out.glob("*.html")}
    assert {"index.html", "ar.html", f"project-{pid}.html", f"project-{other}.html", "person-zhangsan.html"} <= written
    for name in written:
        for link in read(out / name)[0].links:
            assert (out / unquote(urlsplit(link).path)).is_file(), f"{name}: {link} does not resolve"
    project, _text = read(out / f"project-{pid}.html")
    assert "not built" in project.words


def test_forms_as_pdf_ready_to_print(team: Team, tmp_path: Path) -> None:
    from conftest import open_project

    pid = open_project(team, "150万")  # a key project: 附表1 applies
    out = tmp_path / "portal"
    team.ok("wangjg", "site", "-o", str(out), "--pdf")
    printed = sorted(p.name for p in out.glob(f"form-{pid}.*.pdf"))
    assert printed and all((out / name).read_bytes().startswith(b"%PDF-") for name in printed)
    project, _text = read(out / f"project-{pid}.html")
    assert set(printed) <= set(project.links), (printed, project.links)
    team.ok("wangjg", "site", "-o", str(out))  # built again without --pdf: no PDF of an earlier build is left
    assert not list(out.glob("*.pdf"))


def test_the_portal_stays_out_of_the_workspace_and_serves_only_its_pages(team: Team, tmp_path: Path) -> None:
    for inside in (team.root, team.root / "projects", team.root / ".git"):
        result = team("wangjg", "site", "-o", str(inside))
        assert result.exit_code == 2 and "inside the workspace" in result.output, result.output
    assert team.clean()
    out = tmp_path / "portal"
    team.ok("wangjg", "site", "-o", str(out))
    victim = tmp_path / "victim.txt"
    victim.write_text("mine", encoding="utf-8")
    for name, target in (("index.html", victim), ("ar.html", Path("/etc/passwd"))):
        (out / name).unlink()
        (out / name).symlink_to(target)  # a link where a page goes: replaced, not followed
    (out / "stray.txt").write_text("not the portal's", encoding="utf-8")
    team.ok("wangjg", "site", "-o", str(out))
    assert victim.read_text(encoding="utf-8") == "mine" and not (out / "index.html").is_symlink()
    (out / "form-x.html").symlink_to("/etc/passwd")  # made after the build: never served
    with served(out) as base:
        assert urllib.request.urlopen(f"{base}/index.html").status == 200
        for path in ("/stray.txt", "/form-x.html", "/%00", "/../victim.txt", "/.xmflow-site.json"):
            with pytest.raises(urllib.error.HTTPError) as refused_:
                urllib.request.urlopen(base + path)
            assert refused_.value.code == 404, path


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """The portal in *folder* served in this process (`site --serve`'s server): its address."""
    import threading

    from xmflow.forms import site as site_mod

    server = site_mod.serve(folder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def get(url: str, host: str | None = None) -> tuple[int, str, str]:
    """GET *url* (with this Host header if given): the status, the Content-Type and the body."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers["Content-Type"], response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode("utf-8")


def test_serve_answers_only_for_this_computer_by_name(team: Team, tmp_path: Path) -> None:
    """DNS rebinding: a page of another site, whose name now points at 127.0.0.1, says its own
    name in Host; the portal answers only to this computer's names, with or without the port."""
    out = tmp_path / "portal"
    team.ok("wangjg", "site", "-o", str(out))
    with served(out) as base:
        port = base.rsplit(":", 1)[1]
        for host in ("127.0.0.1", f"127.0.0.1:{port}", "localhost", f"LOCALHOST:{port}", "[::1]", f"[::1]:{port}"):
            assert get(base + "/index.html", host)[0] == 200, host
        for host in (
            f"evil.example:{port}",
            "evil.example",
            "127.0.0.1.evil.example",
            f"localhost.:{port}",
            "127.0.0.1:x",
            "localhost@evil.example",
        ):
            assert get(base + "/index.html", host)[0] == 421, host


def test_serve_never_follows_a_link_made_after_a_check(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever may write the folder swaps a page for a link between a check and the open: as if
    every check of a link said none, the link is still not followed."""
    out = tmp_path / "portal"
    team.ok("wangjg", "site", "-o", str(out))
    (out / "person-wangjg.html").unlink()
    (out / "person-wangjg.html").symlink_to("/etc/passwd")
    monkeypatch.setattr(Path, "is_symlink", lambda self: False)
    with served(out) as base:
        code, _type, body = get(base + "/person-wangjg.html")
        assert code == 404 and "root:" not in body


def test_serve_says_its_errors_in_the_language_of_the_command(team: Team, tmp_path: Path) -> None:
    from xmflow import i18n

    out = tmp_path / "portal"
    team.ok("wangjg", "site", "-o", str(out))
    i18n.use("zh")
    with served(out) as base:
        for path, code in (("/nothing.html", 404), ("/%3Cscript%3E.html", 404)):
            status, kind, body = get(base + path)
            assert status == code and kind == "text/html; charset=utf-8"
            assert 'lang="zh-CN"' in body and "Error response" not in body and "Not Found" not in body, body
            assert i18n._("There is no such page in the portal.") in body and "<script>" not in body
        status, _kind, body = get(base + "/", "evil.example")
        assert status == 421 and 'lang="zh-CN"' in body and "evil.example" not in body

"""Notices (issue 12): the 3.7.1 mail to customer service through a real SMTP server, the group
robots' posts to a real HTTP server, failures that lose nothing, and the daily digest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import threading
import urllib.parse
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import Team, draft_contract, git, open_project, refused, sign_contract

from xmflow.model import Person
from xmflow.notify import mail as notify
from xmflow.notify import notices


class Inbox:
    """An aiosmtpd handler keeping what arrived."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


class Robot(BaseHTTPRequestHandler):
    posts: list[tuple[str, dict]] = []
    status = 200

    def do_POST(self):  # http.server calls it by this name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append((self.path, json.loads(body)))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def robot():
    Robot.posts, Robot.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Robot
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(team: Team, settings: str) -> None:
    """Add a `notify:` section to xmflow.yaml, committed by the admin (settings are an admin's)."""
    path = team.root / "xmflow.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\nnotify:\n" + settings, encoding="utf-8")
    git(team.root, "add", "xmflow.yaml")
    git(team.root, "-c", "user.email=wangjg@example.com", "commit", "-qm", "notify settings")


def ready_to_notify(team: Team, requirements: str = "安装LED屏两块") -> str:
    """A project whose client signed the contract, its site and requirements filled in: 3.7.1 is next."""
    pid = open_project(team)
    draft_contract(team, pid)
    sign_contract(team, pid)
    team.ok(
        "zhangsan",
        "set",
        pid,
        "installation.on_site=是",
        "installation.site.address=深圳市南山区科技园1号",
        "installation.site.contact=刘经理",
        "installation.site.phone=13800000000",
        f"installation.requirements={requirements}",
        "installation.scheduled_date=2026-11-20",
    )
    return pid


def outbox(team: Team) -> list[Path]:
    return sorted((team.root / ".git/xmflow/outbox").glob("*.eml"))


def state(team: Team) -> dict:
    return json.loads((team.root / ".git/xmflow/notify.json").read_text(encoding="utf-8"))


def test_3_7_1_notice_arrives_by_smtp_with_form3(team: Team, smtp) -> None:
    port, inbox = smtp
    configure(team, f"  sender: xm@example.com\n  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n")
    pid = ready_to_notify(team)
    result = team.ok("zhangsan", "--lang", "zh", "sign", pid, "installation.notify_service")
    assert "Message-ID" in result.output
    assert len(inbox.mails) == 1
    rcpt, raw = inbox.mails[0]
    assert rcpt == ["wushi@example.com"]
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert mail["Subject"] == "3.7.1 安装通知：" + pid + " 测试项目"
    assert "X-Xmflow-To" not in mail
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "深圳市南山区科技园1号" in text and "刘经理" in text and "安装LED屏两块" in text and "2026年11月20日" in text
    [form] = mail.iter_attachments()
    if notices.pdf_possible():
        assert form.get_filename() == f"{pid}-附表3.pdf" and form.get_content_type() == "application/pdf"
        assert form.get_content().startswith(b"%PDF")
    else:
        assert form.get_filename() == f"{pid}-附表3.html" and "项目实施过程确认表" in form.get_content()
    assert state(team)["sent"][-1]["message_id"] == mail["Message-ID"]
    assert outbox(team) == []
    assert team.clean()  # what was sent is kept in .git/xmflow, not in the repository


def test_3_7_1_form3_as_html_without_weasyprint(team: Team, smtp, monkeypatch) -> None:
    port, inbox = smtp
    monkeypatch.setattr(notices, "pdf_possible", lambda: False)
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n")
    pid = ready_to_notify(team)
    team.ok("zhangsan", "sign", pid, "installation.notify_service")
    [form] = BytesParser(policy=policy.default).parsebytes(inbox.mails[0][1]).iter_attachments()
    assert form.get_filename() == f"{pid}-附表3.html" and form.get_content_type() == "text/html"
    assert "Project implementation process confirmation" in form.get_content() and "�" not in form.get_content()


def test_3_7_1_refused_connection_keeps_the_notice_for_resend(team: Team, smtp) -> None:
    closed = _free_port()
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {closed}, security: none}}\n")
    pid = ready_to_notify(team)
    result = team.ok("zhangsan", "sign", pid, "installation.notify_service")  # the sign-off stands: exit 0
    assert "connection refused" in result.output and "xmflow notify --resend" in result.output
    assert team.state(pid, "installation.notify_service") == "signed"
    assert len(outbox(team)) == 1 and state(team)["sent"][-1]["waiting"]
    port, inbox = smtp  # the server is up now, at the address the settings name
    text = (team.root / "xmflow.yaml").read_text(encoding="utf-8").replace(str(closed), str(port))
    (team.root / "xmflow.yaml").write_text(text, encoding="utf-8")
    git(team.root, "-c", "user.email=wangjg@example.com", "commit", "-qam", "port")
    result = team.ok("zhangsan", "notify", "--resend")
    assert "sent (smtp)" in result.output
    assert len(inbox.mails) == 1 and outbox(team) == []
    assert not state(team)["sent"][-1]["waiting"]


def test_3_7_1_without_settings_goes_to_the_outbox(team: Team) -> None:
    pid = ready_to_notify(team)
    result = team.ok("zhangsan", "sign", pid, "installation.notify_service")
    assert "outbox" in result.output
    [eml] = outbox(team)
    mail = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert mail["To"] == "吴十 <wushi@example.com>"


def test_html_part_escapes_user_values(team: Team, smtp) -> None:
    port, inbox = smtp
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n")
    pid = ready_to_notify(team, requirements="<script>alert(1)</script>")
    team.ok("zhangsan", "sign", pid, "installation.notify_service")
    mail = BytesParser(policy=policy.default).parsebytes(inbox.mails[0][1])
    page = mail.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_webhooks_post_their_json_and_dingtalk_signs(team: Team, robot, monkeypatch) -> None:
    url, handler = robot
    monkeypatch.setenv("DING_SECRET", "SECtest")
    configure(
        team,
        f"  webhooks:\n    - {{kind: dingtalk, url: '{url}/robot/send?access_token=t', secret_env: DING_SECRET}}\n"
        "    - {kind: wecom, url_env: WECOM_URL, roles: [customer_service]}\n"
        f"    - {{kind: feishu, url: '{url}/open-apis/bot/v2/hook/x', roles: [finance]}}\n",
    )
    pid = ready_to_notify(team)
    team.ok(
        "zhangsan",
        "sign",
        pid,
        "installation.notify_service",
        env={"DING_SECRET": "SECtest", "WECOM_URL": f"{url}/cgi-bin/webhook/send?key=k"},
    )
    paths = [p for p, _body in handler.posts]
    assert len(paths) == 2  # the Feishu robot serves finance: not customer service's notice
    ding_path, ding = handler.posts[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ding_path).query)
    stamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SECtest", f"{stamp}\nSECtest".encode(), hashlib.sha256).digest()).decode()
    assert query["sign"][0] == expected and query["access_token"] == ["t"]
    assert ding["msgtype"] == "text" and "深圳市南山区科技园1号" in ding["text"]["content"]
    assert handler.posts[1][1]["msgtype"] == "text" and handler.posts[1][0].startswith("/cgi-bin/webhook/send")


def test_feishu_signs_its_body(robot, tmp_path) -> None:
    url, handler = robot
    hook = notify.Webhook("feishu", url + "/hook", None, frozenset(), frozenset())
    _url, body = notify.payload(hook, "标题", "内容", "s3cret", 1700000000.5)
    key = b"1700000000\ns3cret"
    assert body["timestamp"] == "1700000000"
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "text" and body["content"] == {"text": "标题\n\n内容"}


def test_a_5xx_robot_keeps_the_message(team: Team, robot) -> None:
    url, handler = robot
    handler.status = 503
    conf = notify.Settings(
        tmp := team.root / ".git/xmflow/outbox",
        "xm@example.com",
        webhooks=(notify.Webhook("wecom", url + "/send", None, frozenset(), frozenset()),),
    )
    who = Person("wushi", "吴十", "wushi@example.com", frozenset({"customer_service"}))
    msg = notify.compose(notify.Notice("t/1", (who,), "主题", ("一行",)), conf.sender)
    notify.address(msg, (who,))
    done = notify.send(conf, msg)
    assert done.problems == ("wecom robot: the server answered 503 Service Unavailable",)
    assert done.kept is not None and done.kept.parent == tmp and done.kept.exists()
    handler.status = 200
    [again] = notify.resend(conf)
    assert again.problems == () and again.channels == ("wecom", "outbox")
    assert len(handler.posts) == 2
    [third] = notify.resend(conf)  # posted once: a resend does not post it twice
    assert third.channels == ("outbox",) and len(handler.posts) == 2


def test_notify_dry_run_lists_digests_and_sends_once_a_day(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    result = team.ok("zhangsan", "notify", "--dry-run", "--as-of", "2026-09-10")
    assert "to 赵六 <zhaoliu@example.com>" in result.output
    assert f"xmflow sign {pid} contract.supervisor_review" in result.output
    assert f"with the form form2 of {pid}" in result.output
    assert outbox(team) == []
    sent = team.ok("zhangsan", "notify", "--as-of", "2026-09-10")
    assert "赵六: in the outbox" in sent.output and "(no mail server set in xmflow.yaml)" in sent.output
    assert len(outbox(team)) >= 1
    again = team.ok("zhangsan", "notify", "--as-of", "2026-09-10")
    assert "nothing to send for 2026-09-10" in again.output


def test_bad_settings_name_file_line_and_field(team: Team) -> None:
    configure(team, "  smtp: {host: mail.example.com, security: tls}\n")
    result = team("zhangsan", "notify", "--dry-run")
    assert result.exit_code == 2
    assert "xmflow.yaml:" in result.output and "security" in result.output
    text = (team.root / "xmflow.yaml").read_text(encoding="utf-8").replace(
        "security: tls", "security: ssl"
    ) + "  webhooks:\n    - {kind: wecom, url: 'file:///etc/passwd'}\n"
    (team.root / "xmflow.yaml").write_text(text, encoding="utf-8")
    git(team.root, "-c", "user.email=wangjg@example.com", "commit", "-qam", "hook")
    result = team("zhangsan", "notify", "--dry-run")
    assert (
        result.exit_code == 2 and "url must be an http(s) address" in result.output and "xmflow.yaml:" in result.output
    )


def test_smtp_login_takes_the_password_from_the_environment(team: Team) -> None:
    from aiosmtpd.smtp import AuthResult

    seen = []

    def check(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), authenticator=check, auth_require_tls=False)
    controller.start()
    try:
        configure(
            team,
            f"  smtp: {{host: 127.0.0.1, port: {controller.port}, security: none, user: xm, "
            "password_env: XM_SMTP_PASSWORD}\n",
        )
        pid = ready_to_notify(team)
        result = team.ok("zhangsan", "sign", pid, "installation.notify_service")
        assert "XM_SMTP_PASSWORD" in result.output and inbox.mails == []  # not set: said, kept
        assert len(outbox(team)) == 1
        result = team.ok("zhangsan", "notify", "--resend", env={"XM_SMTP_PASSWORD": "s3cret"})
        assert seen == [(b"xm", b"s3cret")] and len(inbox.mails) == 1 and outbox(team) == []
    finally:
        controller.stop()


def test_notify_delivers_digests_by_mail_and_robot(team: Team, smtp, robot) -> None:
    port, inbox = smtp
    url, handler = robot
    configure(
        team,
        f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n"
        f"  webhooks:\n    - {{kind: wecom, url: '{url}/send?key=k', people: [zhaoliu]}}\n",
    )
    pid = open_project(team)
    draft_contract(team, pid)
    result = team.ok("zhangsan", "--lang", "zh", "notify", "--as-of", "2026-09-10")
    assert "赵六：已发送（wecom, smtp）" in result.output
    mails = {tuple(rcpt): BytesParser(policy=policy.default).parsebytes(raw) for rcpt, raw in inbox.mails}
    digest = mails[("zhaoliu@example.com",)]
    assert digest["Subject"] == "xmflow：等待 赵六 处理的事项（2026-09-10）"
    assert f"xmflow sign {pid} contract.supervisor_review" in digest.get_body(preferencelist=("plain",)).get_content()
    [form] = digest.iter_attachments()  # the form the step is signed on
    assert form.get_filename().startswith(f"{pid}-附表2.")
    [(path, body)] = handler.posts
    assert body["msgtype"] == "text" and "contract.supervisor_review" in body["text"]["content"]
    assert list(state(team)["digests"]["2026-09-10"]) == ["zhaoliu"]  # remembered per day
    assert (
        "2026-09-10 没有要发送的内容" in team.ok("zhangsan", "--lang", "zh", "notify", "--as-of", "2026-09-10").output
    )


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by the client (SSL_CERT_FILE) for this test."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to test SMTP over TLS: apt-get install openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return key, cert


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_over_tls(team: Team, certificate, security: str) -> None:
    import ssl

    key, cert = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    extra = {"tls_context": context, "require_starttls": True} if security == "starttls" else {"ssl_context": context}
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), **extra)
    controller.start()
    try:
        configure(team, f"  smtp: {{host: 127.0.0.1, port: {controller.port}, security: {security}}}\n")
        pid = ready_to_notify(team)
        result = team.ok("zhangsan", "sign", pid, "installation.notify_service", env={"SSL_CERT_FILE": str(cert)})
        assert "Message-ID" in result.output, result.output
        assert len(inbox.mails) == 1
    finally:
        controller.stop()


def test_smtp_login_takes_the_password_from_gits_credential_helper(team: Team, tmp_path) -> None:
    from aiosmtpd.smtp import AuthResult

    seen = []

    def check(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"from-git")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), authenticator=check, auth_require_tls=False)
    controller.start()
    try:
        store = tmp_path / "credentials"
        store.write_text(f"smtp://xm:from-git@127.0.0.1%3a{controller.port}\n", encoding="utf-8")
        git(team.root, "config", "--global", "credential.helper", f"store --file={store}")
        configure(team, f"  smtp: {{host: 127.0.0.1, port: {controller.port}, security: none, user: xm}}\n")
        pid = ready_to_notify(team)
        team.ok("zhangsan", "sign", pid, "installation.notify_service")
        assert seen == [(b"xm", b"from-git")] and len(inbox.mails) == 1 and outbox(team) == []
        from xmflow.git.store import credential

        assert credential("127.0.0.1", controller.port, "xm") == "from-git"
        store.write_text("", encoding="utf-8")  # nothing stored: none, and git asks nobody (no terminal wait)
        assert credential("127.0.0.1", controller.port, "xm") is None
    finally:
        controller.stop()


def test_notify_says_what_it_cannot_read_and_never_fails_with_an_internal_error(team: Team) -> None:
    pid = open_project(team)
    state = team.root / ".git" / "xmflow" / "notify.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("[]", encoding="utf-8")  # not what xmflow writes there
    result = team("zhangsan", "notify", "--dry-run")
    assert result.exit_code == 2 and "notify.json" in result.output, result.output
    state.write_text("{bad", encoding="utf-8")
    result = team("zhangsan", "notify", "--dry-run")
    assert result.exit_code == 2 and "notify.json" in result.output, result.output
    state.unlink()
    (team.root / ".git" / "xmflow" / "outbox" / "d.eml").mkdir(parents=True)  # a folder where a message would be
    assert team("zhangsan", "notify", "--resend").exit_code == 0
    record = team.root / "projects" / pid / "project.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("name: ", "name: \x07", 1), encoding="utf-8")
    git(team.root, "-c", "user.email=zhangsan@example.com", "commit", "-qam", "broken by hand")
    result = team("zhangsan", "notify", "--dry-run")
    assert result.exit_code == 2 and f"projects/{pid}/project.yaml" in result.output, result.output


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("  smtp: {host: 127.0.0.1, port: 99999}\n", "smtp.port"),
        ("  sender: not an address\n", "sender"),
        ("  outbox: projects\n", "outbox"),
        ("  outbox: .git\n", "outbox"),
    ],
)
def test_notify_settings_that_cannot_work_are_refused(team: Team, setting: str, said: str) -> None:
    configure(team, setting)
    result = team("zhangsan", "notify", "--dry-run")
    assert result.exit_code == 2 and said in result.output and "xmflow.yaml:" in result.output, result.output


def test_the_sign_off_records_the_notice_it_sends(team: Team, smtp) -> None:
    port, inbox = smtp
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n")
    pid = ready_to_notify(team)
    team.ok("zhangsan", "sign", pid, "installation.notify_service")
    mail = BytesParser(policy=policy.default).parsebytes(inbox.mails[0][1])
    said = git(team.root, "log", "-1", "--format=%(trailers:key=Xmflow-Notice,valueonly)").strip()
    assert said == mail["Message-ID"]  # the commit names the mail that went out, made before the commit
    assert team.ok("zhangsan", "verify").exit_code == 0


def test_verify_refuses_a_notice_trailer_on_a_step_that_sends_none(team: Team) -> None:
    pid = open_project(team)
    git(
        team.root,
        "-c",
        "user.email=zhangsan@example.com",
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        "--trailer",
        "Xmflow-Notice: <forged@xmflow.local>",
    )
    result = team("zhangsan", "verify")
    assert result.exit_code == 1 and "Xmflow-Notice" in result.output and pid in result.output, result.output


def test_the_process_names_who_is_told_and_with_which_forms(team: Team) -> None:
    from xmflow.errors import ProcessError
    from xmflow.procedure.parser import default_text, parse

    text = default_text()
    process = parse(text, "process.yaml")
    notice = process.step("installation.notify_service").notice
    assert notice is not None and notice.to == ("customer_service",) and notice.forms == ("form3",)
    for wrong, said in [
        ("to: [customer_service]", "to: [nobody]"),
        ("forms: [form3]", "forms: [form9]"),
        ("to: [customer_service]", "to: [client]"),
        ("template: notice-installation.j2", "template: ../leak.j2"),
        ("to: [customer_service]", "to: []"),
    ]:
        with pytest.raises(ProcessError) as caught:
            parse(text.replace(wrong, said, 1), "process.yaml")
        assert re.search(r"process\.yaml:\d+: notify:", str(caught.value)), (said, str(caught.value))


def test_a_workspace_writes_its_own_notice(team: Team, smtp) -> None:
    port, inbox = smtp
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n")
    (team.root / "templates").mkdir(exist_ok=True)
    (team.root / "templates" / "notice-installation.j2").write_text(
        "安装通知 {{ project_id }}\n地址：{{ installation.site.address }}\n", encoding="utf-8"
    )
    git(team.root, "add", "templates")
    git(team.root, "-c", "user.email=wangjg@example.com", "commit", "-qm", "our notice")
    pid = ready_to_notify(team)
    team.ok("zhangsan", "sign", pid, "installation.notify_service")
    mail = BytesParser(policy=policy.default).parsebytes(inbox.mails[0][1])
    assert mail["Subject"] == f"安装通知 {pid}"
    assert mail.get_body(preferencelist=("plain",)).get_content().strip() == "地址：深圳市南山区科技园1号"


def test_what_waited_in_the_outbox_is_mailed_once_smtp_is_set(team: Team, smtp) -> None:
    pid = ready_to_notify(team)
    team.ok("zhangsan", "sign", pid, "installation.notify_service")  # nothing configured: the outbox
    assert len(outbox(team)) == 1
    port, inbox = smtp
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n")
    assert "sent (smtp)" in team.ok("zhangsan", "notify", "--resend").output
    assert len(inbox.mails) == 1 and outbox(team) == []
    assert team.ok("zhangsan", "notify", "--resend").output == ""  # nothing waits: nothing mailed twice
    assert len(inbox.mails) == 1


def test_mail_goes_to_the_roles_the_settings_name(team: Team, smtp, robot) -> None:
    port, inbox = smtp
    url, handler = robot
    configure(
        team,
        f"  smtp: {{host: 127.0.0.1, port: {port}, security: none, roles: [finance]}}\n"
        f"  webhooks:\n    - {{kind: wecom, url: '{url}/send?key=k', roles: [customer_service]}}\n",
    )
    pid = ready_to_notify(team)
    result = team.ok("zhangsan", "sign", pid, "installation.notify_service")
    assert inbox.mails == [] and len(handler.posts) == 1, result.output  # customer service reads the robot's group
    assert "wecom" in result.output and outbox(team) == []


def test_notify_acts_only_on_settings_an_admin_committed(team: Team, smtp) -> None:
    port, inbox = smtp
    path = team.root / "xmflow.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + f"notify:\n  smtp: {{host: 127.0.0.1, port: {port}, "
        "security: none, user: admin, password_env: XM_PW}\n",
        encoding="utf-8",
    )
    git(team.root, "-c", "user.email=zhangsan@example.com", "commit", "-qam", "my own mail server")  # sales, no admin
    result = team("wangjg", "notify", "--as-of", "2026-09-10", env={"XM_PW": "secret"})
    assert result.exit_code == 1 and "admin" in result.output, result.output
    assert team("wangjg", "notify", "--resend", env={"XM_PW": "secret"}).exit_code == 1
    assert inbox.mails == []


def test_resend_dry_run_sends_nothing_and_a_message_needs_resend(team: Team, smtp) -> None:
    pid = ready_to_notify(team)
    team.ok("zhangsan", "sign", pid, "installation.notify_service")  # into the outbox
    port, inbox = smtp
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n")
    said = team.ok("zhangsan", "notify", "--resend", "--dry-run").output
    assert "would send <" in said and "吴十" in said and inbox.mails == [] and len(outbox(team)) == 1
    assert refused(team, "zhangsan", "notify", "some-id", code=2)
    assert "--resend" in refused(team, "zhangsan", "notify", "--resend", "--as-of", "2026-09-10", code=2)


@pytest.mark.parametrize("written", ['{"sent": [1]}', '{"sent": [[1]]}', '{"digests": {"2026-09-10": 5}}', "\xff"])
def test_a_notify_json_not_as_written_is_refused_before_anything_goes(team: Team, smtp, written: str) -> None:
    port, inbox = smtp
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n")
    pid = open_project(team)
    draft_contract(team, pid)
    memory = team.root / ".git/xmflow/notify.json"
    memory.parent.mkdir(parents=True, exist_ok=True)
    memory.write_text(written, encoding="utf-8")
    result = team("zhangsan", "notify", "--as-of", "2026-09-10")
    assert result.exit_code == 2 and "notify.json" in result.output and inbox.mails == [], result.output


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("  outbox: outlink\n", "outbox"),
        ("  outbox: .git/hooks\n", "outbox"),
        ("  outbox: .git/xmflow\n", "outbox"),
        ("  outbox: '~/ob'\n", "outbox"),
        ("  webhooks:\n    - {kind: dingtalk, url: 'http://[::1'}\n", "url"),
        ("  webhooks:\n    - {kind: dingtalk, url: 'http://'}\n", "url"),
        ("  webhooks:\n    - {kind: wecom, url: 'https://example.com/x', roles: [nosuch]}\n", "roles"),
        ("  smtp: {}\n", "host"),
        ("  smtp: {host: 127.0.0.1, port: 0}\n", "smtp.port"),
        ("  smtp: {host: 127.0.0.1, timeout: 0}\n", "smtp.timeout"),
        ("  smtp: {host: 127.0.0.1, people: [nobody]}\n", "people"),
    ],
)
def test_more_settings_that_cannot_work_are_refused(team: Team, tmp_path: Path, setting: str, said: str) -> None:
    (tmp_path / "elsewhere").mkdir()
    (team.root / "outlink").symlink_to(tmp_path / "elsewhere")
    git(team.root, "add", "outlink")
    configure(team, setting)
    result = team("zhangsan", "notify", "--dry-run")
    assert result.exit_code == 2 and said in result.output and "xmflow.yaml:" in result.output, result.output
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_an_email_is_one_address(team: Team) -> None:
    people = team.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace("lisi@example.com", "lisi@example.com,spy@evil.example"),
        encoding="utf-8",
    )
    result = team("zhangsan", "status")
    assert result.exit_code == 2 and "people.yaml:" in result.output and "spy@evil.example" in result.output


def test_the_to_header_names_exactly_its_people(tmp_path: Path) -> None:
    who = Person("zs", '张三 <boss@evil.example>, "Zhang"', "zhangsan@example.com", frozenset())
    msg = notify.compose(notify.Notice("t/1", (who,), "主题", ("一行",)), "xm@example.com")
    parsed = BytesParser(policy=policy.default).parsebytes(msg.as_bytes())
    [address] = parsed["To"].addresses
    assert address.addr_spec == "zhangsan@example.com" and address.display_name == who.name


def test_notify_fails_when_a_message_could_not_go(team: Team) -> None:
    configure(team, f"  smtp: {{host: 127.0.0.1, port: {_free_port()}, security: none}}\n")
    pid = open_project(team)
    draft_contract(team, pid)
    result = team("zhangsan", "notify", "--as-of", "2026-09-10")
    assert result.exit_code == 1 and "connection refused" in result.output, result.output
    assert len(outbox(team)) >= 1
    assert team("zhangsan", "notify", "--resend").exit_code == 1  # still not: said again, kept


def test_what_is_not_xmflows_in_the_outbox_is_left_alone(team: Team, robot) -> None:
    url, handler = robot
    configure(team, f"  webhooks:\n    - {{kind: wecom, url: '{url}/send?key=k'}}\n")
    box = team.root / ".git/xmflow/outbox"
    box.mkdir(parents=True)
    (box / "foreign.eml").write_bytes(b"Subject: x\n\nhi\n")
    (box / "bad.eml").write_bytes(
        b'Message-ID: <a@b>\nX-Xmflow-Notice: k\nX-Xmflow-To: [{"id": 1}]\nSubject: x\n\nhi\n'
    )
    result = team("zhangsan", "notify", "--resend")
    assert result.exit_code == 0, result.output
    assert (box / "foreign.eml").exists() and "None" not in result.output

"""Notices to the people who do not run the command line: composing mail (the standard library's
``email``) and sending it through the channels of ``xmflow.yaml``'s ``notify:`` — SMTP, the group
robots of DingTalk, WeCom and Feishu, and the outbox, a folder of ``.eml`` files that holds every
message not (yet) delivered (nothing configured: the outbox is the delivery).

HTTP goes through ``urllib.request``: a robot post is one JSON POST to a fixed address, which
the standard library does as well as any client, and xmflow then needs no extra dependency (nor
its certificate bundle) on the office's server where the cron job and the hooks run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate
from pathlib import Path
from typing import Any

from xmflow import yamlio
from xmflow.errors import RecordError, UsageError
from xmflow.git import store
from xmflow.i18n import _
from xmflow.model import Person
from xmflow.values import make_message_id

OUTBOX = ".git/xmflow/outbox"


def _reaches(roles: frozenset[str], people: frozenset[str], person: Person) -> bool:
    """A channel carries the notices of the people or roles it names (everyone's, naming none)."""
    return (not roles and not people) or person.id in people or bool(roles & person.roles)


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str
    user: str | None
    password_env: str | None
    timeout: int
    roles: frozenset[str] = frozenset()  # mail for these roles' and people's notices only (all, naming none)
    people: frozenset[str] = frozenset()

    def reaches(self, person: Person) -> bool:
        return bool(person.email) and _reaches(self.roles, self.people, person)


@dataclass(frozen=True)
class Webhook:
    kind: str
    url: str
    secret_env: str | None
    roles: frozenset[str]
    people: frozenset[str]
    url_env: str | None = None  # the address from this variable: its access token stays out of the repository

    def reaches(self, person: Person) -> bool:
        """A robot posts to its group the notices of the people or roles it names (all, naming none)."""
        return _reaches(self.roles, self.people, person)


@dataclass(frozen=True)
class Settings:
    """``notify:`` of xmflow.yaml, checked."""

    outbox: Path
    sender: str
    smtp: Smtp | None = None
    webhooks: tuple[Webhook, ...] = ()


def settings(
    root: Path,
    data: dict[str, Any] | None,
    company_email: str = "xmflow@localhost",
    roles: set[str] | None = None,
    people: set[str] | None = None,
    git_dir: Path | None = None,
) -> Settings:
    """The notice settings of the workspace at *root* (``Config.notify``, typed by NOTIFY_TYPE);
    what a type cannot say (an SMTP host, an http(s) webhook, an outbox that stays in the
    workspace, the *roles* and *people* a channel names) is an error naming file, line, field.
    Without an outbox set, it is ``xmflow/outbox`` in git's folder (*git_dir*: a worktree has its own)."""
    data = data or {}

    def fail(path: tuple[str | int, ...], message: str) -> RecordError:
        text = (root / "xmflow.yaml").read_text(encoding="utf-8")
        return RecordError(yamlio.load(text, "xmflow.yaml").where(("notify", *path)), message)

    def check_reach(spec: dict[str, Any], path: tuple[str | int, ...]) -> None:
        for key, known in (("roles", roles), ("people", people)):
            unknown = [name for name in spec.get(key) or () if known is not None and name not in known]
            if unknown:
                raise fail(
                    (*path, key),
                    _("{key}: {name} is not in the process's roles nor in people.yaml").format(
                        key=key, name=unknown[0]
                    ),
                )

    outbox = (
        _outbox(root, str(data["outbox"]), lambda message: fail(("outbox",), message))
        if data.get("outbox")
        else (git_dir or root / ".git") / "xmflow" / "outbox"
    )
    if data.get("sender") and not re.fullmatch(
        r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+", str(data["sender"])
    ):
        raise fail(("sender",), _("sender: an email address (xmflow@example.com)"))
    smtp = None
    if data.get("smtp") is not None:
        spec = data["smtp"]
        if not spec.get("host"):
            raise fail(("smtp",), _("smtp: needs host"))
        security = spec.get("security") or "starttls"
        port = spec.get("port") if spec.get("port") is not None else {"ssl": 465, "starttls": 587}.get(security, 25)
        if not 0 < port < 65536:
            raise fail(("smtp", "port"), _("smtp.port: a port from 1 to 65535"))
        if spec.get("timeout") is not None and not 0 < spec["timeout"] <= 600:
            raise fail(("smtp", "timeout"), _("smtp.timeout: seconds, from 1 to 600"))
        check_reach(spec, ("smtp",))
        smtp = Smtp(
            spec["host"],
            port,
            security,
            spec.get("user"),
            spec.get("password_env"),
            spec.get("timeout") or 30,
            frozenset(spec.get("roles") or ()),
            frozenset(spec.get("people") or ()),
        )
    hooks = []
    for i, spec in enumerate(data.get("webhooks") or []):
        if not spec.get("kind"):
            raise fail(
                ("webhooks", i), _("webhook {number}: needs kind (dingtalk, wecom or feishu)").format(number=i + 1)
            )
        url = spec.get("url") or ""
        if not spec.get("url_env") and not _web(url):
            raise fail(
                ("webhooks", i, "url"), _("webhook {number}: url must be an http(s) address").format(number=i + 1)
            )
        check_reach(spec, ("webhooks", i))
        hooks.append(
            Webhook(
                spec["kind"],
                url,
                spec.get("secret_env"),
                frozenset(spec.get("roles") or ()),
                frozenset(spec.get("people") or ()),
                spec.get("url_env"),
            )
        )
    return Settings(outbox, data.get("sender") or company_email, smtp, tuple(hooks))


def _outbox(root: Path, outbox: str, fail: Callable[[str], RecordError]) -> Path:
    """The outbox folder: inside the workspace once links are followed, neither among the records
    (projects/, templates/) nor in git's folder except .git/xmflow (where it is by default)."""
    relative = Path(outbox)
    if relative.is_absolute() or ".." in relative.parts or outbox.startswith("~"):
        raise fail(_("outbox: a folder inside the workspace (e.g. {default})").format(default=OUTBOX))
    home = root.resolve()
    real = (root / relative).resolve()
    if not real.is_relative_to(home):
        raise fail(
            _("outbox: {folder} leads out of the workspace (a link): a folder inside it (e.g. {default})").format(
                folder=outbox, default=OUTBOX
            )
        )
    parts = real.relative_to(home).parts
    if (
        not parts
        or parts[0] in ("projects", "templates")
        or (parts[0] == ".git" and parts[1:2] != ("xmflow",))
        or real == home / ".git" / "xmflow"
    ):
        raise fail(
            _("outbox: not among the records, nor git's own folder: a folder of its own (e.g. {default})").format(
                default=OUTBOX
            )
        )
    return real


def _web(url: str) -> bool:
    """Whether *url* is an http(s) address with a host."""
    try:
        parts = urllib.parse.urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # http://[::1
        return False


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str  # e.g. application/pdf


@dataclass(frozen=True)
class Notice:
    """A message to people: its subject, its plain text (lines) and the same as HTML, escaped."""

    key: str  # what it is about: "installation.notify_service/2026-001", "digest/zhangsan/2026-12-01"
    to: tuple[Person, ...]
    subject: str
    lines: tuple[str, ...]
    attachments: tuple[Attachment, ...] = field(default=())


def html_of(lines: tuple[str, ...]) -> str:
    """The HTML part: each line a paragraph, every value escaped (a client named ``<script>`` is text)."""
    body = "\n".join(f"<p>{html.escape(line)}</p>" if line else "<br>" for line in lines)
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'


def compose(notice: Notice, sender: str, message_id: str | None = None) -> EmailMessage:
    """The mail of a notice: UTF-8, plain text with an HTML alternative, its attachments; under
    *message_id* when one was made before (a sign-off's commit names its notice's)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = notice.subject
    msg["From"] = sender
    msg["To"] = [Address(p.name, addr_spec=p.email) for p in notice.to]  # parsed back, exactly these people
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id or make_message_id()
    msg["X-Xmflow-Notice"] = notice.key
    msg.set_content("\n".join(notice.lines) + "\n", charset="utf-8")
    msg.add_alternative(html_of(notice.lines), subtype="html", charset="utf-8")
    for item in notice.attachments:
        main, sub = item.mimetype.split("/", 1)
        if main == "text":  # a form as HTML: text in UTF-8, readable as it arrives
            msg.add_attachment(item.content.decode("utf-8"), subtype=sub, charset="utf-8", filename=item.filename)
        else:
            msg.add_attachment(item.content, maintype=main, subtype=sub, filename=item.filename)
    return msg


@dataclass(frozen=True)
class Delivery:
    """What became of one message: where it went, and the problems of the channels that failed."""

    message_id: str
    channels: tuple[str, ...]
    problems: tuple[str, ...]
    kept: Path | None  # its .eml in the outbox while it is not delivered (or nothing sends mail)


def send(conf: Settings, msg: EmailMessage) -> Delivery:
    """Send a composed message by mail and by the robots that reach its people. It is written to
    the outbox first and taken out only once SMTP took it: a failure loses nothing."""
    try:
        conf.outbox.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            _("the outbox {folder} cannot be made ({reason}): name a folder in notify.outbox").format(
                folder=conf.outbox, reason=exc.strerror
            )
        ) from None
    message_id = str(msg["Message-ID"])
    kept = conf.outbox / (message_id.strip("<>").replace("/", "_") + ".eml")
    _keep(msg, kept)
    return _deliver(conf, msg, kept)


def waiting(conf: Settings, only: str | None = None) -> list[tuple[Path, EmailMessage]]:
    """What waits in the outbox (all of it, or the message whose id or key is *only*): the
    messages xmflow wrote there, each with its file; anything else is left alone."""
    found = []
    for path in sorted(conf.outbox.glob("*.eml")) if conf.outbox.is_dir() else []:
        if path.is_symlink() or not path.is_file():
            continue  # not a message xmflow wrote
        try:
            msg = BytesParser(policy=policy.SMTP).parsebytes(path.read_bytes())
        except (OSError, ValueError):
            continue
        if msg["Message-ID"] is None or msg["X-Xmflow-Notice"] is None:
            continue  # not xmflow's: left as it is
        if only and only not in (str(msg["Message-ID"]).strip("<>"), str(msg["X-Xmflow-Notice"]), path.stem):
            continue
        found.append((path, msg))
    if only and not found:
        raise UsageError(_("--resend: no message {name} in the outbox {folder}").format(name=only, folder=conf.outbox))
    return found


def resend(conf: Settings, only: str | None = None) -> list[Delivery]:
    """Send again what waits in the outbox (all of it, or the message whose id or key is *only*)."""
    return [
        _deliver(conf, msg, path, robots=str(msg.get("X-Xmflow-Robots", "")) != "done")
        for path, msg in waiting(conf, only)
    ]


def _deliver(conf: Settings, msg: EmailMessage, kept: Path, robots: bool = True) -> Delivery:
    """Post to the robots (unless done before), mail it (unless mailed before); it leaves the
    outbox only when every channel took it."""
    channels, problems = [], []
    recipients = _recipients(msg)
    if robots and conf.webhooks:
        for hook in conf.webhooks:
            if not any(hook.reaches(p) for p in recipients):
                continue
            try:
                post_webhook(hook, str(msg["Subject"]), _plain(msg))
                channels.append(hook.kind)
            except OSError as exc:
                problems.append(_("{kind} robot: {reason}").format(kind=hook.kind, reason=_reason(exc)))
        if not problems:
            _mark(msg, "X-Xmflow-Robots")
    mailed = [p for p in recipients if conf.smtp.reaches(p)] if conf.smtp else []
    posted = bool(channels) or not robots  # a robot took it, now or before
    if conf.smtp is None or not (mailed or posted):  # no mail server (for them), nor a robot: the outbox holds it
        _keep(msg, kept)
        return Delivery(str(msg["Message-ID"]), (*channels, "outbox"), tuple(problems), kept)
    if conf.smtp is not None and mailed and str(msg.get("X-Xmflow-Mailed", "")) != "done":
        try:
            send_smtp(conf.smtp, msg, [p.email for p in mailed])
            channels.append("smtp")
            _mark(msg, "X-Xmflow-Mailed")
        except (OSError, smtplib.SMTPException) as exc:
            problems.append(
                _("mail to {host}:{port}: {reason}").format(
                    host=conf.smtp.host, port=conf.smtp.port, reason=_reason(exc)
                )
            )
    if problems:
        _keep(msg, kept)
        return Delivery(str(msg["Message-ID"]), tuple(channels), tuple(problems), kept)
    kept.unlink(missing_ok=True)
    return Delivery(str(msg["Message-ID"]), tuple(channels), (), None)


def _mark(msg: EmailMessage, header: str) -> None:
    """Note on a message a channel that took it: a resend does not post or mail it twice."""
    del msg[header]
    msg[header] = "done"


def _keep(msg: EmailMessage, kept: Path) -> None:
    temp = kept.with_suffix(".tmp")
    temp.write_bytes(msg.as_bytes())
    os.replace(temp, kept)


def _recipients(msg: EmailMessage) -> list[Person]:
    """Who a message is to, as the robots know them (id and roles travel in a header)."""
    try:
        said = json.loads(str(msg.get("X-Xmflow-To") or "[]"))
        return [Person(str(p["id"]), str(p["name"]), str(p["email"]), frozenset(map(str, p["roles"]))) for p in said]
    except (ValueError, TypeError, KeyError):  # not as xmflow wrote it: to nobody xmflow knows
        return []


def address(msg: EmailMessage, people: tuple[Person, ...]) -> None:
    """Note on the message who it is for, with their roles, for the robots that serve a role."""
    msg["X-Xmflow-To"] = json.dumps(
        [{"id": p.id, "name": p.name, "email": p.email, "roles": sorted(p.roles)} for p in people], ensure_ascii=True
    )


def _plain(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def _reason(exc: BaseException) -> str:
    """Why a channel failed, in the command's language; what the server itself said is quoted."""
    if isinstance(exc, urllib.error.HTTPError):
        return _("the server answered {code} {reason}").format(code=exc.code, reason=exc.reason)
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    said = _said_by_server(exc)
    if said is not None:
        return said
    if isinstance(exc, ConnectionRefusedError):
        return _("connection refused (is the server running?)")
    if isinstance(exc, ConnectionResetError | BrokenPipeError | smtplib.SMTPServerDisconnected):
        return _("the server closed the connection (is it the right port and security: starttls, ssl or none?)")
    if isinstance(exc, TimeoutError):
        return _("no answer in time (timeout)")
    if isinstance(exc, socket.gaierror):
        return _("the host name is not known (DNS)")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _("the server's certificate is not trusted ({reason})").format(reason=exc.verify_message or exc.reason)
    if isinstance(exc, ssl.SSLError):
        return _("TLS failed (is it the right port and security?): {reason}").format(reason=exc.reason or exc)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _("the server does not offer what the settings ask (STARTTLS, or a login with user): {said}").format(
            said=exc
        )
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _said_by_server(exc: BaseException) -> str | None:
    """An SMTP server's refusal, with its code and its own words."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _("the server refused the user name or password ({code})").format(code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _("the server refused the recipients {people}").format(people=", ".join(exc.recipients))
    if isinstance(exc, smtplib.SMTPResponseException):
        said = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return _("the server answered {code} {reason}").format(code=exc.smtp_code, reason=said)
    return None


def send_smtp(conf: Smtp, msg: EmailMessage, to: list[str]) -> None:
    """Hand a message to the SMTP server; the password comes from the environment variable the
    settings name, else from git's credential helper (`git credential fill`, never prompting),
    never from the repository."""
    password = os.environ.get(conf.password_env) if conf.password_env else None
    if conf.password_env and not password:
        raise smtplib.SMTPException(
            _("the variable {name} holding the SMTP password is not set").format(name=conf.password_env)
        )
    if conf.user and not conf.password_env:
        password = store.credential(conf.host, conf.port, conf.user)
        if not password:
            raise smtplib.SMTPException(
                _(
                    "no SMTP password for {user} at {host}: name a variable holding it "
                    "(password_env), or store it with git's credential helper "
                    "(git credential approve)"
                ).format(user=conf.user, host=conf.host)
            )
    context = ssl.create_default_context()
    cls = smtplib.SMTP_SSL if conf.security == "ssl" else smtplib.SMTP
    extra: dict[str, Any] = {"context": context} if conf.security == "ssl" else {}
    with cls(conf.host, conf.port, timeout=conf.timeout, **extra) as server:
        if conf.security == "starttls":
            server.starttls(context=context)
        if conf.user and password:
            server.login(conf.user, password)
        clean = BytesParser(policy=policy.SMTP).parsebytes(msg.as_bytes())
        for header in ("X-Xmflow-To", "X-Xmflow-Robots", "X-Xmflow-Mailed"):  # xmflow's own, for the outbox
            del clean[header]
        server.send_message(clean, to_addrs=to)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's 签名校验: HMAC-SHA256 of nothing keyed by "timestamp\\nsecret", base64."""
    return base64.b64encode(hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def payload(hook: Webhook, title: str, text: str, secret: str | None, now: float) -> tuple[str, dict[str, Any]]:
    """The address and JSON body of a robot's post, each in its documented format: DingTalk and
    WeCom ``{"msgtype": "text", "text": {"content": …}}``, Feishu ``{"msg_type": "text",
    "content": {"text": …}}`` (with ``timestamp`` and ``sign`` when it has a secret)."""
    content = f"{title}\n\n{text}"
    if hook.kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": content}}
        if secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
        return hook.url, body
    url = hook.url
    if hook.kind == "dingtalk" and secret:
        stamp = int(now * 1000)
        url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}"
    return url, {"msgtype": "text", "text": {"content": content}}


def post_webhook(hook: Webhook, title: str, text: str, timeout: int = 30) -> None:
    """Post to a group robot; an answer other than success (HTTP or the robot's errcode) is an OSError."""
    secret = os.environ.get(hook.secret_env) if hook.secret_env else None
    if hook.secret_env and not secret:
        raise OSError(_("the variable {name} holding the robot's secret is not set").format(name=hook.secret_env))
    if hook.url_env:
        address = os.environ.get(hook.url_env) or ""
        if not _web(address):
            raise OSError(_("the variable {name} does not hold the robot's http(s) address").format(name=hook.url_env))
        hook = replace(hook, url=address)
    url, body = payload(hook, title, text, secret, time.time())
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # http(s) only: settings() checks the scheme
        said = answer.read()
    try:
        reply = json.loads(said or b"{}")
    except ValueError:
        reply = {}
    code = reply.get("errcode", reply.get("code", 0)) if isinstance(reply, dict) else 0
    if code:
        raise OSError(
            _("the robot refused the message ({code}: {message})").format(
                code=code, message=reply.get("errmsg") or reply.get("msg") or ""
            )
        )

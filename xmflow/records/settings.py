"""The types of the settings files, xmflow.yaml (with its `notify:` channels) and people.yaml: typed
like the stages' fields and read by the same :func:`xmflow.procedure.schema.convert`. A label is
said when a message is made, in the language in use."""

from __future__ import annotations

from xmflow.i18n import _
from xmflow.procedure.schema import FieldType

_TEXT = FieldType("text")
_ROLE_NAMES = FieldType("list", item=FieldType("text", label=lambda: _("a role name")))
_ENV = FieldType("text", label=lambda: _("the name of an environment variable"))
NOTIFY_TYPE = FieldType(
    "map",
    label=lambda: _("a mapping of notice settings (outbox, sender, smtp, webhooks)"),
    fields={
        "outbox": FieldType("text", label=lambda: _("a folder's path")),
        "sender": FieldType("text", label=lambda: _("an email address")),
        "smtp": FieldType(
            "map",
            label=lambda: _("a mapping with host, port, security, user, password_env, roles, people"),
            fields={
                "host": FieldType("text"),
                "port": FieldType("int"),
                "security": FieldType("enum", values=("starttls", "ssl", "none")),
                "user": FieldType("text"),
                "password_env": _ENV,
                "timeout": FieldType("int"),
                "roles": _ROLE_NAMES,
                "people": _ROLE_NAMES,
            },
        ),
        "webhooks": FieldType(
            "list",
            item=FieldType(
                "map",
                label=lambda: _("a webhook {kind, url, secret_env, roles}"),
                fields={
                    "kind": FieldType("enum", values=("dingtalk", "wecom", "feishu")),
                    "url": FieldType("text"),
                    "url_env": _ENV,
                    "secret_env": _ENV,
                    "roles": _ROLE_NAMES,
                    "people": _ROLE_NAMES,
                },
            ),
        ),
    },
)
CONFIG_TYPE = FieldType(
    "map",
    label=lambda: _("a mapping of settings"),
    fields={
        "company": _TEXT,
        "currency": _TEXT,
        "key_threshold": FieldType("money"),
        "locale": FieldType("enum", values=("zh", "en")),
        "process": FieldType("text", label=lambda: _("a file's path")),
        "require_signed_commits": FieldType("bool"),
        "max_backdate_days": FieldType("int"),
        "notify": NOTIFY_TYPE,
    },
)
PERSON_TYPE = FieldType(
    "map",
    label=lambda: _("a mapping with id, name, email, roles"),
    fields={
        "id": FieldType("text", label=lambda: _("a person's id")),
        "name": _TEXT,
        "email": FieldType("text", label=lambda: _("an email address")),
        "roles": _ROLE_NAMES,
        "signing_key": FieldType("text", label=lambda: _("a public key on one line")),
    },
)
DELEGATION_TYPE = FieldType(
    "map",
    label=lambda: _("a delegation {from, to, roles, until, since}"),
    fields={
        "from": FieldType("person"),
        "to": FieldType("person"),
        "roles": _ROLE_NAMES,
        "until": FieldType("date"),
        "since": FieldType("date"),
    },
)
PEOPLE_TYPE = FieldType(
    "map",
    label=lambda: _("a mapping with a `people:` list"),
    fields={"people": FieldType("list", item=PERSON_TYPE), "delegations": FieldType("list", item=DELEGATION_TYPE)},
)

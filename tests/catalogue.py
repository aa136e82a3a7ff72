"""The message catalogue: what the code says, and its Chinese (a maintainer's tool, and the test's).

    python tests/catalogue.py update            # the catalogue follows the code: new messages in, gone ones out,
                                                # .mo compiled
    python tests/catalogue.py missing [FILE…]   # messages with no Chinese yet (of FILEs only), as JSON to fill in
    python tests/catalogue.py add DONE.json     # {"English": "中文", …} into the catalogue, then update
                                                # (a message in a context: "context\u0004English")

Messages are found by Babel in ``_()``, ``N_()``, ``ngettext`` and ``pgettext`` calls of the package
and the templates, and in the help texts of the command tree. The catalogue is
``xmflow/locale/zh/LC_MESSAGES/xmflow.po``, compiled to ``xmflow.mo`` next to it: both are kept in
git (the package is installed from its source, with no build step to compile them).
"""

from __future__ import annotations

import fcntl
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "xmflow" / "locale" / "zh" / "LC_MESSAGES" / "xmflow.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
METHODS = [("**.py", "python"), ("**.j2", "jinja2")]
OPTIONS = {"**.j2": {"extensions": "jinja2.ext.do", "trimmed": "true"}}


Key = str | tuple[str, str]  # a message id, or (id, plural id)


def found() -> dict[tuple[Key, str | None], set[str]]:
    """Every message the code and templates say, with the files that say it: {(id, context): files}."""
    messages: dict[tuple[Key, str | None], set[str]] = {}
    for folder in ("xmflow", "templates"):
        for filename, _lineno, message, _comments, context in extract_from_dir(
            ROOT / folder, METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True
        ):
            key = message if isinstance(message, str) else tuple(message[:2])
            if key:
                messages.setdefault((key, context), set()).add(f"{folder}/{filename}")
    for text in _help_texts():
        messages.setdefault((text, None), set()).add("xmflow/cli/app.py")
    return messages


def _help_texts() -> Iterator[str]:
    import typer.main

    from xmflow.cli import lang as cli_lang
    from xmflow.cli.entry import app

    yield from cli_lang.help_texts(typer.main.get_command(app))


def read() -> Catalog:
    if not PO.exists():
        return Catalog(locale="zh_Hans_CN", domain="xmflow", project="xmflow")
    with PO.open("rb") as f:
        return read_po(f, locale="zh_Hans_CN", domain="xmflow")


@contextmanager
def _locked() -> Iterator[None]:
    with open("/tmp/xmflow-catalogue.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def update(translations: dict[str, str] | None = None) -> Catalog:
    """Make the catalogue follow the code, with *translations* added; write the .po and the .mo."""
    with _locked():
        old = read()
        new = Catalog(
            locale="zh_Hans_CN",
            domain="xmflow",
            project="xmflow",
            version="0.1",
            charset="utf-8",
            fuzzy=False,
            header_comment="# xmflow's messages in Chinese (tests/catalogue.py update).",
            creation_date=old.creation_date,
            revision_date=old.creation_date,
            msgid_bugs_address="",
            last_translator="xmflow",
            language_team="xmflow",
        )
        for (key, context), files in sorted(found().items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or "")):
            before = old.get(key, context)
            text = before.string if before is not None else ("", "") if isinstance(key, tuple) else ""
            ident = key if isinstance(key, str) else key[0]
            # a message in a context by gettext's own key ("context\x04id"); by its id alone while it has no Chinese
            qualified = f"{context}\x04{ident}" if context else ident
            plain = ident if not context or not (text if isinstance(text, str) else all(text)) else None
            if translations and (qualified in translations or plain in translations):
                given = translations[qualified] if qualified in translations else translations[plain]
                text = tuple(given) if isinstance(key, tuple) and isinstance(given, list) else given
            new.add(key, text, locations=[(f, None) for f in sorted(files)], context=context)
        PO.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_po(buffer, new, width=0, include_lineno=False, sort_output=False)
        PO.write_bytes(buffer.getvalue())
        buffer = io.BytesIO()
        write_mo(buffer, new)
        MO.write_bytes(buffer.getvalue())
        return new


def untranslated(catalog: Catalog, files: list[str] | None = None) -> dict[str, str]:
    out = {}
    for message in catalog:
        if not message.id:
            continue
        where = {f for f, _ in message.locations}
        if files and not where & {str(Path(f).resolve().relative_to(ROOT)) for f in files}:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            ident = message.id if isinstance(message.id, str) else message.id[0]
            out[f"{message.context}\x04{ident}" if message.context else ident] = ""
    return out


def main(argv: list[str]) -> int:
    command, *rest = argv or ["update"]
    if command == "update":
        catalog = update()
        print(f"{PO.relative_to(ROOT)}: {len(catalog)} messages, {len(untranslated(catalog))} without Chinese")
    elif command == "missing":
        print(json.dumps(untranslated(read(), rest or None), ensure_ascii=False, indent=1))
    elif command == "add":
        given: dict[str, str] = {}
        for name in rest:
            given.update(json.loads(Path(name).read_text(encoding="utf-8")))
        catalog = update({k: v for k, v in given.items() if v})
        print(f"{PO.relative_to(ROOT)}: {len(catalog)} messages, {len(untranslated(catalog))} without Chinese")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))

"""Every message in Chinese and English: the catalogue follows the code, the compiled catalogue its
source, and no message a person reads escapes it."""

from __future__ import annotations

import ast
import gettext
import re
import string
from pathlib import Path

import catalogue
import pytest

PACKAGE = catalogue.ROOT / "xmflow"


def _command_names() -> str:
    import typer.main

    from xmflow.cli.entry import app

    root = typer.main.get_command(app)
    return "|".join(sorted(root.commands, key=len, reverse=True))  # type: ignore[attr-defined]


COMMANDS = _command_names()


@pytest.fixture(scope="module")
def po():
    return catalogue.read()


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_message_is_in_both_languages(po):
    """Each message the code says has its Chinese, and the catalogue holds nothing the code no
    longer says: a message in one language only fails here."""
    said = {(key if isinstance(key, str) else key[0], context) for key, context in catalogue.found()}
    held = {(_ids(m)[0], m.context) for m in po if m.id}
    assert not said - held, f"not in the catalogue (python tests/catalogue.py update): {sorted(said - held)[:20]}"
    assert not held - said, (
        f"in the catalogue, not in the code (python tests/catalogue.py update): {sorted(held - said)[:20]}"
    )
    untranslated = [_ids(m)[0] for m in po if m.id and not all(_strings(m))]
    assert not untranslated, f"{len(untranslated)} messages without Chinese, e.g. {untranslated[:10]}"
    fuzzy = [_ids(m)[0] for m in po if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy translations: {fuzzy[:10]}"


def _fields(text: str) -> set[str]:
    try:
        return {
            f"{name}!{conv}" if conv else name
            for _, name, _, conv in string.Formatter().parse(text)
            if name is not None
        }
    except ValueError as exc:
        raise AssertionError(f"{text!r}: {exc}") from None


def test_translations_keep_the_placeholders(po):
    """A translation has the placeholders of its message (a missing {project} would print
    nothing, a new one would crash) and keeps commands, field paths and clause numbers."""
    wrong = []
    for m in po:
        if not m.id:
            continue
        for ident, text in zip(_ids(m) * 2, _strings(m), strict=False):
            if text and _fields(text) != _fields(ident):
                wrong.append((ident, text))
            for kept in re.findall(rf"xmflow (?:{COMMANDS})\b|\b\d\.\d+(?:\.\d+)*\b|--[a-z][a-z-]+", ident):
                if text and kept not in text:
                    wrong.append((ident, f"{text}  (lost {kept!r})"))
    assert not wrong, "\n".join(f"{a!r} → {b!r}" for a, b in wrong[:20])


def test_the_compiled_catalogue_is_its_source(po):
    """xmflow.mo, which xmflow reads, says what xmflow.po says."""
    with catalogue.MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for m in po:
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            assert compiled.ngettext(*m.id, 1) == m.string[0]
        elif m.context:
            assert compiled.pgettext(m.context, m.id) == m.string, m.id
        else:
            assert compiled.gettext(m.id) == m.string, m.id
    assert len(compiled._catalog) == len([m for m in po if m.id]) + 1  # + the header


# -- no message escapes the catalogue -------------------------------------------------------------

_WORDS = re.compile(r"[A-Za-z]{2,}")
_SHOWN = {"line", "note", "error", "warn", "warning", "echo", "say", "Finding", "Problem", "problem", "refuse"}
_KEEP = "# untranslated"  # a line that says why its text is not for the catalogue (a format, a code)


def _literal_words(node: ast.AST) -> bool:
    """Is *node* text with words in it (a literal, an f-string, or a sum of them)?"""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_WORDS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_literal_words(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _literal_words(node.left) or _literal_words(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _literal_words(node.func.value)
    return False


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def escapes(path: Path) -> list[str]:
    """Where *path* puts English words in front of a person without the catalogue."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    tree = ast.parse(source)
    imports_underscore = any(
        isinstance(n, ast.ImportFrom) and n.module == "xmflow.i18n" and any(a.name == "_" for a in n.names)
        for n in ast.walk(tree)
    )
    for node in ast.walk(tree):
        where = f"{path.relative_to(catalogue.ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store) and imports_underscore:
            found.append(f"{where}: `_` assigned, in a module that translates with it")
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in ("_", "N_", "pgettext", "ngettext"):
            texts = node.args[:2] if name in ("pgettext", "ngettext") else node.args  # ngettext's count is a value
            span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
            if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in texts) and not any(
                _KEEP in line for line in span
            ):
                found.append(f"{where}: {name}() of something other than a literal")
            continue
        said = [a for a in node.args[:2] if _literal_words(a)]
        said += [k.value for k in node.keywords if k.arg in ("message", "help") and _literal_words(k.value)]
        if said and (name.endswith(("Error", "Exception", "Warning")) or name in _SHOWN):
            span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
            if not any(_KEEP in line for line in span):
                found.append(f"{where}: {name}({ast.unparse(said[0])[:70]})")
    return found


def test_no_message_escapes_the_catalogue():
    """Errors, warnings and lines for people are said through ``_()``: an English literal handed to
    an error or printed as it is fails here (file and line), unless its line says
    ``# untranslated`` and why."""
    machinery = {PACKAGE / "i18n.py", PACKAGE / "cli" / "lang.py"}  # they translate ids held in variables
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) if path not in machinery for hit in escapes(path)]
    assert not found, f"{len(found)} messages outside the catalogue:\n" + "\n".join(found[:60])

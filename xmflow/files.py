"""Writing an output file whole: written aside, then renamed, so that a reader never sees half a
form or half a workbook, and a failure leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

from xmflow.errors import UsageError


def write_whole(path: Path, data: bytes) -> None:
    """Write *data* to *path* atomically; a failure is bad usage naming the path."""
    tmp = path.with_name(f".{path.name}.xmflow-tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None

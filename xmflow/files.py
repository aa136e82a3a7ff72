"""Output files and input scans: what a path given on the command line may be, writing a form or
a workbook whole, and reading a scan with a size limit.

A regular file is written aside and renamed, so that a reader never sees half a form and a
failure leaves nothing behind. A character device or a pipe that already exists (``/dev/null``,
``/dev/stdout``, a FIFO someone reads) has nothing to rename: it is written in place, and a
failure (``/dev/full``) is reported like any other. A folder, a block device or a socket is
refused. Nothing here replaces a device with a file, whoever runs it (root may rename over
``/dev/null``).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from xmflow.errors import UsageError
from xmflow.i18n import _

MAX_SCAN = 20 * 1024 * 1024  # 20 MB: a scan of a signed paper, not a video of the signing
_CHUNK = 1024 * 1024


def output_path(text: str, option: str, example: str) -> Path:
    """A file named on the command line to write to: not empty, not a folder, in a folder that
    exists, and not a device a form cannot go to. Checked before any work is done."""
    if not text.strip():
        raise UsageError(
            _("{option}: an empty file name; name the file to write, e.g. {option} {example}").format(
                option=option, example=example
            )
        )
    path = Path(text)
    kind = _kind(path, option)  # first: a name the system refuses (too long, a loop of links) says so
    if text.endswith(("/", "/.", "/..")) or text in (".", "..") or kind == "folder":
        raise UsageError(
            _("{option} {path}: is a folder; name a file in it, e.g. {option} {example}").format(
                option=option, path=text, example=path / example
            )
        )
    if _kind(path.parent, option) != "folder":
        raise UsageError(
            _(
                "{option} {path}: cannot write it, there is no folder {folder}; make it first, or name another file"
            ).format(option=option, path=text, folder=path.parent)
        )
    if kind not in (None, "file", "device"):
        raise UsageError(_not_writable(option, text, kind))
    return path


def write_whole(path: Path, data: bytes, option: str) -> None:
    """Write *data* to *path*: a regular file atomically (aside, then renamed), a character device
    or a pipe in place. Any failure is bad usage naming the option and the path."""
    kind = _kind(path, option)
    if kind == "device":
        _write_through(path, data, option)
        return
    if kind not in (None, "file"):
        raise UsageError(_not_writable(option, path, kind))
    target = _renamable(path)
    if target is None:  # a link to a file that cannot be renamed over (/dev/stdout to a deleted file)
        _write_through(path, data, option)
        return
    _write_aside(target, data, option)


def _kind(path: Path, option: str) -> str | None:
    """What is at *path* (following links): None, "file", "device" (character device or pipe,
    written in place), "folder", "block device", "socket" or "other"."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror}") from None
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    return "block device" if stat.S_ISBLK(mode) else "socket" if stat.S_ISSOCK(mode) else "other"


def _not_writable(option: str, path: Path | str, kind: str | None) -> str:
    """The refusal of a path that is something xmflow does not write to (a folder, a socket…)."""
    what = {"folder": _("a folder"), "block device": _("a block device"), "socket": _("a socket")}.get(
        kind or "", _("not a file")
    )
    return _("{option} {path}: is {kind}, not a file xmflow can write to").format(option=option, path=path, kind=what)


def _renamable(path: Path) -> Path | None:
    """The file to replace: *path* itself, or the file a link points to (so the link stays);
    None when the link's target cannot be named (a deleted file behind /proc/self/fd)."""
    if not path.is_symlink():
        return path
    real = Path(os.path.realpath(path))
    try:
        return real if real.parent.is_dir() and os.path.samefile(real, path) else None
    except OSError:
        return None


def _write_aside(target: Path, data: bytes, option: str) -> None:
    """Write a new file next to *target*, then rename it over *target*; keep the old file's mode."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.xmflow-tmp")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode) if target.exists() else None
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(
            _("{option} {path}: cannot write it ({reason}); nothing was written").format(
                option=option, path=target, reason=exc.strerror
            )
        ) from None


def _write_through(path: Path, data: bytes, option: str) -> None:
    """Write into a device or a pipe as it is. Opened without waiting: a pipe nobody reads is
    refused rather than waited on."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise UsageError(
                _("{option} {path}: is a pipe nobody reads from").format(option=option, path=path)
            ) from None
        raise UsageError(_cannot_write(option, path, exc)) from None
    try:
        os.set_blocking(fd, True)
        _write_all(fd, data)
    except OSError as exc:
        raise UsageError(_cannot_write(option, path, exc)) from None
    finally:
        os.close(fd)


def _cannot_write(option: str, path: Path, exc: OSError) -> str:
    return _("{option} {path}: cannot write it ({reason})").format(option=option, path=path, reason=exc.strerror)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view[:_CHUNK]) :]


def read_scan(path: Path, option: str, limit: int = MAX_SCAN) -> bytes:
    """The bytes of a regular file of at most *limit* bytes. Looked at before it is opened (a
    FIFO is never opened, a device never read), and read with the limit enforced even if the
    file grows meanwhile."""
    check_scan(path, option, limit)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the check
            raise UsageError(
                _("{option} {path}: is not a regular file; give the scan's file").format(option=option, path=path)
            )
        chunks, size = [], 0
        while chunk := os.read(fd, min(_CHUNK, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UsageError(_too_big(option, path, limit))
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def check_scan(path: Path, option: str, limit: int = MAX_SCAN) -> None:
    """Refuse, without opening it, anything but a regular file of at most *limit* bytes."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(_("{option} {path}: is a folder; give the scan's file").format(option=option, path=path))
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(
            _("{option} {path}: is not a regular file (a device or a pipe); give the scan's file").format(
                option=option, path=path
            )
        )
    if info.st_size > limit:
        raise UsageError(_too_big(option, path, limit))


def _too_big(option: str, path: Path, limit: int) -> str:
    return _(
        "{option} {path}: is larger than {size} MB, the most a scan may be; scan it at a lower resolution or as a PDF"
    ).format(option=option, path=path, size=limit // (1024 * 1024))

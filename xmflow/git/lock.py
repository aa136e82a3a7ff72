"""The workspace lock: one changing xmflow command at a time in a clone.

A command that changes the records holds the lock from the moment it reads them to the moment
its commit and files are in place, so two commands started together never build on the same
state (the second would silently undo the first). The lock is an advisory ``flock`` on a file in
the repository's own git folder: the kernel releases it when its holder exits, even after
``kill -9``, so a killed command never leaves it behind.

The lock is reentrant within a thread: the command holds it through `Session`, and
`journal.commit`, which takes it too (for callers without a session), then simply goes on.
Another thread, like another process, waits (flock locks of two open files conflict).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from xmflow.errors import StoreError
from xmflow.i18n import _


def _wait_from_environment(default: float = 10.0) -> float:
    """How long a second command waits: XMFLOW_LOCK_WAIT seconds when set to a number."""
    try:
        return max(0.0, float(os.environ.get("XMFLOW_LOCK_WAIT", default)))
    except ValueError:
        return default


WAIT = _wait_from_environment()  # seconds a second command waits for the first before it gives up
_POLL = 0.05
_HOLDER = re.compile(r"pid (\d+), since (\d\d:\d\d:\d\d)")  # what the lock file says (never translated: it is data)
_local = threading.local()  # per thread: the git folders whose lock it holds → how many holders


def _holds() -> dict[str, int]:
    if not hasattr(_local, "held"):
        _local.held = {}
    held: dict[str, int] = _local.held
    return held


@contextlib.contextmanager
def workspace_lock(git_dir: Path, wait: float = WAIT) -> Iterator[None]:
    """Hold the workspace's lock (``<git dir>/xmflow/lock``), waiting up to *wait* seconds for
    another command to finish; then refuse, saying that one is running."""
    key = _key(git_dir)
    if _holds().get(key):
        with _holding(key):
            yield
        return
    handle = _open(git_dir)
    try:
        deadline = time.monotonic() + wait
        while not _try(handle):
            if time.monotonic() >= deadline:
                raise StoreError(
                    _(
                        "another xmflow command is running in this workspace ({holder}); waited {wait} s "
                        "for it. Try again when it has finished"
                    ).format(holder=_holder(handle), wait=f"{wait:g}")
                )
            time.sleep(_POLL)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}\n")
        handle.flush()
        with _holding(key):
            yield
    finally:
        handle.close()  # closing the file releases the lock


@contextlib.contextmanager
def lock_if_free(git_dir: Path) -> Iterator[bool]:
    """Take the lock only if nobody else holds it; yields whether this process holds it. For work
    that may be skipped while another command runs (a reading command finishing an interrupted
    change)."""
    key = _key(git_dir)
    if _holds().get(key):
        with _holding(key):
            yield True
        return
    handle = _open(git_dir)
    try:
        if not _try(handle):
            yield False
            return
        with _holding(key):
            yield True
    finally:
        handle.close()


@contextlib.contextmanager
def _holding(key: str) -> Iterator[None]:
    held = _holds()
    held[key] = held.get(key, 0) + 1
    try:
        yield
    finally:
        held[key] -= 1
        if not held[key]:
            del held[key]


def _key(git_dir: Path) -> str:
    return os.path.realpath(git_dir)


def _open(git_dir: Path) -> TextIO:
    folder = git_dir / "xmflow"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return (folder / "lock").open("a+", encoding="utf-8")
    except OSError as exc:
        raise StoreError(
            _("cannot take the workspace lock in {folder}: {error}").format(folder=folder, error=exc.strerror)
        ) from None


def _try(handle: TextIO) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(handle: TextIO) -> str:
    """Who holds the lock, as its file says (written in no language: read back in the reader's)."""
    handle.seek(0)
    said = handle.read().strip()
    found = _HOLDER.fullmatch(said)
    if found:
        return _("pid {pid}, since {time}").format(pid=found.group(1), time=found.group(2))
    return said or _("another process")

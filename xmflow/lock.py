"""The workspace lock: one changing xmflow command at a time in a clone.

A command that changes the records holds the lock from the moment it reads them to the moment
its commit is in place, so two commands started together never build on the same state (the
second would silently undo the first). The lock is an advisory ``flock`` on a file in the
repository's own git folder: the kernel releases it when its holder exits, even after
``kill -9``, so a killed command never leaves it behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from xmflow.errors import StoreError

WAIT = 10.0       # seconds a second command waits for the first before it gives up
_POLL = 0.05


@contextlib.contextmanager
def workspace_lock(git_dir: Path, wait: float = WAIT) -> Iterator[None]:
    """Hold the workspace's lock (``<git dir>/xmflow/lock``), waiting up to *wait* seconds for
    another command to finish; then refuse, saying that one is running."""
    handle = _open(git_dir)
    try:
        deadline = time.monotonic() + wait
        while not _try(handle):
            if time.monotonic() >= deadline:
                raise StoreError(f"another xmflow command is running in this workspace ({_holder(handle)}); "
                                 f"waited {wait:.0f} s for it. Try again when it has finished")
            time.sleep(_POLL)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock


@contextlib.contextmanager
def lock_if_free(git_dir: Path) -> Iterator[bool]:
    """Take the lock only if nobody holds it; yields whether it was taken. For work that may be
    skipped while another command runs (a reading command finishing an interrupted change)."""
    handle = _open(git_dir)
    try:
        yield _try(handle)
    finally:
        handle.close()


def _open(git_dir: Path) -> TextIO:
    folder = git_dir / "xmflow"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return (folder / "lock").open("a+", encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot take the workspace lock in {folder}: {exc.strerror}") from None


def _try(handle: TextIO) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(handle: TextIO) -> str:
    handle.seek(0)
    return handle.read().strip() or "another process"

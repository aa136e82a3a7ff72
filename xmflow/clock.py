"""The time xmflow acts at: now, or a fixed time (the demo's script, the tests' clock)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime

_FIXED_TIME: ContextVar[datetime | None] = ContextVar("xmflow_fixed_time", default=None)


def now() -> datetime:
    """The current time, timezone-aware (fixed inside :func:`fixed_time`)."""
    return _FIXED_TIME.get() or datetime.now().astimezone().replace(microsecond=0)  # git keeps whole seconds


@contextlib.contextmanager
def fixed_time(when: datetime) -> Iterator[None]:
    """Act at *when*: the demo replays its script at the times it names, tests fix their clock.
    Not reachable from the command line, so nobody backdates a sign-off by a setting."""
    token = _FIXED_TIME.set(when)
    try:
        yield
    finally:
        _FIXED_TIME.reset(token)

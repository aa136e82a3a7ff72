"""`xmflow hooks install`: git hooks that run xmflow's checks — a pre-commit hook in a workspace
(advice: it stops a bad commit before it is made) and a pre-receive hook in the bare repository
people push to (enforcement: :mod:`xmflow.trust.receive` judges each push; this module only installs
the few lines of shell that run it, and git's own settings that say the same)."""

from __future__ import annotations

import shlex
import stat
import sys
from pathlib import Path

from xmflow.errors import UsageError
from xmflow.git import store
from xmflow.i18n import _

MARK = "xmflow-hook"

# `-P`: the folder git runs a hook in (a bare repository's, which holds xmflow/ for its checkpoints)
# is not put on Python's path, where a folder named xmflow would stand in for the package.
_PRE_COMMIT = """#!/bin/sh
# {mark}: runs `xmflow check` before each commit (installed by `xmflow hooks install`).
exec {python} -P -m xmflow check
"""

_PRE_RECEIVE = """#!/bin/sh
# {mark}: the shared repository's guard (installed by `xmflow hooks install --server`): history only
# grows, pushers push their own commits, dates are sane, and each pushed tip passes `xmflow verify`.
exec {python} -P -m xmflow -C "$PWD" hooks pre-receive
"""

_POST_RECEIVE = """#!/bin/sh
# {mark}: rebuilds the web portal after each accepted push (installed by `xmflow hooks install
# --server --site DIR`); a failure is said to the pusher and changes nothing of the push.
exec {python} -P -m xmflow -C "$PWD" hooks post-receive --site {site}{pdf}
"""

# git's own guards: branches only grow (git applies these after the hook), and an object that is
# not well formed (a commit with no author line, a tree entry named `..`) is refused before the hook runs.
SERVER_SETTINGS = {"receive.denyNonFastForwards": "true", "receive.denyDeletes": "true", "receive.fsckObjects": "true"}


def install_site(path: Path, site: Path, pdf: bool = False) -> Path:
    """Install, in the bare repository *path*, the post-receive hook that rebuilds the portal in
    *site* after each push git accepted (``xmflow site``, with *pdf* its forms as PDF too); an
    existing hook not xmflow's is left."""
    hook = store.hooks_dir(path) / "post-receive"
    if hook.exists() and MARK not in hook.read_text(encoding="utf-8", errors="replace"):
        raise UsageError(
            _(
                "{hook} exists and is not xmflow's: it is left as it is. Add this to it instead: "
                '{python} -P -m xmflow -C "$PWD" hooks post-receive --site {site}'
            ).format(
                hook=hook, python=shlex.quote(sys.executable), site=shlex.quote(str(site)) + (" --pdf" if pdf else "")
            )
        )
    hook.write_text(
        _POST_RECEIVE.format(
            mark=MARK, python=shlex.quote(sys.executable), site=shlex.quote(str(site)), pdf=" --pdf" if pdf else ""
        ),
        encoding="utf-8",
    )
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return hook


def install(path: Path, server: bool = False) -> Path:
    """Install the hook and return its path; an existing hook that is not xmflow's is left alone
    (and nothing is changed). An older hook of xmflow's is replaced. With *server*, also sets
    :data:`SERVER_SETTINGS` in the repository's git configuration."""
    bare = store.is_bare(path)
    if server and not bare:
        raise UsageError(
            _(
                "{path} is not a bare repository: --server installs the pre-receive hook in the "
                "repository people push to (git init --bare)"
            ).format(path=path)
        )
    if not server and bare:
        raise UsageError(_("{path} is a bare repository: use --server there").format(path=path))
    name, text = ("pre-receive", _PRE_RECEIVE) if server else ("pre-commit", _PRE_COMMIT)
    hook = store.hooks_dir(path) / name
    if hook.exists() and MARK not in hook.read_text(encoding="utf-8", errors="replace"):
        python = shlex.quote(sys.executable)
        if server:
            raise UsageError(
                _(
                    "{hook} exists and is not xmflow's: it is left as it is. Add this to it instead: "
                    '{python} -P -m xmflow -C "$PWD" hooks pre-receive (with the same standard input)'
                ).format(hook=hook, python=python)
            )
        raise UsageError(
            _(
                "{hook} exists and is not xmflow's: it is left as it is. Add this to it instead: "
                "{python} -P -m xmflow check"
            ).format(hook=hook, python=python)
        )
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(text.format(mark=MARK, python=shlex.quote(sys.executable)), encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    if server:
        for key, value in SERVER_SETTINGS.items():
            store.set_config(path, key, value)
    return hook

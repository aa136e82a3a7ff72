"""Speed where people feel it: one project's status in a large workspace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

from conftest import Team, draft_contract, git, open_project, sign_contract

PROJECTS = 1000


def test_1_2_status_of_one_project_among_a_thousand_answers_in_well_under_a_second(team: Team) -> None:
    pid = open_project(team)
    draft_contract(team, pid)
    sign_contract(team, pid)
    source = team.root / "projects" / pid
    for n in range(PROJECTS - 1):
        shutil.copytree(source, team.root / "projects" / f"bulk-{n:04d}")
    git(team.root, "add", "-A")
    git(team.root, "commit", "-qm", "a thousand projects")
    command = [sys.executable, "-m", "xmflow", "-C", str(team.root), "status", pid, "--json"]
    env = {**os.environ, "GIT_AUTHOR_EMAIL": "zhangsan@example.com"}
    subprocess.run(command, capture_output=True, check=True, env=env)  # warm the file cache
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    elapsed = time.perf_counter() - started
    assert json.loads(result.stdout)["id"] == pid
    assert elapsed < 1.0, f"status of one project took {elapsed:.2f} s (whole process, start-up included)"

"""verify goes on from where it left off (issue 10): after one new commit it replays one, and
the findings are those of a full replay, whatever the checkpoint it found — missing, broken,
written by other code, or on another line of history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import Team, draft_contract, git, hand_commit, module_team, open_project, sign_contract

from xmflow.git import store
from xmflow.trust import audit, checkpoint


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A history with findings early and late: a signed contract edited by hand, then more work."""
    with module_team(tmp_path_factory, "incremental") as team:
        pid = open_project(team)
        draft_contract(team, pid)
        sign_contract(team, pid)
        contract = team.root / "projects" / pid / "contract.yaml"
        contract.write_text(contract.read_text(encoding="utf-8").replace("348000", "48000"), encoding="utf-8")
        hand_commit(team, "zhangsan", "contract: a typo")
        other = open_project(team, "20万")
        draft_contract(team, other, "19万")
        return team.root, team.clock.isoformat()


@pytest.fixture
def ws(built: tuple[Path, str], tmp_path: Path) -> Team:
    from datetime import datetime

    root = tmp_path / "ws"
    shutil.copytree(built[0], root, symlinks=True)
    shutil.rmtree(store.git_dir(root) / "xmflow" / "verified", ignore_errors=True)
    return Team(root, clock=datetime.fromisoformat(built[1]))


def verified(team: Team, *args: str) -> dict:
    result = team("wangjg", "verify", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_after_one_new_commit_verify_replays_one_with_the_findings_of_a_full_replay(ws: Team) -> None:
    first = verified(ws)
    assert first["resumed_from"] is None and first["replayed"] == ws.commits() and first["findings"]
    pid = open_project(ws, "30万")  # three commits: new, set, sign
    later = verified(ws)
    assert later["resumed_from"] == git(ws.root, "rev-parse", "HEAD~3").strip() and later["replayed"] == 3
    full = verified(ws, "--full")
    assert full["resumed_from"] is None and full["replayed"] == ws.commits()
    assert later["findings"] == full["findings"] == first["findings"]
    again = verified(ws)
    assert again["replayed"] == 0 and again["findings"] == full["findings"] and pid


def test_a_finding_after_the_checkpoint_is_found_going_on_from_it(ws: Team) -> None:
    before = verified(ws)["findings"]
    path = next((ws.root / "projects").glob("*/contract.yaml"))
    path.write_text(path.read_text(encoding="utf-8") + "notes: 改了\n", encoding="utf-8")
    bad = hand_commit(ws, "lisi", "more by hand")
    later = verified(ws)
    assert later["replayed"] == 1 and later["findings"][: len(before)] == before
    assert (
        any(f["commit"] == bad for f in later["findings"]) and later["findings"] == verified(ws, "--full")["findings"]
    )


@pytest.mark.parametrize("damage", ["garbage", "dropped-findings", "other-code", "deleted"])
def test_a_damaged_or_foreign_checkpoint_changes_no_answer(ws: Team, damage: str) -> None:
    full = verified(ws)["findings"]
    folder = store.git_dir(ws.root) / "xmflow" / "verified"
    (saved,) = folder.glob("*.json")
    if damage == "garbage":
        saved.write_bytes(b"\x00not json")
    elif damage == "dropped-findings":  # the content changed, the digest written with it not
        digest, _, body = saved.read_bytes().partition(b"\n")
        data = json.loads(body)
        data["findings"] = []
        saved.write_bytes(digest + b"\n" + json.dumps(data).encode())
    elif damage == "other-code":
        saved.rename(folder / saved.name.replace(checkpoint.code_tag(), "0" * 16))
    else:
        saved.unlink()
    again = verified(ws)
    assert again["resumed_from"] is None and again["findings"] == full


def test_a_checkpoint_on_another_line_of_history_is_not_gone_on_from(ws: Team) -> None:
    base = ws.head()
    git(ws.root, "checkout", "-q", "-b", "side")
    (ws.root / "side.txt").write_text("x\n", encoding="utf-8")
    hand_commit(ws, "lisi", "a side commit")
    verified(ws)  # a checkpoint at the side branch's tip
    git(ws.root, "checkout", "-q", "main")
    (ws.root / "main.txt").write_text("y\n", encoding="utf-8")
    hand_commit(ws, "lisi", "a main commit")
    found = audit.report(ws.root, "HEAD")
    assert found.resumed != git(ws.root, "rev-parse", "side").strip()
    assert found.resumed in ("", base) and found.findings == audit.report(ws.root, "HEAD", full=True).findings


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_a_replay_read_a_few_commits_at_a_time_finds_what_one_reading_finds(
    ws: Team, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify holds the contents of a batch of commits at a time (its memory does not grow with the
    history): however the history is cut, a project changed again after its files were let go is
    read again, and the findings are the same."""
    whole = audit.report(ws.root, "HEAD", full=True)
    monkeypatch.setattr(audit, "_BATCH", batch)
    cut = audit.report(ws.root, "HEAD", full=True)
    assert whole.findings and cut.findings == whole.findings and cut.replayed == whole.replayed == ws.commits()


def test_a_too_large_process_file_named_after_the_checkpoint_is_a_finding_going_on_from_it(ws: Team) -> None:
    """A process file committed before a checkpoint and named by xmflow.yaml after it was never
    read by the replay (nothing named it then): going on from the checkpoint, it is not read
    past xmflow's limit either, and the settings it spoils are a finding, as in a full replay."""
    from conftest import hand_commit

    from xmflow import yamlio

    exported = ws.ok("wangjg", "process", "export").stdout
    (ws.root / "big.yaml").write_text(exported + "#" * (yamlio.MAX_BYTES + 1) + "\n", encoding="utf-8")
    hand_commit(ws, "wangjg", "a process file, for later")
    verified(ws)  # the checkpoint: big.yaml is in the tree, and nothing names it
    config = ws.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "process: big.yaml\n", encoding="utf-8")
    hand_commit(ws, "wangjg", "the process is big.yaml")
    later = verified(ws)
    assert later["replayed"] == 1
    spoilt = [f for f in later["findings"] if f["kind"] == "settings-unreadable"]
    assert spoilt and all("big.yaml" in f["message"] for f in spoilt)
    assert {f["kind"] for f in verified(ws, "--full")["findings"]} >= {"settings-unreadable", "too-large"}

"""Trust in the history (SPEC §5): `verify` replays every commit, `check` looks at the working
tree, `log` tells the story, the hooks run them, and signed commits say who made each one.
Each test makes the bad history itself, with plain git, as a person would by hand."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import (
    Team,
    accepted,
    append_signoff,
    digest_now,
    draft_contract,
    git,
    hand_commit,
    isolate_git,
    keygen,
    new_team,
    open_project,
    signing,
    trailer_message,
)
from typer.testing import CliRunner

from xmflow.cli import demo
from xmflow.cli.entry import app
from xmflow.records import stages as records
from xmflow.records.workspace import Workspace
from xmflow.trust import audit

REASON = "违约责任未设上限"
SCAN = "甲方签字盖章的合同（扫描件）\n".encode()
WIDE = {"COLUMNS": "400"}  # no wrapped lines in what rich prints
# Where commits need no signature, verify says once that identities are not authenticated.
UNAUTHENTICATED_NOTE = f"note: {audit.UNAUTHENTICATED}"


@dataclass(frozen=True)
class Base:
    """A workspace built once: *done*'s contract complete (through a supervisor reject, the
    client's signature with a scan), *review*'s waiting on the supervisor's review."""

    root: Path
    clock: datetime
    done: str
    review: str


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("trust-home"), mp)
        folder = tmp_path_factory.mktemp("trust")
        team = new_team(folder / "ws")
        done = open_project(team)
        draft_contract(team, done)  # self-review 2026-09-01 10:00
        team.ok(
            "zhaoliu",
            "sign",
            done,
            "contract.supervisor_review",
            "--reject",
            "-m",
            REASON,
            at="2026-09-02T10:00:00+08:00",
        )
        team.ok("zhangsan", "set", done, "contract.warranty_months=18", at="2026-09-03T09:00:00+08:00")
        team.ok("zhangsan", "sign", done, "contract.draft")
        team.ok("zhangsan", "sign", done, "contract.self_review", at="2026-09-03T10:00:00+08:00")
        team.ok("zhaoliu", "sign", done, "contract.supervisor_review", at="2026-09-05T16:00:00+08:00")
        team.ok("qianqi", "sign", done, "contract.business_review")
        team.ok("qianqi", "sign", done, "contract.stamp")
        team.ok("zhangsan", "set", done, "contract.originals.copies=2", "contract.originals.kept_by=zhangsan")
        (folder / "scan.pdf").write_bytes(SCAN)
        team.ok(
            "zhangsan",
            "sign",
            done,
            "contract.client_sign",
            "--role",
            "client",
            "--signatory",
            "刘经理",
            "--evidence",
            str(folder / "scan.pdf"),
            "--date",
            "2026-09-05",
        )
        review = open_project(team, "50万", who="lisi")
        draft_contract(team, review, "49万", who="lisi")
        return Base(team.root, team.clock, done, review)


@pytest.fixture
def ws(base: Base, tmp_path: Path) -> Team:
    """A private copy of the base workspace, its clock where the base's stopped."""
    root = tmp_path / "ws"
    shutil.copytree(base.root, root, symlinks=True)
    return Team(root, clock=base.clock)


def verify_findings(team: Team, *args: str) -> tuple[list[dict], str]:
    """`verify` with findings: exit 1, the JSON findings and the text (one line each on stderr)."""
    as_json = team("wangjg", "verify", *args, "--json")
    assert as_json.exit_code == 1, as_json.output
    text = team("wangjg", "verify", *args, env=WIDE)
    assert text.exit_code == 1 and text.stdout == "", text.output
    return json.loads(as_json.stdout)["findings"], text.stderr


def assert_finding(
    team: Team, commit: str, project: str = "", stage: str = "", step: str = "", says: tuple[str, ...] = ()
) -> str:
    """verify fails and every finding is about *commit*: one names its project, stage and step
    and says each of *says*; returns that line as printed."""
    found, text = verify_findings(team)
    assert {f["commit"] for f in found} == {commit}, text
    match = [
        f
        for f in found
        if (f["project"], f["stage"], f["step"]) == (project, stage, step) and all(s in f["message"] for s in says)
    ]
    assert match, f"no finding on {project} {stage} {step} saying {says}:\n{text}"
    where = " ".join(filter(None, [project, stage, f"({step})" if step else ""]))
    lines = [line for line in text.splitlines() if line.startswith(f"commit {commit[:7]}")]
    line = next((line for line in lines if where in line and all(s in line for s in says)), None)
    assert line, f"no line naming commit {commit[:7]} {where} saying {says}:\n{text}"
    return line


def verified_clean(team: Team) -> None:
    result = team("wangjg", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "verified: no findings up to HEAD"
    assert " ".join(result.stderr.split()) in ("", UNAUTHENTICATED_NOTE)  # no note where commits are signed


def edit(team: Team, project: str, stage: str, old: str, new: str) -> None:
    """Change a stage file by hand."""
    path = team.root / "projects" / project / f"{stage}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def record_message(project: str, subject: str = "fix") -> str:
    """The trailers of a field edit, forged: `Xmflow-Project` and `Xmflow-Decision: record`."""
    return trailer_message(f"{project} {subject}", Project=project, Decision="record")


def forge_signoff(
    team: Team, who: str, project: str, step: str, role: str, by: str | None = None, **overrides: str
) -> str:
    """Hand-make a sign-off of *step* (in the name of *by*, default *who*) on the data as it is,
    and commit it as *who* with the trailers `xmflow sign` would write (or these *overrides*)."""
    digest = digest_now(team.root, project, step)
    at = (team.clock + timedelta(minutes=10)).isoformat()
    append_signoff(
        team.root,
        project,
        step.split(".")[0],
        step=step,
        decision="approve",
        by=by or who,
        role=role,
        at=at,
        digest=digest,
    )
    trailers = {
        "Project": project,
        "Step": step,
        "Decision": "approve",
        "Role": role,
        "Clause": Workspace(team.root).process.step(step).clause,
        "Digest": digest,
        **overrides,
    }
    return hand_commit(team, who, trailer_message(f"{project} {step}: {by or who} signs as {role}", **trailers), at=at)


# --- clean histories -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("demo-home"), mp)
        return demo.build(tmp_path_factory.mktemp("demo") / "ws")


def test_5_the_demo_verifies_clean_and_checks_quietly(demo_ws: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["-C", str(demo_ws), "verify"])
    assert result.exit_code == 0, result.output
    assert "verified: no findings" in result.stdout and " ".join(result.stderr.split()) == UNAUTHENTICATED_NOTE
    verified = json.loads(runner.invoke(app, ["-C", str(demo_ws), "verify", "--json"]).stdout)
    assert (verified["findings"], verified["acknowledged"], verified["notes"]) == ([], [], [audit.UNAUTHENTICATED])
    result = runner.invoke(app, ["-C", str(demo_ws), "check"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_5_a_whole_lifecycle_with_a_reject_and_a_scan_verifies_clean(ws: Team, base: Base) -> None:
    pid = base.done
    accepted(ws, pid)
    ws.ok("wushi", "sign", pid, "handover.endorse")
    ws.ok("wushi", "set", pid, "handover.registration_no=SH-1")
    ws.ok("wushi", "sign", pid, "handover.registration")
    ws.ok("wushi", "sign", pid, "handover.registration", "--role", "client", "--signatory", "刘经理")
    ws.ok("zhangsan", "invoice", pid, "34.8万", "--number", "FP-1")
    ws.ok("fenger", "receive", pid, "34.8万", "--ref", "工行")
    ws.ok("fenger", "sign", pid, "collection.settled")
    ws.ok(
        "zhangsan",
        "set",
        pid,
        "archive.documents={contract: true, acceptance_report: true}",
        "archive.copies={sales: true, customer_service: true}",
    )
    ws.ok("zhangsan", "sign", pid, "archive.collate")
    ws.ok("chensan", "set", pid, "archive.volume=XM-1")
    ws.ok("chensan", "sign", pid, "archive.file")
    assert ws.status(pid)["closed"] is True
    verified_clean(ws)
    assert ws.ok("wangjg", "verify", pid, "--rev", "HEAD~3").stdout.startswith("verified: no findings up to HEAD~3")
    check = ws("wangjg", "check")
    assert (check.exit_code, check.stdout, check.stderr) == (0, "", "")


# --- tampering: each kind its own finding -----------------------------------------------------


def test_5_a_signed_contract_edited_with_plain_git_is_named(ws: Team, base: Base) -> None:
    edit(ws, base.done, "contract", "amount: 348000.00", "amount: 480000.00")
    bad = hand_commit(ws, "zhangsan", "改一下金额")
    line = assert_finding(
        ws, bad, base.done, "contract", says=("contract.yaml changed outside xmflow", "no Xmflow-Project trailer")
    )
    assert line.startswith(f"commit {bad[:7]} · {base.done} contract: ")
    # verify of one project: the same; of another: nothing; up to the commit before: nothing.
    assert verify_findings(ws, base.done)[0][0]["commit"] == bad
    assert ws("wangjg", "verify", base.review).exit_code == 0
    assert ws("wangjg", "verify", "--rev", f"{bad}~1").exit_code == 0


def test_5_giving_oneself_a_role_in_people_yaml_is_named(ws: Team, base: Base) -> None:
    people = ws.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace(
            "email: lisi@example.com, roles: [sales]", "email: lisi@example.com, roles: [sales, sales_supervisor]"
        ),
        encoding="utf-8",
    )
    bad = hand_commit(ws, "lisi", "people")
    line = assert_finding(ws, bad, says=("people.yaml changed by 李四 (lisi), who is not an admin",))
    assert line.startswith(f"commit {bad[:7]}: people.yaml")


def test_5_an_admin_changing_people_yaml_is_fine(ws: Team, base: Base) -> None:
    people = ws.root / "people.yaml"
    people.write_text(
        people.read_text(encoding="utf-8").replace("roles: [sales]}", "roles: [sales, presales]}", 1)
        + "  - {id: newbie, name: 新人, email: newbie@example.com, roles: [sales]}\n",
        encoding="utf-8",
    )
    hand_commit(ws, "wangjg", "people: 新人")
    verified_clean(ws)


def test_5_xmflow_yaml_changed_by_a_non_admin_is_named(ws: Team) -> None:
    config = ws.root / "xmflow.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "key_threshold: 1亿\n", encoding="utf-8")
    bad = hand_commit(ws, "zhaoliu", "没有重点项目了")
    assert_finding(ws, bad, says=("xmflow.yaml changed by 赵六 (zhaoliu), who is not an admin",))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (f"comment: {REASON}", "comment: 同意"),
        ("digest: sha256:", "digest: sha256:0"),
    ],
    ids=["comment", "digest"],
)
def test_5_a_sign_off_rewritten_under_forged_record_trailers_is_named(ws: Team, base: Base, old: str, new: str) -> None:
    edit(ws, base.done, "contract", old, new)
    bad = hand_commit(ws, "zhaoliu", record_message(base.done))
    assert_finding(ws, bad, base.done, "contract", says=("contract.yaml: a sign-off was rewritten or removed",))


def test_5_a_deleted_sign_off_is_named(ws: Team, base: Base) -> None:
    path = ws.root / "projects" / base.done / "contract.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex("- step: contract.client_sign")], encoding="utf-8")
    bad = hand_commit(ws, "zhangsan", record_message(base.done))
    assert_finding(ws, bad, base.done, "contract", says=("a sign-off was rewritten or removed",))


def test_5_signing_for_someone_else_is_named(ws: Team, base: Base) -> None:
    bad = forge_signoff(ws, "lisi", base.review, "contract.supervisor_review", "sales_supervisor", by="zhaoliu")
    assert_finding(
        ws,
        bad,
        base.review,
        "contract",
        "contract.supervisor_review",
        says=("signed in the name of zhaoliu but committed by 李四 (lisi)",),
    )


def test_5_a_sign_off_by_someone_without_the_role_is_named(ws: Team, base: Base) -> None:
    bad = forge_signoff(ws, "hewu", base.review, "contract.supervisor_review", "sales_supervisor")
    assert_finding(
        ws,
        bad,
        base.review,
        "contract",
        "contract.supervisor_review",
        says=("signed when the procedure refused it", "何五 (hewu) may not sign as sales_supervisor"),
    )


def test_5_a_step_signed_before_its_prerequisites_is_named(ws: Team, base: Base) -> None:
    bad = forge_signoff(ws, "qianqi", base.review, "contract.business_review", "business_center")
    assert_finding(
        ws,
        bad,
        base.review,
        "contract",
        "contract.business_review",
        says=("signed when the procedure refused it", "contract.supervisor_review"),
    )


@pytest.mark.parametrize(
    ("trailer", "value", "says"),
    [
        (
            "Role",
            "business_center",
            "the sign-off in the file says role sales_supervisor, its commit says business_center",
        ),
        ("Digest", "sha256:" + "0" * 64, "its commit says sha256:" + "0" * 64),
    ],
    ids=["role", "digest"],
)
def test_5_trailers_that_disagree_with_the_file_are_named(
    ws: Team, base: Base, trailer: str, value: str, says: str
) -> None:
    bad = forge_signoff(
        ws, "zhaoliu", base.review, "contract.supervisor_review", "sales_supervisor", **{trailer: value}
    )
    assert_finding(ws, bad, base.review, "contract", "contract.supervisor_review", says=(says,))


def supervisor_trailers(ws: Team, project: str) -> str:
    """The message of zhaoliu's supervisor review of *project*, as `xmflow sign` would write it."""
    step = "contract.supervisor_review"
    return trailer_message(
        f"{project} {step}: zhaoliu signs as sales_supervisor",
        Project=project,
        Step=step,
        Decision="approve",
        Role="sales_supervisor",
        Clause="3.5.2",
        Digest=digest_now(ws.root, project, step),
    )


def test_5_a_sign_off_commit_whose_files_add_no_sign_off_is_named(ws: Team, base: Base) -> None:
    path = ws.root / "projects" / base.review / "contract.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# 已审\n", encoding="utf-8")
    bad = hand_commit(ws, "zhaoliu", supervisor_trailers(ws, base.review))
    assert_finding(
        ws,
        bad,
        base.review,
        "contract",
        "contract.supervisor_review",
        says=("add no sign-off", "a commit with no matching signature"),
    )


def test_5_an_empty_commit_with_sign_off_trailers_is_named(ws: Team, base: Base) -> None:
    """A Step trailer and nothing signed: `log` lists only what changed the records, and verify
    says the commit signed nothing."""
    git(
        ws.root,
        "-c",
        "user.email=zhaoliu@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        supervisor_trailers(ws, base.review),
    )
    bad = ws.head()
    entries = ws.json("wangjg", "log", base.review)["entries"]
    assert bad not in [e["commit"] for e in entries]
    assert_finding(ws, bad, base.review, "contract", "contract.supervisor_review", says=("no matching signature",))


def test_5_verify_of_a_revision_that_does_not_exist_is_bad_usage(ws: Team) -> None:
    result = ws("wangjg", "verify", "--rev", "no-such-rev")
    assert result.exit_code == 2, result.output
    assert "no-such-rev" in result.output and "verified" not in result.output


def test_5_a_replaced_scan_is_named_by_check_and_verify(ws: Team, base: Base) -> None:
    scans = list((ws.root / "projects" / base.done / "files").iterdir())
    assert len(scans) == 1 and scans[0].read_bytes() == SCAN
    scans[0].write_bytes("甲方未签字\n".encode())
    check = ws("wangjg", "check", env=WIDE)
    assert check.exit_code == 1 and check.stdout == ""
    assert f"the scan files/{scans[0].name} is not the one signed" in check.stderr
    assert f"projects/{base.done}/files/{scans[0].name}: the scan of a signed paper was changed" in check.stderr
    bad = hand_commit(ws, "zhangsan", record_message(base.done, "换扫描件"))
    assert_finding(ws, bad, base.done, says=(f"files/{scans[0].name}: the scan of a signed paper was changed",))


def test_5_a_completed_stage_changed_without_reopen_is_named_but_reopen_is_clean(ws: Team, base: Base) -> None:
    edit(ws, base.done, "contract", "warranty_months: 18", "warranty_months: 6")
    bad = hand_commit(ws, "zhangsan", record_message(base.done, "set contract.warranty_months"))
    assert_finding(ws, bad, base.done, "contract", says=("changed without --reopen",))
    git(ws.root, "reset", "-q", "--hard", "HEAD~1")
    ws.ok("zhangsan", "set", base.done, "contract.warranty_months=6", "--reopen", "-m", "客户要求缩短质保")
    verified_clean(ws)


@pytest.mark.parametrize("by", ["zhangsan", "fenger"], ids=["in-zhangsans-name", "by-someone-who-may-not-reopen"])
def test_5_a_reopen_made_by_hand_by_someone_who_may_not_reopen_is_named(ws: Team, base: Base, by: str) -> None:
    """`set --reopen` lets only someone who signs in the stage (or an admin) reopen it, and as
    themselves: fenger (finance) forges the reopen of zhangsan's completed contract."""
    workspace = Workspace(ws.root)
    stage = workspace.process.stage("contract")
    digest = records.digest(stage, workspace.project(base.done).record("contract").data)
    edit(ws, base.done, "contract", "warranty_months: 18", "warranty_months: 6")
    at = (ws.clock + timedelta(minutes=10)).isoformat()
    append_signoff(
        ws.root,
        base.done,
        "contract",
        step="contract",
        decision="reopen",
        by=by,
        role="sales",
        at=at,
        digest=digest,
        comment="客户要求缩短质保",
    )
    bad = hand_commit(
        ws,
        "fenger",
        trailer_message(
            f"{base.done} set contract.warranty_months", Project=base.done, Decision="reopen", Stage="contract"
        ),
        at=at,
    )
    found, text = verify_findings(ws)
    assert {f["commit"] for f in found} == {bad}, text
    assert any("fenger" in f["message"] and f["project"] == base.done for f in found), text


# --- signed commits (SSH) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """Throw-away SSH keys: each person's private key file, and one nobody listed."""

    files: dict[str, Path]
    stray: Path


@pytest.fixture(scope="module")
def signed_base(base: Base, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime, Keys]:
    """The base workspace where the admin listed everyone's key, then required signed commits
    (in a signed commit of his own)."""
    folder = tmp_path_factory.mktemp("signed")
    keys = Keys(
        {who: keygen(folder, who) for who in ("wangjg", "zhangsan", "lisi", "zhaoliu", "qianqi")},
        keygen(folder, "stray"),
    )
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("signed-home"), mp)
        team = Team(folder / "ws", clock=base.clock)
        shutil.copytree(base.root, team.root, symlinks=True)
        people = team.root / "people.yaml"
        text = people.read_text(encoding="utf-8")
        for who, key in keys.files.items():
            public = " ".join(key.with_suffix(".pub").read_text(encoding="utf-8").split()[:2])
            line = next(line for line in text.splitlines() if f"{{id: {who}," in line)
            text = text.replace(line, line[:-1] + f", signing_key: {public}}}")
        people.write_text(text, encoding="utf-8")
        hand_commit(team, "wangjg", "people: signing keys")
        config = team.root / "xmflow.yaml"
        config.write_text(config.read_text(encoding="utf-8") + "require_signed_commits: true\n", encoding="utf-8")
        hand_commit(team, "wangjg", "require signed commits", env=signing(keys.files["wangjg"]))
        return team.root, team.clock, keys


@pytest.fixture
def signed(signed_base: tuple[Path, datetime, Keys], tmp_path: Path) -> tuple[Team, Keys]:
    root, clock, keys = signed_base
    shutil.copytree(root, tmp_path / "ws", symlinks=True)
    return Team(tmp_path / "ws", clock=clock), keys


def test_5_signed_xmflow_commits_verify_clean(signed: tuple[Team, Keys], base: Base) -> None:
    team, keys = signed
    team.ok("zhaoliu", "sign", base.review, "contract.supervisor_review", env=signing(keys.files["zhaoliu"]))
    team.ok("qianqi", "sign", base.review, "contract.business_review", env=signing(keys.files["qianqi"]))
    team.ok("lisi", "set", base.review, "contract.originals.copies=2", env=signing(keys.files["lisi"]))
    assert "-----BEGIN SSH SIGNATURE-----" in git(team.root, "cat-file", "commit", "HEAD")  # xmflow let git sign
    verified_clean(team)  # the unsigned commits before the switch are not findings


def test_5_an_unsigned_commit_after_the_switch_is_named(signed: tuple[Team, Keys], base: Base) -> None:
    team, keys = signed
    team.ok("zhaoliu", "sign", base.review, "contract.supervisor_review", env=signing(keys.files["zhaoliu"]))
    team.ok("qianqi", "sign", base.review, "contract.business_review")
    assert_finding(team, team.head(), base.review, says=("is not signed (xmflow.yaml requires signed commits)",))


def test_5_a_commit_signed_with_a_key_people_yaml_does_not_list_is_named(signed: tuple[Team, Keys], base: Base) -> None:
    team, keys = signed
    team.ok("zhaoliu", "sign", base.review, "contract.supervisor_review", env=signing(keys.stray))
    assert_finding(team, team.head(), base.review, says=("a key people.yaml does not list",))


def test_5_a_commit_signed_with_another_persons_key_is_named(signed: tuple[Team, Keys], base: Base) -> None:
    team, keys = signed
    team.ok("zhaoliu", "sign", base.review, "contract.supervisor_review", env=signing(keys.files["lisi"]))
    assert_finding(
        team,
        team.head(),
        base.review,
        says=("is signed with lisi@example.com's key, but its author is zhaoliu@example.com",),
    )


# --- the client's hook: advice ----------------------------------------------------------------


def test_5_the_pre_commit_hook_runs_check_and_refuses_a_hand_edit_of_a_completed_stage(ws: Team, base: Base) -> None:
    installed = ws.ok("wangjg", "hooks", "install")
    hook = ws.root / ".git" / "hooks" / "pre-commit"
    assert f"installed {hook}" in installed.output
    assert hook.stat().st_mode & stat.S_IXUSR and "xmflow check" in hook.read_text(encoding="utf-8")
    assert ws.ok("wangjg", "hooks", "install").exit_code == 0  # twice is fine
    before = ws.head()
    edit(ws, base.done, "contract", "warranty_months: 18", "warranty_months: 6")
    git(ws.root, "add", "-A")
    refused = subprocess.run(
        ["git", "-C", str(ws.root), "-c", "user.email=zhangsan@example.com", "commit", "-qm", "x"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and ws.head() == before
    assert f"projects/{base.done}/contract.yaml" in refused.stderr and "--reopen" in refused.stderr
    git(ws.root, "reset", "-q", "--hard")
    ws.ok("zhangsan", "set", base.done, "contract.warranty_months=6", "--reopen", "-m", "客户要求缩短质保")
    assert git(ws.root, "rev-parse", "HEAD~1").strip() == before


def test_5_a_foreign_pre_commit_hook_is_left_alone(ws: Team) -> None:
    hook = ws.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nnpm test\n", encoding="utf-8")
    result = ws("wangjg", "hooks", "install", env=WIDE)
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "exists and is not xmflow's" in message and "-m xmflow check" in message
    assert hook.read_text(encoding="utf-8") == "#!/bin/sh\nnpm test\n"


def test_5_a_server_hook_needs_a_bare_repository(ws: Team) -> None:
    result = ws("wangjg", "hooks", "install", "--server")
    assert result.exit_code == 2 and "not a bare repository" in " ".join(result.output.split())
    assert not (ws.root / ".git" / "hooks" / "pre-receive").exists()


def test_5_the_pre_commit_framework_hook_is_declared() -> None:
    declared = yaml.safe_load((Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in declared if h["id"] == "xmflow-check")
    assert hook["entry"] == "xmflow check" and hook["pass_filenames"] is False


# --- check: the working tree ------------------------------------------------------------------


def check_problems(team: Team) -> str:
    result = team("wangjg", "check", env=WIDE)
    assert result.exit_code == 1 and result.stdout == "", result.output
    return result.stderr


def test_5_check_names_the_file_and_line_of_a_syntax_error(ws: Team, base: Base) -> None:
    path = ws.root / "projects" / base.review / "contract.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("template:"))
    lines[at] = "template: company: client"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_problems(ws)
    assert problems.startswith(f"projects/{base.review}/contract.yaml:{at + 1}"), problems


def test_5_check_names_a_sign_off_by_someone_not_in_people_yaml(ws: Team, base: Base) -> None:
    append_signoff(
        ws.root,
        base.review,
        "contract",
        step="contract.supervisor_review",
        decision="approve",
        by="ghost",
        role="sales_supervisor",
        at="2026-09-06T09:00:00+08:00",
        digest=digest_now(ws.root, base.review, "contract.supervisor_review"),
    )
    problems = check_problems(ws)
    assert (
        f"projects/{base.review}/contract.yaml: sign-off 3 (contract.supervisor_review): ghost is not in "
        "people.yaml" in problems
    )


def test_5_check_names_an_uncommitted_edit_of_a_completed_stage(ws: Team, base: Base) -> None:
    edit(ws, base.done, "contract", "warranty_months: 18", "warranty_months: 6")
    problems = check_problems(ws)
    assert f"projects/{base.done}/contract.yaml: stage contract (contract) is complete" in problems  # English: title_en
    assert "xmflow set --reopen -m WHY" in problems


def test_5_check_names_an_uncommitted_removal_of_a_sign_off(ws: Team, base: Base) -> None:
    path = ws.root / "projects" / base.review / "contract.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex("- step: contract.self_review")], encoding="utf-8")
    problems = check_problems(ws)
    assert f"projects/{base.review}/contract.yaml: a sign-off was rewritten or removed" in problems


# --- log: the audit trail ---------------------------------------------------------------------


def test_5_log_tells_the_story_with_the_reject_loop_waits_and_the_scan(base: Base) -> None:
    team = Team(base.root, clock=base.clock)
    trail = team.json("wangjg", "log", base.done)
    entries = trail["entries"]
    assert [(e["decision"], e["step"]) for e in entries] == [
        ("record", None),
        ("record", None),
        ("approve", "initiation.submit"),
        ("record", None),
        ("approve", "contract.draft"),
        ("approve", "contract.self_review"),
        ("reject", "contract.supervisor_review"),
        ("record", None),
        ("approve", "contract.draft"),
        ("approve", "contract.self_review"),
        ("approve", "contract.supervisor_review"),
        ("approve", "contract.business_review"),
        ("approve", "contract.stamp"),
        ("record", None),
        ("approve", "contract.client_sign"),
    ]
    assert {e["project"] for e in entries} == {base.done}
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    reject, resign, approve, client = entries[6], entries[8], entries[10], entries[14]
    assert (reject["who"], reject["role"], reject["note"]) == ("赵六", "sales_supervisor", REASON)
    assert reject["waited_days"] == 1.0  # since the self-review, 2026-09-01 10:00
    assert resign["waited_days"] == 0.97  # since the reject sent the work back to the draft
    assert (approve["who"], approve["at"]) == ("赵六", "2026-09-05T16:00:00+08:00")
    assert approve["waited_days"] == 2.25  # since the self-review signed again, 2026-09-03 10:00
    assert (client["who"], client["role"], client["signatory"]) == ("张三", "client", "刘经理")
    assert client["evidence"] == "sha256:" + hashlib.sha256(SCAN).hexdigest()
    assert entries[12]["who"] == "钱七" and entries[0]["who"] == "张三"
    assert all(len(e["commit"]) == 40 for e in entries)
    assert trail["loops"] == [
        {
            "project": base.done,
            "step": "contract.supervisor_review",
            "rejected_at": "2026-09-02T10:00:00+08:00",
            "by": "赵六",
            "reason": REASON,
            "back_to": "contract.draft",
            "resolved_at": "2026-09-05T16:00:00+08:00",
        }
    ]
    everything = team.json("wangjg", "log")["entries"]
    assert {e["project"] for e in everything} == {base.done, base.review}


def test_5_log_prints_a_table_in_chinese(base: Base) -> None:
    team = Team(base.root, clock=base.clock)
    out = team.ok("wangjg", "--lang", "zh", "log", base.done, env=WIDE).stdout
    for header in ("时间", "项目", "步骤", "决定", "经办人", "角色", "说明", "等待(天)", "提交"):
        assert header in out, header
    assert "刘经理 ← 张三" in out and REASON in out and "退回" in out and "主管" in out
    assert f"退回 {base.done} contract.supervisor_review → contract.draft：赵六 2026-09-02“{REASON}”" in out


def test_5_log_of_an_unknown_project_is_bad_usage(base: Base) -> None:
    result = Team(base.root)("wangjg", "log", "2026-999")
    assert result.exit_code == 2 and "no project '2026-999'" in result.output


def test_4_0_a_receipt_recorded_by_hand_by_sales_is_named(ws: Team, base: Base) -> None:
    """Receipts are finance's (4.0): one written into the ledger by sales with forged trailers is named."""
    path = ws.root / "projects" / base.done / "collection.yaml"
    path.write_text("receipts:\n  - {amount: '1000.00', date: 2026-10-20, by: zhangsan}\n", encoding="utf-8")
    bad = hand_commit(ws, "zhangsan", record_message(base.done, "receipts: ¥1,000.00"))
    assert_finding(
        ws, bad, base.done, "collection", says=("collection.receipts: recorded by 张三 (zhangsan)", "finance")
    )


def test_4_0_a_ledger_entry_changed_afterwards_is_named(ws: Team, base: Base) -> None:
    ws.ok("fenger", "receive", base.done, "1000", "--ref", "回单1")
    edit(ws, base.done, "collection", "amount: 1000.00", "amount: 100000.00")
    bad = hand_commit(ws, "fenger", record_message(base.done, "fix receipt"))
    assert_finding(ws, bad, base.done, "collection", says=("an entry was changed or removed",))


def test_5_log_shows_a_change_made_outside_xmflow(ws: Team, base: Base) -> None:
    edit(ws, base.done, "contract", "warranty_months: 18", "warranty_months: 6")
    bad = hand_commit(ws, "lisi", "fix warranty")
    last = ws.json("wangjg", "log", base.done)["entries"][-1]
    assert (last["commit"], last["decision"], last["who"], last["subject"]) == (bad, "outside", "李四", "fix warranty")
    assert "非xmflow修改" in ws.ok("wangjg", "--lang", "zh", "log", base.done, env=WIDE).stdout


def test_5_verify_of_an_unknown_project_is_bad_usage(ws: Team) -> None:
    result = ws("wangjg", "verify", "2026-999")
    assert result.exit_code == 2 and "no project '2026-999'" in result.output


def test_log_keeps_to_the_last_changes_or_those_since_a_day_and_pipes_as_lines(base: Base) -> None:
    team = Team(base.root, clock=base.clock)
    everything = team.json("wangjg", "log")["entries"]
    last = team.json("wangjg", "log", "-n", "3")["entries"]
    assert last == everything[-3:]
    day = everything[-1]["at"][:10]
    since = team.json("wangjg", "log", "--since", day)["entries"]
    assert since == [e for e in everything if e["at"][:10] >= day] and since
    assert team("wangjg", "log", "--since", "yesterday").exit_code == 2
    assert team("wangjg", "log", "-n", "0").exit_code == 2
    lines = team.ok(
        "wangjg", "--lang", "zh", "log", "-n", "2"
    ).stdout.splitlines()  # captured, as a pipe: a header and a line each
    assert lines[0].split("\t")[:3] == ["时间", "项目", "步骤"] and len(lines) >= 3
    assert all(line.count("\t") == 8 for line in lines[:3])
    assert lines[2].split("\t")[-1] == everything[-1]["commit"][:7]

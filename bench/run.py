"""Time xmflow's commands against git and YAML doing the same work: ``bench/run.py DEST``.

Each command of issue 10's table runs through the installed xmflow of this interpreter
(``python -m xmflow -C DEST …``) next to its reference — what the command cannot do less than
(start Python and import yaml, commit with git, read the history with git, parse every record)
— in the same run, on the same machine load, so the ratio means something where seconds alone
do not. Each is run once to warm up, then --repeat times; the table shows medians.

Seconds are CPU seconds (user + system) of the command and every process it waited for
(git), from ``os.wait4`` of each child: the rusage of that child alone, which is what deltas
of ``getrusage(RUSAGE_CHILDREN)`` give but without mixing in other children. Wall seconds and
the peak resident memory (the largest of the process and its children) are shown beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

XMFLOW = [sys.executable, "-m", "xmflow"]
PARSE_RECORDS = (
    "import pathlib, sys, yaml\n"
    "for p in sorted(pathlib.Path(sys.argv[1], 'projects').glob('*/*.yaml')):\n"
    "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n"
)


@dataclass(frozen=True)
class Sample:
    """One timed run: CPU and wall seconds, peak memory (MB), and how it ended."""

    cpu: float
    wall: float
    rss_mb: float
    outcome: str  # "ok", "exit N" or "timeout"
    error: str = ""


@dataclass(frozen=True)
class Goal:
    """The issue's goal for a command: at most *seconds*, at most *ratio* × its reference, or
    both; *note* is a goal this benchmark does not measure (it is shown, not judged)."""

    seconds: float | None = None
    ratio: float | None = None
    note: str = ""

    def __str__(self) -> str:
        parts = [
            f"≤ {self.seconds:g} s" if self.seconds is not None else "",
            f"≤ {self.ratio:g}×" if self.ratio is not None else "",
            self.note,
        ]
        return "; ".join(p for p in parts if p)

    def met(self, seconds: float, ratio: float | None) -> bool:
        return (self.seconds is None or seconds <= self.seconds) and (
            self.ratio is None or (ratio is not None and ratio <= self.ratio)
        )


@dataclass
class Bench:
    """A command to time: one or more programs run in a row (timed together), with what to do
    before and after each run so every run starts from the same workspace."""

    name: str
    commands: list[list[str]]
    reference: str = ""
    goal: Goal = field(default_factory=Goal)
    setup: Callable[[], None] = lambda: None
    teardown: Callable[[], None] = lambda: None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    bench: Bench
    samples: list[Sample]

    @property
    def outcome(self) -> str:
        return next((s.outcome for s in self.samples if s.outcome != "ok"), "ok")

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return max(s.rss_mb for s in self.samples)


def wait(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, float, float, bool]:
    """Wait for *proc* with ``os.wait4``, killing its process group after *timeout*: its exit
    code, CPU seconds, peak memory in MB, and whether it was killed."""
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(max(timeout, 0), kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return proc.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, killed.is_set()


# xmflow as a user has it reads its modules' bytecode cache; where the environment forbids
# writing one (PYTHONDONTWRITEBYTECODE), every run would time Python compiling xmflow again.
RUN_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(commands: list[list[str]], env: dict[str, str], timeout: float) -> Sample:
    """Run *commands* in a row; stop at the first that fails or outlives what is left of *timeout*."""
    cpu = rss = 0.0
    started = time.perf_counter()
    for argv in commands:
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**RUN_ENV, **env},
                start_new_session=True,
            )
            code, used, peak, killed = wait(proc, timeout - (time.perf_counter() - started))
            cpu, rss = cpu + used, max(rss, peak)
            if code != 0:
                err.seek(0)
                message = " / ".join(err.read().decode(errors="replace").strip().splitlines()[-3:])
                return Sample(cpu, time.perf_counter() - started, rss, "timeout" if killed else f"exit {code}", message)
    return Sample(cpu, time.perf_counter() - started, rss, "ok")


def measure(bench: Bench, repeat: int, timeout: float) -> Result:
    """A warm-up run, then *repeat* timed ones; a failed or timed-out run ends the series (five
    more timeouts would tell nothing new)."""
    samples = []
    for i in range(repeat + 1):
        bench.setup()
        try:
            sample = run_once(bench.commands, bench.env, timeout)
        finally:
            bench.teardown()
        if i > 0 or sample.outcome != "ok":
            samples.append(sample)
        if sample.outcome != "ok":
            break
    return Result(bench, samples)


def git(dest: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(dest), *args], check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}
    ).stdout


def xmflow(dest: Path, *args: str) -> list[str]:
    return [*XMFLOW, "-C", str(dest), *args]


def identity(email: str) -> dict[str, str]:
    """Who signs: the author (xmflow's actor) and the committer, as in the demo."""
    return {
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_NAME": email,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_NAME": email,
    }


@dataclass(frozen=True)
class Signable:
    """A step someone may sign now, and what its sign-off commits (to repeat with plain git)."""

    project: str
    step: str
    email: str
    path: str = ""
    content: bytes = b""
    message: str = ""


def find_signable(dest: Path) -> Signable:
    """The newest project with a company step waiting on a named person with nothing missing
    (in the demo's data: a contract waiting for the business centre's review, and others)."""
    emails = {p["id"]: p["email"] for p in yaml.safe_load((dest / "people.yaml").read_text("utf-8"))["people"]}
    for project in sorted((p.name for p in (dest / "projects").iterdir() if p.is_dir()), reverse=True):
        status = json.loads(
            subprocess.run(xmflow(dest, "status", project, "--json"), check=True, capture_output=True).stdout
        )
        for step in status["next"]:
            if step["people"] and not step["missing"] and "client" not in step["roles"]:
                return Signable(project, step["step"], emails[step["people"][0]])
    raise SystemExit(f"{dest}: no project has a step that someone may sign now")


def with_commit(dest: Path, case: Signable) -> Signable:
    """*case* with the file, content and message its sign-off commits: signed once, then undone."""
    head = git(dest, "rev-parse", "HEAD").strip()
    subprocess.run(
        xmflow(dest, "sign", case.project, case.step),
        check=True,
        capture_output=True,
        env={**os.environ, **identity(case.email)},
    )
    (path,) = git(dest, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD").split()
    content = subprocess.run(["git", "-C", str(dest), "show", f"HEAD:{path}"], check=True, capture_output=True).stdout
    message = git(dest, "log", "-1", "--format=%B")
    git(dest, "reset", "-q", "--hard", head)
    return Signable(case.project, case.step, case.email, path, content, message)


def undo_to(dest: Path, head: str) -> Callable[[], None]:
    return lambda: git(dest, "reset", "-q", "--hard", head)


def references(dest: Path, case: Signable) -> list[Bench]:
    """What each command is held against, as the issue names them."""
    head = git(dest, "rev-parse", "HEAD").strip()
    return [
        Bench("python -c 'import yaml'", [[sys.executable, "-c", "import yaml"]]),
        Bench(
            "git add + git commit",
            [["git", "-C", str(dest), "add", case.path], ["git", "-C", str(dest), "commit", "-q", "-m", case.message]],
            setup=lambda: (dest / case.path).write_bytes(case.content),
            teardown=undo_to(dest, head),
            env=identity(case.email),
        ),
        Bench("git log --format=%B", [["git", "-C", str(dest), "log", "--format=%B"]]),
        Bench(
            f"git log -- projects/{case.project}", [["git", "-C", str(dest), "log", "--", f"projects/{case.project}"]]
        ),
        Bench("parse every record (CSafeLoader)", [[sys.executable, "-c", PARSE_RECORDS, str(dest)]]),
    ]


def checkpoint_before(dest: Path) -> None:
    """Leave verify's only checkpoint at the commit before the tip: the next verify replays one."""
    shutil.rmtree(dest / ".git" / "xmflow" / "verified", ignore_errors=True)
    subprocess.run(xmflow(dest, "verify", "--rev", "HEAD~1"), capture_output=True, check=False)


def commands(dest: Path, case: Signable) -> list[Bench]:
    """The issue's table, in its order, with its goals."""
    head = git(dest, "rev-parse", "HEAD").strip()
    records, history = "parse every record (CSafeLoader)", "git log --format=%B"
    cold = lambda: shutil.rmtree(dest / ".git" / "xmflow", ignore_errors=True)  # every cache xmflow keeps
    return [
        Bench("status (portfolio), warm", [xmflow(dest, "status")], records, Goal(seconds=1)),
        Bench("status (portfolio), cold", [xmflow(dest, "status")], records, Goal(ratio=1.2), setup=cold),
        Bench("status --json, warm", [xmflow(dest, "status", "--json")], records, Goal(seconds=0.5)),
        Bench(
            f"status {case.project}", [xmflow(dest, "status", case.project)], "python -c 'import yaml'", Goal(ratio=3)
        ),
        Bench(
            f"sign {case.project} {case.step}",
            [xmflow(dest, "sign", case.project, case.step)],
            "git add + git commit",
            Goal(ratio=2),
            teardown=undo_to(dest, head),
            env=identity(case.email),
        ),
        Bench("verify --full (the whole history)", [xmflow(dest, "verify", "--full")], history, Goal(ratio=3)),
        Bench(
            "verify, one commit new since the last",
            [xmflow(dest, "verify")],
            history,
            Goal(seconds=1),
            setup=lambda: checkpoint_before(dest),
        ),
        Bench("log", [xmflow(dest, "log")], history, Goal(ratio=3)),
        Bench("ar", [xmflow(dest, "ar")], records, Goal(seconds=1)),
        Bench("check", [xmflow(dest, "check")], records, Goal(seconds=1)),
        Bench(
            f"render {case.project} form2",
            [xmflow(dest, "render", case.project, "form2")],
            f"git log -- projects/{case.project}",
            Goal(seconds=0.5),
        ),
    ]


def machine() -> dict[str, str]:
    """Where the figures come from."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    git_version = subprocess.run(["git", "--version"], check=True, capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "git": git_version,
        "system": platform.platform(),
    }


def workspace(dest: Path) -> dict[str, int]:
    projects = sum(1 for p in (dest / "projects").iterdir() if p.is_dir())
    return {"projects": projects, "commits": int(git(dest, "rev-list", "--count", "HEAD"))}


def rows(results: list[Result], refs: dict[str, Result]) -> list[dict[str, object]]:
    """The table: each command with its reference, the ratio of their CPU medians and the goal."""
    table = []
    for r in results:
        ref = refs[r.bench.reference]
        ratio = r.cpu / ref.cpu if ref.cpu and r.outcome == "ok" and ref.outcome == "ok" else None
        table.append(
            {
                "command": r.bench.name,
                "outcome": r.outcome,
                "cpu_s": r.cpu,
                "wall_s": r.wall,
                "max_rss_mb": r.rss_mb,
                "reference": ref.bench.name,
                "reference_cpu_s": ref.cpu,
                "reference_outcome": ref.outcome,
                "ratio": ratio,
                "goal": str(r.bench.goal),
                "goal_met": r.outcome == "ok" and r.bench.goal.met(r.cpu, ratio),
                "errors": [s.error for s in (*r.samples, *ref.samples) if s.error],
            }
        )
    return table


def print_table(table: list[dict[str, object]]) -> None:
    header = ("command", "cpu s", "wall s", "max RSS", "reference", "ref cpu s", "ratio", "goal", "met")
    lines = [header]
    for row in table:
        cpu = f"{row['cpu_s']:.3f}" if row["outcome"] == "ok" else f"{row['outcome']} ({row['cpu_s']:.1f})"
        ratio = f"{row['ratio']:.1f}×" if row["ratio"] is not None else "—"
        lines.append(
            (
                str(row["command"]),
                cpu,
                f"{row['wall_s']:.3f}",
                f"{row['max_rss_mb']:.0f} MB",
                str(row["reference"]),
                f"{row['reference_cpu_s']:.3f}",
                ratio,
                str(row["goal"]),
                "yes" if row["goal_met"] else "no",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    for row in table:
        for error in row["errors"]:
            print(f"{row['command']}: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="a workspace made by bench/build.py")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each command (default 5)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one run may take (default 600)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON to FILE too")
    parser.add_argument(
        "--only",
        metavar="TEXT",
        action="append",
        default=[],
        help="time only the commands whose name holds TEXT (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    dest = args.dest.resolve()
    info = {
        "machine": machine(),
        "workspace": workspace(dest),
        "repeat": args.repeat,
        "seconds": "CPU (user + system) of the command and its children, median",
    }
    print(
        f"{dest}: {info['workspace']['projects']} projects, {info['workspace']['commits']} commits; "
        f"medians of {args.repeat} runs after one warm-up"
    )
    print("machine: {cpu}, {nproc} cores, Python {python}, {git}".format(**info["machine"]))
    case = with_commit(dest, find_signable(dest))
    chosen = [b for b in commands(dest, case) if not args.only or any(text in b.name for text in args.only)]
    wanted = {b.reference for b in chosen}
    refs = {b.name: measure(b, args.repeat, args.timeout) for b in references(dest, case) if b.name in wanted}
    results = [measure(b, args.repeat, args.timeout) for b in chosen]
    table = rows(results, refs)
    print_table(table)
    if args.json:
        args.json.write_text(json.dumps({**info, "rows": table}, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()

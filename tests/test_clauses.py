"""Every clause of the procedure is named by at least one test, and the process covers them all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from xmflow.procedure import parser

PURPOSE_AND_SCOPE = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]
WORKFLOW = [
    "3.1.1",
    "3.1.2",
    "3.1.3",
    "3.2.1",
    "3.2.2",
    "3.2.3",
    "3.3.1",
    "3.3.2",
    "3.3.3",
    "3.4.1",
    "3.4.2",
    "3.5.1",
    "3.5.2",
    "3.5.3",
    "3.5.4",
    "3.6.1",
    "3.6.2",
    "3.7.1",
    "3.7.2",
    "3.7.3",
    "3.8.1",
    "3.8.2",
    "3.9.1",
    "3.9.2",
    "3.9.3",
    "4.0",
    "4.1",
    "4.2",
]


def clauses_of(text: str) -> set[str]:
    """``3.4.1–3.4.2`` → both ends and what lies between; ``3.5.3, 3.6.1`` → both; ``3.1.2 C`` → 3.1.2."""
    found: set[str] = set()
    for part in re.split(r",\s*", text):
        ends = [re.match(r"[\d.]+", end.strip()).group(0) for end in part.split("–")]
        if len(ends) == 2:
            prefix, first, last = (
                ends[0].rsplit(".", 1)[0],
                int(ends[0].rsplit(".", 1)[1]),
                int(ends[1].rsplit(".", 1)[1]),
            )
            found.update(f"{prefix}.{n}" for n in range(first, last + 1))
        else:
            found.add(ends[0])
    return found


def test_2_1_the_default_process_covers_every_clause_from_3_1_to_4_2() -> None:
    process = parser.load(None)
    covered = set().union(*(clauses_of(step.clause) for step in process.steps if step.clause))  # withdrawal: none
    assert covered == set(WORKFLOW)


def test_every_clause_is_named_by_a_test() -> None:
    names: list[str] = []
    for path in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names += [
            node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        ]
    missing = [
        c
        for c in PURPOSE_AND_SCOPE + WORKFLOW
        if not any(name.startswith("test_" + c.replace(".", "_") + "_") for name in names)
    ]
    assert missing == []

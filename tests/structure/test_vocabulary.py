"""One vocabulary of problems: every type is a class in services/kernel/errors.py, listed in
docs/contracts.md, and nothing else spells a problem slug."""

from __future__ import annotations

import ast
import re

from services.kernel import errors
from tests.structure.imports import ROOT, project_modules

ERRORS_FILE = ROOT / "services" / "kernel" / "errors.py"


def problem_classes() -> list[type[errors.JiyueError]]:
    found = []
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.JiyueError):
            found.append(value)
    return found


def test_slugs_are_unique() -> None:
    slugs = [cls.slug for cls in problem_classes()]
    assert sorted(s for s in set(slugs) if slugs.count(s) > 1) == []


def test_no_problem_type_is_defined_or_spelled_outside_the_kernel() -> None:
    offenders = []
    for name, path in project_modules().items():
        if path == ERRORS_FILE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else []
                    if any(isinstance(t, ast.Name) and t.id == "slug" for t in targets):
                        offenders.append(f"{name}:{node.lineno} class {node.name} defines a slug")
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.left, ast.Name)
                and node.left.id == "PROBLEM_BASE"
                and isinstance(node.right, ast.Constant)
            ):
                offenders.append(f"{name}:{node.lineno} spells PROBLEM_BASE + {node.right.value!r}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "/problems/" in node.value:
                offenders.append(f"{name}:{node.lineno} spells a problem URI")
    assert offenders == [], "\n".join(offenders)


def test_every_problem_type_is_in_the_contracts_table() -> None:
    text = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    rows = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\| `([a-z-]+)` \| (\d{3}) \|", text, re.M)}
    listed = {cls.slug: cls.status for cls in problem_classes()}
    assert rows == listed

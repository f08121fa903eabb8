"""No dead code: every module-level function, class, constant and method of lgcaa/ and baselines/ has a caller
in the package or the rule files. Tests do not count as callers (a name only the tests call is dead code with a
test). An ast pass: a name is used when it is read (a Name, an attribute, an import) anywhere but where it is
defined, or appears as a word of a rule file (workflow/*.smk, Snakefile)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# test-only names kept on purpose, each with its reason (keep this short: a name here is a decision, not a default)
KEPT = {
    "layout_problems": "lgcaa/figures/draw.py: the figures' layout check, run by the figure tests on every figure "
                       "type (97373fd); its owner decides whether rendering calls it too",
    "x0_error_gain": "lgcaa/model/dpacm.py: the x0 error gain docs/interpretation.md cites, printed by its test "
                     "(c37edb0); its owner decides whether the loss uses it",
}


def _sources() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text()) for d in ("lgcaa", "baselines") for p in sorted((REPO / d).rglob("*.py"))}


def definitions(trees: dict[Path, ast.Module]) -> list[tuple[Path, int, str, ast.AST]]:
    """(file, line, qualified name, node) of module-level functions, classes, constants and class methods."""
    out = []
    for p, tree in trees.items():
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                out.append((p, node.lineno, node.name, node))
                if isinstance(node, ast.ClassDef):
                    out += [(p, s.lineno, f"{node.name}.{s.name}", s) for s in node.body
                            if isinstance(s, ast.FunctionDef) and not s.name.startswith("__")]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                out += [(p, node.lineno, t.id, t) for t in targets if isinstance(t, ast.Name)]
    return out


def used_names(trees: dict[Path, ast.Module]) -> dict[str, int]:
    """How often each name is referenced (read, imported, or named as an attribute) in the package."""
    seen: dict[str, int] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names = [node.id]
            elif isinstance(node, ast.Attribute):
                names = [node.attr]
            elif isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                names = [node.value]  # getattr(module, "name"), __all__
            for n in names:
                seen[n] = seen.get(n, 0) + 1
    return seen


def dead_names() -> list[str]:
    trees = _sources()
    used = used_names(trees)
    rules = "\n".join(p.read_text() for p in [*(REPO / "workflow").rglob("*.smk"), REPO / "Snakefile"])
    rule_words = set(re.findall(r"[A-Za-z_]\w*", rules))
    dead = []
    for p, line, qual, _node in definitions(trees):
        name = qual.rsplit(".", 1)[-1]
        if name.startswith("__") or name in rule_words or used.get(name) or name in KEPT:
            continue
        dead.append(f"{p.relative_to(REPO)}:{line}: {qual}")
    return dead


def test_no_dead_code():
    assert set(KEPT) <= {q.rsplit(".", 1)[-1] for *_, q, _ in definitions(_sources())}, "KEPT names a name that is gone"
    dead = dead_names()
    assert not dead, "no caller in lgcaa/, baselines/ or the rules (delete it, or use it):\n" + "\n".join(dead)


def test_the_dead_code_check_finds_an_unused_function(tmp_path):
    tree = ast.parse("def used():\n    pass\n\ndef unused():\n    pass\n\nused()\n")
    defs = definitions({tmp_path / "m.py": tree})
    used = used_names({tmp_path / "m.py": tree})
    assert [q for _, _, q, _ in defs if not used.get(q)] == ["unused"]


MAX_FUNCTION_LINES = 75  # a function longer than this is split into named steps


def long_functions(trees: dict[Path, ast.Module], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """'file:line name (n lines)' of every function or method longer than `limit` lines (decorators excluded)."""
    return [f"{p.relative_to(REPO)}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for p, tree in trees.items() for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > limit]


def test_no_function_is_longer_than_the_limit():
    assert long_functions(_sources()) == []


def test_the_length_check_finds_a_long_function():
    tree = ast.parse("def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES)
    assert long_functions({REPO / "lgcaa" / "f.py": tree}) == ["lgcaa/f.py:1 f (76 lines)"]

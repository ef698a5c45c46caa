"""The code stays readable: no function over 80 lines (lines over 130 characters are ruff's E501, in make lint)."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 80


def long_functions(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.relative_to(root)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_no_function_is_over_80_lines():
    files = [p for p in ROOT.rglob("*.py") if ".venv" not in p.parts and "data" not in p.relative_to(ROOT).parts[:1]]
    assert [f for path in sorted(files) for f in long_functions(path)] == []


def test_lines_over_130_characters_are_a_lint_error():
    ruff = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]
    assert ruff["line-length"] == 130
    assert "E" in ruff["lint"]["select"] and "E501" not in ruff["lint"].get("ignore", [])


def test_the_length_check_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text(f"def f():\n{body}\n\n\ndef g():\n    return 1\n")
    assert long_functions(tmp_path / "long.py", tmp_path) == [f"long.py:1 f ({MAX_FUNCTION_LINES + 1} lines)"]

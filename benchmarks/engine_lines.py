"""Lines of code of the engine core, and its longest functions.

The engine core is what a student reads to understand reverse-mode autodiff: the array backend,
``Tensor``, the backward pass and the primitive ops. Lines of code exclude blank lines, comments
and docstrings. Run from the repository root (or pass another checkout's root)::

    python benchmarks/engine_lines.py [ROOT]
"""
from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

CORE = ("tinygrad_rnn/backend.py", "tinygrad_rnn/tensor.py", "tinygrad_rnn/autograd.py",
        "tinygrad_rnn/ops/*.py")


def docstring_lines(tree: ast.AST) -> set[int]:
    """Line numbers covered by docstrings (module, class and function)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_lines(source: str) -> set[int]:
    """Line numbers that hold code (not blank, not only a comment, not a docstring)."""
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                            tokenize.DEDENT, tokenize.ENDMARKER):
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines - docstring_lines(ast.parse(source))


def functions(path: Path, code: set[int]) -> list[tuple[int, str]]:
    """``(code lines, qualified name)`` of every function in the file."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = len([k for k in range(child.lineno, child.end_lineno + 1) if k in code])
                found.append((n, f"{path.name}:{prefix}{child.name}"))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(ast.parse(path.read_text()), "")
    return found


def main(root: str = ".") -> None:
    root = Path(root)
    files = sorted(p for pattern in CORE for p in root.glob(pattern))
    total, everything = 0, []
    for path in files:
        code = code_lines(path.read_text())
        total += len(code)
        everything += functions(path, code)
        print(f"{len(code):5d}  {path.relative_to(root)}")
    print(f"{total:5d}  engine core, lines of code (no blanks, comments or docstrings)")
    print("longest functions (lines of code):")
    for n, name in sorted(everything, reverse=True)[:8]:
        print(f"{n:5d}  {name}")


if __name__ == "__main__":
    main(*sys.argv[1:])

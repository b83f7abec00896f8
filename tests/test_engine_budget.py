"""A line budget for the two functions every student reads (as tinygrad keeps one): the backward
loop and ``Op.apply`` stay plain; speed goes into fused ops, below the autograd."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("engine_lines", ROOT / "benchmarks/engine_lines.py")
engine_lines = importlib.util.module_from_spec(spec)
spec.loader.exec_module(engine_lines)

BUDGET = {"autograd.py:run_backward": 50, "base.py:Op.apply": 25}


def lines_of_code(relative: str) -> dict:
    path = ROOT / relative
    code = engine_lines.code_lines(path.read_text())
    return {name: n for n, name in engine_lines.functions(path, code)}


def test_backward_loop_and_apply_stay_within_their_budget():
    found = {**lines_of_code("tinygrad_rnn/autograd.py"), **lines_of_code("tinygrad_rnn/ops/base.py")}
    for name, budget in BUDGET.items():
        assert found[name] <= budget, f"{name}: {found[name]} lines of code, budget {budget}"


def test_there_is_one_apply():
    # every primitive and fused op is run by Op.apply: no op class writes its own
    import tinygrad_rnn as tg

    todo, own = [tg.ops.Op], []
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if "apply" in sub.__dict__ and sub.__module__.startswith("tinygrad_rnn."):
                own.append(sub.__name__)
    assert not own, f"op classes with their own apply: {own}"


def test_counting_skips_docstrings_comments_and_blank_lines():
    source = 'def f(x):\n    """Doc.\n\n    More."""\n    # a comment\n\n    y = (x +\n         1)\n    return y\n'
    code = engine_lines.code_lines(source)
    assert sorted(code) == [1, 7, 8, 9]

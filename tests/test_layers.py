"""The package's layers: no module imports a module of a higher layer, and imports make no cycle.

Every import of every module of ``tinygrad_rnn`` is read with ``ast`` (those inside functions
too: a deferred import is still a dependency) and resolved to the module it names. The layers,
bottom to top, are the table ``LAYERS``; a module belongs to the layer of the longest name in it
that is its own name or a package above it. Importing a module of the same or a lower layer is
fine; of a higher one, an error, except the edges listed in ``ALLOWED``, which are also the only
edges allowed to close a cycle.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_rnn"

#: Bottom to top. A module may import modules of its own layer and of the layers below.
LAYERS = [
    ("scope grammar, weak references, argument spelling", ["scopes", "weak", "args"]),
    ("array backend, BLAS threads and the heap", ["backend", "cuda", "threads", "heap"]),
    ("autograd", ["autograd"]),
    ("tensor and primitive ops", ["softmax", "inplace", "torch_methods", "tensor", "ops"]),
    ("fused ops", ["fused"]),
    ("creation and combination", ["creation", "random", "combine", "functions"]),
    ("gradient check", ["gradcheck"]),
    ("tracing", ["trace"]),
    ("neural networks", ["nn"]),
    ("tg.graph (tracing, cuts and unroll under the API contract's name)", ["graph"]),
    ("optimisers", ["optim"]),
    ("data", ["data"]),
    ("saving", ["serialization"]),
    ("moving weights to and from PyTorch", ["utils"]),
    ("drawing", ["viz"]),
    ("models", ["models"]),
    ("the package namespace", [""]),
    ("command line", ["cli", "__main__"]),
]

#: The only import that goes up a layer, and the only one that may close a cycle.
ALLOWED = {
    # tensor's operators apply the ops, and every op makes a Tensor: ``tensor`` imports ``ops``
    # at its end, once Tensor exists (ops -> tensor is the downward half of the cycle).
    ("tensor", "ops"),
}


def module_name(path: Path) -> str:
    """``tinygrad_rnn/nn/tbptt.py`` -> ``"nn.tbptt"``; a package's ``__init__`` -> its name."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def resolve(importer: str, node: ast.AST) -> list[str]:
    """The package modules one import statement names (names outside the package dropped)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        found = []
        for name in names:
            if name == "tinygrad_rnn" or name.startswith("tinygrad_rnn."):
                found.append(longest_module(name.removeprefix("tinygrad_rnn").lstrip(".")))
        return found
    if node.level == 0:
        if node.module != "tinygrad_rnn" and not (node.module or "").startswith("tinygrad_rnn."):
            return []
        base = node.module.removeprefix("tinygrad_rnn").lstrip(".")
    else:
        package = importer.split(".") if is_package(importer) else importer.split(".")[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
        base = base.strip(".")
    found = []
    for alias in node.names:
        child = f"{base}.{alias.name}".strip(".")
        found.append(child if child in MODULES else longest_module(base))
    return found


def longest_module(name: str) -> str:
    """The longest module name that is ``name`` or a package above it."""
    parts = name.split(".") if name else []
    while parts and ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its code), itself left out."""
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = {target for node in ast.walk(tree)
                       if isinstance(node, (ast.Import, ast.ImportFrom))
                       for target in resolve(name, node)} - {name}
    return graph


def layer_of(name: str) -> int:
    """The position in ``LAYERS`` of a module (by its own name or the nearest package above)."""
    best, best_len = None, -1
    for k, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = name == prefix or (prefix and name.startswith(prefix + "."))
            if matches and len(prefix) > best_len:
                best, best_len = k, len(prefix)
    if best is None:
        raise KeyError(f"tinygrad_rnn.{name} is in no layer of LAYERS: add it to the table")
    return best


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module of a higher layer that ``ALLOWED`` does not list."""
    return [f"tinygrad_rnn.{a or '__init__'} ({LAYERS[layer_of(a)][0]}) imports "
            f"tinygrad_rnn.{b} ({LAYERS[layer_of(b)][0]})"
            for a in sorted(graph) for b in sorted(graph[a])
            if layer_of(b) > layer_of(a) and (a, b) not in ALLOWED]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports once the ``ALLOWED`` edges are taken out (iterative DFS), or None."""
    edges = {a: sorted(b for b in targets if (a, b) not in ALLOWED)
             for a, targets in graph.items()}
    colour = dict.fromkeys(edges, 0)  # 0: unseen, 1: on the current path, 2: done
    for start in sorted(edges):
        if colour[start]:
            continue
        path, stack = [start], [iter(edges[start])]
        colour[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                colour[path.pop()] = 2
                stack.pop()
            elif colour[nxt] == 1:
                return path[path.index(nxt):] + [nxt]
            elif colour[nxt] == 0:
                colour[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges[nxt]))
    return None


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


def test_no_module_imports_a_higher_layer():
    assert upward_imports(import_graph()) == []


def test_no_import_cycle_but_the_allowed_edges():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(f"tinygrad_rnn.{m}" for m in cycle)


def test_allowed_edges_exist():
    """``ALLOWED`` lists only imports that are really there (remove an entry once it goes)."""
    graph = import_graph()
    assert [edge for edge in sorted(ALLOWED) if edge[1] not in graph[edge[0]]] == []


@pytest.mark.parametrize("importer, source, target", [
    ("trace", "from .nn.tbptt import cut\n", "nn.tbptt"),
    ("nn.ctc", "def f():\n    from . import functional\n", "nn.functional"),
    ("viz.dot", "import tinygrad_rnn.models\n", "models"),
    ("scopes", "from . import viz\n", "viz"),
])
def test_a_violating_import_is_caught(importer, source, target):
    """The checks see an added import that goes up a layer or closes a cycle, even deferred."""
    graph = import_graph()
    added = {target for node in ast.walk(ast.parse(source))
             if isinstance(node, (ast.Import, ast.ImportFrom))
             for target in resolve(importer, node)}
    assert added == {target}
    graph[importer] = graph[importer] | added
    assert upward_imports(graph) or find_cycle(graph)


def test_resolve_reads_relative_and_absolute_imports():
    def names(importer, source):
        node = ast.parse(source).body[0]
        return resolve(importer, node)

    assert names("nn.ctc", "from ..combine import concat, stack") == ["combine", "combine"]
    assert names("nn.cells.gru", "from .. import functional as F") == ["nn.functional"]
    assert names("nn", "from .tbptt import cut") == ["nn.tbptt"]
    assert names("viz.dot", "from . import style") == ["viz.style"]
    assert names("cli.demo", "import tinygrad_rnn as tg") == [""]
    assert names("__main__", "from tinygrad_rnn.cli import main") == ["cli"]
    assert names("tensor", "import numpy as np") == []

"""Draw the unrolled backpropagation-through-time graph: DOT text, a ``graphviz.Digraph``, files.

:func:`to_dot` is pure Python (no Graphviz binary needed); :func:`draw` wraps the same text in a
``graphviz.Digraph`` that displays itself in Jupyter; :func:`write` renders it to a file.
Node ids are numbered in the deterministic order of :func:`tinygrad_rnn.trace.walk`, so the same
model and seed always give byte-identical DOT text.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

from ..autograd import AnomalyError
from ..nn.tbptt import CUTS
from ..scopes import parse_layer, parse_scope, parse_step
from ..tensor import Tensor
from ..trace import trace
from . import style
from .bundles import add_buses
from .grads import graph_norms
from .grouping import PARAMS, Box, elide, make_arrows, make_boxes, steps_to_keep

HINT = ("Graphviz's `dot` program is needed to render graphs (the DOT text works without it): "
        "install it with `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install "
        "graphviz` (macOS) or `conda install graphviz`")


#: Above this many nodes the middle steps are elided. Graphviz 2.43's time grows much faster
#: than the graph, and with the length of the unroll: op-level LSTM graphs of 1,600 / 2,300 /
#: 3,100 nodes took 2 / 4 / 20 s here, a one-layer GRU's 40 / 80 / 130 steps (900 / 1,900 /
#: 3,000 nodes) 1 / 5-9 / 20 s.
MAX_NODES = 2000

#: Edges that do not rank the layout: those from the shared parameters' cluster (so that the
#: weights do not pull every step to the left), and at ``level="step"`` those gathering every step's output
#: and those going back in time (a step node holds every layer and direction of its step, so
#: layer 1 reads layer 0's gathered outputs in the same nodes, and a backward direction runs
#: against the forward one: ranked, these edges would make cycles).
FAN_IN = ("gather", "collect", "end")


def quote(text: str) -> str:
    """A DOT string literal (or an HTML-like label, passed as it is)."""
    if text.startswith("<") and text.endswith(">"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def attributes(attrs: Mapping[str, str]) -> str:
    return " ".join(f"{k}={quote(str(v))}" for k, v in attrs.items())


def parameter_names(module) -> dict[int, str]:
    """``id(parameter) -> dotted name`` from a Module or a mapping ``name -> tensor``."""
    if module is None:
        return {}
    items = module.named_parameters() if hasattr(module, "named_parameters") else \
        module.items()
    return {id(t): name for name, t in items}


def highlighted(highlight) -> list[Tensor]:
    """The tensors to highlight: a tensor, an ``AnomalyError`` or a sequence of them."""
    if highlight is None:
        return []
    if isinstance(highlight, (Tensor, AnomalyError)):
        highlight = [highlight]
    return [h.tensor if isinstance(h, AnomalyError) else h for h in highlight]


def label_boxes(graph, boxes: list[Box], names: dict[int, str], cuts: set[int]) -> None:
    """Fill in each box's label: op and shape, leaf name, or the cell's title and size."""
    for b, box in enumerate(boxes):
        if box.label:
            continue
        t = graph.nodes[box.members[0]]
        if box.kind in ("param", "leaf"):
            info = CUTS.get(t)
            box.label = style.leaf_text(t, names.get(id(t)), b in cuts) + "\n" + \
                style.shape_text(t)
            if info is not None:
                box.label += "\nfrom " + ("/".join(info.scope) or "top level")
        elif box.kind == "op":
            box.label = style.op_text(t) + "\n" + style.shape_text(t)
        else:
            tensors = [graph.nodes[i] for i in box.members]
            ops = sum(1 for x in tensors if x.op is not None)
            place = graph.places[box.members[0]]
            title = style.group_title(place, tensors)
            if box.kind == "cell":
                arrow = " ←" if place.reverse else ""
                out = "" if box.rep is None else " → " + style.shape_text(graph.nodes[box.rep])
                box.label = f"{title}{arrow}\n{ops} ops{out}"
            elif box.kind == "sequence":
                name = box.cluster[-1] if box.cluster else "layers"
                box.label = f"{name}: outside the steps\n{ops} ops (input projections, " \
                            "W.T, stacks)"
            else:
                cells = len({graph.step_key(i) for i in box.members})
                box.label = f"{title}\n{cells} cell{'s' * (cells != 1)}, {ops} ops"


def box_attrs(box: Box, cut: bool, norms, scale, marked: set[int], roots: set[int]) -> dict:
    """The DOT attributes of one box: its kind's style, gradient colour, highlight."""
    kind_style = {"param": style.PARAM, "leaf": style.LEAF, "cell": style.CELL,
                  "step": style.STEP_CELL, "elided": style.ELIDED, "relay": style.RELAY,
                  "sequence": style.SEQUENCE}
    if box.kind == "relay":
        return dict(style.RELAY)
    attrs = {"label": box.label, **kind_style.get(box.kind, {"fillcolor": style.OP_FILL})}
    if cut and box.kind == "leaf":
        attrs.update(style.CUT_NODE)
    if scale is not None and box.kind not in ("elided", "sequence"):
        norm = None if box.rep is None else norms[box.rep]
        attrs.update(label=box.label + style.grad_text(norm), fillcolor=scale.colour(norm),
                     fontcolor=scale.font(norm))
        if "filled" not in attrs.get("style", "filled"):
            attrs["style"] += ",filled"
    if any(i in roots for i in box.members) and box.kind != "elided":
        attrs["peripheries"] = "2"
    if any(i in marked for i in box.members):
        colours = {} if scale is None else {"fillcolor": attrs["fillcolor"],
                                            "fontcolor": attrs["fontcolor"]}
        attrs.update({**style.HIGHLIGHT, **colours})
        attrs["label"] = "⚠ " + attrs["label"]
    return attrs


def cluster_attrs(path: tuple[str, ...], red: bool) -> dict:
    if path[-1:] == PARAMS:
        attrs = dict(style.CLUSTER_PARAMS)
        if path != PARAMS:
            attrs["label"] = "parameters"
    else:
        entry = path[-1]
        if parse_step(entry) is not None:
            reverse = parse_scope(path).reverse
            attrs = dict(style.CLUSTER_REVERSE_STEP if reverse else style.CLUSTER_STEP)
        elif parse_layer(entry) is not None:
            attrs = dict(style.CLUSTER_LAYER)
        else:
            attrs = dict(style.CLUSTER_OTHER)
        attrs["label"] = style.scope_text(entry)
    if red:
        attrs.update(color="#d62728", penwidth="2.5")
    return attrs


def emit(boxes: list[Box], node_attrs: list[dict], red_clusters: set[tuple]) -> list[str]:
    """The node statements, nested in one cluster per scope path (deterministic order)."""
    tree: dict = {"boxes": [], "children": {}}
    for b, box in enumerate(boxes):
        path = box.cluster
        if path == PARAMS:
            node = tree["children"].setdefault(PARAMS, {"boxes": [], "children": {}})
        else:
            node = tree
            for k in range(1, len(path) + 1):
                node = node["children"].setdefault(path[:k], {"boxes": [], "children": {}})
        node["boxes"].append(b)
    lines = []

    def visit(node: dict, depth: int) -> None:
        pad = "\t" * depth
        for b in node["boxes"]:
            lines.append(f"{pad}n{b} [{attributes(node_attrs[b])}]\n")
        for path, child in node["children"].items():
            lines.append(f"{pad}subgraph {quote('cluster_' + '/'.join(path))} {{\n")
            lines.append(f"{pad}\tgraph [{attributes(cluster_attrs(path, path in red_clusters))}]\n")
            visit(child, depth + 1)
            lines.append(f"{pad}}}\n")
    visit(tree, 1)
    return lines


def body(root, *, level: str = "op", grads=False, max_steps: int | None = None,
         rankdir: str = "LR", highlight=None, module=None, max_nodes: int | None = MAX_NODES,
         ) -> list[str]:
    """The statements of the DOT graph (see :func:`to_dot` for the arguments)."""
    graph = trace(root)
    boxes, box_of = make_boxes(graph, level)
    arrows = make_arrows(graph, box_of, merge=level == "step")
    marked_tensors = highlighted(highlight)
    missing = [t for t in marked_tensors if t not in graph]
    if missing:
        raise ValueError("highlight: a tensor to highlight is not in the graph of root "
                         "(draw the tensor itself, e.g. draw(error.tensor, highlight=error))")
    marked = {graph.index[id(t)] for t in marked_tensors}
    pinned = {graph.places[i].step for i in marked if graph.places[i].step is not None}
    keep, why = steps_to_keep(boxes, max_steps, max_nodes, pinned)
    note = None
    if keep is not None:
        total = len(boxes)
        boxes, arrows = elide(boxes, arrows, keep)
        if why == "max_nodes":
            note = (f"This {level}-level graph has {total} nodes, more than max_nodes="
                    f"{max_nodes}: drew {len(keep)} of {len(graph.steps())} time steps (the "
                    "first and the last). Pass max_nodes=None to draw every step (slow to "
                    "render), or level='cell' for one node per cell per step.")
            warnings.warn(note, stacklevel=3)
    cuts = {a.dst for a in arrows if a.cut} | {
        b for b, box in enumerate(boxes) if box.kind == "leaf" and graph.nodes[box.rep] in CUTS}
    label_boxes(graph, boxes, parameter_names(module), cuts)
    arrows = add_buses(boxes, arrows, by_time=level == "step")
    norms, scale = None, None
    if grads:
        norms = graph_norms(graph, None if grads is True else grads)
        drawn = [b.rep for b in boxes if b.rep is not None] + \
                [a.carried for a in arrows if a.carried is not None]
        scale = style.Scale([norms[i] for i in drawn if norms[i] is not None])
    roots = {graph.index[id(r)] for r in graph.roots}
    node_attrs = [box_attrs(box, b in cuts, norms, scale, marked, roots)
                  for b, box in enumerate(boxes)]
    red = {boxes[b].cluster[:k] for b in range(len(boxes))
           if any(i in marked for i in boxes[b].members) for k in range(1, len(boxes[b].cluster) + 1)}
    graph_attrs = {**style.GRAPH, "rankdir": rankdir}
    lines = [f"\tgraph [{attributes(graph_attrs)}]\n", f"\tnode [{attributes(style.NODE)}]\n",
             f"\tedge [{attributes(style.EDGE)}]\n"]
    lines += emit(boxes, node_attrs, red)
    if scale is not None:
        lines.append(f'\tlegend [label={scale.legend()} shape="plaintext" style=""]\n')
    if note is not None:
        lines.append(f"\tnote [{attributes({'label': note, **style.NOTE})}]\n")
    for a in arrows:
        attrs = dict(style.CUT_EDGE) if a.cut else dict(style.BUS.get(a.part, {}))
        src, dst = boxes[a.src], boxes[a.dst]
        backwards = src.step is not None and dst.step is not None and dst.step < src.step
        if src.cluster == PARAMS or level == "step" and (a.part in FAN_IN or backwards):
            attrs["constraint"] = "false"  # see FAN_IN
        if scale is not None and not a.cut and a.carried is not None:
            n = norms[a.carried]
            attrs.update(color=scale.colour(n) if n is not None else "#bbbbbb",
                         penwidth=scale.width(n))
        tail = f" [{attributes(attrs)}]" if attrs else ""
        lines.append(f"\tn{a.src} -> n{a.dst}{tail}\n")
    return lines


def to_dot(root: Tensor | Sequence[Tensor], *, level: str = "op", grads=False,
           max_steps: int | None = None, rankdir: str = "LR", highlight=None, module=None,
           max_nodes: int | None = MAX_NODES) -> str:
    """The DOT text of the graph that produced ``root`` (no Graphviz binary needed).

    Args:
        root: the tensor (e.g. the loss), or a sequence of tensors, to draw the graph of.
        level: ``"op"`` (every primitive), ``"cell"`` (one node per cell per step) or
            ``"step"`` (one node per time step).
        grads: colour nodes and edges by gradient norm (log scale, with a legend): ``True``
            uses the norms recorded by :func:`tinygrad_rnn.viz.record_grads` (or computes them
            now if nothing was recorded and the graph was not freed); or pass a recording.
        max_steps: draw only this many time steps (the first and the last ones); the middle
            is drawn as one node per layer that says how many steps it hides.
        rankdir: Graphviz's direction, ``"LR"`` (time runs left to right) or ``"TB"``.
        highlight: a tensor, an :class:`~tinygrad_rnn.AnomalyError`, or a list of them, to
            draw in red (its time step is never elided).
        module: a Module (or a mapping name -> tensor) whose parameter names label the leaves.
        max_nodes: above this many nodes, elide the middle steps automatically with a
            warning and a note node; ``None`` draws everything.

    Returns:
        The DOT source, byte-identical for the same computation.
    """
    lines = body(root, level=level, grads=grads, max_steps=max_steps, rankdir=rankdir,
                 highlight=highlight, module=module, max_nodes=max_nodes)
    return "digraph bptt {\n" + "".join(lines) + "}\n"

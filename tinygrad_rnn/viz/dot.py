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
from ..trace import is_parameter, trace
from . import style
from .bundles import add_buses, relays_per_step
from .grads import graph_norms
from .grouping import INPUTS, PARAMS, Box, elide, make_arrows, make_boxes, steps_to_keep
from .labels import Inputs, label_boxes
from .layout import edge_layouts, ordering_edges
from .limits import MAX_NODES, DrawingTooLarge, advice, too_large

HINT = ("Graphviz's `dot` program is needed to render graphs (the DOT text works without it): "
        "install it with `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install "
        "graphviz` (macOS) or `conda install graphviz`")




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


def box_attrs(box: Box, cut: bool, norms, scale, marked: set[int], roots: set[int]) -> dict:
    """The DOT attributes of one box: its kind's style, gradient colour, highlight."""
    kind_style = {"param": style.PARAM, "leaf": style.LEAF, "cell": style.CELL,
                  "step": style.STEP_CELL, "elided": style.ELIDED, "relay": style.RELAY,
                  "sequence": style.SEQUENCE, "after": style.SEQUENCE}
    if box.kind == "relay":
        return dict(style.RELAY)
    attrs = {"label": box.label, **kind_style.get(box.kind, {"fillcolor": style.OP_FILL})}
    if cut and box.kind == "leaf":
        attrs.update(style.CUT_NODE)
    if scale is not None and box.kind not in ("elided", "sequence", "after"):
        norm = None if box.rep is None else norms[box.rep]
        signed = "\ngrad " in box.label  # draw(values=True) wrote the gradient itself
        attrs.update(label=box.label + ("" if signed else style.grad_text(norm)),
                     fillcolor=scale.colour(norm),
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


def cluster_attrs(path: tuple[str, ...], red: bool, inputs: Inputs, has_steps: bool) -> dict:
    """A cluster's style and title (a time step's with its word, when the input has words)."""
    if path[-1:] == PARAMS:
        attrs = dict(style.CLUSTER_PARAMS)
        if path != PARAMS or not has_steps:
            attrs["label"] = "parameters"
    elif path == INPUTS:
        attrs = dict(style.CLUSTER_INPUTS)
    else:
        entry = path[-1]
        step = parse_step(entry)
        if step is not None:
            reverse = parse_scope(path).reverse
            attrs = dict(style.CLUSTER_REVERSE_STEP if reverse else style.CLUSTER_STEP)
            attrs["label"] = inputs.step_title(step)
        elif parse_layer(entry) is not None:
            attrs = dict(style.CLUSTER_LAYER)
        else:
            attrs = dict(style.CLUSTER_OTHER)
        attrs.setdefault("label", style.scope_text(entry))
    if red:
        attrs.update(color="#d62728", penwidth="2.5")
    return attrs


def emit(boxes: list[Box], node_attrs: list[dict], red_clusters: set[tuple], inputs: Inputs,
         has_steps: bool) -> list[str]:
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
            attrs = cluster_attrs(path, path in red_clusters, inputs, has_steps)
            lines.append(f"{pad}\tgraph [{attributes(attrs)}]\n")
            visit(child, depth + 1)
            lines.append(f"{pad}}}\n")
    visit(tree, 1)
    return lines


def laid_out(boxes: list[Box], arrows: list, level: str) -> tuple[list, list, list]:
    """The arrows with their buses, how each is laid out, and the ordering edges
    (``boxes`` grows by the buses' relay points)."""
    arrows = add_buses(boxes, arrows, by_time=True)
    layouts = edge_layouts(boxes, arrows, level)
    return arrows, layouts, ordering_edges(boxes, arrows, layouts)


def node_budget(boxes: list[Box], arrows: list, level: str, max_nodes: int | None) -> int | None:
    """``max_nodes``, lowered for a drawing with more than two edges a node (buses and
    ordering edges included), so that eliding steps keeps the edges under ``2 * max_nodes``
    too."""
    if max_nodes is None:
        return None
    every = list(boxes)
    drawn, _, ordering = laid_out(every, arrows, level)
    edges = len(drawn) + len(ordering)
    return max_nodes if edges <= 2 * len(every) else max_nodes * 2 * len(every) // edges


def body(root, *, level: str = "op", grads=False, max_steps: int | None = None,
         rankdir: str = "LR", highlight=None, module=None, max_nodes: int | None = MAX_NODES,
         inputs=None, values: bool = False, refuse: bool = False
         ) -> tuple[list[str], int, int, str]:
    """The statements of the DOT graph (see :func:`to_dot` for the arguments).

    Returns:
        ``(lines, nodes, edges, advice)``: the statements, the number of nodes and edges drawn,
        and what to do if Graphviz is too slow on them.

    Raises:
        DrawingTooLarge: with ``refuse``, when more than ``max_nodes`` nodes (or twice as many
            edges) would be drawn after elision.
    """
    graph = trace(root)
    given = Inputs(graph, inputs)
    names = parameter_names(module)
    others = {i for i, t in enumerate(graph.nodes) if is_parameter(t) and id(t) not in names}
    boxes, box_of = make_boxes(graph, level, given.positions | (others if names else set()))
    arrows = make_arrows(graph, box_of, merge=level == "step")
    marked_tensors = highlighted(highlight)
    missing = [t for t in marked_tensors if t not in graph]
    if missing:
        raise ValueError("highlight: a tensor to highlight is not in the graph of root "
                         "(draw the tensor itself, e.g. draw(error.tensor, highlight=error))")
    marked = {graph.index[id(t)] for t in marked_tensors}
    pinned = {graph.places[i].step for i in marked if graph.places[i].step is not None}
    relays = relays_per_step(boxes, arrows)
    keep, why = steps_to_keep(boxes, max_steps, node_budget(boxes, arrows, level, max_nodes),
                              pinned, relays)
    note = None
    if keep is not None:
        total = len(boxes) + sum(relays.values())
        boxes, arrows = elide(boxes, arrows, keep)
        if why == "max_nodes":
            note = (f"This {level}-level graph has {total} nodes, more than max_nodes="
                    f"{max_nodes}: drew {len(keep)} of {len(graph.steps())} time steps (the "
                    "first and the last). Pass max_nodes=None to draw every step (slow to "
                    "render), or level='cell' for one node per cell per step.")
            warnings.warn(note, stacklevel=3)
    cuts = {a.dst for a in arrows if a.cut} | {
        b for b, box in enumerate(boxes) if box.kind == "leaf" and graph.nodes[box.rep] in CUTS}
    arrows, layouts, ordering = laid_out(boxes, arrows, level)
    edge_count = len(arrows) + len(ordering)
    has_steps = bool(graph.steps())
    if refuse and max_nodes is not None and (len(boxes) > max_nodes or
                                             edge_count > 2 * max_nodes):
        kept = None if keep is None else len(keep)
        raise DrawingTooLarge(too_large(level, len(boxes), edge_count, max_nodes, has_steps,
                                        kept, len(graph.steps())))
    label_boxes(graph, boxes, names, cuts, given, values)
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
    if len(boxes) > style.BIG:
        graph_attrs["nslimit"] = style.BIG_NSLIMIT
    lines = [f"\tgraph [{attributes(graph_attrs)}]\n", f"\tnode [{attributes(style.NODE)}]\n",
             f"\tedge [{attributes(style.EDGE)}]\n"]
    lines += emit(boxes, node_attrs, red, given, has_steps)
    if scale is not None:
        lines.append(f'\tlegend [label={scale.legend()} shape="plaintext" style=""]\n')
    if note is not None:
        lines.append(f"\tnote [{attributes({'label': note, **style.NOTE})}]\n")
    for a, how in zip(arrows, layouts):
        attrs = dict(style.CUT_EDGE) if a.cut else dict(style.BUS.get(a.part, {}))
        if not how.constraint:
            attrs["constraint"] = "false"
        if scale is not None and not a.cut and a.carried is not None:
            n = norms[a.carried]
            attrs.update(color=scale.colour(n) if n is not None else "#bbbbbb",
                         penwidth=scale.width(n))
        src, dst = a.src, a.dst
        if how.flip:  # laid out from dst to src, drawn with the arrowhead at dst
            src, dst = dst, src
            attrs["dir"] = "back" if attrs.get("arrowhead") != "none" else "none"
            attrs.pop("arrowhead", None)
        tail = f" [{attributes(attrs)}]" if attrs else ""
        lines.append(f"\tn{src} -> n{dst}{tail}\n")
    for src, dst in ordering:
        lines.append(f"\tn{src} -> n{dst} [{attributes(style.ORDERING)}]\n")
    todo = advice(level, has_steps, "pass a larger timeout= (None: no limit)")
    return lines, len(boxes), edge_count, todo


def to_dot(root: Tensor | Sequence[Tensor], *, level: str = "op", grads=False,
           max_steps: int | None = None, rankdir: str = "LR", highlight=None, module=None,
           max_nodes: int | None = MAX_NODES, inputs=None, values: bool = False) -> str:
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
        module: a Module (or a mapping name -> tensor) whose parameter names label the leaves;
            the other leaves that require grad are drawn as inputs, not parameters.
        max_nodes: above this many nodes (every node drawn, the relay points of the buses
            too), elide the middle steps automatically with a warning and a note node;
            ``None`` draws everything. :func:`~tinygrad_rnn.viz.draw` refuses a graph still
            bigger after elision (this text is the way to get it: render it yourself); see
            :mod:`tinygrad_rnn.viz.limits` for the times measured.
        inputs: the tensors the model read: a tensor, a list of them, or a mapping tensor ->
            its name (a str) or one label per time step (a list: the words of a sentence,
            which then title the steps, ``t = 4: "arrive"``). Drawn in a cluster "inputs",
            never among the parameters.
        values: also write the value and the gradient (with its sign) on every box of one
            number, as micrograd does: a leaf's ``.grad``, or, for the other nodes, the
            gradient recorded during ``backward()`` by :class:`~tinygrad_rnn.viz.record_grads`.

    Returns:
        The DOT source, byte-identical for the same computation.
    """
    lines = body(root, level=level, grads=grads, max_steps=max_steps, rankdir=rankdir,
                 highlight=highlight, module=module, max_nodes=max_nodes, inputs=inputs,
                 values=values)[0]
    return "digraph bptt {\n" + "".join(lines) + "}\n"

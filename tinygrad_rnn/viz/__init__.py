"""``tg.viz``: draw the unrolled backpropagation-through-time graph, and measure gradient flow.

- :func:`draw` / :func:`to_dot`: the graph that produced a tensor, one cluster per time step,
  nested by module, layer and direction; at ``level="op"``, ``"cell"`` or ``"step"``; shared
  parameters drawn once; truncated-BPTT cuts dashed red; optionally coloured by gradient norm.
- :func:`diagram`: one cell as a concept diagram (colah's): gates as boxes, pointwise
  operations as circles, the cell state along the top, read from the same recorded graph.
- :func:`write`: render to ``.svg`` / ``.png`` / ``.pdf`` (Graphviz's ``dot``) or ``.dot`` text.
- Limits (:mod:`tinygrad_rnn.viz.limits`): above ``max_nodes`` nodes the middle steps are elided;
  a graph still too big is refused (:class:`DrawingTooLarge`) and ``dot`` is stopped after
  ``timeout`` seconds (:class:`RenderTimeout`), each error saying what to do instead.
- :class:`record_grads`: keep the norm of every gradient of a backward pass for the colours.
- :func:`gradient_flow` and its plots: ``‖∂L/∂h_t‖`` for every layer and step.
- :func:`show`: a drawing or figure visible in Jupyter, on the docs page, or written under
  ``out/<lesson>/`` by a plain script.
"""
from .attention import attention_heatmap
from .concept import diagram
from .dot import to_dot
from .flow import (
    compare_gradient_flow,
    gradient_flow,
    plot_gradient_flow,
    plot_gradient_heatmap,
    row_labels,
)
from .grads import record_grads
from .limits import DrawingTooLarge, RenderTimeout
from .render import DotNotFound, Drawing, draw, write
from .show import show

__all__ = [
    "DotNotFound",
    "Drawing",
    "DrawingTooLarge",
    "RenderTimeout",
    "attention_heatmap",
    "compare_gradient_flow",
    "diagram",
    "draw",
    "gradient_flow",
    "plot_gradient_flow",
    "plot_gradient_heatmap",
    "record_grads",
    "row_labels",
    "show",
    "to_dot",
    "write",
]

"""How a drawn graph looks: node labels, colours, the gradient colour scale and its legend.

Gradient norms are coloured on a log scale with viridis (dark violet for the smallest, yellow
for the largest), which stays readable in grey and for colour-blind readers.
"""
from __future__ import annotations

import math

import numpy as np

from ..scopes import Place, parse_layer, parse_step, unlayered
from ..tensor import Tensor
from ..trace import with_step

FONT = "Helvetica"
# nslimit bounds dot's search for x positions (nslimit x nodes iterations): a CTC loss over 20
# frames took 29-51 s without it, 0.3 s with it; the RNN drawings come out the same (their
# search ends sooner). See tinygrad_rnn.viz.limits.
#: Above BIG nodes, a tighter bound: steps in one row make long bus lines (an op-level RNNCell
#: over 300 steps: 14 s with nslimit 2, 3 s with 0.5); smaller drawings keep the better search.
BIG, BIG_NSLIMIT = 1000, "0.5"
GRAPH = {"rankdir": "LR", "fontname": FONT, "fontsize": "11", "newrank": "true",
         "nodesep": "0.15", "ranksep": "0.3", "nslimit": "2"}
NODE = {"fontname": FONT, "fontsize": "10", "shape": "box", "style": "rounded,filled",
        "fillcolor": "white", "height": "0.3", "margin": "0.06,0.03"}
EDGE = {"arrowsize": "0.6", "color": "#555555", "fontname": FONT, "fontsize": "9"}

OP_FILL = "#e8eef7"
PARAM = {"shape": "box", "style": "filled", "fillcolor": "#ffe9a8"}
LEAF = {"shape": "box", "style": "filled", "fillcolor": "#eeeeee"}
CELL = {"shape": "box3d", "style": "filled", "fillcolor": "#d6e6ff"}
SEQUENCE = {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#f0f0f0"}
STEP_CELL = {"shape": "box3d", "style": "filled", "fillcolor": "#cfe9d6"}
ELIDED = {"shape": "plaintext", "style": "", "fontcolor": "#555555"}
NOTE = {"shape": "note", "style": "filled", "fillcolor": "#fff7d6", "fontcolor": "#7a4b00"}
CUT_EDGE = {"style": "dashed", "color": "#d62728", "fontcolor": "#d62728", "label": "✂ detach",
            "penwidth": "1.5"}
CUT_NODE = {"style": "filled,dashed", "color": "#d62728"}
RELAY = {"shape": "point", "width": "0.04", "height": "0.04", "label": "", "color": "#555555",
         "fillcolor": "#555555", "style": "filled"}
BUS = {"start": {"arrowhead": "none"}, "chain": {"arrowhead": "none"}, "branch": {"minlen": "0"},
       "gather": {"arrowhead": "none", "minlen": "0"}, "collect": {"arrowhead": "none"}}
#: An ordering edge (:mod:`tinygrad_rnn.viz.layout`): step t - 1 left of step t, not drawn.
ORDERING = {"style": "invis", "weight": "2"}
HIGHLIGHT = {"color": "#d62728", "penwidth": "3", "fontcolor": "#d62728", "fillcolor": "#ffd6d6"}
CLUSTER_STEP = {"style": "rounded,filled", "fillcolor": "#f5f8ff", "color": "#9db3d9"}
CLUSTER_REVERSE_STEP = {"style": "rounded,filled", "fillcolor": "#fff6ee", "color": "#e0b08a"}
CLUSTER_LAYER = {"style": "dashed", "color": "#888888"}
CLUSTER_OTHER = {"style": "rounded", "color": "#bbbbbb"}
CLUSTER_PARAMS = {"style": "rounded,filled", "fillcolor": "#fffaf0", "color": "#d9b84a",
                  "label": "parameters (shared by every step)"}
CLUSTER_INPUTS = {"style": "rounded,filled", "fillcolor": "#f4f4f4", "color": "#999999",
                  "label": "inputs"}
# the concept diagram (tinygrad_rnn.viz.concept): colah's colours
DIAGRAM = {"rankdir": "TB", "fontname": FONT, "fontsize": "11", "nodesep": "0.25",
           "ranksep": "0.35", "newrank": "true"}
DIAGRAM_EDGE = {"arrowsize": "0.7", "color": "#333333", "penwidth": "1.3"}
DIAGRAM_LINE_TABLE = 'BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3"'
DIAGRAM_LINE_CELL = 'BGCOLOR="#f4b6c2" STYLE="rounded" BORDER="1" COLOR="#b03060"'
DIAGRAM_ARROW = "━━━▶"
DIAGRAM_GATE = {"shape": "box", "style": "filled", "fillcolor": "#ffd966", "color": "#b8860b",
                "fontsize": "12", "margin": "0.12,0.06"}
DIAGRAM_POINTWISE = {"shape": "circle", "style": "filled", "fillcolor": "#f4b6c2",
                     "color": "#b03060", "fontsize": "12", "width": "0.4", "fixedsize": "false",
                     "margin": "0.02"}
DIAGRAM_TERMINAL = {"shape": "plaintext", "style": "", "fontsize": "14"}
NO_GRAD = "#ffffff"
ZERO_GRAD = "#d9d9d9"

VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
           "#6ece58", "#b5de2b", "#fde725")

SYMBOLS = {"Add": "+", "Sub": "−", "Mul": "×", "Div": "÷", "Pow": "**", "MatMul": "@",
           "Neg": "−x", "Maximum": "max", "ToDevice": "to device", "LSTMOutput": "stack of h",
           "SequenceOutput": "stack of h", "Sigmoid": "σ"}
SCALAR = {"AddScalar": "+ {c}", "RSubScalar": "{c} −", "MulScalar": "× {c}",
          "DivScalar": "÷ {c}", "RDivScalar": "{c} ÷", "PowScalar": "** {c}",
          "RPowScalar": "{c} **"}


# ---- labels ------------------------------------------------------------------------------
def number(c) -> str:
    """A constant as a short string (``0.5``, ``1``, ``-2.5e-05``)."""
    return f"{c:g}" if isinstance(c, float) else str(c)


def index_key(key) -> str:
    """An index key as Python writes it: ``[:, 0:4]``, ``[3]``, ``[array]``."""
    def one(k) -> str:
        if isinstance(k, slice):
            text = ("" if k.start is None else str(k.start)) + ":" + \
                   ("" if k.stop is None else str(k.stop))
            return text + ("" if k.step is None else f":{k.step}")
        if k is Ellipsis:
            return "..."
        if k is None:
            return "None"
        if hasattr(k, "shape") and getattr(k, "ndim", 0) > 0:
            return f"array{tuple(k.shape)}"
        return str(k)
    keys = key if isinstance(key, tuple) else (key,)
    return "[" + ", ".join(one(k) for k in keys) + "]"


def op_text(t: Tensor) -> str:
    """What the op that made ``t`` does, in a few characters (``× 0.5``, ``tanh``, ``[:, 0:4]``)."""
    op = t.op
    name = type(op).__name__
    if name in SCALAR:
        c = getattr(op, "value", "c")
        if name == "AddScalar" and isinstance(c, (int, float)) and c < 0:
            return f"− {number(-c)}"
        return SCALAR[name].format(c=number(c))
    if name in SYMBOLS:
        return SYMBOLS[name]
    if name == "Index":
        return index_key(getattr(op, "key", "?"))
    if name == "Transpose":
        axes = tuple(int(a) for a in np.argsort(getattr(op, "inverse", ())))
        return ".T" if axes == tuple(range(len(axes) - 1, -1, -1)) and len(axes) == 2 else \
            f"transpose{axes}"
    if name in ("Sum", "Mean", "Max"):
        axis = getattr(op, "axis", None)
        axis = "" if axis is None else f"(axis={axis[0] if len(axis) == 1 else axis})"
        return name.lower() + axis
    if name in ("Concat", "Stack"):
        return f"{name.lower()}(axis={getattr(op, 'axis', 0)})"
    if name == "Cast":
        return f"cast {t.dtype}"
    return name.lower()


def shape_text(t: Tensor) -> str:
    """The shape, and the dtype when it is not float32: ``(2, 4)``, ``(3,) float64``."""
    dtype = "" if t.dtype == np.float32 else f" {t.dtype}"
    return f"{tuple(t.shape)}{dtype}"


def leaf_text(t: Tensor, name: str | None, detached: bool, step: int | None = None) -> str:
    """The first line of a leaf's label: its name, else what it is."""
    name = name or (None if t.name is None else with_step(t.name, step))
    if detached:
        return f"✂ {name or 'state'} (detached)"
    if name:
        return name
    return "parameter" if t.requires_grad else "tensor"


def named_op_text(t: Tensor, step: int | None) -> str:
    """The first line of an op's label: ``h₃ = ×`` for a tensor a cell named, else the op."""
    op = op_text(t)
    return op if t.name is None else f"{with_step(t.name, step)} = {op}"


def scope_text(entry: str) -> str:
    """A scope entry as a cluster title: ``t3`` -> ``t = 3``, ``l0_reverse`` -> ``layer 0 ←``."""
    step, layer = parse_step(entry), parse_layer(entry)
    if step is not None:
        return f"t = {step}"
    if layer is not None:
        k, reverse = layer
        return f"layer {k}" + (" ← (reverse)" if reverse else " →")
    return entry


def group_title(place: Place, members: list[Tensor]) -> str:
    """What a cell or step node is called: its module (``lstm``, ``lstmcell``), else ``cell``."""
    names = unlayered(place.outer)
    if names:
        return names[-1]
    inner = {t.scope[len(place.outer) + 1] for t in members
             if len(t.scope) > len(place.outer) + 1}
    return inner.pop() if len(inner) == 1 else "cell"


# ---- gradient colours --------------------------------------------------------------------
class Scale:
    """A log-scale colour map from gradient norms to viridis, over whole decades."""

    def __init__(self, norms):
        positive = [n for n in norms if n > 0 and math.isfinite(n)]
        if positive:
            self.lo = math.floor(math.log10(min(positive)))
            self.hi = math.ceil(math.log10(max(positive)))
        else:
            self.lo, self.hi = -1, 0
        if self.hi <= self.lo:
            self.hi = self.lo + 1

    def fraction(self, norm: float) -> float:
        return min(1.0, max(0.0, (math.log10(norm) - self.lo) / (self.hi - self.lo)))

    def colour(self, norm: float | None) -> str:
        """The fill colour of a norm (white: no gradient; grey: exactly zero; red: NaN/Inf)."""
        if norm is None:
            return NO_GRAD
        if not math.isfinite(norm):
            return "#d62728"
        if norm == 0:
            return ZERO_GRAD
        x = self.fraction(norm) * (len(VIRIDIS) - 1)
        k = min(int(x), len(VIRIDIS) - 2)
        a, b = VIRIDIS[k], VIRIDIS[k + 1]
        mix = [round(int(a[j:j + 2], 16) * (k + 1 - x) + int(b[j:j + 2], 16) * (x - k))
               for j in (1, 3, 5)]
        return "#" + "".join(f"{v:02x}" for v in mix)

    def font(self, norm: float | None) -> str:
        """White text on the dark half of the scale, black elsewhere."""
        if norm is None or norm == 0 or not math.isfinite(norm):
            return "black"
        return "white" if self.fraction(norm) < 0.55 else "black"

    def width(self, norm: float | None) -> str:
        """Edge width: from 0.6 for the smallest norms to 3 for the largest."""
        if norm is None or norm == 0 or not math.isfinite(norm):
            return "0.6"
        return f"{0.6 + 2.4 * self.fraction(norm):.2f}"

    def legend(self) -> str:
        """An HTML-like label: the colour bar, one cell per decade, with ``0`` and "no grad"."""
        span = self.hi - self.lo
        every = max(1, math.ceil(span / 10))
        cells = []
        for e in range(self.lo, self.hi + 1, every):
            norm = 10.0 ** e
            cells.append(f'<TD BGCOLOR="{self.colour(norm)}"><FONT COLOR="{self.font(norm)}">'
                         f"1e{e}</FONT></TD>")
        cells.append(f'<TD BGCOLOR="{ZERO_GRAD}">0</TD>')
        cells.append(f'<TD BGCOLOR="{NO_GRAD}">no grad</TD>')
        head = (f'<TR><TD COLSPAN="{len(cells)}" BORDER="0"><B>gradient norm ‖∂L/∂x‖'
                "</B> (log scale)</TD></TR>")
        return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
                f"{head}<TR>{''.join(cells)}</TR></TABLE>>")


def grad_text(norm: float | None) -> str:
    """The label line of a gradient norm: ``‖g‖ 3.2e-04`` (empty without a gradient)."""
    return "" if norm is None else f"\n‖g‖ {norm:.1e}"

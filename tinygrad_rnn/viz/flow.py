"""Gradient flow through time: ``‖∂L/∂h_t‖`` for every layer and step, as numbers and figures.

With the loss on the last step only, ``‖∂L/∂h_t‖`` shows how much of the error signal reaches
step ``t`` back in time: it shrinks geometrically in a tanh RNN (vanishing gradients), much less
in an LSTM or a GRU, and stays level in an IRNN at initialisation. The hidden states ``h_t`` are
found in the graph by their scope (:meth:`tinygrad_rnn.trace.Graph.hidden_states`).

Figures use matplotlib's object API (``matplotlib.figure.Figure``): no pyplot, no display, no
global backend; save them with ``fig.savefig(path)``, show them with :func:`tinygrad_rnn.viz.show`.
matplotlib is needed only here, for the plots: without it the package runs, and a plot says how
to install it.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np

from ..combine import stack
from ..creation import randn
from ..nn.loop import unroll
from ..nn.recurrent import RecurrentLayer
from ..random import manual_seed
from ..tensor import Tensor, grad
from ..trace import trace


def row_labels(model) -> list[str]:
    """The names of :func:`gradient_flow`'s rows: ``["layer 0", "layer 0 reverse", ...]``."""
    if isinstance(model, RecurrentLayer):
        return [f"layer {k}" + (" reverse" if s else "") for k in range(model.num_layers)
                for s in model.suffixes]
    return ["cell"]


def gradient_flow(model, x: Tensor | None = None, *, steps: int = 100, batch: int = 4,
                  seed: int = 0, loss: Callable[[Tensor], Tensor] | None = None) -> np.ndarray:
    """``‖∂L/∂h_t‖`` for every layer and direction (rows) and every time step (columns).

    Args:
        model: an unrolled layer (``tg.nn.RNN``, ``LSTM``, ``GRU``) or a cell, which is then
            unrolled with :func:`tinygrad_rnn.nn.unroll`.
        x: the input (T, N, I) (or (N, T, I) for a ``batch_first`` layer); ``None``: standard
            normal noise of ``steps`` steps and ``batch`` sequences, drawn with ``seed``.
        steps: T when ``x`` is not given.
        batch: N when ``x`` is not given.
        seed: seeds the noise.
        loss: the loss as a function of the output (T, N, D*H) (time first); the default is
            the sum of the last step's output, so ``∂L/∂h_T`` is all ones.

    Returns:
        A float64 array (rows, T): rows in PyTorch's order of ``h_n`` (layer 0, layer 0
        reverse, layer 1, ...; see :func:`row_labels`); 0 where no gradient arrives.

    Example:
        >>> import tinygrad_rnn as tg
        >>> flow = tg.viz.gradient_flow(tg.nn.LSTM(3, 4, num_layers=2), steps=6)
        >>> flow.shape
        (2, 6)
    """
    if x is None:
        manual_seed(seed)
        size = model.input_size
        first = getattr(model, "batch_first", False)
        p = next(iter(model.parameters()))
        x = randn(*((batch, steps) if first else (steps, batch)), size, dtype=p.dtype,
                  device=p.device)
    if isinstance(model, RecurrentLayer):
        out, _ = model(x)
        out = out.transpose(1, 0, 2) if model.batch_first else out
    else:
        hs, _ = unroll(model, x)
        out = stack(hs)
    total = out[-1].sum() if loss is None else loss(out)
    rows = list(trace(total).hidden_states().values())
    if not rows:
        raise ValueError("gradient_flow(): found no time steps in the graph: each step must be "
                         "made under a scope with a t<k> entry (the layers and unroll() do this)")
    tensors = [h for row in rows for h in row.values()]
    found = iter(grad(total, tensors))
    length = 1 + max(t for row in rows for t in row)
    norms = np.zeros((len(rows), length))
    for r, row in enumerate(rows):
        for t in row:
            g = next(found)
            if g is not None:
                g = g.numpy().astype(np.float64)
                g = g[0] if g.ndim == 3 else g  # a fused LSTM step hands on [h, c]: keep h
                norms[r, t] = np.linalg.norm(g.ravel())
    return norms


def masked_log(norms: np.ndarray) -> np.ndarray:
    """log10 of the norms, NaN where a norm is zero (drawn as gaps)."""
    with np.errstate(divide="ignore"):
        out = np.log10(np.asarray(norms, dtype=np.float64))
    out[~np.isfinite(out)] = np.nan
    return out


def matplotlib(module: str = "matplotlib"):
    """Import ``module`` of matplotlib, which only the plots need (the package runs without it).

    Raises:
        ImportError: matplotlib is not installed; the message says how to install it.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError("tinygrad_rnn's plots need matplotlib, which is not installed: pip "
                          "install matplotlib (or the package's 'plot' extra)") from None


def new_axes(ax, size=(6.0, 3.5)):
    """``(figure, axes)``: the given axes and its figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = matplotlib("matplotlib.figure").Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def plot_gradient_flow(norms: np.ndarray, labels: list[str] | None = None, *,
                       title: str | None = None, ax=None):
    """A log-scale line plot of ``‖∂L/∂h_t‖`` against ``t``, one line per row.

    Returns:
        The ``matplotlib.figure.Figure`` (that of ``ax`` when given).
    """
    fig, ax = new_axes(ax)
    norms = np.atleast_2d(norms)
    labels = labels or [f"row {r}" for r in range(len(norms))]
    t = np.arange(norms.shape[1])
    for row, label in zip(norms, labels):
        ax.plot(t, np.where(row > 0, row, np.nan), label=label, linewidth=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("‖∂L/∂h_t‖")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def plot_gradient_heatmap(norms: np.ndarray, labels: list[str] | None = None, *,
                          title: str | None = None, ax=None, vmin: float | None = None,
                          vmax: float | None = None):
    """A time × layer heatmap of ``log10 ‖∂L/∂h_t‖`` (zeros in grey), with a colour bar.

    Returns:
        The ``matplotlib.figure.Figure``.
    """
    fig, ax = new_axes(ax, size=(6.0, 2.5))
    logs = masked_log(np.atleast_2d(norms))
    cmap = matplotlib().colormaps["viridis"].with_extremes(bad="#d9d9d9")
    image = ax.imshow(logs, aspect="auto", cmap=cmap, interpolation="nearest", vmin=vmin,
                      vmax=vmax)
    ax.set_yticks(range(len(logs)), labels or [f"row {r}" for r in range(len(logs))])
    ax.set_xlabel("time step t")
    fig.colorbar(image, ax=ax, label="log10 ‖∂L/∂h_t‖")
    if title:
        ax.set_title(title)
    return fig


def compare_gradient_flow(flows: dict[str, tuple[np.ndarray, list]]):
    """Gradient flows of several models side by side: line plots over heatmaps.

    Args:
        flows: ``{name: (norms, row labels)}``, e.g. the four models of
            :func:`tinygrad_rnn.models.measure_flows`.

    Returns:
        A ``matplotlib.figure.Figure`` with one column per model; the heatmaps share one
        colour scale, so their colours compare across models.
    """
    logs = np.concatenate([masked_log(n).ravel() for n, _ in flows.values()])
    vmin, vmax = np.nanmin(logs), np.nanmax(logs)
    fig = matplotlib("matplotlib.figure").Figure(figsize=(4.2 * len(flows), 6.5),
                                                 layout="constrained")
    axes = fig.subplots(2, len(flows), squeeze=False)
    for k, (name, (norms, labels)) in enumerate(flows.items()):
        plot_gradient_flow(norms, labels, title=name, ax=axes[0, k])
        plot_gradient_heatmap(norms, labels, ax=axes[1, k], vmin=vmin, vmax=vmax)
    fig.suptitle("Gradient flow through time: ‖∂L/∂h_t‖ with the loss on the last step")
    return fig

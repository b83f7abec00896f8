"""``tg.graph``: graph tracing under the name the API contract gives it, and :func:`unroll`.

The tracing itself lives in :mod:`tinygrad_rnn.trace` (:func:`trace`, :class:`Graph`,
:func:`walk`, :func:`is_parameter`), the scope grammar in :mod:`tinygrad_rnn.scopes`
(:class:`Place`, :func:`parse_scope`), the truncated-BPTT cuts in :mod:`tinygrad_rnn.nn.tbptt`
(:func:`cut`, :func:`cut_origin`) and the time loop in :mod:`tinygrad_rnn.nn.loop`
(:func:`unroll`); this module re-exports them.

>>> import tinygrad_rnn as tg
>>> tg.graph.trace is tg.trace.trace and tg.graph.cut is tg.nn.cut
True
"""
from __future__ import annotations

from .nn.loop import unroll
from .nn.tbptt import CUTS, Cut, cut, cut_origin, flatten
from .scopes import Place, parse_scope
from .trace import Graph, is_parameter, trace, walk

__all__ = ["CUTS", "Cut", "Graph", "Place", "cut", "cut_origin", "flatten", "is_parameter",
           "parse_scope", "trace", "unroll", "walk"]

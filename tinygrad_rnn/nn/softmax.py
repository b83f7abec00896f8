"""``F.softmax``, ``F.log_softmax`` and ``F.logsumexp``: the stable formulas of
:mod:`tinygrad_rnn.softmax`, which sits below the tensor methods (``x.softmax(dim=1)``) so that
both share one definition. Each takes ``axis=`` or PyTorch's ``dim=``."""
from ..softmax import log_softmax, logsumexp, softmax

__all__ = ["log_softmax", "logsumexp", "softmax"]

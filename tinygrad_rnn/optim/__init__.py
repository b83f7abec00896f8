"""``tg.optim``: optimisers with PyTorch's update rules, defaults and ``param_groups``.

>>> import tinygrad_rnn as tg
>>> model = tg.nn.Linear(3, 1)
>>> opt = tg.optim.Adam(model.parameters(), lr=1e-2)
>>> loss = (model(tg.ones(4, 3)) ** 2).mean()
>>> opt.zero_grad(); loss.backward(); opt.step()
"""
from .adagrad import Adagrad
from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "Optimizer", "RMSprop"]

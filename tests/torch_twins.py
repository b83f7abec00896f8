"""The check that every comparison with a ``torch.nn`` twin ends with, once both ran backward."""


def assert_gradients_equal(close, ours, theirs, pairs=()) -> None:
    """``ours`` (a tinygrad_rnn module) names its parameters as ``theirs`` (its torch twin) does,
    in the same order, and every parameter's gradient agrees under ``close(ours, theirs)``; so do
    the gradients of each (tinygrad_rnn tensor, torch tensor) in ``pairs`` (inputs, states).
    """
    theirs_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        close(p.grad, theirs_params[name].grad)
    for a, b in pairs:
        close(a.grad, b.grad)

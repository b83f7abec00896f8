"""The command-line demo really fits its regression with the engine's gradients."""

from tinygrad_rnn.demo import TRUE_B, TRUE_W, fit_linear_regression


def test_demo_fits_the_line():
    result = fit_linear_regression(log=None)

    assert abs(result.W - TRUE_W) < 1e-3
    assert abs(result.b - TRUE_B) < 1e-3
    assert result.losses[-1] < 1e-6
    assert result.losses[-1] < result.losses[0]

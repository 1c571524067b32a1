"""numpy_net: hand-derived gradients vs finite differences, convergence to lstsq, reproducibility, errors."""
import numpy as np
import pytest

from paddle_course.boston.data import closed_form_solution, load_data, split_xy
from paddle_course.boston.numpy_net import Network, TrainingDiverged, TwoLayerNetwork


def numerical_gradient(f, param, h=1e-6):
    """Central differences ``(f(p + h) - f(p - h)) / 2h`` for every entry, restoring each after probing."""
    grad = np.zeros_like(param)
    it = np.nditer(param, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        saved = param[idx]
        param[idx] = saved + h
        f_plus = f()
        param[idx] = saved - h
        f_minus = f()
        param[idx] = saved
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12)


@pytest.fixture(scope="module")
def boston():
    training_data, test_data = load_data()
    return training_data, test_data


def test_linear_gradient_matches_finite_differences(boston):
    x, y = split_xy(boston[0][:50])
    net = Network(13, seed=3)
    net.b[:] = 0.3
    gradient_w, gradient_b = net.gradient(x, y)
    loss = lambda: net.loss(net.forward(x), y)  # noqa: E731
    assert gradient_w.shape == (13, 1) and gradient_b.shape == (1,)
    assert relative_error(gradient_w, numerical_gradient(loss, net.w)) < 1e-6
    assert relative_error(gradient_b, numerical_gradient(loss, net.b)) < 1e-6


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_two_layer_gradient_matches_finite_differences(activation):
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((20, 5)), rng.standard_normal((20, 1))
    net = TwoLayerNetwork(5, 8, seed=1, activation=activation)
    for value in net.params.values():
        value += 0.1 * rng.standard_normal(value.shape)  # non-zero biases, no ReLU kinks at exactly 0
    grads = net.gradient(x, y)
    assert set(grads) == set(net.params)
    for key, param in net.params.items():
        numeric = numerical_gradient(lambda: net.loss(net.forward(x), y), param)
        assert grads[key].shape == param.shape
        assert relative_error(grads[key], numeric) < 1e-6, key


def test_full_batch_gd_reaches_least_squares_optimum(boston):
    training_data, _ = boston
    _, _, optimum = closed_form_solution(training_data)
    net = Network(13)
    losses = net.train(training_data)  # defaults: full-batch GD
    x, y = split_xy(training_data)
    final = net.loss(net.forward(x), y)
    assert final <= 1.01 * optimum
    assert losses[-1] <= losses[0]


def test_minibatch_sgd_reaches_least_squares_optimum(boston):
    training_data, _ = boston
    w_opt, b_opt, optimum = closed_form_solution(training_data)
    net = Network(13)
    losses = net.train(training_data, batch_size=10)
    x, y = split_xy(training_data)
    assert net.loss(net.forward(x), y) <= 1.01 * optimum
    assert len(losses) == 300 * 41  # one loss per mini-batch: 404 rows -> 41 batches per epoch


def test_same_seed_same_numbers_different_seed_different_numbers(boston):
    training_data, _ = boston
    runs = []
    for seed in (5, 5, 6):
        net = Network(13, seed=seed)
        runs.append((net.train(training_data, 3, batch_size=32, eta=0.05, seed=seed), net.w.copy()))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][1], runs[2][1])


def test_training_does_not_modify_the_callers_data(boston):
    training_data, _ = boston
    before = training_data.copy()
    Network(13).train(training_data, 2, batch_size=10)
    np.testing.assert_array_equal(training_data, before)


def test_divergence_stops_with_advice_to_lower_the_learning_rate(boston):
    with pytest.raises(TrainingDiverged, match="Lower the learning rate"):
        Network(13).train(boston[0], 200, eta=50.0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(eta=0), "eta must be a positive"),
    (dict(eta=-0.1), "eta must be a positive"),
    (dict(batch_size=0), "batch_size must be a positive integer"),
    (dict(batch_size=2.5), "batch_size must be a positive integer"),
    (dict(num_epochs=-1), "num_epochs"),
])
def test_bad_training_arguments_are_rejected(boston, kwargs, message):
    args = dict(num_epochs=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Network(13).train(boston[0], **args)


def test_wrong_shapes_are_rejected(boston):
    net = Network(13)
    with pytest.raises(ValueError, match=r"shape \(N, 14\)"):
        net.train(boston[0][:, :10], 1)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 13\)"):
        net.gradient(np.ones((4, 12)), np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"y must have shape \(4, 1\)"):
        net.gradient(np.ones((4, 13)), np.ones(4))
    with pytest.raises(ValueError, match="num_of_weights"):
        Network(0)


def test_two_layer_network_trains_below_the_linear_optimum(boston):
    training_data, _ = boston
    _, _, optimum = closed_form_solution(training_data)
    net = TwoLayerNetwork(13, 32, seed=0)
    net.train(training_data, 200, batch_size=10)
    x, y = split_xy(training_data)
    # a hidden layer can fit what a straight line cannot
    assert net.loss(net.forward(x), y) < optimum

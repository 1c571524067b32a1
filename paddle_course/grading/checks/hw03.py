"""Checks of homework 3: forward and backward pass of a two-layer network.

Every gradient is compared with central finite differences of the loss
(``(L(p + eps) - L(p - eps)) / 2 eps`` for each entry, as
deep-learning-from-scratch's ``numerical_gradient`` does), so the check does not
depend on one way of writing backpropagation; the analytic formulas are only
used to recognise common mistakes.
"""
import numpy as np

from paddle_course.grading.framework import (Assignment, CheckFailed, as_array, check, expect_close, expect_true,
                                             get_function, show)
from paddle_course.grading.remote import type_name

ASSIGNMENT = Assignment(
    id="hw03",
    folder="hw03_two_layer_backprop",
    title="Two-layer network backpropagation (两层网络的反向传播)",
    covers="forward and gradient of z = act(x W1 + b1) W2 + b2 with ReLU and sigmoid hidden units, "
    "every parameter's gradient checked against central finite differences.",
    check_timeout=5.0,
)

KEYS = ("W1", "b1", "W2", "b2")
BACKPROP_HINT = ("dz = 2/N (z - y); dW2 = h^T dz; db2 = dz.sum(axis=0); dh = dz W2^T; da = dh * act'(a); "
                 "dW1 = x^T da; db1 = da.sum(axis=0)")


def _activate(a, activation):
    return np.maximum(a, 0.0) if activation == "relu" else np.exp(-np.logaddexp(0.0, -a))


def _forward(params, x, activation):
    a = x @ params["W1"] + params["b1"]
    h = _activate(a, activation)
    return a, h, h @ params["W2"] + params["b2"]


def _loss(params, x, y, activation):
    return float(np.mean((_forward(params, x, activation)[2] - y) ** 2))


def numerical_gradient(params, x, y, activation, eps=1e-6):
    """Central differences of the loss for every entry of every parameter."""
    grads = {}
    for key in KEYS:
        value = params[key]
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            plus = _loss(params, x, y, activation)
            value[index] = saved - eps
            minus = _loss(params, x, y, activation)
            value[index] = saved
            grad[index] = (plus - minus) / (2 * eps)
        grads[key] = grad
    return grads


def _backprop(params, x, y, activation, mistake=None):
    """The analytic gradient, or the one a named ``mistake`` produces."""
    a, h, z = _forward(params, x, activation)
    n = x.shape[0]
    dz = {"no_mean": 2.0 * (z - y), "sign": 2.0 * (y - z) / n, "no_two": (z - y) / n}.get(mistake, 2.0 * (z - y) / n)
    dh = dz @ params["W2"].T
    if mistake == "no_act_grad":
        local = np.ones_like(a)
    elif mistake == "act_grad_of_a":
        local = a if activation == "relu" else a * (1 - a)
    elif mistake == "relu_grad_is_h":
        local = h
    else:
        local = (a > 0).astype(float) if activation == "relu" else h * (1 - h)
    da = dh * local
    divisor = n if mistake == "bias_mean" else 1
    return {"W1": x.T @ da, "b1": da.sum(axis=0) / divisor, "W2": h.T @ dz, "b2": dz.sum(axis=0) / divisor}


MISTAKES = {
    "no_mean": "the loss is a mean: dz = 2/N (z - y) -- the 1/N is missing",
    "sign": "the sign is flipped: dz = 2/N (z - y), prediction minus target",
    "no_two": "the factor 2 of d(z - y)^2 / dz is missing",
    "no_act_grad": "the activation's derivative is missing: da = dh * act'(a)",
    "act_grad_of_a": {"relu": "ReLU's derivative is the mask 1[a > 0], not a itself",
                      "sigmoid": "sigmoid's derivative is h (1 - h) with h = sigmoid(a), not a (1 - a)"},
    "relu_grad_is_h": "ReLU's derivative is 1 where a > 0 (a mask), not h = max(a, 0)",
    "bias_mean": "the bias gradient divides by N again: dz already carries 1/N, so db = dz.sum(axis=0)",
}


def _setup(module, rng, activation, num_samples=None):
    # different sizes, so a transposed gradient shows in its shape
    num_inputs, num_hidden = int(rng.integers(3, 6)), int(rng.integers(6, 9))
    num_samples = num_samples or int(rng.integers(8, 16))
    Network = get_function(module, "TwoLayerNetwork")
    net = Network(num_inputs, num_hidden, seed=0, activation=activation)
    params = {"W1": rng.normal(size=(num_inputs, num_hidden)), "b1": rng.normal(size=num_hidden) * 0.5,
              "W2": rng.normal(size=(num_hidden, 1)), "b2": rng.normal(size=1)}
    net.params = {key: value.copy() for key, value in params.items()}
    x = rng.normal(size=(num_samples, num_inputs))
    y = rng.normal(size=(num_samples, 1))
    return net, params, x, y


def _learner_gradient(net, params, x, y, keys=KEYS):
    grads = net.gradient(x.copy(), y.copy())
    if not isinstance(grads, dict):
        raise CheckFailed(f"gradient should return a dict with keys {list(KEYS)}, got {type_name(grads)}")
    missing = [key for key in KEYS if key not in grads]
    expect_true(not missing, f"the gradient dict has no key(s) {missing}; use the keys of self.params {list(KEYS)}")
    return {key: as_array(grads[key], f"gradient[{key!r}]", params[key].shape) for key in keys}


def _compare_gradients(grads, params, x, y, activation, keys):
    expected = numerical_gradient({k: v.copy() for k, v in params.items()}, x, y, activation)
    for key in keys:
        mistakes = {}
        for mistake, description in MISTAKES.items():
            if isinstance(description, dict):
                description = description[activation]
            wrong = _backprop(params, x, y, activation, mistake)[key]
            if not np.allclose(wrong, expected[key], rtol=1e-4, atol=1e-6):
                mistakes.setdefault(description, wrong)
        if expected[key].ndim == 2 and expected[key].shape[0] == expected[key].shape[1]:
            mistakes[f"it is transposed: d{key} = (input of the layer)^T (gradient of its output)"] = expected[key].T
        expect_close(grads[key], expected[key], f"gradient[{key!r}] ({activation}, vs finite differences)",
                     mistakes=mistakes, rtol=1e-4, atol=1e-6)


def _check_forward(module, rng, activation):
    net, params, x, _ = _setup(module, rng, activation)
    z = as_array(net.forward(x.copy()), "forward(x)", (x.shape[0], 1))
    a, h, expected = _forward(params, x, activation)
    other = "sigmoid" if activation == "relu" else "relu"
    expect_close(z, expected, f"forward(x) with activation={activation!r}", mistakes={
        f"it applies {other} instead of {activation}: look at self.activation": _forward(params, x, other)[2],
        "the activation is missing: h = act(a)": a @ params["W2"] + params["b2"],
        "the bias b2 is missing": h @ params["W2"],
    })


@check(1, tests="forward with ReLU: z = max(x W1 + b1, 0) W2 + b2 on random parameters",
       hint="a = x @ W1 + b1; h = np.maximum(a, 0); z = h @ W2 + b2, shape (N, 1)")
def forward_relu(module, rng):
    _check_forward(module, rng, "relu")


@check(1, tests="forward with sigmoid: z = sigmoid(x W1 + b1) W2 + b2 on random parameters",
       hint="h = 1 / (1 + np.exp(-a)) when self.activation == 'sigmoid'")
def forward_sigmoid(module, rng):
    _check_forward(module, rng, "sigmoid")


@check(1, tests="gradient returns a dict with W1, b1, W2, b2, each of its parameter's shape",
       hint="dW1 = x^T da is (n, h) like W1; db1 is (h,); dW2 = h^T dz is (h, 1); db2 is (1,). "
       "A transposed shape means the product is written the wrong way round")
def gradient_keys_and_shapes(module, rng):
    net, params, x, y = _setup(module, rng, "relu")
    _learner_gradient(net, params, x, y)


@check(2, tests="dL/dW2 and dL/db2 (output layer) match finite differences",
       hint="dz = 2/N (z - y) (N, 1); dW2 = h^T dz (h, 1); db2 = dz.sum(axis=0) (1,)")
def gradient_output_layer(module, rng):
    net, params, x, y = _setup(module, rng, "relu")
    grads = _learner_gradient(net, params, x, y, keys=("W2", "b2"))
    _compare_gradients(grads, params, x, y, "relu", ("W2", "b2"))


@check(2, tests="dL/dW1 and dL/db1 (hidden layer, ReLU) match finite differences",
       hint="dh = dz W2^T (N, h); da = dh * (a > 0); dW1 = x^T da (n, h); db1 = da.sum(axis=0) (h,)")
def gradient_hidden_layer_relu(module, rng):
    net, params, x, y = _setup(module, rng, "relu")
    grads = _learner_gradient(net, params, x, y, keys=("W1", "b1"))
    _compare_gradients(grads, params, x, y, "relu", ("W1", "b1"))


@check(2, tests="every gradient with sigmoid hidden units matches finite differences",
       hint="sigmoid'(a) = s (1 - s) with s = sigmoid(a) = h: da = dh * h * (1 - h)")
def gradient_sigmoid(module, rng):
    net, params, x, y = _setup(module, rng, "sigmoid")
    grads = _learner_gradient(net, params, x, y)
    _compare_gradients(grads, params, x, y, "sigmoid", KEYS)


@check(1, tests="gradient leaves self.params unchanged (computing a gradient is not an update)",
       hint="gradient only reads the parameters; the step p <- p - eta * dL/dp belongs to update/train. "
       "Watch out for in-place operators (-=, +=) on arrays that are the parameters themselves")
def gradient_leaves_params_unchanged(module, rng):
    net, params, x, y = _setup(module, rng, "relu")
    net.gradient(x.copy(), y.copy())
    for key in KEYS:
        now = as_array(net.params.get(key), f"self.params[{key!r}] after gradient", params[key].shape)
        expect_true(np.array_equal(now, params[key]), f"gradient changed self.params[{key!r}]",
                    expected=show(params[key]), received=show(now))

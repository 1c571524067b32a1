"""Checks of homework 1: forward values and partial derivatives on small computation graphs.

Expected values come from the formulas written out below; inputs are random
(seeded), so only a correct chain rule passes.
"""
import numpy as np

from paddle_course.grading.framework import (Assignment, CheckFailed, as_array, as_number, check, expect_close,
                                             get_function)
from paddle_course.grading.remote import type_name

ASSIGNMENT = Assignment(
    id="hw01",
    folder="hw01_computation_graph",
    title="Computation graph and the chain rule (计算图与链式法则)",
    covers="Forward values and every partial derivative of small graphs by the four steps: "
    "the course's L = (w.x + b - y)^2, a graph with shared nodes where gradients add, "
    "and extreme cases (zero input, perfect prediction, saturated sigmoid).",
    check_timeout=5.0,
)

SIGN = "the sign is flipped: e = z - y, so de/dz = +1 and de/dy = -1"
NO_TWO = "the factor 2 is missing: d(e^2)/de = 2e"


def _graph(module, name, args, value_keys, grad_keys):
    """Call ``name(*args)`` and check it returns ``(values, grads)`` dicts with the documented keys."""
    result = get_function(module, name)(*args)
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailed(f"{name} should return a pair (values, grads), got {type_name(result)}")
    for what, table, keys in (("values", result[0], value_keys), ("grads", result[1], grad_keys)):
        if not isinstance(table, dict):
            raise CheckFailed(f"{name}: {what} should be a dict, got {type_name(table)}")
        missing = [key for key in keys if key not in table]
        if missing:
            raise CheckFailed(f"{name}: {what} has no key(s) {missing}; expected the keys {list(keys)}")
    return result


def _linear_expected(w, x, b, y):
    u = float(w @ x)
    z = u + b
    e = z - y
    g = 2.0 * e
    return ({"u": u, "z": z, "e": e, "L": e * e},
            {"e": g, "z": g, "u": g, "b": g, "y": -g, "w": g * x, "x": g * w})


def _sign_or_two(key, value):
    return {SIGN: -value, NO_TWO: value / 2.0}


def _compare(received, expected, name, what, shapes=None, mistakes=None):
    for key, want in expected.items():
        label = f"{name}: {what}[{key!r}]"
        if shapes and key in shapes:
            got = as_array(received[key], label, shapes[key])
        else:
            got = as_number(received[key], label)
        expect_close(got, want, label, mistakes=(mistakes or (lambda k, v: {}))(key, np.asarray(want)))


def _linear_inputs(rng, n=None):
    n = n or int(rng.integers(3, 7))
    return rng.normal(size=n), rng.normal(size=n), float(rng.normal()), float(rng.normal())


@check(1, tests="linear_loss_graph: forward values u, z, e, L of L = (w.x + b - y)^2 on random inputs",
       hint="u = w.x = sum_j w_j x_j, z = u + b, e = z - y, L = e^2 (step 1: forward)")
def linear_forward_values(module, rng):
    w, x, b, y = _linear_inputs(rng)
    values, _ = _graph(module, "linear_loss_graph", (w.copy(), x.copy(), b, y), "uzeL", "ezubywx")
    expected, _ = _linear_expected(w, x, b, y)
    _compare(values, expected, "linear_loss_graph", "values",
             mistakes=lambda key, v: {"computed y - z instead of z - y": -v} if key == "e" else {})


@check(2, tests="linear_loss_graph: dL/de, dL/dz, dL/du, dL/db, dL/dy, dL/dw, dL/dx on random inputs",
       hint="dL/de = 2e; dL/dz = dL/de; dL/dy = -dL/de; dL/du = dL/db = dL/dz; dL/dw = dL/du * x; "
       "dL/dx = dL/du * w (steps 2-3: local derivatives times the gradient from above)")
def linear_gradients(module, rng):
    w, x, b, y = _linear_inputs(rng)
    _, grads = _graph(module, "linear_loss_graph", (w.copy(), x.copy(), b, y), "uzeL", "ezubywx")
    _, expected = _linear_expected(w, x, b, y)
    e = expected["e"] / 2.0

    def mistakes(key, value):
        found = {SIGN: -value, NO_TWO: value / 2.0}
        if key == "w":
            found["dL/dw multiplies by w instead of x: du/dw = x"] = 2.0 * e * w
        if key == "x":
            found["dL/dx multiplies by x instead of w: du/dx = w"] = 2.0 * e * x
        return found

    _compare(grads, expected, "linear_loss_graph", "grads", shapes={"w": w.shape, "x": x.shape},
             mistakes=mistakes)


@check(1, tests="linear_loss_graph extreme cases: x = 0 gives dL/dw = 0; a perfect prediction gives all gradients 0",
       hint="考虑极端情况: dL/dw = 2e * x is 0 where x is 0 (the weight has no effect); "
       "when w.x + b = y, e = 0 and every gradient is 0")
def linear_extreme_cases(module, rng):
    w, x, b, y = _linear_inputs(rng)
    zero_x = np.zeros_like(x)
    _, grads = _graph(module, "linear_loss_graph", (w.copy(), zero_x, b, y), "uzeL", "ezubywx")
    got = as_array(grads["w"], "linear_loss_graph with x = 0: grads['w']", w.shape)
    expect_close(got, np.zeros_like(w), "linear_loss_graph with x = 0: grads['w'] (x = 0 means w has no effect on L)")
    _, expected = _linear_expected(w, zero_x, b, y)
    _compare(grads, expected, "linear_loss_graph with x = 0", "grads", shapes={"w": w.shape, "x": x.shape},
             mistakes=_sign_or_two)
    perfect_y = float(w @ x) + b
    _, grads = _graph(module, "linear_loss_graph", (w.copy(), x.copy(), b, perfect_y), "uzeL", "ezubywx")
    _, expected = _linear_expected(w, x, b, perfect_y)
    _compare(grads, expected, "linear_loss_graph with a perfect prediction (e = 0)", "grads",
             shapes={"w": w.shape, "x": x.shape})


def _shared_expected(x, y):
    q = x * y
    s = q + x
    dq = s + q
    return {"q": q, "s": s, "L": s * q}, {"s": q, "q": dq, "x": dq * y + q, "y": dq * x}


@check(1, tests="shared_node_graph: forward values q = x y, s = q + x, L = s q on random inputs",
       hint="step 1: q = x * y, s = q + x, L = s * q")
def shared_forward_values(module, rng):
    x, y = (float(v) for v in rng.uniform(0.5, 2.0, size=2) * rng.choice([-1, 1], size=2))
    values, _ = _graph(module, "shared_node_graph", (x, y), "qsL", "sqxy")
    expected, _ = _shared_expected(x, y)
    _compare(values, expected, "shared_node_graph", "values")


@check(2, tests="shared_node_graph: dL/ds, dL/dq, dL/dx, dL/dy, where x and q each feed two nodes",
       hint="step 4: a node used twice gets the SUM of the gradients of both paths: "
       "dL/dq = s + dL/ds * 1 = s + q; dL/dx = dL/dq * y + dL/ds * 1")
def shared_gradients_add(module, rng):
    x, y = (float(v) for v in rng.uniform(0.5, 2.0, size=2) * rng.choice([-1, 1], size=2))
    _, grads = _graph(module, "shared_node_graph", (x, y), "qsL", "sqxy")
    _, expected = _shared_expected(x, y)
    q, s = x * y, x * y + x
    one_path = "only one path is counted: a shared node must ADD the gradients of all paths"

    def mistakes(key, value):
        return {
            "q": {f"{one_path} (q -> L gives s, q -> s -> L gives q)": s},
            "x": {f"{one_path} (x -> q -> ... and x -> s -> L)": (s + q) * y,
                  f"{one_path} (x -> s -> L alone gives q)": q,
                  f"{one_path}: dL/dq used only the direct path q -> L": s * y + q},
            "y": {f"{one_path}: dL/dq used only the direct path q -> L": s * x},
        }.get(key, {})

    _compare(grads, expected, "shared_node_graph", "grads", mistakes=mistakes)


def _sigmoid(a):
    return float(np.exp(-np.logaddexp(0.0, -a)))  # 1 / (1 + e^-a), stable for any a


def _neuron_expected(w, x, b, y):
    a = w * x + b
    p = _sigmoid(a)
    g = 2.0 * (p - y) * p * (1.0 - p)
    return {"a": a, "p": p, "L": (p - y) ** 2}, {"p": 2.0 * (p - y), "a": g, "w": g * x, "x": g * w, "b": g}


@check(2, tests="sigmoid_neuron_graph: values and dL/dp, dL/da, dL/dw, dL/dx, dL/db for |a| < 3",
       hint="dL/dp = 2(p - y); dp/da = p(1 - p); dL/da = dL/dp * p(1 - p); dL/dw = dL/da * x; "
       "dL/dx = dL/da * w; dL/db = dL/da")
def sigmoid_gradients(module, rng):
    w, x, y = float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-1.5, 1.5)), float(rng.uniform(0, 1))
    b = float(rng.uniform(-0.5, 0.5))
    values, grads = _graph(module, "sigmoid_neuron_graph", (w, x, b, y), "apL", "pawxb")
    expected_values, expected = _neuron_expected(w, x, b, y)
    _compare(values, expected_values, "sigmoid_neuron_graph", "values")
    a, p = expected_values["a"], expected_values["p"]

    def mistakes(key, value):
        factor = {"a": 1.0, "b": 1.0, "w": x, "x": w}.get(key)
        if factor is None:
            return {SIGN: -value, NO_TWO: value / 2}
        return {
            "the sigmoid's derivative is p(1 - p), not a(1 - a)": 2 * (p - y) * a * (1 - a) * factor,
            "the sigmoid's local derivative p(1 - p) is missing": 2 * (p - y) * factor,
            SIGN: -value,
            NO_TWO: value / 2,
        }

    _compare(grads, expected, "sigmoid_neuron_graph", "grads", mistakes=mistakes)


@check(1, tests="sigmoid_neuron_graph extreme case: a saturated neuron (a = +-40, +-800) gives finite, ~0 gradients",
       hint="考虑极端情况: when |a| is large p is 0 or 1 and p(1 - p) = 0, so the gradient vanishes. Compute "
       "dp/da as p * (1 - p) from p, not as exp(-a) / (1 + exp(-a))^2, which is inf/inf = NaN for a = -800")
def sigmoid_saturated(module, rng):
    for a in (40.0, -40.0, 800.0, -800.0):
        w = float(rng.uniform(0.5, 1.5))
        x = a / w
        y = float(rng.uniform(0.2, 0.8))
        values, grads = _graph(module, "sigmoid_neuron_graph", (w, x, 0.0, y), "apL", "pawxb")
        expected_values, expected = _neuron_expected(w, x, 0.0, y)
        _compare(values, {"p": expected_values["p"]}, f"sigmoid_neuron_graph at a = {a:g}", "values")
        _compare(grads, expected, f"sigmoid_neuron_graph at a = {a:g} (saturated)", "grads")

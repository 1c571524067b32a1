"""TEACHER'S COPY -- reference solution of homework 1 (computation graph).

教师参考答案，请勿分发给学员。  Do not hand this file out; learners start from
homework/hw01_computation_graph/starter.py.  The autograder's tests check that
this file scores full marks.
"""
import numpy as np


def linear_loss_graph(w, x, b, y):
    """``u = w . x``, ``z = u + b``, ``e = z - y``, ``L = e^2`` and every partial derivative."""
    w, x = np.asarray(w, dtype=float), np.asarray(x, dtype=float)
    # 1. forward
    u = float(np.dot(w, x))
    z = u + b
    e = z - y
    L = e * e
    # 2-3. backward: local derivatives multiplied from L down
    dL_de = 2.0 * e  # d(e^2)/de
    dL_dz = dL_de * 1.0  # de/dz = 1
    dL_dy = dL_de * -1.0  # de/dy = -1
    dL_du = dL_dz * 1.0  # dz/du = 1
    dL_db = dL_dz * 1.0  # dz/db = 1
    dL_dw = dL_du * x  # du/dw = x
    dL_dx = dL_du * w  # du/dx = w
    values = {"u": u, "z": z, "e": e, "L": L}
    grads = {"e": dL_de, "z": dL_dz, "u": dL_du, "b": dL_db, "y": dL_dy, "w": dL_dw, "x": dL_dx}
    return values, grads


def shared_node_graph(x, y):
    """``q = x y``, ``s = q + x``, ``L = s q``: shared nodes add the gradients of their paths."""
    q = x * y
    s = q + x
    L = s * q
    dL_ds = q
    dL_dq = s + dL_ds * 1.0  # q -> L directly, and q -> s -> L
    dL_dx = dL_dq * y + dL_ds * 1.0  # x -> q and x -> s
    dL_dy = dL_dq * x
    return {"q": q, "s": s, "L": L}, {"s": dL_ds, "q": dL_dq, "x": dL_dx, "y": dL_dy}


def sigmoid(a):
    """``1 / (1 + exp(-a))`` without overflow: for a < 0 use ``exp(a) / (1 + exp(a))``."""
    if a >= 0:
        return 1.0 / (1.0 + np.exp(-a))
    ea = np.exp(a)
    return ea / (1.0 + ea)


def sigmoid_neuron_graph(w, x, b, y):
    """``a = w x + b``, ``p = sigmoid(a)``, ``L = (p - y)^2``."""
    a = w * x + b
    p = float(sigmoid(a))
    L = (p - y) ** 2
    dL_dp = 2.0 * (p - y)
    dL_da = dL_dp * p * (1.0 - p)  # saturated: p(1-p) -> 0, the gradient vanishes
    return {"a": a, "p": p, "L": L}, {"p": dL_dp, "a": dL_da, "w": dL_da * x, "x": dL_da * w, "b": dL_da}

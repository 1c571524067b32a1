"""Homework 1: partial derivatives on a computation graph (course 1.3, "计算图与链式法则").

Fill in every function marked TODO; keep the names and the return format.
Work in four steps for every graph (四步走):

  1. forward  -- compute the value of every node from the inputs to L;
  2. local    -- write the local derivative of every edge (d node / d input);
  3. backward -- walk from L back to the inputs, multiplying local derivatives
                 (chain rule), starting from dL/dL = 1;
  4. add      -- where a node feeds several nodes, ADD the gradients coming
                 back along every path.

Then think about the extreme cases (考虑极端情况): what must the gradient be
when an input is 0, when the prediction is perfect, when a sigmoid saturates?

Grade it with:  paddle-course homework check hw01 <this file>
"""
import numpy as np


def linear_loss_graph(w, x, b, y):
    """The course's loss ``L = (w . x + b - y)^2`` as a graph of four nodes.

    Inputs: ``w`` and ``x`` are NumPy arrays of shape ``(n,)``; ``b`` and ``y`` are numbers.
    Nodes:  ``u = w . x``,  ``z = u + b``,  ``e = z - y``,  ``L = e^2``.

    Returns ``(values, grads)``:
      values = {"u": u, "z": z, "e": e, "L": L}                      (numbers)
      grads  = {"e": dL/de, "z": dL/dz, "u": dL/du,                  (numbers)
                "b": dL/db, "y": dL/dy,                              (numbers)
                "w": dL/dw, "x": dL/dx}                              (arrays of shape (n,))
    """
    # TODO step 1: forward values u, z, e, L
    # TODO steps 2-3: dL/de = 2e, then dL/dz, dL/du, dL/db, dL/dy, dL/dw, dL/dx by the chain rule
    raise NotImplementedError("TODO: linear_loss_graph")


def shared_node_graph(x, y):
    """A graph where nodes are shared:  ``q = x * y``,  ``s = q + x``,  ``L = s * q``.

    ``x`` feeds both ``q`` and ``s``; ``q`` feeds both ``s`` and ``L``.  Inputs are numbers.

    Returns ``(values, grads)``:
      values = {"q": q, "s": s, "L": L}
      grads  = {"s": dL/ds, "q": dL/dq, "x": dL/dx, "y": dL/dy}
    """
    # TODO: forward, then backward; remember step 4 -- a shared node adds the gradients of all its paths
    raise NotImplementedError("TODO: shared_node_graph")


def sigmoid_neuron_graph(w, x, b, y):
    """One sigmoid neuron with a squared error:  ``a = w*x + b``,  ``p = sigmoid(a)``,  ``L = (p - y)^2``.

    All inputs are numbers; ``sigmoid(a) = 1 / (1 + exp(-a))``.  It must work for any
    ``a``, including a saturated neuron (``a = 800`` or ``a = -800``): no NaN, no error.

    Returns ``(values, grads)``:
      values = {"a": a, "p": p, "L": L}
      grads  = {"p": dL/dp, "a": dL/da, "w": dL/dw, "x": dL/dx, "b": dL/db}
    """
    # TODO: forward; the local derivative of the sigmoid is dp/da = p * (1 - p)
    raise NotImplementedError("TODO: sigmoid_neuron_graph")

"""Course 1 and 2: Boston house prices, by hand in NumPy and again in PaddlePaddle.

* ``data``                 -- 1.3.2 load, split 80/20, normalise with training statistics, mini-batches;
  the linear model's MSE and its closed-form optimum
* ``numpy_net``            -- 1.3.3-1.3.7 ``Network`` (forward, loss, gradient, update, train) and ``TwoLayerNetwork``
* ``paddle_net``           -- 1.5 ``Regressor(paddle.nn.Layer)``: dynamic graph, static graph, ``paddle.jit.save``
* ``distributed``          -- 1.5 the same training data-parallel over processes (gloo on CPU)
* ``optim``                -- 2 eight optimizers in NumPy, each matching ``paddle.optimizer``
* ``optimizer_comparison`` -- 2 the experiment: which optimizer reaches the optimum first
* ``figures``              -- the lesson's figures
* ``lesson``               -- the lesson end to end: train, save, predict, compare (the CLI and the tour call it)

The course's own names are importable from here: ``from paddle_course.boston import load_data, Network``.
"""
from paddle_course.boston.data import closed_form_solution, load_data, load_dataset
from paddle_course.boston.numpy_net import Network, TwoLayerNetwork

__all__ = ["Network", "TwoLayerNetwork", "closed_form_solution", "load_data", "load_dataset"]

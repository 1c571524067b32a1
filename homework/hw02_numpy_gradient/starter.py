"""Homework 2: the gradient of the linear network and mini-batch SGD in NumPy (course 1.3.5 - 1.3.7).

Fill in the two methods marked TODO: ``Network.gradient`` and ``Network.train``.
Everything else is given and must keep its name and shapes.

Grade it with:  paddle-course homework check hw02 <this file>
"""
import numpy as np


class Network:
    """Linear regression ``z = x w + b`` with the course's API.

    ``w`` has shape ``(num_of_weights, 1)``, ``b`` has shape ``(1,)``.
    """

    def __init__(self, num_of_weights, seed=0):
        self.w = np.random.default_rng(seed).standard_normal((num_of_weights, 1))
        self.b = np.zeros(1)

    def forward(self, x):
        """``z = x w + b``: ``(N, n) @ (n, 1) + (1,) -> (N, 1)``."""
        return np.dot(x, self.w) + self.b

    def loss(self, z, y):
        """Mean squared error ``L = 1/N sum_i (z_i - y_i)^2``."""
        error = z - y
        return float(np.mean(error * error))

    def gradient(self, x, y):
        """The gradient of ``loss(forward(x), y)`` for the whole batch at once.

        ``x`` has shape ``(N, n)`` and ``y`` shape ``(N, 1)``.  With ``z = x w + b``::

            gradient_w = dL/dw = 2/N sum_i (z_i - y_i) x_i     shape (n, 1)
            gradient_b = dL/db = 2/N sum_i (z_i - y_i)         shape (1,)

        Use broadcasting: NO Python loop (no ``for``/``while``/comprehension) over
        the samples -- the grader checks this and times it on N = 200 000.
        Returns ``(gradient_w, gradient_b)``.
        """
        # TODO: z = self.forward(x); error = z - y  (shape (N, 1))
        # TODO: gradient_w from error * x (broadcast to (N, n)), averaged over the samples, as (n, 1)
        # TODO: gradient_b averaged over the samples, as (1,)
        raise NotImplementedError("TODO: Network.gradient")

    def update(self, gradient_w, gradient_b, eta=0.01):
        """One step of gradient descent: ``w <- w - eta * gradient_w``, ``b <- b - eta * gradient_b``."""
        self.w = self.w - eta * gradient_w
        self.b = self.b - eta * gradient_b

    def train(self, training_data, num_epochs, batch_size=10, eta=0.01, seed=0):
        """Mini-batch SGD with a new shuffle every epoch (course 1.3.7).

        ``training_data`` has shape ``(N, n + 1)``; its last column is the target.
        Do exactly this, so the grader can reproduce your numbers::

            rng = np.random.default_rng(seed)          # once, before the first epoch
            for each epoch:
                order = rng.permutation(N)             # a NEW shuffle every epoch
                for k in 0, batch_size, 2*batch_size, ... < N:
                    rows = order[k:k + batch_size]     # the last batch may be smaller
                    x, y = training_data[rows, :-1], training_data[rows, -1:]
                    loss = self.loss(self.forward(x), y)   # the loss BEFORE the update
                    gradient_w, gradient_b = self.gradient(x, y)
                    self.update(gradient_w, gradient_b, eta)
                    losses.append(loss)

        Do not change ``training_data`` itself (shuffle indices, not the rows of
        the caller's array).  Returns the list of losses, one per mini-batch.
        """
        # TODO: implement the loop above
        raise NotImplementedError("TODO: Network.train")

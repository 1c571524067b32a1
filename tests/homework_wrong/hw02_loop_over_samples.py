"""WRONG solution for the autograder tests (hw02): a Python loop over the samples -- see the line marked WRONG."""
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
        error = self.forward(x) - y
        gradient_w = np.zeros_like(self.w)
        for i in range(len(x)):  # WRONG: a Python loop over the samples
            gradient_w += 2.0 * error[i, 0] * x[i][:, np.newaxis] / len(x)
        gradient_b = 2.0 * np.mean(error, axis=0)  # (1,)
        return gradient_w, gradient_b

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
        num_samples = len(training_data)
        rng = np.random.default_rng(seed)
        losses = []
        for _epoch in range(num_epochs):
            order = rng.permutation(num_samples)
            for k in range(0, num_samples, batch_size):
                rows = order[k:k + batch_size]
                x, y = training_data[rows, :-1], training_data[rows, -1:]
                loss = self.loss(self.forward(x), y)
                gradient_w, gradient_b = self.gradient(x, y)
                self.update(gradient_w, gradient_b, eta)
                losses.append(loss)
        return losses

"""Homework 4: the Boston regressor rewritten with PaddlePaddle (course 1.5, "用飞桨重写").

Fill in ``Regressor`` and ``train`` (marked TODO).  The grader starts your
model from the same weights as a NumPy ``Network``, trains both on the same
mini-batches and expects the same parameters at the end.

Grade it with:  paddle-course homework check hw04 <this file>
"""
import numpy as np
import paddle
import paddle.nn.functional as F


class Regressor(paddle.nn.Layer):
    """``z = x w + b``: one fully connected layer, ``num_inputs`` features in, one price out."""

    def __init__(self, num_inputs=13):
        super().__init__()
        # TODO: self.fc = a paddle.nn.Linear layer from num_inputs features to 1 output
        raise NotImplementedError("TODO: Regressor.__init__")

    def forward(self, inputs):
        """``inputs`` is a float32 tensor of shape ``[N, num_inputs]``; return ``[N, 1]``."""
        # TODO: apply self.fc
        raise NotImplementedError("TODO: Regressor.forward")


def train(model, training_data, num_epochs, batch_size=10, learning_rate=0.01, seed=0):
    """Train ``model`` with ``paddle.optimizer.SGD`` on the same batches as homework 2.

    ``training_data`` is a NumPy array ``(N, n + 1)`` whose last column is the target::

        opt = paddle.optimizer.SGD(learning_rate=learning_rate, parameters=model.parameters())
        rng = np.random.default_rng(seed)                 # once
        for each epoch:
            order = rng.permutation(N)                    # a new shuffle every epoch
            for k in 0, batch_size, ... < N:
                rows = order[k:k + batch_size]
                x = paddle.to_tensor(training_data[rows, :-1], dtype="float32")
                y = paddle.to_tensor(training_data[rows, -1:], dtype="float32")
                predicts = model(x)
                loss = paddle.mean(F.square_error_cost(predicts, label=y))   # mean, not sum
                loss.backward()
                opt.step()
                opt.clear_grad()                          # or the gradients add up
                losses.append(float(loss))

    Returns the list of losses, one per mini-batch.
    """
    # TODO: implement the loop above
    raise NotImplementedError("TODO: train")

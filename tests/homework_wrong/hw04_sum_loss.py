"""WRONG solution for the autograder tests (hw04): loss summed over the batch -- see the line marked WRONG."""
import numpy as np
import paddle
import paddle.nn.functional as F


class Regressor(paddle.nn.Layer):
    """``z = x w + b``: one fully connected layer, ``num_inputs`` features in, one price out."""

    def __init__(self, num_inputs=13):
        super().__init__()
        self.fc = paddle.nn.Linear(in_features=num_inputs, out_features=1)

    def forward(self, inputs):
        """``inputs`` is a float32 tensor of shape ``[N, num_inputs]``; return ``[N, 1]``."""
        return self.fc(inputs)


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
                loss = paddle.sum(F.square_error_cost(predicts, label=y))  # WRONG: sum instead of mean   # mean, not sum
                loss.backward()
                opt.step()
                opt.clear_grad()                          # or the gradients add up
                losses.append(float(loss))

    Returns the list of losses, one per mini-batch.
    """
    opt = paddle.optimizer.SGD(learning_rate=learning_rate, parameters=model.parameters())
    rng = np.random.default_rng(seed)
    num_samples = len(training_data)
    losses = []
    model.train()
    for _epoch in range(num_epochs):
        order = rng.permutation(num_samples)
        for k in range(0, num_samples, batch_size):
            rows = order[k:k + batch_size]
            x = paddle.to_tensor(training_data[rows, :-1], dtype="float32")
            y = paddle.to_tensor(training_data[rows, -1:], dtype="float32")
            predicts = model(x)
            loss = paddle.sum(F.square_error_cost(predicts, label=y))  # WRONG: sum instead of mean
            loss.backward()
            opt.step()
            opt.clear_grad()
            losses.append(float(loss))
    return losses

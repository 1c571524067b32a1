"""When the learning rate is too large: the loss grows without bound (course 1.3.6, "学习率").

:class:`DivergedError` is what every Boston trainer raises (the NumPy networks, Paddle's dynamic
and static graphs, the data-parallel run) when the loss stops being a finite number.  Its message
is the lesson's explanation, so ``paddle-course boston train --lr 5`` prints it instead of a
traceback.  NumPy only: importing this module imports no Paddle.
"""
import numpy as np

# the lesson's learning rates (numpy_net.Network.default_eta): full-batch GD, mini-batch SGD
LESSON_GD_ETA, LESSON_SGD_ETA = 0.5, 0.05


def gd_stable_limit(training_data):
    """The largest learning rate for which full-batch GD on the linear model converges: ``2 / lambda_max``.

    Course 1.3.6: for ``L(w, b) = 1/N sum (x w + b - y)^2`` the Hessian is ``H = 2/N X1^T X1``
    with ``X1 = [x, 1]``, the same everywhere.  A GD step ``w <- w - eta H (w - w*)`` shrinks the
    distance to the optimum ``w*`` along every eigenvector only if ``|1 - eta lambda| < 1``, i.e.
    ``eta < 2 / lambda_max``; beyond it the step overshoots further each time and the loss explodes.
    """
    data = np.asarray(training_data, dtype=np.float64)
    x1 = np.hstack([data[:, :-1], np.ones((len(data), 1))])
    hessian = 2.0 / len(data) * x1.T @ x1
    return float(2.0 / np.linalg.eigvalsh(hessian).max())


class DivergedError(ValueError):
    """The loss became NaN or infinite during training: the learning rate is too large.

    Attributes: ``loss``, ``epoch``, ``iteration``, ``learning_rate`` (or the optimizer),
    ``limit`` (the GD stability limit :func:`gd_stable_limit`, when known).  A ``ValueError``:
    a learning rate is an argument, and this one was a bad value for it.
    """

    def __init__(self, loss, epoch, iteration, learning_rate, limit=None, batch_size=None):
        self.loss, self.epoch, self.iteration = loss, epoch, iteration
        self.learning_rate, self.limit, self.batch_size = learning_rate, limit, batch_size
        super().__init__(self._explain())

    def _explain(self):
        method = "full-batch GD" if self.batch_size is None else f"mini-batch SGD (batch {self.batch_size})"
        advice = (f"full-batch GD on this data converges only for eta < {self.limit:.2f} (2 / the largest "
                  f"eigenvalue of the loss's Hessian); " if self.limit is not None else "")
        return (
            f"training diverged: the loss became {self.loss} at epoch {self.epoch}, iteration {self.iteration} "
            f"of {method} with learning rate {self.learning_rate}.\n"
            f"Each step moves the weights by eta x gradient; when eta is too large the step jumps past the "
            f"minimum to a point where the gradient is larger still, so every step lands further away and the "
            f"loss grows without bound.\n"
            f"Lower the learning rate and train again: {advice}the lesson uses eta = {LESSON_GD_ETA} for GD "
            f"(--batch-size full) and {LESSON_SGD_ETA} for mini-batch SGD, e.g. --lr {LESSON_GD_ETA} or smaller."
        )

"""The hand-written NumPy networks of course 1.3 ("使用Python和NumPy构建神经网络模型").

``Network`` is the lesson's linear model ``z = x w + b`` with the lesson's API:
``forward``, ``loss``, ``gradient``, ``update`` and ``train``.  ``TwoLayerNetwork``
adds one hidden layer (ReLU or sigmoid) and keeps its parameters in a dict, as
deep-learning-from-scratch does, so its gradient is a dict with the same keys.

Both train with the same loop (:class:`_Trainable`): full-batch gradient descent
when ``batch_size`` is None, mini-batch SGD with a fresh shuffle every epoch
otherwise (course 1.3.7).  Any optimizer from ``paddle_course.boston.optim`` can replace
the plain ``update`` step: it receives the ``params`` and ``gradients`` dicts.
"""
import numpy as np

from paddle_course.boston.data import check_batch_size, minibatch_indices
from paddle_course.boston.diverged import DivergedError, gd_stable_limit
from paddle_course.common.progress import progress

TrainingDiverged = DivergedError  # the name this error had before; kept for code written against it


def _check_xy(x, y, num_inputs):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != num_inputs:
        raise ValueError(f"x must have shape (N, {num_inputs}), got {x.shape}")
    if y.shape != (x.shape[0], 1):
        raise ValueError(f"y must have shape ({x.shape[0]}, 1) to match x, got {y.shape}")
    return x, y


def _check_eta(eta):
    if not np.isfinite(eta) or eta <= 0:
        raise ValueError(f"the learning rate eta must be a positive number, got {eta!r}")


def mse(z, y):
    """Mean squared error ``L = 1/N * sum_i (z_i - y_i)^2`` (course 1.3.4)."""
    error = z - y
    return float(np.mean(error * error))


class _Trainable:
    """The training loop shared by both networks (course 1.3.6 and 1.3.7)."""

    num_inputs: int

    def train(self, training_data, num_epochs=None, batch_size=None, eta=None, shuffle=True, seed=0,
              optimizer=None, quiet=True, callback=None):
        """Train on ``training_data`` (``N x (num_inputs + 1)``, last column the target).

        * ``batch_size=None``: full-batch gradient descent, one update per epoch;
        * ``batch_size=k``: mini-batch SGD; with ``shuffle`` the rows are permuted
          every epoch by ``numpy.random.default_rng(seed)``, so the same seed gives
          the same batches and the same numbers.

        Each update step is ``params <- params - eta * gradient`` unless an
        ``optimizer`` (``paddle_course.boston.optim``) is given, whose ``step(params,
        gradients)`` then does the update.  ``callback(epoch, iteration, loss)`` is
        called after each step.  Returns the loss of every step (one per epoch for
        full-batch GD, one per mini-batch for SGD: the curve with "毛刺").
        """
        num_epochs = self.default_epochs(batch_size) if num_epochs is None else num_epochs
        if isinstance(num_epochs, bool) or not isinstance(num_epochs, (int, np.integer)) or num_epochs < 0:
            raise ValueError(f"num_epochs must be a non-negative integer, got {num_epochs!r}")
        eta = self.default_eta(batch_size) if eta is None else eta
        if optimizer is None:
            _check_eta(eta)
        batch_size = check_batch_size(batch_size)
        data = np.asarray(training_data, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != self.num_inputs + 1 or data.shape[0] == 0:
            raise ValueError(
                f"training_data must have shape (N, {self.num_inputs + 1}) with N >= 1 "
                f"({self.num_inputs} features + target), got {data.shape}"
            )
        rng = np.random.default_rng(seed)
        losses = []
        # overflow shows up as a non-finite loss, which is reported below
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch_id in progress(range(num_epochs), desc="epochs", quiet=quiet):
                for iter_id, rows in enumerate(minibatch_indices(len(data), batch_size, shuffle, rng)):
                    x, y = data[rows, :-1], data[rows, -1:]
                    z = self.forward(x)
                    loss = self.loss(z, y)
                    if not np.isfinite(loss):
                        raise DivergedError(loss, epoch_id, iter_id, eta if optimizer is None else optimizer,
                                            self._stable_limit(data, optimizer), batch_size)
                    gradients = self.backward(x, y, z)
                    if optimizer is None:
                        self.apply_gradients(gradients, eta)
                    else:
                        optimizer.step(self.params, gradients)
                    losses.append(loss)
                    if callback is not None:
                        callback(epoch_id, iter_id, loss)
        return losses

    def _stable_limit(self, data, optimizer):
        """The GD stability limit when it is known: the linear model stepped by plain GD/SGD."""
        return gd_stable_limit(data) if optimizer is None and isinstance(self, Network) else None


class Network(_Trainable):
    """Linear regression ``z = x w + b`` trained by hand (course 1.3.3 - 1.3.7).

    ``w`` has shape ``(num_of_weights, 1)`` and ``b`` shape ``(1,)``, the shapes of
    ``paddle.nn.Linear(num_of_weights, 1)``'s weight and bias, so the two can be
    copied into each other.  ``w`` starts as standard normal numbers drawn with
    ``seed``; ``b`` starts at 0, as in the course.
    """

    def __init__(self, num_of_weights, seed=0):
        if isinstance(num_of_weights, bool) or not isinstance(num_of_weights, (int, np.integer)) or num_of_weights < 1:
            raise ValueError(f"num_of_weights must be a positive integer, got {num_of_weights!r}")
        self.num_inputs = int(num_of_weights)
        self.w = np.random.default_rng(seed).standard_normal((self.num_inputs, 1))
        self.b = np.zeros(1)

    @property
    def params(self):
        """The parameters as a dict of arrays (updated in place by optimizers)."""
        return {"w": self.w, "b": self.b}

    def forward(self, x):
        """``z = x w + b``: ``(N, n) @ (n, 1) + (1,) -> (N, 1)``."""
        return np.dot(x, self.w) + self.b

    def loss(self, z, y):
        """``L = 1/N sum (z - y)^2`` (mean squared error)."""
        return mse(z, y)

    def gradient(self, x, y):
        """Hand-derived gradient of the MSE loss, for the whole batch at once.

        With ``z = x w + b`` and ``L = 1/N sum_i (z_i - y_i)^2``::

            dL/dw_j = 2/N sum_i (z_i - y_i) x_ij      -> gradient_w, shape (n, 1)
            dL/db   = 2/N sum_i (z_i - y_i)           -> gradient_b, shape (1,)

        Broadcasting does the sum over samples: ``(z - y)`` is ``(N, 1)``, ``x`` is
        ``(N, n)``, their product is ``(N, n)`` and its mean over axis 0 is ``(n,)``.
        The course folds the 2 into a 1/2 in front of the loss; here the loss and
        the gradient are of the *same* function, which is what Paddle's
        ``paddle.mean(F.square_error_cost(z, y))`` differentiates too, so the same
        ``eta`` takes the same step in NumPy and in Paddle.
        """
        x, y = _check_xy(x, y, self.num_inputs)
        gradients = self.backward(x, y, self.forward(x))
        return gradients["w"], gradients["b"]

    def backward(self, x, y, z):
        """The formulas of :meth:`gradient` given the forward output ``z``, as a dict like :attr:`params`."""
        error = z - y  # (N, 1)
        gradient_w = 2.0 * np.mean(error * x, axis=0)[:, np.newaxis]  # (n, 1)
        gradient_b = 2.0 * np.mean(error, axis=0)  # (1,)
        return {"w": gradient_w, "b": gradient_b}

    def update(self, gradient_w, gradient_b, eta=0.01):
        """One gradient-descent step: ``w <- w - eta * dL/dw``, ``b <- b - eta * dL/db``."""
        _check_eta(eta)
        self.w -= eta * gradient_w
        self.b -= eta * gradient_b

    def apply_gradients(self, gradients, eta):
        self.update(gradients["w"], gradients["b"], eta)

    @staticmethod
    def default_eta(batch_size):
        # On the normalised Boston data the largest eigenvalue of the loss's
        # Hessian 2/N X^T X is about 2, so plain GD is stable for eta < 1.
        # Mini-batches are noisier and want a smaller step.
        return 0.5 if batch_size is None else 0.05

    @staticmethod
    def default_epochs(batch_size):
        # enough to come within 1% of the least-squares optimum (tests check it)
        return 3000 if batch_size is None else 300


class TwoLayerNetwork(_Trainable):
    """``z = act(x W1 + b1) W2 + b2`` with a ReLU or sigmoid hidden layer.

    Parameters live in ``params = {"W1": (n, h), "b1": (h,), "W2": (h, 1), "b2": (1,)}``
    (He-style scaled normal weights drawn with ``seed``, zero biases);
    :meth:`gradient` returns a dict with the same keys.
    """

    ACTIVATIONS = ("relu", "sigmoid")

    def __init__(self, num_inputs, num_hidden, seed=0, activation="relu"):
        for name, value in (("num_inputs", num_inputs), ("num_hidden", num_hidden)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if activation not in self.ACTIVATIONS:
            raise ValueError(f"activation must be one of {self.ACTIVATIONS}, got {activation!r}")
        self.num_inputs, self.num_hidden, self.activation = int(num_inputs), int(num_hidden), activation
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": rng.standard_normal((num_inputs, num_hidden)) * np.sqrt(2.0 / num_inputs),
            "b1": np.zeros(num_hidden),
            "W2": rng.standard_normal((num_hidden, 1)) * np.sqrt(1.0 / num_hidden),
            "b2": np.zeros(1),
        }

    def _activate(self, a):
        if self.activation == "relu":
            return np.maximum(a, 0.0)
        return 1.0 / (1.0 + np.exp(-a))

    def _activation_grad(self, a, h):
        """``d act(a) / da``: ReLU -> 1[a > 0]; sigmoid -> s (1 - s)."""
        if self.activation == "relu":
            return (a > 0).astype(a.dtype)
        return h * (1.0 - h)

    def forward(self, x):
        """Hidden ``h = act(x W1 + b1)``, output ``z = h W2 + b2`` of shape ``(N, 1)``."""
        self._cache = {"x": x}
        a = x @ self.params["W1"] + self.params["b1"]
        h = self._activate(a)
        self._cache.update(a=a, h=h)
        return h @ self.params["W2"] + self.params["b2"]

    def loss(self, z, y):
        return mse(z, y)

    def gradient(self, x, y):
        """Backpropagation, layer by layer (chain rule from the loss backwards)::

            dz  = 2/N (z - y)                 (N, 1)
            dW2 = h^T dz,  db2 = sum_i dz_i
            dh  = dz W2^T                     (N, h)
            da  = dh * act'(a)                ReLU: 1[a>0]; sigmoid: s(1-s)
            dW1 = x^T da,  db1 = sum_i da_i
        """
        x, y = _check_xy(x, y, self.num_inputs)
        return self.backward(x, y, self.forward(x))

    def backward(self, x, y, z):
        """The formulas of :meth:`gradient`, reusing the values the last :meth:`forward` cached."""
        a, h = self._cache["a"], self._cache["h"]
        dz = 2.0 * (z - y) / x.shape[0]
        dh = dz @ self.params["W2"].T
        da = dh * self._activation_grad(a, h)
        return {
            "W1": x.T @ da,
            "b1": da.sum(axis=0),
            "W2": h.T @ dz,
            "b2": dz.sum(axis=0),
        }

    def update(self, gradients, eta=0.01):
        """``p <- p - eta * dL/dp`` for every parameter."""
        _check_eta(eta)
        for key, grad in gradients.items():
            self.params[key] -= eta * grad

    apply_gradients = update

    @staticmethod
    def default_eta(batch_size):
        return 0.1 if batch_size is None else 0.02

    @staticmethod
    def default_epochs(batch_size):
        return 2000 if batch_size is None else 200

"""WRONG solution for the autograder tests (hw03): sigmoid derivative a(1-a) -- see the line marked WRONG."""
import numpy as np


class TwoLayerNetwork:
    """``z = act(x W1 + b1) W2 + b2``; parameters in ``self.params``, gradients in a dict with the same keys."""

    def __init__(self, num_inputs, num_hidden, seed=0, activation="relu"):
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"activation must be 'relu' or 'sigmoid', got {activation!r}")
        self.activation = activation
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": rng.standard_normal((num_inputs, num_hidden)) * np.sqrt(2.0 / num_inputs),  # (n, h)
            "b1": np.zeros(num_hidden),  # (h,)
            "W2": rng.standard_normal((num_hidden, 1)) * np.sqrt(1.0 / num_hidden),  # (h, 1)
            "b2": np.zeros(1),  # (1,)
        }

    def forward(self, x):
        """Return ``z`` of shape ``(N, 1)``.

        Keep ``a`` and ``h`` (e.g. in ``self.cache``): ``gradient`` needs them.
        ReLU: ``act(a) = max(a, 0)``;  sigmoid: ``act(a) = 1 / (1 + exp(-a))``.
        """
        a = x @ self.params["W1"] + self.params["b1"]
        if self.activation == "relu":
            h = np.maximum(a, 0.0)
        else:
            h = 1.0 / (1.0 + np.exp(-a))
        self.cache = {"x": x, "a": a, "h": h}
        return h @ self.params["W2"] + self.params["b2"]

    def loss(self, z, y):
        """Mean squared error ``L = 1/N sum_i (z_i - y_i)^2``."""
        error = z - y
        return float(np.mean(error * error))

    def gradient(self, x, y):
        """Backpropagation: return ``{"W1": dL/dW1, "b1": dL/db1, "W2": dL/dW2, "b2": dL/db2}``.

        Every gradient has the shape of its parameter.  Chain rule from the loss back::

            dz  = 2/N (z - y)                    (N, 1)
            dW2 = h^T dz          db2 = sum over samples of dz
            dh  = dz W2^T                        (N, h)
            da  = dh * act'(a)    ReLU: 1 where a > 0, else 0;  sigmoid: h (1 - h)
            dW1 = x^T da          db1 = sum over samples of da

        Do not change ``self.params`` here (``update`` is a separate step).
        """
        z = self.forward(x)
        a, h = self.cache["a"], self.cache["h"]
        dz = 2.0 * (z - y) / x.shape[0]  # (N, 1)
        dh = dz @ self.params["W2"].T  # (N, h)
        if self.activation == "relu":
            da = dh * (a > 0)
        else:
            da = dh * a * (1.0 - a)  # WRONG: sigmoid's derivative is h (1 - h)
        return {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}

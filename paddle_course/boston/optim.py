"""Gradient-descent optimizers in NumPy, written to match ``paddle.optimizer`` step for step (course 2).

Course 1.3.7 trains with plain ``w <- w - eta * dL/dw``; the Paddle lessons
then swap in ``paddle.optimizer.Momentum``, ``Adam`` and friends.  Each class
here is one of those optimizers in a few lines of NumPy, with the update
formula in its docstring and the same hyper-parameter names and defaults as
the Paddle class.  The formulas are Paddle 3.3's *kernels* (what the C++ code
computes), which is not always what the textbook or Paddle's own docstring
says; every class notes where it differs.  ``tests/test_optim.py`` checks all
of them against ``paddle.optimizer`` for 50 steps, to 1e-6.

Usage, with any network of :mod:`paddle_course.boston.numpy_net`::

    net = Network(13)
    net.train(training_data, num_epochs=100, batch_size=10, optimizer=Adam(learning_rate=0.01))

An optimizer keeps its state (velocities, moment estimates, step counts) per
parameter key, so one instance serves exactly one model.  ``step(params,
grads)`` updates the arrays of ``params`` *in place*; ``grads`` is a dict with
the same keys and shapes.

Course 2.  Which one trains the Boston model fastest is an experiment, not an
optimizer: :mod:`paddle_course.boston.optimizer_comparison` (``paddle-course boston optimizers``).
"""
import numpy as np

#: the optimizers defined here under the name of their ``paddle.optimizer`` class, with the same
#: hyper-parameters and defaults: what ``lesson.train(..., optimizer=name)`` offers every implementation
PADDLE_TWINS = ("SGD", "Momentum", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW")


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _check_fraction(name, value, allow_zero=True):
    """A decay rate in ``[0, 1)`` (or ``(0, 1)`` without ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not (0 <= value < 1) or (value == 0 and not allow_zero):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def _check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


class Optimizer:
    """The part every optimizer shares: checking inputs, per-parameter state, ``repr``.

    ``weight_decay`` (a float, or None) is Paddle's coupled L2 regularisation
    (``paddle.regularizer.L2Decay``): the gradient becomes ``g + weight_decay * p``
    *before* the optimizer sees it.  :class:`AdamW` overrides it with the
    decoupled form.
    """

    #: hyper-parameters shown by ``repr``, in Paddle's argument order
    hyper_parameters = ("learning_rate",)

    def __init__(self, learning_rate, weight_decay=None):
        self.learning_rate = _check_positive("learning_rate", learning_rate)
        self.weight_decay = None if weight_decay is None else _check_non_negative("weight_decay", weight_decay)
        self.state = {}

    def __repr__(self):
        shown = list(self.hyper_parameters)
        if self.weight_decay is not None and "weight_decay" not in shown:
            shown.append("weight_decay")
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type(self).__name__}({args})"

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (a dict with the same keys)."""
        if set(params) != set(grads):
            raise ValueError(f"params and grads must have the same keys, got {sorted(params)} and {sorted(grads)}")
        for key, param in params.items():
            if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
                raise TypeError(f"parameter {key!r} must be a floating-point NumPy array to be updated in place, "
                                f"got {type(param).__name__} {getattr(param, 'dtype', '')}")
            grad = np.asarray(grads[key], dtype=param.dtype)
            if grad.shape != param.shape:
                raise ValueError(f"gradient {key!r} has shape {grad.shape}, its parameter {param.shape}")
            if self.l2_coefficient is not None:
                grad = grad + self.l2_coefficient * param  # L2Decay: d/dp (wd/2 ||p||^2) = wd * p
            if key not in self.state:
                self.state[key] = self.init_state(param)
            self.update(param, grad, self.state[key])

    @property
    def l2_coefficient(self):
        """The coupled L2 coefficient added to the gradient (None: no regularisation)."""
        return self.weight_decay

    def init_state(self, param):
        """The state one parameter starts with (a dict of arrays and counters)."""
        return {}

    def update(self, param, grad, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent (``paddle.optimizer.SGD``), course 1.3.7::

        p <- p - learning_rate * g
    """

    def update(self, param, grad, state):
        param -= self.learning_rate * grad


class Momentum(Optimizer):
    """Gradient descent with a velocity (``paddle.optimizer.Momentum``)::

        v <- momentum * v + g
        p <- p - learning_rate * v                              (use_nesterov=False)
        p <- p - learning_rate * (g + momentum * v)             (use_nesterov=True)

    Differs from the textbook (and from ``v <- momentum * v - lr * g; p <- p + v``)
    in where the learning rate sits: Paddle's ``v`` is a sum of raw gradients
    and ``learning_rate`` multiplies it at the end.  With a constant learning
    rate both forms give the same parameters.
    """

    hyper_parameters = ("learning_rate", "momentum", "use_nesterov")

    def __init__(self, learning_rate=0.001, momentum=0.9, use_nesterov=False, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.momentum = _check_fraction("momentum", momentum)
        self.use_nesterov = bool(use_nesterov)

    def init_state(self, param):
        return {"velocity": np.zeros_like(param)}

    def update(self, param, grad, state):
        velocity = state["velocity"]
        velocity *= self.momentum
        velocity += grad  # v <- momentum * v + g
        if self.use_nesterov:
            param -= self.learning_rate * (grad + self.momentum * velocity)  # look one velocity step ahead
        else:
            param -= self.learning_rate * velocity


class Nesterov(Momentum):
    """Nesterov accelerated gradient (NAG): ``paddle.optimizer.Momentum(use_nesterov=True)``::

        v <- momentum * v + g
        p <- p - learning_rate * (g + momentum * v)

    The textbook NAG evaluates the gradient at the look-ahead point
    ``p - lr * momentum * v``; Paddle (like PyTorch) uses the equivalent
    rewritten form above, which needs only the gradient at ``p``.
    """

    hyper_parameters = ("learning_rate", "momentum")

    def __init__(self, learning_rate=0.001, momentum=0.9, weight_decay=None):
        super().__init__(learning_rate, momentum, use_nesterov=True, weight_decay=weight_decay)


class Adagrad(Optimizer):
    """Adaptive gradient (``paddle.optimizer.Adagrad``)::

        moment <- moment + g * g
        p <- p - learning_rate * g / (sqrt(moment) + epsilon)

    ``moment`` starts at ``initial_accumulator_value``.  Paddle adds
    ``epsilon`` *outside* the square root (the original paper has no epsilon).
    """

    hyper_parameters = ("learning_rate", "epsilon", "initial_accumulator_value")

    def __init__(self, learning_rate, epsilon=1.0e-6, initial_accumulator_value=0.0, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.epsilon = _check_positive("epsilon", epsilon)
        self.initial_accumulator_value = _check_non_negative("initial_accumulator_value", initial_accumulator_value)

    def init_state(self, param):
        return {"moment": np.full_like(param, self.initial_accumulator_value)}

    def update(self, param, grad, state):
        moment = state["moment"]
        moment += grad * grad
        param -= self.learning_rate * grad / (np.sqrt(moment) + self.epsilon)


class Adadelta(Optimizer):
    """Adadelta (``paddle.optimizer.Adadelta``)::

        E[g^2]  <- rho * E[g^2] + (1 - rho) * g^2
        dx      <- -sqrt((E[dx^2] + epsilon) / (E[g^2] + epsilon)) * g
        E[dx^2] <- rho * E[dx^2] + (1 - rho) * dx^2
        p <- p + learning_rate * dx

    The paper has no learning rate (``p <- p + dx``); Paddle multiplies the
    step by ``learning_rate`` (default 0.001), so ``learning_rate=1`` gives the
    paper's method.  ``epsilon`` sits *inside* both square roots.
    """

    hyper_parameters = ("learning_rate", "epsilon", "rho")

    def __init__(self, learning_rate=0.001, epsilon=1.0e-6, rho=0.95, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.epsilon = _check_positive("epsilon", epsilon)
        self.rho = _check_fraction("rho", rho)

    def init_state(self, param):
        return {"avg_squared_grad": np.zeros_like(param), "avg_squared_update": np.zeros_like(param)}

    def update(self, param, grad, state):
        sq_grad, sq_update = state["avg_squared_grad"], state["avg_squared_update"]
        sq_grad *= self.rho
        sq_grad += (1 - self.rho) * grad * grad  # E[g^2]
        delta = -np.sqrt((sq_update + self.epsilon) / (sq_grad + self.epsilon)) * grad  # uses the old E[dx^2]
        sq_update *= self.rho
        sq_update += (1 - self.rho) * delta * delta  # E[dx^2]
        param += self.learning_rate * delta


class RMSprop(Optimizer):
    """Root-mean-square propagation (``paddle.optimizer.RMSProp``)::

        r <- rho * r + (1 - rho) * g^2
        m <- rho * m + (1 - rho) * g                        (centered only)
        v <- momentum * v + learning_rate * g / sqrt(r - m^2 + epsilon)
                                                            (centered; without: sqrt(r + epsilon))
        p <- p - v

    Paddle puts ``epsilon`` *inside* the square root (PyTorch and Keras add it
    outside) and folds the learning rate into the velocity ``v``.  With
    ``momentum=0`` this is Hinton's RMSprop, ``p <- p - lr * g / sqrt(r + eps)``.
    Paddle's defaults are ``rho=0.95, epsilon=1e-6`` (PyTorch: 0.99, 1e-8).
    """

    hyper_parameters = ("learning_rate", "rho", "epsilon", "momentum", "centered")

    def __init__(self, learning_rate, rho=0.95, epsilon=1.0e-6, momentum=0.0, centered=False, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.rho = _check_fraction("rho", rho)
        self.epsilon = _check_positive("epsilon", epsilon)
        self.momentum = _check_fraction("momentum", momentum)
        self.centered = bool(centered)

    def init_state(self, param):
        state = {"mean_square": np.zeros_like(param), "velocity": np.zeros_like(param)}
        if self.centered:
            state["mean_grad"] = np.zeros_like(param)
        return state

    def update(self, param, grad, state):
        mean_square, velocity = state["mean_square"], state["velocity"]
        mean_square *= self.rho
        mean_square += (1 - self.rho) * grad * grad
        if self.centered:
            mean_grad = state["mean_grad"]
            mean_grad *= self.rho
            mean_grad += (1 - self.rho) * grad
            # r - m^2 estimates the variance of g: scale by the gradient's spread, not its size
            denominator = np.sqrt(mean_square - mean_grad * mean_grad + self.epsilon)
        else:
            denominator = np.sqrt(mean_square + self.epsilon)
        velocity *= self.momentum
        velocity += self.learning_rate * grad / denominator
        param -= velocity


RMSProp = RMSprop  # Paddle's spelling


class Adam(Optimizer):
    """Adaptive moment estimation (``paddle.optimizer.Adam``), at step ``t = 1, 2, ...``::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)                              (amsgrad only; then v_max replaces v below)
        lr_t = learning_rate * sqrt(1 - beta2^t) / (1 - beta1^t)
        p <- p - lr_t * m / (sqrt(v) + epsilon * sqrt(1 - beta2^t))

    This is the paper's update ``p <- p - lr * m_hat / (sqrt(v_hat) + epsilon)``
    with ``m_hat = m / (1 - beta1^t)``, ``v_hat = v / (1 - beta2^t)``, multiplied
    out so the bias corrections go into one step size.  Paddle's docstring writes
    ``sqrt(v) + epsilon`` in the last line; its kernel scales ``epsilon`` by
    ``sqrt(1 - beta2^t)`` as above, which only matters when ``epsilon`` is not tiny.
    """

    hyper_parameters = ("learning_rate", "beta1", "beta2", "epsilon", "amsgrad")

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, amsgrad=False, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.beta1 = _check_fraction("beta1", beta1)
        self.beta2 = _check_fraction("beta2", beta2)
        self.epsilon = _check_positive("epsilon", epsilon)
        self.amsgrad = bool(amsgrad)

    def init_state(self, param):
        state = {"t": 0, "moment1": np.zeros_like(param), "moment2": np.zeros_like(param)}
        if self.amsgrad:
            state["moment2_max"] = np.zeros_like(param)
        return state

    def adam_step(self, param, grad, state):
        state["t"] += 1
        t, m, v = state["t"], state["moment1"], state["moment2"]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        if self.amsgrad:
            np.maximum(state["moment2_max"], v, out=state["moment2_max"])  # never let the step size grow back
            v = state["moment2_max"]
        correction2 = np.sqrt(1 - self.beta2 ** t)
        lr_t = self.learning_rate * correction2 / (1 - self.beta1 ** t)
        param -= lr_t * m / (np.sqrt(v) + self.epsilon * correction2)

    update = adam_step


class AdamW(Adam):
    """Adam with decoupled weight decay (``paddle.optimizer.AdamW``), Loshchilov & Hutter::

        p <- p * (1 - learning_rate * weight_decay)         decay first, with the plain learning rate
        then the Adam step of :class:`Adam` on the decayed p

    "Decoupled": the decay never enters ``m`` and ``v``, unlike Adam with L2
    (``Adam(weight_decay=...)``), where ``weight_decay * p`` is added to the
    gradient and then rescaled by ``1 / sqrt(v)``.  Paddle's docstring writes the
    decay as ``- lr_t * weight_decay * p`` with the bias-corrected ``lr_t``; its
    kernel multiplies ``p`` by ``1 - learning_rate * weight_decay`` before the
    Adam step, as here.  Default ``weight_decay=0.01``.
    """

    hyper_parameters = ("learning_rate", "beta1", "beta2", "epsilon", "weight_decay", "amsgrad")

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01, amsgrad=False):
        super().__init__(learning_rate, beta1, beta2, epsilon, amsgrad, weight_decay=weight_decay)

    @property
    def l2_coefficient(self):
        return None  # the decay is applied to p directly in update, never to the gradient

    def update(self, param, grad, state):
        param *= 1 - self.learning_rate * self.weight_decay
        self.adam_step(param, grad, state)

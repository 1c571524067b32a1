"""The Boston model rewritten with PaddlePaddle (course 1.5, "动静统一").

The same linear model as ``numpy_net.Network``, three ways:

* dynamic graph: ``Regressor(paddle.nn.Layer)`` trained step by step with
  ``paddle.optimizer.SGD`` (:func:`train_dygraph`);
* static graph: a ``paddle.static.Program`` built once and run by an
  ``Executor`` for every mini-batch (:func:`train_static`);
* deployment: ``paddle.jit.to_static`` + ``paddle.jit.save`` writes an inference
  model that ``paddle.jit.load`` reads back (:func:`export_model`, :func:`load_model`).

All three take their mini-batches from ``data.minibatch_indices`` with
``numpy.random.default_rng(seed)``, exactly like the NumPy network, so from the
same initial weights and seed the three end with the same parameters.
"""
import contextlib
from pathlib import Path

import numpy as np
import paddle
import paddle.nn.functional as F

from paddle_course.boston.data import NUM_FEATURES, check_batch_size, minibatch_indices
from paddle_course.common.fileio import atomic_dir
from paddle_course.boston.numpy_net import TrainingDiverged
from paddle_course.boston.optim import PADDLE_TWINS as OPTIMIZERS
from paddle_course.common.progress import progress

MODEL_FILE_PREFIX = "regressor"  # <dir>/regressor.json + regressor.pdiparams


@contextlib.contextmanager
def default_dtype(dtype):
    """Create parameters in ``dtype`` (Paddle's layers take the global default)."""
    previous = paddle.get_default_dtype()
    paddle.set_default_dtype(dtype)
    try:
        yield
    finally:
        paddle.set_default_dtype(previous)


class Regressor(paddle.nn.Layer):
    """``z = x w + b``: one fully connected layer, 13 features in, 1 price out."""

    def __init__(self, num_inputs=NUM_FEATURES, dtype="float32"):
        super().__init__()
        with default_dtype(dtype):
            self.fc = paddle.nn.Linear(in_features=num_inputs, out_features=1)

    def forward(self, inputs):
        return self.fc(inputs)


class TwoLayerRegressor(paddle.nn.Layer):
    """``z = relu(x W1 + b1) W2 + b2``: Paddle's twin of ``numpy_net.TwoLayerNetwork`` (ReLU)."""

    def __init__(self, num_inputs=NUM_FEATURES, num_hidden=64, dtype="float32"):
        super().__init__()
        with default_dtype(dtype):
            self.fc1 = paddle.nn.Linear(num_inputs, num_hidden)
            self.fc2 = paddle.nn.Linear(num_hidden, 1)

    def forward(self, inputs):
        return self.fc2(F.relu(self.fc1(inputs)))


def set_parameters(model, w, b):
    """Copy NumPy weights ``w (n, 1)`` and bias ``b (1,)`` into ``model.fc``."""
    w = np.asarray(w).reshape(model.fc.weight.shape)
    b = np.asarray(b).reshape(model.fc.bias.shape)
    dtype = model.fc.weight.dtype
    model.fc.weight.set_value(paddle.to_tensor(w, dtype=dtype))
    model.fc.bias.set_value(paddle.to_tensor(b, dtype=dtype))


def get_parameters(model):
    """``model.fc``'s weight ``(n, 1)`` and bias ``(1,)`` as NumPy float64 arrays."""
    return (model.fc.weight.numpy().astype(np.float64), model.fc.bias.numpy().astype(np.float64))


def check_training_args(training_data, num_inputs, batch_size, learning_rate, num_epochs):
    """Validate the arguments every Paddle training loop takes; returns ``(data, batch_size)``."""
    data = np.asarray(training_data, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != num_inputs + 1 or data.shape[0] == 0:
        raise ValueError(f"training_data must have shape (N, {num_inputs + 1}), got {data.shape}")
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, (int, np.integer)) or num_epochs < 0:
        raise ValueError(f"num_epochs must be a non-negative integer, got {num_epochs!r}")
    return data, check_batch_size(batch_size)


def diverged_error(loss, epoch_id, iter_id, learning_rate):
    """The error raised when the loss stops being finite, with the advice to lower the learning rate."""
    return TrainingDiverged(
        f"training diverged: the loss became {loss} at epoch {epoch_id}, iteration {iter_id} with "
        f"learning rate {learning_rate}. Lower the learning rate (e.g. divide it by 10) and train again."
    )


def make_optimizer(name, learning_rate, parameters=None):
    """``paddle.optimizer.<name>(learning_rate, parameters)`` with Paddle's defaults; ``name`` from :data:`OPTIMIZERS`.

    Each has a NumPy twin of the same name in :mod:`paddle_course.boston.optim` (course 2).
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return getattr(paddle.optimizer, name)(learning_rate=learning_rate, parameters=parameters)


def train_dygraph(model, training_data, num_epochs, batch_size=10, learning_rate=0.05, shuffle=True, seed=0,
                  quiet=True, optimizer="SGD", callback=None):
    """Dynamic-graph training, the course's loop (course 1.5.3)::

        for each epoch, for each mini-batch:
            predicts = model(x)
            avg_loss = mean((predicts - y)^2)      # F.square_error_cost + paddle.mean
            avg_loss.backward(); opt.step(); opt.clear_grad()

    ``optimizer`` names the ``paddle.optimizer`` class (:func:`make_optimizer`);
    ``callback(epoch, iteration, loss)`` is called after each step, as in ``Network.train``.
    Returns the loss of every step.
    """
    first_weight = model.parameters()[0]  # the first layer's weight: (num_inputs, out)
    data, batch_size = check_training_args(training_data, first_weight.shape[0], batch_size, learning_rate,
                                            num_epochs)
    dtype = first_weight.dtype
    features = paddle.to_tensor(data[:, :-1], dtype=dtype)
    prices = paddle.to_tensor(data[:, -1:], dtype=dtype)
    model.train()
    opt = make_optimizer(optimizer, learning_rate, model.parameters())
    rng = np.random.default_rng(seed)
    losses = []
    for epoch_id in progress(range(num_epochs), desc="dygraph epochs", quiet=quiet):
        for iter_id, rows in enumerate(minibatch_indices(len(data), batch_size, shuffle, rng)):
            index = paddle.to_tensor(rows)
            x, y = paddle.gather(features, index), paddle.gather(prices, index)
            predicts = model(x)
            avg_loss = paddle.mean(F.square_error_cost(predicts, label=y))
            avg_loss.backward()
            opt.step()
            opt.clear_grad()
            loss = float(avg_loss)
            if not np.isfinite(loss):
                raise diverged_error(loss, epoch_id, iter_id, learning_rate)
            losses.append(loss)
            if callback is not None:
                callback(epoch_id, iter_id, loss)
    model.eval()
    return losses


@contextlib.contextmanager
def static_mode():
    """Switch Paddle to static-graph mode, and back to dynamic afterwards if it was dynamic."""
    was_dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    try:
        yield
    finally:
        if was_dynamic:
            paddle.disable_static()


class StaticTrainer:
    """A compiled training step: ``Program`` built once, run by an ``Executor`` per mini-batch.

    Define-then-run (course 1.5, "静态图"): ``paddle.static.data`` declares the
    inputs, the layer and ``SGD.minimize(loss)`` add the forward and backward ops
    to ``main_program``, ``startup_program`` initialises the parameters in a
    private ``Scope``.  Must be created and used under :func:`static_mode`.
    """

    def __init__(self, layer_factory, num_inputs, learning_rate, dtype="float32", optimizer="SGD"):
        self.main_program, startup_program = paddle.static.Program(), paddle.static.Program()
        with paddle.static.program_guard(self.main_program, startup_program), default_dtype(dtype):
            x = paddle.static.data(name="x", shape=[None, num_inputs], dtype=dtype)
            y = paddle.static.data(name="y", shape=[None, 1], dtype=dtype)
            self.layer = layer_factory()
            self.avg_loss = paddle.mean(F.square_error_cost(self.layer(x), label=y))
            make_optimizer(optimizer, learning_rate).minimize(self.avg_loss)
        self.scope, self.place = paddle.static.Scope(), paddle.CPUPlace()
        self.exe = paddle.static.Executor(self.place)
        self.exe.run(startup_program, scope=self.scope)

    def step(self, x, y, fetch=True):
        """One SGD step on a batch; returns its loss, or None with ``fetch=False`` (saves a copy out)."""
        outputs = self.exe.run(self.main_program, feed={"x": x, "y": y},
                               fetch_list=[self.avg_loss] if fetch else [], scope=self.scope)
        return float(outputs[0]) if fetch else None

    def set_value(self, parameter, value):
        tensor = self.scope.find_var(parameter.name).get_tensor()
        tensor.set(np.asarray(value, dtype=np.array(tensor).dtype), self.place)

    def get_value(self, parameter):
        return np.array(self.scope.find_var(parameter.name).get_tensor()).astype(np.float64)


def train_static(training_data, num_epochs, batch_size=10, learning_rate=0.05, init_w=None, init_b=None,
                 shuffle=True, seed=0, dtype="float32", quiet=True, optimizer="SGD", callback=None):
    """Static-graph training of the Regressor with a :class:`StaticTrainer`.

    ``exe.run(main_program, feed=..., fetch_list=[loss])`` runs one step per
    mini-batch; ``init_w``/``init_b`` overwrite the random initial values;
    ``optimizer`` and ``callback`` as in :func:`train_dygraph`.

    Returns ``(w, b, losses)`` with ``w (n, 1)``, ``b (1,)`` as NumPy arrays.
    """
    data = np.asarray(training_data, dtype=np.float64)
    num_inputs = data.shape[1] - 1 if data.ndim == 2 else NUM_FEATURES
    data, batch_size = check_training_args(data, num_inputs, batch_size, learning_rate, num_epochs)
    with static_mode():
        trainer = StaticTrainer(lambda: Regressor(num_inputs, dtype), num_inputs, learning_rate, dtype, optimizer)
        if init_w is not None:
            trainer.set_value(trainer.layer.fc.weight, np.asarray(init_w).reshape(num_inputs, 1))
        if init_b is not None:
            trainer.set_value(trainer.layer.fc.bias, np.asarray(init_b).reshape(1))
        features, prices = data[:, :-1].astype(dtype), data[:, -1:].astype(dtype)
        rng = np.random.default_rng(seed)
        losses = []
        for epoch_id in progress(range(num_epochs), desc="static epochs", quiet=quiet):
            for iter_id, rows in enumerate(minibatch_indices(len(data), batch_size, shuffle, rng)):
                loss = trainer.step(features[rows], prices[rows])
                if not np.isfinite(loss):
                    raise diverged_error(loss, epoch_id, iter_id, learning_rate)
                losses.append(loss)
                if callback is not None:
                    callback(epoch_id, iter_id, loss)
        w = trainer.get_value(trainer.layer.fc.weight)
        b = trainer.get_value(trainer.layer.fc.bias)
    return w, b, losses


def export_model(model, model_dir):
    """Save ``model`` for inference with ``paddle.jit.save`` (course 1.5, "动转静部署").

    ``paddle.jit.to_static`` traces ``forward`` for inputs of shape ``[None, 13]``
    (any batch size); the folder is written atomically, so an earlier export is
    only replaced once the new one is complete.
    """
    model.eval()
    num_inputs = model.fc.weight.shape[0]
    dtype = str(model.fc.weight.dtype).replace("paddle.", "")
    spec = [paddle.static.InputSpec(shape=[None, num_inputs], dtype=dtype, name="x")]
    with atomic_dir(model_dir) as tmp:
        paddle.jit.save(paddle.jit.to_static(model, input_spec=spec, full_graph=True), str(tmp / MODEL_FILE_PREFIX))
    return Path(model_dir)


def load_model(model_dir):
    """Load an exported model with ``paddle.jit.load``; returns a callable Layer in eval mode."""
    model_dir = Path(model_dir)
    prefix = model_dir / MODEL_FILE_PREFIX
    if not model_dir.is_dir() or not any(model_dir.glob(MODEL_FILE_PREFIX + ".*")):
        raise FileNotFoundError(f"{model_dir}: no exported model here (expected {prefix}.*, written by export_model)")
    layer = paddle.jit.load(str(prefix))
    layer.eval()
    return layer


def predict(model, features):
    """Normalised features ``(N, 13)`` -> normalised predictions ``(N, 1)`` as NumPy."""
    features = np.asarray(features)
    dtype = "float32"
    for param in model.parameters():
        dtype = str(param.dtype).replace("paddle.", "")
        break
    with paddle.no_grad():
        return model(paddle.to_tensor(features, dtype=dtype)).numpy().astype(np.float64)

"""The NumPy optimizers against paddle.optimizer, and on the Boston network."""
import json

import numpy as np
import pytest

from paddle_course.boston import optim, optimizer_comparison
from paddle_course.boston.data import closed_form_solution, load_data
from paddle_course.boston.numpy_net import Network, TrainingDiverged

SHAPES = {"w": (13, 1), "b": (1,)}
STEPS = 50

# (NumPy optimizer, the Paddle class name, keyword arguments shared by both
# [, extra keyword arguments for Paddle only]).
# Hyper-parameters are chosen so that each formula's details show: a large
# epsilon makes its placement (inside/outside the root, bias-corrected or not)
# change the numbers by far more than the 1e-6 tolerance.
CASES = {
    "SGD": (optim.SGD, "SGD", dict(learning_rate=0.05)),
    "Momentum": (optim.Momentum, "Momentum", dict(learning_rate=0.02, momentum=0.9)),
    "Momentum+L2": (optim.Momentum, "Momentum", dict(learning_rate=0.02, momentum=0.8, weight_decay=0.1)),
    "Nesterov": (optim.Nesterov, "Momentum", dict(learning_rate=0.02, momentum=0.9), dict(use_nesterov=True)),
    "Adagrad": (optim.Adagrad, "Adagrad", dict(learning_rate=0.1, epsilon=0.3, initial_accumulator_value=0.2)),
    "Adadelta": (optim.Adadelta, "Adadelta", dict(learning_rate=0.5, epsilon=0.01, rho=0.9)),
    "RMSprop": (optim.RMSprop, "RMSProp", dict(learning_rate=0.01, rho=0.9, epsilon=0.1)),
    "RMSprop-centered-momentum": (optim.RMSprop, "RMSProp",
                                  dict(learning_rate=0.01, rho=0.9, epsilon=0.1, momentum=0.7, centered=True)),
    "Adam": (optim.Adam, "Adam", dict(learning_rate=0.05, beta1=0.8, beta2=0.9, epsilon=0.3)),
    "Adam+L2": (optim.Adam, "Adam", dict(learning_rate=0.05, weight_decay=0.1)),
    "Adam-amsgrad": (optim.Adam, "Adam", dict(learning_rate=0.05, beta1=0.8, beta2=0.9, epsilon=0.1, amsgrad=True)),
    "AdamW": (optim.AdamW, "AdamW", dict(learning_rate=0.05, beta1=0.8, beta2=0.9, epsilon=0.3, weight_decay=0.2)),
}


def _start_and_gradients(seed=0):
    """The same start and seeded random gradients of varying size for both sides."""
    rng = np.random.default_rng(seed)
    start = {key: rng.standard_normal(shape) for key, shape in SHAPES.items()}
    grads = [{key: rng.standard_normal(shape) * rng.uniform(0.1, 3.0) for key, shape in SHAPES.items()}
             for _ in range(STEPS)]
    return start, grads


def _paddle_trajectory(paddle_name, kwargs, start, grads):
    """Run paddle.optimizer.<paddle_name> on float64 parameters with the given gradients.

    The gradient is injected through the loss ``sum(p * g)``, whose gradient
    with respect to ``p`` is exactly ``g``.  Returns the parameters after each step.
    """
    import paddle

    params = {key: paddle.create_parameter(list(value.shape), "float64",
                                           default_initializer=paddle.nn.initializer.Assign(value))
              for key, value in start.items()}
    opt = getattr(paddle.optimizer, paddle_name)(parameters=list(params.values()), **kwargs)
    trajectory = []
    for step_grads in grads:
        loss = sum((params[key] * paddle.to_tensor(g, dtype="float64")).sum() for key, g in step_grads.items())
        loss.backward()
        opt.step()
        opt.clear_grad()
        trajectory.append({key: p.numpy().copy() for key, p in params.items()})
    return trajectory


@pytest.mark.parametrize("case", list(CASES))
def test_numpy_optimizer_matches_paddle_for_50_steps(case):
    numpy_class, paddle_name, kwargs, *paddle_only = CASES[case]
    start, grads = _start_and_gradients()
    expected = _paddle_trajectory(paddle_name, dict(kwargs, **(paddle_only[0] if paddle_only else {})), start, grads)

    params = {key: value.copy() for key, value in start.items()}
    optimizer = numpy_class(**kwargs)
    for step, (step_grads, paddle_params) in enumerate(zip(grads, expected), start=1):
        optimizer.step(params, step_grads)
        for key in params:
            np.testing.assert_allclose(params[key], paddle_params[key], rtol=0, atol=1e-6,
                                       err_msg=f"{optimizer!r}: {key} differs from paddle after step {step}")
    # the parameters really moved, so the agreement is not trivial
    assert max(np.abs(params[k] - start[k]).max() for k in params) > 1e-2


def test_state_is_kept_per_parameter_and_updated_in_place():
    params = {"w": np.ones((2, 1)), "b": np.zeros(1)}
    w_array = params["w"]
    opt = optim.Adam(learning_rate=0.1)
    opt.step(params, {"w": np.ones((2, 1)), "b": np.ones(1)})
    assert params["w"] is w_array  # the caller's array was changed, not replaced
    assert set(opt.state) == {"w", "b"} and opt.state["w"]["t"] == 1
    np.testing.assert_allclose(params["w"], 0.9, atol=1e-7)  # Adam's first step is lr * sign(g)


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        optim.SGD(learning_rate=0)
    with pytest.raises(ValueError, match=r"beta1 must be a number in \[0, 1\)"):
        optim.Adam(beta1=1.0)
    with pytest.raises(ValueError, match="same keys"):
        optim.SGD(0.1).step({"w": np.zeros(2)}, {"b": np.zeros(2)})
    with pytest.raises(ValueError, match="shape"):
        optim.SGD(0.1).step({"w": np.zeros(2)}, {"w": np.zeros(3)})
    with pytest.raises(TypeError, match="floating-point NumPy array"):
        optim.SGD(0.1).step({"w": np.zeros(2, dtype=int)}, {"w": np.zeros(2)})


def test_repr_names_the_hyper_parameters():
    assert repr(optim.Adam(learning_rate=0.01)) == \
        "Adam(learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-08, amsgrad=False)"
    assert "weight_decay=0.01" in repr(optim.AdamW())
    assert repr(optim.Nesterov(0.1, 0.5)) == "Nesterov(learning_rate=0.1, momentum=0.5)"


def test_divergence_message_names_the_optimizer():
    training_data, _ = load_data()
    with pytest.raises(TrainingDiverged, match=r"Momentum\(learning_rate=50"):
        Network(13).train(training_data, 20, 10, optimizer=optim.Momentum(learning_rate=50.0))


@pytest.mark.parametrize("name", list(optimizer_comparison.BOSTON_SETTINGS))
def test_each_optimizer_trains_the_boston_network(name):
    training_data, _ = load_data()
    *_, optimum = closed_form_solution(training_data)
    net = Network(13, seed=0)
    start_mse = np.mean((training_data[:, :-1] @ net.w + net.b - training_data[:, -1:]) ** 2)
    losses = net.train(training_data, 60, optimizer_comparison.BOSTON_BATCH_SIZE, seed=0, optimizer=optimizer_comparison.make_optimizer(name))
    final_mse = np.mean((training_data[:, :-1] @ net.w + net.b - training_data[:, -1:]) ** 2)
    assert len(losses) == 60 * int(np.ceil(len(training_data) / optimizer_comparison.BOSTON_BATCH_SIZE))
    assert final_mse < 0.05 * start_mse  # from ~3.7 down close to the optimum
    assert final_mse < 1.3 * optimum


def test_compare_optimizers_saves_figure_and_tables(tmp_path):
    rows = optimizer_comparison.compare_optimizers(tmp_path, epochs=40, seed=0, quiet=True)
    assert [row["optimizer"] for row in rows] == list(optimizer_comparison.BOSTON_SETTINGS)
    for name in ("optimizers.png", "optimizers.md", "optimizers.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "optimizers.json").read_text())["rows"] == rows
    by_name = {row["optimizer"]: row for row in rows}
    # momentum methods get there faster than plain SGD with the same learning rate
    assert by_name["Momentum"]["epochs_to_1.01x_optimum"] is not None
    sgd_epochs = by_name["SGD"]["epochs_to_1.01x_optimum"]
    assert sgd_epochs is None or by_name["Momentum"]["epochs_to_1.01x_optimum"] < sgd_epochs
    for row in rows:
        assert np.isfinite(row["final_test_mse"]) and row["final_test_mse"] > 0
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_cli_optimizers_subcommand_writes_the_comparison(tmp_path, capsys):
    from paddle_course.cli import main

    assert main(["boston", "optimizers", "--out", str(tmp_path), "--epochs", "5", "--seed", "1", "--quiet"]) == 0
    out = capsys.readouterr().out  # --quiet: no progress lines, but the result (the table) and where it went
    assert "training Network(13)" not in out and "| SGD |" in out and f"saved {tmp_path}/optimizers.md" in out
    saved = json.loads((tmp_path / "optimizers.json").read_text())
    assert saved["epochs"] == 5 and saved["seed"] == 1 and len(saved["rows"]) == len(optimizer_comparison.BOSTON_SETTINGS)
    assert (tmp_path / "optimizers.png").is_file()

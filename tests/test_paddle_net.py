"""paddle_net: the Paddle rewrite agrees with NumPy, and the exported model with the one in memory."""
import numpy as np
import pytest

from paddle_course.boston import lesson, paddle_net
from paddle_course.boston.data import load_dataset
from paddle_course.boston.numpy_net import Network, TrainingDiverged


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def _numpy_run(dataset, epochs, batch_size, eta, seed):
    net = Network(13, seed=seed)
    w0, b0 = net.w.copy(), net.b.copy()
    losses = net.train(dataset.training_data, epochs, batch_size, eta, seed=seed)
    return (w0, b0), net, losses


@pytest.mark.parametrize("batch_size", [10, None])
def test_numpy_dygraph_and_static_end_with_the_same_parameters(dataset, batch_size):
    epochs, eta, seed = (20, 0.05, 4) if batch_size else (60, 0.5, 4)
    (w0, b0), net, numpy_losses = _numpy_run(dataset, epochs, batch_size, eta, seed)

    model = paddle_net.Regressor(dtype="float64")
    paddle_net.set_parameters(model, w0, b0)
    dygraph_losses = paddle_net.train_dygraph(model, dataset.training_data, epochs, batch_size, eta, seed=seed)
    w_dy, b_dy = paddle_net.get_parameters(model)

    w_st, b_st, static_losses = paddle_net.train_static(dataset.training_data, epochs, batch_size, eta, w0, b0,
                                                        seed=seed, dtype="float64")
    for w, b in ((w_dy, b_dy), (w_st, b_st)):
        np.testing.assert_allclose(w, net.w, atol=1e-5, rtol=0)
        np.testing.assert_allclose(b, net.b, atol=1e-5, rtol=0)
    np.testing.assert_allclose(dygraph_losses, numpy_losses, rtol=1e-8)
    np.testing.assert_allclose(static_losses, numpy_losses, rtol=1e-8)


def test_float32_paddle_follows_numpy_within_float32_precision(dataset):
    (w0, b0), net, _ = _numpy_run(dataset, 10, 10, 0.05, 0)
    model = paddle_net.Regressor()  # the course's float32
    paddle_net.set_parameters(model, w0, b0)
    paddle_net.train_dygraph(model, dataset.training_data, 10, 10, 0.05, seed=0)
    np.testing.assert_allclose(paddle_net.get_parameters(model)[0], net.w, atol=1e-5, rtol=0)


def test_exported_model_predicts_like_the_model_in_memory(dataset, tmp_path):
    model = paddle_net.Regressor()
    paddle_net.train_dygraph(model, dataset.training_data, 3, 10, 0.05, seed=1)
    paddle_net.export_model(model, tmp_path / "inference")
    loaded = paddle_net.load_model(tmp_path / "inference")
    x = dataset.test_data[:, :-1]
    np.testing.assert_allclose(paddle_net.predict(loaded, x), paddle_net.predict(model, x), rtol=1e-6, atol=1e-7)
    # any batch size, thanks to InputSpec([None, 13])
    assert paddle_net.predict(loaded, x[:1]).shape == (1, 1)


def test_export_replaces_an_earlier_export_only_when_complete(dataset, tmp_path, monkeypatch):
    import paddle

    model = paddle_net.Regressor()
    target = tmp_path / "inference"
    paddle_net.export_model(model, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def save_half_then_fail(layer, path, **kwargs):
        # a crash in the middle of writing (disk full, killed process...)
        open(path + ".pdiparams", "wb").write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(paddle.jit, "save", save_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        paddle_net.export_model(model, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["inference"]  # no temporary folder left behind


def test_load_model_from_an_empty_folder_names_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no exported model"):
        paddle_net.load_model(tmp_path)


def test_predictions_in_price_units(dataset, tmp_path):
    result = lesson.train("numpy", dataset, 300, 10)
    lesson.save_run(result, dataset, tmp_path / "m")
    predicted, true = lesson.predict_prices(tmp_path / "m", dataset, engine="paddle")
    predicted_np, _ = lesson.predict_prices(tmp_path / "m", dataset, engine="numpy")
    np.testing.assert_allclose(predicted, predicted_np, atol=1e-3)  # float32 export vs float64 NumPy
    np.testing.assert_allclose(true, dataset.raw_test[:, -1])
    # MSE in normalised units, turned back into $1000s, matches the error of the price predictions
    rmse_thousands = np.sqrt(result.test_mse) * dataset.stats.ranges[-1]
    assert np.sqrt(np.mean((predicted - true) ** 2)) == pytest.approx(rmse_thousands, rel=1e-3)
    assert 2.0 < np.abs(predicted - true).mean() < 8.0  # a few thousand dollars off, as in the course


def test_paddle_divergence_stops_with_advice(dataset):
    with pytest.raises(TrainingDiverged, match="Lower the learning rate"):
        paddle_net.train_dygraph(paddle_net.Regressor(), dataset.training_data, 50, None, 80.0)


@pytest.mark.slow
def test_paddle_float32_reaches_the_optimum_like_numpy(dataset):
    rows = lesson.compare(dataset, dtype="float32")
    optimum = rows[-1].train_mse
    sgd = rows[1]
    for r in rows[:4]:
        assert r.train_mse <= 1.01 * optimum, r.label
    for r in rows[2:4]:
        np.testing.assert_allclose(r.w, sgd.w, atol=1e-5, rtol=0)


@pytest.mark.parametrize("optimizer", ["Momentum", "Adam"])
def test_every_implementation_takes_the_same_optimizer_and_reports_each_step(dataset, optimizer):
    runs = {}
    for impl in lesson.IMPLEMENTATIONS:
        steps = []
        runs[impl] = lesson.train(impl, dataset, epochs=3, batch_size=10, learning_rate=0.01, seed=2,
                                  dtype="float64", optimizer=optimizer,
                                  callback=lambda epoch, iteration, loss: steps.append((epoch, iteration, loss)))
        assert [loss for _, _, loss in steps] == runs[impl].losses
        assert steps[0][:2] == (0, 0) and steps[-1][:2] == (2, 40)  # 404 training rows in batches of 10
    for impl in ("dygraph", "static"):
        np.testing.assert_allclose(runs[impl].w, runs["numpy"].w, atol=1e-6)  # as tests/test_optim.py
    assert runs["numpy"].label == f"NumPy {optimizer} b=10"


def test_test_prices_turn_the_weights_back_into_prices(dataset, tmp_path):
    result = lesson.train("numpy", dataset, epochs=5, batch_size=10)
    lesson.save_run(result, dataset, tmp_path, export=False)
    predicted, true = lesson.test_prices(result.w, result.b, dataset)
    saved_predicted, saved_true = lesson.predict_prices(tmp_path, dataset, engine="numpy")
    np.testing.assert_allclose(predicted, saved_predicted)
    np.testing.assert_array_equal(true, saved_true)

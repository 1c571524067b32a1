"""data.py: the shipped table, the course's normalisation from training rows, and clear errors."""
import numpy as np
import pytest

from paddle_course.boston.data import (
    NUM_COLUMNS, Normalizer, closed_form_solution, load_data, load_dataset, minibatch_indices, read_table,
)


def test_shipped_table_has_506_houses_and_14_columns():
    rows = read_table()
    assert rows.shape == (506, NUM_COLUMNS)
    # first and last rows of the original table
    np.testing.assert_allclose(rows[0, [0, 5, 13]], [0.00632, 6.575, 24.0])
    np.testing.assert_allclose(rows[-1, [0, 13]], [0.04741, 11.9])


def test_load_data_splits_80_20_in_file_order():
    training_data, test_data = load_data()
    assert training_data.shape == (404, 14) and test_data.shape == (102, 14)


def test_statistics_come_from_training_rows_only():
    ds = load_dataset()
    np.testing.assert_allclose(ds.stats.avgs, ds.raw_training.mean(axis=0))
    np.testing.assert_allclose(ds.training_data.mean(axis=0), 0, atol=1e-12)
    # the test rows are scaled with the training statistics, so they are not centred
    assert abs(ds.test_data[:, -1].mean()) > 1e-3
    np.testing.assert_allclose(ds.stats.price(ds.test_data[:, -1]), ds.raw_test[:, -1])


def test_normalizer_round_trips_through_a_dict():
    ds = load_dataset()
    again = Normalizer.from_dict(ds.stats.to_dict())
    np.testing.assert_array_equal(again.transform(ds.raw_test), ds.test_data)


def _write(tmp_path, text):
    path = tmp_path / "houses.data"
    path.write_text(text)
    return path


GOOD_ROW = " ".join(["1"] * 14)


@pytest.mark.parametrize("text, message", [
    (GOOD_ROW + "\n1 2 3\n", "line 2: expected 14 columns"),
    (GOOD_ROW + "\n" + " ".join(["1"] * 13 + ["abc"]) + "\n", "line 2: 'abc' is not a number"),
    (" ".join(["1"] * 13 + ["nan"]) + "\n", "line 1: column MEDV is nan"),
    ("\n\n", "no data rows"),
])
def test_bad_tables_are_rejected_with_file_and_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.data"):
        load_data(tmp_path / "nope.data")


@pytest.mark.parametrize("ratio", [0, 1, -0.5, 1.5, "0.8"])
def test_ratio_outside_open_interval_is_rejected(ratio):
    with pytest.raises(ValueError, match="ratio"):
        load_data(ratio=ratio)


def test_too_few_rows_to_split(tmp_path):
    path = _write(tmp_path, GOOD_ROW + "\n" + GOOD_ROW + "\n")
    with pytest.raises(ValueError, match="too few to split"):
        load_data(path)


def test_minibatches_cover_every_row_once_per_epoch_and_reshuffle():
    rng = np.random.default_rng(0)
    first = minibatch_indices(23, 5, True, rng)
    second = minibatch_indices(23, 5, True, rng)
    assert [len(b) for b in first] == [5, 5, 5, 5, 3]
    assert sorted(np.concatenate(first)) == list(range(23))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    assert np.array_equal(np.concatenate(minibatch_indices(23, 5, False, rng)), np.arange(23))


def test_closed_form_is_the_least_squares_optimum():
    training_data, _ = load_data()
    w, b, mse = closed_form_solution(training_data)
    x, y = training_data[:, :-1], training_data[:, -1:]
    # normal equations: the residual is orthogonal to every feature and to the bias column
    residual = x @ w + b - y
    np.testing.assert_allclose(x.T @ residual, 0, atol=1e-10)
    assert abs(residual.sum()) < 1e-10
    assert mse == pytest.approx(float(np.mean(residual ** 2)))


def test_atomic_writes_leave_ordinary_permissions_and_no_temporaries(tmp_path):
    import os
    import stat

    from paddle_course.common.fileio import atomic_dir, atomic_path, write_text

    mask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "a.txt", "hello")
        with atomic_dir(tmp_path / "folder") as folder:
            (folder / "x").write_text("x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o755
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert path.read_text() == "hello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "folder"]

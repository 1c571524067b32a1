"""Boston house prices: load, split, normalise and batch the data; the linear model's error.

Course 1.3.2 ("数据处理"): read ``housing.data``, split 80/20 into training and
test rows, then scale every column to ``(x - mean) / (max - min)``.  This module
is the one place where that happens; the NumPy network, the Paddle rewrite,
the benchmark and the homework all call it.

One deliberate change from the course: the course computes mean, max and min
over *all* 506 rows before splitting, which lets the test rows leak into the
scaling the model is trained with.  Here the statistics come from the training
rows only, so the test error is an honest estimate of error on unseen houses.
"""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paddle_course.common.paths import data_path

FEATURE_NAMES = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE",
    "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT",
)
TARGET_NAME = "MEDV"  # median value of owner-occupied homes, in $1000s
COLUMN_NAMES = FEATURE_NAMES + (TARGET_NAME,)
NUM_FEATURES = len(FEATURE_NAMES)  # 13
NUM_COLUMNS = len(COLUMN_NAMES)  # 14


def default_data_file():
    """The shipped 506-row table, ``data/housing.data``."""
    return data_path("housing.data")


def read_table(path=None):
    """Read a whitespace-separated table of 14 numeric columns.

    Streamed in two passes, line by line: the first counts the rows (and finds
    binary or non-UTF-8 input), the second parses each row straight into one
    preallocated ``float64`` array.  Peak memory is that array, not a Python
    list of floats (which needed > 4 GB for a 1 GB file).

    Every problem is reported with the file and line it is on, so a learner who
    edits the file by hand knows where to look.
    """
    path = Path(path) if path is not None else default_data_file()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file")
    rows = np.empty((_count_rows(path), NUM_COLUMNS), dtype=np.float64)
    if rows.shape[0] == 0:
        raise ValueError(f"{path}: the file has no data rows")
    index = 0
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue  # blank lines carry no house
            rows[index] = _parse_row(fields, path, line_no)
            index += 1
    if index != rows.shape[0]:
        raise ValueError(f"{path}: the file changed while it was read ({rows.shape[0]} rows, then {index})")
    return rows


def _count_rows(path):
    """The number of non-blank lines; a clear error for binary or non-UTF-8 input."""
    count, line_no = 0, 0
    try:
        with open(path, encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if "\0" in line:
                    raise ValueError(f"{path}, line {line_no}: a NUL byte; this is a binary file, not a "
                                     f"text table of {NUM_COLUMNS} numeric columns")
                if not line.isspace():
                    count += 1
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a UTF-8 text table (byte {error.start} after line {line_no} is "
                         f"{error.object[error.start:error.start + 1]!r}); is it a binary file?") from None
    return count


def _parse_row(fields, path, line_no):
    if len(fields) != NUM_COLUMNS:
        raise ValueError(
            f"{path}, line {line_no}: expected {NUM_COLUMNS} columns "
            f"({' '.join(COLUMN_NAMES)}), found {len(fields)}"
        )
    try:
        values = [float(v) for v in fields]
    except ValueError:
        bad = next(v for v in fields if not _is_float(v))
        raise ValueError(f"{path}, line {line_no}: {bad!r} is not a number") from None
    for name, value in zip(COLUMN_NAMES, values):
        if not np.isfinite(value):
            raise ValueError(f"{path}, line {line_no}: column {name} is {value} (NaN/inf not allowed)")
    return values


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


@dataclass
class Normalizer:
    """Column statistics of the training rows: ``x_norm = (x - avg) / (max - min)``.

    Keeping them lets us turn a normalised prediction back into a price:
    ``price = y_norm * (max - min) + avg`` (course 1.3.4, "反归一化").
    """

    maximums: np.ndarray
    minimums: np.ndarray
    avgs: np.ndarray

    @classmethod
    def fit(cls, rows):
        return cls(rows.max(axis=0), rows.min(axis=0), rows.mean(axis=0))

    @property
    def ranges(self):
        # A column that is constant in the training rows would divide by zero;
        # scaling it by 1 keeps it (all zeros after centring) harmless.
        spread = self.maximums - self.minimums
        return np.where(spread > 0, spread, 1.0)

    def transform(self, rows):
        """Normalise an ``N x 14`` block (features and price)."""
        return (rows - self.avgs) / self.ranges

    def transform_features(self, x):
        """Normalise an ``N x 13`` block of raw features (no price column)."""
        return (np.asarray(x, dtype=np.float64) - self.avgs[:-1]) / self.ranges[:-1]

    def price(self, y_norm):
        """Turn normalised predictions back into prices in $1000s."""
        return np.asarray(y_norm) * self.ranges[-1] + self.avgs[-1]

    def to_dict(self):
        return {"maximums": self.maximums.tolist(), "minimums": self.minimums.tolist(), "avgs": self.avgs.tolist()}

    @classmethod
    def from_dict(cls, d):
        return cls(*(np.asarray(d[k], dtype=np.float64) for k in ("maximums", "minimums", "avgs")))


@dataclass
class BostonDataset:
    """The split and normalised data, with the statistics that produced it."""

    training_data: np.ndarray  # N_train x 14, normalised
    test_data: np.ndarray  # N_test x 14, normalised
    stats: Normalizer
    raw_training: np.ndarray = field(repr=False)
    raw_test: np.ndarray = field(repr=False)


def load_dataset(path=None, ratio=0.8):
    """Read, split (first ``ratio`` of the rows for training, as in the course) and normalise."""
    _check_ratio(ratio)
    rows = read_table(path)
    offset = _split_offset(rows, ratio, path)
    raw_training, raw_test = rows[:offset], rows[offset:]
    stats = Normalizer.fit(raw_training)  # training rows only: no test leakage
    return BostonDataset(stats.transform(raw_training), stats.transform(raw_test), stats, raw_training, raw_test)


def _check_ratio(ratio):
    if not isinstance(ratio, (int, float)) or not 0 < ratio < 1:
        raise ValueError(f"ratio must be a number strictly between 0 and 1, got {ratio!r}")


def _split_offset(rows, ratio, path):
    offset = int(rows.shape[0] * ratio)
    if offset < 2 or rows.shape[0] - offset < 1:
        raise ValueError(
            f"{path or default_data_file()}: {rows.shape[0]} rows are too few to split with ratio={ratio} "
            f"(need at least 2 training rows and 1 test row)"
        )
    return offset


def load_data(path=None, ratio=0.8):
    """Course 1.3.2: ``training_data, test_data = load_data()``.

    Returns two float64 arrays of shape ``(N, 14)``; the last column is the
    normalised price.  Use :func:`load_dataset` to also get the statistics.
    """
    _check_ratio(ratio)
    rows = read_table(path)
    offset = _split_offset(rows, ratio, path)
    stats = Normalizer.fit(rows[:offset])  # training rows only: no test leakage
    # normalised in place (the same arithmetic as Normalizer.transform): no second copy of a large table
    rows -= stats.avgs
    rows /= stats.ranges
    return rows[:offset], rows[offset:]


def split_xy(data):
    """``(N, 14)`` -> features ``(N, 13)`` and target ``(N, 1)``."""
    data = np.asarray(data)
    return data[:, :-1], data[:, -1:]


def minibatch_indices(num_samples, batch_size, shuffle=True, rng=None):
    """The row indices of each mini-batch of one epoch (course 1.3.7).

    With ``shuffle`` the rows are permuted first (``rng.permutation``), so each
    epoch visits the samples in a new order; the last batch may be smaller.
    ``batch_size=None`` means one batch of all rows (full-batch gradient descent).
    NumPy and Paddle training both take their batches from here, so the same
    seed gives them the same batch order.
    """
    if batch_size is None:
        batch_size = num_samples
    order = rng.permutation(num_samples) if shuffle else np.arange(num_samples)
    return [order[k:k + batch_size] for k in range(0, num_samples, batch_size)]


def check_batch_size(batch_size):
    """``None`` (full batch) or a positive integer."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer (or None for full-batch), got {batch_size!r}")
    return int(batch_size)


def linear_mse(w, b, data):
    """Mean squared error of the linear model ``z = x w + b`` on rows of ``data`` (last column the target).

    ``L = 1/N sum_i (x_i w + b - y_i)^2`` (course 1.3.4): the number every method is judged by.
    """
    x, y = split_xy(data)
    error = x @ w + b - y
    return float(np.mean(error * error))


def closed_form_solution(training_data):
    """The least-squares optimum of the linear model on the same normalised rows.

    Solves ``min_w,b ||X w + b - y||^2`` with ``numpy.linalg.lstsq`` on ``[X, 1]``;
    no iterative method can reach a lower training MSE.  Returns ``(w, b, mse)``.
    """
    x, y = split_xy(training_data)
    design = np.hstack([x, np.ones((x.shape[0], 1))])
    theta, *_ = np.linalg.lstsq(design, y, rcond=None)
    w, b = theta[:-1], theta[-1:, 0]
    return w, b, linear_mse(w, b, training_data)

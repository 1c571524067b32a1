"""Calibrated probabilities: temperature scaling and the expected calibration error.

Course idea: a network's softmax is often over-confident. One number ``T > 0``
divides the logits, ``p = softmax(z / T)``; it is fitted on held-out data by
minimising the negative log-likelihood and never changes which class wins.


"""
import numpy as np


def nll(logits, labels, temperature):
    """``-1/N sum_i log softmax(z_i / T)_{y_i}``."""
    z = np.asarray(logits, dtype="float64") / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), np.asarray(labels)].mean())


def fit_temperature(logits, labels, low=0.05, high=20.0, steps=200):
    """The ``T`` minimising ``nll`` on a log-spaced grid, refined once around the best point."""
    grid = np.exp(np.linspace(np.log(low), np.log(high), steps))
    best = min(grid, key=lambda t: nll(logits, labels, t))
    fine = np.linspace(best / 1.05, best * 1.05, 41)
    return float(min(fine, key=lambda t: nll(logits, labels, t)))


def expected_calibration_error(p_positive, labels, bins=10):
    """ECE over ``bins`` equal-width bins of confidence ``max(p, 1-p)``:
    ``sum_b |B_b|/N * |acc(B_b) - conf(B_b)|``."""
    p = np.asarray(p_positive, dtype="float64")
    labels = np.asarray(labels)
    confidence = np.maximum(p, 1 - p)
    correct = ((p >= 0.5).astype(int) == labels).astype(float)
    edges = np.linspace(0.5, 1.0, bins + 1)
    ece = 0.0
    for i in range(bins):
        inside = (confidence >= edges[i]) & ((confidence < edges[i + 1]) if i < bins - 1 else (confidence <= 1.0))
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)

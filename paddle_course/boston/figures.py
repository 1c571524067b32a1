"""The Boston lesson's figures (course 1.3-1.5, 2), drawn with matplotlib and saved atomically.

matplotlib is imported when a figure is drawn, not when this module is imported.  With
``path=None`` a function returns the figure instead of saving it (the app shows it).
"""
import numpy as np

from paddle_course.common.fileio import save_figure
from paddle_course.common.plots import figure


def plot_gd_vs_sgd(gd_losses, sgd_losses, optimum, path, sgd_label="mini-batch SGD"):
    """Loss curves: full-batch GD (one smooth step per epoch) beside SGD (one noisy step per batch).

    The SGD curve has the "毛刺" (spikes) the course points out: each mini-batch
    is a noisy estimate of the full gradient.  The dashed line is the
    least-squares optimum that neither can go below.
    """
    fig = figure(figsize=(11, 4))
    axes = fig.subplots(1, 2)
    for ax, losses, title, xlabel in (
        (axes[0], gd_losses, "full-batch gradient descent", "epoch"),
        (axes[1], sgd_losses, sgd_label, "iteration (mini-batch)"),
    ):
        ax.plot(np.arange(len(losses)), losses, lw=1)
        ax.axhline(optimum, color="k", ls="--", lw=1, label=f"least-squares optimum {optimum:.4f}")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("training MSE (normalised)")
        ax.set_title(title)
        ax.legend()
    return _save_or_return(fig, path)


def plot_loss_curves(curves, path=None, title="training loss", xlabel="step", optimum=None):
    """Several loss curves on one log-scaled axis; ``curves`` maps label -> losses."""
    fig = figure(figsize=(7, 4))
    ax = fig.subplots()
    for label, losses in curves.items():
        ax.plot(np.arange(len(losses)), losses, lw=1, label=label)
    if optimum is not None:
        ax.axhline(optimum, color="k", ls="--", lw=1, label=f"least-squares optimum {optimum:.4f}")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("MSE")
    ax.set_title(title)
    ax.legend()
    return _save_or_return(fig, path)


def plot_predictions(true_prices, predicted_prices, path=None, title="test houses: predicted vs true price"):
    """Scatter of predicted against true price (in $1000s) with the ideal diagonal."""
    true_prices = np.ravel(true_prices)
    predicted_prices = np.ravel(predicted_prices)
    fig = figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.scatter(true_prices, predicted_prices, s=12, alpha=0.7)
    low = min(true_prices.min(), predicted_prices.min())
    high = max(true_prices.max(), predicted_prices.max())
    ax.plot([low, high], [low, high], "k--", lw=1, label="prediction = truth")
    ax.set_xlabel("true price ($1000s)")
    ax.set_ylabel("predicted price ($1000s)")
    ax.set_title(title)
    ax.legend()
    return _save_or_return(fig, path)


def plot_excess_mse(curves, optimum, title, path):
    """Excess training MSE ``MSE / optimum - 1`` per epoch on a log scale, one curve per optimizer.

    Plotting the excess rather than the MSE itself spreads out the last few
    percent, where the optimizers differ; the 1% target is a horizontal line.
    """
    fig = figure(figsize=(8, 5))
    ax = fig.subplots()
    for name, curve in curves.items():
        excess = np.maximum(np.asarray(curve) / optimum - 1.0, 1e-6)  # the optimum is never beaten; guard rounding
        ax.plot(np.arange(1, len(curve) + 1), excess, label=name, linewidth=1.2)
    ax.axhline(0.01, color="black", linestyle="--", linewidth=1, label="1% above the optimum")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE / least-squares optimum - 1 (log scale)")
    ax.set_title(title)
    ax.legend(fontsize="small", ncol=3)
    ax.grid(True, which="both", alpha=0.3)
    return _save_or_return(fig, path)


def _save_or_return(fig, path):
    if path is None:
        fig.tight_layout()
        return fig
    return save_figure(fig, path)

"""The course's figures, drawn with matplotlib and saved atomically."""
import matplotlib

matplotlib.use("Agg")  # scripts and CI have no screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from paddle_course.common.fileio import save_figure  # noqa: E402


def plot_gd_vs_sgd(gd_losses, sgd_losses, optimum, path, sgd_label="mini-batch SGD"):
    """Loss curves: full-batch GD (one smooth step per epoch) beside SGD (one noisy step per batch).

    The SGD curve has the "毛刺" (spikes) the course points out: each mini-batch
    is a noisy estimate of the full gradient.  The dashed line is the
    least-squares optimum that neither can go below.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
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
    return save_figure(fig, path)


def plot_loss_curves(curves, path, title="training loss", xlabel="step", optimum=None):
    """Several loss curves on one log-scaled axis; ``curves`` maps label -> losses."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, losses in curves.items():
        ax.plot(np.arange(len(losses)), losses, lw=1, label=label)
    if optimum is not None:
        ax.axhline(optimum, color="k", ls="--", lw=1, label=f"least-squares optimum {optimum:.4f}")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("MSE")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path)


def plot_predictions(true_prices, predicted_prices, path, title="test houses: predicted vs true price"):
    """Scatter of predicted against true price (in $1000s) with the ideal diagonal."""
    true_prices = np.ravel(true_prices)
    predicted_prices = np.ravel(predicted_prices)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(true_prices, predicted_prices, s=12, alpha=0.7)
    low = min(true_prices.min(), predicted_prices.min())
    high = max(true_prices.max(), predicted_prices.max())
    ax.plot([low, high], [low, high], "k--", lw=1, label="prediction = truth")
    ax.set_xlabel("true price ($1000s)")
    ax.set_ylabel("predicted price ($1000s)")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path)

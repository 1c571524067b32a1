"""The Boston lesson's figures (course 1.3-1.5, 2), drawn with matplotlib and saved atomically.

matplotlib is imported when a figure is drawn, not when this module is imported.  With
``path=None`` a function returns the figure instead of saving it (the app shows it).
"""
import numpy as np

from paddle_course.common.fileio import save_figure
from paddle_course.common.plots import figure


def plot_gd_vs_sgd(gd_losses, sgd_losses, optimum, path, sgd_label="mini-batch SGD", sgd_epochs=None):
    """Loss curves: full-batch GD (one smooth step per epoch) beside SGD (one noisy step per batch).

    The SGD curve has the "毛刺" (spikes) the course points out: each mini-batch
    is a noisy estimate of the full gradient; with ``sgd_epochs`` the mean of each
    epoch is drawn over it, the trend under the noise.  The dashed line is the
    least-squares optimum that the full-batch loss never goes below (one mini-batch's may).
    """
    fig = figure(figsize=(11, 4))
    axes = fig.subplots(1, 2)
    for ax, losses, title, xlabel in (
        (axes[0], gd_losses, "full-batch gradient descent", "epoch"),
        (axes[1], sgd_losses, sgd_label, "iteration (mini-batch)"),
    ):
        ax.plot(np.arange(len(losses)), losses, lw=1)
        if losses is sgd_losses:
            _draw_epoch_means(ax, losses, sgd_epochs)
        ax.axhline(optimum, color="k", ls="--", lw=1, label=f"least-squares optimum {optimum:.4f}")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("training MSE (normalised)")
        ax.set_title(title)
        ax.legend()
    return _save_or_return(fig, path)


def plot_loss_curves(curves, path=None, title="training loss", xlabel="step", optimum=None, epochs=None):
    """Several loss curves on one log-scaled axis; ``curves`` maps label -> losses.

    With ``epochs`` (per-batch curves of that many epochs), each epoch's mean is drawn too.
    """
    fig = figure(figsize=(7, 4))
    ax = fig.subplots()
    for label, losses in curves.items():
        ax.plot(np.arange(len(losses)), losses, lw=1, label=label)
        _draw_epoch_means(ax, losses, epochs)
    if optimum is not None:
        ax.axhline(optimum, color="k", ls="--", lw=1, label=f"least-squares optimum {optimum:.4f}")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("MSE")
    ax.set_title(title)
    ax.legend()
    return _save_or_return(fig, path)


def _draw_epoch_means(ax, losses, epochs):
    """Over a per-batch loss curve, the mean loss of each epoch: the trend a reader looks for under the noise."""
    losses = np.asarray(losses, dtype=float)
    if not epochs or len(losses) < 2 * epochs:
        return  # one point per epoch already (full-batch GD), or nothing to average
    steps = len(losses) // epochs
    means = losses[:steps * epochs].reshape(epochs, steps).mean(axis=1)
    ax.plot((np.arange(epochs) + 1) * steps - 1, means, color="tab:orange", lw=1.5, label="mean over each epoch")


def plot_predictions(true_prices, predicted_prices, path=None, title="test houses: predicted vs true price"):
    """Scatter of predicted against true price (in $1000s) with the ideal diagonal.

    Both axes start at $0: a price is never negative.  The linear model is not bounded, though,
    and may predict a house below $0; such a house is drawn as a red triangle on the bottom edge
    and the legend gives its real prediction, instead of stretching the axes to -5 for it.
    """
    true_prices = np.ravel(true_prices)
    predicted_prices = np.ravel(predicted_prices)
    fig = figure(figsize=(5.5, 5.5))
    ax = fig.subplots()
    below = predicted_prices < 0
    ax.scatter(true_prices[~below], predicted_prices[~below], s=12, alpha=0.7, label="a test house")
    if below.any():
        ax.scatter(true_prices[below], np.zeros(below.sum()), marker="v", s=45, color="tab:red", clip_on=False,
                   zorder=3, label=f"{below.sum()} predicted below $0 (lowest {predicted_prices.min():.1f}), "
                   f"drawn at 0")
    high = 1.05 * max(true_prices.max(), predicted_prices.max())
    ax.plot([0, high], [0, high], "k--", lw=1, label="prediction = truth")
    ax.set_xlim(0, high)
    ax.set_ylim(0, high)
    ax.set_aspect("equal")
    ax.set_xlabel("true price ($1000s)")
    ax.set_ylabel("predicted price ($1000s)")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize="small", frameon=False)  # off the points
    return _save_or_return(fig, path)


def plot_excess_mse(curves, optimum, title, path=None, reached=None):
    """Excess training MSE ``MSE / optimum - 1`` per epoch on a log scale: one small panel per optimizer.

    Plotting the excess rather than the MSE itself spreads out the last few percent, where the
    optimizers differ; the 1% target is a dashed line.  Eight curves on one axis are a tangle, so
    each optimizer gets its own panel (same axes everywhere), with the others in light grey behind
    it for comparison; ``reached`` (name -> epoch or None) marks when it first got within 1%.
    """
    names = list(curves)
    columns = 4
    rows = -(-len(names) // columns)
    fig = figure(figsize=(3.2 * columns, 2.6 * rows + 0.6))
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    excess = {name: np.maximum(np.asarray(curve) / optimum - 1.0, 1e-6) for name, curve in curves.items()}
    for ax, name in zip(axes.flat, names):
        for other in names:  # the others, faintly, to compare against
            if other != name:
                ax.plot(np.arange(1, len(excess[other]) + 1), excess[other], color="0.85", lw=0.6)
        ax.plot(np.arange(1, len(excess[name]) + 1), excess[name], color="tab:blue", lw=1.2)
        ax.axhline(0.01, color="black", linestyle="--", linewidth=0.8)
        epoch = (reached or {}).get(name)
        if epoch is not None:
            ax.axvline(epoch, color="tab:green", lw=0.8)
        ax.set_title(f"{name}: " + (f"within 1% at epoch {epoch}" if epoch is not None else "not within 1%"),
                     fontsize="medium")
        ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("MSE / optimum - 1")
    fig.suptitle(f"{title}; dashed: 1% above the least-squares optimum (log scale)")
    return _save_or_return(fig, path)


def _save_or_return(fig, path):
    if path is None:
        fig.tight_layout()
        return fig
    return save_figure(fig, path)

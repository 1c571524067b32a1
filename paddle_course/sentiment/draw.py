"""The sentiment chart (course 3.2): one bar of ``positive_probs`` per text, the text itself as its label."""
import numpy as np

from paddle_course.common.plots import figure

LABEL_CHARS = 24  # longer texts are cut (with an ellipsis) so the bars keep their room
MIN_BAR = 0.012  # a bar of p ~ 0 is drawn this long so that its colour shows; its number is the true p


def short_label(text, limit=LABEL_CHARS):
    """``text`` on one line, cut to ``limit`` characters with "…" when longer; ``$`` stays a dollar sign.

    (matplotlib reads the text between two ``$`` as a formula: "花了$50和$30" would lose its signs.)
    """
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    return text.replace("$", r"\$")


def plot_probabilities(results, title="course_sentiment: p(positive) per text"):
    """A horizontal bar per result of ``sentiment_classify`` (green positive, red negative); returns the figure.

    The texts label the bars in Chinese (``common.plots`` sets up the CJK fonts); the dashed
    line is the decision threshold 0.5; a legend says what the colours mean, and a bar of p ~ 0
    is drawn :data:`MIN_BAR` long so that its colour shows (the number beside it is the true p).
    """
    if not results:
        raise ValueError("no results to plot")
    fig = figure(figsize=(7.5, 1.0 + 0.42 * len(results)))
    ax = fig.subplots()
    positions = np.arange(len(results))
    probs = [r["positive_probs"] for r in results]
    ax.barh(positions, [max(p, MIN_BAR) for p in probs],
            color=["tab:green" if r["sentiment_label"] else "tab:red" for r in results])
    for y, p in zip(positions, probs):
        ax.text(min(max(p, MIN_BAR) + 0.01, 0.9), y, f"{p:.2f}", va="center", fontsize=9)
    ax.axvline(0.5, color="gray", linestyle="--", linewidth=1)
    ax.set_yticks(positions)
    ax.set_yticklabels([short_label(r["text"]) for r in results])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("positive_probs (right of the dashed line: positive)")
    ax.set_title(title)
    _colour_legend(ax)
    fig.tight_layout()
    return fig


def _colour_legend(ax):
    """What the colours mean, below the axes (the bars' ends may reach either side)."""
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="tab:green", label="positive (p >= 0.5)"),
                       Patch(color="tab:red", label="negative (p < 0.5)")],
              loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False, fontsize=9)

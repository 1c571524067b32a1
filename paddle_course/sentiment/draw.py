"""The sentiment chart (course 3.2): one bar of ``positive_probs`` per text, the text itself as its label."""
import numpy as np

from paddle_course.common.plots import figure

LABEL_CHARS = 24  # longer texts are cut (with an ellipsis) so the bars keep their room


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
    line is the decision threshold 0.5.
    """
    if not results:
        raise ValueError("no results to plot")
    fig = figure(figsize=(7.5, 1.0 + 0.42 * len(results)))
    ax = fig.subplots()
    positions = np.arange(len(results))
    probs = [r["positive_probs"] for r in results]
    ax.barh(positions, probs, color=["tab:green" if r["sentiment_label"] else "tab:red" for r in results])
    for y, p in zip(positions, probs):
        ax.text(min(p + 0.01, 0.9), y, f"{p:.2f}", va="center", fontsize=9)
    ax.axvline(0.5, color="gray", linestyle="--", linewidth=1)
    ax.set_yticks(positions)
    ax.set_yticklabels([short_label(r["text"]) for r in results])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("positive_probs (right of the dashed line: positive)")
    ax.set_title(title)
    fig.tight_layout()
    return fig

"""The tour's sentiment stop (course 3.2): classify a few reviews with the shipped model, plot ``positive_probs``."""
import time
from pathlib import Path

import numpy as np

from paddle_course.common.fileio import save_figure
from paddle_course.common.plots import pyplot
from paddle_course.common.progress import say
from paddle_course.sentiment.predict import classify

DEMO_TEXTS = [
    "这本书写得真好，一口气读完了",
    "质量太差了，用了两天就坏了",
    "物流很快，包装也很仔细，满意",
    "客服态度恶劣，再也不买了",
    "内容一般，不过价格便宜",
    "宝宝很喜欢，每天都要看",
]


def demo(out_dir, quiet=False):
    """Course tour: classify a few sentences with the shipped module, print them, plot ``positive_probs``.

    Saves ``sentiment_demo.png`` in ``out_dir``; returns the results and the figure path.
    """
    started = time.time()
    results = classify(DEMO_TEXTS, batch_size=len(DEMO_TEXTS))
    for r in results:
        say(f"  {r['sentiment_key']:8s} p(positive)={r['positive_probs']:.4f}  {r['text']}", quiet)
    fig, ax = pyplot().subplots(figsize=(6, 3))
    positions = np.arange(len(results))
    colors = ["tab:green" if r["sentiment_label"] else "tab:red" for r in results]
    ax.barh(positions, [r["positive_probs"] for r in results], color=colors)
    ax.axvline(0.5, color="gray", linestyle="--", linewidth=1)
    ax.set_yticks(positions)
    # CJK glyphs are not in matplotlib's default font: label bars by number, texts are printed above
    ax.set_yticklabels([f"#{i + 1}" for i in positions])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("positive_probs")
    ax.set_title("course_sentiment on the demo sentences")
    figure = save_figure(fig, Path(out_dir) / "sentiment_demo.png")
    say(f"saved {figure}", quiet)
    return {"results": results, "figure": str(figure), "seconds": round(time.time() - started, 2)}


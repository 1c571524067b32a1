"""The tour's sentiment stop (course 3.2): classify a few reviews with the shipped model, plot ``positive_probs``."""
import time
from pathlib import Path

from paddle_course.common.fileio import save_figure
from paddle_course.common.progress import say
from paddle_course.sentiment.draw import plot_probabilities
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
    fig = plot_probabilities(results, title="course_sentiment on the demo sentences")
    figure = save_figure(fig, Path(out_dir) / "sentiment_demo.png")
    say(f"saved {figure}", quiet)
    return {"results": results, "figure": str(figure), "seconds": round(time.time() - started, 2)}


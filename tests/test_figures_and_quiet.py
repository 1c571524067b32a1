"""The figures a learner opens can be read, and --quiet keeps the result (quiet means no progress, not no result)."""
import numpy as np
import pytest

from paddle_course.cli import main as cli_main


@pytest.fixture
def kept_figures(monkeypatch):
    """The matplotlib figures the Boston plots would save, kept open for the test to look at."""
    from paddle_course.boston import figures

    kept = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: kept.append(fig) or path)
    return kept


def test_predicted_vs_true_starts_at_zero_and_marks_a_house_predicted_below_it(kept_figures, tmp_path):
    from paddle_course.boston.figures import plot_predictions

    true = np.array([7.0, 20.0, 30.0])
    plot_predictions(true, np.array([-3.7, 21.0, 28.0]), tmp_path / "p.png")
    ax = kept_figures[0].axes[0]
    assert ax.get_ylim()[0] == 0 and ax.get_xlim()[0] == 0
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any("1 predicted below $0 (lowest -3.7)" in label for label in labels), labels


def test_the_optimizer_curves_get_one_panel_each(kept_figures, tmp_path):
    from paddle_course.boston.figures import plot_excess_mse

    curves = {name: list(np.linspace(2.0, 1.005, 30)) for name in ("SGD", "Momentum", "Adam")}
    plot_excess_mse(curves, 1.0, "test", tmp_path / "o.png", reached={"SGD": 12, "Momentum": None, "Adam": 5})
    titles = [ax.get_title() for ax in kept_figures[0].axes if ax.get_visible()]
    assert titles == ["SGD: within 1% at epoch 12", "Momentum: not within 1%", "Adam: within 1% at epoch 5"]


def test_a_pedestrian_score_sits_on_a_filled_label_whatever_the_background():
    from paddle_course.detection.draw import draw_detections

    grass = np.zeros((200, 300, 3), np.uint8)
    grass[:] = (40, 160, 40)
    drawn = draw_detections(grass, [{"left": 100, "top": 80, "right": 150, "bottom": 180, "confidence": 0.77}])
    label = drawn[55:80, 100:150].astype(int)
    changed = np.abs(label - grass[55:80, 100:150]).sum(axis=2) > 60
    assert changed.mean() > 0.4  # a filled label, not digits drawn straight onto the grass
    assert (label.max(axis=2) < 80).any()  # with dark digits on it


def test_the_ocr_panel_lists_every_line_on_its_own_row():
    from paddle_course.ocr.draw import MARGIN, ROW_HEIGHT, draw_result

    image = np.full((60, 200, 3), 255, np.uint8)
    lines = [{"text": f"第{i}行", "confidence": 0.9, "text_box_position": [[10, 20], [60, 20], [60, 40], [10, 40]]}
             for i in range(12)]  # twelve boxes on one row: their labels must not share one
    drawn = draw_result(image, lines)
    assert drawn.shape[0] >= 2 * MARGIN + 12 * ROW_HEIGHT
    panel = drawn[:, 200:]
    inked_rows = np.flatnonzero((panel < 200).any(axis=(1, 2)))
    assert inked_rows.max() - inked_rows.min() > 11 * ROW_HEIGHT - 5


def test_tour_results_are_printed_from_the_summary(tmp_path):
    from paddle_course.tour import result_lines

    (tmp_path / "boston_predictions.png").write_bytes(b"")
    summary = {"seconds": 12.5,
               "boston": {"gd_ratio": 1.0000001, "sgd_ratio": 1.0012, "test_mae_thousands": 4.62,
                          "paddle_vs_numpy_max_abs_diff": {"dygraph": 4e-7, "static": 4e-7},
                          "figures": ["boston_predictions.png"]},
               "ocr": {"fields": {"name": "杜国", "phone": "1"}, "expected": {"name": "杜国", "phone": "2"},
                       "save_path": str(tmp_path / "ocr_waybill.jpg")}}
    text = "\n".join(result_lines(summary, tmp_path))
    assert f"tour finished in 12.5 s; 1 files in {tmp_path}/" in text
    assert "1.0012 x the least-squares optimum" in text and "$4.62k" in text
    assert "1 of 2 fields read right" in text and "ocr_waybill.jpg" in text


def test_quiet_optimizers_still_print_the_table(tmp_path, capsys):
    assert cli_main(["boston", "optimizers", "--epochs", "2", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| SGD |" in out and f"saved {tmp_path}/optimizers.md" in out


def test_the_sentiment_chart_says_what_its_colours_mean_and_shows_a_bar_of_p_zero():
    from paddle_course.sentiment.draw import MIN_BAR, plot_probabilities

    results = [{"text": "质量太差了", "sentiment_label": 0, "positive_probs": 0.0},
               {"text": "这本书写得真好", "sentiment_label": 1, "positive_probs": 0.99}]
    ax = plot_probabilities(results).axes[0]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["positive (p >= 0.5)", "negative (p < 0.5)"]
    assert ax.patches[0].get_width() == MIN_BAR  # visible, and red
    assert "0.00" in [text.get_text() for text in ax.texts]  # the number is the true p

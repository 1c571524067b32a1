"""How well text is read: edit distance, character and line accuracy (course 3.2)."""
import numpy as np


def edit_distance(a, b):
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def char_accuracy(predicted, expected):
    """``1 - edit_distance(predicted, expected) / len(expected)``, floored at 0."""
    if not expected:
        return float(predicted == expected)
    return max(0.0, 1.0 - edit_distance(predicted, expected) / len(expected))


def accuracy_on(samples, recognize_fn):
    """Line and character accuracy of ``recognize_fn(list of images) -> list of line lists``.

    Recognised lines of one image are joined top to bottom; so are the expected
    lines, after removing spaces (the recognizer does not always print them).

    Returns ``{"images", "line_accuracy", "char_accuracy"}`` where a line counts
    as right when the whole image's text matches exactly.
    """
    images = [image for image, _ in samples]
    predictions = recognize_fn(images)
    exact, chars = 0, 0.0
    for (_, expected), lines in zip(samples, predictions):
        want = "".join(expected).replace(" ", "")
        got = "".join(line["text"] for line in lines).replace(" ", "")
        exact += got == want
        chars += char_accuracy(got, want)
    return {"images": len(samples), "line_accuracy": exact / len(samples), "char_accuracy": chars / len(samples)}



def line_metrics(decoded, texts):
    """``{"acc": share of lines read exactly, "char_acc": mean 1 - edit distance / length}``."""
    exact = np.mean([d == t for d, t in zip(decoded, texts)])
    chars = np.mean([char_accuracy(d, t) for d, t in zip(decoded, texts)])
    return {"acc": float(exact), "char_acc": float(chars)}


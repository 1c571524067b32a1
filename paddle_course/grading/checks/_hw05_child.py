"""hw05's operations on the learner's objects, which live in the sandboxed child.

Files are written into the child's private folder (paths here are the child's, not this
machine's); the learner's model is driven through :mod:`paddle_course.grading.remote`; its
checkpoint (``model.pdparams`` from PaddleHub's hub.Trainer, or ``model.safetensors``) comes back
as bytes and is read by :mod:`paddle_course.common.safe_weights`, never unpickled as it is.  The
shipped model's own answers are computed here, with Paddle.
"""
from pathlib import PurePosixPath

import numpy as np

from paddle_course.grading.checks._hw05_inputs import CHAR_POOL, reference_accuracy, split_point, wrong_accuracies
from paddle_course.grading.framework import CheckFailed, as_array, as_number, expect_true, get_function, show
from paddle_course.grading.remote import (Remote, class_names, defines, helper, is_tensor, remote_isinstance,
                                          to_tensor, type_name)

# the largest checkpoint file the grader reads back from the child
MAX_CHECKPOINT_BYTES = 64 << 20
# the fine-tuning runs: what finetune() is called with
FINETUNE_ARGS = {"epochs": 2, "batch_size": 32, "lr": 2e-3}


# --- files and the data set ------------------------------------------------------


def child_workdir(module):
    """A fresh folder in the child's private working folder (a path of the child, not of this machine)."""
    return PurePosixPath(helper(module, "make_workdir", "hw05_"))


def write_child_tsv(module, path, pairs, header=True):
    """Write a ``text<TAB>label`` file at the child's ``path``."""
    from paddle_course import sentiment

    lines = ([sentiment.TSV_HEADER] if header else []) + [f"{text}\t{label}" for text, label in pairs]
    helper(module, "write_text", str(path), "\n".join(lines) + "\n")
    return path


def small_vocab(module, rng):
    """``(vocab here, the same vocab in the child)``: the child's goes into the learner's TsvDataset.

    Some characters, bigrams and lexicon words of ``CHAR_POOL`` are known, so that the three
    arrays of ``vocab.encode`` differ from each other."""
    from paddle_course import sentiment

    known = [c for c in CHAR_POOL if rng.random() < 0.7] + [" "]
    grams = [a + b for a in CHAR_POOL[:12] for b in CHAR_POOL[:12] if rng.random() < 0.3]
    words = {word: int(rng.integers(1, 6)) for word in ("好书", "差评", "很慢", "热情", "干净", "失望", "满意", "很")}
    vocab = sentiment.Vocab(known, grams, lexicon=sentiment.Lexicon(words))
    return vocab, helper(module, "make_vocab", known, grams, words)


def make_dataset(module, path, vocab):
    TsvDataset = get_function(module, "TsvDataset")
    dataset = TsvDataset(str(path), vocab)
    base = class_names(dataset)[1:2] or ["object"]
    expect_true(remote_isinstance(dataset, "paddle.io.Dataset"), "TsvDataset must subclass paddle.io.Dataset "
                "(class TsvDataset(paddle.io.Dataset) and super().__init__() first): hub.Trainer's DataLoader "
                "takes a paddle.io.Dataset", received=base[0].rsplit(".", 1)[-1])
    return dataset


def label_problem(label):
    """Why ``label`` is not an int64 class id, or None when it is one."""
    if isinstance(label, (bool, np.bool_)):
        return "a bool"
    if isinstance(label, int):  # a Python int stacks into int64
        return None
    if is_tensor(label):
        return "a paddle Tensor: return NumPy values, the collate_fn and DataLoader make the tensors"
    dtype = None if isinstance(label, Remote) else getattr(label, "dtype", None)
    if dtype is None:
        return f"a {type_name(label)}"
    if np.dtype(dtype) != np.int64 or np.size(label) != 1:
        return f"of dtype {dtype} and shape {np.shape(label)}"
    return None


# --- the pre-trained starting point -------------------------------------------

def parameters_of(layer):
    """The learner's model's parameters as arrays (their copies come back with the state dict)."""
    state = layer.state_dict()
    if not isinstance(state, dict):
        raise CheckFailed(f"the model's state_dict() is a {type_name(state)}, not a dict of parameters")
    return {key: as_array(value, f"parameter {key!r}") for key, value in state.items()}


def shipped_parameters():
    from paddle_course import sentiment

    return sentiment.load_weights(sentiment.shipped_model_dir() / sentiment.WEIGHTS_FILE)


def general_reviews(rng, count):
    """``count`` ordinary reviews from the shipped test split."""
    from paddle_course import sentiment

    pairs = sentiment.read_tsv(sentiment.split_path("test"))
    return [pairs[i] for i in rng.choice(len(pairs), size=count, replace=False)]


# --- the steps hub.Trainer calls ------------------------------------------------

def small_classifier(module, rng):
    """A small SentimentClassifier with seeded random weights and no dropout, in eval mode."""
    SentimentClassifier = get_function(module, "SentimentClassifier")
    for method in ("training_step", "validation_step"):
        expect_true(defines(SentimentClassifier, method), f"SentimentClassifier does not define {method} itself: "
                    "write it in your class (hub.Trainer calls it on every batch)")
    helper(module, "paddle_seed", int(rng.integers(1, 2 ** 31)))
    # no dropout: the LSTM keeps what its backward needs only in training mode, and with dropout 0 the
    # training mode computes the same logits as eval mode
    model = SentimentClassifier(40, 30, char_dim=8, bigram_dim=4, lex_dim=2, hidden_size=6, dropout=0.0)
    # logits of a few units, so that every way of getting the accuracy wrong shows
    weight = model.fc.weight
    weight.set_value(to_tensor(rng.normal(scale=2.0, size=weight.shape).astype("float32")))
    model.eval()
    return model


def random_batch(model, rng):
    """``([chars, bigrams, tags, lengths], labels, logits)``: a random batch on which every wrong accuracy
    below differs from the right one."""
    batch_size = int(rng.integers(10, 20))
    width = int(rng.integers(6, 12))
    chars = rng.integers(1, 40, size=(batch_size, width))
    grams = rng.integers(1, 30, size=(batch_size, width))
    tags = rng.integers(0, 6, size=(batch_size, width))
    lengths = rng.integers(3, width + 1, size=batch_size)
    lengths[0] = width  # the widest text sets the width, as collate makes it
    for row in range(batch_size):  # right padding, as collate makes it
        for ids in (chars, grams, tags):
            ids[row, lengths[row]:] = 0
    inputs = [a.astype("int64") for a in (chars, grams, tags, lengths)]
    tokens = [helper(model, "keep", to_tensor(a)) for a in inputs]

    def logits_now():
        return as_array(helper(model, "call_no_grad", model, *tokens), "the model's logits", (batch_size, 2))

    # Move the bias so that argmax calls half the batch positive (when every text gets the same
    # class, a [B, B] broadcast gives the right accuracy by accident) and "z_1 > 0.5" a quarter
    # of it (adding one number to both logits changes neither argmax nor the cross-entropy).
    logits = logits_now()
    bias_parameter = model.fc.bias
    bias = bias_parameter.numpy()
    bias[1] -= split_point(logits[:, 1] - logits[:, 0], batch_size // 2)
    bias_parameter.set_value(to_tensor(bias))
    logits = logits_now()
    bias += 0.5 - split_point(logits[:, 1], batch_size - batch_size // 4)
    bias_parameter.set_value(to_tensor(bias))
    logits = logits_now()
    for _ in range(200):
        labels = rng.integers(0, 2, size=batch_size)
        values = [reference_accuracy(logits, labels)] + list(wrong_accuracies(logits, labels).values())
        if len(set(np.round(values, 6))) == len(values):
            break
    return inputs, labels.astype("int64"), logits


def step_result(result, step):
    expect_true(isinstance(result, dict), f"{step} should return a dict {{'loss': ..., 'metrics': {{'acc': ...}}}}",
                received=show(result))
    expect_true("loss" in result, f"{step}'s result has no 'loss' key (hub.Trainer reads result['loss'])",
                received=show(sorted(result)))
    metrics = result.get("metrics")
    expect_true(isinstance(metrics, dict) and "acc" in metrics,
                f"{step}'s result should hold 'metrics': {{'acc': accuracy}} (hub.Trainer logs and compares it)",
                received=show(metrics))
    return result["loss"], metrics["acc"]


# --- fine-tuning for real --------------------------------------------------------

def finetune_files(module, train_pairs, dev_pairs):
    """``(folder, train.tsv, dev.tsv)``, written in a fresh folder of the child."""
    folder = child_workdir(module)
    return (folder, write_child_tsv(module, folder / "train.tsv", train_pairs),
            write_child_tsv(module, folder / "dev.tsv", dev_pairs))


def call_finetune(module, train_path, dev_path, out_dir, seed):
    """The learner's ``finetune`` with ``FINETUNE_ARGS``; returns ``(model, best_dev)`` once they look right."""
    finetune = get_function(module, "finetune")
    result = finetune(str(train_path), str(dev_path), str(out_dir), seed=seed, **FINETUNE_ARGS)
    expect_true(isinstance(result, (tuple, list)) and len(result) == 2,
                "finetune should return (model, best_dev_accuracy)", received=show(result))
    model, best_dev = result
    expect_true(remote_isinstance(model, "paddle.nn.Layer"), "the first thing finetune returns should be the model "
                "(the SentimentClassifier it trained)", received=type_name(model))
    best_dev = as_number(best_dev, "the best dev accuracy finetune returned")
    expect_true(0.0 <= best_dev <= 1.0, "the best dev accuracy should be a fraction in [0, 1]"
                + (" (it looks like a percentage)" if 1.0 < best_dev <= 100.0 else ""),
                received=show(best_dev))
    return model, best_dev


def child_probs(network, texts, vocab=None, config=None):
    """``p(positive)`` of the learner's ``network`` for ``texts``, computed in the child (with the
    learner's ``vocab`` and ``config`` when given, else the shipped ones)."""
    probs = helper(network, "predict_probs", network, list(texts), vocab, config)
    return as_array(probs, "p(positive) of your model", (len(texts),))


def accuracy_of(network, pairs):
    """Accuracy of the shipped network (here) or of the learner's (a :class:`Remote`, in the child)."""
    from paddle_course import sentiment

    texts = [text for text, _ in pairs]
    if isinstance(network, Remote):
        probs = child_probs(network, texts)
    else:
        _, vocab, config = sentiment.load_model()
        probs = sentiment.predict_probs(network, vocab, config, texts)
    return float(np.mean((probs >= 0.5).astype(int) == np.array([label for _, label in pairs])))


def child_file_info(module, path):
    """What is at the child's ``path``: ``{"is_file", "is_dir", "size", "entries"}``."""
    info = helper(module, "file_info", str(path))
    return info if isinstance(info, dict) else {}


def child_weights_file(module, folder):
    """The weights file of the child's checkpoint ``folder`` (``epoch_N/``, ``best_model/``): ``model.safetensors``
    (the course's trainer) if there is one, else ``model.pdparams`` (PaddleHub's own hub.Trainer), which may
    not exist either (the caller says so)."""
    from paddle_course.common.checkpoints import LEGACY_PARAMS_FILE, PARAMS_FILE

    safe = folder / PARAMS_FILE
    return safe if child_file_info(module, safe).get("is_file") is True else folder / LEGACY_PARAMS_FILE


def _plain_state(data, suffix):
    """``{name: ndarray}`` from a checkpoint file's bytes, nothing in it run (UnsafeWeightsError otherwise)."""
    from paddle_course.common.safe_weights import UnsafeWeightsError, load_pickled_state

    if suffix != ".safetensors":
        return load_pickled_state(data)
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        state = load(data)
    except (SafetensorError, ValueError) as error:
        raise UnsafeWeightsError(f"not a readable safetensors file ({error})") from None
    for key, array in state.items():
        if array.dtype.kind not in "biufc":
            raise UnsafeWeightsError(f"entry {key!r} has dtype {array.dtype}; a weights file holds numbers only")
    return state


def copy_checkpoint(module, path, target):
    """The learner's checkpoint file ``path`` (in the child) as arrays, saved again at ``target`` here.

    The file was written by the learner's code, so it is never loaded as it is: its bytes are
    read by :mod:`paddle_course.common.safe_weights` (``model.pdparams``: the restricted unpickler,
    which builds plain arrays and refuses anything that would run; ``model.safetensors``: tensors
    only), and only those arrays are written again, as ``model.safetensors`` in ``target``'s folder.
    Returns the state dict.
    """
    from paddle_course.common.checkpoints import PARAMS_FILE
    from paddle_course.common.safe_weights import UnsafeWeightsError, save_state

    data = helper(module, "read_bytes", str(path), MAX_CHECKPOINT_BYTES)
    if not isinstance(data, bytes):
        raise CheckFailed(f"could not read your checkpoint {path.parent.name}/{path.name}")
    try:
        state = _plain_state(data, path.suffix)
    except UnsafeWeightsError as error:
        raise CheckFailed(f"your checkpoint {path.parent.name}/{path.name} is not a plain weights file: "
                          f"{error}") from None
    save_state(state, target / PARAMS_FILE)
    return state

"""Checks of homework 5: fine-tuning ``course_sentiment`` with PaddleHub's Fine-tune API (``hub.Trainer``).

The learner writes the pieces hub.Trainer needs -- a ``paddle.io.Dataset``, the
model's ``training_step``/``validation_step``, the pre-trained starting point
and the ``finetune`` function around ``hub.Trainer`` -- and the checks run them
on seeded random inputs:

* the data set and the two steps are compared with values computed here by
  hand (``vocab.encode``, a NumPy cross-entropy, ``argmax`` accuracy);
* ``finetune`` runs for real, from the shipped weights, on reviews written in
  internet slang that the shipped module mostly reads the wrong way round
  (generated here from a seed, see ``slang_reviews``); it must fix them and
  still know ordinary reviews;
* a second run uses a dev file whose labels contradict the training file, so
  the dev accuracy falls after the first epoch: the model ``finetune`` returns
  and the checkpoint ``hub.Module(directory=..., checkpoint=out_dir)`` loads
  must both be the best epoch's.

The learner's file runs in the sandbox with Paddle, PaddleHub and a stand-in of
``paddle_course.sentiment`` (``course_api``) preloaded before the clock starts, and reads the
shipped weights from a read-only copy (``course_files``).  The checks themselves need Paddle
only for the shipped model's own predictions and to load the learner's checkpoint into
``hub.Module`` -- after :mod:`paddle_course.common.safe_weights` has read it as plain arrays
(a checkpoint written by the learner's code is never unpickled here).  Paddle is imported
while the child starts (``trusted_preload``), never at the top of this module, so
``homework list`` stays fast.
"""
import re
import tempfile
from pathlib import Path

import numpy as np

from paddle_course.grading.checks._hw05_child import (FINETUNE_ARGS, accuracy_of, call_finetune, child_file_info,
                                                      child_probs, child_weights_file, child_workdir,
                                                      copy_checkpoint, finetune_files,
                                                      general_reviews, label_problem, make_dataset, parameters_of,
                                                      random_batch, shipped_parameters, small_classifier,
                                                      small_vocab, step_result, write_child_tsv)
from paddle_course.grading.checks._hw05_inputs import (random_text, reference_accuracy, reference_cross_entropy,
                                                       slang_reviews, wrong_accuracies, wrong_losses)
from paddle_course.grading.framework import (Assignment, CheckFailed, as_number, check, expect_close, expect_true,
                                             get_function, show)
from paddle_course.grading.remote import helper, is_tensor, remote_isinstance, to_tensor, type_name

__all__ = ["ASSIGNMENT", "slang_reviews"]  # slang_reviews: the domain shift the fine-tuning checks rely on

ASSIGNMENT = Assignment(
    id="hw05",
    folder="hw05_finetune",
    title="Fine-tune the sentiment module with PaddleHub (用 PaddleHub 微调情感分析模型)",
    covers="TsvDataset(paddle.io.Dataset) over a text<TAB>label file, the model's training_step/validation_step "
    "(cross-entropy, accuracy) for hub.Trainer, the shipped weights as the start, and finetune() with an "
    "optimizer and hub.Trainer: it must fix internet-slang reviews and return the best dev epoch, which "
    "hub.Module(checkpoint=...) loads back.",
    # one fine-tuning run takes ~5 s on a laptop core; the limit leaves room for a slow machine
    check_timeout=120.0,
    preload=("paddle", "paddlehub", "paddle_course.sentiment"),
    memory_limit_mb=4096,  # Paddle maps ~2 GB of address space while fine-tuning
    course_api=("sentiment", "common.paths"),
    course_files=("hub_modules/course_sentiment/assets",),
    trusted_preload=("paddle", "paddle_course.sentiment", "paddlehub"),
)

# float32 in Paddle against float64 in NumPy
RTOL, ATOL = 1e-4, 1e-5
NUM_TRAIN, NUM_DEV, NUM_GENERAL = 240, 120, 200
# Measured with the BiLSTM of 2026-12 (seeds 1, 2, 2024): fine-tuned on slang, the reference gets
# 0.82-0.83 of the slang dev texts right (the shipped weights 0.09-0.13) and keeps 0.60-0.68 on
# ordinary reviews (0.835 before: this slang pulls against the lexicon, so some is forgotten); trained
# from random weights it gets the slang (0.97) but falls to 0.39 on ordinary reviews.
MIN_SLANG_ACCURACY, MIN_GAIN, MIN_GENERAL_ACCURACY = 0.75, 0.30, 0.50


@check(2, tests="TsvDataset(path, vocab) on a random file: len, and item i = (chars, bigrams, tags of "
       "vocab.encode(text_i) as int64 arrays, int64 label_i)",
       hint="pairs = sentiment.read_tsv(path); chars, bigrams, tags = vocab.encode(text); "
       "__getitem__ returns (chars, bigrams, tags, np.int64(label)); __len__ returns the number of examples")
def dataset_items(module, rng):
    from paddle_course import sentiment

    vocab, child_vocab = small_vocab(module, rng)
    count = int(rng.integers(12, 25))
    pairs = [(random_text(rng, 8), int(rng.integers(0, 2))) for _ in range(count)]
    header = bool(rng.random() < 0.5)
    path = write_child_tsv(module, child_workdir(module) / "reviews.tsv", pairs, header=header)
    dataset = make_dataset(module, path, child_vocab)

    length = len(dataset)
    if length != count:
        problem = ""
        if length == count + 1 and header:
            problem = ": the header line text<TAB>label was read as an example (sentiment.read_tsv skips it)"
        raise CheckFailed(f"len(dataset) is {length} for a file with {count} examples{problem}",
                          expected=str(count), received=str(length))

    names = ("chars", "bigrams", "tags")
    for index, (text, label) in enumerate(pairs):
        item = dataset[index]
        expect_true(isinstance(item, (tuple, list)) and len(item) == 4,
                    f"dataset[{index}] should be (chars, bigrams, tags, label)", received=show(item))
        stored = sentiment.normalize_text(text.strip())  # what the file holds, as read_tsv returns it
        for name, got, expected in zip(names, item[:3], vocab.encode(stored)):
            expect_true(isinstance(got, np.ndarray), f"the {name} of dataset[{index}] should be a NumPy "
                        f"array (vocab.encode returns them), got {type_name(got)}")
            expect_true(got.dtype == np.int64, f"the {name} of dataset[{index}] have dtype {got.dtype}: "
                        "nn.Embedding takes int64 ids (vocab.encode already returns int64; do not convert them)",
                        expected="int64", received=str(got.dtype))
            expect_true(got.shape == expected.shape and np.array_equal(got, expected),
                        f"the {name} of dataset[{index}] (text {stored!r}) are not vocab.encode(text)'s "
                        "(is item i the file's line i, and are the three arrays in the order chars, bigrams, tags?)",
                        expected=show(expected), received=show(got))
        got_label = item[3]
        problem = label_problem(got_label)
        if problem:
            raise CheckFailed(f"the label of dataset[{index}] is {problem}: class ids must be int64 "
                              "(F.cross_entropy and paddle.metric take int64 labels): return np.int64(label)",
                              expected="np.int64", received=f"{show(got_label)} ({type_name(got_label)})")
        expect_true(int(np.reshape(got_label, ())) == label, f"the label of dataset[{index}] is wrong",
                    expected=str(label), received=show(got_label))


@check(1, tests="TsvDataset on a file with a bad label on a random line raises ValueError naming the file and line",
       hint="read the whole file in __init__ with sentiment.read_tsv(path): its ValueError says 'file:line: ...'")
def dataset_errors(module, rng):
    _, vocab = small_vocab(module, rng)
    count = int(rng.integers(5, 12))
    pairs = [(random_text(rng, 6), int(rng.integers(0, 2))) for _ in range(count)]
    bad_row = int(rng.integers(1, count))
    bad_label = str(rng.choice(["2", "-1", "positive", "1.0"]))
    pairs[bad_row] = (pairs[bad_row][0], bad_label)
    path = write_child_tsv(module, child_workdir(module) / "bad_label.tsv", pairs, header=True)
    bad_line = bad_row + 2  # line 1 is the header
    try:
        dataset = make_dataset(module, path, vocab)
    except CheckFailed:
        raise
    except ValueError as error:
        message = str(error)
        # the line number, not a digit of the folder's name
        rest = message.replace(str(path), path.name).replace(path.name, "")
        expect_true(path.name in message and re.search(rf"\b{bad_line}\b", rest) is not None,
                    f"the error for the label {bad_label!r} on line {bad_line} should name the file and the line, "
                    "so the learner can fix it: use sentiment.read_tsv", expected=f"{path.name}:{bad_line}: ...",
                    received=message)
        return
    for index in range(count):
        try:
            dataset[index]
        except ValueError:
            raise CheckFailed(f"the bad label {bad_label!r} on line {bad_line} raised only when dataset[{index}] "
                              "was fetched: read and check the whole file in __init__, so a bad file fails "
                              "before training starts") from None
    raise CheckFailed(f"TsvDataset accepted the label {bad_label!r} on line {bad_line}: labels are 0 or 1; "
                      "sentiment.read_tsv raises ValueError naming the file and line",
                      expected="ValueError", received="no error")


@check(1, tests="pretrained_model() returns (SentimentClassifier with the shipped weights, in eval mode, vocab, "
       "config) and predicts like the shipped module",
       hint="model = SentimentClassifier(len(vocab), vocab.num_bigrams, **network_arguments(config)); "
       "model.set_state_dict(sentiment.load_weights(ASSETS / 'model.safetensors')); model.eval()")
def pretrained_model_is_the_shipped_module(module, rng):
    from paddle_course import sentiment

    result = get_function(module, "pretrained_model")()
    expect_true(isinstance(result, (tuple, list)) and len(result) == 3,
                "pretrained_model() should return (model, vocab, config)", received=show(result))
    model, vocab, config = result
    SentimentClassifier = get_function(module, "SentimentClassifier")
    expect_true(remote_isinstance(model, SentimentClassifier), "the model should be a SentimentClassifier (your "
                "class: hub.Trainer calls its training_step and validation_step)", received=type_name(model))
    shipped_network, shipped_vocab, _ = sentiment.load_model()
    expect_true(remote_isinstance(vocab, "paddle_course.sentiment.Vocab") and len(vocab) == len(shipped_vocab),
                "the vocab should be the module's: sentiment.Vocab.load(ASSETS / 'vocab.json', lexicon)",
                expected=f"a Vocab of {len(shipped_vocab)} characters", received=show(vocab))

    shipped, state = shipped_parameters(), parameters_of(model)
    expect_true(set(state) == set(shipped), "the model's parameters are not the course network's: subclass "
                "SentimentBiLSTM and add no layers, so the checkpoint loads back into the module",
                expected=show(sorted(shipped)), received=show(sorted(state)))
    different = [key for key in shipped if state[key].shape != shipped[key].shape
                 or not np.allclose(state[key], shipped[key])]
    if len(different) == len(shipped):
        raise CheckFailed("the shipped weights were not loaded (no parameter equals the module's): "
                          "model.set_state_dict(sentiment.load_weights(ASSETS / 'model.safetensors'))")
    expect_true(not different, "some parameters differ from the shipped weights", received=show(different[:4]))
    expect_true(not model.training, "the model is in training mode (dropout is on, so predictions change from "
                "call to call): call model.eval() before returning it", expected="model.training == False",
                received="model.training == True")

    texts = [text for text, _ in general_reviews(rng, 40)]
    expected = sentiment.predict_probs(shipped_network, shipped_vocab, config, texts)
    received = child_probs(model, texts, vocab, config)
    expect_close(received, expected, "p(positive) of your model on 40 test reviews", rtol=RTOL, atol=ATOL)


@check(2, tests="training_step on a random batch: loss = mean cross-entropy (a Tensor with a gradient), "
       "acc = mean(argmax(logits) == label)",
       hint="*inputs, labels = batch; logits = self(*inputs); loss = F.cross_entropy(logits, labels) "
       "(mean, takes logits); "
       "acc = (logits.argmax(axis=1) == labels.reshape([-1])).astype('float32').mean(); "
       "return {'loss': loss, 'metrics': {'acc': acc}}")
def training_step_loss_and_accuracy(module, rng):
    model = small_classifier(module, rng)
    inputs, labels, logits = random_batch(model, rng)
    model.train()  # as hub.Trainer trains (the LSTM's backward needs it); no dropout, so the same logits
    result = model.training_step([to_tensor(a) for a in inputs] + [to_tensor(labels)], 0)
    loss, accuracy = step_result(result, "training_step")
    expect_true(is_tensor(loss), "the loss should be the paddle Tensor itself: hub.Trainer calls "
                "loss.backward() on it (do not turn it into a float in training_step)",
                received=type_name(loss))
    expect_true(not loss.stop_gradient, "the loss is cut off from the parameters (stop_gradient=True): compute it "
                "from self(chars, bigrams, tags, lengths) without paddle.no_grad(), .detach() or .numpy()")
    expected = reference_cross_entropy(logits, labels)
    expect_close(as_number(loss, "the loss"), expected, "the loss", rtol=RTOL, atol=ATOL,
                 mistakes=wrong_losses(logits, labels))
    loss.backward()
    gradient = model.fc.weight.grad
    expect_true(gradient is not None and np.any(gradient.numpy() != 0), "loss.backward() gave no gradient to the "
                "network's weights: the loss must be computed from self(chars, bigrams, tags, lengths)")
    expect_close(as_number(accuracy, "metrics['acc']"), reference_accuracy(logits, labels), "metrics['acc']",
                 rtol=RTOL, atol=ATOL, mistakes=wrong_accuracies(logits, labels))


@check(1, tests="validation_step on a random batch under paddle.no_grad(): the same mean cross-entropy and accuracy",
       hint="the same loss and accuracy as training_step; floats are fine here "
       "(hub.Trainer averages them over the dev set)")
def validation_step_loss_and_accuracy(module, rng):
    model = small_classifier(module, rng)
    inputs, labels, logits = random_batch(model, rng)
    # under paddle.no_grad(), as hub.Trainer.evaluate calls it
    result = helper(model, "call_no_grad", model.validation_step, [to_tensor(a) for a in inputs] + [to_tensor(labels)],
                    0)
    loss, accuracy = step_result(result, "validation_step")
    expect_close(as_number(accuracy, "validation metrics['acc']"), reference_accuracy(logits, labels),
                 "validation metrics['acc']", rtol=RTOL, atol=ATOL, mistakes=wrong_accuracies(logits, labels))
    expect_close(as_number(loss, "the validation loss"), reference_cross_entropy(logits, labels), "the validation loss",
                 rtol=RTOL, atol=ATOL, mistakes=wrong_losses(logits, labels))


@check(2, tests="finetune(train, dev, out, epochs=2, batch_size=32, lr=2e-3, seed) on seeded internet-slang "
       "reviews the shipped module misreads: the slang dev accuracy rises by a wide margin, ordinary "
       "reviews are still classified well, and a second run with the same seed ends with the same weights",
       hint="set the seeds; model, vocab, config = pretrained_model(); TsvDataset for train and dev; "
       "optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters()); "
       "trainer = hub.Trainer(model, optimizer, checkpoint_dir=out_dir, use_vdl=False); "
       "trainer.train(train_dataset, epochs=..., batch_size=..., eval_dataset=dev_dataset, save_interval=1, "
       "collate_fn=collate)")
def finetune_fixes_slang_reviews(module, rng):
    from paddle_course import sentiment

    train_pairs, dev_pairs = slang_reviews(rng, NUM_TRAIN), slang_reviews(rng, NUM_DEV)
    general_pairs = general_reviews(rng, NUM_GENERAL)
    shipped_network = sentiment.load_model()[0]
    before = accuracy_of(shipped_network, dev_pairs)
    folder, train_path, dev_path = finetune_files(module, train_pairs, dev_pairs)
    seed = int(rng.integers(1, 10_000))
    model, _ = call_finetune(module, train_path, dev_path, folder / "run_1", seed)
    model.eval()  # measured without dropout, whatever mode the model came back in
    after = accuracy_of(model, dev_pairs)
    state = parameters_of(model)
    wanted = max(MIN_SLANG_ACCURACY, before + MIN_GAIN)
    if after < wanted:
        shipped = shipped_parameters()
        unchanged = set(state) == set(shipped) and all(np.array_equal(state[k], shipped[k]) for k in shipped)
        problem = ("the weights did not change at all: does the optimizer get model.parameters(), and does "
                   "training_step return the loss Tensor?" if unchanged else
                   "check the optimizer (Adam with learning_rate=lr) and that every epoch trains on the "
                   "whole training file")
        raise CheckFailed(f"fine-tuning did not fix the slang reviews: {problem}",
                          expected=f"dev accuracy >= {wanted:.3f} (the shipped weights get {before:.3f})",
                          received=f"{after:.3f}")
    general = accuracy_of(model, general_pairs)
    expect_true(general >= MIN_GENERAL_ACCURACY,
                "the fine-tuned model has forgotten ordinary reviews: fine-tuning must start from the shipped "
                "weights (pretrained_model()), not from random ones",
                expected=f"accuracy >= {MIN_GENERAL_ACCURACY} on {NUM_GENERAL} test reviews "
                f"(the shipped weights get {accuracy_of(shipped_network, general_pairs):.3f})",
                received=f"{general:.3f}")

    again, _ = call_finetune(module, train_path, dev_path, folder / "run_2", seed)
    repeated = parameters_of(again)
    # not bit for bit: several threads may add in another order
    differing = [key for key in state
                 if key not in repeated or not np.allclose(state[key], repeated[key], rtol=0, atol=1e-5)]
    expect_true(not differing, "two runs of finetune with the same seed ended with different weights: call "
                "paddle.seed(seed) (dropout), np.random.seed(seed) and random.seed(seed) at the start of finetune",
                expected="the same weights",
                received=f"{len(differing)} of {len(state)} parameters differ, e.g. {show(differing[:3])}")


@check(1, tests="with a dev file that contradicts the training file (the dev accuracy falls after epoch 1), "
       "finetune returns best_model's weights and accuracy, in eval mode, and hub.Module(directory=..., "
       "checkpoint=out_dir) predicts exactly like the returned model",
       hint="after trainer.train(...): model.set_state_dict(sentiment.load_weights(out_dir/best_model/model.pdparams)) "
       "(model.safetensors if your trainer writes that); "
       "model.eval(); return model, trainer.best_metrics['acc']")
def finetune_returns_the_best_epoch(module, rng):
    import paddlehub as hub

    from paddle_course import sentiment
    from paddle_course.common.paths import hub_module_dir

    train_pairs = slang_reviews(rng, NUM_TRAIN)
    # same kind of reviews, labels swapped: each epoch of learning the slang lowers this dev accuracy
    contradicting_dev = [(text, 1 - label) for text, label in slang_reviews(rng, NUM_DEV)]
    folder, train_path, dev_path = finetune_files(module, train_pairs, contradicting_dev)
    out_dir = folder / "checkpoint"
    model, best_dev = call_finetune(module, train_path, dev_path, out_dir, int(rng.integers(1, 10_000)))
    last_epoch = f"epoch_{FINETUNE_ARGS['epochs']}"
    last = child_weights_file(module, out_dir / last_epoch)  # model.pdparams (hub.Trainer) or model.safetensors
    best = child_weights_file(module, out_dir / "best_model")
    listing = child_file_info(module, out_dir)
    expect_true(child_file_info(module, best).get("is_file") is True, "hub.Trainer wrote no best_model/: give "
                "trainer.train eval_dataset=dev_dataset and save_interval=1, so it evaluates and keeps the best epoch",
                received=show(listing.get("entries") if listing.get("is_dir") is True else "no out_dir"))
    expect_true(child_file_info(module, last).get("is_file") is True, f"hub.Trainer wrote no {last_epoch}/: train for "
                "`epochs` epochs with save_interval=1 and checkpoint_dir=out_dir")
    expect_true(model.training is False, "the returned model is in training mode (dropout on): call model.eval() "
                "after loading the best weights", expected="model.training == False", received="model.training == True")

    state = parameters_of(model)
    # the learner's checkpoint, read as plain arrays and written again here: hub.Module loads that copy
    with tempfile.TemporaryDirectory(prefix="paddle_course_grading_checkpoint_") as copy:
        copy = Path(copy)
        best_state = copy_checkpoint(module, best, copy / "best_model")
        last_state = copy_checkpoint(module, last, copy / last_epoch)

        def same(other):
            return set(state) == set(other) and all(np.array_equal(state[k], other[k]) for k in other)

        if not same(best_state):
            if same(last_state):
                raise CheckFailed("finetune returns the model as it is after the last epoch, but here the best dev "
                                  f"accuracy was an earlier epoch's: load out_dir/best_model/{best.name} into the "
                                  "model before returning it")
            raise CheckFailed("the returned model's weights are neither best_model's nor the last epoch's")

        try:
            tuned = hub.Module(directory=str(hub_module_dir("course_sentiment")), checkpoint=str(copy))
        except Exception as error:  # noqa: BLE001 - the learner's checkpoint, reported as such
            raise CheckFailed(f"hub.Module(directory=<course_sentiment>, checkpoint=out_dir) could not load your "
                              f"checkpoint: {type(error).__name__}: {error}") from None
        texts = [text for text, _ in contradicting_dev]
        expected = sentiment.predict_probs(tuned.network, tuned.vocab, tuned.config, texts)
        received = child_probs(model, texts)
        expect_close(received, expected, "p(positive) of the returned model vs hub.Module(checkpoint=out_dir)",
                     rtol=RTOL, atol=ATOL)
        best_accuracy = float(np.mean((expected >= 0.5).astype(int) == np.array([y for _, y in contradicting_dev])))
        last_accuracy = accuracy_of(sentiment.load_model(copy / last_epoch)[0], contradicting_dev)
    expect_close(best_dev, best_accuracy, "the best dev accuracy finetune returned (trainer.best_metrics['acc'], "
                 "which hub.Trainer averages from your validation_step)", atol=1e-4, rtol=0, mistakes={
                     "it is the last epoch's dev accuracy; return trainer.best_metrics['acc']": last_accuracy,
                 })

"""Homework 5: fine-tune the course_sentiment module with PaddleHub's Fine-tune API (course 3.3, "Fine-tune").

Fill in the parts marked TODO:

1. ``TsvDataset``: a ``paddle.io.Dataset`` over a ``text<TAB>label`` file;
2. ``SentimentClassifier.training_step`` / ``validation_step``: what ``hub.Trainer`` calls on every batch;
3. ``pretrained_model``: the network holding the module's shipped weights;
4. ``finetune``: an optimizer and ``hub.Trainer``; returns the best model and its dev accuracy.

The grader fine-tunes with your code on gadget reviews written in internet slang,
which the shipped module mostly reads the wrong way round, and loads your
checkpoint back with ``hub.Module(directory=<course_sentiment>, checkpoint=<out_dir>)``.

Grade it with:  paddle-course homework check hw05 <this file>
"""
import inspect
import json
import os
import random
import sys

import numpy as np
import paddle
import paddle.nn.functional as F
import paddlehub as hub

from paddle_course import sentiment
from paddle_course.common.paths import hub_module_dir

# The network inside the course_sentiment module (a BiLSTM over characters, bigrams and lexicon tags,
# paddle_course/sentiment/network.py): forward(chars, bigrams, tags, lengths) maps int64 ids [B, L]
# (0 = padding) and the lengths [B] to logits [B, 2] (0 negative, 1 positive).
# Subclassing it keeps its layer names, so hub.Trainer's checkpoints load straight back into the module.
SentimentBiLSTM = sentiment.network_class()

MODULE_DIR = hub_module_dir("course_sentiment")
ASSETS = sentiment.shipped_model_dir()  # the module's model.safetensors, vocab.json, lexicon.tsv and config.json
# the module's hyper-parameters: its config.json on top of the defaults
CONFIG = {**sentiment.DEFAULT_CONFIG, **json.loads((ASSETS / "config.json").read_text(encoding="utf-8"))}


def network_arguments(config):
    """The keyword arguments of ``SentimentBiLSTM(num_chars, num_bigrams, ...)`` that ``config`` sets (char_dim, ...)."""
    accepted = inspect.signature(SentimentBiLSTM.__init__).parameters
    return {key: value for key, value in config.items() if key in accepted}


# --- 1. the data set --------------------------------------------------------

class TsvDataset(paddle.io.Dataset):
    """A ``text<TAB>label`` file as ``(chars, bigrams, tags, label)`` examples for ``hub.Trainer``.

    Read the whole file once, in ``__init__``, with ``sentiment.read_tsv(path)``: it
    returns ``[(text, label), ...]``, skips a ``text<TAB>label`` header, and raises
    ValueError naming the file and line of a bad line -- so a broken file fails
    before training starts.  Encode each text exactly as the module does when it
    predicts: ``vocab.encode(text)`` returns ``(chars, bigrams, tags)``.
    """

    def __init__(self, path, vocab):
        super().__init__()
        # TODO: read the file, keep the encoded texts and the labels
        raise NotImplementedError("TODO: TsvDataset.__init__")

    def __len__(self):
        # TODO: the number of examples
        raise NotImplementedError("TODO: TsvDataset.__len__")

    def __getitem__(self, index):
        """``(chars, bigrams, tags, label)``: three int64 arrays of shape ``[n]``, and the label as ``np.int64``."""
        # TODO: class ids must be int64 (F.cross_entropy takes int64 labels)
        raise NotImplementedError("TODO: TsvDataset.__getitem__")


def collate(samples):
    """hub.Trainer's ``collate_fn``: ``[(chars, bigrams, tags, label), ...]`` ->
    ``[chars [B, L], bigrams [B, L], tags [B, L], lengths [B], labels [B]]``.

    Texts differ in length, so the ids are right-padded with 0 up to the longest one.
    (Given: nothing to do here.)
    """
    chars, bigrams, tags, lengths = sentiment.pad_batch([sample[:3] for sample in samples])
    labels = np.stack([sample[3] for sample in samples])
    return [chars, bigrams, tags, lengths, labels]


# --- 2. the model's steps ---------------------------------------------------

class SentimentClassifier(SentimentBiLSTM):
    """The module's network plus the two methods ``hub.Trainer`` calls on every batch.

    ``batch`` is what ``collate`` made, as tensors: ``[chars, bigrams, tags, lengths, labels]``.
    """

    def training_step(self, batch, batch_idx):
        """``{"loss": L, "metrics": {"acc": acc}}`` for one training batch.

        ``L = 1/B sum_i -log softmax(z_i)[y_i]`` with logits ``z = self(chars, bigrams, tags, lengths)``:
        ``F.cross_entropy(logits, labels)`` (it takes the logits and averages over the
        batch).  ``acc = 1/B sum_i [argmax z_i == y_i]``.  hub.Trainer calls
        ``loss.backward()``, so the loss must stay a Tensor.
        """
        # TODO
        raise NotImplementedError("TODO: SentimentClassifier.training_step")

    def validation_step(self, batch, batch_idx):
        """The same loss and accuracy on a dev batch (floats are fine: hub.Trainer averages them)."""
        # TODO
        raise NotImplementedError("TODO: SentimentClassifier.validation_step")


# --- 3. the pre-trained starting point -------------------------------------

def pretrained_model():
    """``(model, vocab, config)``: a ``SentimentClassifier`` holding the module's shipped weights.

    Return the model in eval mode, ready to predict like ``hub.Module``
    (hub.Trainer switches it to train mode itself).
    """
    vocab = sentiment.Vocab.load(ASSETS / "vocab.json", sentiment.Lexicon.load(ASSETS / "lexicon.tsv"))
    config = dict(CONFIG)
    # TODO: model = SentimentClassifier(len(vocab), vocab.num_bigrams, **network_arguments(config)); load
    #       ASSETS / "model.safetensors" into it (sentiment.load_weights, then model.set_state_dict),
    #       switch dropout off (model.eval()), return
    raise NotImplementedError("TODO: pretrained_model")


# --- 4. fine-tuning with hub.Trainer ----------------------------------------

def finetune(train_path, dev_path, out_dir, epochs=2, batch_size=32, lr=2e-3, seed=1):
    """Fine-tune the shipped weights on ``train_path``; return ``(best model, best dev accuracy)``.

    1. seed ``paddle``, ``np.random`` and ``random`` with ``seed`` (dropout and hub.Trainer's shuffling);
    2. ``model, vocab, config = pretrained_model()``; a ``TsvDataset`` for each file;
    3. ``paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())``;
    4. ``hub.Trainer(model, optimizer, checkpoint_dir=str(out_dir), use_vdl=False)`` and
       ``trainer.train(train_dataset, epochs=epochs, batch_size=batch_size, eval_dataset=dev_dataset,
       save_interval=1, collate_fn=collate)``: it evaluates on dev after every epoch and writes
       ``out_dir/epoch_N/`` and ``out_dir/best_model/`` (the epoch with the best dev accuracy);
    5. after training the model holds the LAST epoch's weights: load ``best_model/model.pdparams``
       into it (``sentiment.load_weights``), ``model.eval()``, and return it with ``trainer.best_metrics["acc"]``.
    """
    # TODO
    raise NotImplementedError("TODO: finetune")


if __name__ == "__main__":
    # Try it on your own files:  python solution.py train.tsv dev.tsv
    if len(sys.argv) != 3:
        sys.exit("usage: python solution.py TRAIN.tsv DEV.tsv")
    _, best_dev = finetune(sys.argv[1], sys.argv[2], "hw05_checkpoint")
    print(f"best dev accuracy {best_dev:.4f}")
    tuned = hub.Module(directory=str(MODULE_DIR), checkpoint="hw05_checkpoint")
    print(tuned.sentiment_classify(texts=["拍照绝了，续航给力", "续航感人，真是谢谢你了"]))

"""TEACHER'S COPY -- reference solution of homework 5 (fine-tuning course_sentiment).

教师参考答案，请勿分发给学员。  Do not hand this file out; learners start from
homework/hw05_finetune/starter.py.  The autograder's tests check that this file
scores full marks.
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

    The file is read once, in ``__init__``, with ``sentiment.read_tsv`` (it skips a
    ``text<TAB>label`` header and raises ValueError naming the file and line of a
    bad line).  Each text is encoded exactly as the module encodes it when it
    predicts: ``vocab.encode(text)`` -> ``(chars, bigrams, tags)``.
    """

    def __init__(self, path, vocab):
        super().__init__()
        pairs = sentiment.read_tsv(path)
        self.encoded = [vocab.encode(text) for text, _ in pairs]
        self.labels = [label for _, label in pairs]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        """``(chars, bigrams, tags, label)``: three int64 arrays of shape ``[n]``, and the label as ``np.int64``."""
        chars, bigrams, tags = self.encoded[index]
        return chars, bigrams, tags, np.int64(self.labels[index])


def collate(samples):
    """hub.Trainer's ``collate_fn``: ``[(chars, bigrams, tags, label), ...]`` ->
    ``[chars [B, L], bigrams [B, L], tags [B, L], lengths [B], labels [B]]``.

    Texts differ in length, so the ids are right-padded with 0 up to the longest one.
    """
    chars, bigrams, tags, lengths = sentiment.pad_batch([sample[:3] for sample in samples])
    labels = np.stack([sample[3] for sample in samples])
    return [chars, bigrams, tags, lengths, labels]


# --- 2. the model's steps ---------------------------------------------------

class SentimentClassifier(SentimentBiLSTM):
    """The module's network plus the two methods ``hub.Trainer`` calls on every batch."""

    def loss_and_accuracy(self, batch):
        """``L = 1/B sum_i -log softmax(z_i)[y_i]`` and ``acc = 1/B sum_i [argmax z_i == y_i]``."""
        *inputs, labels = batch  # chars, bigrams, tags, lengths
        logits = self(*inputs)  # [B, 2]
        labels = labels.reshape([-1])  # [B]: compared with argmax [B], never [B, 1] (that broadcasts to [B, B])
        loss = F.cross_entropy(logits, labels)  # takes the logits, softmax is inside; mean over the batch
        accuracy = (logits.argmax(axis=1) == labels).astype("float32").mean()
        return loss, accuracy

    def training_step(self, batch, batch_idx):
        """hub.Trainer calls ``loss.backward()`` on the result, so the loss stays a Tensor."""
        loss, accuracy = self.loss_and_accuracy(batch)
        return {"loss": loss, "metrics": {"acc": accuracy}}

    def validation_step(self, batch, batch_idx):
        """hub.Trainer averages these over the dev set, weighting each batch by its size."""
        loss, accuracy = self.loss_and_accuracy(batch)
        return {"loss": float(loss), "metrics": {"acc": float(accuracy)}}


# --- 3. the pre-trained starting point -------------------------------------

def pretrained_model():
    """``(model, vocab, config)``: a ``SentimentClassifier`` holding the module's shipped weights.

    The model is returned in eval mode, ready to predict like ``hub.Module``
    (hub.Trainer switches it to train mode itself).
    """
    vocab = sentiment.Vocab.load(ASSETS / "vocab.json", sentiment.Lexicon.load(ASSETS / "lexicon.tsv"))
    config = dict(CONFIG)
    model = SentimentClassifier(len(vocab), vocab.num_bigrams, **network_arguments(config))
    model.set_state_dict(sentiment.load_weights(ASSETS / "model.safetensors"))  # tensors only: runs no code
    model.eval()  # dropout off
    return model, vocab, config


# --- 4. fine-tuning with hub.Trainer ----------------------------------------

def set_seed(seed):
    """Weight updates, dropout and hub.Trainer's shuffling all draw from these generators."""
    paddle.seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def finetune(train_path, dev_path, out_dir, epochs=2, batch_size=32, lr=2e-3, seed=1):
    """Fine-tune the shipped weights on ``train_path``; return ``(best model, best dev accuracy)``.

    hub.Trainer evaluates on ``dev_path`` after every epoch and writes
    ``out_dir/epoch_N/`` and ``out_dir/best_model/`` (the epoch with the best dev
    accuracy).  The returned model holds best_model's weights, in eval mode, so it
    predicts exactly like ``hub.Module(directory=..., checkpoint=out_dir)``.
    """
    set_seed(seed)
    model, vocab, config = pretrained_model()
    train_dataset = TsvDataset(train_path, vocab)
    dev_dataset = TsvDataset(dev_path, vocab)
    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    trainer = hub.Trainer(model, optimizer, checkpoint_dir=str(out_dir), use_vdl=False)
    trainer.train(train_dataset, epochs=epochs, batch_size=batch_size, eval_dataset=dev_dataset,
                  save_interval=1, log_interval=10, collate_fn=collate)
    # after the loop the model holds the LAST epoch's weights; the best dev epoch may be an earlier one
    model.set_state_dict(sentiment.load_weights(os.path.join(str(out_dir), "best_model", "model.pdparams")))
    model.eval()
    return model, float(trainer.best_metrics["acc"])


if __name__ == "__main__":
    # Try it on your own files:  python solution.py train.tsv dev.tsv
    if len(sys.argv) != 3:
        sys.exit("usage: python solution.py TRAIN.tsv DEV.tsv")
    _, best_dev = finetune(sys.argv[1], sys.argv[2], "hw05_checkpoint")
    print(f"best dev accuracy {best_dev:.4f}")
    tuned = hub.Module(directory=str(MODULE_DIR), checkpoint="hw05_checkpoint")
    print(tuned.sentiment_classify(texts=["拍照绝了，续航给力", "续航感人，真是谢谢你了"]))

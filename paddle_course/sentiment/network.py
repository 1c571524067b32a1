"""The sentiment network: a character-level TextCNN (Kim, 2014) small enough to train in minutes on one CPU core.

Importing this module imports Paddle; ``paddle_course.sentiment`` loads it only when a
network is built (``build_network``, ``network_class``).
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_course.sentiment.corpus import LABEL_KEYS

class SentimentCNN(nn.Layer):
    """Character TextCNN: embedding -> parallel 1-D convolutions -> masked max-pool -> fc.

    For a text of ``n`` characters with embeddings ``e_1..e_n`` and a filter of
    width ``k``: ``c_t = w . [e_t; ...; e_{t+k-1}] + b`` for ``t = 1..n-k+1``,
    ``h = relu(max_t c_t)``, and ``p(y | text) = softmax(W [h_2; h_3; h_4] + b)``.
    Positions whose window runs into batch padding are masked before the max, so
    a text gets the same probabilities alone or in a batch of longer ones.

    ``training_step``/``validation_step`` are what ``hub.Trainer`` calls.
    """

    def __init__(self, vocab_size, embedding_dim=64, num_filters=96, kernel_sizes=(2, 3, 4), dropout=0.3):
        super().__init__()
        self.kernel_sizes = list(kernel_sizes)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.convs = nn.LayerList([nn.Conv1D(embedding_dim, num_filters, k) for k in self.kernel_sizes])
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(num_filters * len(self.kernel_sizes), len(LABEL_KEYS))

    def forward(self, token_ids):
        """``token_ids``: int64 ``[batch, length]``, 0 = padding. Returns logits ``[batch, 2]``."""
        lengths = (token_ids != 0).astype("int64").sum(axis=1, keepdim=True)  # [B, 1]
        x = self.embedding(token_ids).transpose([0, 2, 1])  # [B, E, L] for Conv1D (NCL)
        pooled = []
        for k, conv in zip(self.kernel_sizes, self.convs):
            c = conv(x)  # [B, F, L-k+1]
            positions = paddle.arange(c.shape[2], dtype="int64").unsqueeze(0)  # [1, L-k+1]
            # window t is inside the text iff t <= n-k; a text shorter than k keeps window 0
            valid = positions < paddle.maximum(lengths - k + 1, paddle.ones_like(lengths))
            c = paddle.where(valid.unsqueeze(1), c, paddle.full_like(c, -1e9))
            # adaptive_max_pool1d, not c.max(axis=2): same value, but the latter's backward
            # is ~50x slower on CPU in Paddle 3.3
            pooled.append(F.relu(F.adaptive_max_pool1d(c, 1).squeeze(2)))
        return self.fc(self.dropout(paddle.concat(pooled, axis=1)))

    def _loss_and_accuracy(self, batch):
        token_ids, labels = batch
        logits = self(token_ids)
        loss = F.cross_entropy(logits, labels.reshape([-1, 1]))
        acc = (logits.argmax(axis=1) == labels.reshape([-1])).astype("float32").mean()
        return loss, acc

    def training_step(self, batch, batch_idx):
        """hub.Trainer: ``loss = mean cross-entropy``; metric ``acc`` on the batch."""
        loss, acc = self._loss_and_accuracy(batch)
        return {"loss": loss, "metrics": {"acc": acc}}

    def validation_step(self, batch, batch_idx):
        """hub.Trainer: mean loss and accuracy on one evaluation batch (plain floats)."""
        loss, acc = self._loss_and_accuracy(batch)
        return {"loss": float(loss), "metrics": {"acc": float(acc)}}


def network_class():
    """The ``SentimentCNN`` class (a ``paddle.nn.Layer``); subclass it to add hub.Trainer steps (homework 5)."""
    return SentimentCNN


def build_network(vocab_size, config):
    """A ``SentimentCNN`` for ``vocab_size`` characters with the hyper-parameters of ``config``."""
    keys = ("embedding_dim", "num_filters", "kernel_sizes", "dropout")
    return SentimentCNN(vocab_size, **{k: config[k] for k in keys})

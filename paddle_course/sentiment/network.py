"""The sentiment network: character + bigram (+ lexicon tag) embeddings -> BiLSTM -> pooled features -> 2 logits.

Course 3.2 (文本情感分类, the idea of PaddleHub's senta_bilstm): an LSTM reads the review in
both directions, so 「不 + 好」 and 「虽然 A，但是 B」 are seen in order, not as a bag of characters.

Importing this module imports Paddle; ``paddle_course.sentiment`` loads it only when a
network is built (``build_network``, ``network_class``).
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_course.sentiment.corpus import LABEL_KEYS
from paddle_course.sentiment.lexicon import TAGS


class SentimentBiLSTM(nn.Layer):
    """``forward(chars, bigrams, tags, lengths) -> logits [B, 2]`` (index 0 negative, 1 positive).

    For a review ``x_1..x_n``: ``e_t = [E_char(x_t); E_bigram(x_t x_{t+1}); E_tag(tag_t)]``,
    ``h_t = [LSTM_fw(e_1..e_t); LSTM_bw(e_t..e_n)]``,
    ``z = W [max_t h_t; h^fw_n; h^bw_1] + b``; ``p(y | x) = softmax(z / T)`` with the
    temperature ``T`` fitted on held-out data after training (``calibration.py``).
    Padding (id 0) never changes a text's logits: the LSTM stops at ``lengths`` and the
    max-pool skips padded positions.

    ``training_step``/``validation_step`` are what ``hub.Trainer`` calls; a batch is
    ``[chars, bigrams, tags, lengths, labels]``.
    """

    def __init__(self, num_chars, num_bigrams, char_dim=128, bigram_dim=64, lex_dim=16, hidden_size=128, dropout=0.3):
        super().__init__()
        self.char_embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.bigram_embedding = nn.Embedding(num_bigrams, bigram_dim, padding_idx=0)
        self.lex_embedding = nn.Embedding(len(TAGS), lex_dim) if lex_dim else None
        self.embedding_dropout = nn.Dropout(dropout / 2)
        self.lstm = nn.LSTM(char_dim + bigram_dim + lex_dim, hidden_size, direction="bidirect")
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * hidden_size, len(LABEL_KEYS))

    def features(self, chars, bigrams, tags, lengths):
        """``[max_t h_t; h^fw_n; h^bw_1]``: ``[B, 4H]``."""
        parts = [self.char_embedding(chars), self.bigram_embedding(bigrams)]
        if self.lex_embedding is not None:
            parts.append(self.lex_embedding(tags))
        x = self.embedding_dropout(paddle.concat(parts, axis=-1))
        outputs, (h, _) = self.lstm(x, sequence_length=lengths.astype("int32"))  # outputs [B, L, 2H]
        valid = (chars != 0).unsqueeze(-1)  # [B, L, 1]
        masked = paddle.where(valid, outputs, paddle.full_like(outputs, -1e4))
        # adaptive_max_pool1d, not .max(axis=1): same value, but max's backward is ~50x slower on CPU (Paddle 3.3)
        pooled = F.adaptive_max_pool1d(masked.transpose([0, 2, 1]), 1).squeeze(2)
        last = paddle.concat([h[-2], h[-1]], axis=-1)  # final forward state at n, backward state at 1
        return paddle.concat([pooled, last], axis=-1)

    def forward(self, chars, bigrams, tags, lengths):
        return self.fc(self.dropout(self.features(chars, bigrams, tags, lengths)))

    def can_use_fast_logits(self):
        """True in eval mode when ``forward``/``features`` are this class's own (a subclass that
        changes them, e.g. in a homework, keeps its own ``forward``)."""
        cls = type(self)
        return (not self.training and cls.forward is SentimentBiLSTM.forward
                and cls.features is SentimentBiLSTM.features)

    def fast_logits(self, chars, bigrams, tags, lengths):
        """Inference-only ``forward`` (eval mode, no gradient): the same logits from the same
        parameters, ~2x faster on CPU than Paddle's ``rnn`` op. Returns a float32 NumPy array ``[B, 2]``.

        The embeddings run in Paddle; the BiLSTM runs in NumPy, whose BLAS multiplies these
        matrices ~3x faster per core than Paddle 3.3's CPU matmul (measured: 86 vs 25-35 GFLOP/s).
        The input projection ``x W_ih^T + b_ih + b_hh`` of every step of both directions is one
        matmul; the time loop runs both directions at once (direction 1 reads the text backwards).
        Paddle's gate order is ``i, f, g, o``. A text's state only advances at its own positions
        (``t < length``), so the backward direction starts from zeros at each text's last
        character, as ``nn.LSTM(..., sequence_length=lengths)`` does.
        """
        import numpy as np

        if self.training:
            raise RuntimeError("fast_logits is for inference: call network.eval() first (training uses forward)")
        with paddle.no_grad():
            parts = [self.char_embedding(chars), self.bigram_embedding(bigrams)]
            if self.lex_embedding is not None:
                parts.append(self.lex_embedding(tags))
            x = paddle.concat(parts, axis=-1).numpy()  # [B, L, D]; embedding dropout is the identity in eval mode
        lengths = np.asarray(lengths.numpy() if isinstance(lengths, paddle.Tensor) else lengths)
        batch, steps, _ = x.shape
        lstm = self.lstm
        hidden = lstm.hidden_size
        w_ih = np.concatenate([lstm.weight_ih_l0.numpy(), lstm.weight_ih_l0_reverse.numpy()])  # [8H, D]
        bias = np.concatenate([(lstm.bias_ih_l0 + lstm.bias_hh_l0).numpy(),
                               (lstm.bias_ih_l0_reverse + lstm.bias_hh_l0_reverse).numpy()])
        w_hh = np.stack([lstm.weight_hh_l0.numpy().T, lstm.weight_hh_l0_reverse.numpy().T])  # [2, H, 4H]
        proj = (x.reshape(batch * steps, -1) @ w_ih.T + bias).reshape(batch, steps, 2, 4 * hidden)
        valid = np.arange(steps)[:, None] < lengths[None, :]  # [L, B]
        h = np.zeros((2, batch, hidden), dtype=x.dtype)
        c = np.zeros_like(h)
        pooled = np.full_like(h, -1e4)
        gates = np.empty((2, batch, 4 * hidden), dtype=x.dtype)
        for s in range(steps):
            t_back = steps - 1 - s  # the backward direction reads position L-1-s at step s
            np.matmul(h, w_hh, out=gates)
            gates[0] += proj[:, s, 0]
            gates[1] += proj[:, t_back, 1]
            # sigmoid(z) = (1 + tanh(z / 2)) / 2 on the i, f, o gates; tanh on g
            ifo = np.tanh(0.5 * gates)
            ifo += 1.0
            ifo *= 0.5
            g = np.tanh(gates[:, :, 2 * hidden:3 * hidden])
            c_new = ifo[:, :, hidden:2 * hidden] * c + ifo[:, :, :hidden] * g
            h_new = ifo[:, :, 3 * hidden:] * np.tanh(c_new)
            m = np.stack([valid[s], valid[t_back]])[:, :, None]  # [2, B, 1]
            h = np.where(m, h_new, h)
            c = np.where(m, c_new, c)
            np.maximum(pooled, np.where(m, h_new, -1e4), out=pooled)
        # [max_t h^fw; max_t h^bw; h^fw_n; h^bw_1]
        features = np.concatenate([pooled[0], pooled[1], h[0], h[1]], axis=-1)
        return features @ self.fc.weight.numpy() + self.fc.bias.numpy()

    def _loss_and_accuracy(self, batch):
        *inputs, labels = batch
        logits = self(*inputs)
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


NETWORK_KEYS = ("char_dim", "bigram_dim", "lex_dim", "hidden_size", "dropout")


def network_class():
    """The ``SentimentBiLSTM`` class (a ``paddle.nn.Layer``); subclass it to add hub.Trainer steps (homework 5)."""
    return SentimentBiLSTM


def build_network(vocab, config):
    """A ``SentimentBiLSTM`` for ``vocab``'s characters and bigrams with the hyper-parameters of ``config``."""
    return SentimentBiLSTM(len(vocab), vocab.num_bigrams, **{k: config[k] for k in NETWORK_KEYS if k in config})

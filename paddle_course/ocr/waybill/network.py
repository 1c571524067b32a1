"""The waybill labeller: character embedding -> BiGRU -> linear -> CRF (Course 3, 快递单信息抽取).

    emissions = Linear(BiGRU(Embedding(chars)))          # [batch, time, tags]
    score(y)  = start[y_0] + sum_t emissions[t, y_t] + sum_t trans[y_{t-1}, y_t] + stop[y_last]
    loss      = log Z - score(gold),  log Z = log sum_y exp score(y)   (forward algorithm)
    decode    = argmax_y score(y)                       (Viterbi, paddle.text.viterbi_decode)

The CRF is written with Paddle's own ops; the start/stop scores are folded into
the first and last emission so Paddle's Viterbi kernel (``include_bos_eos_tag=False``)
decodes exactly the score the loss trains.
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .decode import TAGS


class LinearChainCrf(nn.Layer):
    """A linear-chain CRF over ``num_tags`` tags: transition, start and stop scores."""

    def __init__(self, num_tags):
        super().__init__()
        self.num_tags = num_tags
        init = nn.initializer.Uniform(-0.1, 0.1)
        self.transitions = self.create_parameter([num_tags, num_tags], default_initializer=init)
        self.start = self.create_parameter([num_tags], default_initializer=init)
        self.stop = self.create_parameter([num_tags], default_initializer=init)

    def with_start_stop(self, emissions, lengths):
        """Add start[y] to the first emission and stop[y] to each sequence's last one."""
        batch, time, _ = emissions.shape
        steps = paddle.arange(time, dtype="int64").unsqueeze(0)                        # [1, T]
        first = (steps == 0).astype(emissions.dtype).unsqueeze(-1)                     # [1, T, 1]
        last = (steps == (lengths.unsqueeze(1) - 1)).astype(emissions.dtype).unsqueeze(-1)  # [B, T, 1]
        return emissions + first * self.start + last * self.stop

    def log_partition(self, emissions, lengths):
        """log Z by the forward algorithm: alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + trans[i, j]) + e_t[j]."""
        time = emissions.shape[1]
        alpha = emissions[:, 0]
        for t in range(1, time):
            step = paddle.logsumexp(alpha.unsqueeze(2) + self.transitions.unsqueeze(0), axis=1) + emissions[:, t]
            alive = (lengths > t).astype(alpha.dtype).unsqueeze(1)
            alpha = alive * step + (1 - alive) * alpha
        return paddle.logsumexp(alpha, axis=1)

    def gold_score(self, emissions, lengths, tags):
        """score(gold) = sum of the gold path's emissions and transitions, padding masked out."""
        time = emissions.shape[1]
        mask = (paddle.arange(time, dtype="int64").unsqueeze(0) < lengths.unsqueeze(1)).astype(emissions.dtype)
        emitted = (F.one_hot(tags, self.num_tags) * emissions).sum(-1)
        pairs = tags[:, :-1] * self.num_tags + tags[:, 1:]
        moved = paddle.gather(self.transitions.flatten(), pairs.flatten()).reshape(pairs.shape)
        return (emitted * mask).sum(1) + (moved * mask[:, 1:]).sum(1)

    def nll(self, emissions, lengths, tags):
        """Mean negative log-likelihood of the gold tags."""
        emissions = self.with_start_stop(emissions, lengths)
        return (self.log_partition(emissions, lengths) - self.gold_score(emissions, lengths, tags)).mean()

    def viterbi(self, emissions, lengths):
        """Best tag path per sequence, [batch, max(lengths)] int64."""
        emissions = self.with_start_stop(emissions, lengths)
        _, paths = paddle.text.viterbi_decode(emissions, self.transitions, lengths, include_bos_eos_tag=False)
        return paths


class WaybillTagger(nn.Layer):
    """Embedding -> bidirectional GRU -> linear -> CRF; ``config`` is saved next to the weights."""

    def __init__(self, vocab_size, num_tags=len(TAGS), emb_dim=64, hidden=96, num_layers=1, dropout=0.1):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, num_tags=num_tags, emb_dim=emb_dim, hidden=hidden,
                           num_layers=num_layers, dropout=dropout)
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        self.gru = nn.GRU(emb_dim, hidden, num_layers=num_layers, direction="bidirect",
                          dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, num_tags)
        self.crf = LinearChainCrf(num_tags)

    def forward(self, ids, lengths):
        """Emission scores [batch, time, tags] for char ids [batch, time] (0 = padding)."""
        x = self.dropout(self.embedding(ids))
        y, _ = self.gru(x, sequence_length=lengths.astype("int32"))
        return self.fc(self.dropout(y))

    def loss(self, ids, lengths, tags):
        return self.crf.nll(self(ids, lengths), lengths, tags)

    def decode(self, ids, lengths):
        return self.crf.viterbi(self(ids, lengths), lengths)

    # hub.Trainer hooks (fine-tuning, see finetune.py)
    def training_step(self, batch, batch_idx):
        ids, lengths, tags = batch
        return {"loss": self.loss(ids, lengths, tags), "metrics": {}}

    def validation_step(self, batch, batch_idx):
        ids, lengths, tags = batch
        paths = self.decode(ids, lengths)
        mask = paddle.arange(paths.shape[1], dtype="int64").unsqueeze(0) < lengths.unsqueeze(1)
        correct = ((paths == tags[:, : paths.shape[1]]) & mask).astype("float32").sum()
        return {"metrics": {"tag_acc": float(correct) / float(mask.astype("float32").sum())}}

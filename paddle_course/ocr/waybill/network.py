"""The waybill labeller: character embedding -> BiGRU -> linear -> CRF (Course 3, 快递单信息抽取).

    emissions = Linear(BiGRU(Embedding(chars)))          # [batch, time, tags]
    score(y)  = start[y_0] + sum_t emissions[t, y_t] + sum_t trans[y_{t-1}, y_t] + stop[y_last]
    loss      = log Z - score(gold),  log Z = log sum_y exp score(y)   (forward algorithm)
    decode    = argmax_y score(y)                       (Viterbi, paddle.text.viterbi_decode)

The CRF is written with Paddle's own ops; the start/stop scores are folded into
the first and last emission so Paddle's Viterbi kernel (``include_bos_eos_tag=False``)
decodes exactly the score the loss trains.

Inference (eval mode) has a second path in NumPy, ``fast_emissions`` / ``fast_decode``
(:func:`viterbi_numpy`): the same emissions and tags from the same parameters, ~3x faster
on CPU; ``predict.WaybillLabeller`` uses it when ``can_use_fast_path()``.  Training,
fine-tuning and subclasses that change ``forward`` or ``decode`` keep Paddle's path.
"""
import numpy as np
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

    def can_use_fast_path(self):
        """True in eval mode when ``forward``/``decode`` and the CRF's decoding are this module's own
        (a subclass that changes them, e.g. in a homework, keeps Paddle's path)."""
        cls, crf = type(self), type(self.crf)
        return (not self.training and cls.forward is WaybillTagger.forward and cls.decode is WaybillTagger.decode
                and isinstance(self.gru, nn.GRU) and type(self.fc) is nn.Linear
                and crf.viterbi is LinearChainCrf.viterbi and crf.with_start_stop is LinearChainCrf.with_start_stop)

    def fast_emissions(self, ids, lengths):
        """Inference-only ``forward`` in NumPy (eval mode): the same emissions ``[B, T, tags]`` (float32)
        from the same parameters, ~3x faster on CPU than Paddle's ``rnn`` op for these small matrices.

        Paddle's GRU, per direction (gate order r, z, c in ``weight_ih``/``weight_hh``):

            r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
            c = tanh(W_ic x + b_ic + r * (W_hc h + b_hc)),  h' = z * h + (1 - z) * c

        ``sequence_length`` makes the backward direction start from zeros at each text's own last
        character, and the outputs past a text's end zero.  Here each text is reversed within its
        length, so both directions read their text from step 0 and run side by side, unmasked:
        a state past the end is never read back.  The input projection of all steps of both
        directions is one matmul; sigmoid(a) = (1 + tanh(a / 2)) / 2.
        """
        if self.training:
            raise RuntimeError("fast_emissions is for inference: call model.eval() first (training uses forward)")
        ids, lengths = np.asarray(ids), np.asarray(lengths)
        batch, steps = ids.shape
        steps_ = np.arange(steps)
        valid = steps_[None, :] < lengths[:, None]  # [B, T]
        # position read at step s by the backward direction: length-1-s inside the text, s (padding) after
        backward = np.where(valid, lengths[:, None] - 1 - steps_[None, :], steps_[None, :])
        rows = np.arange(batch)[:, None]
        x = self.embedding.weight.numpy()[ids]  # [B, T, E]; dropout is the identity in eval mode
        for layer in range(self.gru.num_layers):
            x = self._fast_gru_layer(x, backward, rows, layer) * valid[:, :, None]
        return x @ self.fc.weight.numpy() + self.fc.bias.numpy()

    def _fast_gru_layer(self, x, backward, rows, layer):
        """One bidirectional GRU layer on ``x [B, T, D]`` -> ``[B, T, 2H]`` (see ``fast_emissions``)."""
        gru, hidden, sfx = self.gru, self.gru.hidden_size, f"_l{layer}"
        weight = lambda name, rev: getattr(gru, name + sfx + ("_reverse" if rev else "")).numpy()  # noqa: E731
        batch, steps, _ = x.shape
        # time-major [T, 2, B, 3H]: direction 1 reads each text backwards within its length
        inputs = np.stack([x, x[rows, backward]], axis=0).transpose(2, 0, 1, 3)
        w_ih = np.stack([weight("weight_ih", r).T for r in (0, 1)])  # [2, D, 3H]
        gx = np.matmul(inputs, w_ih) + np.stack([weight("bias_ih", r) for r in (0, 1)])[:, None, :]
        w_hh = np.stack([weight("weight_hh", r).T for r in (0, 1)])  # [2, H, 3H]
        b_hh = np.stack([weight("bias_hh", r) for r in (0, 1)])[:, None, :]  # [2, 1, 3H]
        h = np.zeros((2, batch, hidden), dtype=x.dtype)
        out = np.empty((steps, 2, batch, hidden), dtype=x.dtype)
        gh = np.empty((2, batch, 3 * hidden), dtype=x.dtype)
        for s in range(steps):
            np.matmul(h, w_hh, out=gh)
            gh += b_hh
            rz = gx[s, :, :, :2 * hidden] + gh[:, :, :2 * hidden]
            np.tanh(0.5 * rz, out=rz)
            rz += 1.0
            rz *= 0.5
            c = np.tanh(gx[s, :, :, 2 * hidden:] + rz[:, :, :hidden] * gh[:, :, 2 * hidden:])
            h = (h - c) * rz[:, :, hidden:] + c  # z * h + (1 - z) * c
            out[s] = h
        out = out.transpose(1, 2, 0, 3)  # [2, B, T, H]
        return np.concatenate([out[0], out[1][rows, backward]], axis=-1)

    def fast_decode(self, ids, lengths):
        """Inference-only ``decode`` in NumPy: the Viterbi paths ``[B, max(lengths)]`` (int64) of
        ``fast_emissions`` under the CRF's scores, as ``paddle.text.viterbi_decode`` computes them."""
        lengths = np.asarray(lengths)
        emissions = self.fast_emissions(ids, lengths)[:, : max(1, int(lengths.max(initial=1)))]
        crf = self.crf
        return viterbi_numpy(emissions, lengths, crf.transitions.numpy(), crf.start.numpy(), crf.stop.numpy())

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


def viterbi_numpy(emissions, lengths, transitions, start, stop):
    """Best tag path per sequence for a batch, vectorised over the batch (float32, as Paddle's kernel).

        alpha_0 = e_0 + start,  alpha_t[j] = max_i(alpha_{t-1}[i] + trans[i, j]) + e_t[j]  (t < length)
        best last tag = argmax_j(alpha_{n-1}[j] + stop[j]), then back through the argmax pointers.

    The start/stop scores are added to the first/last emission like ``LinearChainCrf.with_start_stop``.
    Positions past a sequence's length are 0, like Paddle's paths.
    """
    batch, steps, _ = emissions.shape
    rows = np.arange(batch)
    emissions = emissions.copy()
    emissions[:, 0] += start
    last = np.clip(lengths - 1, 0, steps - 1)
    emissions[rows, last] += stop
    alpha = emissions[:, 0]
    pointers = np.empty((max(steps - 1, 0), batch, emissions.shape[2]), dtype="int64")
    for t in range(1, steps):
        scores = alpha[:, :, None] + transitions[None]  # [B, i, j]
        pointers[t - 1] = scores.argmax(axis=1)
        step = scores.max(axis=1) + emissions[:, t]
        alpha = np.where((lengths > t)[:, None], step, alpha)
    paths = np.zeros((batch, steps), dtype="int64")
    tag = alpha.argmax(axis=1)
    for t in range(steps - 1, -1, -1):
        inside = t <= last
        paths[:, t] = np.where(inside, tag, 0)
        if t:
            # before a sequence's last position, follow its pointer; at or after it, keep the last tag
            tag = np.where(t <= last, pointers[t - 1][rows, tag], tag)
    return paths

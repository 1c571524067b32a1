"""The course's text-line recognizer: a CRNN trained with CTC (course 3.2-3.3).

PP-OCRv4's recognizer ships as an ONNX export that Paddle cannot train, so the course
trains its own small recognizer, the classic CRNN (Shi et al. 2015):

    image (1 x 32 x W, grey) -> 4 conv blocks -> feature sequence (T = W/4 steps x 96)
    -> bidirectional LSTM (2 x 64) -> linear -> per-step scores over blank + characters

and trains it with CTC, which sums the probability of every alignment of the
label to the T steps (blanks and repeats collapse):

    loss = -log sum_{a in B^-1(label)} prod_t p_t(a_t)

Reading is greedy: take the best class per step, merge repeats, drop blanks; the
line's confidence is the mean probability of the characters kept.

Lines differ in width, and a batch is padded to its widest line.  A BiLSTM reads
padding as more line (its backward direction even starts there), so a short line
padded to a long neighbour's width can gain characters: accuracy measured that way
depends on what else is in the batch.  Hence: training passes each line's width,
which stops the LSTM (``sequence_length``) and the CTC alignment at the line's end;
reading (``CRNNRecognizer.read``, ``validation_step``, ``PaddleLineRecognizer``) runs
lines in groups of equal width, never padded.

The package ships a base CRNN (``assets/crnn_base`` of the course_ocr module);
:class:`PaddleLineRecognizer` plugs a checkpoint into the PP-OCRv4 pipeline in place
of its recognizer (``hub.Module(name="course_ocr", checkpoint=DIR)``).
"""
import json
import math
import time
from pathlib import Path

import cv2
import numpy as np
import paddle
import paddle.nn as nn

from paddle_course.common.checkpoints import LEGACY_PARAMS_FILE, PARAMS_FILE, load_weights, save_state, weights_in
from paddle_course.common.fileio import write_json
from paddle_course.ocr.metrics import line_metrics
from paddle_course.ocr.render import COMPANIES, GIVEN_CHARS, MODULE_DIR, PROVINCES, ROADS, SURNAMES

HEIGHT = 32
MAX_WIDTH = 640
BASE_CHECKPOINT = MODULE_DIR / "assets" / "crnn_base"
CONFIG_NAME = "crnn_config.json"
PARAMS_NAME = PARAMS_FILE  # model.safetensors; a folder of an older version may hold model.pdparams


def default_characters():
    """The base CRNN's dictionary: digits, Latin letters, punctuation, and the Chinese
    characters of the course's waybill generator (names, addresses, couriers, labels)."""
    words = (SURNAMES + GIVEN_CHARS + "".join(p + c + "".join(d) for p, c, d in PROVINCES)
             + "".join(ROADS) + "".join(COMPANIES) + "收件人寄电话地址运单号手机姓名")
    ascii_part = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-:()#.,/"
    chinese = sorted({ch for ch in words if not ch.isascii()})
    return list(ascii_part) + chinese + ["："]


def _steps(widths):
    """Pixel widths -> the CRNN's time steps T = W / 4, as an int64 tensor."""
    widths = widths if isinstance(widths, paddle.Tensor) else paddle.to_tensor(np.asarray(widths))
    return widths.astype("int64") // 4


class CRNN(nn.Layer):
    """Conv features -> BiLSTM -> per-step class scores (class 0 is the CTC blank)."""

    def __init__(self, num_classes, hidden_size=64):
        super().__init__()

        def block(c_in, c_out, pool):
            return [nn.Conv2D(c_in, c_out, 3, padding=1, bias_attr=False), nn.BatchNorm2D(c_out), nn.ReLU(),
                    nn.MaxPool2D(pool, pool)]

        # 32 x W -> 16 x W/2 -> 8 x W/4 -> 4 x W/4 -> 1 x W/4: pool height only once width is W/4
        self.features = nn.Sequential(*block(1, 16, (2, 2)), *block(16, 32, (2, 2)),
                                      *block(32, 64, (2, 1)), *block(64, 96, (4, 1)))
        self.rnn = nn.LSTM(96, hidden_size, direction="bidirect")
        self.classifier = nn.Linear(2 * hidden_size, num_classes)
        self.ctc = nn.CTCLoss(blank=0, reduction="mean")

    def forward(self, images, widths=None):
        """images [B, 1, 32, W] -> logits [B, T = W/4, classes].

        ``widths`` (pixels, [B]) are the lines' own widths in a padded batch: the BiLSTM
        then stops at each line's last step (``sequence_length``), so the padding to the
        right of a short line does not flow back into it (the backward direction would
        otherwise start in the padding).  Steps past a line's end are left as they come.
        """
        features = self.features(images)  # [B, 96, 1, T]
        sequence = features.squeeze(2).transpose([0, 2, 1])  # [B, T, 96]
        sequence, _ = self.rnn(sequence, sequence_length=None if widths is None else _steps(widths))
        return self.classifier(sequence)

    def loss(self, logits, labels, label_lengths, widths=None):
        """CTC loss over each line's own steps (all T when ``widths`` is None).

        Paddle's CTC takes unnormalised scores laid out [T, B, C].
        """
        if widths is None:
            steps = paddle.full([logits.shape[0]], logits.shape[1], dtype="int64")
        else:
            steps = _steps(widths)
        return self.ctc(logits.transpose([1, 0, 2]), labels, steps, label_lengths)


class CRNNRecognizer(CRNN):
    """The CRNN plus its dictionary, CTC decoding, and PaddleHub's Fine-tune API hooks."""

    def __init__(self, characters, hidden_size=64):
        super().__init__(len(characters) + 1, hidden_size)
        self.characters = list(characters)
        self.hidden_size = hidden_size

    def decode(self, logits, widths=None):
        """Greedy CTC: best class per step, merge repeats, drop blanks -> [(text, confidence)].

        ``widths`` (pixels) cut each row to its line's own T = width / 4 steps.
        """
        probs = paddle.nn.functional.softmax(logits, axis=-1).numpy()
        steps = [probs.shape[1]] * len(probs) if widths is None else [int(w) // 4 for w in np.asarray(widths)]
        results = []
        for row_probs, n in zip(probs, steps):
            row_probs = row_probs[:n]
            row = row_probs.argmax(-1)
            keep = np.ones(len(row), dtype=bool)
            keep[1:] = row[1:] != row[:-1]
            keep &= row != 0
            text = "".join(self.characters[i - 1] for i in row[keep])
            confidence = float(row_probs[np.arange(len(row)), row][keep].mean()) if keep.any() else 0.0
            results.append((text, confidence))
        return results

    def read(self, images, batch_size=64):
        """Read prepared line images (``[1, 32, W]`` arrays) -> ``[(text, confidence)]`` in input order.

        Lines run in groups of equal width (``width_groups``) and are never padded, so
        what a line reads as does not depend on the other lines of the call: padded to a
        wider neighbour, the BiLSTM would read the white as more line and may add
        characters.  Runs in eval mode (BatchNorm's running statistics) and restores
        the mode it found.
        """
        was_training = self.training
        self.eval()
        results = [None] * len(images)
        with paddle.no_grad():
            for group in width_groups([image.shape[2] for image in images], batch_size):
                batch = paddle.to_tensor(np.stack([images[i] for i in group]))
                for i, result in zip(group, self.decode(self(batch))):
                    results[i] = result
        if was_training:
            self.train()
        return results

    def training_step(self, batch, batch_idx):
        """hub.Trainer's hook: ``{"loss", "metrics": {"acc"}}`` for one batch.

        hub.Trainer shuffles lines of any width into a batch; the widths from ``collate``
        keep the padding out of each line's BiLSTM steps and CTC alignment.
        """
        images, labels, label_lengths, widths = batch
        logits = self(images, widths)
        loss = self.loss(logits, labels, label_lengths, widths)
        decoded = [text for text, _ in self.decode(logits.detach(), widths)]
        texts = self.texts_of(labels, label_lengths)
        return {"loss": loss, "metrics": {"acc": line_metrics(decoded, texts)["acc"]}}

    def validation_step(self, batch, batch_idx):
        """hub.Trainer's hook: line accuracy first (it picks the best model), then character accuracy.

        Each equal-width group of the batch is cut out of the padding and run on its own,
        so a line scores the same whatever else hub.Trainer put in its batch.
        """
        images, labels, label_lengths, widths = (np.asarray(part) for part in batch)
        decoded, total = [None] * len(images), 0.0
        for group in width_groups(widths, len(widths)):
            group_images = paddle.to_tensor(images[group][:, :, :, :widths[group[0]]])
            logits = self(group_images)
            total += float(self.loss(logits, paddle.to_tensor(labels[group]),
                                     paddle.to_tensor(label_lengths[group]))) * len(group)
            for i, (text, _) in zip(group, self.decode(logits)):
                decoded[i] = text
        texts = self.texts_of(labels, label_lengths)
        return {"loss": total / len(images), "metrics": line_metrics(decoded, texts)}

    def texts_of(self, labels, label_lengths):
        labels, lengths = np.asarray(labels), np.asarray(label_lengths)
        return ["".join(self.characters[i - 1] for i in row[:n]) for row, n in zip(labels, lengths)]

    def encode(self, text):
        """Text -> class ids (1-based; 0 is blank); None for characters outside the dictionary."""
        index = {ch: i + 1 for i, ch in enumerate(self.characters)}
        return [index.get(ch) for ch in text]

    def config(self):
        return {"architecture": "CRNN", "height": HEIGHT, "hidden_size": self.hidden_size,
                "characters": self.characters}

    def save(self, out_dir, extra=None):
        """Write ``model.safetensors`` and ``crnn_config.json`` (each atomically; neither can carry code)."""
        out_dir = Path(out_dir)
        save_state(self.state_dict(), out_dir / PARAMS_NAME)
        write_json(out_dir / CONFIG_NAME, {**self.config(), **(extra or {})})
        return out_dir

    @classmethod
    def load(cls, checkpoint):
        """A recognizer from a folder with ``crnn_config.json`` and ``model.safetensors`` (or an older
        folder's ``model.pdparams``, read by the restricted unpickler: a crafted one runs nothing)."""
        checkpoint = Path(checkpoint)
        config_path, params_path = checkpoint / CONFIG_NAME, weights_in(checkpoint)
        missing = [str(path) for path in (config_path,) if not path.is_file()]
        if params_path is None:
            missing.append(f"{checkpoint / PARAMS_NAME} (or {LEGACY_PARAMS_FILE})")
        if missing:
            raise FileNotFoundError(f"{', '.join(missing)}: missing; is {checkpoint} a folder written by "
                                    "`paddle-course finetune ocr`?")
        config = json.loads(config_path.read_text(encoding="utf-8"))
        model = cls(config["characters"], config.get("hidden_size", 64))
        model.set_state_dict(load_weights(params_path))
        model.eval()
        return model


def prepare_line_image(image):
    """A BGR or grey crop -> float32 [1, 32, W] in [-1, 1], W a multiple of 4 (<= 640)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape[:2]
    width = int(min(MAX_WIDTH, max(16, math.ceil(w * HEIGHT / max(h, 1) / 4) * 4)))
    resized = cv2.resize(grey, (width, HEIGHT), interpolation=cv2.INTER_AREA)
    return ((resized.astype("float32") / 255.0 - 0.5) / 0.5)[None]

def width_groups(widths, batch_size):
    """Indices of equal width, in chunks of at most ``batch_size``: batches that need no padding.

    Ordered by width, then index, so the same widths always give the same groups.
    """
    widths = [int(w) for w in widths]
    groups = []
    for width in sorted(set(widths)):
        members = [i for i, w in enumerate(widths) if w == width]
        groups += [members[i:i + batch_size] for i in range(0, len(members), batch_size)]
    return groups

class PaddleLineRecognizer:
    """A CRNN checkpoint behind the interface of RapidOCR's recognizer:
    ``rec(list of BGR crops, return_word_box) -> ([(text, confidence)], seconds)``."""

    def __init__(self, checkpoint, batch_size=16):
        paddle.set_device("cpu")
        self.model = CRNNRecognizer.load(checkpoint)
        self.batch_size = batch_size

    def __call__(self, img_list, return_word_box=False):
        if isinstance(img_list, np.ndarray):
            img_list = [img_list]
        started = time.time()
        results = self.model.read([prepare_line_image(np.asarray(crop)) for crop in img_list], self.batch_size)
        return results, time.time() - started


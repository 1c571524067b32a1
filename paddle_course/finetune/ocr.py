"""Fine-tune a text-line recognizer (CRNN + CTC) with PaddleHub's Fine-tune API.

Course 3 (PaddleHub), 文字识别 fine-tuning.  PP-OCRv4's recognizer ships as an
ONNX export that Paddle cannot train, so the course trains its own small
recognizer, the classic CRNN (Shi et al. 2015):

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
reading (``CRNNRecognizer.read``, ``evaluate``, ``validation_step``, the pipeline's
``PaddleLineRecognizer``) runs lines in groups of equal width, never padded.

The package ships a base CRNN (``assets/crnn_base`` of the course_ocr module),
pre-trained by ``pretrain_base`` on lines rendered in WenQuanYi Micro Hei.
``finetune`` starts from it and trains on your lines, given in PaddleOCR's
recognition label format: one ``image_path<TAB>transcription`` per line, paths
relative to the list file.  The checkpoint folder it writes plugs into the hub
module: ``hub.Module(name="course_ocr", checkpoint=DIR)`` reads with this CRNN
while detection stays PP-OCRv4.
"""
import json
import math
import random
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import paddle
import paddle.nn as nn

from .. import ocr
from paddle_course.common.fileio import atomic_path, write_json, write_text
from paddle_course.common.progress import progress, say
from paddle_course.common.trainer import atomic_trainer

HEIGHT = 32
MAX_WIDTH = 640
BASE_CHECKPOINT = ocr.MODULE_DIR / "assets" / "crnn_base"
CONFIG_NAME = "crnn_config.json"
PARAMS_NAME = "model.pdparams"


def default_characters():
    """The base CRNN's dictionary: digits, Latin letters, punctuation, and the Chinese
    characters of the course's waybill generator (names, addresses, couriers, labels)."""
    words = (ocr.SURNAMES + ocr.GIVEN_CHARS + "".join(p + c + "".join(d) for p, c, d in ocr.PROVINCES)
             + "".join(ocr.ROADS) + "".join(ocr.COMPANIES) + "收件人寄电话地址运单号手机姓名")
    ascii_part = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-:()#.,/"
    chinese = sorted({ch for ch in words if not ch.isascii()})
    return list(ascii_part) + chinese + ["："]


# ---------------------------------------------------------------- the network
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
        """Write ``model.pdparams`` and ``crnn_config.json`` (each atomically)."""
        out_dir = Path(out_dir)
        with atomic_path(out_dir / PARAMS_NAME) as tmp:
            paddle.save(self.state_dict(), str(tmp))
        write_json(out_dir / CONFIG_NAME, {**self.config(), **(extra or {})})
        return out_dir

    @classmethod
    def load(cls, checkpoint):
        """A recognizer from a folder with ``crnn_config.json`` and ``model.pdparams``."""
        checkpoint = Path(checkpoint)
        config_path, params_path = checkpoint / CONFIG_NAME, checkpoint / PARAMS_NAME
        for path in (config_path, params_path):
            if not path.is_file():
                raise FileNotFoundError(f"{path}: missing; is {checkpoint} a folder written by "
                                        "`paddle-course finetune ocr`?")
        config = json.loads(config_path.read_text(encoding="utf-8"))
        model = cls(config["characters"], config.get("hidden_size", 64))
        model.set_state_dict(paddle.load(str(params_path)))
        model.eval()
        return model


# ---------------------------------------------------------------- images and batches
def prepare_line_image(image):
    """A BGR or grey crop -> float32 [1, 32, W] in [-1, 1], W a multiple of 4 (<= 640)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape[:2]
    width = int(min(MAX_WIDTH, max(16, math.ceil(w * HEIGHT / max(h, 1) / 4) * 4)))
    resized = cv2.resize(grey, (width, HEIGHT), interpolation=cv2.INTER_AREA)
    return ((resized.astype("float32") / 255.0 - 0.5) / 0.5)[None]


def collate(samples):
    """Pad a batch: images to the widest (white, +1.0), labels to the longest (0).

    Returns ``[images, labels, label_lengths, widths]``; ``widths`` are each image's own
    width, which the CRNN uses to keep the padding out of a line (``forward``, ``loss``,
    ``validation_step``).
    """
    width = max(image.shape[2] for image, _ in samples)
    images = np.ones((len(samples), 1, HEIGHT, width), dtype="float32")
    longest = max(len(ids) for _, ids in samples)
    labels = np.zeros((len(samples), longest), dtype="int32")
    lengths = np.zeros(len(samples), dtype="int64")
    widths = np.zeros(len(samples), dtype="int64")
    for i, (image, ids) in enumerate(samples):
        images[i, :, :, :image.shape[2]] = image
        labels[i, :len(ids)] = ids
        lengths[i] = len(ids)
        widths[i] = image.shape[2]
    return [images, labels, lengths, widths]


class RecListDataset(paddle.io.Dataset):
    """Lines of ``image_path<TAB>transcription`` (PaddleOCR's rec label format).

    Every line is checked when the dataset is built, so a bad one is reported as
    ``FILE:LINE: problem`` before any training starts: no TAB, a missing or
    unreadable image, an empty transcription, characters outside the dictionary.
    Image paths are relative to the list file's folder (absolute paths work too).
    Images are kept in memory already resized, so epochs are fast.
    """

    def __init__(self, list_file, characters):
        self.list_file = Path(list_file)
        if not self.list_file.is_file():
            raise FileNotFoundError(f"{self.list_file}: no such label file")
        index = {ch: i + 1 for i, ch in enumerate(characters)}
        self.samples, self.texts = [], []
        text = self.list_file.read_text(encoding="utf-8-sig")
        for lineno, line in enumerate(text.splitlines(), 1):
            where = f"{self.list_file}:{lineno}"
            if not line.strip():
                continue
            if "\t" not in line:
                raise ValueError(f"{where}: expected 'image_path<TAB>transcription', found no TAB")
            rel, transcription = line.split("\t", 1)
            transcription = transcription.strip()
            if not transcription:
                raise ValueError(f"{where}: empty transcription for {rel}")
            unknown = sorted({ch for ch in transcription if ch not in index})
            if unknown:
                raise ValueError(f"{where}: characters outside the dictionary: {''.join(unknown)!r} "
                                 f"(the recognizer knows {len(characters)} characters)")
            path = Path(rel.strip())
            path = path if path.is_absolute() else self.list_file.parent / path
            if not path.is_file():
                raise ValueError(f"{where}: image not found: {path}")
            data = np.fromfile(str(path), dtype=np.uint8)
            image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
            if image is None:
                raise ValueError(f"{where}: not a readable image: {path}")
            self.samples.append((prepare_line_image(image), [index[ch] for ch in transcription]))
            self.texts.append(transcription)
        if not self.samples:
            raise ValueError(f"{self.list_file}: no labelled lines")

    def __getitem__(self, idx):
        return self.samples[idx]

    def __len__(self):
        return len(self.samples)


# ---------------------------------------------------------------- rendered data
def font_path(style):
    """``wqy``: the shipped WenQuanYi subset; ``serif``: matplotlib's DejaVu Serif (Latin and digits)."""
    if style == "wqy":
        return str(ocr.FONT_PATH)
    if style == "serif":
        import matplotlib

        return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf")
    raise ValueError(f"unknown font style {style!r}; use 'wqy' or 'serif'")


def digits_line(rng):
    """A line only of digits and '-': phones, tracking numbers, landlines."""
    kind = rng.randrange(3)
    if kind == 0:
        return ocr.random_phone(rng)
    if kind == 1:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(8, 14)))
    return "0" + "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 3))) + "-" + \
        "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 8)))


def render_line(text, rng, font_style="wqy", noisy=False):
    """One text line as a grey crop like the ones PP-OCRv4's detector hands the recognizer.

    Seeded: a font size of 24-36 px, then a crop around the ink with a margin of -1 px
    (the detector's boxes can shave a glyph) to 35 % of the ink's height above and
    below, and 0-12 px at the ends; if ``noisy``, a 3x3 blur and pixel noise (std 12).
    """
    size = rng.randint(24, 36)
    image = ocr.render_text_image([text], font=font_path(font_style), font_size=size, margin=size // 2 + 2)
    image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    rows, cols = np.nonzero(image < 128)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    room = max(1, (bottom - top) * 35 // 100)
    top, bottom = max(0, top - rng.randint(-1, room)), min(image.shape[0], bottom + rng.randint(-1, room))
    left, right = max(0, left - rng.randint(0, 12)), min(image.shape[1], right + rng.randint(0, 12))
    image = np.ascontiguousarray(image[top:bottom, left:right])
    if noisy:
        image = cv2.GaussianBlur(image, (3, 3), 0)
        noise = np.random.default_rng(rng.randrange(2**31)).normal(0, 12, image.shape)
        image = np.clip(image + noise, 0, 255).astype(np.uint8)
    return image


def write_rendered_dataset(out_dir, n=200, seed=0, font_style="wqy", kind="waybill", noisy=False):
    """Render ``n`` seeded lines and write them with a ``labels.txt`` list file.

    ``kind``: ``waybill`` (names, phones, addresses, numbers, couriers) or ``digits``.
    Returns the list file's path.
    """
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        text = ocr.random_text_line(rng) if kind == "waybill" else digits_line(rng)
        name = f"images/{i:05d}.png"
        ocr.save_image(render_line(text, rng, font_style, noisy), out_dir / name)
        rows.append(f"{name}\t{text}")
    return write_text(out_dir / "labels.txt", "\n".join(rows) + "\n")


# ---------------------------------------------------------------- training
def line_metrics(decoded, texts):
    """``{"acc": share of lines read exactly, "char_acc": mean 1 - edit distance / length}``."""
    exact = np.mean([d == t for d, t in zip(decoded, texts)])
    chars = np.mean([ocr.char_accuracy(d, t) for d, t in zip(decoded, texts)])
    return {"acc": float(exact), "char_acc": float(chars)}


def evaluate(model, dataset, batch_size=64):
    """``{"acc", "char_acc", "lines"}`` of ``model`` on a ``RecListDataset``.

    Reads with ``model.read`` (equal-width groups, no padding), so the numbers do not
    depend on the batch size or on the order of the lines.
    """
    decoded = [text for text, _ in model.read([image for image, _ in dataset.samples], batch_size)]
    return {**line_metrics(decoded, dataset.texts), "lines": len(dataset)}


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


def width_buckets(widths, batch_size, rng):
    """Batches of indices of similar width (less padding to compute), in a seeded random order."""
    order = sorted(range(len(widths)), key=lambda i: (widths[i], rng.random()))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def finetune(train, dev=None, epochs=5, batch_size=32, lr=1e-3, out="ocr_finetune", seed=0,
             base=BASE_CHECKPOINT, quiet=False):
    """Fine-tune the CRNN with ``hub.Trainer`` on a rec label file; write a checkpoint folder.

    Args:
        train, dev: ``image_path<TAB>transcription`` list files (dev optional).
        base: the checkpoint to start from (default: the shipped base CRNN); None = from scratch.
        out: the checkpoint folder; hub.Trainer's per-epoch files go to ``out/trainer``.

    Returns:
        ``{"checkpoint", "before", "after", "seconds"}``; ``before``/``after`` are
        ``{"acc", "char_acc", "lines"}`` on dev (on train when no dev is given).
    """

    paddle.set_device("cpu")
    _seed_everything(seed)
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError("epochs and batch size must be >= 1 and the learning rate > 0")
    if base:
        model = CRNNRecognizer.load(base)
    else:
        model = CRNNRecognizer(default_characters())
    train_set = RecListDataset(train, model.characters)
    dev_set = RecListDataset(dev, model.characters) if dev else None
    measure_on = dev_set or train_set
    before = evaluate(model, measure_on)
    say(f"before fine-tune: line accuracy {before['acc']:.3f}, char accuracy {before['char_acc']:.3f} "
        f"on {before['lines']} {'dev' if dev_set else 'train'} lines", quiet)

    out = Path(out)
    trainer_dir = out / "trainer"
    shutil.rmtree(trainer_dir, ignore_errors=True)  # a rerun starts from `base`, not from old epochs
    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    trainer = atomic_trainer()(model, optimizer, use_vdl=False, checkpoint_dir=str(trainer_dir))
    started = time.time()
    trainer.train(train_set, epochs=epochs, batch_size=batch_size, eval_dataset=dev_set,
                  log_interval=max(1, math.ceil(len(train_set) / batch_size)), save_interval=1,
                  collate_fn=collate)
    best = trainer_dir / "best_model" / PARAMS_NAME
    if best.is_file():
        model.set_state_dict(paddle.load(str(best)))
    seconds = time.time() - started
    after = evaluate(model, measure_on)
    say(f"after fine-tune:  line accuracy {after['acc']:.3f}, char accuracy {after['char_acc']:.3f} "
        f"({seconds:.1f} s)", quiet)
    model.save(out, extra={"trained_on": str(train), "epochs": epochs, "seed": seed,
                           "before": before, "after": after})
    say(f"checkpoint: {out} (use it with hub.Module(name='course_ocr', checkpoint='{out}'))", quiet)
    return {"checkpoint": str(out), "before": before, "after": after, "seconds": seconds}


def labelled_line(rng):
    """A waybill line with its printed label, as the detector crops it (no spaces)."""
    kind = rng.randrange(5)
    if kind == 0:
        return "收件人：" + ocr.random_name(rng)
    if kind == 1:
        return "寄件人：" + ocr.random_name(rng)
    if kind == 2:
        return "电话：" + ocr.random_phone(rng)
    if kind == 3:
        return "地址：" + ocr.random_address(rng)
    return "运单号：" + "".join(rng.choice("0123456789") for _ in range(12))


def pretrain_line(rng, characters):
    """One training text for the base CRNN.

    Waybill lines alone show most surnames and given-name characters a handful of
    times per thousand lines, so a quarter of the lines are random strings drawn
    uniformly from the dictionary: every character is seen often enough to be learnt.
    """
    draw = rng.random()
    if draw < 0.45:
        return ocr.random_text_line(rng)
    if draw < 0.60:
        return digits_line(rng)
    if draw < 0.75:
        return labelled_line(rng)
    return "".join(rng.choice(characters) for _ in range(rng.randint(2, 12)))


def held_out_crops(n=300, seed=0):
    """The base CRNN's held-out check: ``n`` rendered grey line crops, 3/4 waybill lines and
    1/4 digit lines, 30 % of them blurred and noisy, from a seed (``seed + 10000``) that no
    training line uses.  Returns ``[(grey uint8 crop, text)]``."""
    rng = random.Random(seed + 10_000)
    crops = []
    for _ in range(n):
        text = ocr.random_text_line(rng) if rng.random() < 0.75 else digits_line(rng)
        crops.append((render_line(text, rng, "wqy", noisy=rng.random() < 0.3), text))
    return crops


def pretrain_base(out=BASE_CHECKPOINT, lines=8000, epochs=10, batch_size=16, lr=4e-3, seed=0, quiet=False):
    """Train the base CRNN from scratch on rendered lines (how ``assets/crnn_base`` was made).

    Lines come from ``pretrain_line`` in the shipped font (WenQuanYi Micro Hei), 30 %
    blurred and noisy, rendered again with new text every epoch (``lines`` per epoch),
    so the network never sees the same line twice.  Plain dynamic-graph loop
    (to_tensor, forward, CTC loss, backward, step) over width buckets; Adam with a
    linear warm-up, then a cosine decay, and gradients clipped to norm 5 (CTC's early
    gradients are large).  After every epoch the 300 held-out lines
    (``held_out_crops``) are read with ``read``.

    Returns ``{"checkpoint", "acc", "char_acc", "seconds", "cpu_seconds", "history"}``;
    ``acc``/``char_acc`` are the last epoch's held-out accuracy.
    """
    paddle.set_device("cpu")
    _seed_everything(seed)
    rng = random.Random(seed)
    model = CRNNRecognizer(default_characters())
    index = {ch: i + 1 for i, ch in enumerate(model.characters)}
    held = [(prepare_line_image(crop), text) for crop, text in held_out_crops(300, seed)]
    steps_per_epoch = math.ceil(lines / batch_size)
    warmup = min(200, steps_per_epoch)
    schedule = paddle.optimizer.lr.LinearWarmup(
        paddle.optimizer.lr.CosineAnnealingDecay(lr, T_max=epochs * steps_per_epoch - warmup),
        warmup_steps=warmup, start_lr=lr / 20, end_lr=lr)
    optimizer = paddle.optimizer.Adam(learning_rate=schedule, parameters=model.parameters(),
                                      grad_clip=nn.ClipGradByGlobalNorm(5.0))
    started, cpu_started = time.time(), time.process_time()
    history = []
    for epoch in range(epochs):
        train = []
        for _ in progress(range(lines), desc=f"render {epoch + 1}", quiet=quiet):
            text = pretrain_line(rng, model.characters)
            train.append((prepare_line_image(render_line(text, rng, "wqy", noisy=rng.random() < 0.3)),
                          [index[c] for c in text]))
        model.train()
        batches = width_buckets([image.shape[2] for image, _ in train], batch_size, rng)
        total = 0.0
        for batch in progress(batches, desc=f"epoch {epoch + 1}", quiet=quiet):
            images, labels, lengths, widths = (paddle.to_tensor(a) for a in collate([train[i] for i in batch]))
            loss = model.loss(model(images, widths), labels, lengths, widths)
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            schedule.step()
            total += float(loss)
        decoded = [text for text, _ in model.read([image for image, _ in held])]
        scores = line_metrics(decoded, [text for _, text in held])
        history.append({"epoch": epoch + 1, "loss": round(total / len(batches), 4), **scores})
        say(f"epoch {epoch + 1}/{epochs}: loss {total / len(batches):.3f}, held-out line accuracy "
            f"{scores['acc']:.3f}, char accuracy {scores['char_acc']:.4f} ({time.time() - started:.0f} s, "
            f"{time.process_time() - cpu_started:.0f} s CPU)", quiet)
    seconds, cpu_seconds = time.time() - started, time.process_time() - cpu_started
    model.save(out, extra={"trained_on": f"{epochs} x {lines} rendered lines (pretrain_line), seed {seed}",
                           "pretrain": {"lines": lines, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                                        "seed": seed, "seconds": round(seconds), "cpu_seconds": round(cpu_seconds)},
                           "held_out": {"lines": len(held), **scores}, "history": history})
    return {"checkpoint": str(out), **scores, "seconds": seconds, "cpu_seconds": cpu_seconds, "history": history}


# ---------------------------------------------------------------- plugging into the pipeline
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


def engine_with_checkpoint(checkpoint, num_threads=None):
    """A fresh PP-OCRv4 pipeline whose recognizer is the CRNN in ``checkpoint``."""
    from rapidocr_onnxruntime import RapidOCR

    threads = ocr._default_threads() if num_threads is None else int(num_threads)
    pipeline = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=threads)
    pipeline.text_rec = PaddleLineRecognizer(checkpoint)
    return pipeline

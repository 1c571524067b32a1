"""``paddle-course finetune pedestrian``: fine-tune the Paddle pedestrian detector with hub.Trainer."""
from pathlib import Path

from paddle_course.common.inputs import existing_dir, positive_int, positive_number


def register(tasks):
    parser = tasks.add_parser(
        "pedestrian", help="fine-tune course_pedestrian's Paddle detector on a Pascal VOC folder",
        description="Train the CenterNet-style pedestrian detector with hub.Trainer on a Pascal VOC folder "
        "(JPEGImages/*.jpg, Annotations/*.xml with label 'pedestrian' or 'person', ImageSets/Main/"
        "train.txt and val.txt). Loss per step and dev mAP@0.5 (the whole dev set) per epoch are printed; the "
        "best dev epoch is kept (the shipped weights count as epoch 0), and mAP@0.5 on dev and on the base task "
        "(synthetic daylight scenes) is printed before and after; against forgetting, daylight scenes of the "
        "base's kind are mixed into training (--base-mix). Load the result "
        "with hub.Module(name='course_pedestrian', detector='paddle', checkpoint=OUT). "
        "Make a practice set with `paddle-course detect make-data`.")
    parser.add_argument("--train", type=Path, required=True, metavar="VOC_DIR", help="training VOC folder")
    parser.add_argument("--dev", type=Path, default=None, metavar="VOC_DIR",
                        help="evaluation VOC folder (default: the val split of --train, else a seeded 20%% of its "
                        "training images, held out)")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training images (default: 10)")
    parser.add_argument("--batch-size", type=int, default=16, help="images per step (default: 16)")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default: 0.002)")
    parser.add_argument("--out", type=Path, default=Path("pedestrian_ckpt"),
                        help="checkpoint folder (default: pedestrian_ckpt)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--from-scratch", action="store_true",
                        help="start from random weights instead of the shipped ones")
    parser.add_argument("--base-mix", type=float, default=1.0,
                        help="train on this many daylight scenes of the base's kind per image of yours, against "
                        "forgetting (default 1.0; 0 turns it off)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines; the result is still printed")
    parser.set_defaults(func=_finetune)


def _finetune(args):
    existing_dir(args.train, "VOC folder")  # a typo is answered before Paddle loads
    if args.dev is not None:
        existing_dir(args.dev, "VOC folder")
    positive_int("--epochs", args.epochs)
    positive_int("--batch-size", args.batch_size)
    positive_number("--lr", args.lr)
    if args.base_mix < 0:
        raise ValueError(f"--base-mix must be 0 or more, got {args.base_mix}")
    from paddle_course.detection.finetune import finetune

    summary = finetune(args.train, args.dev, out_dir=args.out, init=None if args.from_scratch else "shipped",
                       epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, quiet=args.quiet,
                       base_mix=args.base_mix)
    print("\n".join(summary["report"].lines()))
    return 0

"""``paddle-course tour``: run the whole course, saving figures to one folder."""
from pathlib import Path

from paddle_course.tour import result_lines, run_tour


def register(subparsers):
    parser = subparsers.add_parser(
        "tour", help="run every lesson end to end and save the figures (start here; course 1-3)",
        description="The main job: the Boston lesson (NumPy GD and SGD, Paddle dynamic and static graph from "
        "the same start, paddle.jit.save export, price predictions) and the PaddleHub demos (sentiment, "
        "pedestrian detection, waybill OCR). Figures, tables and summary.json go to --out.")
    parser.add_argument("--out", type=Path, default=Path("tour_output"), help="output folder (default: tour_output)")
    parser.add_argument("--skip-hub", action="store_true", help="only the Boston lesson")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars or progress lines; where the results went and the final numbers "
                        "are still printed")
    parser.set_defaults(func=_tour)


def _tour(args):
    summary = run_tour(args.out, quiet=args.quiet, skip_hub=args.skip_hub)
    print("\n".join(result_lines(summary, args.out)))
    return 0

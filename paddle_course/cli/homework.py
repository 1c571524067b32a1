"""``paddle-course homework list|start|check``: the assignments and their autograder (course 1.3-1.5, 3.3)."""


def register(subparsers):
    parser = subparsers.add_parser(
        "homework",
        help="homework assignments with an autograder (list, start, check; course 1.3-1.5, 3.3)",
        description="The course's homework: list the assignments, copy one into a working folder, "
        "and grade your solution. Each check prints what it tested, PASS/FAIL, expected vs received "
        "and a hint at the formula; the exit code is 0 only on full marks.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    listing = actions.add_parser("list", help="the assignments and what each covers",
                                 description="List the assignments with their points and topics.")
    listing.set_defaults(func=_list)

    start = actions.add_parser("start", help="copy an assignment's statement and starter file into a folder",
                               description="Copy README.md and the starter (as solution.py) into DIR "
                               "(default ./<assignment folder>). Existing work is never overwritten.")
    start.add_argument("assignment", help="hw01, hw02, ... (or just 2)")
    start.add_argument("directory", nargs="?", metavar="DIR", help="working folder (default ./<assignment folder>)")
    start.set_defaults(func=_start)

    check = actions.add_parser("check", help="grade your solution",
                               description="Run the assignment's checks on your file in a separate, "
                               "time-limited process and print the score.")
    check.add_argument("assignment", help="hw01, hw02, ... (or just 2)")
    check.add_argument("path", nargs="?", metavar="PATH",
                       help="your .py file or its folder (default ./<assignment folder>/solution.py)")
    check.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                       help="time limit of one check (default: the assignment's, 5 s; 60 s for Paddle)")
    check.add_argument("--seed", type=int, default=None, metavar="N",
                       help="seed of the random inputs (default: a fresh one, printed in the report)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=_check)


def _list(args):
    from paddle_course import grading

    return grading.list_homework()


def _start(args):
    from paddle_course import grading

    return grading.start_homework(args.assignment, args.directory)


def _check(args):
    from paddle_course import grading

    return grading.check_homework(args.assignment, args.path, timeout=args.timeout, seed=args.seed,
                                  as_json=args.json)

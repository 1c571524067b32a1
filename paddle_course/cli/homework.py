"""``paddle-course homework list|start|check``: the assignments and their autograder (course 1.3-1.5, 3.3).

The library (:mod:`paddle_course.grading`) returns data; printing it is done here.
"""
import sys
import textwrap


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
                               description="Run your file in a sandbox (a separate, contained, time-limited "
                               "process), check it from outside and print the score.")
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

    for item in grading.list_homework():
        print(f"{item['id']}  {item['title']}  ({item['checks']} checks, {item['points']} points)")
        print(textwrap.fill(item["covers"], width=88, initial_indent="      ", subsequent_indent="      "))
    print("\nStart one with `paddle-course homework start hw01`, grade it with "
          "`paddle-course homework check hw01`.")
    return 0


def _start(args):
    from paddle_course import grading

    assignment, statement, solution = grading.start_homework(args.assignment, args.directory)
    print(f"{assignment.id} {assignment.title}: statement {statement}, your file {solution}")
    print(f"Fill in the TODOs, then run: paddle-course homework check {assignment.id} {solution.parent}")
    return 0


def _check(args):
    from paddle_course import grading

    report = grading.check_homework(args.assignment, args.path, timeout=args.timeout, seed=args.seed)
    if report.warnings and not args.json:
        for warning in report.warnings:
            print(f"paddle-course homework: warning: {warning}", file=sys.stderr)
    print(report.to_json() if args.json else format_report(report))
    return 0 if report.full_marks else 1


def format_report(report):
    """The report as text: one block per check, then ``score: x/y``."""
    lines = [f"{report.assignment} {report.title}: grading {report.submission}",
             f"seed {report.seed} (repeat these inputs with --seed {report.seed}), "
             f"time limit {report.timeout:g} s per check; your file ran in {report.sandbox}", ""]
    if report.import_output:
        lines += ["your file printed while being imported:", textwrap.indent(report.import_output, "    | "), ""]
    if report.import_error:
        lines += [textwrap.indent(f"PROBLEM: {report.import_error}", "  "), ""]
    for result in report.checks:
        lines.append(f"[{result.status:<7}] {result.earned}/{result.points}  {result.name}: {result.tests}")
        if result.status == "PASS":
            continue
        rows = [("problem", result.message), ("expected", result.expected), ("received", result.received),
                ("hint", result.hint)]
        for label, value in rows:
            if value:
                lines.append(textwrap.indent(f"{label:<8}: {value}", "          "))
        if result.output:
            lines.append("          printed :")
            lines.append(textwrap.indent(result.output, "            | "))
    lines += ["", f"score: {report.score}/{report.max_score}"]
    return "\n".join(lines)

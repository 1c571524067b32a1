"""Homework and the autograder (``paddle-course homework list|start|check``).

* :func:`list_homework` -- the assignments and what each covers;
* :func:`start_homework` -- copy an assignment's statement and starter file into
  a working folder, never over existing work;
* :func:`check_homework` -- grade a file (:func:`paddle_course.grading.runner.grade`)
  and print the report, per check: what was tested, PASS/FAIL, expected vs
  received and a hint at the formula, then ``score: 7/10``.

How an assignment is made: see :mod:`paddle_course.grading.registry`.
"""
import shutil
import sys
import textwrap
from pathlib import Path

from paddle_course.grading.registry import all_assignments, assignment_folder, load_assignment
from paddle_course.grading.runner import GradeReport, grade

__all__ = ["list_homework", "start_homework", "check_homework", "grade", "format_report", "GradeReport"]


def list_homework(stream=None):
    """Print every assignment with its points and what it covers."""
    stream = stream or sys.stdout
    for assignment, specs in all_assignments():
        points = sum(spec.points for spec in specs)
        print(f"{assignment.id}  {assignment.title}  ({len(specs)} checks, {points} points)", file=stream)
        print(textwrap.fill(assignment.covers, width=88, initial_indent="      ", subsequent_indent="      "),
              file=stream)
    print("\nStart one with `paddle-course homework start hw01`, grade it with "
          "`paddle-course homework check hw01`.", file=stream)
    return 0


def default_workdir(assignment):
    return Path.cwd() / assignment.folder


def start_homework(name, directory=None, stream=None):
    """Copy ``README.md`` and ``starter.py`` (as ``solution.py``) into ``directory``.

    ``directory`` defaults to ``./<assignment folder>``.  Refuses (ValueError)
    when the solution file is already there, so no work is ever overwritten.
    """
    stream = stream or sys.stdout
    assignment, _ = load_assignment(name)
    source = assignment_folder(assignment)
    target = Path(directory) if directory is not None else default_workdir(assignment)
    solution = target / assignment.solution_file
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} exists and is not a folder; choose another DIR")
    if solution.exists():
        raise ValueError(f"{solution} already exists: refusing to overwrite your work. Grade it with "
                         f"`paddle-course homework check {assignment.id} {target}` or choose another DIR")
    target.mkdir(parents=True, exist_ok=True)
    statement = target / "README.md"
    if not statement.exists():  # the statement is ours, but a learner's notes in it are theirs too
        shutil.copyfile(source / "README.md", statement)
    shutil.copyfile(source / "starter.py", solution)
    print(f"{assignment.id} {assignment.title}: statement {statement}, your file {solution}", file=stream)
    print(f"Fill in the TODOs, then run: paddle-course homework check {assignment.id} {target}", file=stream)
    return 0


def resolve_submission(assignment, path=None):
    """The file to grade: ``path`` itself, ``path/solution.py``, or ``./<folder>/solution.py``."""
    candidate = Path(path) if path is not None else default_workdir(assignment)
    if candidate.is_dir():
        candidate = candidate / assignment.solution_file
    if not candidate.is_file():
        raise FileNotFoundError(
            f"{candidate}: no such file to grade. Start the assignment with "
            f"`paddle-course homework start {assignment.id}` or give the path of your .py file")
    return candidate


def format_report(report):
    """The report as text: one block per check, then ``score: x/y``."""
    lines = [f"{report.assignment} {report.title}: grading {report.submission}",
             f"seed {report.seed} (repeat these inputs with --seed {report.seed}), "
             f"time limit {report.timeout:g} s per check", ""]
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


def check_homework(name, path=None, timeout=None, seed=None, as_json=False, stream=None):
    """Grade a learner's file and print the report; returns the exit code (0 only on full marks)."""
    stream = stream or sys.stdout
    assignment, _ = load_assignment(name)
    report = grade(assignment.id, resolve_submission(assignment, path), timeout=timeout, seed=seed)
    print(report.to_json() if as_json else format_report(report), file=stream)
    return 0 if report.full_marks else 1

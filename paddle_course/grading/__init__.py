"""Homework and the autograder; ``paddle-course homework list|start|check`` prints what these return.

* :func:`list_homework` -- the assignments, their points and what each covers;
* :func:`start_homework` -- copy an assignment's statement and starter file into
  a working folder, never over existing work;
* :func:`check_homework` -- grade a learner's file (:func:`paddle_course.grading.runner.grade`):
  a :class:`GradeReport` with, per check, what was tested, PASS/FAIL, expected vs received
  and a hint at the formula.

The learner's code runs contained (:mod:`paddle_course.grading.sandbox`); the checks run in
the grader (:mod:`paddle_course.grading.runner`).  How an assignment is made: see
:mod:`paddle_course.grading.registry`.
"""
import shutil
from pathlib import Path

from paddle_course.grading.registry import all_assignments, assignment_folder, load_assignment
from paddle_course.grading.runner import GradeReport, grade

__all__ = ["list_homework", "start_homework", "check_homework", "resolve_submission", "grade", "GradeReport"]


def list_homework():
    """Every assignment as ``{"id", "title", "covers", "checks", "points"}``, in order."""
    return [{"id": assignment.id, "title": assignment.title, "covers": assignment.covers, "checks": len(specs),
             "points": sum(spec.points for spec in specs)} for assignment, specs in all_assignments()]


def default_workdir(assignment):
    return Path.cwd() / assignment.folder


def start_homework(name, directory=None):
    """Copy ``README.md`` and ``starter.py`` (as ``solution.py``) into ``directory``.

    ``directory`` defaults to ``./<assignment folder>``.  Refuses (ValueError) when the
    solution file is already there, so no work is ever overwritten.  Returns
    ``(assignment, statement path, solution path)``.
    """
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
    return assignment, statement, solution


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


def check_homework(name, path=None, timeout=None, seed=None):
    """Grade a learner's file (see :func:`resolve_submission`); returns the :class:`GradeReport`."""
    assignment, _ = load_assignment(name)
    return grade(assignment.id, resolve_submission(assignment, path), timeout=timeout, seed=seed)

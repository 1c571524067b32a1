"""Stand-in of ``paddle_course.common.paths`` inside the grading sandbox (see ``sandbox_course/__init__.py``).

Only the shipped PaddleHub modules' assets are there, read-only, under ``/course/hub_modules``;
the data and homework folders are not.
"""
from pathlib import Path

COURSE_ROOT = Path("/course")


def hub_module_dir(name):
    """The PaddleHub module directory (in the sandbox: its ``assets/`` only)."""
    return COURSE_ROOT / "hub_modules" / name


def _not_here(*parts):
    raise FileNotFoundError("the course's data and homework folders are not available while a file is graded")


data_path = homework_path = course_dir = _not_here

"""Which assignments exist: one ``homework/<folder>/`` plus one ``checks/<id>.py`` each.

Adding an assignment (hw05, ...) needs no change here: write the folder
``homework/hw05_.../`` with ``README.md`` and ``starter.py``, the teacher's copy
``homework/solutions/hw05_....py``, and a checks module
``paddle_course/grading/checks/hw05.py`` that declares ``ASSIGNMENT`` and its
``@check`` functions.  The registry finds every checks module by name.
"""
import importlib
import pkgutil

from paddle_course.grading import checks as checks_package
from paddle_course.grading.framework import collect_checks
from paddle_course.common.paths import homework_path


def assignment_ids():
    """``["hw01", "hw02", ...]``: the names of the modules in ``paddle_course.grading.checks``."""
    return sorted(info.name for info in pkgutil.iter_modules(checks_package.__path__) if info.name.startswith("hw"))


def checks_module(assignment_id):
    return importlib.import_module(f"{checks_package.__name__}.{assignment_id}")


def load_assignment(name):
    """``(Assignment, [CheckSpec, ...])`` for ``"hw02"``, ``"2"`` or ``"hw02_numpy_gradient"``."""
    ids = assignment_ids()
    key = str(name).strip().lower()
    if key.isdigit():
        key = f"hw{int(key):02d}"
    for assignment_id in ids:
        module = checks_module(assignment_id)
        if key in (assignment_id, module.ASSIGNMENT.folder.lower()):
            return module.ASSIGNMENT, collect_checks(module)
    raise ValueError(f"unknown assignment {name!r}; the assignments are: {', '.join(ids)} "
                     "(see `paddle-course homework list`)")


def all_assignments():
    """Every ``(Assignment, checks)`` in order."""
    return [load_assignment(assignment_id) for assignment_id in assignment_ids()]


def assignment_folder(assignment):
    """``homework/<folder>`` of the shipped statement and starter file."""
    return homework_path(assignment.folder)


def reference_solution(assignment):
    """The teacher's copy, ``homework/solutions/<folder>.py``."""
    return homework_path("solutions", f"{assignment.folder}.py")

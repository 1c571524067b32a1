"""The vocabulary of a checks module: assignments, checks, failures and helpers.

A checks module (``paddle_course/grading/checks/hwXX.py``) declares one
``ASSIGNMENT = Assignment(...)`` and any number of functions decorated with
``@check(points, tests=..., hint=...)``.  A check receives the learner's module and a
seeded ``numpy.random.Generator``; it returns normally to pass and raises
:class:`CheckFailed` (usually through the helpers below) to fail.

The check runs in the grader's process; the learner's file does not.  ``module`` is a
:class:`~paddle_course.grading.remote.Remote` of the file imported in a contained child:
attribute access and calls on it are requests to the child, and what comes back is plain
data (or another ``Remote``).  Everything a check compares is computed here.  An exception
of the learner's code comes back as a ``LearnerError`` and becomes a readable failure, so a
check never has to catch it.

The helpers compare a learner's answer with the expected one and, when they
differ, look for the *known mistakes* the check lists (a flipped sign, a sum
instead of a mean, ...): the failure message then names the mistake instead of
only showing two arrays.
"""
import ast
from dataclasses import dataclass, field

import numpy as np

from paddle_course.grading.remote import LearnerError, Remote, RemoteTensor, helper, type_name


@dataclass(frozen=True)
class Assignment:
    """One homework: its folder under ``homework/`` and how to grade it.

    ``check_timeout`` is the default time limit of one check in seconds;
    ``preload`` lists modules the child imports before the clock starts
    (``paddle`` takes seconds to import, which is not the learner's fault);
    ``memory_limit_mb`` is the hard address-space limit of the child's processes, so a
    runaway allocation becomes a MemoryError in the report instead of a frozen laptop;
    ``course_api`` names the stand-in course modules the learner's file may import
    (``"sentiment"``: :mod:`paddle_course.grading.sandbox_course`), ``course_files`` the
    package folders it may read (read-only), ``trusted_preload`` the modules the checks
    themselves need, imported by the grader while the child starts.
    """

    id: str
    folder: str
    title: str
    covers: str
    check_timeout: float = 5.0
    preload: tuple = ()
    memory_limit_mb: int = 2048
    solution_file: str = "solution.py"
    course_api: tuple = ()
    course_files: tuple = ()
    trusted_preload: tuple = ()


@dataclass(frozen=True)
class CheckSpec:
    name: str
    points: int
    tests: str
    hint: str
    function: object = field(repr=False, compare=False)


class CheckFailed(AssertionError):
    """A check found a wrong answer: ``message`` says what, ``expected``/``received`` show it."""

    def __init__(self, message, expected=None, received=None, hint=None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.received = received
        self.hint = hint


def check(points, tests, hint):
    """Mark a function of a checks module as a check worth ``points``.

    ``tests`` says in one line what is being tested (shown on every run);
    ``hint`` points at the formula and is shown when the check fails.
    """

    def mark(function):
        function.check_spec = CheckSpec(function.__name__, int(points), tests, hint, function)
        return function

    return mark


def collect_checks(module):
    """The checks of a checks module, in the order they are written in the file."""
    found = [value.check_spec for value in vars(module).values() if hasattr(value, "check_spec")]
    return sorted(found, key=lambda spec: spec.function.__code__.co_firstlineno)


# --- showing values -------------------------------------------------------

def show(value):
    """A short, readable rendering of an answer for the report (arrays are summarised)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = float(value)
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=5, threshold=8, edgeitems=2, suppress_small=True)
        return f"array of shape {value.shape}: {' '.join(text.split())}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


# --- looking into the learner's module ------------------------------------

def get_function(module, name):
    """``module.name`` if the learner defined it, else a failure saying it is missing."""
    value = getattr(module, name, None)
    if value is None:
        raise CheckFailed(f"your file defines no `{name}`; keep the names of the starter file")
    return value


LOOP_KINDS = {ast.For: "for loop", ast.While: "while loop", ast.ListComp: "list comprehension",
              ast.GeneratorExp: "generator expression", ast.DictComp: "dict comprehension",
              ast.SetComp: "set comprehension"}


def loops_in(function):
    """``(kind, line)`` of every Python loop or comprehension in the learner's ``function``.

    The child only says on which line of the learner's file ``function`` starts; the loops are
    read here from the grader's own copy of the file.  A function defined elsewhere (by
    ``exec``, say) has no loops to show, as ``inspect.getsource`` had none before.
    """
    if not isinstance(function, Remote):
        return []
    first_line = helper(function, "source_line", function)
    if type(first_line) is not int:
        return []
    try:
        tree = ast.parse(function._session.source)
    except (SyntaxError, ValueError):
        return []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            starts = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            if starts == first_line:
                found = [(label, inner.lineno) for inner in ast.walk(node)
                         for kind, label in LOOP_KINDS.items() if isinstance(inner, kind)]
                return sorted(found, key=lambda item: item[1])
    return []


# --- comparing answers ----------------------------------------------------

def as_array(value, what, shape=None):
    """The learner's ``value`` as a float array of ``shape``, or a failure naming the problem."""
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget a `return`?")
    if isinstance(value, RemoteTensor):  # a paddle.Tensor
        value = value.numpy()
    elif isinstance(value, Remote):  # another object of the learner's: NumPy converts it there or nowhere
        try:
            value = helper(value, "to_array", value)
        except LearnerError:
            raise CheckFailed(f"{what} should be a NumPy array of numbers, got {type_name(value)}",
                              received=show(value)) from None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a NumPy array of numbers, got {type_name(value)}",
                          received=show(value)) from None
    if shape is not None and array.shape != tuple(shape):
        extra = ""
        if array.shape == tuple(shape)[::-1] and len(shape) == 2:
            extra = " (transposed?)"
        elif array.size == int(np.prod(shape)):
            extra = f" (right numbers of entries: reshape to {tuple(shape)})"
        raise CheckFailed(f"{what} has shape {array.shape} but should have shape {tuple(shape)}{extra}",
                          expected=f"shape {tuple(shape)}", received=f"shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = "NaN" if np.any(np.isnan(array)) else "inf"
        raise CheckFailed(f"{what} contains {bad}: look for a division by zero, an overflowing exp, or inf/inf",
                          received=show(array))
    return array


def as_number(value, what):
    """The learner's ``value`` as one finite Python float."""
    array = as_array(value, what)
    if array.size != 1:
        raise CheckFailed(f"{what} should be one number, got an array of shape {array.shape}",
                          received=show(array))
    return float(array.reshape(()))


def as_losses(value, what="the losses returned by train"):
    """A training run's losses as a flat float array; a diverged run is named as such."""
    if value is None:
        raise CheckFailed(f"{what}: train returned None; return the list of losses")
    if isinstance(value, Remote) and not isinstance(value, RemoteTensor):
        try:
            value = helper(value, "to_array", value)
        except LearnerError:
            raise CheckFailed(f"{what} should be a list of numbers, got {type_name(value)}",
                              received=show(value)) from None
    try:
        array = np.asarray([float(v) for v in value] if isinstance(value, (list, tuple)) else value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a list of numbers, got {type_name(value)}",
                          received=show(value)) from None
    array = array.reshape(-1)
    if not np.all(np.isfinite(array)):
        first = int(np.argmin(np.isfinite(array)))
        raise CheckFailed(f"training diverged: loss number {first} is {array[first]}. Check the sign of the "
                          "gradient and of the update (w <- w - eta * gradient) and the learning rate",
                          received=show(array))
    return array


def expect_close(received, expected, what, mistakes=None, rtol=1e-6, atol=1e-8):
    """Fail unless ``received`` matches ``expected`` (both arrays of the same shape).

    ``mistakes`` maps a description of a known mistake to the value that mistake
    produces; when ``received`` matches one of them the message names it.
    """
    received = np.asarray(received, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if received.shape == expected.shape and np.allclose(received, expected, rtol=rtol, atol=atol):
        return
    for description, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == received.shape and np.allclose(received, wrong, rtol=max(rtol, 1e-6), atol=atol):
            raise CheckFailed(f"{what} is wrong: {description}", expected=show(expected), received=show(received))
    detail = ""
    if received.shape == expected.shape and received.size > 1:
        worst = np.unravel_index(np.argmax(np.abs(received - expected)), expected.shape)
        detail = (f" (largest difference at index {tuple(int(i) for i in worst)}: "
                  f"expected {expected[worst]:.6g}, got {received[worst]:.6g})")
    raise CheckFailed(f"{what} does not match the expected value{detail}",
                      expected=show(expected), received=show(received))


def expect_true(condition, message, expected=None, received=None):
    if not condition:
        raise CheckFailed(message, expected=expected, received=received)
